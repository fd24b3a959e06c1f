//! The argument rules of the WHATWG WebSocket interface: the constructor's
//! URL and protocols, and `close(code, reason)`.

use crate::close::CloseCode;
use crate::handshake::ClientRequest;
use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

/// The DOMException a browser would throw, with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomException {
    /// `SyntaxError`: a bad URL, a bad or repeated subprotocol, a close
    /// reason over 123 bytes.
    Syntax(String),
    /// `InvalidStateError`: `send` before the connection is open.
    InvalidState(String),
    /// `InvalidAccessError`: a close code other than 1000 or 3000–4999.
    InvalidAccess(String),
}

impl DomException {
    /// The DOMException name, as JavaScript would see it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Syntax(_) => "SyntaxError",
            Self::InvalidState(_) => "InvalidStateError",
            Self::InvalidAccess(_) => "InvalidAccessError",
        }
    }

    /// What was wrong.
    pub fn message(&self) -> &str {
        match self {
            Self::Syntax(m) | Self::InvalidState(m) | Self::InvalidAccess(m) => m,
        }
    }
}

impl fmt::Display for DomException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.message())
    }
}

impl core::error::Error for DomException {}

fn syntax(message: impl Into<String>) -> DomException {
    DomException::Syntax(message.into())
}

/// A parsed WebSocket URL: the WHATWG serialization, its origin, and the
/// request the handshake needs.
#[derive(Debug, Clone)]
pub(crate) struct WsUrl {
    pub(crate) href: String,
    pub(crate) origin: String,
    pub(crate) request: ClientRequest,
}

/// `new WebSocket(url)` steps 1–7: parse with the WHATWG URL parser (no
/// base URL in Rust, so relative URLs fail), map `http`/`https` to
/// `ws`/`wss`, refuse other schemes and fragments.
pub(crate) fn parse_url(input: &str) -> Result<WsUrl, DomException> {
    let mut url = url::Url::parse(input).map_err(|e| syntax(format!("{input:?}: {e}")))?;
    let scheme = match url.scheme() {
        "http" => Some("ws"),
        "https" => Some("wss"),
        "ws" | "wss" => None,
        other => {
            return Err(syntax(format!(
                "scheme {other:?} is not ws, wss, http or https"
            )));
        }
    };
    if let Some(scheme) = scheme {
        // http and https map onto ws and wss with the same default ports.
        url.set_scheme(scheme)
            .map_err(|()| syntax("the scheme cannot be changed"))?;
    }
    if url.fragment().is_some() {
        return Err(syntax(format!("{input:?} has a fragment")));
    }
    let host = match url.host() {
        Some(url::Host::Ipv6(addr)) => addr.to_string(),
        Some(host) => host.to_string(),
        None => return Err(syntax(format!("{input:?} has no host"))),
    };
    let secure = url.scheme() == "wss";
    let port = url
        .port_or_known_default()
        .unwrap_or(if secure { 443 } else { 80 });
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    // Credentials in the URL are not sent (the handshake has no place for
    // them); the serialized URL keeps them, as browsers do.
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let target = format!("{}://{authority}{path}", url.scheme());
    let request = ClientRequest::new(&target).map_err(|e| syntax(format!("{input:?}: {e}")))?;
    Ok(WsUrl {
        href: url.as_str().to_string(),
        origin: url.origin().ascii_serialization(),
        request,
    })
}

/// `new WebSocket(url, protocols)` step 9: each protocol is an HTTP token
/// (RFC 6455 §4.1, RFC 2616 §2.2), and none appears twice.
pub(crate) fn check_protocols(protocols: &[&str]) -> Result<(), DomException> {
    for (i, protocol) in protocols.iter().enumerate() {
        let is_token = !protocol.is_empty()
            && protocol
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
        if !is_token {
            return Err(syntax(format!("{protocol:?} is not a valid subprotocol")));
        }
        if protocols[..i].contains(protocol) {
            return Err(syntax(format!("subprotocol {protocol:?} is given twice")));
        }
    }
    Ok(())
}

/// The longest close reason, in UTF-8 bytes (125 minus the code's 2).
pub const MAX_REASON: usize = 123;

/// `close(code, reason)` steps 1–2; returns what goes in the close frame:
/// no code and no reason gives an empty frame (`NO_STATUS`), a reason
/// without a code is sent with 1000.
pub(crate) fn check_close(
    code: Option<u16>,
    reason: Option<&str>,
) -> Result<(CloseCode, String), DomException> {
    if let Some(code) = code {
        if code != 1000 && !(3000..=4999).contains(&code) {
            return Err(DomException::InvalidAccess(format!(
                "close code {code} is neither 1000 nor in 3000-4999"
            )));
        }
    }
    let reason = reason.unwrap_or_default();
    if reason.len() > MAX_REASON {
        return Err(syntax(format!(
            "close reason is {} bytes of UTF-8, more than {MAX_REASON}",
            reason.len()
        )));
    }
    let code = match code {
        Some(code) => CloseCode(code),
        None if reason.is_empty() => CloseCode::NO_STATUS,
        None => CloseCode::NORMAL,
    };
    Ok((code, reason.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax_error(input: &str) -> bool {
        matches!(parse_url(input), Err(DomException::Syntax(_)))
    }

    #[test]
    fn urls_as_whatwg_parses_them() {
        let url = parse_url("ws://EXAMPLE.com:80/chat room?x=1").unwrap();
        assert_eq!(url.href, "ws://example.com/chat%20room?x=1");
        assert_eq!(url.origin, "ws://example.com");
        assert_eq!(url.request.host, "example.com");
        assert_eq!((url.request.port, url.request.secure), (80, false));
        assert_eq!(url.request.path, "/chat%20room?x=1");

        let url = parse_url("https://example.com").unwrap();
        assert_eq!(url.href, "wss://example.com/");
        assert_eq!((url.request.port, url.request.secure), (443, true));
        assert_eq!(parse_url("http://a:8080/").unwrap().href, "ws://a:8080/");
        assert_eq!(parse_url("wss://[::1]:9001").unwrap().request.host, "::1");
        // IDNA: the handshake sees the ASCII form.
        let url = parse_url("ws://bücher.example/").unwrap();
        assert_eq!(url.request.host, "xn--bcher-kva.example");
        // Credentials stay in the URL, not in the request.
        let url = parse_url("ws://user:pw@host/").unwrap();
        assert_eq!(url.href, "ws://user:pw@host/");
        assert_eq!(url.request.host, "host");
    }

    #[test]
    fn bad_urls_are_syntax_errors() {
        for input in [
            "ftp://example.com/",
            "file:///tmp/x",
            "ws://example.com/#frag",
            "ws://example.com/#",
            "/relative",
            "ws://",
            "not a url",
            "ws://exa mple.com/",
            "ws://example.com:99999/",
        ] {
            assert!(syntax_error(input), "{input}");
        }
    }

    #[test]
    fn protocols_are_tokens_given_once() {
        assert!(check_protocols(&[]).is_ok());
        assert!(check_protocols(&["chat", "superchat", "v2.json"]).is_ok());
        for bad in [
            &["chat", "chat"][..],
            &[""],
            &["a b"],
            &["a,b"],
            &["é"],
            &["x\u{7f}"],
        ] {
            assert!(
                matches!(check_protocols(bad), Err(DomException::Syntax(_))),
                "{bad:?}"
            );
        }
        // Case matters: these are two protocols.
        assert!(check_protocols(&["chat", "Chat"]).is_ok());
    }

    #[test]
    fn close_arguments() {
        assert_eq!(
            check_close(None, None).unwrap(),
            (CloseCode::NO_STATUS, String::new())
        );
        assert_eq!(check_close(None, Some("bye")).unwrap().0, CloseCode::NORMAL);
        assert_eq!(
            check_close(Some(4000), Some("x")).unwrap().0,
            CloseCode(4000)
        );
        for code in [999, 1001, 1005, 1006, 2999, 5000] {
            assert!(
                matches!(
                    check_close(Some(code), None),
                    Err(DomException::InvalidAccess(_))
                ),
                "{code}"
            );
        }
        for code in [1000, 3000, 4999] {
            assert!(check_close(Some(code), None).is_ok(), "{code}");
        }
        let exactly = "é".repeat(61) + "x"; // 123 bytes
        assert!(check_close(Some(1000), Some(&exactly)).is_ok());
        let over = exactly + "x";
        let e = check_close(Some(1000), Some(&over)).unwrap_err();
        assert_eq!(e.name(), "SyntaxError");
    }
}
