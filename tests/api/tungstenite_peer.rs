//! Our cores against tungstenite, on loopback: a peer nobody here wrote.

use sockweave::{
    Bytes, ClientRequest, CloseCode, Config, Connection, Event, Instant, Message, ServerPolicy,
};
use sockweave_tests::drive_blocking;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;
use tungstenite::protocol::frame::coding::CloseCode as TCode;

fn corpus() -> Vec<Message> {
    vec![
        Message::from("hello"),
        Message::from("ünïcödé 🎉 four-byte 𝄞"),
        Message::from(""),
        Message::Binary(Bytes::from_static(&[0, 1, 2, 255])),
        Message::Binary(Bytes::from(vec![0x5a; 16 << 20])),
        Message::from("x".repeat(70_000)),
    ]
}

fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/echo", listener.local_addr().unwrap());
    (listener, url)
}

fn rand_entropy() -> impl FnMut(&mut [u8]) + Send + 'static {
    // Tests need no secrecy; a counter keeps runs reproducible.
    sockweave_tests::counter_entropy()
}

#[test]
fn our_client_against_a_tungstenite_server() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(stream).unwrap();
        loop {
            match ws.read() {
                Ok(m @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                    ws.send(m).unwrap()
                }
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => return,
                Err(e) => panic!("tungstenite server: {e}"),
            }
        }
    });
    let request = ClientRequest::new(&url).unwrap();
    let mut config = Config::default();
    config.max_queued = 64 << 20; // the whole corpus is queued at once
    let mut conn = Connection::client(&request, config, rand_entropy(), Instant::ZERO).unwrap();
    let mut stream = TcpStream::connect(request.host_header()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let expected = corpus();
    let mut received = Vec::new();
    let mut pongs = 0;
    let mut closed = None;
    drive_blocking(&mut conn, &mut stream, |conn, event| match event {
        Event::Open(_) => {
            for m in corpus() {
                conn.send(m).unwrap();
            }
            conn.send_fragment("frag", false).unwrap();
            conn.send_fragment("mented", true).unwrap();
            conn.ping(b"ping?").unwrap();
        }
        Event::Message(m) => {
            received.push(m);
            if received.len() == expected.len() + 1 {
                conn.close(CloseCode::NORMAL, "done", Instant::ZERO)
                    .unwrap();
            }
        }
        Event::Pong(p) => {
            assert_eq!(&p[..], b"ping?");
            pongs += 1;
        }
        Event::Closed(c) => closed = Some(c),
        Event::Error(e) => panic!("client failed: {e}"),
        _ => {}
    })
    .unwrap();
    server.join().unwrap();
    let mut want = expected;
    want.push(Message::from("fragmented"));
    assert_eq!(received, want);
    assert_eq!(pongs, 1);
    let closed = closed.expect("a Closed event");
    assert_eq!((closed.code, closed.was_clean), (CloseCode::NORMAL, true));
}

#[test]
fn our_server_against_a_tungstenite_client() {
    let (listener, url) = listener();
    let client = thread::spawn(move || {
        let stream =
            TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches("/echo")).unwrap();
        let (mut ws, response) = tungstenite::client(url.as_str(), stream).unwrap();
        assert_eq!(response.status(), 101);
        let mut echoed = Vec::new();
        for m in corpus() {
            let m = match m {
                Message::Text(t) => tungstenite::Message::text(t.as_str()),
                Message::Binary(b) => tungstenite::Message::binary(b.to_vec()),
            };
            ws.send(m).unwrap();
            echoed.push(ws.read().unwrap());
        }
        ws.send(tungstenite::Message::Ping(b"hi".to_vec().into()))
            .unwrap();
        match ws.read().unwrap() {
            tungstenite::Message::Pong(p) => assert_eq!(&p[..], b"hi"),
            other => panic!("expected a pong, got {other:?}"),
        }
        // The server closes: tungstenite sees the close frame, answers it,
        // then the transport closes.
        ws.send(tungstenite::Message::text("close please")).unwrap();
        loop {
            match ws.read() {
                Ok(tungstenite::Message::Close(Some(frame))) => {
                    assert_eq!(frame.code, TCode::Library(4000));
                    assert_eq!(frame.reason.as_str(), "server done");
                }
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("tungstenite client: {e}"),
            }
        }
        echoed
    });
    let (mut stream, _) = listener.accept().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut conn =
        Connection::server(ServerPolicy::default(), Config::default(), Instant::ZERO).unwrap();
    let mut closed = None;
    drive_blocking(&mut conn, &mut stream, |conn, event| match event {
        Event::Message(Message::Text(t)) if t == "close please" => {
            conn.close(CloseCode(4000), "server done", Instant::ZERO)
                .unwrap();
        }
        Event::Message(m) => conn.send(m).unwrap(),
        Event::Closed(c) => closed = Some(c),
        Event::Error(e) => panic!("server failed: {e}"),
        _ => {}
    })
    .unwrap();
    drop(stream);
    let echoed = client.join().unwrap();
    let echoed: Vec<Vec<u8>> = echoed.into_iter().map(|m| m.into_data().to_vec()).collect();
    let sent: Vec<Vec<u8>> = corpus().iter().map(|m| m.as_bytes().to_vec()).collect();
    assert_eq!(echoed, sent);
    let closed = closed.expect("a Closed event");
    assert_eq!((closed.code, closed.was_clean), (CloseCode(4000), true));
}
