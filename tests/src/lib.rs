//! Test support for sockweave: [`Pair`], a client and a server core over
//! an in-memory link with chunked delivery and virtual time, and
//! [`drive_blocking`], the smallest possible blocking driver for running
//! a core against a real peer on a loopback socket.

pub mod certs;
pub mod process;

use bytes::BytesMut;
use sockweave::{ClientRequest, Config, Connection, Event, Instant, ReadyState, ServerPolicy};
use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

/// Deterministic entropy for tests: a counter, so wire bytes repeat.
pub fn counter_entropy() -> impl FnMut(&mut [u8]) + Send + 'static {
    let mut n = 0u8;
    move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_add(37);
            *b = n;
        }
    }
}

/// One end of a [`Pair`]: a connection, its read buffer, and its events.
#[derive(Debug)]
pub struct End {
    /// The connection.
    pub conn: Connection,
    /// Bytes delivered and not yet consumed.
    pub input: BytesMut,
    /// Bytes written by the peer and not yet delivered.
    pub link: Vec<u8>,
    /// Every event so far.
    pub events: Vec<Event>,
    /// Whether the peer has seen this end's EOF.
    pub eof_sent: bool,
}

impl End {
    fn new(conn: Connection) -> Self {
        Self {
            conn,
            input: BytesMut::new(),
            link: Vec::new(),
            events: Vec::new(),
            eof_sent: false,
        }
    }

    fn collect(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            self.events.push(event);
        }
    }
}

/// A client and a server core joined by an in-memory link.
#[derive(Debug)]
pub struct Pair {
    /// The client.
    pub client: End,
    /// The server.
    pub server: End,
    /// Virtual time.
    pub now: Instant,
}

impl Pair {
    /// A pair in CONNECTING, with the given configs.
    pub fn new(client: Config, server: Config, policy: ServerPolicy) -> Self {
        let now = Instant::ZERO;
        let request = ClientRequest::new("ws://localhost/").expect("valid URL");
        let request = policy
            .protocols
            .iter()
            .fold(request, |r, p| r.protocol(p.clone()));
        Self {
            client: End::new(
                Connection::client(&request, client, counter_entropy(), now)
                    .expect("a valid request"),
            ),
            server: End::new(Connection::server(policy, server, now).unwrap()),
            now,
        }
    }

    /// A pair that has completed the opening handshake.
    pub fn open(client: Config, server: Config) -> Self {
        let mut pair = Self::new(client, server, ServerPolicy::default());
        pair.run(usize::MAX);
        assert_eq!(pair.client.conn.ready_state(), ReadyState::Open);
        assert_eq!(pair.server.conn.ready_state(), ReadyState::Open);
        pair
    }

    /// Moves what each side wrote into the link, then delivers up to
    /// `chunk` bytes in each direction. Returns whether anything moved.
    pub fn step(&mut self, chunk: usize) -> bool {
        let a = transfer(&mut self.client, &mut self.server, chunk, self.now);
        let b = transfer(&mut self.server, &mut self.client, chunk, self.now);
        a || b
    }

    /// Steps until nothing moves.
    pub fn run(&mut self, chunk: usize) {
        for _ in 0..1_000_000 {
            if !self.step(chunk) {
                return;
            }
        }
        panic!("the pair never went quiet");
    }

    /// Advances virtual time and runs both sides' timers.
    pub fn advance(&mut self, by: Duration) {
        self.now = self.now + by;
        for end in [&mut self.client, &mut self.server] {
            end.conn.handle_timeout(self.now);
            end.collect();
        }
    }
}

/// One direction of [`Pair::step`].
fn transfer(from: &mut End, to: &mut End, chunk: usize, now: Instant) -> bool {
    let mut moved = false;
    from.conn.poll_transmit(&mut to.link);
    from.collect();
    let n = to.link.len().min(chunk);
    if n > 0 {
        moved = true;
        to.input.extend_from_slice(&to.link[..n]);
        to.link.drain(..n);
        to.conn.receive(&mut to.input, now);
    }
    // A side that is CLOSED has closed its transport: once the peer has
    // read everything, it sees EOF.
    if from.conn.ready_state() == ReadyState::Closed && to.link.is_empty() && !from.eof_sent {
        from.eof_sent = true;
        to.conn.receive_eof(now);
        moved = true;
    }
    to.collect();
    // The core stopped at its event budget: the rest waits in the input.
    while to.conn.needs_receive() {
        to.conn.receive(&mut to.input, now);
        to.collect();
    }
    moved
}

/// Drives `conn` over a blocking stream until it is CLOSED, answering each
/// event with `on_event` (which may send). A test helper, not an adapter.
pub fn drive_blocking<S: Read + Write>(
    conn: &mut Connection,
    stream: &mut S,
    mut on_event: impl FnMut(&mut Connection, Event),
) -> std::io::Result<()> {
    let start = std::time::Instant::now();
    let now = || Instant::from_elapsed(start.elapsed());
    let mut input = BytesMut::with_capacity(64 << 10);
    let mut buf = vec![0u8; 64 << 10];
    let mut out = Vec::new();
    loop {
        out.clear();
        conn.poll_transmit(&mut out);
        stream.write_all(&out)?;
        stream.flush()?;
        while let Some(event) = conn.poll_event() {
            on_event(conn, event);
        }
        if conn.ready_state() == ReadyState::Closed {
            return Ok(());
        }
        match stream.read(&mut buf) {
            Ok(0) => conn.receive_eof(now()),
            Ok(n) => {
                input.extend_from_slice(&buf[..n]);
                conn.receive(&mut input, now());
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => conn.receive_eof(now()),
            Err(e) => return Err(e),
        }
        conn.handle_timeout(now());
        loop {
            while let Some(event) = conn.poll_event() {
                on_event(conn, event);
            }
            // The core stopped at its event budget: the rest waits in the input.
            if !conn.needs_receive() {
                break;
            }
            conn.receive(&mut input, now());
        }
    }
}

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
