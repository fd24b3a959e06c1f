//! Why an opening handshake failed.

use super::Header;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// An opening handshake failure. On the server side
/// [`HandshakeError::http_status`] is the status we answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The HTTP head could not be parsed (400 on a server).
    Malformed,
    /// The request method is not GET (HTTP/1.1), or not CONNECT (HTTP/2,
    /// HTTP/3) (405).
    MethodNotAllowed,
    /// The request is older than HTTP/1.1 (400).
    HttpVersion,
    /// No `Host` header (400).
    MissingHost,
    /// No `Upgrade: websocket` token (400 on a server); over HTTP/2 or
    /// HTTP/3, a `CONNECT` without `:protocol websocket` (RFC 8441 §4).
    MissingUpgrade,
    /// No `Connection: upgrade` token (400 on a server).
    MissingConnection,
    /// `Sec-WebSocket-Key` missing, repeated, or not base64 of 16 bytes (400).
    InvalidKey,
    /// `Sec-WebSocket-Version` missing or not 13 (426).
    UnsupportedVersion,
    /// The head is longer than the configured limit (431).
    HeadTooLarge,
    /// More headers than the configured limit (431).
    TooManyHeaders,
    /// The request line is longer than the configured limit (414).
    RequestLineTooLong,
    /// The `Origin` is not on the server's allow-list (403).
    OriginNotAllowed,
    /// More than one `Origin` header (400): read as none, it would bypass
    /// the allow-list.
    RepeatedOrigin,
    /// No `Origin` header where the policy requires one (403).
    MissingOrigin,
    /// The request's path is not one the server serves
    /// ([`ServerPolicy::paths`](super::ServerPolicy::paths)) (404).
    NotFound,
    /// The application refused the request with this status.
    Refused(u16),
    /// A subprotocol was offered twice, or is not a valid token (400).
    InvalidProtocol,
    /// More than [`MAX_OFFERS`](super::MAX_OFFERS) subprotocols, or more
    /// than that many extension offers, in one request (400).
    TooManyOffers,
    /// The server answered with a status other than 101. Redirects show
    /// here with their `Location` header.
    Status {
        /// The status code.
        status: u16,
        /// The response headers.
        headers: Vec<Header>,
    },
    /// `Sec-WebSocket-Accept` is missing or does not match our key.
    InvalidAccept,
    /// The server selected a subprotocol we did not offer.
    UnexpectedProtocol(String),
    /// The server selected an extension we did not offer.
    UnexpectedExtension(String),
    /// The server's permessage-deflate response is invalid or grants what
    /// we did not ask for (RFC 7692 §7.1: the client fails).
    InvalidExtension(crate::deflate::ParamsError),
    /// The transport closed before the handshake finished.
    Eof,
    /// A value of ours (the request, or the server's answer) cannot be
    /// written into an HTTP head; nothing was sent. A server answers 500.
    InvalidField(super::InvalidField),
    /// A [`crate::Config`] that [`crate::Config::validate`] refuses, given
    /// to a client constructor; nothing was sent.
    InvalidConfig(crate::ConfigError),
}

impl From<crate::ConfigError> for HandshakeError {
    fn from(e: crate::ConfigError) -> Self {
        Self::InvalidConfig(e)
    }
}

impl From<super::InvalidField> for HandshakeError {
    fn from(e: super::InvalidField) -> Self {
        Self::InvalidField(e)
    }
}

impl HandshakeError {
    /// The HTTP status a server answers this failure with, if it is one a
    /// server reports (client-side failures have none).
    pub fn http_status(&self) -> Option<u16> {
        Some(match self {
            Self::Malformed
            | Self::HttpVersion
            | Self::MissingHost
            | Self::MissingUpgrade
            | Self::MissingConnection
            | Self::InvalidKey
            | Self::InvalidProtocol
            | Self::TooManyOffers
            | Self::RepeatedOrigin => 400,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedVersion => 426,
            Self::HeadTooLarge | Self::TooManyHeaders => 431,
            Self::RequestLineTooLong => 414,
            Self::OriginNotAllowed | Self::MissingOrigin => 403,
            Self::NotFound => 404,
            Self::Refused(status) => *status,
            Self::InvalidField(_) => 500,
            _ => return None,
        })
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed HTTP head"),
            Self::MethodNotAllowed => {
                f.write_str("method is not GET (HTTP/1.1) or CONNECT (HTTP/2, HTTP/3)")
            }
            Self::HttpVersion => f.write_str("HTTP version older than 1.1"),
            Self::MissingHost => f.write_str("missing Host header"),
            Self::MissingUpgrade => {
                f.write_str("missing `Upgrade: websocket` (or `:protocol websocket`)")
            }
            Self::MissingConnection => f.write_str("missing `Connection: upgrade`"),
            Self::InvalidKey => f.write_str("missing, repeated or malformed Sec-WebSocket-Key"),
            Self::UnsupportedVersion => f.write_str("Sec-WebSocket-Version is not 13"),
            Self::HeadTooLarge => f.write_str("HTTP head exceeds the size limit"),
            Self::TooManyHeaders => f.write_str("too many HTTP headers"),
            Self::RequestLineTooLong => f.write_str("request line exceeds the size limit"),
            Self::OriginNotAllowed => f.write_str("origin not allowed"),
            Self::RepeatedOrigin => f.write_str("more than one Origin header"),
            Self::MissingOrigin => f.write_str("no Origin header, and the server requires one"),
            Self::NotFound => f.write_str("no WebSocket is served at this path"),
            Self::Refused(status) => write!(f, "refused by the application with status {status}"),
            Self::InvalidProtocol => f.write_str("invalid or repeated subprotocol"),
            Self::TooManyOffers => write!(
                f,
                "more than {} subprotocols or extension offers",
                super::MAX_OFFERS
            ),
            Self::Status { status, headers } => {
                write!(f, "server answered {status} instead of 101")?;
                let location = headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("location"));
                if let Some(location) = location {
                    // The server's bytes: quoted with control characters
                    // escaped, so a log or terminal shows them and never
                    // runs them.
                    write!(
                        f,
                        " (location: {:?})",
                        String::from_utf8_lossy(&location.value)
                    )?;
                }
                Ok(())
            }
            Self::InvalidAccept => f.write_str("Sec-WebSocket-Accept does not match the key"),
            Self::UnexpectedProtocol(p) => write!(
                f,
                "server selected subprotocol {p:?}, which was not offered"
            ),
            Self::UnexpectedExtension(e) => {
                write!(f, "server selected extension {e:?}, which was not offered")
            }
            Self::InvalidExtension(e) => write!(f, "invalid extension response: {e}"),
            Self::Eof => f.write_str("connection closed during the opening handshake"),
            Self::InvalidField(e) => write!(f, "cannot write the HTTP head: {e}"),
            Self::InvalidConfig(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for HandshakeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    /// A redirect's `Location` is the server's text: shown quoted, with
    /// control characters escaped, so printing the error to a terminal
    /// cannot run an escape sequence (C0 or, in UTF-8, C1).
    #[test]
    fn a_location_is_shown_escaped() {
        let error = HandshakeError::Status {
            status: 302,
            headers: vec![Header {
                name: "Location".into(),
                value: "ws://x/\x1b]0;owned\x07\u{9b}31m".as_bytes().to_vec(),
            }],
        };
        let shown = error.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(
            shown.contains(r#"(location: "ws://x/\u{1b}]0;owned\u{7}\u{9b}31m")"#),
            "{shown}"
        );
    }
}
