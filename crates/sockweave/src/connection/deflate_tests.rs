//! permessage-deflate through whole connections: negotiation, the data
//! path both ways, limits and violations.

use super::test_support::*;
use super::*;
use crate::deflate::{Compression, DeflateConfig};
use crate::error::ProtocolError;
use crate::frame::{FrameHeader, encode_frame};
use crate::handshake::ClientRequest;
use crate::message::Message;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

fn with_deflate(deflate: Option<DeflateConfig>) -> Config {
    Config {
        deflate,
        ..Config::default()
    }
}

/// A client and a server, handshake done; the server's and the client's
/// `Open` events.
fn pair(client: Config, server: Config) -> (Connection, Connection, Negotiated, Negotiated) {
    let request = ClientRequest::new("ws://h/").unwrap();
    let mut c = Connection::client(&request, client, |b: &mut [u8]| b.fill(0), T0).unwrap();
    let mut s = Connection::server(ServerPolicy::default(), server, T0).unwrap();
    let server_open = match deliver(&mut s, &wire(&mut c)).as_slice() {
        [Event::Open(open)] => open.clone(),
        other => panic!("{other:?}"),
    };
    let client_open = match deliver(&mut c, &wire(&mut s)).as_slice() {
        [Event::Open(open)] => open.clone(),
        other => panic!("{other:?}"),
    };
    (c, s, server_open, client_open)
}

fn corpus() -> Vec<Message> {
    let prose = "permessage-deflate across a whole connection — ünïcödé 🦀. ".repeat(300);
    let noise: Vec<u8> = (0..40_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    vec![
        Message::from(""),
        Message::from("hi"),
        Message::from(prose.as_str()),
        Message::Binary(Bytes::from(noise)),
        Message::Binary(Bytes::from(vec![0u8; 200_000])),
        Message::from(prose.as_str()),
    ]
}

/// Sends every message of the corpus from `from` to `to`, whole and in
/// pieces, and checks what arrives.
fn exchange(from: &mut Connection, to: &mut Connection) {
    for message in corpus() {
        from.send(message.clone()).unwrap();
        assert_eq!(deliver(to, &wire(from)), [Event::Message(message.clone())]);
        // In pieces of 7,001 bytes (text pieces on char boundaries).
        let bytes = message.as_bytes();
        let mut cuts: Vec<usize> = (0..bytes.len()).step_by(7001).collect();
        if let Message::Text(text) = &message {
            for cut in &mut cuts {
                while !text.as_str().is_char_boundary(*cut) {
                    *cut += 1;
                }
            }
        }
        cuts.push(bytes.len());
        cuts.dedup();
        if cuts.len() < 2 {
            cuts.insert(0, 0);
        }
        for window in cuts.windows(2) {
            let piece = &bytes[window[0]..window[1]];
            let piece = match message.kind() {
                MessageKind::Text => Message::from(core::str::from_utf8(piece).unwrap()),
                MessageKind::Binary => Message::Binary(Bytes::copy_from_slice(piece)),
            };
            from.send_fragment(piece, window[1] == bytes.len()).unwrap();
        }
        assert_eq!(deliver(to, &wire(from)), [Event::Message(message)]);
    }
}

#[test]
fn negotiated_both_ways_and_messages_round_trip() {
    let on = with_deflate(Some(DeflateConfig::default()));
    let (mut c, mut s, server_open, client_open) = pair(on.clone(), on);
    assert_eq!(
        server_open.extensions.as_deref(),
        Some("permessage-deflate")
    );
    assert_eq!(client_open.extensions, server_open.extensions);
    assert_eq!(c.extensions(), Some("permessage-deflate"));
    exchange(&mut c, &mut s);
    exchange(&mut s, &mut c);
}

#[test]
fn every_negotiated_combination_round_trips() {
    let configs = |windows: &[u8]| {
        let mut out = Vec::new();
        for &bits in windows {
            for &peer_bits in windows {
                for flags in 0..4u8 {
                    out.push(DeflateConfig {
                        no_context_takeover: flags & 1 != 0,
                        peer_no_context_takeover: flags & 2 != 0,
                        max_window_bits: bits,
                        peer_max_window_bits: peer_bits,
                        threshold: 0,
                        compression: Compression {
                            release: bits == 12,
                            ..Compression::default()
                        },
                    });
                }
            }
        }
        out
    };
    for client in configs(&[8, 15]) {
        for server in configs(&[9, 12, 15]) {
            let (mut c, mut s, open, _) =
                pair(with_deflate(Some(client)), with_deflate(Some(server)));
            let agreed = open.extensions.clone().unwrap();
            for _ in 0..2 {
                for message in [&corpus()[2], &corpus()[3]] {
                    c.send(message.clone()).unwrap();
                    let got = deliver(&mut s, &wire(&mut c));
                    assert!(
                        got == [Event::Message(message.clone())],
                        "client {client:?} server {server:?}: {agreed}"
                    );
                    s.send(message.clone()).unwrap();
                    let got = deliver(&mut c, &wire(&mut s));
                    assert!(
                        got == [Event::Message(message.clone())],
                        "server to client, {agreed}"
                    );
                }
            }
        }
    }
}

#[test]
fn streaming_mode_hands_on_inflated_pieces() {
    let on = Some(DeflateConfig::default());
    let streaming = Config {
        streaming: true,
        ..with_deflate(on)
    };
    let (mut c, mut s, _, _) = pair(with_deflate(on), streaming);
    let message = "ü".repeat(100_000);
    c.send(message.as_str()).unwrap();
    let bytes = wire(&mut c);
    // Arrives in reads of 1,000 bytes; pieces are valid UTF-8 on their own.
    let mut input = BytesMut::new();
    let mut text = String::new();
    let mut last = false;
    for read in bytes.chunks(1000) {
        input.extend_from_slice(read);
        s.receive(&mut input, T0);
        for event in events(&mut s) {
            let Event::Fragment(piece) = event else {
                panic!("{event:?}")
            };
            text.push_str(core::str::from_utf8(&piece.data).unwrap());
            last = piece.last;
        }
    }
    assert!(last);
    assert!(text == message);
}

#[test]
fn only_messages_at_or_above_the_threshold_are_compressed() {
    let on = with_deflate(Some(DeflateConfig {
        threshold: 10,
        ..DeflateConfig::default()
    }));
    let (mut c, mut s, _, _) = pair(on.clone(), on);
    s.send("123456789").unwrap();
    assert_eq!(wire(&mut s)[0], 0x81, "short: no RSV1");
    s.send("1234567890").unwrap();
    let bytes = wire(&mut s);
    assert_eq!(bytes[0], 0xc1, "RSV1 on a compressed message");
    assert_eq!(
        deliver(&mut c, &bytes),
        [Event::Message("1234567890".into())]
    );
    // Fragments: RSV1 on the first frame only.
    s.send_fragment("first piece, long enough", false).unwrap();
    s.send_fragment(" and the rest", true).unwrap();
    let bytes = wire(&mut s);
    assert_eq!(bytes[0], 0x41, "first fragment: RSV1, no FIN");
    let second = 2 + usize::from(bytes[1]);
    assert_eq!(bytes[second], 0x80, "continuation: FIN, no RSV1");
    assert_eq!(
        deliver(&mut c, &bytes),
        [Event::Message(
            "first piece, long enough and the rest".into()
        )]
    );
}

#[test]
fn context_takeover_shrinks_repeats_unless_negotiated_away() {
    let message = "the same message, again and again and again".repeat(3);
    for (no_takeover, shrinks) in [(false, true), (true, false)] {
        let server = with_deflate(Some(DeflateConfig {
            no_context_takeover: no_takeover,
            ..DeflateConfig::default()
        }));
        let (mut c, mut s, open, _) = pair(with_deflate(Some(DeflateConfig::default())), server);
        assert_eq!(
            open.extensions
                .as_deref()
                .unwrap()
                .contains("server_no_context_takeover"),
            no_takeover
        );
        s.send(message.as_str()).unwrap();
        let first = wire(&mut s);
        s.send(message.as_str()).unwrap();
        let second = wire(&mut s);
        assert_eq!(second.len() < first.len(), shrinks, "{first:?} {second:?}");
        let mut both = first;
        both.extend_from_slice(&second);
        let expected = Event::Message(message.as_str().into());
        assert_eq!(deliver(&mut c, &both), [expected.clone(), expected]);
    }
}

#[test]
fn servers_do_not_negotiate_unless_configured() {
    let (mut c, mut s, open, _) = pair(
        with_deflate(Some(DeflateConfig::default())),
        Config::default(),
    );
    assert_eq!(open.extensions, None);
    c.send("x".repeat(100).as_str()).unwrap();
    let bytes = wire(&mut c);
    assert_eq!(bytes[0], 0x81);
    assert_eq!(deliver(&mut s, &bytes).len(), 1);
}

#[test]
fn buffered_amount_counts_application_bytes() {
    let on = with_deflate(Some(DeflateConfig::default()));
    let (mut c, _, _, _) = pair(on.clone(), on);
    c.send(vec![0u8; 100_000]).unwrap();
    assert_eq!(c.buffered_amount(), 100_000);
    let n = c.transmit().map(<[u8]>::len).sum::<usize>();
    assert!(n < 1000, "{n} bytes on the wire");
    c.advance_transmit(n);
    assert_eq!(c.buffered_amount(), 0);
}

/// A server that agreed permessage-deflate with a client, and the client
/// frames it receives built by hand.
fn deflate_server(max_message: u64) -> Connection {
    let config = Config {
        max_message_len: max_message,
        ..with_deflate(Some(DeflateConfig::default()))
    };
    let (_, s, _, _) = pair(with_deflate(Some(DeflateConfig::default())), config);
    s
}

fn frame(opcode: OpCode, fin: bool, rsv: u8, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        rsv,
        opcode,
        mask: Some([9, 8, 7, 6]),
        payload_len: 0,
    };
    let mut out = Vec::new();
    encode_frame(&header, payload, &mut out);
    out
}

fn compress(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::deflate::Deflater::new(15, true, Compression::default())
        .compress(message, true, &mut out);
    out
}

/// The error a server reports for `bytes`, and the code of its close frame.
fn failure(conn: &mut Connection, bytes: &[u8]) -> (ProtocolError, u16) {
    let evs = deliver(conn, bytes);
    let Some(Event::Error(Error::Protocol(e))) = evs.last() else {
        panic!("{evs:?}")
    };
    let out = wire(conn);
    assert_eq!(out[0], 0x88, "close frame");
    (e.clone(), u16::from_be_bytes([out[2], out[3]]))
}

#[test]
fn the_message_limit_applies_to_inflated_bytes_exactly() {
    let limit = 100_000u64;
    let exact = vec![b'a'; limit as usize];
    let mut s = deflate_server(limit);
    let evs = deliver(&mut s, &frame(OpCode::Text, true, 0b100, &compress(&exact)));
    assert!(matches!(evs.as_slice(), [Event::Message(m)] if m.len() == exact.len()));
    let over = vec![b'a'; limit as usize + 1];
    let (error, code) = failure(
        &mut s,
        &frame(OpCode::Binary, true, 0b100, &compress(&over)),
    );
    assert_eq!(error, ProtocolError::InflatedTooLarge { max: limit });
    assert_eq!(code, 1009);
}

#[test]
fn a_bomb_is_stopped_at_the_limit() {
    // ~1 MiB of compressed zeros inflates to 1 GiB.
    let mut deflater = crate::deflate::Deflater::new(15, false, Compression::default());
    let zeros = vec![0u8; 1 << 20];
    let mut bomb = Vec::new();
    for _ in 0..1024 {
        deflater.compress(&zeros, false, &mut bomb);
    }
    let mut s = deflate_server(16 << 20);
    let (error, code) = failure(&mut s, &frame(OpCode::Binary, true, 0b100, &bomb));
    assert_eq!(error, ProtocolError::InflatedTooLarge { max: 16 << 20 });
    assert_eq!(code, 1009);
}

#[test]
fn violations_of_the_extension_rules() {
    let hello = compress(b"Hello");
    // RSV1 on control frames, on a continuation, and RSV2/RSV3: 1002.
    for bytes in [
        frame(OpCode::Ping, true, 0b100, b""),
        frame(OpCode::Close, true, 0b100, b"\x03\xe8"),
        [
            frame(OpCode::Text, false, 0b100, &hello[..2]),
            frame(OpCode::Continuation, true, 0b100, &hello[2..]),
        ]
        .concat(),
        frame(OpCode::Text, true, 0b010, b"x"),
    ] {
        let (error, code) = failure(&mut deflate_server(1 << 20), &bytes);
        assert!(matches!(error, ProtocolError::ReservedBits(_)), "{error:?}");
        assert_eq!(code, 1002);
    }
    // Not deflate: 1007. Deflate of invalid UTF-8 in a text message: 1007.
    let (error, code) = failure(
        &mut deflate_server(1 << 20),
        &frame(OpCode::Binary, true, 0b100, &[0xff, 0xff, 0xff]),
    );
    assert_eq!((error, code), (ProtocolError::InvalidCompressedData, 1007));
    let (error, code) = failure(
        &mut deflate_server(1 << 20),
        &frame(OpCode::Text, true, 0b100, &compress(b"\xc3\x28")),
    );
    assert_eq!((error, code), (ProtocolError::InvalidUtf8, 1007));
    // RSV1 without the extension negotiated: 1002.
    let mut plain = Connection::established_server(Config::default(), T0).unwrap();
    let (error, code) = failure(&mut plain, &frame(OpCode::Text, true, 0b100, &hello));
    assert_eq!((error, code), (ProtocolError::ReservedBits(0b100), 1002));
}

#[test]
fn uncompressed_messages_still_pass_and_keep_their_limits() {
    let mut s = deflate_server(1 << 20);
    let evs = deliver(&mut s, &frame(OpCode::Text, true, 0, b"plain"));
    assert_eq!(evs, [Event::Message("plain".into())]);
    // A frame over the frame limit without RSV1 is still refused.
    let config = Config {
        max_frame_len: 100,
        ..with_deflate(Some(DeflateConfig::default()))
    };
    let (_, mut s, _, _) = pair(with_deflate(Some(DeflateConfig::default())), config);
    let (error, code) = failure(&mut s, &frame(OpCode::Binary, true, 0, &[0; 101]));
    assert!(
        matches!(error, ProtocolError::FrameTooLarge { .. }),
        "{error:?}"
    );
    assert_eq!(code, 1009);
}

#[test]
fn handshakes_done_elsewhere_run_the_agreed_extension() {
    // An HTTP server negotiated: it ran accept_offer and sent the element.
    let config = with_deflate(Some(DeflateConfig::default()));
    let offer = ["permessage-deflate; client_max_window_bits"];
    let (element, _) = crate::deflate::accept_offer(offer, &DeflateConfig::default()).unwrap();
    let mut s = Connection::established_server(config.clone(), T0).unwrap();
    s.use_extensions(&element).unwrap();
    let mut c = Connection::established_client(config, |b: &mut [u8]| b.fill(0), T0).unwrap();
    c.use_extensions(&element).unwrap();
    assert_eq!(s.extensions(), Some("permessage-deflate"));
    exchange(&mut c, &mut s);
    exchange(&mut s, &mut c);
    // A client checks what it is given.
    let mut c =
        Connection::established_client(Config::default(), |b: &mut [u8]| b.fill(0), T0).unwrap();
    assert!(matches!(
        c.use_extensions("permessage-deflate; bogus"),
        Err(HandshakeError::InvalidExtension(_))
    ));
}

fn respond_with(extensions: &str) -> Vec<Event> {
    let request = ClientRequest::new("ws://h/").unwrap();
    let config = with_deflate(Some(DeflateConfig::default()));
    let mut c = Connection::client(&request, config, |b: &mut [u8]| b.fill(0), T0).unwrap();
    let sent = String::from_utf8(wire(&mut c)).unwrap();
    assert!(
        sent.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        ),
        "{sent}"
    );
    let response = alloc::format!(
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\
Sec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n"
    );
    deliver(&mut c, response.as_bytes())
}

#[test]
fn the_client_fails_on_invalid_or_duplicate_responses() {
    assert!(matches!(
        respond_with("permessage-deflate").as_slice(),
        [Event::Open(_)]
    ));
    for bad in [
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; bogus",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate, permessage-deflate",
    ] {
        let evs = respond_with(bad);
        assert!(
            matches!(
                evs.as_slice(),
                [
                    Event::Error(Error::Handshake(HandshakeError::InvalidExtension(_))),
                    Event::Closed(_)
                ]
            ),
            "{bad}: {evs:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Compressed messages, fragmented or not, arrive the same whatever
    /// the reads they are cut into.
    #[test]
    fn any_split_of_a_compressed_stream(cuts in proptest::collection::vec(0usize..4000, 0..12), streaming: bool) {
        let on = with_deflate(Some(DeflateConfig { threshold: 0, ..DeflateConfig::default() }));
        let server = Config { streaming, ..on.clone() };
        let (mut c, mut s, _, _) = pair(on, server);
        let messages = ["a first message, a first message", "ünïcödé ünïcödé ünïcödé", ""];
        for m in messages {
            c.send(m).unwrap();
        }
        c.send_fragment("fragmented, ", false).unwrap();
        c.send_fragment("compressed 🦀", true).unwrap();
        let bytes = wire(&mut c);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut input = BytesMut::new();
        let mut got: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut at = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            input.extend_from_slice(&bytes[at..cut]);
            at = cut;
            s.receive(&mut input, T0);
            for event in events(&mut s) {
                match event {
                    Event::Message(m) => got.push(core::str::from_utf8(m.as_bytes()).unwrap().into()),
                    Event::Fragment(f) => {
                        current.push_str(core::str::from_utf8(&f.data).unwrap());
                        if f.last {
                            got.push(core::mem::take(&mut current));
                        }
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
        prop_assert_eq!(got, ["a first message, a first message", "ünïcödé ünïcödé ünïcödé", "", "fragmented, compressed 🦀"]);
    }
}

/// RFC 8441 end to end in the core: the client's extended CONNECT, as an
/// HTTP/2 stack would carry it, through the server's rules and back, with
/// permessage-deflate negotiated as over HTTP/1.1.
#[test]
fn extended_connect_both_roles_negotiate_deflate() {
    use crate::handshake::{Header, HttpVersion, RequestHead};
    let config = with_deflate(Some(DeflateConfig::default()));
    let request = ClientRequest::new("wss://example.com/chat")
        .unwrap()
        .protocol("chat");
    let (handshake, connect) = Connection::extended_connect(&request, &config).unwrap();
    assert_eq!(
        (
            connect.scheme,
            connect.authority.as_str(),
            connect.path.as_str()
        ),
        ("https", "example.com", "/chat")
    );
    assert!(
        !connect
            .headers
            .iter()
            .any(|(n, _)| n == "sec-websocket-key")
    );
    // What an HTTP/2 stack carries between the two ends.
    let fields = |pairs: &[(String, String)]| -> Vec<Header> {
        pairs
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.as_bytes().to_vec(),
            })
            .collect()
    };
    let headers = fields(&connect.headers);
    let server_request = Request::from_head(RequestHead {
        method: "CONNECT",
        version: HttpVersion::Http2,
        protocol: Some("websocket"),
        target: &connect.path,
        authority: Some(&connect.authority),
        headers,
    })
    .unwrap();
    let policy = ServerPolicy {
        protocols: vec!["chat".into()],
        ..ServerPolicy::default()
    };
    let accept = policy.decide(&server_request).unwrap();
    let (mut server, head) =
        Connection::upgraded(&server_request, accept, config.clone(), T0).unwrap();
    assert_eq!(head.status, 200);
    let response = fields(&head.headers);
    // A 101 is not an answer to an extended CONNECT.
    assert!(matches!(
        handshake.check_response(101, response.clone()),
        Err(HandshakeError::Status { status: 101, .. })
    ));
    let mut client = Connection::client_upgraded(
        &handshake,
        head.status,
        response,
        config,
        |b: &mut [u8]| b.fill(3),
        T0,
    )
    .unwrap();
    assert_eq!(client.protocol(), Some("chat"));
    assert!(
        client
            .extensions()
            .unwrap()
            .starts_with("permessage-deflate")
    );
    assert_eq!(server.extensions(), client.extensions());
    events(&mut server);
    events(&mut client);
    let text = "compressed over a stream ".repeat(100);
    client.send(text.as_str()).unwrap();
    let frame = wire(&mut client);
    assert!(
        frame.len() < text.len() / 4,
        "compressed: {} bytes",
        frame.len()
    );
    assert_eq!(
        deliver(&mut server, &frame),
        [Event::Message(Message::from(text.as_str()))]
    );
}
