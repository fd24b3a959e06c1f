//! The client side of the opening handshake (RFC 6455 §4.1).

use super::field::{
    InvalidField, check_extension, check_headers, check_host, check_path, check_protocol,
};
use super::head::{HeadLimit, HeadReader};
use super::{
    ACCEPT_LEN, HandshakeError, Header, accept_key, has_token, list_values, new_key, owned_headers,
    single_value, write_header,
};
use crate::Entropy;
use crate::config::Config;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use bytes::{Buf, BytesMut};
use core::fmt;

/// What to connect to and what to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientRequest {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// TCP port (80 for `ws://`, 443 for `wss://` unless given).
    pub port: u16,
    /// Request target: path and query, starting with `/`.
    pub path: String,
    /// `wss://`: the transport must be TLS (the adapter's business).
    pub secure: bool,
    /// Subprotocols to offer, in order of preference.
    pub protocols: Vec<String>,
    /// Extension offers for `Sec-WebSocket-Extensions`.
    pub extensions: Vec<String>,
    /// Extra headers: `Origin`, `Authorization`, `Cookie`…
    pub headers: Vec<(String, String)>,
    /// How many redirects a client may still follow
    /// ([`ClientRequest::follow_redirects`]; 0 by default).
    pub redirects: u8,
}

/// Why a URL cannot be connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `ws` or `wss`.
    Scheme,
    /// No host, or a host that is not valid.
    Host,
    /// A port that is not a number in 1–65535.
    Port,
    /// A `#fragment`, which WebSocket URLs may not have.
    Fragment,
    /// `user:password@`, which the opening handshake cannot carry.
    UserInfo,
    /// A character that cannot appear in a request line.
    InvalidCharacter,
}

/// `%XX` escapes decoded; the result must be UTF-8 without control
/// characters (it goes into a header).
fn percent_decode(s: &str) -> Result<String, UrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or(UrlError::UserInfo)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UrlError::UserInfo)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).map_err(|_| UrlError::UserInfo)?;
    if text.chars().any(char::is_control) {
        return Err(UrlError::UserInfo);
    }
    Ok(text)
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Scheme => "URL scheme must be ws or wss",
            Self::Host => "URL has no valid host",
            Self::Port => "URL port is not a number in 1-65535",
            Self::Fragment => "WebSocket URLs cannot have a fragment",
            Self::UserInfo => "WebSocket URLs cannot carry credentials",
            Self::InvalidCharacter => "URL contains whitespace or control characters",
        })
    }
}

impl core::error::Error for UrlError {}

impl ClientRequest {
    /// A request for a `ws://` or `wss://` URL.
    pub fn new(url: &str) -> Result<Self, UrlError> {
        if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(UrlError::InvalidCharacter);
        }
        let (scheme, rest) = url.split_once("://").ok_or(UrlError::Scheme)?;
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "ws" => false,
            "wss" => true,
            _ => return Err(UrlError::Scheme),
        };
        if rest.contains('#') {
            return Err(UrlError::Fragment);
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        let path = match target {
            "" => "/".to_string(),
            t if t.starts_with('?') => alloc::format!("/{t}"),
            t => t.to_string(),
        };
        Ok(Self {
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(if secure { 443 } else { 80 }),
            path,
            secure,
            protocols: Vec::new(),
            extensions: Vec::new(),
            headers: Vec::new(),
            redirects: 0,
        })
    }

    /// Like [`ClientRequest::new`], but `user:password@` in the URL (each
    /// part percent-decoded) becomes an `Authorization: Basic` header
    /// (RFC 7617) instead of an error, as command-line clients take it.
    /// The credentials go only to the URL's origin: a redirect elsewhere
    /// drops them.
    pub fn new_with_userinfo(url: &str) -> Result<Self, UrlError> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Self::new(url);
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let Some(at) = rest[..end].rfind('@') else {
            return Self::new(url);
        };
        let (user, password) = rest[..at].split_once(':').unwrap_or((&rest[..at], ""));
        let request = Self::new(&alloc::format!("{scheme}://{}", &rest[at + 1..]))?;
        let (user, password) = (percent_decode(user)?, percent_decode(password)?);
        Ok(request.basic_auth(&user, &password))
    }

    /// Adds `Authorization: Basic` (RFC 7617) for `user` and `password`.
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        use base64::Engine as _;
        let token =
            base64::engine::general_purpose::STANDARD.encode(alloc::format!("{user}:{password}"));
        self.header("Authorization", alloc::format!("Basic {token}"))
    }

    /// Adds a subprotocol to offer.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Adds an extension offer. The core runs no extension yet: a server
    /// that accepts the offer makes RSV bits appear, which fail the
    /// connection, so offer only what your own code handles.
    pub fn extension(mut self, offer: impl Into<String>) -> Self {
        self.extensions.push(offer.into());
        self
    }

    /// Adds a request header. A `Host` header replaces the one made from
    /// the URL (the connection still goes to the URL's host).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Checks that every field can be written into the request head as
    /// given (the fields are public, so [`ClientRequest::new`]'s checks
    /// may no longer hold): no CR, LF or NUL anywhere, no whitespace in
    /// the path or host, tokens for subprotocols and header names.
    pub fn check(&self) -> Result<(), InvalidField> {
        check_path(&self.path)?;
        check_host(&self.host)?;
        self.protocols.iter().try_for_each(|p| check_protocol(p))?;
        self.extensions
            .iter()
            .try_for_each(|e| check_extension(e))?;
        check_headers(&self.headers)
    }

    /// The `Host` header value: the port only when it is not the default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            alloc::format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.secure { 443 } else { 80 };
        if self.port == default_port {
            host
        } else {
            alloc::format!("{host}:{}", self.port)
        }
    }
}

fn is_host(name: &str) -> bool {
    name.eq_ignore_ascii_case("host")
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), UrlError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or(UrlError::Host)?;
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(UrlError::Host);
        }
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or(UrlError::Port)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:%".contains(&b));
    if !valid_host {
        return Err(UrlError::Host);
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(UrlError::Port),
            Ok(n) => Some(n),
        },
    };
    Ok((host, port))
}

/// Sends the request and checks the server's response.
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    /// The `Sec-WebSocket-Accept` we expect (HTTP/1.1); none for an
    /// extended CONNECT, which has no key (RFC 8441 §5).
    accept: Option<[u8; ACCEPT_LEN]>,
    protocols: Vec<String>,
    extensions: Vec<String>,
    reader: HeadReader,
    max_head: usize,
    max_headers: usize,
}

/// An extended CONNECT request (RFC 8441 §4): `:method CONNECT` and
/// `:protocol websocket`, plus these pseudo-headers and header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// `:scheme`: `https` for `wss://`, `http` for `ws://`.
    pub scheme: &'static str,
    /// `:authority`: host, and port when it is not the default.
    pub authority: String,
    /// `:path`: path and query.
    pub path: String,
    /// Header fields, names in lowercase: `sec-websocket-version`, the
    /// offered subprotocols and extensions, then the request's own.
    pub headers: Vec<(String, String)>,
}

/// A server's accepting response, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The subprotocol the server selected, one we offered.
    pub protocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` value the server sent.
    pub extensions: Option<String>,
    /// All response headers.
    pub headers: Vec<Header>,
}

impl ClientHandshake {
    /// Starts a handshake: returns the machine and the request bytes to send.
    /// The key's 16 random bytes come from `entropy`. A request that fails
    /// [`ClientRequest::check`] is refused before anything is written.
    pub fn new(
        request: &ClientRequest,
        entropy: &mut dyn Entropy,
        config: &Config,
    ) -> Result<(Self, Vec<u8>), HandshakeError> {
        request.check()?;
        let mut random = [0; 16];
        entropy.fill(&mut random);
        let key = new_key(random);
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(request.path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        // A `Host` among the caller's headers replaces ours (one Host
        // header: a second would get a 400 from a strict server).
        let host = request.headers.iter().find(|(name, _)| is_host(name));
        match host {
            Some((_, value)) => write_header(&mut out, "Host", value.as_bytes()),
            None => write_header(&mut out, "Host", request.host_header().as_bytes()),
        }
        out.extend_from_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
        write_header(&mut out, "Sec-WebSocket-Key", &key);
        out.extend_from_slice(b"Sec-WebSocket-Version: 13\r\n");
        if !request.protocols.is_empty() {
            write_header(
                &mut out,
                "Sec-WebSocket-Protocol",
                request.protocols.join(", ").as_bytes(),
            );
        }
        if !request.extensions.is_empty() {
            write_header(
                &mut out,
                "Sec-WebSocket-Extensions",
                request.extensions.join(", ").as_bytes(),
            );
        }
        for (name, value) in request.headers.iter().filter(|(name, _)| !is_host(name)) {
            write_header(&mut out, name, value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        let machine = Self {
            accept: Some(accept_key(&key)),
            protocols: request.protocols.clone(),
            extensions: request.extensions.clone(),
            reader: HeadReader::default(),
            max_head: config.max_handshake_len,
            max_headers: config.max_headers.min(crate::config::MAX_HEADERS_LIMIT),
        };
        Ok((machine, out))
    }

    /// Starts an extended CONNECT handshake (RFC 8441 over HTTP/2, RFC 9220
    /// over HTTP/3): returns the machine, which checks the response with
    /// [`ClientHandshake::check_response`], and the request for the HTTP
    /// client to send. No key: the stream is the proof.
    ///
    /// This builds the request exactly as given; [`crate::Connection`]'s
    /// own constructors add the permessage-deflate offer from the `Config`
    /// ([`crate::Connection::extended_connect`] does so here too).
    pub fn extended_connect(
        request: &ClientRequest,
        config: &Config,
    ) -> Result<(Self, ConnectRequest), HandshakeError> {
        request.check()?;
        let mut headers: Vec<(String, String)> = Vec::with_capacity(3 + request.headers.len());
        headers.push(("sec-websocket-version".into(), "13".into()));
        if !request.protocols.is_empty() {
            headers.push((
                "sec-websocket-protocol".into(),
                request.protocols.join(", "),
            ));
        }
        if !request.extensions.is_empty() {
            headers.push((
                "sec-websocket-extensions".into(),
                request.extensions.join(", "),
            ));
        }
        headers.extend(request.headers.iter().cloned());
        let connect = ConnectRequest {
            scheme: if request.secure { "https" } else { "http" },
            authority: request.host_header(),
            path: request.path.clone(),
            headers,
        };
        let machine = Self {
            accept: None,
            protocols: request.protocols.clone(),
            extensions: request.extensions.clone(),
            reader: HeadReader::default(),
            max_head: config.max_handshake_len,
            max_headers: config.max_headers.min(crate::config::MAX_HEADERS_LIMIT),
        };
        Ok((machine, connect))
    }

    /// Feeds the bytes received so far. On `Ok(Some(response))` the head has
    /// been taken out of `input` and what follows it (frames the server sent
    /// right after the `101`) is left there.
    pub fn receive(&mut self, input: &mut BytesMut) -> Result<Option<Response>, HandshakeError> {
        let head_len = match self.reader.poll(input, self.max_head, self.max_head) {
            Ok(Some(len)) => len,
            Ok(None) => return Ok(None),
            Err(HeadLimit::Head | HeadLimit::FirstLine) => {
                return Err(HandshakeError::HeadTooLarge);
            }
        };
        let response = self.check(&input[..head_len])?;
        input.advance(head_len);
        Ok(Some(response))
    }

    fn check(&self, head: &[u8]) -> Result<Response, HandshakeError> {
        if super::head::has_bare_lf(head) {
            return Err(HandshakeError::Malformed);
        }
        let mut slots = alloc::vec![httparse::EMPTY_HEADER; self.max_headers];
        let mut parsed = httparse::Response::new(&mut slots);
        match parsed.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(HandshakeError::Malformed),
            Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
            Err(_) => return Err(HandshakeError::Malformed),
        }
        self.check_response(parsed.code.unwrap_or(0), owned_headers(parsed.headers))
    }

    /// Checks a response an HTTP client parsed: `101` with `Upgrade`,
    /// `Connection` and the accept key for an HTTP/1.1 request, any `2xx`
    /// for an extended CONNECT (RFC 8441 §5); then, for both, a subprotocol
    /// we offered (or none) and only extensions we offered.
    pub fn check_response(
        &self,
        status: u16,
        headers: Vec<Header>,
    ) -> Result<Response, HandshakeError> {
        match &self.accept {
            Some(expected) => {
                if status != 101 {
                    return Err(HandshakeError::Status { status, headers });
                }
                if !has_token(&headers, "upgrade", "websocket") {
                    return Err(HandshakeError::MissingUpgrade);
                }
                if !has_token(&headers, "connection", "upgrade") {
                    return Err(HandshakeError::MissingConnection);
                }
                match single_value(&headers, "sec-websocket-accept") {
                    Ok(Some(accept)) if accept == expected => {}
                    _ => return Err(HandshakeError::InvalidAccept),
                }
            }
            None if !(200..300).contains(&status) => {
                return Err(HandshakeError::Status { status, headers });
            }
            None => {}
        }
        let protocol = match single_value(&headers, "sec-websocket-protocol") {
            Ok(None) => None,
            Ok(Some(p)) => {
                let p = String::from_utf8_lossy(p).into_owned();
                if !self.protocols.contains(&p) {
                    return Err(HandshakeError::UnexpectedProtocol(p));
                }
                Some(p)
            }
            Err(()) => return Err(HandshakeError::InvalidProtocol),
        };
        for selected in list_values(&headers, "sec-websocket-extensions") {
            let name = selected
                .split(|&b| b == b';')
                .next()
                .map(super::trim)
                .unwrap_or_default();
            let offered = self.extensions.iter().any(|offer| {
                offer
                    .split(';')
                    .next()
                    .map(str::trim)
                    .unwrap_or_default()
                    .as_bytes()
                    .eq_ignore_ascii_case(name)
            });
            if !offered {
                return Err(HandshakeError::UnexpectedExtension(
                    String::from_utf8_lossy(selected).into_owned(),
                ));
            }
        }
        // Every element of every Sec-WebSocket-Extensions line, in order.
        let selected: Vec<String> = list_values(&headers, "sec-websocket-extensions")
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
        let extensions = (!selected.is_empty()).then(|| selected.join(", "));
        Ok(Response {
            protocol,
            extensions,
            headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(buf: &mut [u8]) {
        // RFC 6455 §1.3's nonce, "the sample nonce".
        buf.copy_from_slice(b"the sample nonce");
    }

    #[test]
    fn urls() {
        let r = ClientRequest::new("ws://Example.com/chat?room=1").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.path.as_str(), r.secure),
            ("example.com", 80, "/chat?room=1", false)
        );
        let r = ClientRequest::new("wss://example.com").unwrap();
        assert_eq!(
            (r.port, r.path.as_str(), r.host_header().as_str()),
            (443, "/", "example.com")
        );
        let r = ClientRequest::new("ws://[::1]:9001?x").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.path.as_str()),
            ("::1", 9001, "/?x")
        );
        assert_eq!(r.host_header(), "[::1]:9001");
        assert_eq!(ClientRequest::new("http://a/"), Err(UrlError::Scheme));
        assert_eq!(ClientRequest::new("ws://a/#x"), Err(UrlError::Fragment));
        assert_eq!(ClientRequest::new("ws://u:p@a/"), Err(UrlError::UserInfo));
        // Taken as Basic credentials when asked for.
        let r =
            ClientRequest::new_with_userinfo("wss://al%40ice:p%3As@a.example:8443/x@y").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.path.as_str()),
            ("a.example", 8443, "/x@y")
        );
        // base64("al@ice:p:s")
        assert_eq!(
            r.headers,
            [("Authorization".into(), "Basic YWxAaWNlOnA6cw==".into())]
        );
        let plain = ClientRequest::new_with_userinfo("ws://a/b@c").unwrap();
        assert!(plain.headers.is_empty());
        assert_eq!(
            ClientRequest::new_with_userinfo("ws://u:%0a@a/"),
            Err(UrlError::UserInfo)
        );
        assert_eq!(ClientRequest::new("ws://a:0/"), Err(UrlError::Port));
        assert_eq!(ClientRequest::new("ws://a:99999/"), Err(UrlError::Port));
        assert_eq!(ClientRequest::new("ws:///x"), Err(UrlError::Host));
        assert_eq!(
            ClientRequest::new("ws://a b/"),
            Err(UrlError::InvalidCharacter)
        );
    }

    #[test]
    fn a_host_header_replaces_the_urls() {
        let request = ClientRequest::new("ws://127.0.0.1:9001/")
            .unwrap()
            .header("host", "example.com");
        let (_, bytes) = ClientHandshake::new(&request, &mut fixed, &Config::default()).unwrap();
        let head = core::str::from_utf8(&bytes).unwrap();
        assert_eq!(
            head.matches("Host: ").count() + head.matches("host: ").count(),
            1
        );
        assert!(
            head.starts_with("GET / HTTP/1.1\r\nHost: example.com\r\n"),
            "{head}"
        );
    }

    #[test]
    fn rfc6455_section_1_3_exchange() {
        let request = ClientRequest::new("ws://server.example.com/chat")
            .unwrap()
            .protocol("chat")
            .protocol("superchat")
            .header("Origin", "http://example.com");
        let (mut handshake, bytes) =
            ClientHandshake::new(&request, &mut fixed, &Config::default()).unwrap();
        assert_eq!(
            core::str::from_utf8(&bytes).unwrap(),
            "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nOrigin: http://example.com\r\n\r\n"
        );
        let mut input = BytesMut::from(
            &b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n\x81\x02hi"[..],
        );
        let response = handshake.receive(&mut input).unwrap().unwrap();
        assert_eq!(response.protocol.as_deref(), Some("chat"));
        assert_eq!(&input[..], b"\x81\x02hi");
    }

    fn respond(extra: &str, status: &str) -> Result<Option<Response>, HandshakeError> {
        let request = ClientRequest::new("ws://h/")
            .unwrap()
            .protocol("chat")
            .extension("x-ok; a=1");
        let (mut handshake, _) =
            ClientHandshake::new(&request, &mut fixed, &Config::default()).unwrap();
        let head = alloc::format!(
            "HTTP/1.1 {status}\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        );
        handshake.receive(&mut BytesMut::from(head.as_bytes()))
    }

    #[test]
    fn fields_that_would_break_the_request_head_are_refused() {
        // Regression: public fields were written into the head unchecked
        // (path, host) or dropped without a word (protocols, extensions,
        // headers).
        let base = ClientRequest::new("ws://h/").unwrap();
        let mut cases: Vec<(ClientRequest, InvalidField)> = Vec::new();
        let mut r = base.clone();
        r.path = "/ HTTP/1.1\r\nX-Evil: 1\r\nX:".into();
        cases.push((r.clone(), InvalidField::Path(r.path.clone())));
        let mut r = base.clone();
        r.host = "h\r\nX-Evil: 1".into();
        cases.push((r.clone(), InvalidField::Host(r.host.clone())));
        cases.push((
            base.clone().protocol("a b"),
            InvalidField::Protocol("a b".into()),
        ));
        cases.push((
            base.clone().extension("x\r\nX-Evil: 1"),
            InvalidField::Extension("x\r\nX-Evil: 1".into()),
        ));
        cases.push((
            base.clone().header("Cookie", "a\nX-Evil: 1"),
            InvalidField::HeaderValue("Cookie".into()),
        ));
        cases.push((
            base.clone().header("X:Evil", "1"),
            InvalidField::HeaderName("X:Evil".into()),
        ));
        for (request, expected) in cases {
            let result = ClientHandshake::new(&request, &mut fixed, &Config::default());
            assert_eq!(
                result.map(|(_, bytes)| bytes).unwrap_err(),
                HandshakeError::InvalidField(expected)
            );
        }
    }

    #[test]
    fn response_rules() {
        assert!(
            respond("", "101 Switching Protocols")
                .unwrap()
                .unwrap()
                .protocol
                .is_none()
        );
        assert_eq!(
            respond("Sec-WebSocket-Protocol: other\r\n", "101 OK"),
            Err(HandshakeError::UnexpectedProtocol("other".into()))
        );
        assert!(matches!(
            respond("Sec-WebSocket-Extensions: x-no\r\n", "101 OK"),
            Err(HandshakeError::UnexpectedExtension(_))
        ));
        assert!(respond("Sec-WebSocket-Extensions: x-ok; a=1\r\n", "101 OK").is_ok());
        match respond("Location: ws://elsewhere/\r\n", "302 Found") {
            Err(e @ HandshakeError::Status { status: 302, .. }) => {
                assert!(e.to_string().contains("ws://elsewhere/"));
            }
            other => panic!("{other:?}"),
        }
        let request = ClientRequest::new("ws://h/").unwrap();
        let (mut handshake, _) =
            ClientHandshake::new(&request, &mut fixed, &Config::default()).unwrap();
        let head = "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
        assert_eq!(
            handshake.receive(&mut BytesMut::from(head.as_bytes())),
            Err(HandshakeError::InvalidAccept)
        );
    }
}
