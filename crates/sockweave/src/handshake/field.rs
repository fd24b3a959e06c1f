//! What may be written into an HTTP head. Every value the caller hands us
//! that ends up in a request or a response (paths, hosts, subprotocols,
//! extension offers and answers, extra headers) is checked here before a
//! byte is written: a CR or LF would end the line and let the value add
//! headers or a body of its own (response splitting, request smuggling),
//! NUL is cut short by some parsers, and no other control character is a
//! valid field value (RFC 9110 §5.5). Such a value is refused with
//! [`InvalidField`], never dropped silently or written.

use alloc::string::String;
use core::fmt;

/// A value that cannot be written into an HTTP head as given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidField {
    /// The request target: empty, not starting with `/`, or holding
    /// whitespace or a control character.
    Path(String),
    /// The host: empty, or holding whitespace or a control character.
    Host(String),
    /// A subprotocol that is not an RFC 9110 token.
    Protocol(String),
    /// An extension offer or answer holding a control character (CR, LF,
    /// NUL…).
    Extension(String),
    /// A header name that is not a token.
    HeaderName(String),
    /// The value of the header with this name holds a control character
    /// (CR, LF, NUL…; a tab is allowed).
    HeaderValue(String),
    /// A refusal's status outside 300–599 (a 1xx or 2xx would read as
    /// something other than a refusal).
    Status(u16),
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(p) => write!(f, "request target {p:?} cannot go into a request line"),
            Self::Host(h) => write!(f, "host {h:?} cannot go into a Host header"),
            Self::Protocol(p) => write!(f, "subprotocol {p:?} is not a token"),
            Self::Extension(e) => write!(f, "extension {e:?} holds a control character"),
            Self::HeaderName(n) => write!(f, "header name {n:?} is not a token"),
            Self::HeaderValue(n) => write!(f, "value of header {n:?} holds a control character"),
            Self::Status(s) => write!(f, "status {s} is not a refusal (300-599)"),
        }
    }
}

impl core::error::Error for InvalidField {}

/// Whether `value` is an RFC 9110 §5.5 field value: visible characters,
/// spaces and tabs, and obs-text, but no other control character (CR, LF
/// and NUL above all). HTTP libraries (`http`, h2) hold values to the
/// same rule, so what passes here is never dropped by the next layer.
pub(crate) fn is_safe_field(value: &[u8]) -> bool {
    !value.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7f)
}

/// Whether `token` is an RFC 9110 token (subprotocol and header names).
pub(crate) fn is_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `text` has no whitespace or control character (a request
/// target, a host): one space would end the token in a request line.
fn is_visible(text: &str) -> bool {
    !text.is_empty() && !text.bytes().any(|b| b <= b' ' || b == 0x7f)
}

pub(crate) fn check_path(path: &str) -> Result<(), InvalidField> {
    if is_visible(path) && path.starts_with('/') {
        Ok(())
    } else {
        Err(InvalidField::Path(path.into()))
    }
}

pub(crate) fn check_host(host: &str) -> Result<(), InvalidField> {
    if is_visible(host) {
        Ok(())
    } else {
        Err(InvalidField::Host(host.into()))
    }
}

pub(crate) fn check_protocol(protocol: &str) -> Result<(), InvalidField> {
    if is_token(protocol) {
        Ok(())
    } else {
        Err(InvalidField::Protocol(protocol.into()))
    }
}

pub(crate) fn check_extension(extension: &str) -> Result<(), InvalidField> {
    if is_safe_field(extension.as_bytes()) {
        Ok(())
    } else {
        Err(InvalidField::Extension(extension.into()))
    }
}

pub(crate) fn check_headers(headers: &[(String, String)]) -> Result<(), InvalidField> {
    for (name, value) in headers {
        if !is_token(name) {
            return Err(InvalidField::HeaderName(name.clone()));
        }
        if !is_safe_field(value.as_bytes()) {
            return Err(InvalidField::HeaderValue(name.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_and_nul_are_refused_everywhere() {
        for bad in ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\0b", "a\x1bb", "a\x7fb"] {
            assert!(check_path(&alloc::format!("/{bad}")).is_err(), "{bad:?}");
            assert!(check_host(bad).is_err(), "{bad:?}");
            assert!(check_protocol(bad).is_err(), "{bad:?}");
            assert!(check_extension(bad).is_err(), "{bad:?}");
            let header = [("X-Ok".into(), bad.into())];
            assert_eq!(
                check_headers(&header),
                Err(InvalidField::HeaderValue("X-Ok".into()))
            );
            let header = [(bad.into(), "v".into())];
            assert!(check_headers(&header).is_err(), "{bad:?}");
        }
        assert!(check_path("/a b").is_err());
        assert!(check_path("a").is_err());
        assert!(check_path("/chat?x=1").is_ok());
        assert!(check_host("example.com").is_ok());
        assert!(check_extension("permessage-deflate; client_max_window_bits").is_ok());
        assert!(check_headers(&[("Cookie".into(), "a=1;\tb=2".into())]).is_ok());
        assert!(check_headers(&[("X-Name".into(), "Zoë".into())]).is_ok());
    }
}
