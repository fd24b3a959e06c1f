//! Client and server cores against each other, over every chunk size.

use sockweave::{Bytes, CloseCode, CloseEvent, Config, Event, Message, ReadyState};
use sockweave_tests::Pair;
use std::time::Duration;

fn messages(events: &[Event]) -> Vec<Message> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn close_event(events: &[Event]) -> CloseEvent {
    let closes: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Closed(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(closes.len(), 1, "exactly one Closed event: {events:?}");
    assert!(
        matches!(events.last(), Some(Event::Closed(_))),
        "Closed is the last event"
    );
    closes[0].clone()
}

#[test]
fn echo_and_close_at_every_chunk_size() {
    let sent: Vec<Message> = vec![
        Message::from("hello"),
        Message::from("κόσμε 𝄞".repeat(100)),
        Message::Binary(Bytes::from(vec![7u8; 70_000])),
        Message::from(""),
    ];
    for chunk in [1, 2, 3, 7, 13, 125, 4096, usize::MAX] {
        let mut pair = Pair::open(Config::default(), Config::default());
        for m in &sent {
            pair.client.conn.send(m.clone()).unwrap();
            pair.server.conn.send(m.clone()).unwrap();
        }
        pair.client.conn.ping(b"are you there").unwrap();
        pair.client
            .conn
            .close(CloseCode(4001), "bye", pair.now)
            .unwrap();
        pair.run(chunk);
        assert_eq!(messages(&pair.server.events), sent, "chunk {chunk}");
        assert_eq!(messages(&pair.client.events), sent, "chunk {chunk}");
        assert!(
            pair.client
                .events
                .contains(&Event::Pong(Bytes::from_static(b"are you there")))
        );
        assert_eq!(pair.server.conn.ready_state(), ReadyState::Closed);
        assert_eq!(pair.client.conn.ready_state(), ReadyState::Closed);
        let server_close = close_event(&pair.server.events);
        let client_close = close_event(&pair.client.events);
        assert_eq!(
            (
                server_close.code,
                server_close.reason.as_str(),
                server_close.was_clean
            ),
            (CloseCode(4001), "bye", true)
        );
        assert_eq!(
            (client_close.code, client_close.was_clean),
            (CloseCode(4001), true)
        );
    }
}

#[test]
fn server_initiated_close_is_clean_on_both_sides() {
    let mut pair = Pair::open(Config::default(), Config::default());
    pair.server
        .conn
        .close(CloseCode::GOING_AWAY, "restart", pair.now)
        .unwrap();
    pair.run(5);
    let client_close = close_event(&pair.client.events);
    assert_eq!(
        (
            client_close.code,
            client_close.reason.as_str(),
            client_close.was_clean
        ),
        (CloseCode::GOING_AWAY, "restart", true)
    );
    assert!(close_event(&pair.server.events).was_clean);
}

#[test]
fn simultaneous_close() {
    let mut pair = Pair::open(Config::default(), Config::default());
    pair.server
        .conn
        .close(CloseCode(4000), "s", pair.now)
        .unwrap();
    pair.client
        .conn
        .close(CloseCode(4001), "c", pair.now)
        .unwrap();
    pair.run(usize::MAX);
    let (c, s) = (
        close_event(&pair.client.events),
        close_event(&pair.server.events),
    );
    assert_eq!((c.code, s.code), (CloseCode(4000), CloseCode(4001)));
    assert!(c.was_clean && s.was_clean);
}

#[test]
fn a_silent_server_times_out_the_client_close() {
    let mut pair = Pair::open(Config::default(), Config::default());
    pair.client
        .conn
        .close(CloseCode::NORMAL, "", pair.now)
        .unwrap();
    // Nothing is delivered: the server never answers.
    pair.advance(Duration::from_secs(5));
    let close = close_event(&pair.client.events);
    assert_eq!((close.code, close.was_clean), (CloseCode::ABNORMAL, false));
}

#[test]
fn protocols_are_negotiated() {
    let mut policy = sockweave::ServerPolicy::default();
    policy.protocols = vec!["v2".into(), "v1".into()];
    let mut pair = Pair::new(Config::default(), Config::default(), policy);
    pair.run(usize::MAX);
    assert_eq!(pair.client.conn.protocol(), Some("v2"));
    assert_eq!(pair.server.conn.protocol(), Some("v2"));
}

#[test]
fn buffered_amount_rises_and_drains() {
    let mut pair = Pair::open(Config::default(), Config::default());
    pair.client
        .conn
        .send(Message::Binary(Bytes::from(vec![0; 1000])))
        .unwrap();
    pair.client.conn.send("12345").unwrap();
    assert_eq!(pair.client.conn.buffered_amount(), 1005);
    pair.run(usize::MAX);
    assert_eq!(pair.client.conn.buffered_amount(), 0);
}

#[test]
fn autobahn_scale_fragmentation_fits_the_default_limits() {
    // 4 MiB in 65,536 fragments of 64 bytes (Autobahn 9.4.x).
    let mut pair = Pair::open(Config::default(), Config::default());
    let piece = Message::Binary(Bytes::from(vec![0xab; 64]));
    for i in 0..65_536 {
        pair.client
            .conn
            .send_fragment(piece.clone(), i == 65_535)
            .unwrap();
        if i % 1024 == 0 {
            pair.run(usize::MAX);
        }
    }
    pair.run(usize::MAX);
    let got = messages(&pair.server.events);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].len(), 4 << 20);
}
