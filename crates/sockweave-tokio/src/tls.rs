//! `wss://`: a stream that is plain or TLS, and the TLS handshakes that make
//! one (feature `rustls`, through tokio-rustls). The WebSocket above does
//! not know the difference.

use crate::Error;
pub use sockweave_net::TlsConnector;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
#[cfg(feature = "rustls")]
use {sockweave_net::tls::rustls, std::sync::Arc};

/// A stream, possibly inside TLS: what [`connect`](crate::connect) returns,
/// and what [`TlsAcceptor::accept`] makes of an accepted socket.
#[non_exhaustive]
pub enum MaybeTls<S> {
    /// No TLS (`ws://`).
    Plain(S),
    /// The client side of a TLS session.
    #[cfg(feature = "rustls")]
    Client(Box<tokio_rustls::client::TlsStream<S>>),
    /// The server side of a TLS session.
    #[cfg(feature = "rustls")]
    Server(Box<tokio_rustls::server::TlsStream<S>>),
}

impl<S> MaybeTls<S> {
    /// The underlying socket.
    pub fn get_ref(&self) -> &S {
        match self {
            Self::Plain(s) => s,
            #[cfg(feature = "rustls")]
            Self::Client(s) => s.get_ref().0,
            #[cfg(feature = "rustls")]
            Self::Server(s) => s.get_ref().0,
        }
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        !matches!(self, Self::Plain(_))
    }
}

/// Forwards a poll to the stream inside, whatever the variant.
macro_rules! each {
    ($self:expr, $s:ident => $call:expr) => {
        match $self.get_mut() {
            MaybeTls::Plain($s) => $call,
            #[cfg(feature = "rustls")]
            MaybeTls::Client($s) => $call,
            #[cfg(feature = "rustls")]
            MaybeTls::Server($s) => $call,
        }
    };
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Self::Client(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Self::Server(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx))
    }

    /// For TLS, sends close_notify before shutting the socket down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> MaybeTls<S> {
    /// Wraps `stream` for a connection to `host` as `tls` says: plain unless
    /// `secure`, else after a TLS handshake bounded by `timeout`.
    pub async fn connect(
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
            let connect = tokio_rustls::TlsConnector::from(config).connect(name, stream);
            let tls = within(timeout, connect).await?;
            Ok(MaybeTls::Client(Box::new(tls)))
        }
        #[cfg(not(feature = "rustls"))]
        {
            let _ = (tls, host, timeout);
            Err(sockweave_net::TlsError::unsupported("sockweave-tokio").into())
        }
    }
}

/// Runs the server side of TLS on accepted sockets.
#[cfg(feature = "rustls")]
#[derive(Clone)]
pub struct TlsAcceptor {
    acceptor: tokio_rustls::TlsAcceptor,
    timeout: Duration,
}

#[cfg(feature = "rustls")]
impl TlsAcceptor {
    /// Accepts with `config` (see `sockweave_net::tls::server_config`); the
    /// TLS handshake gets the core's default handshake timeout.
    pub fn new(config: Arc<rustls::ServerConfig>) -> Self {
        Self {
            acceptor: tokio_rustls::TlsAcceptor::from(config),
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
    pub async fn accept<S>(&self, stream: S) -> Result<MaybeTls<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let tls = within(self.timeout, self.acceptor.accept(stream)).await?;
        Ok(MaybeTls::Server(Box::new(tls)))
    }
}

/// A TLS handshake bounded by `timeout`, its failures typed.
#[cfg(feature = "rustls")]
async fn within<T>(
    timeout: Duration,
    handshake: impl Future<Output = io::Result<T>>,
) -> Result<T, Error> {
    match tokio::time::timeout(timeout, handshake).await {
        Ok(result) => result.map_err(sockweave_net::tls::map_handshake_error),
        Err(_) => Err(sockweave_net::tls::map_handshake_error(
            io::ErrorKind::TimedOut.into(),
        )),
    }
}

#[cfg(feature = "rustls")]
impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<S> std::fmt::Debug for MaybeTls<S> {
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
