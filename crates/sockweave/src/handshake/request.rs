//! The server's rules for an opening handshake request, whoever parsed it:
//! our own HTTP/1.1 reader ([`super::ServerHandshake`]) or an HTTP server
//! such as hyper, over HTTP/1.1 (RFC 6455 §4.2.1), HTTP/2 (RFC 8441 §4–5)
//! or HTTP/3 (RFC 9220, the same rules as HTTP/2). One set of rules, so the
//! same request gets the same answer on every path.

use super::field::InvalidField;
use super::{
    Accept, HandshakeError, Header, MAX_OFFERS, accept_key, has_token, is_token, is_valid_key,
    list_values, single_value,
};
use alloc::string::String;
use alloc::vec::Vec;

/// The HTTP version a request came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTP/1.0 (refused: WebSocket needs HTTP/1.1 or later).
    Http10,
    /// HTTP/1.1: a `GET` with `Upgrade: websocket`, answered `101`.
    Http11,
    /// HTTP/2: an extended `CONNECT` with `:protocol websocket` (RFC 8441),
    /// answered `200`.
    Http2,
    /// HTTP/3: as HTTP/2 (RFC 9220).
    Http3,
}

impl HttpVersion {
    /// Whether requests come as extended `CONNECT` (HTTP/2 and HTTP/3)
    /// rather than as HTTP/1.1 upgrades.
    pub fn is_extended_connect(self) -> bool {
        matches!(self, Self::Http2 | Self::Http3)
    }
}

/// A request head as an HTTP implementation parsed it: the input of
/// [`Request::from_head`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// The method: `GET` (HTTP/1.1) or `CONNECT` (HTTP/2, HTTP/3).
    pub method: &'a str,
    /// The version the request came over.
    pub version: HttpVersion,
    /// The `:protocol` pseudo-header (HTTP/2, HTTP/3), if present.
    pub protocol: Option<&'a str>,
    /// The request target: path and query (`:path`).
    pub target: &'a str,
    /// The `:authority` pseudo-header (HTTP/2, HTTP/3), if present; the
    /// `Host` header stands in for it when absent.
    pub authority: Option<&'a str>,
    /// The header fields, pseudo-headers excluded.
    pub headers: Vec<Header>,
}

impl RequestHead<'_> {
    /// Whether the request asks for a WebSocket at all: an HTTP/1.1
    /// request with an `Upgrade: websocket` token, or an HTTP/2 or HTTP/3
    /// `CONNECT` with `:protocol websocket`. Cheap, for routing; whether
    /// the request is a valid one is [`Request::from_head`]'s answer.
    pub fn wants_websocket(&self) -> bool {
        if self.version.is_extended_connect() {
            self.method == "CONNECT"
                && self
                    .protocol
                    .is_some_and(|p| p.eq_ignore_ascii_case("websocket"))
        } else {
            has_token(&self.headers, "upgrade", "websocket")
        }
    }
}

/// A valid opening handshake request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The version it came over, which decides the shape of the answer.
    pub version: HttpVersion,
    /// Request target: path and query.
    pub path: String,
    /// The `Host` header (HTTP/1.1) or `:authority` (HTTP/2, HTTP/3).
    pub host: String,
    /// The `Sec-WebSocket-Key` (HTTP/1.1 only: RFC 8441 §5 drops it).
    pub key: Option<String>,
    /// Subprotocols offered, in the client's order of preference.
    pub protocols: Vec<String>,
    /// Extensions offered, one entry per comma-separated offer.
    pub extensions: Vec<String>,
    /// The `Origin` header, sent by browsers.
    pub origin: Option<String>,
    /// All headers, as received.
    pub headers: Vec<Header>,
}

/// The head of an accepting response, for any HTTP version: `101` with
/// `Upgrade`, `Connection` and `Sec-WebSocket-Accept` for HTTP/1.1, `200`
/// with neither an accept key nor a `Content-Length` for HTTP/2 and
/// HTTP/3 (RFC 8441 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The header fields, in order.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Checks a request parsed elsewhere against RFC 6455 §4.2.1 (HTTP/1.1)
    /// or RFC 8441 §4–5 (HTTP/2, and HTTP/3 per RFC 9220). An `Err`
    /// carries the status to refuse with ([`super::Reject::for_version`]).
    ///
    /// The Origin and subprotocol policy is not applied here: that is
    /// [`super::ServerPolicy::decide`], the same on every path.
    pub fn from_head(head: RequestHead<'_>) -> Result<Self, HandshakeError> {
        let RequestHead {
            method,
            version,
            protocol,
            target,
            authority,
            headers,
        } = head;
        let key = match version {
            // The method first: a POST is 405 whatever else it lacks.
            HttpVersion::Http10 | HttpVersion::Http11 if method != "GET" => {
                return Err(HandshakeError::MethodNotAllowed);
            }
            HttpVersion::Http10 => return Err(HandshakeError::HttpVersion),
            HttpVersion::Http11 => {
                if !has_token(&headers, "upgrade", "websocket") {
                    return Err(HandshakeError::MissingUpgrade);
                }
                if !has_token(&headers, "connection", "upgrade") {
                    return Err(HandshakeError::MissingConnection);
                }
                match single_value(&headers, "sec-websocket-key") {
                    Ok(Some(key)) if is_valid_key(key) => {
                        Some(String::from_utf8_lossy(key).into_owned())
                    }
                    _ => return Err(HandshakeError::InvalidKey),
                }
            }
            HttpVersion::Http2 | HttpVersion::Http3 => {
                if method != "CONNECT" {
                    return Err(HandshakeError::MethodNotAllowed);
                }
                // A CONNECT without `:protocol websocket` is a plain tunnel
                // request (or another protocol's), not ours (§4).
                if !protocol.is_some_and(|p| p.eq_ignore_ascii_case("websocket")) {
                    return Err(HandshakeError::MissingUpgrade);
                }
                None
            }
        };
        // HTTP/2 names the host in `:authority`; `Host` stands in for it,
        // and is the only place for it in HTTP/1.1.
        let host = match (authority, single_value(&headers, "host")) {
            (Some(authority), _) if !authority.is_empty() => String::from(authority),
            (_, Ok(Some(host))) if !host.is_empty() => String::from_utf8_lossy(host).into_owned(),
            _ => return Err(HandshakeError::MissingHost),
        };
        match single_value(&headers, "sec-websocket-version") {
            Ok(Some(b"13")) => {}
            _ => return Err(HandshakeError::UnsupportedVersion),
        }
        let protocols = offered_protocols(&headers)?;
        let extensions: Vec<String> = list_values(&headers, "sec-websocket-extensions")
            .take(MAX_OFFERS + 1)
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
        if extensions.len() > MAX_OFFERS {
            return Err(HandshakeError::TooManyOffers);
        }
        // Two Origin headers must not read as none: that would let a refused
        // origin past the allow-list (RFC 6454 §7.3 allows one Origin field).
        let origin = single_value(&headers, "origin")
            .map_err(|()| HandshakeError::RepeatedOrigin)?
            .map(|o| String::from_utf8_lossy(o).into_owned());
        Ok(Self {
            version,
            path: if target.is_empty() { "/" } else { target }.into(),
            host,
            key,
            protocols,
            extensions,
            origin,
            headers,
        })
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// The head of the response accepting this request, shaped for its
    /// HTTP version, or why `accept` cannot be written ([`Accept::check`]).
    pub fn response(&self, accept: &Accept) -> Result<ResponseHead, InvalidField> {
        accept.check()?;
        let mut headers: Vec<(String, String)> = Vec::with_capacity(4 + accept.headers.len());
        let status = match &self.key {
            Some(key) if self.version == HttpVersion::Http11 => {
                headers.push(("Upgrade".into(), "websocket".into()));
                headers.push(("Connection".into(), "Upgrade".into()));
                let accept_key = accept_key(key.as_bytes());
                // The accept key is base64: ASCII.
                let accept_key = String::from_utf8_lossy(&accept_key).into_owned();
                headers.push(("Sec-WebSocket-Accept".into(), accept_key));
                101
            }
            _ => 200,
        };
        if let Some(protocol) = &accept.protocol {
            headers.push(("Sec-WebSocket-Protocol".into(), protocol.clone()));
        }
        if let Some(extensions) = &accept.extensions {
            headers.push(("Sec-WebSocket-Extensions".into(), extensions.clone()));
        }
        headers.extend(accept.headers.iter().cloned());
        Ok(ResponseHead { status, headers })
    }
}

/// The offered subprotocols, in order; each a token and none twice (400).
/// Duplicates are found by sorting, O(n log n): a hostile offer of
/// thousands of names costs little more than reading them (the pairwise
/// check it replaces was quadratic).
fn offered_protocols(headers: &[Header]) -> Result<Vec<String>, HandshakeError> {
    let mut protocols: Vec<String> = Vec::new();
    for offered in list_values(headers, "sec-websocket-protocol") {
        if protocols.len() == MAX_OFFERS {
            return Err(HandshakeError::TooManyOffers);
        }
        let offered = core::str::from_utf8(offered).map_err(|_| HandshakeError::InvalidProtocol)?;
        if !is_token(offered) {
            return Err(HandshakeError::InvalidProtocol);
        }
        protocols.push(offered.into());
    }
    let mut sorted: Vec<&str> = protocols.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(HandshakeError::InvalidProtocol);
    }
    Ok(protocols)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::{Reject, ServerHandshake, ServerPolicy};
    use alloc::vec;

    fn header(name: &str, value: &str) -> Header {
        Header {
            name: name.into(),
            value: value.as_bytes().to_vec(),
        }
    }

    /// What Node's http2 client or Chromium sends (RFC 8441 §5's example).
    fn h2_head(headers: Vec<Header>) -> RequestHead<'static> {
        RequestHead {
            method: "CONNECT",
            version: HttpVersion::Http2,
            protocol: Some("websocket"),
            target: "/chat",
            authority: Some("server.example.com"),
            headers,
        }
    }

    fn h2_headers() -> Vec<Header> {
        vec![
            header("sec-websocket-protocol", "chat, superchat"),
            header("sec-websocket-extensions", "permessage-deflate"),
            header("sec-websocket-version", "13"),
            header("origin", "http://www.example.com"),
        ]
    }

    #[test]
    fn rfc8441_section_5_request_and_response() {
        let request = Request::from_head(h2_head(h2_headers())).unwrap();
        assert_eq!(request.version, HttpVersion::Http2);
        assert_eq!(request.host, "server.example.com");
        assert_eq!(request.path, "/chat");
        assert_eq!(request.key, None);
        assert_eq!(request.protocols, ["chat", "superchat"]);
        assert_eq!(request.origin.as_deref(), Some("http://www.example.com"));
        let policy = ServerPolicy {
            protocols: vec!["chat".into()],
            ..Default::default()
        };
        let head = request.response(&policy.decide(&request).unwrap()).unwrap();
        // 200, no Sec-WebSocket-Accept, no Upgrade/Connection, no length.
        assert_eq!(head.status, 200);
        assert_eq!(
            head.headers,
            [("Sec-WebSocket-Protocol".into(), "chat".into())]
        );
    }

    #[test]
    fn rfc8441_rules_each_have_their_status() {
        let status = |head: RequestHead<'_>| {
            let error = Request::from_head(head).unwrap_err();
            (error.clone(), error.http_status().unwrap())
        };
        let mut get = h2_head(h2_headers());
        get.method = "GET";
        assert_eq!(status(get), (HandshakeError::MethodNotAllowed, 405));
        // A CONNECT without :protocol, or for another protocol.
        let mut plain = h2_head(h2_headers());
        plain.protocol = None;
        assert_eq!(status(plain), (HandshakeError::MissingUpgrade, 400));
        let mut other = h2_head(h2_headers());
        other.protocol = Some("webtransport");
        assert_eq!(status(other), (HandshakeError::MissingUpgrade, 400));
        let mut no_version = h2_headers();
        no_version.retain(|h| h.name != "sec-websocket-version");
        assert_eq!(
            status(h2_head(no_version)),
            (HandshakeError::UnsupportedVersion, 426)
        );
        let mut old_version = h2_headers();
        old_version.push(header("sec-websocket-version", "8"));
        assert_eq!(
            status(h2_head(old_version)),
            (HandshakeError::UnsupportedVersion, 426)
        );
        let mut no_authority = h2_head(h2_headers());
        no_authority.authority = None;
        assert_eq!(status(no_authority), (HandshakeError::MissingHost, 400));
        let mut twice = h2_headers();
        twice.push(header("origin", "http://evil.example"));
        assert_eq!(
            status(h2_head(twice)),
            (HandshakeError::RepeatedOrigin, 400)
        );
        let mut repeated = h2_headers();
        repeated.push(header("sec-websocket-protocol", "chat"));
        assert_eq!(
            status(h2_head(repeated)),
            (HandshakeError::InvalidProtocol, 400)
        );
        // Offers are capped in count (64 each), so a request full of
        // names costs what reading it costs.
        let names: Vec<String> = (0..=MAX_OFFERS).map(|i| alloc::format!("p{i}")).collect();
        let mut many = h2_headers();
        many.push(header(
            "sec-websocket-protocol",
            &names[1..MAX_OFFERS - 1].join(","),
        ));
        assert!(Request::from_head(h2_head(many)).is_ok(), "64 in all");
        let mut too_many = h2_headers();
        too_many.push(header("sec-websocket-protocol", &names[1..].join(",")));
        assert_eq!(
            status(h2_head(too_many)),
            (HandshakeError::TooManyOffers, 400)
        );
        let mut extensions = h2_headers();
        extensions.push(header("sec-websocket-extensions", &names.join(",")));
        assert_eq!(
            status(h2_head(extensions)),
            (HandshakeError::TooManyOffers, 400)
        );
        // HTTP/3 follows the same rules (RFC 9220).
        let mut h3 = h2_head(h2_headers());
        h3.version = HttpVersion::Http3;
        assert!(Request::from_head(h3).is_ok());
        // No key is needed, and one sent is ignored.
        let mut with_key = h2_headers();
        with_key.push(header("sec-websocket-key", "not base64"));
        assert!(Request::from_head(h2_head(with_key)).is_ok());
    }

    #[test]
    fn refusals_over_http2_carry_no_connection_specific_fields() {
        let reject = Reject::for_version(&HandshakeError::UnsupportedVersion, HttpVersion::Http2);
        assert_eq!(
            reject.headers,
            [("Sec-WebSocket-Version".into(), "13".into())]
        );
        let reject = Reject::for_version(&HandshakeError::MethodNotAllowed, HttpVersion::Http2);
        assert_eq!(reject.headers, [("Allow".into(), "CONNECT".into())]);
        let reject = Reject::for_version(&HandshakeError::MethodNotAllowed, HttpVersion::Http11);
        assert_eq!(reject.headers, [("Allow".into(), "GET".into())]);
    }

    #[test]
    fn origin_policy_applies_whoever_parsed_the_request() {
        let policy = ServerPolicy {
            allowed_origins: Some(vec!["https://good.example".into()]),
            ..Default::default()
        };
        let request = Request::from_head(h2_head(h2_headers())).unwrap();
        assert_eq!(
            policy.decide(&request),
            Err(HandshakeError::OriginNotAllowed)
        );
    }

    /// The decision for an HTTP/1.1 request: through our own reader, and
    /// through `from_head` as an HTTP server that parsed it would call it.
    fn both_paths(
        wire: &[u8],
    ) -> (
        Result<Request, HandshakeError>,
        Result<Request, HandshakeError>,
    ) {
        let ours = ServerHandshake::new(&crate::Config::default())
            .receive(&mut bytes::BytesMut::from(wire))
            .map(|r| r.expect("a whole head"));
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut slots);
        assert!(parsed.parse(wire).unwrap().is_complete());
        let elsewhere = Request::from_head(RequestHead {
            method: parsed.method.unwrap(),
            version: match parsed.version {
                Some(1) => HttpVersion::Http11,
                _ => HttpVersion::Http10,
            },
            protocol: None,
            target: parsed.path.unwrap(),
            authority: None,
            headers: parsed
                .headers
                .iter()
                .map(|h| Header {
                    name: h.name.into(),
                    value: h.value.to_vec(),
                })
                .collect(),
        });
        (ours, elsewhere)
    }

    mod proptests {
        use super::*;
        use alloc::string::ToString;
        use proptest::prelude::*;

        /// Pieces of a request: each is present, absent, doubled or
        /// altered, so every rule is hit alone and in combination.
        fn line(
            name: &'static str,
            good: &'static str,
            bad: &'static str,
        ) -> BoxedStrategy<String> {
            prop_oneof![
                Just(alloc::format!("{name}: {good}\r\n")),
                Just(String::new()),
                Just(alloc::format!("{name}: {bad}\r\n")),
                Just(alloc::format!("{name}: {good}\r\n{name}: {good}\r\n")),
            ]
            .boxed()
        }

        proptest! {
            #[test]
            fn both_paths_give_the_same_decision(
                method in prop_oneof![Just("GET"), Just("POST"), Just("CONNECT")],
                version in prop_oneof![Just("1.1"), Just("1.0")],
                host in line("Host", "example.com", ""),
                upgrade in line("Upgrade", "websocket", "h2c"),
                connection in line("Connection", "keep-alive, Upgrade", "close"),
                key in line("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "short"),
                ws_version in line("Sec-WebSocket-Version", "13", "8"),
                protocol in line("Sec-WebSocket-Protocol", "chat, superchat", "a b"),
                origin in line("Origin", "https://good.example", "https://evil.example"),
                extensions in line("Sec-WebSocket-Extensions", "permessage-deflate", "x"),
            ) {
                let wire = alloc::format!(
                    "{method} /chat HTTP/{version}\r\n{host}{upgrade}{connection}{key}{ws_version}\
                     {protocol}{origin}{extensions}\r\n"
                );
                let (ours, elsewhere) = both_paths(wire.as_bytes());
                prop_assert_eq!(&ours, &elsewhere);
                let policy = ServerPolicy {
                    protocols: vec!["superchat".to_string()],
                    allowed_origins: Some(vec!["https://good.example".to_string()]),
                    ..Default::default()
                };
                if let (Ok(a), Ok(b)) = (&ours, &elsewhere) {
                    prop_assert_eq!(policy.decide(a), policy.decide(b));
                }
            }
        }
    }
}
