//! The tokio adapter against tungstenite (both roles), over a one-byte
//! pipe, under cancellation, split across tasks, and against a peer that
//! stops reading.

use futures_util::{SinkExt, StreamExt};
use sockweave_tokio::sockweave::Bytes;
use sockweave_tokio::sockweave::handshake::ClientRequest;
use sockweave_tokio::{CloseCode, Config, Message, ServerPolicy, accept, client, connect};
use std::net::TcpStream as StdTcpStream;
use std::time::Duration;
use tokio::net::TcpListener;
use tungstenite::protocol::frame::coding::CloseCode as TCode;

fn corpus() -> Vec<Message> {
    vec![
        Message::from("hello"),
        Message::from("four-byte 𝄞 and two-byte é"),
        Message::from(""),
        Message::Binary(Bytes::from_static(&[0, 1, 2, 255])),
        Message::Binary(Bytes::from(vec![0x5a; 16 << 20])),
    ]
}

fn to_tungstenite(m: &Message) -> tungstenite::Message {
    match m {
        Message::Text(t) => tungstenite::Message::text(t.as_str()),
        Message::Binary(b) => tungstenite::Message::binary(b.to_vec()),
    }
}

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    (listener, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_against_tungstenite_server() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", std_listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let mut ws = tungstenite::accept(std_listener.accept().unwrap().0).unwrap();
        loop {
            match ws.read() {
                Ok(tungstenite::Message::Text(t)) if t.as_str() == "close me" => ws
                    .close(Some(tungstenite::protocol::CloseFrame {
                        code: TCode::Library(4001),
                        reason: "as asked".into(),
                    }))
                    .unwrap(),
                Ok(m @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                    ws.send(m).unwrap()
                }
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => return,
                Err(e) => panic!("tungstenite server: {e}"),
            }
        }
    });
    let mut ws = connect(&url).await.unwrap();
    for m in corpus() {
        ws.send(m.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(m));
    }
    ws.send_fragment("frag", false).await.unwrap();
    ws.send_fragment("mented", true).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Some(Message::from("fragmented")));
    ws.ping(b"ping?").await.unwrap();
    loop {
        match ws.next_event().await.unwrap() {
            Some(sockweave_tokio::Event::Pong(p)) => break assert_eq!(&p[..], b"ping?"),
            Some(_) => {}
            None => panic!("closed before the pong"),
        }
    }
    ws.send("close me").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), None);
    let close = ws.close_event().unwrap();
    assert_eq!(
        (close.code, close.reason.as_str(), close.was_clean),
        (CloseCode(4001), "as asked", true)
    );
    server.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_against_tungstenite_client() {
    let (listener, url) = listener().await;
    let peer = std::thread::spawn(move || {
        let addr = url
            .trim_start_matches("ws://")
            .trim_end_matches('/')
            .to_string();
        let (mut ws, _) =
            tungstenite::client(url.as_str(), StdTcpStream::connect(addr).unwrap()).unwrap();
        let mut echoed = Vec::new();
        for m in corpus() {
            ws.send(to_tungstenite(&m)).unwrap();
            echoed.push(ws.read().unwrap().into_data().to_vec());
        }
        ws.send(tungstenite::Message::Ping(b"hi".to_vec().into()))
            .unwrap();
        assert!(matches!(ws.read().unwrap(), tungstenite::Message::Pong(p) if &p[..] == b"hi"));
        ws.close(Some(tungstenite::protocol::CloseFrame {
            code: TCode::Normal,
            reason: "done".into(),
        }))
        .unwrap();
        while !matches!(ws.read(), Err(tungstenite::Error::ConnectionClosed)) {}
        echoed
    });
    let (stream, _) = listener.accept().await.unwrap();
    let mut config = Config::default();
    config.max_queued = 32 << 20;
    let mut ws = sockweave_tokio::accept_with(stream, ServerPolicy::default(), config)
        .await
        .unwrap();
    while let Some(m) = ws.recv().await.unwrap() {
        ws.send(m).await.unwrap();
    }
    let close = ws.close_event().unwrap();
    assert_eq!(
        (close.code, close.reason.as_str(), close.was_clean),
        (CloseCode::NORMAL, "done", true)
    );
    let echoed = tokio::task::spawn_blocking(move || peer.join().unwrap())
        .await
        .unwrap();
    assert_eq!(
        echoed,
        corpus()
            .iter()
            .map(|m| m.as_bytes().to_vec())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn one_byte_pipe_both_ways() {
    // A pipe that holds one byte: every read and write moves a single byte.
    let (a, b) = tokio::io::duplex(1);
    let server = tokio::spawn(async move {
        let mut ws = accept(b).await.unwrap();
        while let Some(m) = ws.recv().await.unwrap() {
            ws.send(m).await.unwrap();
        }
        ws.close_event().unwrap().was_clean
    });
    let request = ClientRequest::new("ws://pipe/").unwrap();
    let mut ws = client(a, &request, Config::default()).await.unwrap();
    for m in [
        Message::from("κόσμε 𝄞"),
        Message::Binary(Bytes::from(vec![7; 3000])),
    ] {
        ws.send(m.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(m));
    }
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), None);
    // Over a pipe there is no TCP close from the server to wait for: the
    // client ends at EOF when the server drops its end.
    assert!(server.await.unwrap());
}

/// `try_next_event` hands out every kind of event already decoded, in
/// order, without I/O: a ping among messages is not skipped (as
/// `try_recv` skips it). The close is reported once our reply is written,
/// which takes I/O: by `next_event`.
#[tokio::test]
async fn try_next_event_takes_what_arrived_in_order() {
    use sockweave_tokio::sockweave::Event;
    let (a, b) = tokio::io::duplex(64 << 10);
    let (sent, wait) = tokio::sync::oneshot::channel();
    let peer = tokio::spawn(async move {
        let request = ClientRequest::new("ws://pipe/").unwrap();
        let mut ws = client(a, &request, Config::default()).await.unwrap();
        ws.feed("one").await.unwrap();
        ws.ping(b"between").await.unwrap();
        ws.send("two").await.unwrap();
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        sent.send(()).unwrap();
        while ws.recv().await.unwrap().is_some() {}
    });
    let mut ws = accept(b).await.unwrap();
    wait.await.unwrap();
    let first = ws.next_event().await.unwrap();
    assert_eq!(first, Some(Event::Message(Message::from("one"))));
    let mut rest = Vec::new();
    while let Some(event) = ws.try_next_event() {
        rest.push(event);
    }
    assert!(
        matches!(&rest[..], [Event::Ping(p), Event::Message(m)]
            if p[..] == b"between"[..] && *m == Message::from("two")),
        "{rest:?}"
    );
    let closed = ws.next_event().await.unwrap();
    assert!(matches!(closed, Some(Event::Closed(c)) if c.reason == "done"));
    assert_eq!(ws.close_event().unwrap().reason, "done");
    assert_eq!(ws.next_event().await.unwrap(), None);
    peer.await.unwrap();
}

#[tokio::test]
async fn recv_is_cancel_safe() {
    let (a, b) = tokio::io::duplex(64);
    let server = tokio::spawn(async move {
        let mut ws = accept(b).await.unwrap();
        for i in 0..300 {
            ws.send(format!("message {i}")).await.unwrap();
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        while ws.recv().await.unwrap().is_some() {}
    });
    let request = ClientRequest::new("ws://pipe/").unwrap();
    let mut ws = client(a, &request, Config::default()).await.unwrap();
    let mut got = Vec::new();
    loop {
        // Abandon the receive whenever the timer wins; nothing may be lost.
        tokio::select! {
            m = ws.recv() => match m.unwrap() {
                Some(Message::Text(t)) => got.push(t.to_string()),
                Some(_) => unreachable!(),
                None => break,
            },
            _ = tokio::task::yield_now() => {}
        }
    }
    assert_eq!(
        got,
        (0..300).map(|i| format!("message {i}")).collect::<Vec<_>>()
    );
    server.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_stream_and_sink() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut ws = accept(listener.accept().await.unwrap().0).await.unwrap();
        while let Some(m) = ws.recv().await.unwrap() {
            ws.send(m).await.unwrap();
        }
    });
    let (mut read, mut write) = connect(&url).await.unwrap().split();
    let writer = tokio::spawn(async move {
        let mut messages =
            futures_util::stream::iter((0..1000).map(|i| Ok(Message::from(format!("m{i}")))));
        write.send_all(&mut messages).await.unwrap();
        write
    });
    for i in 0..1000 {
        assert_eq!(
            read.next().await.unwrap().unwrap(),
            Message::from(format!("m{i}"))
        );
    }
    let mut write = writer.await.unwrap();
    write.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(read.next().await.is_none());
    assert!(read.close_event().unwrap().was_clean);
    server.await.unwrap();
}

#[tokio::test]
async fn a_peer_that_stops_reading_gets_backpressure_not_memory() {
    let (a, b) = tokio::io::duplex(4096);
    let _silent_client = tokio::spawn(async move {
        let request = ClientRequest::new("ws://pipe/").unwrap();
        let ws = client(a, &request, Config::default()).await.unwrap();
        // Never reads again.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(ws);
    });
    let mut config = Config::default();
    config.max_queued = 64 << 10;
    let mut ws = sockweave_tokio::accept_with(b, ServerPolicy::default(), config)
        .await
        .unwrap();
    let chunk = Message::Binary(Bytes::from(vec![1; 16 << 10]));
    let mut sent = 0;
    let stalled = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            ws.send(chunk.clone()).await.unwrap();
            sent += 1;
        }
    })
    .await;
    assert!(
        stalled.is_err(),
        "send must wait once the peer stops reading"
    );
    assert!(
        sent < 10,
        "only the pipe and the core's queue hold data: {sent} messages"
    );
    assert!(ws.connection().buffered_amount() <= (64 << 10) + (16 << 10));
}

/// A stream that answers every other read and write with `Pending` (waking
/// itself), as a congested transport does.
struct Stutter<S> {
    inner: S,
    read_flip: bool,
    write_flip: bool,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Stutter<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.read_flip = !self.read_flip;
        if self.read_flip {
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Stutter<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.write_flip = !self.write_flip;
        if self.write_flip {
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn a_stream_that_is_often_pending() {
    let (a, b) = tokio::io::duplex(512);
    let server = tokio::spawn(async move {
        let mut ws = accept(Stutter {
            inner: b,
            read_flip: false,
            write_flip: false,
        })
        .await
        .unwrap();
        while let Some(m) = ws.recv().await.unwrap() {
            ws.send(m).await.unwrap();
        }
        ws.close_event().unwrap().was_clean
    });
    let request = ClientRequest::new("ws://pipe/").unwrap();
    let mut ws = client(
        Stutter {
            inner: a,
            read_flip: true,
            write_flip: true,
        },
        &request,
        Config::default(),
    )
    .await
    .unwrap();
    for i in 0..50 {
        let m = Message::from(format!("{i} {}", "x".repeat(i * 37)));
        ws.send(m.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(m));
    }
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), None);
    assert!(server.await.unwrap());
}

#[tokio::test]
async fn a_ping_flood_from_a_peer_that_never_reads_stays_bounded() {
    use tokio::io::AsyncWriteExt;
    let (mut peer, b) = tokio::io::duplex(1024);
    let server = tokio::spawn(async move {
        let mut ws = accept(b).await.unwrap();
        let mut pings = 0;
        // Read until the flood ends; the pongs cannot leave (the peer never
        // reads), so only a bounded number may wait in the queue.
        while let Some(event) = ws.next_event().await.unwrap() {
            if let sockweave_tokio::Event::Ping(_) = event {
                pings += 1;
                assert!(
                    ws.connection().transmit().map(<[u8]>::len).sum::<usize>() < 16 * 131 + 512
                );
            }
            if pings == 5000 {
                break;
            }
        }
        pings
    });
    let request = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    peer.write_all(request).await.unwrap();
    let ping = b"\x89\x84\x01\x02\x03\x04pppp";
    for _ in 0..5000 {
        peer.write_all(ping).await.unwrap();
    }
    assert_eq!(server.await.unwrap(), 5000);
}

#[tokio::test]
async fn accept_writes_the_101_before_returning() {
    // Regression: the response waited in the queue until the server next
    // polled, so a server that did something else first stalled the client.
    let (a, b) = tokio::io::duplex(4096);
    let server = tokio::spawn(async move {
        let ws = accept(b).await.unwrap();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(ws);
    });
    let request = ClientRequest::new("ws://pipe/").unwrap();
    let opened = tokio::time::timeout(
        Duration::from_secs(5),
        client(a, &request, Config::default()),
    )
    .await;
    assert!(opened.expect("the client handshake completes").is_ok());
    server.abort();
}

/// A peer that stops reading holds a sending task no longer than the
/// core's timers (keepalive, then the close timeout), and `recv` then ends.
#[tokio::test]
async fn a_peer_that_stops_reading_cannot_hold_a_sender() {
    let (a, b) = tokio::io::duplex(4096);
    let silent_client = tokio::spawn(async move {
        let request = ClientRequest::new("ws://pipe/").unwrap();
        let ws = client(a, &request, Config::default()).await.unwrap();
        // Never reads again.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(ws);
    });
    let mut config = Config::default();
    config.keepalive = Some(sockweave::Keepalive {
        interval: Duration::from_millis(200),
        timeout: Duration::from_millis(200),
    });
    config.close_timeout = Duration::from_millis(200);
    let mut ws = sockweave_tokio::accept_with(b, ServerPolicy::default(), config)
        .await
        .unwrap();
    let start = std::time::Instant::now();
    let chunk = Message::Binary(Bytes::from(vec![1; 16 << 10]));
    let error = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Err(e) = ws.send(chunk.clone()).await {
                return e;
            }
        }
    })
    .await
    .expect("the timers end the wait");
    assert!(matches!(error, sockweave_tokio::Error::Closed), "{error:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
    let end = tokio::time::timeout(Duration::from_secs(1), ws.recv())
        .await
        .expect("recv ends too");
    assert!(end.is_err(), "the pong timeout is reported: {end:?}");
    silent_client.abort();
}

/// The halves share one socket, and the socket keeps one waker per
/// direction: when the reader flushes a pong while the writer waits for
/// room, the writer must still be woken when room comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_never_lose_a_wake_up() {
    let (a, b) = tokio::io::duplex(1024);
    let peer = tokio::spawn(async move {
        let request = ClientRequest::new("ws://pipe/").unwrap();
        let mut config = Config::default();
        config.max_message_len = 1 << 20;
        let mut ws = client(a, &request, config).await.unwrap();
        // Let the server's writer fill the pipe, then make its reader
        // write (a pong) while the writer waits.
        tokio::time::sleep(Duration::from_millis(200)).await;
        ws.ping(b"now").await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut got = 0;
        while let Some(message) = ws.recv().await.unwrap() {
            got += message.len();
            if got == 256 << 10 {
                ws.close(CloseCode::NORMAL, "").await.unwrap();
            }
        }
        got
    });
    let ws = accept(b).await.unwrap();
    let (mut read, mut write) = ws.split();
    let reader = tokio::spawn(async move { while let Ok(Some(_)) = read.recv().await {} });
    let sent = tokio::time::timeout(Duration::from_secs(5), async {
        for _ in 0..4 {
            write
                .send(Message::Binary(Bytes::from(vec![7; 64 << 10])))
                .await
                .unwrap();
        }
    })
    .await;
    assert!(sent.is_ok(), "the writer was never woken");
    assert_eq!(peer.await.unwrap(), 256 << 10);
    reader.await.unwrap();
}

#[path = "../../../tests/support/raw_server.rs"]
mod raw_server;

fn accept_key(key: &[u8]) -> [u8; 28] {
    sockweave::handshake::accept_key(key)
}

#[tokio::test]
async fn eof_in_the_middle_of_a_frame_is_an_abnormal_close() {
    let url = raw_server::raw_server(accept_key, |mut stream| {
        // Half of a 10-byte text frame, then EOF.
        std::io::Write::write_all(&mut stream, b"\x81\x0ahello").unwrap();
    });
    let mut ws = connect(&url).await.unwrap();
    match ws.recv().await {
        Err(sockweave_tokio::Error::Failed(sockweave::Error::TransportClosed)) => {}
        other => panic!("expected a dropped connection, got {other:?}"),
    }
    let close = ws.close_event().unwrap();
    assert_eq!((close.code, close.was_clean), (CloseCode::ABNORMAL, false));
}

/// The timer is not moved for every message (only when the deadline comes
/// earlier): it fires early and is armed again, so a peer that keeps
/// talking is never cut off, and a peer that goes quiet is, on time.
#[tokio::test]
async fn idle_timeout_counts_from_the_last_message_received() {
    let (a, b) = tokio::io::duplex(4096);
    let talker = tokio::spawn(async move {
        let request = ClientRequest::new("ws://pipe/").unwrap();
        let mut ws = client(a, &request, Config::default()).await.unwrap();
        for i in 0..10u8 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            ws.send(Message::Binary(Bytes::from(vec![i])))
                .await
                .unwrap();
        }
        // Quiet from here on, but still reading (the close comes here).
        while let Ok(Some(_)) = ws.recv().await {}
    });
    let mut config = Config::default();
    config.keepalive = None;
    config.idle_timeout = Some(Duration::from_millis(300));
    let mut ws = sockweave_tokio::accept_with(b, ServerPolicy::default(), config)
        .await
        .unwrap();
    let mut last = tokio::time::Instant::now();
    let mut received = 0;
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.recv().await {
                Ok(Some(_)) => {
                    received += 1;
                    last = tokio::time::Instant::now();
                }
                other => break other,
            }
        }
    })
    .await
    .expect("the idle timer fires");
    let quiet = last.elapsed();
    assert_eq!(received, 10, "never cut off while the peer talks");
    assert!(end.is_err(), "the idle timeout is reported: {end:?}");
    assert!(
        // Wide above: a loaded machine runs late, never early.
        quiet >= Duration::from_millis(300) && quiet < Duration::from_millis(1500),
        "ended {quiet:?} after the last message"
    );
    talker.await.unwrap();
}

/// A stream whose reads are always ready: a text message begun and then
/// only empty continuation frames, for `for_how_long`, then the end.
struct Endless {
    started: std::time::Instant,
    for_how_long: Duration,
    first: bool,
}

impl tokio::io::AsyncRead for Endless {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.started.elapsed() < self.for_how_long {
            // Masked, no payload: a text frame without FIN, then continuations.
            while buf.remaining() >= 6 && buf.filled().len() < 600 {
                let opcode = if self.first { 0x01 } else { 0x00 };
                self.first = false;
                buf.put_slice(&[opcode, 0x80, 1, 2, 3, 4]);
            }
        }
        std::task::Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Endless {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Timers are polled when there is nothing to read; a peer whose bytes
/// never stop still meets its deadlines: a message that never ends is
/// cut off by the message timeout, not left running until the peer stops.
#[tokio::test]
async fn deadlines_hold_against_a_stream_that_is_always_ready() {
    let mut config = Config::default();
    config.message_timeout = Some(Duration::from_millis(100));
    let conn = sockweave::Connection::established_server(config, sockweave::Instant::ZERO).unwrap();
    let stream = Endless {
        started: std::time::Instant::now(),
        for_how_long: Duration::from_secs(10),
        first: true,
    };
    let mut ws = sockweave_tokio::WebSocket::from_parts(stream, conn, Default::default());
    let start = std::time::Instant::now();
    let end = ws.recv().await;
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "ended after {took:?}, by the stream, not the timer: {end:?}"
    );
    assert!(
        matches!(
            end,
            Err(sockweave_tokio::Error::Failed(sockweave::Error::Timeout(_)))
        ),
        "the message timeout is reported: {end:?}"
    );
}
