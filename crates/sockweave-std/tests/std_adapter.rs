//! The blocking adapter against tungstenite (both roles) and against
//! adversarial streams.

use sockweave_std::sockweave::Bytes;
use sockweave_std::sockweave::handshake::{Accept, ClientRequest, HandshakeError, Reject, Request};
use sockweave_std::{
    CloseCode, Config, Error, Message, ServerPolicy, Transport, accept, accept_with,
    accept_with_hook, client, connect,
};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;
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

fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    (listener, url)
}

fn to_tungstenite(m: &Message) -> tungstenite::Message {
    match m {
        Message::Text(t) => tungstenite::Message::text(t.as_str()),
        Message::Binary(b) => tungstenite::Message::binary(b.to_vec()),
    }
}

#[test]
fn client_against_tungstenite_server() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(stream).unwrap();
        loop {
            match ws.read() {
                Ok(tungstenite::Message::Text(t)) if t.as_str() == "close me" => {
                    ws.close(Some(tungstenite::protocol::CloseFrame {
                        code: TCode::Library(4001),
                        reason: "as asked".into(),
                    }))
                    .unwrap();
                }
                Ok(m @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                    ws.send(m).unwrap()
                }
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => return,
                Err(e) => panic!("tungstenite server: {e}"),
            }
        }
    });
    let mut ws = connect(&url).unwrap();
    for m in corpus() {
        ws.send(m.clone()).unwrap();
        assert_eq!(ws.recv().unwrap(), Some(m));
    }
    // Fragmented send, then a ping whose pong we see as an event.
    ws.send_fragment("frag", false).unwrap();
    ws.send_fragment("mented", true).unwrap();
    assert_eq!(ws.recv().unwrap(), Some(Message::from("fragmented")));
    ws.ping(b"ping?").unwrap();
    loop {
        match ws.next_event().unwrap() {
            Some(sockweave_std::Event::Pong(p)) => break assert_eq!(&p[..], b"ping?"),
            Some(_) => {}
            None => panic!("closed before the pong"),
        }
    }
    // Server-initiated close, reported with its code and reason.
    ws.send("close me").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    let close = ws.close_event().unwrap();
    assert_eq!(
        (close.code, close.reason.as_str(), close.was_clean),
        (CloseCode(4001), "as asked", true)
    );
    server.join().unwrap();
}

#[test]
fn server_against_tungstenite_client() {
    let (listener, url) = listener();
    let peer = thread::spawn(move || {
        let addr = url
            .trim_start_matches("ws://")
            .trim_end_matches('/')
            .to_string();
        let (mut ws, _) =
            tungstenite::client(url.as_str(), TcpStream::connect(addr).unwrap()).unwrap();
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
        loop {
            match ws.read() {
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("tungstenite client: {e}"),
            }
        }
        echoed
    });
    let (stream, _) = listener.accept().unwrap();
    let mut config = Config::default();
    config.max_queued = 32 << 20;
    let mut ws = accept_with(stream, ServerPolicy::default(), config).unwrap();
    while let Some(m) = ws.recv().unwrap() {
        ws.send(m).unwrap();
    }
    let close = ws.close_event().unwrap();
    assert_eq!(
        (close.code, close.reason.as_str(), close.was_clean),
        (CloseCode::NORMAL, "done", true)
    );
    let echoed = peer.join().unwrap();
    assert_eq!(
        echoed,
        corpus()
            .iter()
            .map(|m| m.as_bytes().to_vec())
            .collect::<Vec<_>>()
    );
}

#[test]
fn auth_hook_refuses_with_its_status() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let decide = |request: &Request| match request.header("authorization") {
            Some(b"Bearer good") => Ok(Accept::default()),
            _ => Err(Reject::status(401)),
        };
        accept_with_hook(stream, ServerPolicy::default(), Config::default(), decide).map(|_| ())
    });
    let request = ClientRequest::new(&url)
        .unwrap()
        .header("Authorization", "Bearer bad");
    let stream = TcpStream::connect((request.host.as_str(), request.port)).unwrap();
    match client(stream, &request, Config::default()) {
        Err(Error::Handshake(HandshakeError::Status { status: 401, .. })) => {}
        other => panic!("expected a 401, got {:?}", other.err()),
    }
    assert!(matches!(
        server.join().unwrap(),
        Err(Error::Handshake(HandshakeError::Refused(401)))
    ));
}

#[test]
fn split_halves_work_from_two_threads() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let mut ws = accept(listener.accept().unwrap().0).unwrap();
        while let Some(m) = ws.recv().unwrap() {
            ws.send(m).unwrap();
        }
    });
    let (mut reader, writer) = connect(&url).unwrap().split().unwrap();
    let sender = thread::spawn(move || {
        for i in 0..500 {
            writer.send(format!("message {i}")).unwrap();
        }
        writer
    });
    for i in 0..500 {
        assert_eq!(
            reader.recv().unwrap(),
            Some(Message::from(format!("message {i}")))
        );
    }
    let writer = sender.join().unwrap();
    writer.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(reader.recv().unwrap(), None);
    assert!(reader.close_event().unwrap().was_clean);
    server.join().unwrap();
}

/// A stream that reads and writes one byte at a time.
struct Trickle(TcpStream);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(1);
        self.0.write(&buf[..n])
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Transport for Trickle {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        Transport::set_read_timeout(&mut self.0, timeout)
    }
}

#[test]
fn one_byte_reads_and_writes_on_both_ends() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let mut ws = accept(Trickle(listener.accept().unwrap().0)).unwrap();
        while let Some(m) = ws.recv().unwrap() {
            ws.send(m).unwrap();
        }
        ws.close_event().unwrap().was_clean
    });
    let request = ClientRequest::new(&url).unwrap();
    let stream = Trickle(TcpStream::connect((request.host.as_str(), request.port)).unwrap());
    let mut ws = client(stream, &request, Config::default()).unwrap();
    for m in [
        Message::from("κόσμε 𝄞"),
        Message::Binary(Bytes::from(vec![7; 3000])),
    ] {
        ws.send(m.clone()).unwrap();
        assert_eq!(ws.recv().unwrap(), Some(m));
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(ws.recv().unwrap(), None);
    assert!(ws.close_event().unwrap().was_clean);
    assert!(server.join().unwrap());
}

#[test]
fn eof_in_the_middle_of_a_frame_is_an_abnormal_close() {
    let url = raw_server::raw_server(accept_key, |mut stream| {
        // Half of a 10-byte text frame, then EOF.
        stream.write_all(b"\x81\x0ahello").unwrap();
    });
    let mut ws = connect(&url).unwrap();
    match ws.recv() {
        Err(Error::Failed(sockweave::Error::TransportClosed)) => {}
        other => panic!("expected a dropped connection, got {other:?}"),
    }
    let close = ws.close_event().unwrap();
    assert_eq!((close.code, close.was_clean), (CloseCode::ABNORMAL, false));
}

/// A peer that stops reading holds a sending thread no longer than the
/// core's timers: keepalive, then the close timeout.
#[test]
fn a_peer_that_stops_reading_cannot_hold_a_sender() {
    let (listener, url) = listener();
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    let peer = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            )
            .unwrap();
        // Never reads again; stays connected until the server gives up.
        let mut byte = [0];
        let _ = stream.read(&mut byte);
        thread::sleep(Duration::from_secs(5));
    });
    let (stream, _) = listener.accept().unwrap();
    stream.set_nodelay(true).unwrap();
    let mut config = Config::default();
    config.keepalive = Some(sockweave::Keepalive {
        interval: Duration::from_millis(300),
        timeout: Duration::from_millis(300),
    });
    config.close_timeout = Duration::from_millis(300);
    let mut ws = accept_with(stream, ServerPolicy::default(), config).unwrap();
    let start = std::time::Instant::now();
    let chunk = Message::Binary(Bytes::from(vec![0u8; 64 << 10]));
    let mut sent = 0usize;
    let error = loop {
        match ws.send(chunk.clone()) {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
        assert!(sent < 100_000, "the socket never filled");
    };
    let held = start.elapsed();
    assert!(matches!(error, Error::Closed), "{error:?}");
    // 300 ms to the ping, 300 ms for an answer, 300 ms for the close, and
    // the time the socket took to fill.
    assert!(held < Duration::from_secs(3), "held {held:?}");
    assert!(ws.recv().is_err(), "the pong timeout is reported");
    drop(ws);
    peer.join().unwrap();
}

/// Splitting keeps the connection's clock: a keepalive ping due 400 ms
/// after the connection opened goes then, not 400 ms after the split.
#[test]
fn split_keeps_the_connections_clock() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let mut ws = tungstenite::accept(listener.accept().unwrap().0).unwrap();
        let opened = std::time::Instant::now();
        loop {
            match ws.read() {
                Ok(tungstenite::Message::Ping(_)) => return opened.elapsed(),
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    });
    let mut config = Config::default();
    config.keepalive = Some(sockweave::Keepalive {
        interval: Duration::from_millis(400),
        timeout: Duration::from_secs(5),
    });
    let request = ClientRequest::new(&url).unwrap();
    let ws = sockweave_std::connect_with(&request, config, &sockweave_std::TlsConnector::default())
        .unwrap();
    thread::sleep(Duration::from_millis(300));
    let (mut reader, _writer) = ws.split().unwrap();
    let _reading = thread::spawn(move || while let Ok(Some(_)) = reader.next_event() {});
    let pinged_after = server.join().unwrap();
    assert!(
        pinged_after < Duration::from_millis(600),
        "ping after {pinged_after:?}: the clock restarted at the split"
    );
}

/// A server whose accept queue is full drops SYNs: the connect waits for
/// no longer than the handshake timeout.
#[test]
fn a_connect_that_hangs_ends_at_the_handshake_timeout() {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    // Fill the accept queue: nobody accepts.
    let mut fillers = Vec::new();
    for _ in 0..8 {
        if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            fillers.push(s);
        }
    }
    let mut config = Config::default();
    config.handshake_timeout = Duration::from_millis(300);
    let request = ClientRequest::new(&format!("ws://{addr}/")).unwrap();
    let start = std::time::Instant::now();
    let result =
        sockweave_std::connect_with(&request, config, &sockweave_std::TlsConnector::default());
    let waited = start.elapsed();
    assert!(
        matches!(&result, Err(Error::Io(e)) if e.kind() == io::ErrorKind::TimedOut)
            || matches!(&result, Err(Error::Failed(_) | Error::Handshake(_))),
        "{:?}",
        result.err()
    );
    assert!(waited < Duration::from_secs(2), "waited {waited:?}");
}

/// A configuration that cannot work is refused before any byte moves.
#[test]
fn a_config_that_cannot_work_is_a_typed_error() {
    let (listener, url) = listener();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let mut config = Config::default();
    config.max_headers = usize::MAX;
    let request = ClientRequest::new(&url).unwrap();
    match client(stream, &request, config) {
        Err(Error::Config(e)) => assert_eq!(e.field, "max_headers"),
        other => panic!("{:?}", other.err()),
    }
}

#[path = "../../../tests/support/raw_server.rs"]
mod raw_server;

fn accept_key(key: &[u8]) -> [u8; 28] {
    sockweave::handshake::accept_key(key)
}
