//! Programs from Debian's packages (proxies, redis-server) run by the
//! tests as children on loopback ports, stopped by their own PIDs.

use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::time::{Duration, Instant};

/// A child process, stopped (by its own PID) when dropped.
#[derive(Debug)]
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    /// Waits until it accepts connections on `port` (10 s at most).
    pub fn wait_for(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.0.try_wait() {
                panic!("it exited: {status}");
            }
            assert!(Instant::now() < deadline, "it never listened on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A loopback port nothing listens on (now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
