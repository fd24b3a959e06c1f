//! The transport-neutral server handshake (`Request::from_head`), fed any
//! method, version, `:protocol` and header fields, as hyper or an HTTP/3
//! stack would hand them over: never panics; every valid request gets a
//! writable answer under a policy, and a connection that opens; every
//! refusal can be written for its HTTP version.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::deflate::DeflateConfig;
use sockweave::handshake::{Header, HttpVersion, Reject, Request, RequestHead};
use sockweave::{Config, Connection, Instant, ServerPolicy};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let version = match selector & 3 {
        0 => HttpVersion::Http10,
        1 => HttpVersion::Http11,
        2 => HttpVersion::Http2,
        _ => HttpVersion::Http3,
    };
    let method = match (selector >> 2) & 3 {
        0 => "GET",
        1 => "CONNECT",
        2 => "POST",
        _ => "get",
    };
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.split('\n');
    let protocol = lines.next().filter(|p| !p.is_empty());
    let authority = if selector & 0x10 != 0 {
        Some("example.com")
    } else {
        None
    };
    let headers: Vec<Header> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| Header {
            name: name.trim().into(),
            value: value.trim().as_bytes().to_vec(),
        })
        .collect();
    let head = RequestHead {
        method,
        version,
        protocol,
        target: "/chat",
        authority,
        headers,
    };
    let wants = head.wants_websocket();
    match Request::from_head(head) {
        Ok(request) => {
            assert!(wants, "a valid request asks for a WebSocket");
            assert_eq!(request.key.is_some(), version == HttpVersion::Http11);
            let mut policy = ServerPolicy::default();
            policy.protocols = vec!["chat".into(), "superchat".into()];
            policy.allowed_origins = Some(vec!["https://good.example".into()]);
            match policy.decide(&request) {
                Ok(accept) => {
                    let mut config = Config::default();
                    config.deflate = Some(DeflateConfig::default());
                    let (conn, head) =
                        Connection::upgraded(&request, accept, config, Instant::ZERO)
                            .expect("the policy's own answer can be written");
                    assert_eq!(head.status == 101, version == HttpVersion::Http11);
                    assert!(
                        conn.protocol()
                            .is_none_or(|p| request.protocols.iter().any(|o| o == p))
                    );
                }
                Err(e) => {
                    Reject::for_version(&e, version)
                        .to_bytes()
                        .expect("a refusal can be written");
                }
            }
        }
        Err(e) => {
            assert!(e.http_status().is_some());
            Reject::for_version(&e, version)
                .to_bytes()
                .expect("a refusal can be written");
        }
    }
});
