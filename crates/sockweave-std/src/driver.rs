//! The adapter's one driver: how bytes move between a blocking stream and
//! a [`Connection`], with every wait bounded by the core's deadlines.
//! [`WebSocket`](crate::WebSocket), the split halves and the browser-style
//! socket all run it; they differ only in where the connection lives
//! ([`Hold`]) and whose stream writes ([`Wire`]).

use crate::Error;
use crate::transport::Transport;
use sockweave::{BytesMut, Connection, Event, ReadyState};
use sockweave_net::is_disconnect;
use std::io::{self, ErrorKind, Read, Write};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Reads are at most this long, and a buffer grows by at least this much.
pub(crate) const READ_CHUNK: usize = 16 << 10;
/// A read buffer larger than this is given back when it empties.
const KEEP_CAPACITY: usize = 64 << 10;
/// Bytes copied out per lock when the connection is shared: the lock is
/// never held while the socket blocks.
const COPY_CHUNK: usize = 64 << 10;

/// Maps `std::time::Instant` to the core's `Instant`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock(Instant);

impl Clock {
    pub(crate) fn new() -> Self {
        Self(Instant::now())
    }

    pub(crate) fn now(&self) -> sockweave::Instant {
        sockweave::Instant::from_elapsed(self.0.elapsed())
    }
}

/// How often a blocked read or write of a shared connection looks at the
/// core's deadlines again: another thread may have called `close`, whose
/// timer is earlier than the one the blocked call was given.
const RECHECK: Duration = Duration::from_millis(100);

/// Where the connection lives while the driver works on it: owned by the
/// caller, or shared under a lock with threads that send and close.
pub(crate) trait Hold {
    /// The longest one blocking call may wait before the deadlines are
    /// looked at again: unbounded for a connection only the driver's
    /// caller touches, [`RECHECK`] for a shared one.
    const RECHECK: Option<Duration> = None;

    /// Runs `f` on the connection (under the lock, if there is one).
    fn with<R>(&mut self, f: impl FnOnce(&mut Connection) -> R) -> R;

    /// One write of queued bytes to `stream`, reported to the core.
    fn write_some(&mut self, stream: &mut impl Write) -> io::Result<()>;
}

impl Hold for Connection {
    fn with<R>(&mut self, f: impl FnOnce(&mut Connection) -> R) -> R {
        f(self)
    }

    /// Straight from the core's queue (plain or vectored, see
    /// `sockweave_net::write_queued`).
    fn write_some(&mut self, stream: &mut impl Write) -> io::Result<()> {
        sockweave_net::write_queued(self, stream).map(drop)
    }
}

/// A connection shared under a lock (`T` holds it beside other state).
impl<T: AsMut<Connection>> Hold for &Mutex<T> {
    const RECHECK: Option<Duration> = Some(RECHECK);

    fn with<R>(&mut self, f: impl FnOnce(&mut Connection) -> R) -> R {
        f(lock(self).as_mut())
    }

    /// Copies a chunk out under the lock and writes it without the lock,
    /// so a `send` from another thread never waits for the socket. Only
    /// one thread writes at a time (the caller holds the stream), so the
    /// bytes written are still the front of the queue when reported.
    fn write_some(&mut self, stream: &mut impl Write) -> io::Result<()> {
        let out = self.with(|conn| {
            let queued: usize = conn.transmit().map(<[u8]>::len).sum();
            let mut out = Vec::with_capacity(queued.min(COPY_CHUNK));
            for slice in conn.transmit() {
                let room = COPY_CHUNK - out.len();
                out.extend_from_slice(&slice[..slice.len().min(room)]);
                if out.len() == COPY_CHUNK {
                    break;
                }
            }
            out
        });
        let n = stream.write(&out)?;
        if n == 0 {
            return Err(ErrorKind::WriteZero.into());
        }
        self.with(|conn| conn.advance_transmit(n));
        Ok(())
    }
}

/// Locks `mutex`. The core never panics mid-update and adapters change
/// their state whole under the lock, so a poisoned lock is still usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The stream a driver reads, and how it writes: to the same stream, or
/// to a write half shared with other threads.
pub(crate) trait Wire {
    /// The stream reads come from.
    type Reader: Transport;

    fn reader(&mut self) -> &mut Self::Reader;

    /// Writes out what the core queued ([`flush`]).
    fn flush(&mut self, conn: &mut impl Hold, clock: Clock) -> Result<(), Error>;
}

impl<S: Transport> Wire for S {
    type Reader = S;

    fn reader(&mut self) -> &mut S {
        self
    }

    fn flush(&mut self, conn: &mut impl Hold, clock: Clock) -> Result<(), Error> {
        flush(conn, self, clock)
    }
}

/// Writes out everything the core has queued. A peer that does not read
/// blocks this no longer than the core's timers allow: each write waits at
/// most until the next deadline (keepalive, close), which then runs; once
/// the connection is CLOSED the queued bytes are abandoned with
/// [`Error::Closed`]. A peer that is gone is reported to the core as the
/// end of input.
pub(crate) fn flush<H: Hold, W: Transport>(
    conn: &mut H,
    stream: &mut W,
    clock: Clock,
) -> Result<(), Error> {
    loop {
        let now = clock.now();
        let (timeout, pending) = conn.with(|c| (write_timeout(c, now), c.wants_write()));
        if !pending {
            return Ok(stream.flush()?);
        }
        stream.set_write_timeout(earliest(timeout, H::RECHECK))?;
        match conn.write_some(stream) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let closed = conn.with(|c| {
                    c.handle_timeout(clock.now());
                    c.ready_state() == ReadyState::Closed
                });
                if closed {
                    return Err(Error::Closed);
                }
            }
            Err(e) => {
                if is_disconnect(&e) {
                    conn.with(|c| c.receive_eof(clock.now()));
                }
                return Err(e.into());
            }
        }
    }
}

/// How long a write may block: until the core's next deadline. Once
/// CLOSED there is none left: what the socket takes at once goes (a close
/// reply to a peer that is reading), the rest is abandoned, as in the
/// tokio adapter, so a peer that stops reading holds a thread no longer
/// than the close timeout after the application closes.
fn write_timeout(conn: &Connection, now: sockweave::Instant) -> Option<Duration> {
    match conn.poll_timeout() {
        Some(deadline) => Some(deadline - now),
        None if conn.ready_state() == ReadyState::Closed => Some(Duration::ZERO),
        None => None,
    }
}

/// What [`Reading::step`] came to.
pub(crate) enum Next {
    Event(Event),
    /// Nothing came within the wait: look around and step again.
    Idle,
    /// The connection is CLOSED: no event follows.
    Closed,
}

/// The read side of a driver: bytes read and not yet taken by the core,
/// and the clock the connection's times are counted on.
pub(crate) struct Reading {
    pub(crate) input: BytesMut,
    pub(crate) clock: Clock,
    /// The longest one read blocks, beyond the core's deadlines (the
    /// browser-style socket wakes to write what other threads queued).
    pub(crate) max_wait: Option<Duration>,
}

impl Reading {
    pub(crate) fn new(clock: Clock, input: BytesMut) -> Self {
        Self {
            input,
            clock,
            max_wait: None,
        }
    }

    /// The next event: decoded ones first, then writes what the core
    /// queued, then reads (at most until the next deadline). `None` once
    /// the connection is CLOSED and its last bytes went out (or could not).
    pub(crate) fn next_event<H: Hold, W: Wire>(
        &mut self,
        conn: &mut H,
        wire: &mut W,
    ) -> Result<Option<Event>, Error> {
        loop {
            match self.step(conn, wire)? {
                Next::Event(event) => return Ok(Some(event)),
                Next::Closed => return Ok(None),
                Next::Idle => {}
            }
        }
    }

    /// [`Reading::next_event`], returning [`Next::Idle`] when a read waited
    /// [`Reading::max_wait`] (or until a deadline) and brought nothing, so
    /// a caller with other work (handlers to run) gets a turn.
    pub(crate) fn step<H: Hold, W: Wire>(
        &mut self,
        conn: &mut H,
        wire: &mut W,
    ) -> Result<Next, Error> {
        let mut flushed = false;
        loop {
            let now = self.clock.now();
            let input = &mut self.input;
            if let Some(event) = conn.with(|c| c.poll_event_from(input, now)) {
                return Ok(Next::Event(event));
            }
            if conn.with(|c| c.ready_state() == ReadyState::Closed) {
                // Best effort: the peer may be gone already.
                let _ = wire.flush(conn, self.clock);
                let _ = wire.reader().shutdown();
                return Ok(Next::Closed);
            }
            // Writing can itself end the connection (a server is CLOSED
            // once its close frame is out; a timer may run while the
            // socket takes nothing): look at the events again before
            // reading.
            if !flushed {
                flushed = true;
                match wire.flush(conn, self.clock) {
                    Err(Error::Io(e)) if is_disconnect(&e) => {}
                    Err(Error::Closed) => {}
                    other => other?,
                }
                continue;
            }
            flushed = false;
            if !self.read(conn, wire.reader())? {
                return Ok(Next::Idle);
            }
        }
    }

    /// One read, bounded by the core's next deadline, then due timers.
    /// Returns whether anything came (bytes, the end, or a failure).
    fn read<H: Hold>(&mut self, conn: &mut H, stream: &mut impl Transport) -> Result<bool, Error> {
        let now = self.clock.now();
        let deadline = conn.with(|c| c.poll_timeout()).map(|at| at - now);
        let timeout = earliest(earliest(deadline, self.max_wait), H::RECHECK);
        stream.set_read_timeout(timeout)?;
        // No lock is held while blocked here.
        let result = read_into(stream, &mut self.input);
        let input = &mut self.input;
        let clock = self.clock;
        let came = !matches!(&result, Err(e) if matches!(
            e.kind(),
            ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
        ));
        let failed = conn.with(|c| {
            let now = clock.now();
            let failed = match result {
                Ok(0) => {
                    c.receive_eof(now);
                    None
                }
                Ok(_) => {
                    c.receive(input, now);
                    None
                }
                Err(_) if !came => None,
                // A reset is an end of input; the core decides whether it
                // was clean.
                Err(e) if is_disconnect(&e) => {
                    c.receive_eof(now);
                    None
                }
                Err(e) => {
                    c.receive_eof(now);
                    Some(e)
                }
            };
            c.handle_timeout(now);
            failed
        });
        shrink_if_idle(&mut self.input);
        failed.map_or(Ok(came), |e| Err(e.into()))
    }
}

/// The earlier of two optional waits (`None`: unbounded).
fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(feature = "browser")]
/// Runs the core's timers that are due, for a driver that is not reading
/// (its application has not taken the events it has).
pub(crate) fn run_timers(conn: &mut impl Hold, clock: Clock) {
    conn.with(|c| {
        let now = clock.now();
        if c.poll_timeout().is_some_and(|at| at <= now) {
            c.handle_timeout(now);
        }
    });
}

/// Reads once into `input`, growing it by at least [`READ_CHUNK`] when full.
fn read_into(stream: &mut impl Read, input: &mut BytesMut) -> io::Result<usize> {
    if input.capacity() - input.len() < READ_CHUNK {
        input.reserve(READ_CHUNK);
    }
    let len = input.len();
    let room = (input.capacity() - len).min(4 * READ_CHUNK);
    input.resize(len + room, 0);
    let result = stream.read(&mut input[len..]);
    input.truncate(len + *result.as_ref().unwrap_or(&0));
    result
}

/// Gives back a large read buffer once it is empty: idle connections hold
/// no read memory.
fn shrink_if_idle(input: &mut BytesMut) {
    if input.is_empty() && input.capacity() > KEEP_CAPACITY {
        *input = BytesMut::new();
    }
}
