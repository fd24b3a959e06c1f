//! Shared driver for the connection targets.

use sockweave::{BytesMut, Connection, Event, Instant, ReadyState};
use std::time::Duration;

/// Feeds `data` (first byte: chunk size) into `conn`, echoing messages,
/// then ends the transport and lets every timer fire.
pub fn drive(mut conn: Connection, data: &[u8]) {
    let Some((&chunk, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut input = BytesMut::new();
    let mut out = Vec::new();
    let mut closed = 0;
    let mut now = Instant::ZERO;
    let mut step = |conn: &mut Connection, closed: &mut i32| {
        while let Some(event) = conn.poll_event() {
            assert_eq!(*closed, 0, "no event after Closed");
            match event {
                Event::Message(m) => {
                    let _ = conn.send(m);
                }
                Event::Closed(_) => *closed += 1,
                _ => {}
            }
        }
        out.clear();
        conn.poll_transmit(&mut out);
    };
    for piece in data.chunks(chunk) {
        input.extend_from_slice(piece);
        conn.receive(&mut input, now);
        step(&mut conn, &mut closed);
        // At its event budget the core leaves frames in the input.
        while conn.needs_receive() {
            conn.receive(&mut input, now);
            step(&mut conn, &mut closed);
        }
        assert!(
            input.len() <= (1 << 16) + 14 + piece.len() + 16 * 1024,
            "input held beyond limits"
        );
        now = now + Duration::from_millis(100);
    }
    conn.receive_eof(now);
    step(&mut conn, &mut closed);
    conn.handle_timeout(now + Duration::from_secs(60));
    step(&mut conn, &mut closed);
    assert_eq!(conn.ready_state(), ReadyState::Closed);
    assert_eq!(closed, 1, "exactly one Closed event");
}
