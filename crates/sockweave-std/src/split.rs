//! Reading and writing one connection from two threads.

use crate::Error;
use crate::tls::MaybeTls;
use crate::transport::Transport;
use crate::websocket::{Clock, WebSocket, read_into, shrink_if_idle, write_timeout};
use sockweave::adapter::is_disconnect;
use sockweave::{BytesMut, CloseCode, CloseEvent, Connection, Event, Message, ReadyState};
use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};

struct Shared {
    conn: Connection,
    closed: Option<CloseEvent>,
    error: Option<sockweave::Error>,
}

/// The receiving half of a split [`WebSocket`].
pub struct Reader {
    stream: TcpStream,
    input: BytesMut,
    shared: Arc<Mutex<Shared>>,
    writer: Arc<Mutex<TcpStream>>,
    clock: Clock,
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
            input,
            clock,
            closed,
            error,
        } = self;
        match stream {
            MaybeTls::Plain(stream) => WebSocket {
                stream,
                conn,
                input,
                clock,
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
    /// threads at once (the writer can be cloned for more).
    pub fn split(self) -> std::io::Result<(Reader, Writer)> {
        let write_stream = self.stream.try_clone()?;
        let shared = Arc::new(Mutex::new(Shared {
            conn: self.conn,
            closed: self.closed,
            error: self.error,
        }));
        let writer = Arc::new(Mutex::new(write_stream));
        let reader = Reader {
            stream: self.stream,
            input: self.input,
            shared: shared.clone(),
            writer: writer.clone(),
            clock: self.clock,
        };
        Ok((
            reader,
            Writer {
                shared,
                writer,
                clock: self.clock,
            },
        ))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere leaves the state consistent: the core never panics
    // mid-update, so a poisoned lock is still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes what the core has queued. The writer lock is taken first and held
/// across the write, so frames from both halves leave in the order the core
/// queued them; the state lock is held only to copy the bytes out.
/// Writes out what the core queued. A peer that does not read blocks this
/// no longer than the core's timers allow (see [`WebSocket::flush`]).
fn flush(shared: &Mutex<Shared>, writer: &Mutex<TcpStream>, clock: Clock) -> Result<(), Error> {
    let mut stream = lock(writer);
    let mut out = Vec::new();
    lock(shared).conn.poll_transmit(&mut out);
    let mut at = 0;
    while at < out.len() {
        let timeout = write_timeout(&lock(shared).conn, clock.now());
        Transport::set_write_timeout(&mut *stream, timeout)?;
        match stream.write(&out[at..]) {
            Ok(0) => return Err(std::io::Error::from(ErrorKind::WriteZero).into()),
            Ok(n) => at += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let mut shared = lock(shared);
                shared.conn.handle_timeout(clock.now());
                if shared.conn.ready_state() == ReadyState::Closed {
                    return Err(Error::Closed);
                }
            }
            Err(e) => {
                if is_disconnect(&e) {
                    lock(shared).conn.receive_eof(clock.now());
                }
                return Err(e.into());
            }
        }
    }
    Ok(())
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
        loop {
            let timeout = {
                let mut shared = lock(&self.shared);
                let now = self.clock.now();
                if let Some(event) = shared.conn.poll_event_from(&mut self.input, now) {
                    match &event {
                        Event::Closed(close) => shared.closed = Some(close.clone()),
                        Event::Error(error) => shared.error = Some(error.clone()),
                        _ => {}
                    }
                    drop(shared);
                    flush(&self.shared, &self.writer, self.clock)?;
                    return Ok(Some(event));
                }
                if shared.conn.ready_state() == ReadyState::Closed {
                    drop(shared);
                    let _ = flush(&self.shared, &self.writer, self.clock);
                    let _ = self.stream.shutdown(std::net::Shutdown::Both);
                    return Ok(None);
                }
                let now = self.clock.now();
                shared
                    .conn
                    .poll_timeout()
                    .map(|deadline| (deadline - now).max(std::time::Duration::from_millis(1)))
            };
            if lock(&self.shared).conn.wants_write() {
                // Writing may end the connection: look at the events again.
                match flush(&self.shared, &self.writer, self.clock) {
                    Err(Error::Io(e)) if is_disconnect(&e) => {}
                    other => other?,
                }
                continue;
            }
            self.stream.set_read_timeout(timeout)?;
            // No lock is held while blocked here.
            let result = read_into(&mut self.stream, &mut self.input);
            let mut shared = lock(&self.shared);
            let now = self.clock.now();
            match result {
                Ok(0) => shared.conn.receive_eof(now),
                Ok(_) => shared.conn.receive(&mut self.input, now),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) if is_disconnect(&e) => shared.conn.receive_eof(now),
                Err(e) => {
                    shared.conn.receive_eof(now);
                    return Err(e.into());
                }
            }
            shared.conn.handle_timeout(now);
            shrink_if_idle(&mut self.input);
        }
    }

    /// How the connection ended, once it has.
    pub fn close_event(&self) -> Option<CloseEvent> {
        lock(&self.shared).closed.clone()
    }
}

impl Writer {
    /// Queues `message` and writes it out.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        let mut stream = lock(&self.writer);
        let mut out = Vec::new();
        {
            let mut shared = lock(&self.shared);
            if let Err(sockweave::SendError::Full(message)) = shared.conn.send(message) {
                // Nobody else writes while we hold the writer lock: drain, retry.
                shared.conn.poll_transmit(&mut out);
                shared.conn.send(message)?;
            }
            shared.conn.poll_transmit(&mut out);
        }
        stream.write_all(&out)?;
        Ok(())
    }

    /// Starts the closing handshake; the [`Reader`] sees it finish.
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        let now = self.clock.now();
        lock(&self.shared).conn.close(code, reason, now)?;
        flush(&self.shared, &self.writer, self.clock)
    }

    /// Application bytes queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared).conn.buffered_amount()
    }
}
