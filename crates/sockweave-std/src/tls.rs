//! `wss://`: a stream that is plain or TLS, and the TLS handshakes that make
//! one (feature `rustls`). The WebSocket above does not know the difference.

use crate::Error;
use crate::transport::Transport;
pub use sockweave_net::TlsConnector;
use std::io::{self, IoSlice, Read, Write};
use std::time::Duration;
#[cfg(feature = "rustls")]
use {
    rustls::{ClientConnection, ServerConnection, StreamOwned},
    sockweave_net::tls::rustls,
    std::sync::Arc,
    std::time::Instant,
};

/// A stream, possibly inside TLS: what [`connect`](crate::connect) returns,
/// and what [`TlsAcceptor::accept`] makes of an accepted socket.
#[non_exhaustive]
pub enum MaybeTls<S: Read + Write> {
    /// No TLS (`ws://`).
    Plain(S),
    /// The client side of a TLS session.
    #[cfg(feature = "rustls")]
    Client(Box<StreamOwned<ClientConnection, S>>),
    /// The server side of a TLS session.
    #[cfg(feature = "rustls")]
    Server(Box<StreamOwned<ServerConnection, S>>),
}

impl<S: Read + Write> MaybeTls<S> {
    /// The underlying socket.
    pub fn get_ref(&self) -> &S {
        match self {
            Self::Plain(s) => s,
            #[cfg(feature = "rustls")]
            Self::Client(s) => &s.sock,
            #[cfg(feature = "rustls")]
            Self::Server(s) => &s.sock,
        }
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        !matches!(self, Self::Plain(_))
    }
}

/// Forwards a call to the stream inside, whatever the variant.
macro_rules! each {
    ($self:expr, $s:ident => $call:expr) => {
        match $self {
            MaybeTls::Plain($s) => $call,
            #[cfg(feature = "rustls")]
            MaybeTls::Client($s) => $call,
            #[cfg(feature = "rustls")]
            MaybeTls::Server($s) => $call,
        }
    };
}

impl<S: Read + Write> Read for MaybeTls<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        each!(self, s => s.read(buf))
    }
}

impl<S: Read + Write> Write for MaybeTls<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        each!(self, s => s.write(buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        each!(self, s => s.write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        each!(self, s => s.flush())
    }
}

impl<S: Transport> Transport for MaybeTls<S> {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.set_read_timeout(timeout),
            #[cfg(feature = "rustls")]
            Self::Client(s) => s.sock.set_read_timeout(timeout),
            #[cfg(feature = "rustls")]
            Self::Server(s) => s.sock.set_read_timeout(timeout),
        }
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        // rustls's stream takes plaintext before it writes records, and a
        // write that timed out leaves them for the next: safe to retry.
        match self {
            Self::Plain(s) => s.set_write_timeout(timeout),
            #[cfg(feature = "rustls")]
            Self::Client(s) => s.sock.set_write_timeout(timeout),
            #[cfg(feature = "rustls")]
            Self::Server(s) => s.sock.set_write_timeout(timeout),
        }
    }

    fn shutdown(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.shutdown(),
            // close_notify first: without it the peer cannot tell our end
            // from a truncation attack.
            #[cfg(feature = "rustls")]
            Self::Client(s) => {
                s.conn.send_close_notify();
                let _ = s.flush();
                s.sock.shutdown()
            }
            #[cfg(feature = "rustls")]
            Self::Server(s) => {
                s.conn.send_close_notify();
                let _ = s.flush();
                s.sock.shutdown()
            }
        }
    }
}

impl<S: Transport> MaybeTls<S> {
    /// Wraps `stream` for a connection to `host` as `tls` says: plain unless
    /// `secure`, else after a TLS handshake bounded by `timeout`.
    pub fn connect(
        tls: &TlsConnector,
        stream: S,
        host: &str,
        secure: bool,
        timeout: Duration,
    ) -> Result<Self, Error> {
        if !secure {
            return Ok(MaybeTls::Plain(stream));
        }
        #[cfg(feature = "rustls")]
        {
            let (config, name) = tls.client(host)?;
            let conn =
                ClientConnection::new(config, name).map_err(sockweave_net::tls::tls_error)?;
            let tls = handshake(StreamOwned::new(conn, stream), timeout)?;
            Ok(MaybeTls::Client(Box::new(tls)))
        }
        #[cfg(not(feature = "rustls"))]
        {
            let _ = (tls, host, timeout);
            Err(sockweave_net::TlsError::unsupported("sockweave-std").into())
        }
    }
}

/// Runs the server side of TLS on accepted sockets.
#[cfg(feature = "rustls")]
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<rustls::ServerConfig>,
    timeout: Duration,
}

#[cfg(feature = "rustls")]
impl TlsAcceptor {
    /// Accepts with `config` (see `sockweave_net::tls::server_config`); the
    /// TLS handshake gets the core's default handshake timeout.
    pub fn new(config: Arc<rustls::ServerConfig>) -> Self {
        Self {
            config,
            timeout: sockweave::Config::default().handshake_timeout,
        }
    }

    /// Bounds each TLS handshake by `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the TLS handshake on `stream`; pass the result to
    /// [`accept`](crate::accept) for the WebSocket handshake.
    pub fn accept<S: Transport>(&self, stream: S) -> Result<MaybeTls<S>, Error> {
        let conn =
            ServerConnection::new(self.config.clone()).map_err(sockweave_net::tls::tls_error)?;
        let tls = handshake(StreamOwned::new(conn, stream), self.timeout)?;
        Ok(MaybeTls::Server(Box::new(tls)))
    }
}

/// Completes a TLS handshake within `timeout`, so that certificate and
/// alert failures surface here, typed, and not at the first WebSocket read.
#[cfg(feature = "rustls")]
fn handshake<C, D, S>(
    mut tls: StreamOwned<C, S>,
    timeout: Duration,
) -> Result<StreamOwned<C, S>, Error>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
    D: rustls::SideData,
    S: Transport,
{
    let deadline = Instant::now() + timeout;
    while tls.conn.is_handshaking() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(sockweave_net::tls::map_handshake_error(
                io::ErrorKind::TimedOut.into(),
            ));
        }
        tls.sock.set_read_timeout(Some(left))?;
        tls.conn
            .complete_io(&mut tls.sock)
            .map_err(sockweave_net::tls::map_handshake_error)?;
    }
    Ok(tls)
}

#[cfg(feature = "rustls")]
impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<S: Read + Write> std::fmt::Debug for MaybeTls<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "MaybeTls::Plain",
            #[cfg(feature = "rustls")]
            Self::Client(_) => "MaybeTls::Client",
            #[cfg(feature = "rustls")]
            Self::Server(_) => "MaybeTls::Server",
        })
    }
}
