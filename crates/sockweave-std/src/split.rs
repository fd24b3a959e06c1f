//! Reading and writing one connection from two threads: the same driver as
//! [`WebSocket`], with the connection under a lock and the write half of
//! the socket shared.

use crate::Error;
use crate::driver::{self, Clock, Hold, Reading, Wire, lock};
use crate::tls::MaybeTls;
use crate::websocket::WebSocket;
use sockweave::{CloseCode, CloseEvent, Connection, Event, Message, PreparedMessage};
use std::io::ErrorKind;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

struct Shared {
    conn: Connection,
    closed: Option<CloseEvent>,
    error: Option<sockweave::Error>,
}

impl AsMut<Connection> for Shared {
    fn as_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// The receiving half of a split [`WebSocket`].
pub struct Reader {
    wire: Halves,
    reading: Reading,
    shared: Arc<Mutex<Shared>>,
}

/// The reader's socket, and the write half every writer shares: its lock
/// is held across a write, so frames leave in the order the core queued
/// them, whichever half writes.
struct Halves {
    stream: TcpStream,
    writer: Arc<Mutex<TcpStream>>,
}

impl Wire for Halves {
    type Reader = TcpStream;

    fn reader(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    fn flush(&mut self, conn: &mut impl Hold, clock: Clock) -> Result<(), Error> {
        driver::flush(conn, &mut *lock(&self.writer), clock)
    }
}

/// The sending half of a split [`WebSocket`].
#[derive(Clone)]
pub struct Writer {
    shared: Arc<Mutex<Shared>>,
    writer: Arc<Mutex<TcpStream>>,
    clock: Clock,
}

impl WebSocket<MaybeTls<TcpStream>> {
    /// Splits a plain connection as [`WebSocket::<TcpStream>::split`] does,
    /// keeping its clock, so its timers stay due when they were.
    ///
    /// A TLS session cannot be split: rustls keeps one state for both
    /// directions, so its reads and writes would have to share one lock,
    /// and a thread blocked reading would then hold up every write. That is
    /// an `Unsupported` error; use the connection from one thread (or the
    /// tokio adapter, whose halves never block).
    pub fn split(self) -> std::io::Result<(Reader, Writer)> {
        let WebSocket {
            stream,
            conn,
            reading,
            closed,
            error,
        } = self;
        match stream {
            MaybeTls::Plain(stream) => WebSocket {
                stream,
                conn,
                reading,
                closed,
                error,
            }
            .split(),
            #[allow(unreachable_patterns)]
            _ => Err(std::io::Error::new(
                ErrorKind::Unsupported,
                "a TLS connection cannot be split; use it from one thread",
            )),
        }
    }
}

impl WebSocket<TcpStream> {
    /// Splits into a [`Reader`] and a [`Writer`] that can be used from two
    /// threads at once (the writer can be cloned for more). Both keep the
    /// connection's clock, bytes already read and how it ended.
    pub fn split(self) -> std::io::Result<(Reader, Writer)> {
        let writer = Arc::new(Mutex::new(self.stream.try_clone()?));
        let clock = self.reading.clock;
        let shared = Arc::new(Mutex::new(Shared {
            conn: self.conn,
            closed: self.closed,
            error: self.error,
        }));
        let reader = Reader {
            wire: Halves {
                stream: self.stream,
                writer: writer.clone(),
            },
            reading: self.reading,
            shared: shared.clone(),
        };
        Ok((
            reader,
            Writer {
                shared,
                writer,
                clock,
            },
        ))
    }
}

impl Reader {
    /// The next whole message; `None` once the connection is closed.
    pub fn recv(&mut self) -> Result<Option<Message>, Error> {
        loop {
            match self.next_event()? {
                Some(Event::Message(message)) => return Ok(Some(message)),
                Some(_) => {}
                None => {
                    return lock(&self.shared)
                        .error
                        .take()
                        .map_or(Ok(None), |e| Err(e.into()));
                }
            }
        }
    }

    /// The next event; `None` after [`Event::Closed`].
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        let event = self
            .reading
            .next_event(&mut &*self.shared, &mut self.wire)?;
        let mut shared = lock(&self.shared);
        match &event {
            Some(Event::Closed(close)) => shared.closed = Some(close.clone()),
            Some(Event::Error(error)) => shared.error = Some(error.clone()),
            _ => {}
        }
        Ok(event)
    }

    /// How the connection ended, once it has.
    pub fn close_event(&self) -> Option<CloseEvent> {
        lock(&self.shared).closed.clone()
    }
}

impl Writer {
    /// Queues `message` and writes it out; a full queue is written out and
    /// tried again. Writes wait no longer than the core's timers allow
    /// (see [`WebSocket::flush`]).
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.queue(message.into(), Connection::send)
    }

    /// Sends a message prepared once for many connections (a broadcast):
    /// the same frame bytes, by reference; waits as [`Writer::send`] does.
    pub fn send_prepared(&self, prepared: &PreparedMessage) -> Result<(), Error> {
        self.queue(prepared.message().clone(), |conn, _| {
            conn.send_prepared(prepared)
        })
    }

    /// Queues through `push`; a full queue is written out and tried again.
    fn queue(
        &self,
        message: Message,
        push: impl Fn(&mut Connection, Message) -> Result<(), sockweave::SendError>,
    ) -> Result<(), Error> {
        let mut stream = lock(&self.writer);
        let mut shared = &*self.shared;
        let full = shared.with(|conn| match push(conn, message) {
            Err(sockweave::SendError::Full(message)) => Ok(Some(message)),
            other => other.map(|()| None),
        })?;
        if let Some(message) = full {
            driver::flush(&mut shared, &mut *stream, self.clock)?;
            shared.with(|conn| push(conn, message))?;
        }
        driver::flush(&mut shared, &mut *stream, self.clock)
    }

    /// Starts the closing handshake; the [`Reader`] sees it finish.
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        let now = self.clock.now();
        lock(&self.shared).conn.close(code, reason, now)?;
        driver::flush(&mut &*self.shared, &mut *lock(&self.writer), self.clock)
    }

    /// Application bytes queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared).conn.buffered_amount()
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("ready_state", &lock(&self.shared).conn.ready_state())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("ready_state", &lock(&self.shared).conn.ready_state())
            .finish_non_exhaustive()
    }
}
