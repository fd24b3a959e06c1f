//! What adapters share: their error type (the core's typed errors plus
//! I/O) and what counts as the peer going away. Only with the `std` feature.

use crate::SendError;

use crate::handshake::{HandshakeError, UrlError};
use std::{fmt, io};

/// Why a WebSocket call of an adapter failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed.
    Io(io::Error),
    /// The URL cannot be connected to.
    Url(UrlError),
    /// The opening handshake failed (a non-101 status included).
    Handshake(HandshakeError),
    /// The connection failed after it opened (protocol violation, timeout…).
    Failed(crate::Error),
    /// The message could not be queued (closing, or bad arguments).
    Send(SendError),
    /// The connection is closed.
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Url(e) => write!(f, "bad URL: {e}"),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::Failed(e) => write!(f, "connection failed: {e}"),
            Self::Send(e) => write!(f, "cannot send: {e}"),
            Self::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Url(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::Failed(e) => Some(e),
            Self::Send(e) => Some(e),
            Self::Closed => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
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

impl From<UrlError> for Error {
    fn from(e: UrlError) -> Self {
        Self::Url(e)
    }
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::Handshake(e) => Self::Handshake(e),
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
