use super::test_support::*;
use super::*;
use crate::error::ProtocolError;
use crate::frame::{FrameHeader, encode_frame};
use crate::handshake::ClientRequest;
use crate::message::Message;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

fn zeros(buf: &mut [u8]) {
    buf.fill(0);
}

/// A masked client frame, as a server receives it.
fn client_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask: Some([1, 2, 3, 4]),
        payload_len: 0,
    };
    let mut out = Vec::new();
    encode_frame(&header, payload, &mut out);
    out
}

fn server() -> Connection {
    Connection::established_server(Config::default(), T0).unwrap()
}

/// Feeds `bytes` in one read and takes every event, as an adapter does:
/// drain, then receive again while the core stopped at its event budget.
fn feed(conn: &mut Connection, bytes: &[u8]) -> Vec<Event> {
    let mut input = BytesMut::from(bytes);
    conn.receive(&mut input, T0);
    let mut all = events(conn);
    while conn.needs_receive() {
        conn.receive(&mut input, T0);
        all.extend(events(conn));
    }
    all
}

/// Feeds `bytes` in two reads into one buffer, split at `cut`.
fn feed_split(conn: &mut Connection, bytes: &[u8], cut: usize) -> Vec<Event> {
    let mut input = BytesMut::from(&bytes[..cut]);
    conn.receive(&mut input, T0);
    input.extend_from_slice(&bytes[cut..]);
    conn.receive(&mut input, T0);
    assert!(input.is_empty());
    events(conn)
}

fn text(s: &str) -> Event {
    Event::Message(Message::from(s))
}

fn closed(code: u16, was_clean: bool) -> Event {
    Event::Closed(CloseEvent {
        code: CloseCode(code),
        reason: String::new(),
        was_clean,
    })
}

/// Expects `bytes` to fail a server with `code`: the error, our close
/// frame with that code, and CLOSED once it is written.
fn assert_fails_with(bytes: &[u8], code: u16) {
    let mut conn = server();
    let evs = feed(&mut conn, bytes);
    assert!(
        matches!(evs.last(), Some(Event::Error(Error::Protocol(_)))),
        "{evs:?}"
    );
    assert_eq!(conn.ready_state(), ReadyState::Closing);
    let out = wire(&mut conn);
    assert_eq!(out[0], 0x88, "a close frame");
    assert_eq!(
        u16::from_be_bytes([out[2], out[3]]),
        code,
        "close code for {bytes:x?}"
    );
    assert_eq!(conn.ready_state(), ReadyState::Closed);
    assert_eq!(events(&mut conn), [closed(1006, false)]);
}

#[test]
fn single_frame_messages_at_every_split_point() {
    let mut bytes = client_frame(OpCode::Text, true, "héllo 𝄞".as_bytes());
    bytes.extend(client_frame(OpCode::Binary, true, &[0xff; 300]));
    bytes.extend(client_frame(OpCode::Ping, true, b"p"));
    let expected = [
        text("héllo 𝄞"),
        Event::Message(Message::Binary(Bytes::from(vec![0xff; 300]))),
        Event::Ping(Bytes::from_static(b"p")),
    ];
    for cut in 0..=bytes.len() {
        let mut conn = server();
        assert_eq!(
            feed_split(&mut conn, &bytes, cut),
            expected,
            "split at {cut}"
        );
    }
    // And one byte at a time.
    let mut conn = server();
    let mut input = BytesMut::new();
    for &b in &bytes {
        input.extend_from_slice(&[b]);
        conn.receive(&mut input, T0);
    }
    assert_eq!(events(&mut conn), expected);
}

#[test]
fn fragmented_message_with_interleaved_control_frames() {
    let mut bytes = client_frame(OpCode::Text, false, b"Hel");
    bytes.extend(client_frame(OpCode::Ping, true, b"1"));
    bytes.extend(client_frame(OpCode::Continuation, false, b"lo, "));
    bytes.extend(client_frame(OpCode::Pong, true, b"2"));
    bytes.extend(client_frame(OpCode::Continuation, true, "wörld".as_bytes()));
    for cut in 0..=bytes.len() {
        let mut conn = server();
        let evs = feed_split(&mut conn, &bytes, cut);
        assert_eq!(
            evs,
            [
                Event::Ping(Bytes::from_static(b"1")),
                Event::Pong(Bytes::from_static(b"2")),
                text("Hello, wörld")
            ]
        );
        assert_eq!(wire(&mut conn), b"\x8a\x011", "the pong");
    }
}

#[test]
fn frame_end_and_missing_count_the_bytes_a_frame_spans_at_every_split() {
    // The first frame of a fragmented message is taken out of the buffer
    // as it arrives; a single-frame message stays in place.
    let payload = [7u8; 300];
    let first = client_frame(OpCode::Binary, false, b"ab");
    let second = client_frame(OpCode::Continuation, true, &payload);
    let bytes = [first.as_slice(), &second].concat();
    // (where each frame starts, where its header ends)
    let frames = [(0, 6), (first.len(), first.len() + 8)];
    for cut in 0..=bytes.len() {
        let mut conn = server();
        let mut input = BytesMut::from(&bytes[..cut]);
        conn.receive(&mut input, T0);
        let end = |i: usize| frames.get(i + 1).map_or(bytes.len(), |f| f.0);
        let expected = (0..frames.len())
            .find(|&i| cut >= frames[i].1 && cut < end(i))
            .map_or(0, |i| end(i) - cut);
        assert_eq!(conn.frame_missing(input.len()), expected, "cut {cut}");
    }
    let whole = client_frame(OpCode::Binary, true, &payload);
    let mut conn = server();
    // Before they are received: a header whole in the next bytes tells.
    assert_eq!(conn.frame_end(0, &whole[..7]), 0, "the header is partial");
    assert_eq!(conn.frame_end(0, &whole[..8]), whole.len());
    assert_eq!(
        conn.frame_end(3, &whole[..8]),
        0,
        "a header already started"
    );
    let mut input = BytesMut::from(&whole[..100]);
    conn.receive(&mut input, T0);
    assert_eq!(conn.frame_missing(input.len()), whole.len() - 100);
}

#[test]
fn framing_violations_close_with_1002() {
    assert_fails_with(&client_frame(OpCode::Continuation, true, b"x"), 1002);
    let mut nested = client_frame(OpCode::Text, false, b"a");
    nested.extend(client_frame(OpCode::Text, true, b"b"));
    assert_fails_with(&nested, 1002);
    assert_fails_with(b"\x83\x80\0\0\0\0", 1002); // reserved opcode
    assert_fails_with(b"\xc1\x80\0\0\0\0", 1002); // RSV1 without extension
    assert_fails_with(b"\x81\x00", 1002); // unmasked from a client
    assert_fails_with(b"\x09\x80\0\0\0\0", 1002); // fragmented ping
    assert_fails_with(b"\x89\xfe\0\x7e\0\0\0\0", 1002); // ping of 126 bytes
}

#[test]
fn invalid_utf8_fails_fast_mid_frame() {
    // A 1000-byte text frame whose 3rd byte is invalid: the failure comes
    // with the first 8 bytes, long before the frame is complete.
    let mut payload = vec![b'a'; 1000];
    payload[2] = 0xff;
    let frame = client_frame(OpCode::Text, true, &payload);
    let mut conn = server();
    let evs = feed(&mut conn, &frame[..8 + 3]);
    assert_eq!(
        evs,
        [Event::Error(Error::Protocol(ProtocolError::InvalidUtf8))]
    );
    assert_eq!(&wire(&mut conn)[2..4], b"\x03\xef");
    // Also inside a fragmented message, and at the end of one.
    let mut bytes = client_frame(OpCode::Text, false, b"ok");
    bytes.extend(client_frame(OpCode::Continuation, false, b"\xce"));
    bytes.extend(client_frame(OpCode::Continuation, true, b""));
    assert_fails_with(&bytes, 1007);
    assert_fails_with(&client_frame(OpCode::Text, false, b"\xed\xa0\x80"), 1007);
}

/// A text frame received in two calls is checked whole when it
/// completes: a caller that passes another buffer (or changes the bytes
/// already checked) between the calls cannot make a `Text` that is not
/// UTF-8.
#[test]
fn a_text_frame_across_calls_is_checked_whole_whatever_the_caller_passes() {
    let frame = client_frame(OpCode::Text, true, "héllo wörld".as_bytes());
    // The honest case still works.
    let mut conn = server();
    assert_eq!(feed_split(&mut conn, &frame, 9), [text("héllo wörld")]);
    // The first call checks (and unmasks) the payload's first bytes in
    // place; before the second, the caller writes invalid bytes there.
    let mut conn = server();
    let mut input = BytesMut::from(&frame[..10]);
    conn.receive(&mut input, T0);
    assert_eq!(events(&mut conn), []);
    input[0] = 0xff;
    input.extend_from_slice(&frame[10..]);
    conn.receive(&mut input, T0);
    assert_eq!(
        events(&mut conn)[0],
        Event::Error(Error::Protocol(ProtocolError::InvalidUtf8))
    );
}

#[test]
fn close_frame_rules() {
    assert_fails_with(&client_frame(OpCode::Close, true, b"\x03"), 1002);
    assert_fails_with(
        &client_frame(OpCode::Close, true, &999u16.to_be_bytes()),
        1002,
    );
    assert_fails_with(
        &client_frame(OpCode::Close, true, &1005u16.to_be_bytes()),
        1002,
    );
    assert_fails_with(
        &client_frame(OpCode::Close, true, &5000u16.to_be_bytes()),
        1002,
    );
    assert_fails_with(&client_frame(OpCode::Close, true, b"\x03\xe8\xff"), 1007);
}

#[test]
fn peer_close_is_echoed_and_the_server_closes_first() {
    let mut conn = server();
    let evs = feed(
        &mut conn,
        &client_frame(OpCode::Close, true, b"\x0f\xa0bye"),
    );
    assert!(evs.is_empty());
    assert_eq!(conn.ready_state(), ReadyState::Closing);
    assert_eq!(conn.send("late"), Err(SendError::Closing));
    // The code and the reason come back (Chromium shows the reason).
    assert_eq!(wire(&mut conn), b"\x88\x05\x0f\xa0bye");
    assert_eq!(conn.ready_state(), ReadyState::Closed);
    let evs = events(&mut conn);
    assert_eq!(
        evs,
        [Event::Closed(CloseEvent {
            code: CloseCode(4000),
            reason: "bye".into(),
            was_clean: true
        })]
    );
}

#[test]
fn empty_close_surfaces_as_1005_and_is_echoed_empty() {
    let mut conn = server();
    feed(&mut conn, &client_frame(OpCode::Close, true, b""));
    assert_eq!(wire(&mut conn), b"\x88\x00");
    assert_eq!(events(&mut conn), [closed(1005, true)]);
}

#[test]
fn nothing_is_sent_or_read_after_our_close_frame() {
    let mut conn = server();
    conn.close(CloseCode::NORMAL, "done", T0).unwrap();
    assert_eq!(conn.send("x"), Err(SendError::Closing));
    assert_eq!(conn.ping(b""), Err(SendError::Closing));
    // A ping arriving now is reported, but not answered.
    let mut bytes = client_frame(OpCode::Ping, true, b"p");
    bytes.extend(client_frame(OpCode::Close, true, b"\x03\xe8"));
    bytes.extend(client_frame(OpCode::Text, true, b"after close"));
    let evs = feed(&mut conn, &bytes);
    assert_eq!(evs, [Event::Ping(Bytes::from_static(b"p"))]);
    assert_eq!(wire(&mut conn), b"\x88\x06\x03\xe8done");
    assert_eq!(events(&mut conn), [closed(1000, true)]);
}

#[test]
fn local_close_arguments_are_checked() {
    let mut conn = server();
    assert_eq!(
        conn.close(CloseCode(1005 + 1), "", T0),
        Err(SendError::InvalidCloseCode(1006))
    );
    assert_eq!(
        conn.close(CloseCode(2999), "", T0),
        Err(SendError::InvalidCloseCode(2999))
    );
    let long = "é".repeat(62);
    assert_eq!(
        conn.close(CloseCode::NORMAL, &long, T0),
        Err(SendError::ReasonTooLong(124))
    );
    assert_eq!(
        conn.close(CloseCode::NO_STATUS, "x", T0),
        Err(SendError::ReasonTooLong(1))
    );
    conn.close(CloseCode::NO_STATUS, "", T0).unwrap();
    assert_eq!(wire(&mut conn), b"\x88\x00");
}

#[test]
fn message_limits_apply_before_the_payload_arrives() {
    let config = Config {
        max_message_len: 100,
        max_fragments: 3,
        ..Config::default()
    };
    let mut conn = Connection::established_server(config.clone(), T0).unwrap();
    // Only the header of a 101-byte frame: enough to refuse it.
    let frame = client_frame(OpCode::Binary, true, &[0; 101]);
    let evs = feed(&mut conn, &frame[..8]);
    assert!(matches!(
        evs[..],
        [Event::Error(Error::Protocol(
            ProtocolError::MessageTooLarge { len: 101, max: 100 }
        ))]
    ));
    assert_eq!(&wire(&mut conn)[2..4], &1009u16.to_be_bytes());

    // Exactly the limit passes, across fragments too.
    let mut conn = Connection::established_server(config.clone(), T0).unwrap();
    let mut bytes = client_frame(OpCode::Binary, false, &[1; 50]);
    bytes.extend(client_frame(OpCode::Continuation, true, &[2; 50]));
    assert!(matches!(feed(&mut conn, &bytes)[..], [Event::Message(ref m)] if m.len() == 100));

    let mut bytes = client_frame(OpCode::Binary, false, &[1; 50]);
    bytes.extend(client_frame(OpCode::Continuation, true, &[2; 51]));
    assert_fails_with_config(config.clone(), &bytes, 1009);

    let mut bytes = client_frame(OpCode::Binary, false, b"a");
    for _ in 0..3 {
        bytes.extend(client_frame(OpCode::Continuation, false, b"a"));
    }
    assert_fails_with_config(config, &bytes, 1008);
}

fn assert_fails_with_config(config: Config, bytes: &[u8], code: u16) {
    let mut conn = Connection::established_server(config, T0).unwrap();
    feed(&mut conn, bytes);
    let out = wire(&mut conn);
    assert_eq!(u16::from_be_bytes([out[2], out[3]]), code);
}

#[test]
fn frame_limit_applies_to_the_declared_length() {
    let config = Config {
        max_frame_len: 10,
        ..Config::default()
    };
    assert_fails_with_config(
        config,
        b"\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff\0\0\0\0",
        1009,
    );
}

#[test]
fn a_ping_flood_keeps_a_bounded_number_of_pongs() {
    let mut conn = server();
    let mut bytes = Vec::new();
    for i in 0..1000u16 {
        bytes.extend(client_frame(OpCode::Ping, true, &i.to_be_bytes()));
    }
    feed(&mut conn, &bytes);
    // Sixteen pongs answer their own pings; the rest collapse into one
    // answer to the latest.
    let mut expected = Vec::new();
    for i in (0..16u16).chain([999]) {
        expected.extend_from_slice(b"\x8a\x02");
        expected.extend_from_slice(&i.to_be_bytes());
    }
    assert_eq!(wire(&mut conn), expected);
    assert!(wire(&mut conn).is_empty());
}

#[test]
fn the_event_queue_stops_at_its_budget_and_the_rest_waits_in_the_input() {
    let mut conn = server();
    let mut bytes = Vec::new();
    for i in 0..1000u16 {
        let op = if i % 2 == 0 {
            OpCode::Ping
        } else {
            OpCode::Text
        };
        bytes.extend(client_frame(op, true, b"x"));
    }
    let mut input = BytesMut::from(&bytes[..]);
    conn.receive(&mut input, T0);
    // 64 events at most, whatever one read brought; the rest stays unread.
    assert_eq!(conn.events.len(), 64);
    assert!(conn.needs_receive());
    assert_eq!(input.len(), bytes.len() - 64 * 7);
    // Without draining, receiving again takes nothing more.
    conn.receive(&mut input, T0);
    assert_eq!(conn.events.len(), 64);
    let mut total = 0;
    loop {
        total += events(&mut conn).len();
        if !conn.needs_receive() {
            break;
        }
        conn.receive(&mut input, T0);
        assert!(conn.events.len() <= 64);
    }
    assert_eq!(total, 1000);
    assert!(input.is_empty());
    // Once a read ends exactly at a frame's end, nothing is pending.
    assert!(!conn.needs_receive());
}

#[test]
fn an_event_budget_of_zero_is_refused() {
    let config = Config {
        max_pending_events: 0,
        ..Config::default()
    };
    let refused = Connection::established_server(config, T0).err();
    assert_eq!(refused.map(|e| e.field), Some("max_pending_events"));
}

#[test]
fn full_queue_hands_the_message_back() {
    let config = Config {
        max_queued: 100,
        ..Config::default()
    };
    let mut conn = Connection::established_server(config, T0).unwrap();
    conn.send(Message::Binary(Bytes::from(vec![0; 150])))
        .unwrap(); // an empty queue takes anything
    let refused = Message::Binary(Bytes::from_static(b"x"));
    assert_eq!(
        conn.send(refused.clone()),
        Err(SendError::Full(refused.clone()))
    );
    assert_eq!(conn.buffered_amount(), 150);
    conn.advance_transmit(4 + 100);
    assert_eq!(conn.buffered_amount(), 50);
    wire(&mut conn);
    assert_eq!(conn.buffered_amount(), 0);
    conn.send(refused).unwrap();
}

#[test]
fn tiny_messages_count_their_bookkeeping_against_the_queue() {
    let config = Config {
        max_queued: 4096,
        ..Config::default()
    };
    let mut conn = Connection::established_server(config, T0).unwrap();
    let mut sent = 0;
    while conn.send(Message::Binary(Bytes::from_static(b"x"))).is_ok() {
        sent += 1;
        assert!(sent < 4096, "3-byte frames alone would take 1,365");
    }
    // Each holds its 3 wire bytes and a slot of `buffered_amount`'s
    // bookkeeping (an empty message needs none: 2 bytes each).
    assert!((64..1024).contains(&sent), "{sent}");
}

#[test]
fn client_handshake_then_frames_in_the_same_read() {
    let request = ClientRequest::new("ws://example.com/chat").unwrap();
    let mut conn =
        Connection::client(&request, Config::default(), |b: &mut [u8]| b.fill(0), T0).unwrap();
    assert_eq!(conn.ready_state(), ReadyState::Connecting);
    assert_eq!(conn.send("early"), Err(SendError::NotOpen));
    let request_bytes = wire(&mut conn);
    assert!(request_bytes.starts_with(b"GET /chat HTTP/1.1\r\nHost: example.com\r\n"));
    let response =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=\r\n\r\n\x81\x02hi";
    let evs = feed(&mut conn, response);
    assert_eq!(evs, [Event::Open(Negotiated::default()), text("hi")]);
    assert_eq!(conn.ready_state(), ReadyState::Open);
}

#[test]
fn client_waits_for_the_server_to_close_the_transport() {
    let mut conn = Connection::established_client(Config::default(), zeros, T0).unwrap();
    conn.close(CloseCode::NORMAL, "", T0).unwrap();
    assert_eq!(wire(&mut conn), b"\x88\x82\0\0\0\0\x03\xe8");
    feed(&mut conn, b"\x88\x02\x03\xe8");
    assert_eq!(
        conn.ready_state(),
        ReadyState::Closing,
        "the server closes TCP first"
    );
    assert_eq!(conn.poll_timeout(), Some(T0 + Duration::from_secs(5)));
    conn.receive_eof(T0);
    assert_eq!(events(&mut conn), [closed(1000, true)]);
}

#[test]
fn a_close_is_clean_only_once_our_frame_was_written() {
    // The server closes; the transport ends before our echo was written:
    // the closing handshake never completed (RFC 6455 §7.1.4).
    let mut conn = Connection::established_client(Config::default(), zeros, T0).unwrap();
    let evs = feed(&mut conn, b"\x88\x02\x03\xe8");
    assert!(evs.is_empty(), "{evs:?}");
    conn.receive_eof(T0);
    assert_eq!(events(&mut conn), [closed(1000, false)]);
    // Written first: clean.
    let mut conn = Connection::established_client(Config::default(), zeros, T0).unwrap();
    feed(&mut conn, b"\x88\x02\x03\xe8");
    wire(&mut conn);
    conn.receive_eof(T0);
    assert_eq!(events(&mut conn), [closed(1000, true)]);
    // And the same rule when the close timeout ends it.
    let mut conn = Connection::established_client(Config::default(), zeros, T0).unwrap();
    feed(&mut conn, b"\x88\x02\x03\xe8");
    conn.handle_timeout(T0 + Duration::from_secs(5));
    assert_eq!(
        events(&mut conn),
        [
            Event::Error(Error::Timeout(Timeout::Close)),
            closed(1000, false)
        ]
    );
}

#[test]
fn close_timeout_bounds_the_wait_for_the_peer() {
    let mut conn = server();
    conn.close(CloseCode::NORMAL, "", T0).unwrap();
    wire(&mut conn);
    conn.handle_timeout(T0 + Duration::from_secs(4));
    assert_eq!(conn.ready_state(), ReadyState::Closing);
    conn.handle_timeout(T0 + Duration::from_secs(5));
    assert_eq!(conn.ready_state(), ReadyState::Closed);
    assert_eq!(
        events(&mut conn),
        [
            Event::Error(Error::Timeout(Timeout::Close)),
            closed(1006, false)
        ]
    );
}

#[test]
fn a_message_trickled_past_the_message_timeout_fails_with_1008() {
    let config = Config {
        keepalive: None,
        ..Config::default()
    };
    for fragmented in [false, true] {
        let mut conn = Connection::established_server(config.clone(), T0).unwrap();
        // A 1 MiB frame declared, one byte sent; or a first fragment whole.
        let mut bytes = client_frame(OpCode::Binary, !fragmented, &[7; 1 << 20]);
        let cut = if fragmented { bytes.len() } else { 15 };
        bytes.truncate(cut);
        let mut input = BytesMut::from(&bytes[..]);
        conn.receive(&mut input, T0);
        assert!(events(&mut conn).is_empty());
        // The buffer grows with what arrives, not with what was declared.
        assert!(input.capacity() < 64 << 10, "{}", input.capacity());
        assert_eq!(conn.poll_timeout(), Some(T0 + Duration::from_secs(60)));
        // More bytes keep the connection alive, not the message.
        let later = T0 + Duration::from_secs(59);
        let more = client_frame(OpCode::Ping, true, b"");
        if fragmented {
            feed(&mut conn, &more);
        }
        conn.handle_timeout(later);
        assert_eq!(conn.ready_state(), ReadyState::Open);
        conn.handle_timeout(T0 + Duration::from_secs(60));
        assert_eq!(
            events(&mut conn),
            [Event::Error(Error::Timeout(Timeout::Message))]
        );
        let out = wire(&mut conn);
        let close = if fragmented { &out[2..] } else { &out[..] };
        assert_eq!(
            (close[0], &close[2..4]),
            (0x88, &[0x03, 0xf0][..]),
            "close frame, 1008"
        );
    }
}

#[test]
fn a_finished_message_stops_the_message_clock() {
    let mut conn = server();
    feed(&mut conn, &client_frame(OpCode::Text, false, b"a"));
    assert_eq!(
        conn.poll_timeout(),
        Some(T0 + Duration::from_secs(30)),
        "keepalive first"
    );
    feed(&mut conn, &client_frame(OpCode::Continuation, true, b"b"));
    conn.handle_timeout(T0 + Duration::from_secs(29));
    assert_eq!(conn.poll_timeout(), Some(T0 + Duration::from_secs(30)));
    assert_eq!(conn.ready_state(), ReadyState::Open);
}

#[test]
fn abort_drops_what_is_queued_and_ends_at_once() {
    let mut conn = server();
    let mut input = BytesMut::from(&client_frame(OpCode::Text, true, b"before")[..]);
    conn.receive(&mut input, T0);
    conn.send("never written").unwrap();
    conn.abort();
    assert_eq!(conn.ready_state(), ReadyState::Closed);
    assert!(!conn.wants_write() && !conn.wants_read());
    assert_eq!(conn.buffered_amount(), 0);
    assert_eq!(
        events(&mut conn),
        [
            text("before"),
            Event::Error(Error::TransportClosed),
            closed(1006, false)
        ]
    );
    conn.abort();
    assert!(events(&mut conn).is_empty(), "once");
}

#[test]
fn the_idle_timeout_is_reported_then_closes_with_1001() {
    let config = Config {
        idle_timeout: Some(Duration::from_secs(20)),
        ..Config::default()
    };
    let mut conn = Connection::established_server(config, T0).unwrap();
    assert_eq!(conn.poll_timeout(), Some(T0 + Duration::from_secs(20)));
    conn.handle_timeout(T0 + Duration::from_secs(20));
    assert_eq!(
        events(&mut conn),
        [Event::Error(Error::Timeout(Timeout::Idle))]
    );
    let out = wire(&mut conn);
    assert_eq!(&out[..4], b"\x88\x0e\x03\xe9", "close 1001");
    assert_eq!(&out[4..], b"idle timeout");
    // The peer answers: a clean close, after the error that said why.
    feed(&mut conn, &client_frame(OpCode::Close, true, &[0x03, 0xe9]));
    assert_eq!(conn.ready_state(), ReadyState::Closed);
}

#[test]
fn handshake_timeout() {
    let mut conn = Connection::server(ServerPolicy::default(), Config::default(), T0).unwrap();
    assert_eq!(conn.poll_timeout(), Some(T0 + Duration::from_secs(10)));
    conn.handle_timeout(T0 + Duration::from_secs(10));
    assert_eq!(
        events(&mut conn),
        [
            Event::Error(Error::Timeout(Timeout::Handshake)),
            closed(1006, false)
        ]
    );
}

#[test]
fn keepalive_pings_and_fails_without_an_answer() {
    let keepalive = crate::config::Keepalive {
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
    };
    let config = Config {
        keepalive: Some(keepalive),
        ..Config::default()
    };
    let mut conn = Connection::established_server(config, T0).unwrap();
    let ping_at = T0 + Duration::from_secs(30);
    assert_eq!(conn.poll_timeout(), Some(ping_at));
    conn.handle_timeout(ping_at);
    assert_eq!(wire(&mut conn), b"\x89\x00");
    assert_eq!(conn.poll_timeout(), Some(ping_at + Duration::from_secs(10)));
    conn.handle_timeout(ping_at + Duration::from_secs(10));
    assert_eq!(
        events(&mut conn),
        [Event::Error(Error::Timeout(Timeout::Pong))]
    );
    assert_eq!(&wire(&mut conn)[2..4], b"\x03\xe9");
}

#[test]
fn dropped_transport_is_abnormal() {
    let mut conn = server();
    conn.receive_eof(T0);
    assert_eq!(
        events(&mut conn),
        [Event::Error(Error::TransportClosed), closed(1006, false)]
    );
}

#[test]
fn deferred_server_decisions() {
    let request = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a\r\n\r\n";
    let policy = ServerPolicy {
        defer: true,
        ..ServerPolicy::default()
    };
    let mut conn = Connection::server(policy.clone(), Config::default(), T0).unwrap();
    assert!(matches!(feed(&mut conn, request)[..], [Event::Request(_)]));
    assert_eq!(
        conn.accept(Accept {
            protocol: Some("b".into()),
            ..Accept::default()
        }),
        Err(SendError::ProtocolNotOffered("b".into()))
    );
    conn.accept(Accept {
        protocol: Some("a".into()),
        ..Accept::default()
    })
    .unwrap();
    assert_eq!(conn.protocol(), Some("a"));
    assert!(wire(&mut conn).starts_with(b"HTTP/1.1 101 "));

    let mut conn = Connection::server(policy, Config::default(), T0).unwrap();
    feed(&mut conn, request);
    events(&mut conn);
    let mut reject = Reject::status(401);
    reject
        .headers
        .push(("WWW-Authenticate".into(), "Bearer".into()));
    conn.reject(reject).unwrap();
    let response = String::from_utf8(wire(&mut conn)).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 401 Unauthorized\r\n")
            && response.contains("WWW-Authenticate: Bearer")
    );
    assert_eq!(
        events(&mut conn),
        [
            Event::Error(Error::Handshake(HandshakeError::Refused(401))),
            closed(1006, false)
        ]
    );
}

#[test]
fn bad_requests_get_an_http_answer_then_close() {
    let mut conn = Connection::server(ServerPolicy::default(), Config::default(), T0).unwrap();
    feed(&mut conn, b"POST / HTTP/1.1\r\nHost: h\r\n\r\n");
    let response = String::from_utf8(wire(&mut conn)).unwrap();
    assert!(response.starts_with("HTTP/1.1 405 "), "{response}");
    assert_eq!(conn.ready_state(), ReadyState::Closed);
}

#[test]
fn a_repeated_origin_cannot_pass_the_allow_list() {
    let policy = ServerPolicy {
        allowed_origins: Some(vec!["https://good.example".into()]),
        ..Default::default()
    };
    let mut conn = Connection::server(policy, Config::default(), T0).unwrap();
    let events = feed(
        &mut conn,
        b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Origin: https://evil.example\r\nOrigin: https://evil.example\r\n\r\n",
    );
    let response = String::from_utf8(wire(&mut conn)).unwrap();
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(!events.iter().any(|e| matches!(e, Event::Open(_))));
    assert!(events.contains(&Event::Error(Error::Handshake(
        HandshakeError::RepeatedOrigin
    ))));
    assert_eq!(conn.ready_state(), ReadyState::Closed);
}

#[test]
fn answers_that_would_break_the_head_are_refused_not_sent() {
    use crate::handshake::InvalidField;
    let request = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let policy = ServerPolicy {
        defer: true,
        ..ServerPolicy::default()
    };
    let mut conn = Connection::server(policy, Config::default(), T0).unwrap();
    feed(&mut conn, request);
    let evil = Accept {
        extensions: Some("x\r\nSet-Cookie: session=attacker".into()),
        ..Accept::default()
    };
    assert_eq!(
        conn.accept(evil),
        Err(SendError::InvalidField(InvalidField::Extension(
            "x\r\nSet-Cookie: session=attacker".into()
        )))
    );
    let mut reject = Reject::status(401);
    reject.headers.push(("X".into(), "\r\n\r\nbody".into()));
    assert!(matches!(
        conn.reject(reject),
        Err(SendError::InvalidField(_))
    ));
    // Nothing went out; the request still awaits a decision.
    assert!(wire(&mut conn).is_empty());
    assert_eq!(conn.ready_state(), ReadyState::Connecting);
    conn.accept(Accept::default()).unwrap();
    assert!(wire(&mut conn).starts_with(b"HTTP/1.1 101 "));

    // A policy whose headers cannot be written answers 500 and says why.
    let policy = ServerPolicy {
        headers: vec![("X-Bad".into(), "a\nb".into())],
        ..ServerPolicy::default()
    };
    let mut conn = Connection::server(policy, Config::default(), T0).unwrap();
    let events = feed(&mut conn, request);
    let response = String::from_utf8(wire(&mut conn)).unwrap();
    assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
    assert!(!response.contains("a\nb"));
    assert!(events.contains(&Event::Error(Error::Handshake(
        HandshakeError::InvalidField(InvalidField::HeaderValue("X-Bad".into()))
    ))));
}

#[test]
fn a_request_parsed_elsewhere_opens_with_what_was_negotiated() {
    use crate::handshake::{Header, HttpVersion, RequestHead};
    let header = |name: &str, value: &str| Header {
        name: name.into(),
        value: value.as_bytes().to_vec(),
    };
    let request = Request::from_head(RequestHead {
        method: "CONNECT",
        version: HttpVersion::Http2,
        protocol: Some("websocket"),
        target: "/",
        authority: Some("h"),
        headers: vec![
            header("sec-websocket-version", "13"),
            header("sec-websocket-protocol", "a, b"),
        ],
    })
    .unwrap();
    let policy = ServerPolicy {
        protocols: vec!["b".into()],
        ..Default::default()
    };
    let accept = policy.decide(&request).unwrap();
    let (mut conn, head) = Connection::upgraded(&request, accept, Config::default(), T0).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(conn.ready_state(), ReadyState::Open);
    assert_eq!(conn.protocol(), Some("b"));
    assert!(wire(&mut conn).is_empty(), "the HTTP server sends the head");
    let open = Event::Open(Negotiated {
        protocol: Some("b".into()),
        extensions: None,
    });
    assert_eq!(
        feed(&mut conn, &client_frame(OpCode::Text, true, b"hi")),
        [open, text("hi")]
    );
    // The same frame rules as any server connection: unmasked is 1002.
    let unmasked = [0x81, 0x02, b'h', b'i'];
    let events = feed(&mut conn, &unmasked);
    assert_eq!(
        events[0],
        Event::Error(Error::Protocol(ProtocolError::UnmaskedFrame))
    );
    // An answer with a subprotocol the client did not offer is refused.
    let bad = Accept {
        protocol: Some("c".into()),
        ..Accept::default()
    };
    assert!(matches!(
        Connection::upgraded(&request, bad, Config::default(), T0),
        Err(SendError::ProtocolNotOffered(_))
    ));
}

#[test]
fn streaming_mode_delivers_utf8_pieces() {
    let config = Config {
        streaming: true,
        ..Config::default()
    };
    let payload = "a€b".as_bytes(); // € is 3 bytes
    let frame = client_frame(OpCode::Text, true, payload);
    for cut in 6..frame.len() {
        let mut conn = Connection::established_server(config.clone(), T0).unwrap();
        let evs = feed_split(&mut conn, &frame, cut);
        let mut joined = String::new();
        for ev in &evs {
            let Event::Fragment(f) = ev else {
                panic!("{ev:?}")
            };
            joined.push_str(core::str::from_utf8(&f.data).expect("each piece is UTF-8"));
        }
        assert_eq!(joined, "a€b", "cut {cut}");
        let Event::Fragment(first) = &evs[0] else {
            unreachable!()
        };
        let Event::Fragment(last) = evs.last().unwrap() else {
            unreachable!()
        };
        assert!(first.first && last.last);
    }
}

#[test]
fn a_trickled_piece_holds_its_own_bytes_not_the_read_buffer() {
    let config = Config {
        streaming: true,
        ..Config::default()
    };
    let mut conn = Connection::established_server(config, T0).unwrap();
    let frame = client_frame(OpCode::Binary, true, &[9; 100]);
    // The header, then one byte per read, each read into a 16 KiB buffer
    // as an adapter's would be.
    let mut pieces = Vec::new();
    let mut input = BytesMut::with_capacity(16 << 10);
    input.extend_from_slice(&frame[..6]);
    for &byte in &frame[6..] {
        input.extend_from_slice(&[byte]);
        let base = input.as_ptr() as usize;
        let end = base + input.capacity();
        conn.receive(&mut input, T0);
        for event in events(&mut conn) {
            let Event::Fragment(piece) = event else {
                panic!("{event:?}")
            };
            let at = piece.data.as_ptr() as usize;
            assert!(
                at < base || at >= end,
                "a 1-byte piece pins the read buffer"
            );
            pieces.push(piece);
        }
    }
    assert_eq!(pieces.iter().map(|p| p.data.len()).sum::<usize>(), 100);
}

#[test]
fn a_large_read_buffer_is_not_kept_for_a_small_remainder() {
    let mut conn = server();
    let mut bytes = client_frame(OpCode::Binary, true, &[1; 1 << 20]);
    bytes.extend_from_slice(&client_frame(OpCode::Text, true, b"next")[..5]);
    let mut input = BytesMut::from(&bytes[..]);
    let (base, end) = (
        input.as_ptr() as usize,
        input.as_ptr() as usize + bytes.len(),
    );
    conn.receive(&mut input, T0);
    let Some(Event::Message(message)) = conn.poll_event() else {
        panic!()
    };
    assert_eq!(message.len(), 1 << 20);
    drop(message);
    // The 5 bytes left moved out: the megabyte is freed with the message.
    assert_eq!(input.len(), 5);
    let at = input.as_ptr() as usize;
    assert!(
        at < base || at >= end,
        "the remainder pins the large buffer"
    );
}

#[test]
fn fragmented_sending() {
    let mut conn = server();
    conn.send_fragment("ab", false).unwrap();
    assert_eq!(conn.send("x"), Err(SendError::FragmentOutOfOrder));
    assert_eq!(
        conn.send_fragment(Message::Binary(Bytes::new()), true),
        Err(SendError::FragmentOutOfOrder)
    );
    conn.send_fragment("c", true).unwrap();
    assert_eq!(wire(&mut conn), b"\x01\x02ab\x80\x01c");
}

#[test]
fn client_masks_every_frame_with_fresh_keys() {
    let mut counter = 0u8;
    let mut conn = Connection::established_client(
        Config::default(),
        move |b: &mut [u8]| {
            counter += 1;
            b.fill(counter);
        },
        T0,
    )
    .unwrap();
    conn.send("aa").unwrap();
    conn.send("aa").unwrap();
    assert_eq!(
        wire(&mut conn),
        b"\x81\x82\x01\x01\x01\x01\x60\x60\x81\x82\x02\x02\x02\x02\x63\x63"
    );
}

#[test]
fn replies_to_earlier_messages_go_out_before_the_close_frame() {
    // A message and a violation (then a ping) in one read: while the
    // application handles the message, the connection is still OPEN.
    let mut bytes = client_frame(OpCode::Text, true, b"first");
    bytes.extend(b"\xa1\x80\0\0\0\0"); // RSV2
    bytes.extend(client_frame(OpCode::Ping, true, b""));
    let mut conn = server();
    let mut input = BytesMut::from(&bytes[..]);
    conn.receive(&mut input, T0);
    assert_eq!(conn.poll_event(), Some(text("first")));
    assert_eq!(conn.ready_state(), ReadyState::Open);
    conn.send("first").unwrap();
    assert!(matches!(conn.poll_event(), Some(Event::Error(_))));
    let out = wire(&mut conn);
    assert_eq!(&out[..8], b"\x81\x05first\x88");
    assert_eq!(events(&mut conn), [closed(1006, false)]);

    // The same for a close frame that follows a message.
    let mut bytes = client_frame(OpCode::Text, true, b"last");
    bytes.extend(client_frame(OpCode::Close, true, b"\x03\xe8"));
    let mut conn = server();
    let mut input = BytesMut::from(&bytes[..]);
    conn.receive(&mut input, T0);
    assert_eq!(conn.poll_event(), Some(text("last")));
    conn.send("last").unwrap();
    assert_eq!(conn.poll_event(), None);
    assert_eq!(wire(&mut conn), b"\x81\x04last\x88\x02\x03\xe8");
}
