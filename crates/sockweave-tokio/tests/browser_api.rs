//! The browser-style interface against a sockweave echo server on loopback.

use sockweave_tokio::browser::{BinaryType, BrowserEvent, MessageData, Options, WebSocket};
use sockweave_tokio::{Config, ReadyState, ServerPolicy};
use std::time::Duration;
use tokio::net::TcpListener;

/// An echo server accepting `chat`, allowing only `https://good.example`
/// as a browser Origin; the text `close:CODE:REASON` makes it close.
async fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut policy = ServerPolicy::default();
                policy.protocols = vec!["chat".into()];
                policy.allowed_origins = Some(vec!["https://good.example".into()]);
                let mut config = Config::default();
                config.max_queued = 64 << 20;
                let mut ws = sockweave_tokio::accept_with(stream, policy, config).await?;
                while let Some(message) = ws.recv().await? {
                    let command = match &message {
                        sockweave_tokio::Message::Text(t) => t.as_str().strip_prefix("close:"),
                        _ => None,
                    };
                    if let Some(command) = command {
                        let (code, reason) = command.split_once(':').unwrap();
                        ws.close(code.parse::<u16>().unwrap().into(), reason)
                            .await?;
                    } else {
                        ws.send(message).await?;
                    }
                }
                Ok::<_, sockweave_tokio::Error>(())
            });
        }
    });
    url
}

async fn events(ws: &mut WebSocket) -> Vec<BrowserEvent> {
    let mut all = Vec::new();
    while let Some(event) = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("events keep coming")
    {
        all.push(event);
    }
    all
}

#[tokio::test]
async fn the_complete_example() {
    let url = echo_server().await;
    let mut socket = WebSocket::new(&url, &["chat"]).unwrap();
    assert_eq!(socket.ready_state(), ReadyState::Connecting);
    let mut log = Vec::new();
    while let Some(event) = socket.next().await {
        match event {
            BrowserEvent::Open => {
                assert_eq!(socket.protocol(), "chat");
                socket.send("Hello Server! 𝄞").unwrap();
            }
            BrowserEvent::Message(m) => {
                assert_eq!(m.origin, url.trim_end_matches('/'));
                log.push(m.data);
                socket.close(Some(1000), Some("Work complete")).unwrap();
                assert_eq!(socket.ready_state(), ReadyState::Closing);
            }
            BrowserEvent::Error(e) => panic!("error {e:?}"),
            BrowserEvent::Close(c) => {
                assert_eq!((c.code.0, c.was_clean), (1000, true));
            }
        }
    }
    assert_eq!(socket.ready_state(), ReadyState::Closed);
    assert!(matches!(&log[..], [MessageData::Text(t)] if t.as_str() == "Hello Server! 𝄞"));
}

#[tokio::test]
async fn handlers_like_javascript() {
    let url = echo_server().await;
    let socket = WebSocket::new(&url, &[]).unwrap();
    let (done, closed) = tokio::sync::oneshot::channel();
    let mut done = Some(done);
    let me = socket.clone();
    socket.on_open(move || me.send(vec![1u8, 2, 3]).unwrap());
    let me = socket.clone();
    socket.on_message(move |m| {
        assert!(matches!(&m.data, MessageData::Blob(b) if b.to_bytes()[..] == [1, 2, 3]));
        me.close(Some(4000), Some("bye")).unwrap();
    });
    socket.on_error(|e| panic!("error {e:?}"));
    socket.on_close(move |c| {
        done.take()
            .unwrap()
            .send(c)
            .expect("the test waits for the close");
    });
    let close = tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((close.code.0, close.was_clean), (4000, true));
    socket.closed().await;
}

#[tokio::test]
async fn server_initiated_close_arrives_with_code_and_reason() {
    let url = echo_server().await;
    let mut socket = WebSocket::new(&url, &[]).unwrap();
    assert_eq!(socket.next().await, Some(BrowserEvent::Open));
    socket.send("close:4001:server says bye").unwrap();
    let all = events(&mut socket).await;
    assert!(
        matches!(&all[..], [BrowserEvent::Close(c)] if c.code.0 == 4001 && c.reason == "server says bye" && c.was_clean),
        "{all:?}"
    );
}

#[tokio::test]
async fn refused_and_unreachable_are_error_then_1006() {
    let url = echo_server().await;
    let mut options = Options::default();
    options
        .headers
        .push(("Origin".into(), "https://evil.example".into()));
    let mut refused = WebSocket::with_options(&url, &[], options).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut unreachable = WebSocket::new(&format!("ws://127.0.0.1:{port}/"), &[]).unwrap();
    for socket in [&mut refused, &mut unreachable] {
        let all = events(socket).await;
        assert!(
            matches!(&all[..], [BrowserEvent::Error(_), BrowserEvent::Close(c)] if c.code.0 == 1006 && !c.was_clean),
            "{all:?}"
        );
    }
}

#[tokio::test]
async fn close_while_connecting_fails_the_connection() {
    let url = echo_server().await;
    let mut socket = WebSocket::new(&url, &[]).unwrap();
    socket.close(None, None).unwrap();
    assert_eq!(socket.ready_state(), ReadyState::Closing);
    let all = events(&mut socket).await;
    assert!(
        matches!(&all[..], [BrowserEvent::Error(None), BrowserEvent::Close(c)] if c.code.0 == 1006 && !c.was_clean),
        "{all:?}"
    );
}

#[tokio::test]
async fn buffered_amount_rises_then_drains_and_binary_types_differ() {
    let url = echo_server().await;
    let mut socket = WebSocket::new(&url, &[]).unwrap();
    assert_eq!(socket.next().await, Some(BrowserEvent::Open));
    socket.set_binary_type(BinaryType::ArrayBuffer);
    socket.send(vec![7u8; 16 << 20]).unwrap();
    assert!(
        socket.buffered_amount() > 0,
        "16 MiB cannot be written at once"
    );
    let Some(BrowserEvent::Message(m)) = socket.next().await else {
        panic!()
    };
    assert!(matches!(&m.data, MessageData::ArrayBuffer(b) if b.len() == 16 << 20));
    assert_eq!(socket.buffered_amount(), 0);
    socket.close(Some(1000), None).unwrap();
    socket.send("after close").unwrap(); // dropped, counted
    assert_eq!(socket.buffered_amount(), 11);
    let all = events(&mut socket).await;
    assert!(
        matches!(&all[..], [BrowserEvent::Close(c)] if c.was_clean),
        "{all:?}"
    );
}

#[test]
fn argument_errors_are_dom_exceptions() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        assert_eq!(
            WebSocket::new("ftp://x/", &[]).err().unwrap().name(),
            "SyntaxError"
        );
        assert_eq!(
            WebSocket::new("ws://x/", &["a", "a"]).err().unwrap().name(),
            "SyntaxError"
        );
        let socket = WebSocket::new("ws://127.0.0.1:9/", &[]).unwrap();
        assert_eq!(socket.send("x").unwrap_err().name(), "InvalidStateError");
        assert_eq!(
            socket.close(Some(1001), None).unwrap_err().name(),
            "InvalidAccessError"
        );
        assert_eq!(socket.url(), "ws://127.0.0.1:9/");
    });
}

mod reconnecting {
    use super::*;
    use sockweave_tokio::browser::{Reconnect, ReconnectEvent, ReconnectingWebSocket};

    fn fast(max_attempts: u32) -> Reconnect {
        let mut policy = Reconnect::default();
        policy.initial_delay = Duration::from_millis(20);
        policy.max_delay = Duration::from_millis(100);
        policy.max_attempts = Some(max_attempts);
        policy
    }

    /// Accepts connections; the first is dropped right after its handshake.
    async fn flaky_server() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut first = true;
            while let Ok((stream, _)) = listener.accept().await {
                let mut ws = sockweave_tokio::accept(stream).await.unwrap();
                if std::mem::take(&mut first) {
                    drop(ws); // gone without a closing handshake
                    continue;
                }
                tokio::spawn(async move {
                    while let Ok(Some(message)) = ws.recv().await {
                        if ws.send(message).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        url
    }

    fn kinds(events: &[ReconnectEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                ReconnectEvent::Socket(BrowserEvent::Open) => "open".into(),
                ReconnectEvent::Socket(BrowserEvent::Message(_)) => "message".into(),
                ReconnectEvent::Socket(BrowserEvent::Error(_)) => "error".into(),
                ReconnectEvent::Socket(BrowserEvent::Close(c)) => format!("close {}", c.code),
                ReconnectEvent::Reconnecting { attempt, delay } => {
                    assert!(*delay <= Duration::from_millis(100));
                    format!("reconnecting {attempt}")
                }
                ReconnectEvent::Reconnected { attempts } => format!("reconnected {attempts}"),
                ReconnectEvent::GaveUp { attempts } => format!("gave up {attempts}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn comes_back_after_a_drop_and_stops_when_closed() {
        let url = flaky_server().await;
        let mut ws = ReconnectingWebSocket::new(&url, &[], Options::default(), fast(5)).unwrap();
        let mut seen = Vec::new();
        while let Some(event) = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
        {
            let reopened = matches!(event, ReconnectEvent::Socket(BrowserEvent::Open))
                && seen
                    .iter()
                    .any(|e| matches!(e, ReconnectEvent::Reconnected { .. }));
            let echoed = matches!(event, ReconnectEvent::Socket(BrowserEvent::Message(_)));
            seen.push(event);
            if reopened {
                ws.send("back").unwrap();
            }
            if echoed {
                ws.close(Some(1000), None).unwrap();
            }
        }
        assert_eq!(
            kinds(&seen),
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

    #[tokio::test]
    async fn gives_up_after_the_last_attempt() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("ws://127.0.0.1:{port}/");
        let mut ws = ReconnectingWebSocket::new(&url, &[], Options::default(), fast(2)).unwrap();
        let mut seen = Vec::new();
        while let Some(event) = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
        {
            seen.push(event);
        }
        assert_eq!(
            kinds(&seen),
            [
                "error",
                "close 1006",
                "reconnecting 1",
                "error",
                "close 1006",
                "reconnecting 2",
                "error",
                "close 1006",
                "gave up 2"
            ]
        );
    }
}

#[tokio::test]
async fn keepalive_fails_a_silent_peer_after_the_pong_deadline() {
    // A server that completes the handshake and then never reads again.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let ws = sockweave_tokio::accept(stream).await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(ws);
    });
    let mut options = Options::default();
    options.config.keepalive = Some(sockweave::Keepalive {
        interval: Duration::from_millis(50),
        timeout: Duration::from_millis(100),
    });
    let mut socket = WebSocket::with_options(&url, &[], options).unwrap();
    let started = std::time::Instant::now();
    let all = events(&mut socket).await;
    assert!(
        matches!(
            &all[..],
            [
                BrowserEvent::Open,
                BrowserEvent::Error(Some(sockweave::Error::Timeout(
                    sockweave::Timeout::Pong
                ))),
                BrowserEvent::Close(c)
            ] if c.code.0 == 1006 && !c.was_clean
        ),
        "{all:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline, not the server, ended it"
    );
}

#[path = "../../../tests/support/raw_server.rs"]
mod raw_server;

fn accept_key(key: &[u8]) -> [u8; 28] {
    sockweave::handshake::accept_key(key)
}

#[tokio::test]
async fn a_server_that_sends_one_byte_at_a_time() {
    let url = raw_server::raw_server(accept_key, raw_server::trickle);
    let mut socket = WebSocket::new(&url, &[]).unwrap();
    let all = events(&mut socket).await;
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

/// A server that floods pings and never reads: the task's writes wait on
/// the pongs; `close()` still ends the connection within the close
/// timeout, and the task is gone.
#[tokio::test]
async fn a_peer_that_stops_reading_is_dropped_within_the_close_timeout() {
    let (full, filled) = std::sync::mpsc::channel();
    let url = raw_server::raw_server(accept_key, move |stream| {
        raw_server::ping_flood_never_reading(stream, full)
    });
    let mut options = Options::default();
    options.config.close_timeout = Duration::from_secs(1);
    let mut socket = WebSocket::with_options(&url, &[], options).unwrap();
    assert_eq!(socket.next().await, Some(BrowserEvent::Open));
    tokio::task::spawn_blocking(move || filled.recv_timeout(Duration::from_secs(20)))
        .await
        .unwrap()
        .expect("the pongs filled the sockets' buffers");
    let closing = std::time::Instant::now();
    socket.close(Some(1000), None).unwrap();
    let all = events(&mut socket).await;
    assert!(
        matches!(&all[..], [BrowserEvent::Error(_), BrowserEvent::Close(c)] if c.code.0 == 1006 && !c.was_clean),
        "{all:?}"
    );
    socket.closed().await;
    let took = closing.elapsed();
    assert!(took < Duration::from_secs(3), "closed after {took:?}");
}
