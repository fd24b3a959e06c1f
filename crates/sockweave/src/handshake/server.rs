//! The server side of the opening handshake (RFC 6455 §4.2).

use super::field::{InvalidField, check_extension, check_headers, check_protocol};
use super::head::{HeadLimit, HeadReader};
use super::request::{HttpVersion, Request, RequestHead, ResponseHead};
use super::{HandshakeError, owned_headers, write_header};
use crate::config::Config;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Buf, BytesMut};

/// Reads and checks an opening handshake request.
#[derive(Debug, Clone)]
pub struct ServerHandshake {
    reader: HeadReader,
    max_head: usize,
    max_request_line: usize,
    max_headers: usize,
}

impl ServerHandshake {
    /// A handshake reader with the limits of `config`.
    pub fn new(config: &Config) -> Self {
        Self {
            reader: HeadReader::default(),
            max_head: config.max_handshake_len,
            max_request_line: config.max_request_line_len,
            max_headers: config.max_headers.min(crate::config::MAX_HEADERS_LIMIT),
        }
    }

    /// Feeds the bytes received so far (the buffer only grows between calls
    /// until a result). On `Ok(Some(request))` the head has been taken out
    /// of `input` and what follows it is left there.
    ///
    /// An `Err` carries the HTTP status to answer with; [`Reject::from`]
    /// builds the response.
    pub fn receive(&mut self, input: &mut BytesMut) -> Result<Option<Request>, HandshakeError> {
        let head_len = match self
            .reader
            .poll(input, self.max_head, self.max_request_line)
        {
            Ok(Some(len)) => len,
            // Not HTTP at all (a TLS ClientHello on a plain port, a stray
            // protocol): answer 400 now rather than at the handshake timeout.
            Ok(None) if !starts_like_a_method(input) => return Err(HandshakeError::Malformed),
            Ok(None) => return Ok(None),
            Err(HeadLimit::Head) => return Err(HandshakeError::HeadTooLarge),
            Err(HeadLimit::FirstLine) => return Err(HandshakeError::RequestLineTooLong),
        };
        let request = parse_request(&input[..head_len], self.max_headers)?;
        input.advance(head_len);
        Ok(Some(request))
    }
}

/// Whether `buf` can still become a request line: a method token, then a
/// space (RFC 9110 §5.6.2's tchar). Empty lines before it are allowed
/// (RFC 9112 §2.2).
fn starts_like_a_method(buf: &[u8]) -> bool {
    let start = buf.iter().position(|b| !matches!(b, b'\r' | b'\n'));
    let Some(rest) = start.map(|i| &buf[i..]) else {
        return true;
    };
    let method = rest.split(|&b| b == b' ').next().unwrap_or_default();
    let is_tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    !method.is_empty() && method.iter().all(is_tchar)
}

fn parse_request(head: &[u8], max_headers: usize) -> Result<Request, HandshakeError> {
    if super::head::has_bare_lf(head) {
        return Err(HandshakeError::Malformed);
    }
    let mut slots = alloc::vec![httparse::EMPTY_HEADER; max_headers];
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HandshakeError::Malformed),
        Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
        Err(_) => return Err(HandshakeError::Malformed),
    }
    let version = match parsed.version {
        Some(1) => HttpVersion::Http11,
        _ => HttpVersion::Http10,
    };
    Request::from_head(RequestHead {
        method: parsed.method.unwrap_or_default(),
        version,
        protocol: None,
        target: parsed.path.unwrap_or("/"),
        authority: None,
        headers: owned_headers(parsed.headers),
    })
}

impl Request {
    /// The `101 Switching Protocols` response accepting this HTTP/1.1
    /// request, as bytes, or why `accept` cannot be written
    /// ([`Accept::check`]). [`Request::response`] gives the head for any
    /// HTTP version.
    pub fn accept(&self, accept: &Accept) -> Result<Vec<u8>, InvalidField> {
        Ok(self.response(accept)?.to_http11())
    }
}

impl ResponseHead {
    /// The head as HTTP/1.1 bytes. Its fields were checked when it was
    /// made ([`Request::response`]).
    pub fn to_http11(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        let status_line = alloc::format!(
            "HTTP/1.1 {} {}\r\n",
            self.status,
            reason_phrase(self.status)
        );
        out.extend_from_slice(status_line.as_bytes());
        write_extra_headers(&mut out, &self.headers);
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// How a server accepts a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accept {
    /// The selected subprotocol: one the client offered, or none.
    pub protocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` response value, if any.
    pub extensions: Option<String>,
    /// Extra response headers (e.g. `Set-Cookie`).
    pub headers: Vec<(String, String)>,
}

impl Accept {
    /// Checks that every field can be written into the response head: the
    /// subprotocol a token, no CR, LF or NUL in the extensions or any
    /// header, header names tokens.
    pub fn check(&self) -> Result<(), InvalidField> {
        if let Some(protocol) = &self.protocol {
            check_protocol(protocol)?;
        }
        if let Some(extensions) = &self.extensions {
            check_extension(extensions)?;
        }
        check_headers(&self.headers)
    }
}

/// A refusal: the HTTP response sent instead of `101`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Status code (e.g. 401, 403).
    pub status: u16,
    /// Extra headers (e.g. `WWW-Authenticate`).
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

impl Reject {
    /// A refusal with `status`, no extra headers and a short text body.
    pub fn status(status: u16) -> Self {
        let body = alloc::format!("{status} {}\n", reason_phrase(status)).into_bytes();
        Self {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// Checks that the refusal can be written: a status in 300–599,
    /// header names tokens, no CR, LF or NUL in any header.
    pub fn check(&self) -> Result<(), InvalidField> {
        if !(300..=599).contains(&self.status) {
            return Err(InvalidField::Status(self.status));
        }
        check_headers(&self.headers)
    }

    /// The HTTP response bytes, or why they cannot be written
    /// ([`Reject::check`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>, InvalidField> {
        self.check()?;
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(
            alloc::format!(
                "HTTP/1.1 {} {}\r\n",
                self.status,
                reason_phrase(self.status)
            )
            .as_bytes(),
        );
        write_header(&mut out, "Connection", b"close");
        write_header(&mut out, "Content-Type", b"text/plain; charset=utf-8");
        write_header(
            &mut out,
            "Content-Length",
            alloc::format!("{}", self.body.len()).as_bytes(),
        );
        write_extra_headers(&mut out, &self.headers);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        Ok(out)
    }
}

impl Reject {
    /// The response for a failed request that came over `version`: its
    /// status, plus the header the RFC asks for (426 names the version we
    /// speak, 405 the method: `GET` for HTTP/1.1, `CONNECT` for HTTP/2 and
    /// HTTP/3, where `Upgrade` is a connection-specific field and not sent).
    pub fn for_version(error: &HandshakeError, version: HttpVersion) -> Self {
        let mut reject = Self::status(error.http_status().unwrap_or(400));
        let extended_connect = version.is_extended_connect();
        match error {
            HandshakeError::UnsupportedVersion => {
                reject
                    .headers
                    .push(("Sec-WebSocket-Version".into(), "13".into()));
                if !extended_connect {
                    reject.headers.push(("Upgrade".into(), "websocket".into()));
                }
            }
            HandshakeError::MethodNotAllowed => {
                let allow = if extended_connect { "CONNECT" } else { "GET" };
                reject.headers.push(("Allow".into(), allow.into()));
            }
            _ => {}
        }
        reject
    }
}

impl From<&HandshakeError> for Reject {
    /// The HTTP/1.1 response for a failed request
    /// ([`Reject::for_version`]).
    fn from(error: &HandshakeError) -> Self {
        Self::for_version(error, HttpVersion::Http11)
    }
}

/// How a [`crate::Connection`] in the server role answers requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerPolicy {
    /// Subprotocols we speak, in our order of preference. The first one the
    /// client also offered is selected; none if there is no overlap.
    pub protocols: Vec<String>,
    /// If set, only these `Origin` values are accepted (403 otherwise);
    /// requests without an `Origin` (non-browser clients) are accepted
    /// unless [`ServerPolicy::require_origin`].
    pub allowed_origins: Option<Vec<String>>,
    /// Accept an `Origin` whose host and port are the request's own
    /// (`Host`, or `:authority`): pages served by this same host. Alone,
    /// it allows only those; with `allowed_origins`, those as well as the
    /// list.
    pub same_host_origin: bool,
    /// Refuse requests that carry no `Origin` (403): only browsers may
    /// connect. Off by default, since other clients send none.
    pub require_origin: bool,
    /// If set, only these paths are served (the request target before any
    /// `?`, compared exactly); others get 404 before any other check.
    /// `None` (the default) serves every path.
    pub paths: Option<Vec<String>>,
    /// Extra headers for every accepting response.
    pub headers: Vec<(String, String)>,
    /// Hand each valid request to the application ([`crate::Event::Request`])
    /// and wait for [`crate::Connection::accept`] or
    /// [`crate::Connection::reject`], e.g. to authenticate.
    pub defer: bool,
}

impl ServerPolicy {
    /// The default answer to `request`: the path, the Origin check, then
    /// subprotocol selection.
    pub fn decide(&self, request: &Request) -> Result<Accept, HandshakeError> {
        if let Some(paths) = &self.paths {
            let path = request.path.split('?').next().unwrap_or_default();
            if !paths.iter().any(|served| served == path) {
                return Err(HandshakeError::NotFound);
            }
        }
        super::origin::check(self, request)?;
        let protocol = self
            .protocols
            .iter()
            .find(|ours| request.protocols.contains(ours))
            .cloned();
        Ok(Accept {
            protocol,
            extensions: None,
            headers: self.headers.clone(),
        })
    }
}

/// Writes headers already checked by `check_headers`.
fn write_extra_headers(out: &mut Vec<u8>, headers: &[(String, String)]) {
    for (name, value) in headers {
        write_header(out, name, value.as_bytes());
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

    fn receive(head: &[u8]) -> Result<Option<Request>, HandshakeError> {
        ServerHandshake::new(&Config::default()).receive(&mut BytesMut::from(head))
    }

    fn with(from: &str, to: &str) -> Vec<u8> {
        let text = core::str::from_utf8(RFC_REQUEST).unwrap();
        assert!(text.contains(from), "{from}");
        text.replacen(from, to, 1).into_bytes()
    }

    #[test]
    fn non_http_bytes_are_rejected_before_the_head_ends() {
        // The start of a TLS ClientHello, and a line starting with a space.
        assert_eq!(
            receive(&[0x16, 0x03, 0x01, 0x02]).unwrap_err(),
            HandshakeError::Malformed
        );
        assert_eq!(
            receive(b" GET / HTTP/1.1\r\n").unwrap_err(),
            HandshakeError::Malformed
        );
        // Every prefix of a real request, and leading empty lines, may still grow.
        for n in 0..RFC_REQUEST.len() {
            assert_eq!(receive(&RFC_REQUEST[..n]), Ok(None), "at {n}");
        }
        assert_eq!(receive(b"\r\nGE"), Ok(None));
    }

    #[test]
    fn rfc6455_section_1_3_request_and_response() {
        let request = receive(RFC_REQUEST).unwrap().unwrap();
        assert_eq!(request.path, "/chat");
        assert_eq!(request.protocols, ["chat", "superchat"]);
        assert_eq!(request.origin.as_deref(), Some("http://example.com"));
        let policy = ServerPolicy {
            protocols: alloc::vec!["chat".into()],
            ..Default::default()
        };
        let response = request.accept(&policy.decide(&request).unwrap()).unwrap();
        assert_eq!(
            response,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        );
    }

    #[test]
    fn fed_one_byte_at_a_time_leaves_the_bytes_after_the_head() {
        let mut wire = RFC_REQUEST.to_vec();
        wire.extend_from_slice(b"\x81\x80abcd");
        let mut handshake = ServerHandshake::new(&Config::default());
        let mut input = BytesMut::new();
        let mut result = None;
        for &byte in &wire {
            input.extend_from_slice(&[byte]);
            if result.is_none() {
                result = handshake.receive(&mut input).unwrap();
            }
        }
        assert_eq!(result.unwrap().key.unwrap(), "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(&input[..], b"\x81\x80abcd");
    }

    #[test]
    fn each_rule_has_its_status() {
        let status = |head: Vec<u8>| receive(&head).unwrap_err().http_status().unwrap();
        assert_eq!(status(with("GET", "POST")), 405);
        assert_eq!(status(with("HTTP/1.1", "HTTP/1.0")), 400);
        assert_eq!(status(with("Host: server.example.com\r\n", "")), 400);
        assert_eq!(status(with("Upgrade: websocket", "Upgrade: h2c")), 400);
        assert_eq!(
            status(with("Connection: Upgrade", "Connection: close")),
            400
        );
        assert_eq!(
            status(with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")),
            400
        );
        assert_eq!(
            status(with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ==")),
            400
        );
        assert_eq!(
            status(with(
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            )),
            400
        );
        assert_eq!(status(with("Version: 13", "Version: 8")), 426);
        assert_eq!(status(with("chat, superchat", "chat, chat")), 400);
        let long_path = alloc::format!("GET /{}", "a".repeat(9000));
        assert_eq!(status(with("GET /chat", &long_path)), 414);
        let many: String = (0..101).map(|i| alloc::format!("X-{i}: y\r\n")).collect();
        assert_eq!(status(with("Origin", &(many + "Origin"))), 431);
        let big = alloc::format!("X-Big: {}\r\nOrigin", "b".repeat(17000));
        assert_eq!(status(with("Origin", &big)), 431);
    }

    #[test]
    fn tokens_are_case_insensitive_and_lists_are_split() {
        let head = with("Connection: Upgrade", "Connection: keep-alive, UPGRADE");
        let head = String::from_utf8(head)
            .unwrap()
            .replace("Upgrade: websocket", "upgrade: WebSocket");
        assert!(receive(head.as_bytes()).unwrap().is_some());
    }

    #[test]
    fn version_426_names_the_version_we_speak() {
        let response = Reject::from(&HandshakeError::UnsupportedVersion)
            .to_bytes()
            .unwrap();
        let text = String::from_utf8(response).unwrap();
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    }

    #[test]
    fn paths_outside_the_list_get_404_first() {
        let served = |paths: &[&str], head: &[u8]| {
            let request = receive(head).unwrap().unwrap();
            let policy = ServerPolicy {
                paths: Some(paths.iter().map(|p| (*p).into()).collect()),
                // Would refuse with 403: the path is checked first.
                require_origin: true,
                ..Default::default()
            };
            policy.decide(&request).map(|_| ())
        };
        let no_origin = with("Origin: http://example.com\r\n", "");
        assert_eq!(
            served(&["/other"], RFC_REQUEST),
            Err(HandshakeError::NotFound)
        );
        assert_eq!(
            served(&["/chat", "/x"], &no_origin),
            Err(HandshakeError::MissingOrigin)
        );
        assert_eq!(served(&["/chat"], RFC_REQUEST), Ok(()));
        let query = with("GET /chat ", "GET /chat?room=1 ");
        assert_eq!(served(&["/chat"], &query), Ok(()));
        let longer = with("GET /chat ", "GET /chat/more ");
        assert_eq!(served(&["/chat"], &longer), Err(HandshakeError::NotFound));
        assert_eq!(HandshakeError::NotFound.http_status(), Some(404));
    }

    #[test]
    fn origin_policy() {
        let request = receive(RFC_REQUEST).unwrap().unwrap();
        let policy = ServerPolicy {
            allowed_origins: Some(alloc::vec!["http://other.com".into()]),
            ..Default::default()
        };
        assert_eq!(
            policy.decide(&request),
            Err(HandshakeError::OriginNotAllowed)
        );
        let policy = ServerPolicy {
            allowed_origins: Some(alloc::vec!["HTTP://EXAMPLE.COM".into()]),
            ..Default::default()
        };
        assert!(policy.decide(&request).is_ok());
    }

    #[test]
    fn origin_same_host_and_required() {
        let request = receive(RFC_REQUEST).unwrap().unwrap(); // Origin http://example.com
        let mut policy = ServerPolicy {
            same_host_origin: true,
            ..Default::default()
        };
        // The request went to server.example.com: another host.
        assert_eq!(
            policy.decide(&request),
            Err(HandshakeError::OriginNotAllowed)
        );
        let own = receive(&with(
            "Origin: http://example.com",
            "Origin: http://server.example.com",
        ))
        .unwrap()
        .unwrap();
        assert!(policy.decide(&own).is_ok());
        // With a list: the list as well as the own host.
        policy.allowed_origins = Some(alloc::vec!["http://example.com".into()]);
        assert!(policy.decide(&request).is_ok() && policy.decide(&own).is_ok());
        // No Origin: accepted, unless required.
        let none = receive(&with("Origin: http://example.com\r\n", ""))
            .unwrap()
            .unwrap();
        assert!(policy.decide(&none).is_ok());
        policy.require_origin = true;
        let refused = policy.decide(&none).unwrap_err();
        assert_eq!(
            (refused.clone(), refused.http_status()),
            (HandshakeError::MissingOrigin, Some(403))
        );
    }

    #[test]
    fn a_lone_lf_is_refused_so_no_reader_sees_other_headers() {
        // Regression (found by the server_policy fuzz target): a blank line
        // written as CRLF LF ended the head for httparse, which then read
        // one Origin, while the head ran on to CRLF CRLF with a second
        // Origin a CRLF-only reader (a proxy in front) would see.
        let smuggled = with(
            "Origin: http://example.com\r\n",
            "Origin: http://example.com\r\n\nOrigin: http://evil.com\r\n",
        );
        assert_eq!(receive(&smuggled), Err(HandshakeError::Malformed));
        // A lone LF inside the head: one header to some readers, two to
        // others.
        let folded = with(
            "Origin: http://example.com\r\n",
            "Origin: http://example.com\nOrigin: http://evil.com\r\n",
        );
        assert_eq!(receive(&folded), Err(HandshakeError::Malformed));
        assert_eq!(
            HandshakeError::Malformed.http_status(),
            Some(400),
            "refused with 400"
        );
    }

    #[test]
    fn a_repeated_origin_is_refused_not_read_as_none() {
        // Regression: two Origin headers used to parse as no Origin, and a
        // request without Origin passes the allow-list.
        let twice = with(
            "Origin: http://example.com\r\n",
            "Origin: http://evil.com\r\nOrigin: http://evil.com\r\n",
        );
        let error = receive(&twice).unwrap_err();
        assert_eq!(error, HandshakeError::RepeatedOrigin);
        assert_eq!(error.http_status(), Some(400));
        let split = with(
            "Origin: http://example.com\r\n",
            "origin: http://example.com\r\nORIGIN: http://evil.com\r\n",
        );
        assert_eq!(receive(&split), Err(HandshakeError::RepeatedOrigin));
    }

    #[test]
    fn answers_that_would_break_the_response_head_are_refused() {
        // Regression: extensions were written unchecked and unsafe headers
        // were dropped without a word.
        let request = receive(RFC_REQUEST).unwrap().unwrap();
        let accept = |f: fn(&mut Accept)| {
            let mut accept = Accept::default();
            f(&mut accept);
            request.accept(&accept)
        };
        assert_eq!(
            accept(|a| a.extensions = Some("x\r\nSet-Cookie: evil".into())),
            Err(InvalidField::Extension("x\r\nSet-Cookie: evil".into()))
        );
        assert_eq!(
            accept(|a| a.protocol = Some("chat\r\nX: y".into())),
            Err(InvalidField::Protocol("chat\r\nX: y".into()))
        );
        assert_eq!(
            accept(|a| a.headers = alloc::vec![("X-Bad".into(), "a\r\nSet-Cookie: x".into())]),
            Err(InvalidField::HeaderValue("X-Bad".into()))
        );
        assert!(accept(|a| a.headers = alloc::vec![("X-Ok".into(), "1".into())]).is_ok());
        let mut reject = Reject::status(401);
        reject
            .headers
            .push(("WWW-Authenticate".into(), "Basic\nX: y".into()));
        assert_eq!(
            reject.to_bytes(),
            Err(InvalidField::HeaderValue("WWW-Authenticate".into()))
        );
        assert_eq!(
            Reject::status(200).to_bytes(),
            Err(InvalidField::Status(200))
        );
    }
}
