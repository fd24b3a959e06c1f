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
    let ws = WebSocket::server(stream, ServerPolicy::default(), config).unwrap();
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
        let ws = WebSocket::server(stream, policy, Config::default()).unwrap();
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

/// One direction of an in-memory socket pair.
type Queue = std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<u8>>>;

/// An in-memory socket that moves at most one byte per call and says
/// `WouldBlock` on every other call, whatever is waiting: the most a
/// non-blocking stream can split and stall what passes through it.
struct Trickle {
    read_from: Queue,
    write_to: Queue,
    calls: u64,
    /// The peer is gone once what is queued is read.
    eof: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Trickle {
    fn pair() -> (Self, Self) {
        let (a, b) = (Queue::default(), Queue::default());
        let eof = std::rc::Rc::new(std::cell::Cell::new(false));
        let one = Self {
            read_from: a.clone(),
            write_to: b.clone(),
            calls: 0,
            eof: eof.clone(),
        };
        (
            one,
            Self {
                read_from: b,
                write_to: a,
                calls: 1,
                eof,
            },
        )
    }

    fn stall(&mut self) -> bool {
        self.calls += 1;
        self.calls % 2 == 0
    }
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stall() || buf.is_empty() {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        match self.read_from.borrow_mut().pop_front() {
            Some(byte) => {
                buf[0] = byte;
                Ok(1)
            }
            None if self.eof.get() => Ok(0),
            None => Err(std::io::ErrorKind::WouldBlock.into()),
        }
    }
}

/// One byte per call is not all it held: not a socket's short read.
impl sockweave_mio::Transport for Trickle {}

impl std::io::Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.stall() || buf.is_empty() {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        self.write_to.borrow_mut().push_back(buf[0]);
        Ok(1)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One turn of a readiness loop for `ws`: ready both ways, timers, events
/// (each handed to `on_event`), writes.
fn turn(ws: &mut WebSocket<Trickle>, mut on_event: impl FnMut(&mut WebSocket<Trickle>, Event)) {
    ws.on_ready(true, true).unwrap();
    ws.on_timeout().unwrap();
    while let Some(event) = ws.poll_event() {
        on_event(ws, event);
    }
    ws.flush().unwrap();
}

#[test]
fn one_byte_reads_and_writes_that_stall_every_other_call() {
    let (client_end, server_end) = Trickle::pair();
    let request = ClientRequest::new("ws://example.com/").unwrap();
    let mut client = WebSocket::client(client_end, &request, Config::default()).unwrap();
    let mut server =
        WebSocket::server(server_end, ServerPolicy::default(), Config::default()).unwrap();
    // Lengths on both sides of the 7-bit and 16-bit length forms.
    let sent = vec![
        Message::from("hello"),
        Message::from("four-byte 𝄞 and two-byte é"),
        Message::Binary(Bytes::from(vec![7u8; 300])),
        Message::Binary(Bytes::from(vec![9u8; 70_000])),
    ];
    let mut echoed = Vec::new();
    let mut closed = None;
    let mut turns = 0;
    while closed.is_none() {
        turns += 1;
        assert!(
            turns < 2_000_000,
            "the exchange did not finish: {} echoed, client {:?}, server {:?}",
            echoed.len(),
            client.connection().ready_state(),
            server.connection().ready_state()
        );
        turn(&mut client, |ws, event| match event {
            Event::Open(_) => sent.iter().for_each(|m| ws.send(m.clone()).unwrap()),
            Event::Message(m) => {
                echoed.push(m);
                if echoed.len() == sent.len() {
                    ws.close(CloseCode::NORMAL, "done").unwrap();
                }
            }
            Event::Closed(close) => closed = Some(close),
            _ => {}
        });
        turn(&mut server, |ws, event| {
            if let Event::Message(m) = event {
                ws.send(m).unwrap();
            }
        });
        if server.is_closed() {
            // The server drops its socket: the client reads the end.
            server.stream_mut().eof.set(true);
        }
    }
    assert_eq!(echoed, sent);
    let close = closed.unwrap();
    assert_eq!((close.code, close.was_clean), (CloseCode::NORMAL, true));
    assert!(client.is_closed());
}

#[test]
fn eof_in_the_middle_of_a_frame_is_an_abnormal_close() {
    let (client_end, server_end) = Trickle::pair();
    let mut server =
        WebSocket::server(server_end, ServerPolicy::default(), Config::default()).unwrap();
    let head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    // A masked binary frame that declares 10 bytes and carries 3.
    let mut bytes = head.as_bytes().to_vec();
    bytes.extend_from_slice(&[0x82, 0x8a, 1, 2, 3, 4, 0, 0, 0]);
    client_end.write_to.borrow_mut().extend(bytes);
    client_end.eof.set(true);
    let mut events = Vec::new();
    for _ in 0..10_000 {
        turn(&mut server, |_, event| events.push(event));
        if server.is_closed() {
            break;
        }
    }
    assert!(server.is_closed(), "{events:?}");
    let Some(Event::Closed(close)) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!((close.code, close.was_clean), (CloseCode::ABNORMAL, false));
}

#[test]
fn the_read_budget_is_a_knob() {
    let (client_end, mut server_end) = Trickle::pair();
    server_end.calls = 0;
    let mut server =
        WebSocket::server(server_end, ServerPolicy::default(), Config::default()).unwrap();
    server.set_read_budget(1);
    client_end
        .write_to
        .borrow_mut()
        .extend(b"GET / HTTP/1.1\r\n");
    // Reads alternate with stalls, so each turn reads at most its budget.
    server.on_ready(true, false).unwrap();
    assert!(server.has_more(), "one byte read, more waiting");
    assert_eq!(client_end.write_to.borrow().len(), 15);
}

/// An in-memory socket that hands over all it holds, and counts reads.
struct Whole {
    read_from: Queue,
    reads: std::rc::Rc<std::cell::Cell<u32>>,
    drains: bool,
}

impl std::io::Read for Whole {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads.set(self.reads.get() + 1);
        let mut queue = self.read_from.borrow_mut();
        if queue.is_empty() {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(queue.len());
        for (slot, byte) in buf.iter_mut().zip(queue.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

impl std::io::Write for Whole {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl sockweave_mio::Transport for Whole {
    fn short_read_drains(&self) -> bool {
        self.drains
    }
}

#[test]
fn a_sockets_short_read_needs_no_second_read_and_no_re_arm() {
    for drains in [true, false] {
        let reads = std::rc::Rc::new(std::cell::Cell::new(0));
        let read_from = Queue::default();
        read_from.borrow_mut().extend(
            &b"GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
               Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
               Sec-WebSocket-Version: 13\r\n\r\n"[..],
        );
        let stream = Whole {
            read_from,
            reads: reads.clone(),
            drains,
        };
        let mut server =
            WebSocket::server(stream, ServerPolicy::default(), Config::default()).unwrap();
        server.on_ready(true, false).unwrap();
        while server.poll_event().is_some() {}
        server.flush().unwrap();
        assert_eq!(reads.get(), 1, "one read took it all");
        // Bytes still waiting would need another read or a re-armed edge;
        // after a socket's short read there are none.
        assert_eq!(server.has_more(), !drains);
    }
}
