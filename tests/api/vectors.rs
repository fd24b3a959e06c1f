//! Recorded transcripts from `tests/vectors/`, fed whole and byte by byte.

use sockweave::handshake::ServerHandshake;
use sockweave::{BytesMut, Config};

const REQUEST: &[u8] = include_bytes!("../vectors/rfc6455-1.3-request.http");
const RESPONSE: &[u8] = include_bytes!("../vectors/rfc6455-1.3-response.http");
const CHROMIUM: &[u8] = include_bytes!("../vectors/chromium-request.http");

#[test]
fn rfc_request_gets_the_rfc_response() {
    let request = ServerHandshake::new(&Config::default())
        .receive(&mut BytesMut::from(REQUEST))
        .unwrap()
        .unwrap();
    let mut policy = sockweave::ServerPolicy::default();
    policy.protocols = vec!["chat".into()];
    assert_eq!(
        request.accept(&policy.decide(&request).unwrap()).unwrap(),
        RESPONSE
    );
}

#[test]
fn a_browser_request_byte_by_byte() {
    let mut handshake = ServerHandshake::new(&Config::default());
    let mut input = BytesMut::new();
    let mut request = None;
    for b in CHROMIUM {
        input.extend_from_slice(&[*b]);
        if let Some(r) = handshake.receive(&mut input).unwrap() {
            request = Some(r);
        }
    }
    let request = request.expect("complete request");
    assert_eq!(
        request.extensions,
        ["permessage-deflate; client_max_window_bits"]
    );
    assert_eq!(request.origin.as_deref(), Some("http://127.0.0.1:8000"));
    assert!(input.is_empty());
}
