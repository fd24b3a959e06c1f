//! Arbitrary byte splits of the input stream: however a stream of frames
//! is cut into reads, a connection reports the same events.

use proptest::prelude::*;
use sockweave::frame::{FrameHeader, OpCode, encode_frame};
use sockweave::{Bytes, BytesMut, Config, Connection, Event, Instant, Message};

/// A message and how it is cut into fragments, with pings in between.
fn message() -> impl Strategy<Value = (Message, Vec<usize>, bool)> {
    let text = "[a-zé𝄞 ]{0,300}".prop_map(Message::from);
    let binary = proptest::collection::vec(any::<u8>(), 0..3000)
        .prop_map(|b| Message::Binary(Bytes::from(b)));
    (
        prop_oneof![text, binary],
        proptest::collection::vec(0usize..400, 0..4),
        any::<bool>(),
    )
}

/// Client frames for `message`, fragmented at `cuts` (on char boundaries).
fn frames(message: &Message, cuts: &[usize], ping: bool, wire: &mut Vec<u8>) {
    let bytes = message.as_bytes();
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|c| (*c).min(bytes.len()))
        .filter(|&c| match message {
            Message::Text(t) => t.is_char_boundary(c),
            Message::Binary(_) => true,
        })
        .collect();
    points.sort_unstable();
    points.dedup();
    let mut start = 0;
    let mut pieces = Vec::new();
    for p in points.into_iter().chain([bytes.len()]) {
        if p >= start {
            pieces.push(&bytes[start..p]);
            start = p;
        }
    }
    let first = match message {
        Message::Text(_) => OpCode::Text,
        Message::Binary(_) => OpCode::Binary,
    };
    let last = pieces.len() - 1;
    for (i, piece) in pieces.iter().enumerate() {
        let opcode = if i == 0 { first } else { OpCode::Continuation };
        let header = FrameHeader {
            fin: i == last,
            rsv: 0,
            opcode,
            mask: Some([i as u8, 7, 0x55, 0xaa]),
            payload_len: 0,
        };
        encode_frame(&header, piece, wire);
        if ping && i == 0 {
            let ping = FrameHeader {
                fin: true,
                rsv: 0,
                opcode: OpCode::Ping,
                mask: Some([1, 2, 3, 4]),
                payload_len: 0,
            };
            encode_frame(&ping, b"between", wire);
        }
    }
}

fn events_for(wire: &[u8], reads: &[usize]) -> Vec<Event> {
    let mut conn = Connection::established_server(Config::default(), Instant::ZERO).unwrap();
    let mut input = BytesMut::new();
    let mut at = 0;
    let mut events = Vec::new();
    for &n in reads.iter().chain([wire.len()].iter()) {
        let end = (at + n).min(wire.len());
        input.extend_from_slice(&wire[at..end]);
        at = end;
        conn.receive(&mut input, Instant::ZERO);
        events.extend(std::iter::from_fn(|| conn.poll_event()));
        while conn.needs_receive() {
            conn.receive(&mut input, Instant::ZERO);
            events.extend(std::iter::from_fn(|| conn.poll_event()));
        }
    }
    assert!(input.is_empty());
    events
}

proptest! {
    #[test]
    fn any_split_of_the_stream_gives_the_same_events(
        messages in proptest::collection::vec(message(), 1..6),
        reads in proptest::collection::vec(1usize..700, 0..40),
    ) {
        let mut wire = Vec::new();
        for (message, cuts, ping) in &messages {
            frames(message, cuts, *ping, &mut wire);
        }
        let whole = events_for(&wire, &[]);
        let received: Vec<&Message> = whole.iter().filter_map(|e| if let Event::Message(m) = e { Some(m) } else { None }).collect();
        let sent: Vec<&Message> = messages.iter().map(|(m, _, _)| m).collect();
        prop_assert_eq!(received, sent);
        prop_assert_eq!(events_for(&wire, &reads), whole.clone());
        let one_by_one = vec![1; wire.len().min(20_000)];
        prop_assert_eq!(events_for(&wire, &one_by_one), whole);
    }
}
