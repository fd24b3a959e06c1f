//! A model test: two cores driven against each other with random
//! interleavings of sends, pings, closes, chunked delivery, timeouts and
//! dropped transports. They must never panic, always reach CLOSED, and
//! agree on what was delivered.

use proptest::prelude::*;
use sockweave::{Bytes, CloseCode, Config, Event, Message, ReadyState};
use sockweave_tests::Pair;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Op {
    Send {
        client: bool,
        text: bool,
        len: usize,
    },
    Fragment {
        client: bool,
        len: usize,
        last: bool,
    },
    Ping {
        client: bool,
    },
    Close {
        client: bool,
        code: u16,
    },
    Deliver {
        chunk: usize,
    },
    Advance {
        millis: u64,
    },
    Drop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), any::<bool>(), 0usize..3000).prop_map(|(client, text, len)| Op::Send { client, text, len }),
        1 => (any::<bool>(), 0usize..200, any::<bool>()).prop_map(|(client, len, last)| Op::Fragment { client, len, last }),
        1 => any::<bool>().prop_map(|client| Op::Ping { client }),
        1 => (any::<bool>(), 4000u16..4010).prop_map(|(client, code)| Op::Close { client, code }),
        4 => (1usize..5000).prop_map(|chunk| Op::Deliver { chunk }),
        1 => (0u64..7000).prop_map(|millis| Op::Advance { millis }),
        1 => Just(Op::Drop),
    ]
}

fn received(events: &[Event]) -> Vec<Message> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::Message(m) = e {
                Some(m.clone())
            } else {
                None
            }
        })
        .collect()
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=100000 for a longer hunt.
    #[test]
    fn random_interleavings_always_reach_closed(ops in proptest::collection::vec(op(), 1..60)) {
        let mut config = Config::default();
        config.max_queued = 64 << 10;
        let mut pair = Pair::open(config.clone(), config);
        // Messages each side's core accepted, whole ones only.
        let mut sent = [Vec::new(), Vec::new()];
        let mut pieces: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        let mut dropped = false;
        for op in ops {
            match op {
                Op::Send { client, text, len } => {
                    let message = if text { Message::from("é".repeat(len / 2)) } else { Message::Binary(Bytes::from(vec![1u8; len])) };
                    let end = if client { &mut pair.client } else { &mut pair.server };
                    if end.conn.send(message.clone()).is_ok() {
                        sent[usize::from(client)].push(message);
                    }
                }
                Op::Fragment { client, len, last } => {
                    let end = if client { &mut pair.client } else { &mut pair.server };
                    let piece = vec![2u8; len];
                    if end.conn.send_fragment(Message::Binary(Bytes::from(piece.clone())), last).is_ok() {
                        let whole = &mut pieces[usize::from(client)];
                        whole.extend_from_slice(&piece);
                        if last {
                            sent[usize::from(client)].push(Message::Binary(Bytes::from(std::mem::take(whole))));
                        }
                    }
                }
                Op::Ping { client } => {
                    let end = if client { &mut pair.client } else { &mut pair.server };
                    let _ = end.conn.ping(b"model");
                }
                Op::Close { client, code } => {
                    let now = pair.now;
                    let end = if client { &mut pair.client } else { &mut pair.server };
                    end.conn.close(CloseCode(code), "model", now).unwrap();
                }
                Op::Deliver { chunk } => { pair.step(chunk); }
                Op::Advance { millis } => pair.advance(Duration::from_millis(millis)),
                Op::Drop => {
                    if !dropped {
                        dropped = true;
                        let now = pair.now;
                        pair.client.link.clear();
                        pair.server.link.clear();
                        pair.client.conn.receive_eof(now);
                        pair.server.conn.receive_eof(now);
                        pair.client.eof_sent = true;
                        pair.server.eof_sent = true;
                    }
                }
            }
        }
        // Let everything settle: deliver, then let timers fire.
        for _ in 0..10 {
            pair.run(usize::MAX);
            if pair.client.conn.ready_state() == ReadyState::Closed && pair.server.conn.ready_state() == ReadyState::Closed {
                break;
            }
            if pair.client.conn.ready_state() == ReadyState::Open {
                pair.client.conn.close(CloseCode::NORMAL, "", pair.now).unwrap();
            }
            pair.advance(Duration::from_secs(6));
        }
        for (name, end, peer_sent) in [("client", &pair.client, &sent[0]), ("server", &pair.server, &sent[1])] {
            prop_assert_eq!(end.conn.ready_state(), ReadyState::Closed, "{} not closed", name);
            let closes: Vec<_> = end.events.iter().filter_map(|e| if let Event::Closed(c) = e { Some(c.clone()) } else { None }).collect();
            prop_assert_eq!(closes.len(), 1, "{}: {:?}", name, end.events);
            prop_assert!(matches!(end.events.last(), Some(Event::Closed(_))));
            let close = &closes[0];
            let got = received(&end.events);
            // A clean close means the peer's close frame arrived, and with
            // it every message the peer sent before it.
            if close.was_clean {
                prop_assert_ne!(close.code, CloseCode::ABNORMAL);
                prop_assert_eq!(&got, peer_sent, "{} lost messages", name);
            } else {
                prop_assert!(peer_sent.starts_with(&got), "{} got messages out of order", name);
            }
        }
    }
}
