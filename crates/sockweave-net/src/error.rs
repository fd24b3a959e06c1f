//! The adapters' error type (the core's typed errors plus I/O and TLS) and
//! what counts as the peer going away.

use sockweave::SendError;
use sockweave::handshake::{HandshakeError, UrlError};
use std::{fmt, io};

/// Why a WebSocket call of an adapter failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed.
    Io(io::Error),
    /// The TLS layer failed: a certificate was refused, the peer sent an
    /// alert, or the configuration is unusable.
    Tls(TlsError),
    /// The URL cannot be connected to.
    Url(UrlError),
    /// The opening handshake failed (a non-101 status included).
    Handshake(HandshakeError),
    /// The connection failed after it opened (protocol violation, timeout…).
    Failed(sockweave::Error),
    /// The message could not be queued (closing, or bad arguments).
    Send(SendError),
    /// The connection is closed.
    Closed,
    /// A [`sockweave::Config`] setting cannot work ([`sockweave::Config::validate`]).
    Config(sockweave::ConfigError),
    /// The proxy did not open a tunnel to the server.
    Proxy(crate::ProxyError),
    /// A redirect that is not followed: a downgrade to `ws://`, an
    /// unusable `Location`, or more than the request allows.
    Redirect(sockweave::handshake::RedirectError),
}

/// The request to try after `error`, when it is a redirect `request` may
/// follow ([`sockweave::ClientRequest::follow_redirects`]): `None` when it
/// is not a redirect or following is off, the next request, or why the
/// redirect is refused. `followed` counts the redirects taken so far.
pub fn next_request(
    request: &sockweave::ClientRequest,
    followed: u8,
    error: &Error,
) -> Option<Result<sockweave::ClientRequest, Error>> {
    let Error::Handshake(HandshakeError::Status { status, headers }) = error else {
        return None;
    };
    if !matches!(status, 301 | 302 | 303 | 307 | 308) || request.redirects + followed == 0 {
        return None;
    }
    if request.redirects == 0 {
        return Some(Err(Error::Redirect(
            sockweave::handshake::RedirectError::TooMany(followed),
        )));
    }
    Some(
        request
            .redirected(*status, headers)
            .map_err(Error::Redirect),
    )
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Tls(e) => write!(f, "TLS error: {e}"),
            Self::Url(e) => write!(f, "bad URL: {e}"),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::Failed(e) => write!(f, "connection failed: {e}"),
            Self::Send(e) => write!(f, "cannot send: {e}"),
            Self::Closed => f.write_str("connection closed"),
            Self::Config(e) => write!(f, "bad configuration: {e}"),
            Self::Proxy(e) => write!(f, "proxy: {e}"),
            Self::Redirect(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Tls(e) => Some(e),
            Self::Url(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::Failed(e) => Some(e),
            Self::Send(e) => Some(e),
            Self::Closed => None,
            Self::Config(e) => Some(e),
            Self::Proxy(e) => Some(e),
            Self::Redirect(e) => Some(e),
        }
    }
}

impl From<TlsError> for Error {
    fn from(e: TlsError) -> Self {
        Self::Tls(e)
    }
}

impl From<crate::ProxyError> for Error {
    fn from(e: crate::ProxyError) -> Self {
        Self::Proxy(e)
    }
}

impl From<sockweave::ConfigError> for Error {
    fn from(e: sockweave::ConfigError) -> Self {
        Self::Config(e)
    }
}

/// A rustls failure carried in an I/O error (a TLS stream's read or
/// write after its handshake, e.g. the server's alert refusing a client
/// without a certificate) becomes [`Error::Tls`], typed; anything else is
/// [`Error::Io`].
impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        #[cfg(feature = "rustls")]
        return crate::tls::map_io_error(e);
        #[cfg(not(feature = "rustls"))]
        Self::Io(e)
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Closing => Self::Closed,
            e => Self::Send(e),
        }
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

impl From<UrlError> for Error {
    fn from(e: UrlError) -> Self {
        Self::Url(e)
    }
}

impl From<sockweave::Error> for Error {
    fn from(e: sockweave::Error) -> Self {
        match e {
            sockweave::Error::Handshake(e) => Self::Handshake(e),
            e => Self::Failed(e),
        }
    }
}

/// Whether an I/O error means the peer has gone away: adapters report it
/// to the core as the end of input, and the core decides how clean it was.
pub fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// What part of TLS failed, for callers that react differently to each
/// (a script retrying, a UI explaining an untrusted certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The peer's certificate does not chain to a trusted root.
    UnknownIssuer,
    /// The certificate is valid but not for the name we connected to.
    NameMismatch,
    /// The certificate has expired or is not valid yet.
    Expired,
    /// The certificate is unusable for another reason (revoked, malformed,
    /// wrong purpose, bad signature).
    BadCertificate,
    /// The peer refused us with an alert (it did not trust our certificate,
    /// or found no common protocol version or cipher).
    PeerRejected,
    /// The TLS handshake failed otherwise (protocol error, peer closed
    /// mid-handshake, timeout).
    Handshake,
    /// Certificates, keys or roots could not be loaded, or the host is not a
    /// valid TLS server name.
    Config,
    /// `wss://` was asked for but the adapter was built without TLS.
    Unsupported,
}

/// A TLS failure: its kind plus the TLS library's own error.
#[derive(Debug)]
pub struct TlsError {
    kind: TlsErrorKind,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl TlsError {
    /// A failure of `kind`, caused by `source`.
    pub fn new(
        kind: TlsErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// The error for a `wss://` URL in an adapter built without TLS.
    pub fn unsupported(adapter: &str) -> Self {
        Self::new(
            TlsErrorKind::Unsupported,
            format!("wss:// needs the rustls feature of {adapter}"),
        )
    }

    /// What failed.
    pub fn kind(&self) -> TlsErrorKind {
        self.kind
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TlsErrorKind::UnknownIssuer => "certificate from an unknown issuer",
            TlsErrorKind::NameMismatch => "certificate not valid for this name",
            TlsErrorKind::Expired => "certificate expired or not yet valid",
            TlsErrorKind::BadCertificate => "bad certificate",
            TlsErrorKind::PeerRejected => "the peer refused the handshake",
            TlsErrorKind::Handshake => "handshake failed",
            TlsErrorKind::Config => "bad TLS configuration",
            TlsErrorKind::Unsupported => "built without TLS support",
        };
        write!(f, "{what}: {}", self.source)
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
