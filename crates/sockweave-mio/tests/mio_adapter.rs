//! The mio adapter against tungstenite, both roles, on one `mio::Poll`.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sockweave_mio::sockweave::{Bytes, ClientRequest};
use sockweave_mio::{CloseCode, CloseEvent, Config, Event, Message, ServerPolicy, WebSocket};
use std::time::{Duration, Instant};

fn corpus() -> Vec<Message> {
    vec![
        Message::from("hello"),
        Message::from("four-byte 𝄞 and two-byte é"),
        Message::from(""),
        Message::Binary(Bytes::from(vec![0x5a; 16 << 20])),
    ]
}

/// Drives `ws` until CLOSED; `on_event` may send. Returns the close event.
fn drive(
    mut ws: WebSocket<TcpStream>,
    mut on_event: impl FnMut(&mut WebSocket<TcpStream>, Event),
) -> CloseEvent {
    let mut poll = Poll::new().unwrap();
    ws.register(poll.registry(), Token(0)).unwrap();
    let mut events = Events::with_capacity(16);
    let give_up = Instant::now() + Duration::from_secs(30);
    let mut closed = None;
    while !ws.is_closed() || closed.is_none() {
        assert!(Instant::now() < give_up, "connection did not finish");
        poll.poll(
            &mut events,
            ws.timeout().or(Some(Duration::from_millis(100))),
        )
        .unwrap();
        for event in &events {
            ws.on_ready(
                event.is_readable() || event.is_read_closed(),
                event.is_writable(),
            )
            .unwrap();
        }
        ws.on_timeout().unwrap();
        while let Some(event) = ws.poll_event() {
            if let Event::Closed(close) = &event {
                closed = Some(close.clone());
            }
            on_event(&mut ws, event);
        }
        ws.flush().unwrap();
        ws.reregister(poll.registry(), Token(0)).unwrap();
    }
    closed.unwrap()
}

#[test]
fn client_against_tungstenite_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let mut ws = tungstenite::accept(listener.accept().unwrap().0).unwrap();
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
    let request = ClientRequest::new(&format!("ws://{addr}/")).unwrap();
    let mut config = Config::default();
    config.max_queued = 32 << 20;
    let ws = WebSocket::client(TcpStream::connect(addr).unwrap(), &request, config).unwrap();
    let mut received = Vec::new();
    let mut pongs = 0;
    let expected = corpus().len() + 1;
    let close = drive(ws, |ws, event| match event {
        Event::Open(_) => {
            for m in corpus() {
                ws.send(m).unwrap();
            }
            ws.send_fragment("frag", false).unwrap();
            ws.send_fragment("mented", true).unwrap();
            ws.ping(b"p").unwrap();
        }
        Event::Pong(p) => {
            assert_eq!(&p[..], b"p");
            pongs += 1;
        }
        Event::Message(m) => {
            received.push(m);
            if received.len() == expected {
                ws.close(CloseCode::NORMAL, "done").unwrap();
            }
        }
        _ => {}
    });
    server.join().unwrap();
    let mut want = corpus();
    want.push(Message::from("fragmented"));
    assert_eq!(received, want);
    assert_eq!(pongs, 1);
    assert_eq!((close.code, close.was_clean), (CloseCode::NORMAL, true));
}

#[test]
fn server_against_tungstenite_client() {
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let stream = std::net::TcpStream::connect(addr).unwrap();
        let (mut ws, _) = tungstenite::client(format!("ws://{addr}/"), stream).unwrap();
        let mut echoed = Vec::new();
        for m in corpus() {
            let m = match m {
                Message::Text(t) => tungstenite::Message::text(t.as_str()),
                Message::Binary(b) => tungstenite::Message::binary(b.to_vec()),
            };
            ws.send(m).unwrap();
            echoed.push(ws.read().unwrap().into_data().to_vec());
        }
        ws.close(None).unwrap();
        while !matches!(ws.read(), Err(tungstenite::Error::ConnectionClosed)) {}
        echoed
    });
    let mut poll = Poll::new().unwrap();
    poll.registry()
        .register(&mut listener, Token(1), Interest::READABLE)
        .unwrap();
    let mut events = Events::with_capacity(4);
    let stream = loop {
        poll.poll(&mut events, Some(Duration::from_secs(5)))
            .unwrap();
        if let Ok((stream, _)) = listener.accept() {
            break stream;
        }
    };
    let mut config = Config::default();
    config.max_queued = 32 << 20;
    let ws = WebSocket::server(stream, ServerPolicy::default(), config);
    let close = drive(ws, |ws, event| {
        if let Event::Message(m) = event {
            ws.send(m).unwrap();
        }
    });
    let echoed = peer.join().unwrap();
    assert_eq!(
        echoed,
        corpus()
            .iter()
            .map(|m| m.as_bytes().to_vec())
            .collect::<Vec<_>>()
    );
    assert_eq!((close.code, close.was_clean), (CloseCode::NO_STATUS, true));
}

/// The auth hook path: with `ServerPolicy::defer` the application sees the
/// request and accepts or refuses it with its own status.
#[test]
fn deferred_requests_are_accepted_or_refused_by_the_application() {
    use sockweave_mio::sockweave::handshake::{Accept, Reject};
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let request = |token: &str| {
            let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
                "ws://{addr}/"
            ))
            .unwrap();
            request
                .headers_mut()
                .insert("Authorization", token.parse().unwrap());
            request
        };
        let refused = tungstenite::client(
            request("Bearer wrong"),
            std::net::TcpStream::connect(addr).unwrap(),
        );
        let status = match refused {
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
                response.status().as_u16()
            }
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("a wrong token was accepted"),
        };
        let (mut ws, _) = tungstenite::client(
            request("Bearer right"),
            std::net::TcpStream::connect(addr).unwrap(),
        )
        .unwrap();
        ws.send(tungstenite::Message::text("hi")).unwrap();
        let echo = ws.read().unwrap().into_text().unwrap().to_string();
        ws.close(None).unwrap();
        while !matches!(ws.read(), Err(tungstenite::Error::ConnectionClosed)) {}
        (status, echo)
    });
    let mut poll = Poll::new().unwrap();
    poll.registry()
        .register(&mut listener, Token(1), Interest::READABLE)
        .unwrap();
    let mut events = Events::with_capacity(4);
    let mut closes = Vec::new();
    while closes.len() < 2 {
        let stream = loop {
            if let Ok((stream, _)) = listener.accept() {
                break stream;
            }
            poll.poll(&mut events, Some(Duration::from_millis(100)))
                .unwrap();
        };
        let mut policy = ServerPolicy::default();
        policy.defer = true;
        let ws = WebSocket::server(stream, policy, Config::default());
        closes.push(drive(ws, |ws, event| match event {
            Event::Request(request) => {
                let token = request
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("authorization"))
                    .map(|h| &h.value[..]);
                if token == Some(&b"Bearer right"[..]) {
                    ws.accept(Accept::default()).unwrap();
                } else {
                    ws.reject(Reject::status(401)).unwrap();
                }
            }
            Event::Message(m) => ws.send(m).unwrap(),
            _ => {}
        }));
    }
    assert_eq!(peer.join().unwrap(), (401, "hi".to_string()));
    assert!(!closes[0].was_clean && closes[1].was_clean);
}
