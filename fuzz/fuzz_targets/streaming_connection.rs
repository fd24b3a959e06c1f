//! A server connection in streaming mode (pieces handed on as they
//! arrive), with or without permessage-deflate (the first byte decides),
//! fed hostile frames in chunks. Never panics; every text piece is whole
//! code points; a message's pieces never add up to more than the message
//! limit; pieces come first to last; `Closed` comes once, last.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockweave::deflate::DeflateConfig;
use sockweave::{BytesMut, Config, Connection, Event, Instant, MessageKind, ReadyState, ServerPolicy};
use std::time::Duration;

const LIMIT: u64 = 1 << 14;

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&choice, frames)) = data.split_first() else {
        return;
    };
    let mut config = Config::default();
    config.max_message_len = LIMIT;
    config.max_frame_len = LIMIT;
    config.streaming = true;
    if choice & 1 == 1 {
        let mut deflate = DeflateConfig::default();
        deflate.threshold = 0;
        config.deflate = Some(deflate);
    }
    let chunk = usize::from(choice >> 1).max(1);
    let mut conn = Connection::server(ServerPolicy::default(), config, Instant::ZERO).unwrap();
    let mut stream = REQUEST.to_vec();
    stream.extend_from_slice(frames);

    let mut input = BytesMut::new();
    let mut now = Instant::ZERO;
    let mut in_message: Option<(MessageKind, u64)> = None;
    let mut closed = 0;
    let mut take = |conn: &mut Connection, input: &mut BytesMut, now: Instant| {
        while let Some(event) = conn.poll_event_from(input, now) {
            assert_eq!(closed, 0, "no event after Closed");
            match event {
                Event::Fragment(piece) => {
                    if piece.kind == MessageKind::Text {
                        assert!(
                            std::str::from_utf8(&piece.data).is_ok(),
                            "a text piece is whole code points"
                        );
                    }
                    let so_far = match in_message {
                        None => {
                            assert!(piece.first, "a message starts with its first piece");
                            0
                        }
                        Some((kind, so_far)) => {
                            assert!(!piece.first && kind == piece.kind, "pieces of one message");
                            so_far
                        }
                    };
                    let total = so_far + piece.data.len() as u64;
                    assert!(total <= LIMIT, "{total} bytes of pieces past the limit");
                    in_message = (!piece.last).then_some((piece.kind, total));
                }
                Event::Message(_) => panic!("streaming hands on pieces, not whole messages"),
                Event::Closed(_) => closed += 1,
                _ => {}
            }
        }
        let mut out = Vec::new();
        conn.poll_transmit(&mut out);
    };
    for piece in stream.chunks(chunk) {
        input.extend_from_slice(piece);
        conn.receive(&mut input, now);
        take(&mut conn, &mut input, now);
        now = now + Duration::from_millis(100);
    }
    conn.receive_eof(now);
    take(&mut conn, &mut input, now);
    conn.handle_timeout(now + Duration::from_secs(120));
    take(&mut conn, &mut input, now);
    assert_eq!(conn.ready_state(), ReadyState::Closed);
    assert_eq!(closed, 1, "exactly one Closed event");
});
