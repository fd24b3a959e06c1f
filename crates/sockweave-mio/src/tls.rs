//! TLS for the readiness loop: rustls's own connection state over a
//! non-blocking socket, as a stream the [`WebSocket`](crate::WebSocket)
//! drives like any other (feature `rustls`).
//!
//! rustls is itself sans-IO, so nothing here blocks: reads pull TLS records
//! from the socket until plaintext appears or the socket would block, and
//! writes encrypt into rustls and push records out as far as the socket
//! takes them. Records the socket did not take make `flush` report
//! `WouldBlock`, which keeps WRITABLE in the WebSocket's interest until
//! they are out.

use mio::event::Source;
use mio::{Interest, Registry, Token};
use sockweave_net::TlsError;
use sockweave_net::tls::rustls;
use std::io::{self, ErrorKind, Read, Write};
use std::sync::Arc;

/// A TLS session (client or server) over a non-blocking socket `S`.
pub struct TlsStream<S: Read + Write> {
    sock: S,
    tls: rustls::Connection,
}

impl<S: Read + Write> TlsStream<S> {
    /// The server side over an accepted socket, e.g. with
    /// `sockweave_net::tls::server_config`.
    pub fn server(sock: S, config: Arc<rustls::ServerConfig>) -> Result<Self, TlsError> {
        let tls = rustls::ServerConnection::new(config).map_err(sockweave_net::tls::tls_error)?;
        Ok(Self {
            sock,
            tls: tls.into(),
        })
    }

    /// The client side for `host` (a DNS name or an IP address).
    pub fn client(
        sock: S,
        host: &str,
        config: Arc<rustls::ClientConfig>,
    ) -> Result<Self, TlsError> {
        let name = sockweave_net::tls::server_name(host)?;
        let tls =
            rustls::ClientConnection::new(config, name).map_err(sockweave_net::tls::tls_error)?;
        Ok(Self {
            sock,
            tls: tls.into(),
        })
    }

    /// The socket.
    pub fn get_ref(&self) -> &S {
        &self.sock
    }

    /// The TLS session (negotiated version, ALPN, peer certificates).
    pub fn session(&self) -> &rustls::Connection {
        &self.tls
    }

    /// Queues close_notify and pushes it out as far as the socket allows,
    /// so the peer can tell our end from a truncation. Dropping the stream
    /// does this too, best effort.
    pub fn close_notify(&mut self) -> io::Result<()> {
        self.tls.send_close_notify();
        self.push_records()
    }

    /// Writes pending TLS records until none are left or the socket would
    /// block.
    fn push_records(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            if self.tls.write_tls(&mut self.sock)? == 0 {
                return Err(ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }

    /// Handshake replies and alerts go out as soon as they exist; if the
    /// socket is full they wait for the next flush.
    fn push_records_if_possible(&mut self) -> io::Result<()> {
        match self.push_records() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(()),
            other => other,
        }
    }
}

impl<S: Read + Write> Read for TlsStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // Plaintext, a close_notify (Ok(0)), or an EOF without one.
                other => return other,
            }
            let eof = self.tls.read_tls(&mut self.sock)? == 0;
            if let Err(e) = self.tls.process_new_packets() {
                // Our alert goes out before the error comes back.
                let _ = self.push_records_if_possible();
                return Err(io::Error::new(ErrorKind::InvalidData, e));
            }
            self.push_records_if_possible()?;
            if eof {
                return match self.tls.reader().read(buf) {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(0),
                    other => other,
                };
            }
        }
    }
}

impl<S: Read + Write> Write for TlsStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Encrypt no more while earlier records wait for the socket: that
        // is the backpressure, and it keeps rustls's buffer bounded.
        self.push_records()?;
        let n = self.tls.writer().write(buf)?;
        self.push_records_if_possible()?;
        if n == 0 && !buf.is_empty() {
            return Err(ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.push_records()?;
        self.sock.flush()
    }
}

/// Not [`crate::Transport::short_read_drains`]: rustls hands over plaintext a
/// record at a time, and more records can wait in the socket.
impl<S: Read + Write> crate::Transport for TlsStream<S> {}

impl<S: Read + Write> Drop for TlsStream<S> {
    fn drop(&mut self) {
        if !self.tls.is_handshaking() {
            let _ = self.close_notify();
        }
    }
}

impl<S: Read + Write + Source> Source for TlsStream<S> {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.sock.register(registry, token, interest)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.sock.reregister(registry, token, interest)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.sock.deregister(registry)
    }
}

impl<S: Read + Write> std::fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream").finish_non_exhaustive()
    }
}
