//! The browser-style interface on blocking sockets, against a sockweave
//! echo server on loopback.

use sockweave_std::browser::{BinaryType, BrowserEvent, MessageData, Options, WebSocket};
use sockweave_std::{Config, Message, ReadyState, ServerPolicy};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// An echo server accepting `chat`, allowing only `https://good.example`
/// as a browser Origin; the text `close:CODE:REASON` makes it close.
fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            thread::spawn(move || {
                let mut policy = ServerPolicy::default();
                policy.protocols = vec!["chat".into()];
                policy.allowed_origins = Some(vec!["https://good.example".into()]);
                let mut config = Config::default();
                config.max_queued = 64 << 20;
                let mut ws = sockweave_std::accept_with(stream, policy, config)?;
                while let Some(message) = ws.recv()? {
                    let command = match &message {
                        Message::Text(t) => t.as_str().strip_prefix("close:"),
                        _ => None,
                    };
                    match command.and_then(|c| c.split_once(':')) {
                        Some((code, reason)) => {
                            ws.close(code.parse::<u16>().unwrap().into(), reason)?
                        }
                        None => ws.send(message)?,
                    }
                }
                Ok::<_, sockweave_std::Error>(())
            });
        }
    });
    url
}

fn events(ws: &WebSocket) -> Vec<BrowserEvent> {
    std::iter::from_fn(|| ws.next()).collect()
}

#[test]
fn the_complete_example() {
    let url = echo_server();
    let socket = WebSocket::new(&url, &["chat"]).unwrap();
    let mut texts = Vec::new();
    let mut close = None;
    while let Some(event) = socket.next() {
        match event {
            BrowserEvent::Open => {
                assert_eq!(socket.protocol(), "chat");
                socket.send("Hello Server! 𝄞").unwrap();
            }
            BrowserEvent::Message(m) => {
                if let MessageData::Text(t) = m.data {
                    texts.push(t.as_str().to_owned());
                }
                socket.close(Some(1000), Some("Work complete")).unwrap();
            }
            BrowserEvent::Error(e) => panic!("error {e:?}"),
            BrowserEvent::Close(c) => close = Some(c),
        }
    }
    assert_eq!(texts, ["Hello Server! 𝄞"]);
    let close = close.unwrap();
    assert_eq!((close.code.0, close.was_clean), (1000, true));
    assert_eq!(socket.ready_state(), ReadyState::Closed);
}

#[test]
fn handlers_like_javascript() {
    let url = echo_server();
    let socket = WebSocket::new(&url, &[]).unwrap();
    let (done, closed) = mpsc::channel();
    let me = socket.clone();
    socket.on_open(move || me.send(vec![1u8, 2, 3]).unwrap());
    let me = socket.clone();
    socket.on_message(move |m| {
        assert!(matches!(&m.data, MessageData::Blob(b) if b.to_bytes()[..] == [1, 2, 3]));
        me.close(Some(4000), Some("bye")).unwrap();
    });
    socket.on_close(move |c| done.send(c).unwrap());
    let close = closed.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!((close.code.0, close.was_clean), (4000, true));
    socket.wait_closed();
}

/// The socket's thread may open the connection before `on_open` is
/// called (JavaScript would dispatch later): the handler still gets it.
#[test]
fn a_handler_set_after_the_open_still_gets_it() {
    let url = echo_server();
    let socket = WebSocket::new(&url, &[]).unwrap();
    thread::sleep(Duration::from_millis(300));
    let (opened, open) = mpsc::channel();
    socket.on_open(move || opened.send(()).unwrap());
    open.recv_timeout(Duration::from_secs(5))
        .expect("the open event reached the late handler");
    socket.close(Some(1000), None).unwrap();
    socket.wait_closed();
}

#[test]
fn server_close_refusal_and_unreachable() {
    let url = echo_server();
    let socket = WebSocket::new(&url, &[]).unwrap();
    assert_eq!(socket.next(), Some(BrowserEvent::Open));
    socket.send("close:4001:server says bye").unwrap();
    let all = events(&socket);
    assert!(
        matches!(&all[..], [BrowserEvent::Close(c)] if c.code.0 == 4001 && c.reason == "server says bye" && c.was_clean),
        "{all:?}"
    );

    let mut options = Options::default();
    options
        .headers
        .push(("Origin".into(), "https://evil.example".into()));
    let refused = WebSocket::with_options(&url, &[], options).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = WebSocket::new(&format!("ws://127.0.0.1:{port}/"), &[]).unwrap();
    for socket in [refused, unreachable] {
        let all = events(&socket);
        assert!(
            matches!(&all[..], [BrowserEvent::Error(_), BrowserEvent::Close(c)] if c.code.0 == 1006 && !c.was_clean),
            "{all:?}"
        );
    }
}

#[test]
fn close_while_connecting_and_buffered_amount() {
    let url = echo_server();
    let early = WebSocket::new(&url, &[]).unwrap();
    early.close(None, None).unwrap();
    let all = events(&early);
    assert!(
        matches!(&all[..], [BrowserEvent::Error(None), BrowserEvent::Close(c)] if c.code.0 == 1006),
        "{all:?}"
    );

    let socket = WebSocket::new(&url, &[]).unwrap();
    assert_eq!(socket.next(), Some(BrowserEvent::Open));
    socket.set_binary_type(BinaryType::ArrayBuffer);
    socket.send(vec![7u8; 16 << 20]).unwrap();
    assert!(socket.buffered_amount() > 0);
    let Some(BrowserEvent::Message(m)) = socket.next() else {
        panic!()
    };
    assert!(matches!(&m.data, MessageData::ArrayBuffer(b) if b.len() == 16 << 20));
    assert_eq!(socket.buffered_amount(), 0);
    socket.close(Some(1000), None).unwrap();
    socket.send("after close").unwrap();
    assert_eq!(socket.buffered_amount(), 11);
    let all = events(&socket);
    assert!(
        matches!(&all[..], [BrowserEvent::Close(c)] if c.was_clean),
        "{all:?}"
    );
}

#[test]
fn reconnects_after_a_drop_and_stops_when_closed() {
    use sockweave_std::browser::{Reconnect, ReconnectEvent, ReconnectingWebSocket};
    // The first connection is dropped right after its handshake; later
    // ones echo.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut ws) = sockweave_std::accept(stream.unwrap()) else {
                continue;
            };
            if n == 0 {
                continue; // dropped: no closing handshake
            }
            thread::spawn(move || {
                while let Ok(Some(message)) = ws.recv() {
                    if ws.send(message).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let mut policy = Reconnect::default();
    policy.initial_delay = Duration::from_millis(20);
    policy.max_attempts = Some(3);
    let mut ws = ReconnectingWebSocket::new(&url, &[], Options::default(), policy).unwrap();
    let mut seen = Vec::new();
    while let Some(event) = ws.next() {
        match &event {
            ReconnectEvent::Socket(BrowserEvent::Open) if seen.len() > 1 => {
                ws.send("back").unwrap()
            }
            ReconnectEvent::Socket(BrowserEvent::Message(_)) => ws.close(Some(1000), None).unwrap(),
            _ => {}
        }
        seen.push(match event {
            ReconnectEvent::Socket(BrowserEvent::Open) => "open".to_string(),
            ReconnectEvent::Socket(BrowserEvent::Message(_)) => "message".into(),
            ReconnectEvent::Socket(BrowserEvent::Error(_)) => "error".into(),
            ReconnectEvent::Socket(BrowserEvent::Close(c)) => format!("close {}", c.code),
            ReconnectEvent::Reconnecting { attempt, .. } => format!("reconnecting {attempt}"),
            ReconnectEvent::Reconnected { attempts } => format!("reconnected {attempts}"),
            ReconnectEvent::GaveUp { attempts } => format!("gave up {attempts}"),
        });
    }
    assert_eq!(
        seen,
        [
            "open",
            "error",
            "close 1006",
            "reconnecting 1",
            "reconnected 1",
            "open",
            "message",
            "close 1000"
        ]
    );
}

#[path = "../../../tests/support/raw_server.rs"]
mod raw_server;

fn accept_key(key: &[u8]) -> [u8; 28] {
    sockweave::handshake::accept_key(key)
}

#[test]
fn a_server_that_sends_one_byte_at_a_time() {
    let url = raw_server::raw_server(accept_key, raw_server::trickle);
    let socket = WebSocket::new(&url, &[]).unwrap();
    let all = events(&socket);
    let [
        BrowserEvent::Open,
        BrowserEvent::Message(text),
        BrowserEvent::Message(blob),
        BrowserEvent::Close(close),
    ] = &all[..]
    else {
        panic!("{all:?}")
    };
    assert!(matches!(&text.data, MessageData::Text(t) if t.as_str() == "𝄞é!"));
    assert!(matches!(&blob.data, MessageData::Blob(b) if b.to_bytes()[..] == [7u8; 300]));
    assert_eq!(
        (close.code.0, &close.reason[..], close.was_clean),
        (1000, "bye", true)
    );
}

/// A server that floods pings and never reads: the socket's writes block
/// on the pongs; `close()` from the application still ends the connection
/// within the close timeout (the blocked write looks at the new deadline),
/// and the socket's thread is gone.
#[test]
fn a_peer_that_stops_reading_is_dropped_within_the_close_timeout() {
    let (full, filled) = mpsc::channel();
    let url = raw_server::raw_server(accept_key, move |stream| {
        raw_server::ping_flood_never_reading(stream, full)
    });
    let mut options = Options::default();
    options.config.close_timeout = Duration::from_secs(1);
    let socket = WebSocket::with_options(&url, &[], options).unwrap();
    assert_eq!(socket.next(), Some(BrowserEvent::Open));
    filled
        .recv_timeout(Duration::from_secs(20))
        .expect("the pongs filled the sockets' buffers");
    let closing = std::time::Instant::now();
    socket.close(Some(1000), None).unwrap();
    let all = events(&socket);
    let took = closing.elapsed();
    assert!(
        matches!(&all[..], [BrowserEvent::Error(_), BrowserEvent::Close(c)] if c.code.0 == 1006 && !c.was_clean),
        "{all:?}"
    );
    assert!(took < Duration::from_secs(3), "closed after {took:?}");
    socket.wait_closed();
    assert!(closing.elapsed() < Duration::from_secs(3));
}
