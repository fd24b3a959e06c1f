//! What the WebSocket needs of its stream beyond bytes both ways.

use std::io::{Read, Write};

/// A non-blocking stream a [`WebSocket`](crate::WebSocket) drives.
///
/// Readiness is edge-triggered: once reading stops before the stream said
/// `WouldBlock`, the loop must read again or re-arm the edge
/// (`reregister`, a syscall), or bytes already waiting would never be
/// announced. A socket's short read ends that: the kernel handed over all
/// it held, and later bytes bring a new edge. So for sockets a connection
/// that got a whole message in one short read costs one read, with no
/// re-arm and no read that finds nothing (tokio does the same).
pub trait Transport: Read + Write {
    /// Whether a read that filled less than it was given means the stream
    /// held nothing more at that moment. True for sockets; false (the
    /// default, always safe) for streams that buffer, as TLS does: a
    /// short read of plaintext can leave records in the socket.
    fn short_read_drains(&self) -> bool {
        false
    }
}

impl Transport for mio::net::TcpStream {
    fn short_read_drains(&self) -> bool {
        true
    }
}

#[cfg(unix)]
impl Transport for mio::net::UnixStream {
    fn short_read_drains(&self) -> bool {
        true
    }
}
