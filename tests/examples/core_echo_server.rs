//! A thread-per-connection echo server driven by the bare core, for
//! conformance runs before (and independently of) the adapters.
//!
//! `cargo run --release -p sockweave-tests --example core_echo_server [ADDR]`

use sockweave::{CloseCode, Config, Connection, Event, Instant, ServerPolicy};
use sockweave_tests::drive_blocking;
use std::net::TcpListener;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .filter(|a| a != "--deflate")
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("echo server on ws://{addr}");
    for stream in listener.incoming() {
        let mut stream = stream?;
        std::thread::spawn(move || {
            stream.set_nodelay(true).ok();
            stream
                .set_read_timeout(Some(Duration::from_millis(100)))
                .ok();
            let mut config = Config::default();
            config.max_queued = 64 << 20;
            // `--deflate`: offer or accept permessage-deflate.
            config.deflate = std::env::args()
                .any(|a| a == "--deflate")
                .then(sockweave::deflate::DeflateConfig::default);
            let mut conn =
                Connection::server(ServerPolicy::default(), config, Instant::ZERO).unwrap();
            let started = std::time::Instant::now();
            let result = drive_blocking(&mut conn, &mut stream, |conn, event| {
                if let Event::Message(message) = event {
                    // Everything queued is written before the next read,
                    // so the queue (64 MiB) fills only if one read's
                    // echoes outgrow it; then the echo cannot be kept,
                    // and the peer is told (1013) rather than missing one.
                    if let Err(e) = conn.send(message) {
                        eprintln!("echo not queued ({e}): closing with 1013");
                        let now = Instant::from_elapsed(started.elapsed());
                        let _ = conn.close(CloseCode::TRY_AGAIN_LATER, "echo queue full", now);
                    }
                }
            });
            if let Err(e) = result {
                eprintln!("connection error: {e}");
            }
        });
    }
    Ok(())
}
