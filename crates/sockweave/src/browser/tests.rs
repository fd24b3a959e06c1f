//! The WHATWG rules, against a server connection over an in-memory link.

use super::*;
use crate::CloseCode;
use crate::event::Event;
use crate::handshake::{Accept, Reject, ServerPolicy};
use crate::utf8::Text;
use alloc::vec;
use bytes::Bytes;

const T0: Instant = Instant::ZERO;

fn zeros(buf: &mut [u8]) {
    buf.fill(0);
}

struct Link {
    ws: WebSocket,
    server: Connection,
}

impl Link {
    /// A browser socket and a server that accepts `chat` (or defers).
    fn new(protocols: &[&str], policy: ServerPolicy, options: Options) -> Self {
        let ws = WebSocket::new("ws://example.com/chat", protocols, options, zeros, T0).unwrap();
        let server = Connection::server(policy, Config::default(), T0).unwrap();
        Self { ws, server }
    }

    fn chat() -> Self {
        let policy = ServerPolicy {
            protocols: vec!["chat".into()],
            ..Default::default()
        };
        Self::new(&["chat", "superchat"], policy, Options::default())
    }

    /// Moves bytes both ways until neither side has any to write; says
    /// whether anything moved.
    fn pump(&mut self) -> bool {
        let mut any = false;
        loop {
            let mut moved = false;
            let mut out = Vec::new();
            let n: usize = self.ws.transmit().map(|s| s.len()).sum();
            for slice in self.ws.transmit() {
                out.extend_from_slice(slice);
            }
            self.ws.advance_transmit(n);
            if !out.is_empty() {
                moved = true;
                self.server.receive(&mut BytesMut::from(&out[..]), T0);
            }
            let mut back = Vec::new();
            self.server.poll_transmit(&mut back);
            if !back.is_empty() {
                moved = true;
                self.ws.receive(&mut BytesMut::from(&back[..]), T0);
            }
            if !moved {
                return any;
            }
            any = true;
        }
    }

    fn server_events(&mut self) -> Vec<Event> {
        core::iter::from_fn(|| self.server.poll_event()).collect()
    }

    /// Pumps and takes server events until the server has nothing new.
    fn settle_server(&mut self) -> Vec<Event> {
        let mut seen = Vec::new();
        loop {
            let moved = self.pump();
            let new = self.server_events();
            if new.is_empty() && !moved {
                return seen;
            }
            seen.extend(new);
        }
    }

    fn events(&mut self) -> Vec<BrowserEvent> {
        core::iter::from_fn(|| self.ws.poll_event()).collect()
    }

    fn open(&mut self) {
        self.pump();
        self.server_events();
        self.pump();
        assert_eq!(self.events(), [BrowserEvent::Open]);
    }
}

fn message(data: MessageData) -> BrowserEvent {
    BrowserEvent::Message(MessageEvent {
        data,
        origin: "ws://example.com".into(),
    })
}

#[test]
fn open_sets_protocol_and_state_when_the_event_is_taken() {
    let mut link = Link::chat();
    assert_eq!(link.ws.ready_state(), ReadyState::Connecting);
    assert_eq!(link.ws.protocol(), "");
    link.pump();
    link.server_events();
    link.pump();
    // The core is open, but the application has not seen `open` yet.
    assert_eq!(link.ws.ready_state(), ReadyState::Connecting);
    assert_eq!(link.ws.poll_event(), Some(BrowserEvent::Open));
    assert_eq!(link.ws.ready_state(), ReadyState::Open);
    assert_eq!(link.ws.protocol(), "chat");
    assert_eq!(link.ws.extensions(), "");
}

#[test]
fn send_before_open_is_invalid_state() {
    let mut link = Link::chat();
    let e = link.ws.send("early").unwrap_err();
    assert_eq!(e.name(), "InvalidStateError");
    assert_eq!(link.ws.buffered_amount(), 0);
}

#[test]
fn messages_carry_data_and_origin_and_binary_type_applies() {
    let mut link = Link::chat();
    link.open();
    link.server.send("κόσμε 𝄞").unwrap();
    link.server.send(vec![1u8, 2, 3]).unwrap();
    // A binary message in three frames.
    link.server.send_fragment(vec![1u8], false).unwrap();
    link.server.send_fragment(vec![2u8], false).unwrap();
    link.server.send_fragment(vec![3u8], true).unwrap();
    link.pump();
    let events = link.events();
    assert_eq!(
        events[0],
        message(MessageData::Text(Text::from_validated("κόσμε 𝄞".into())))
    );
    let BrowserEvent::Message(MessageEvent {
        data: MessageData::Blob(blob),
        ..
    }) = &events[2]
    else {
        panic!("{events:?}");
    };
    assert_eq!(
        (blob.len(), blob.chunks().len()),
        (3, 1),
        "small pieces are gathered"
    );
    assert_eq!(blob.to_bytes(), Bytes::from_static(&[1, 2, 3]));

    link.ws.set_binary_type(BinaryType::ArrayBuffer);
    link.server.send_fragment(vec![4u8], false).unwrap();
    link.server.send_fragment(vec![5u8], true).unwrap();
    link.server.send(Vec::new()).unwrap();
    link.pump();
    assert_eq!(
        link.events(),
        [
            message(MessageData::ArrayBuffer(Bytes::from_static(&[4, 5]))),
            message(MessageData::ArrayBuffer(Bytes::new())),
        ]
    );
}

#[test]
fn buffered_amount_rises_drains_and_keeps_counting_after_close() {
    let mut link = Link::chat();
    link.open();
    link.ws.send("hello").unwrap();
    link.ws.send(vec![0u8; 10]).unwrap();
    assert_eq!(link.ws.buffered_amount(), 15);
    link.pump();
    assert_eq!(link.ws.buffered_amount(), 0);
    link.ws.close(Some(1000), Some("done"), T0).unwrap();
    assert_eq!(link.ws.ready_state(), ReadyState::Closing);
    link.ws.send("é").unwrap(); // dropped, counted: 2 bytes of UTF-8
    assert_eq!(link.ws.buffered_amount(), 2);
}

#[test]
fn close_rules() {
    let mut link = Link::chat();
    link.open();
    assert_eq!(
        link.ws.close(Some(1001), None, T0).unwrap_err().name(),
        "InvalidAccessError"
    );
    let long = "x".repeat(124);
    assert_eq!(
        link.ws.close(None, Some(&long), T0).unwrap_err().name(),
        "SyntaxError"
    );
    assert_eq!(
        link.ws.ready_state(),
        ReadyState::Open,
        "a refused close changes nothing"
    );

    link.ws
        .close(Some(4000), Some("work complete"), T0)
        .unwrap();
    // A second close, now CLOSING, does nothing.
    link.ws.close(Some(1000), None, T0).unwrap();
    let seen = link.settle_server();
    assert!(
        seen.iter().any(
            |e| matches!(e, Event::Closed(c) if c.code.0 == 4000 && c.reason == "work complete")
        ),
        "{seen:?}"
    );
    link.ws.receive_eof(T0);
    let events = link.events();
    let [BrowserEvent::Close(close)] = &events[..] else {
        panic!("{events:?}")
    };
    // The server echoed 4000; the handshake completed both ways.
    assert_eq!((close.code.0, close.was_clean), (4000, true));
    assert_eq!(link.ws.ready_state(), ReadyState::Closed);
}

#[test]
fn close_without_code_sends_an_empty_frame_and_gets_1005() {
    let mut link = Link::chat();
    link.open();
    link.ws.close(None, None, T0).unwrap();
    let seen = link.settle_server();
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::Closed(c) if c.code == CloseCode::NO_STATUS)),
        "{seen:?}"
    );
    link.ws.receive_eof(T0);
    let events = link.events();
    assert!(
        matches!(&events[..], [BrowserEvent::Close(c)] if c.code == CloseCode::NO_STATUS && c.was_clean),
        "{events:?}"
    );
}

#[test]
fn messages_after_close_is_called_are_dropped() {
    let mut link = Link::chat();
    link.open();
    link.server.send("in flight").unwrap();
    link.ws.close(Some(1000), None, T0).unwrap();
    link.settle_server();
    link.ws.receive_eof(T0);
    let events = link.events();
    assert!(
        matches!(&events[..], [BrowserEvent::Close(_)]),
        "{events:?}"
    );
}

#[test]
fn server_initiated_close_shows_closing_then_code_and_reason() {
    let mut link = Link::chat();
    link.open();
    link.server
        .close(CloseCode(4001), "server says bye", T0)
        .unwrap();
    link.pump();
    // The peer's close frame is reached: CLOSING, then the close event.
    let events = link.events();
    link.server_events();
    assert!(
        events.is_empty() || matches!(&events[..], [BrowserEvent::Close(_)]),
        "{events:?}"
    );
    // Our echo is written before the server ends the transport: clean.
    link.pump();
    link.ws.receive_eof(T0);
    let mut events = events;
    events.extend(link.events());
    let [BrowserEvent::Close(close)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(
        (close.code.0, close.reason.as_str(), close.was_clean),
        (4001, "server says bye", true)
    );
}

#[test]
fn close_before_open_fails_with_error_then_1006() {
    let mut link = Link::chat();
    link.ws.close(Some(1000), None, T0).unwrap();
    assert_eq!(link.ws.ready_state(), ReadyState::Closing);
    assert_eq!(link.ws.poll_event(), Some(BrowserEvent::Error(None)));
    assert_eq!(link.ws.ready_state(), ReadyState::Closing);
    let Some(BrowserEvent::Close(close)) = link.ws.poll_event() else {
        panic!()
    };
    assert_eq!((close.code, close.was_clean), (CloseCode::ABNORMAL, false));
    assert_eq!(link.ws.ready_state(), ReadyState::Closed);
    assert_eq!(link.ws.poll_event(), None);
}

#[test]
fn a_refused_handshake_is_error_then_1006() {
    let policy = ServerPolicy {
        defer: true,
        ..Default::default()
    };
    let mut link = Link::new(&[], policy, Options::default());
    link.pump();
    let request = link.server_events();
    assert!(matches!(request[..], [Event::Request(_)]));
    link.server.reject(Reject::status(403)).unwrap();
    link.pump();
    link.ws.receive_eof(T0);
    let events = link.events();
    assert!(
        matches!(&events[..], [BrowserEvent::Error(Some(_)), BrowserEvent::Close(c)] if c.code == CloseCode::ABNORMAL && !c.was_clean),
        "{events:?}"
    );
    let _ = Accept::default();
}

#[test]
fn a_dropped_connection_is_error_then_1006() {
    let mut link = Link::chat();
    link.open();
    link.ws.receive_eof(T0);
    let events = link.events();
    assert!(
        matches!(&events[..], [BrowserEvent::Error(Some(_)), BrowserEvent::Close(c)] if c.code == CloseCode::ABNORMAL && !c.was_clean),
        "{events:?}"
    );
}

#[test]
fn a_full_queue_drops_the_connection() {
    let mut options = Options::default();
    options.config.max_queued = 64;
    let policy = ServerPolicy {
        protocols: vec!["chat".into()],
        ..Default::default()
    };
    let mut link = Link::new(&["chat"], policy, options);
    link.open();
    link.ws.send(vec![0u8; 60]).unwrap();
    link.ws.send(vec![1u8; 60]).unwrap(); // does not fit: "full"
    // Before the application takes the events, a smaller message is
    // discarded too: nothing after the failed one may reach the peer.
    link.ws.send(vec![2u8; 4]).unwrap();
    assert_eq!(
        link.ws.buffered_amount(),
        124,
        "what did not go still counts"
    );
    assert!(
        link.ws.transmit().next().is_none(),
        "nothing is written any more"
    );
    link.pump();
    assert!(
        !link
            .server_events()
            .iter()
            .any(|e| matches!(e, Event::Message(_))),
        "no message reached the peer"
    );
    let events = link.events();
    assert!(
        matches!(&events[..], [BrowserEvent::Error(Some(_)), BrowserEvent::Close(c)] if c.code == CloseCode::ABNORMAL),
        "{events:?}"
    );
    assert_eq!(link.ws.ready_state(), ReadyState::Closed);
}

#[test]
fn the_default_queue_is_a_browser_s() {
    assert_eq!(default_config().max_queued, 64 << 20);
}

#[test]
fn headers_and_protocols_reach_the_request() {
    let mut options = Options::default();
    options
        .headers
        .push(("Origin".into(), "https://app.example".into()));
    let policy = ServerPolicy {
        defer: true,
        ..Default::default()
    };
    let mut link = Link::new(&["a", "b"], policy, options);
    link.pump();
    let events = link.server_events();
    let [Event::Request(request)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(request.protocols, ["a", "b"]);
    assert_eq!(request.origin.as_deref(), Some("https://app.example"));
}

#[test]
fn constructor_errors() {
    let new = |url: &str, protocols: &[&str]| {
        WebSocket::new(url, protocols, Options::default(), zeros, T0).map(|_| ())
    };
    assert_eq!(new("ftp://x/", &[]).unwrap_err().name(), "SyntaxError");
    assert_eq!(new("ws://x/#a", &[]).unwrap_err().name(), "SyntaxError");
    assert_eq!(
        new("ws://x/", &["a", "a"]).unwrap_err().name(),
        "SyntaxError"
    );
    assert!(new("http://x/", &["a"]).is_ok());
}

#[test]
fn the_inbox_is_bounded_in_bytes_as_well_as_events() {
    let mut link = Link::chat();
    link.open();
    for _ in 0..3 {
        link.server.send(vec![0u8; 60]).unwrap();
    }
    link.pump();
    let mut inbox = Inbox::new(32, 100);
    let mut for_handlers = Vec::new();
    // 60 bytes leave room; 120 do not: the third message waits in the core.
    assert!(!inbox.fill(|| link.ws.poll_event(), &mut for_handlers));
    assert!(!inbox.has_room());
    assert!(inbox.pop().is_some());
    assert!(inbox.has_room());
    // The third comes in, and the inbox is full again at 120 bytes.
    assert!(!inbox.fill(|| link.ws.poll_event(), &mut for_handlers));
    assert!(inbox.pop().is_some() && inbox.pop().is_some() && inbox.pop().is_none());
    assert!(
        inbox.fill(|| link.ws.poll_event(), &mut for_handlers),
        "nothing left"
    );
}

#[test]
fn a_message_trickled_in_tiny_pieces_is_kept_in_few_pieces() {
    let mut link = Link::chat();
    link.open();
    let mut events = Vec::new();
    for i in 0..10_000u32 {
        link.server
            .send_fragment(vec![i as u8], i == 9_999)
            .unwrap();
        link.pump();
        events.extend(link.events());
    }
    let [
        BrowserEvent::Message(MessageEvent {
            data: MessageData::Blob(blob),
            ..
        }),
    ] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(blob.len(), 10_000);
    assert_eq!(blob.chunks().len(), 3, "4 KiB pieces, not 10,000 of a byte");
}

#[test]
fn a_handler_set_after_its_event_arrived_still_gets_it_in_order() {
    let mut link = Link::chat();
    link.pump();
    link.server_events();
    link.pump();
    link.server.send("first").unwrap();
    link.pump();
    let mut inbox = Inbox::default();
    let mut for_handlers = Vec::new();
    // No handler yet: the open and the message wait in the queue.
    assert!(inbox.fill(|| link.ws.poll_event(), &mut for_handlers));
    assert!(for_handlers.is_empty());
    // `onopen` set now takes the open event; the message, unhandled,
    // stays for the application.
    inbox.on_open(|| {});
    assert!(inbox.fill(|| link.ws.poll_event(), &mut for_handlers));
    assert_eq!(for_handlers, [BrowserEvent::Open]);
    assert!(matches!(inbox.pop(), Some(BrowserEvent::Message(_))));
}
