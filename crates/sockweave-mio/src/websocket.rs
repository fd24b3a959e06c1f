//! [`WebSocket`]: one non-blocking connection for a readiness loop.

use crate::Transport;
use mio::event::Source;
use mio::{Interest, Registry, Token};
use sockweave::handshake::{Accept, ClientRequest, HandshakeError, Reject};
use sockweave::{
    BytesMut, CloseCode, Config, Connection, Event, Message, PreparedMessage, ReadyState,
    SendError, ServerPolicy,
};
use sockweave_net::is_disconnect;
use std::io::{self, ErrorKind};
use std::time::{Duration, Instant};

/// Once this much of a frame waits, reads go straight into its buffer.
const READ_CHUNK: usize = 64 << 10;
/// Bytes read per call of `on_ready` by default (1 MiB), and past them
/// only the rest of a frame already arriving, so one busy connection
/// cannot keep the loop from the others; [`WebSocket::has_more`] brings
/// it back ([`WebSocket::set_read_budget`]). Smaller budgets cost large
/// messages dearly: their buffers regrow among other connections'
/// allocations, and each regrowth copies (half the CPU at 16 connections
/// × 1 MiB with 256 KiB).
pub const DEFAULT_READ_BUDGET: usize = 16 * READ_CHUNK;

/// A WebSocket over a non-blocking stream `S` (a `mio::net::TcpStream`).
pub struct WebSocket<S> {
    stream: S,
    conn: Connection,
    input: BytesMut,
    start: Instant,
    /// The stream holds bytes it could not write yet (a TLS stream's
    /// records): its `flush` said `WouldBlock`.
    stream_pending: bool,
    /// The stream may hold bytes we have not read: it was readable and no
    /// read has said `WouldBlock` since.
    unread: bool,
    /// The interest last registered, so an unchanged one costs no syscall.
    registered: Option<Interest>,
    /// Most bytes read per `on_ready` / `on_timeout`.
    read_budget: usize,
}

impl<S: Transport> WebSocket<S> {
    /// A server connection in CONNECTING on an accepted stream, or why
    /// `config` cannot work ([`Config::validate`]).
    pub fn server(
        stream: S,
        policy: ServerPolicy,
        config: impl Into<std::sync::Arc<Config>>,
    ) -> Result<Self, sockweave::ConfigError> {
        let conn = Connection::server(policy, config, sockweave::Instant::ZERO)?;
        Ok(Self::from_parts(stream, conn, BytesMut::new()))
    }

    /// A client connection in CONNECTING; the request goes out on the first
    /// writable event. A request whose fields cannot be written into an
    /// HTTP head is refused ([`HandshakeError::InvalidField`]).
    pub fn client(
        stream: S,
        request: &ClientRequest,
        config: Config,
    ) -> Result<Self, HandshakeError> {
        let conn = Connection::client(
            request,
            config,
            |buf: &mut [u8]| rand::fill(buf),
            sockweave::Instant::ZERO,
        )?;
        Ok(Self::from_parts(stream, conn, BytesMut::new()))
    }

    /// Wraps a connection (whose time starts now) with bytes already read.
    pub fn from_parts(stream: S, conn: Connection, leftover: BytesMut) -> Self {
        Self {
            stream,
            conn,
            input: leftover,
            start: Instant::now(),
            stream_pending: false,
            unread: true,
            registered: None,
            read_budget: DEFAULT_READ_BUDGET,
        }
    }

    /// Sets the most bytes one `on_ready` or `on_timeout` reads (at least
    /// one read happens, and a frame already arriving is read to its end;
    /// default [`DEFAULT_READ_BUDGET`], 1 MiB). Smaller
    /// is fairer to the loop's other connections under a flood, larger
    /// costs fewer turns for a connection that moves large messages.
    pub fn set_read_budget(&mut self, bytes: usize) {
        self.read_budget = bytes.max(1);
    }

    fn now(&self) -> sockweave::Instant {
        sockweave::Instant::from_elapsed(self.start.elapsed())
    }

    /// The readiness to register for: READABLE while the connection may
    /// read ([`WebSocket::may_read`]), WRITABLE while bytes wait to be
    /// written (in the core or the stream).
    pub fn interest(&self) -> Interest {
        let wants_write = self.conn.wants_write() || self.stream_pending;
        match (self.may_read(), wants_write) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (false, true) => Interest::WRITABLE,
            // mio needs some interest; a CLOSED connection is dropped anyway.
            _ => Interest::READABLE,
        }
    }

    /// When [`WebSocket::on_timeout`] is next due: the core's next timer,
    /// or now while [`WebSocket::has_more`] (reading stopped at its budget
    /// goes on in `on_timeout`, after the other connections had a turn).
    pub fn deadline(&self) -> Option<Instant> {
        if self.has_more() {
            return Some(Instant::now());
        }
        self.conn
            .poll_timeout()
            .map(|at| self.start + at.elapsed_since_epoch())
    }

    /// Time until the deadline, for `mio::Poll::poll`.
    pub fn timeout(&self) -> Option<Duration> {
        self.deadline()
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Handles readiness: writes what is queued until the socket would
    /// block, then reads while the connection may read
    /// ([`WebSocket::may_read`]), about the read budget per call (1 MiB
    /// unless [`WebSocket::set_read_budget`]); the rest is read
    /// by [`WebSocket::on_timeout`], due at once ([`WebSocket::deadline`]).
    pub fn on_ready(&mut self, readable: bool, writable: bool) -> io::Result<()> {
        self.unread |= readable;
        if writable || self.conn.wants_write() || self.stream_pending {
            self.flush()?;
        }
        self.read_some()
    }

    /// Whether reading goes on: the core needs bytes, the application has
    /// taken every event (so decoded messages never pile up past one read's
    /// worth, whatever the loop does) and the outbound queue is below
    /// [`Config::max_queued`]. Otherwise the bytes stay in the socket, and
    /// the peer's sends block: that is the backpressure.
    pub fn may_read(&self) -> bool {
        self.conn.wants_read()
            && self.conn.pending_events() == 0
            && !self.conn.needs_receive()
            && self.conn.buffered_amount() < self.conn.config().max_queued
    }

    /// Whether the connection stopped reading with bytes perhaps left in
    /// the stream (its read budget ran out, or its events were taken since)
    /// and may read: no readiness event comes for those bytes, so
    /// [`WebSocket::deadline`] is now and [`WebSocket::on_timeout`] reads.
    pub fn has_more(&self) -> bool {
        self.unread && self.may_read()
    }

    /// Runs the core's timers if due, and goes on reading where the read
    /// budget stopped ([`WebSocket::has_more`]). Harmless to call early.
    pub fn on_timeout(&mut self) -> io::Result<()> {
        let due = self.conn.poll_timeout().is_some_and(|at| at <= self.now());
        if due {
            let now = self.now();
            self.conn.handle_timeout(now);
        }
        self.read_some()
    }

    /// The next event. Drain it after every `on_ready`/`on_timeout`.
    /// Frames the core left in the input at its event budget are decoded
    /// here as the events are taken.
    pub fn poll_event(&mut self) -> Option<Event> {
        // Without frames left in the input, no clock read is needed (a
        // few per message showed in profiles).
        if !self.conn.needs_receive() {
            return self.conn.poll_event();
        }
        let now = self.now();
        self.conn.poll_event_from(&mut self.input, now)
    }

    /// Queues a message (written by `flush` or the next writable event).
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), SendError> {
        self.conn.send(message)
    }

    /// Queues a message prepared once for many connections (a broadcast):
    /// the same frame bytes, by reference
    /// ([`Connection::send_prepared`](sockweave::Connection::send_prepared)).
    /// A full queue hands it back: skip this subscriber, close it, or try
    /// again once it has drained.
    pub fn send_prepared(&mut self, prepared: &PreparedMessage) -> Result<(), SendError> {
        self.conn.send_prepared(prepared)
    }

    /// Queues one piece of a message sent in pieces; `last` ends it.
    pub fn send_fragment(
        &mut self,
        piece: impl Into<Message>,
        last: bool,
    ) -> Result<(), SendError> {
        self.conn.send_fragment(piece, last)
    }

    /// Queues a ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.conn.ping(payload)
    }

    /// Accepts the request the application saw in [`Event::Request`]
    /// (with `ServerPolicy::defer`: an auth hook that may consult a token
    /// or a session first): the 101 goes out with the next writes. Bytes
    /// that came after the request are decoded now.
    pub fn accept(&mut self, accept: Accept) -> Result<(), SendError> {
        self.conn.accept(accept)?;
        let now = self.now();
        self.conn.receive(&mut self.input, now);
        Ok(())
    }

    /// Refuses the request the application saw in [`Event::Request`] with
    /// its own status (401, 403, …); the connection is CLOSED once the
    /// answer is written.
    pub fn reject(&mut self, reject: Reject) -> Result<(), SendError> {
        self.conn.reject(reject)
    }

    /// Starts the closing handshake.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        let now = self.now();
        self.conn.close(code, reason, now)
    }

    /// Writes queued bytes until done or the socket would block, then
    /// flushes the stream (a no-op for TCP; a TLS stream pushes its records).
    pub fn flush(&mut self) -> io::Result<()> {
        let result = self.write_queued().and_then(|()| self.stream.flush());
        self.stream_pending = false;
        match result {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                self.stream_pending = true;
                Ok(())
            }
            Err(e) if is_disconnect(&e) => {
                let now = self.now();
                self.conn.receive_eof(now);
                Ok(())
            }
            other => other,
        }
    }

    fn write_queued(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match sockweave_net::write_queued(&mut self.conn, &mut self.stream) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Whether the connection is CLOSED: deregister and drop it.
    pub fn is_closed(&self) -> bool {
        self.conn.ready_state() == ReadyState::Closed
    }

    /// The sans-IO connection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The stream, to register with a `mio::Registry`.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The stream, the connection, and bytes read but not yet processed.
    pub fn into_parts(self) -> (S, Connection, BytesMut) {
        (self.stream, self.conn, self.input)
    }

    fn read_some(&mut self) -> io::Result<()> {
        let mut budget = self.read_budget;
        while self.unread && self.may_read() {
            // The budget spent, a frame already arriving is still read to
            // its end (max_frame_len bounds it): split across turns, its
            // buffer would be regrown among other connections'
            // allocations, and copied each time.
            if budget == 0 && self.conn.frame_missing(self.input.len()) == 0 {
                break;
            }
            let result = self.read_once();
            let now = self.now();
            match result {
                Ok((0, _)) => {
                    self.unread = false;
                    self.conn.receive_eof(now);
                }
                Ok((n, offered)) => {
                    budget = budget.saturating_sub(n);
                    // A socket's short read took all it held (see
                    // `Transport`): no read to find nothing, no re-arm.
                    if n < offered && self.stream.short_read_drains() {
                        self.unread = false;
                    }
                    self.conn.receive(&mut self.input, now);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.unread = false,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_disconnect(&e) => {
                    self.unread = false;
                    self.conn.receive_eof(now);
                }
                // Nothing more will be read: the connection ends here (as a
                // drop, 1006), and the caller hears why.
                Err(e) => {
                    self.unread = false;
                    self.conn.receive_eof(now);
                    return Err(e);
                }
            }
        }
        // Idle connections hold no read buffer at all: what a read leaves
        // unprocessed stays, an empty buffer is given back.
        if self.input.is_empty() {
            self.input = BytesMut::new();
        }
        Ok(())
    }
}

impl<S: Transport> WebSocket<S> {
    /// One read. Unless a large frame is arriving it goes into the
    /// thread's receive buffer and only the bytes that arrived are copied
    /// to the connection, in a buffer made for their frame (at most twice
    /// what came), or a read that is one large frame takes the thread's
    /// buffer with it (`sockweave_net::keep_read`): an idle connection
    /// holds no heap buffer, and a wake-up with nothing to read allocates
    /// nothing.
    /// Returns the bytes read and the room they were read into.
    fn read_once(&mut self) -> io::Result<(usize, usize)> {
        let len = self.input.len();
        if len >= READ_CHUNK {
            // A large frame is arriving: read straight into its buffer.
            // `Read` wants initialised memory, so the room is zeroed
            // first: never past the frame's end (room beyond it would be
            // zeroed again by every read, and its pages touched for
            // nothing), and at most one read budget at a time.
            let room = sockweave_net::reserve_read(&self.conn, &mut self.input, READ_CHUNK)
                .min(self.read_budget.max(READ_CHUNK));
            self.input.resize(len + room, 0);
            let result = self.stream.read(&mut self.input[len..]);
            self.input.truncate(len + *result.as_ref().unwrap_or(&0));
            return result.map(|n| (n, room));
        }
        // `Read` wants initialised memory: the thread's buffer is zeroed
        // when it is made and kept at full length.
        let mut buf = sockweave_net::take_receive_buffer();
        let room = buf.capacity();
        buf.resize(room, 0);
        match self.stream.read(&mut buf[..]) {
            Ok(n) => {
                sockweave_net::keep_read(&self.conn, &mut self.input, buf, n);
                Ok((n, room))
            }
            Err(e) => {
                sockweave_net::give_back(buf);
                Err(e)
            }
        }
    }
}

impl<S: Transport + Source> WebSocket<S> {
    /// Registers the stream with the interest the connection needs now.
    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        let interest = self.interest();
        self.registered = Some(interest);
        registry.register(&mut self.stream, token, interest)
    }

    /// Updates the registration after handling events: no syscall when
    /// the interest is unchanged, unless reading stopped at its budget
    /// ([`WebSocket::has_more`]); registering again then re-arms the
    /// edge, so bytes left in the socket bring a new readable event even
    /// to a loop that has no timers.
    pub fn reregister(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        let interest = self.interest();
        if self.registered == Some(interest) && !self.has_more() {
            return Ok(());
        }
        self.registered = Some(interest);
        registry.reregister(&mut self.stream, token, interest)
    }

    /// Removes the registration (before dropping a CLOSED connection).
    pub fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.deregister(&mut self.stream)
    }
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("connection", &self.conn)
            .finish_non_exhaustive()
    }
}
