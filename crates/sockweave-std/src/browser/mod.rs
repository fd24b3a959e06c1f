//! The browser's WebSocket interface on blocking sockets: `send` and
//! `close` queue and return, a thread per socket moves the bytes, and
//! events come from [`WebSocket::next`] (blocking) or go to handlers run on
//! that thread. The rules are the core's ([`sockweave::browser`]).
//!
//! ```no_run
//! use sockweave_std::browser::{BrowserEvent, WebSocket};
//!
//! let socket = WebSocket::new("ws://127.0.0.1:9001/", &[])?;
//! while let Some(event) = socket.next() {
//!     match event {
//!         BrowserEvent::Open => socket.send("Hello Server!")?,
//!         BrowserEvent::Message(m) => {
//!             println!("Message from server: {:?}", m.data);
//!             socket.close(Some(1000), Some("Work complete"))?;
//!         }
//!         BrowserEvent::Error(cause) => eprintln!("WebSocket error: {cause:?}"),
//!         BrowserEvent::Close(c) => println!("closed: {} clean={}", c.code, c.was_clean),
//!     }
//! }
//! # Ok::<(), sockweave_std::browser::DomException>(())
//! ```
//!
//! The socket thread runs the adapter's one driver (the same as
//! [`crate::WebSocket`]'s) over a connection it shares with the calls:
//! `send` and `close` apply the rules under a lock and return, and the
//! thread reads with a short timeout so that what they queue goes out
//! within [`POLL_INTERVAL`] even while nothing arrives.

mod reconnecting;

pub use reconnecting::ReconnectingWebSocket;

use crate::driver::{self, Clock, Next, Reading, lock};
use crate::tls::MaybeTls;
pub use sockweave::browser::{
    BinaryType, Blob, BrowserEvent, DomException, MessageData, MessageEvent, Reconnect,
    ReconnectEvent,
};
use sockweave::browser::{Inbox, Layer};
use sockweave::{BytesMut, CloseEvent, Connection, Message, ReadyState};
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The longest a queued `send` waits for the socket thread to notice it.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// What the constructor takes beyond the URL and protocols (the same as
/// every adapter's).
pub use sockweave_net::BrowserOptions as Options;

struct Shared {
    layer: Layer,
    conn: Connection,
    clock: Clock,
    inbox: Inbox,
    finished: bool,
}

impl AsMut<Connection> for Shared {
    fn as_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

struct Inner {
    state: Mutex<Shared>,
    /// Signalled when events arrive or the thread ends.
    changed: Condvar,
}

/// A browser-style WebSocket with its own socket thread. Clone it to use it
/// from handlers or other threads; all clones are the same socket.
#[derive(Clone)]
pub struct WebSocket {
    inner: Arc<Inner>,
}

impl WebSocket {
    /// `new WebSocket(url, protocols)`: checks the arguments and starts
    /// connecting on a new thread.
    pub fn new(url: &str, protocols: &[&str]) -> Result<Self, DomException> {
        Self::with_options(url, protocols, Options::default())
    }

    /// [`WebSocket::new`] with headers, limits, TLS and a connect timeout.
    pub fn with_options(
        url: &str,
        protocols: &[&str],
        options: Options,
    ) -> Result<Self, DomException> {
        let clock = Clock::new();
        let (layer, conn) = Layer::new(
            url,
            protocols,
            options.rules(),
            |buf: &mut [u8]| rand::fill(buf),
            clock.now(),
        )?;
        let inner = Arc::new(Inner {
            state: Mutex::new(Shared {
                layer,
                conn,
                clock,
                inbox: Inbox::default(),
                finished: false,
            }),
            changed: Condvar::new(),
        });
        let driver = inner.clone();
        std::thread::Builder::new()
            .name("sockweave-browser".into())
            .spawn(move || drive(&driver, &options))
            .map_err(|e| DomException::InvalidState(format!("cannot start a thread: {e}")))?;
        Ok(Self { inner })
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A handler that panicked leaves the state consistent: every
        // change is made whole under the lock.
        lock(&self.inner.state)
    }

    /// `url`.
    pub fn url(&self) -> String {
        self.lock().layer.url().to_owned()
    }

    /// `protocol`: empty until open.
    pub fn protocol(&self) -> String {
        self.lock().layer.protocol().to_owned()
    }

    /// `extensions`: empty until open.
    pub fn extensions(&self) -> String {
        self.lock().layer.extensions().to_owned()
    }

    /// `readyState`.
    pub fn ready_state(&self) -> ReadyState {
        let shared = self.lock();
        shared.layer.ready_state(&shared.conn)
    }

    /// `bufferedAmount`.
    pub fn buffered_amount(&self) -> u64 {
        let shared = self.lock();
        shared.layer.buffered_amount(&shared.conn)
    }

    /// `binaryType`.
    pub fn binary_type(&self) -> BinaryType {
        self.lock().layer.binary_type()
    }

    /// Sets `binaryType` for messages completed from now on.
    pub fn set_binary_type(&self, binary_type: BinaryType) {
        self.lock().layer.set_binary_type(binary_type);
    }

    /// `send(data)`: queues and returns.
    pub fn send(&self, data: impl Into<Message>) -> Result<(), DomException> {
        let mut shared = self.lock();
        let shared = &mut *shared;
        shared.layer.send(&mut shared.conn, data)
    }

    /// `close(code, reason)`.
    pub fn close(&self, code: Option<u16>, reason: Option<&str>) -> Result<(), DomException> {
        let mut shared = self.lock();
        let shared = &mut *shared;
        let now = shared.clock.now();
        shared.layer.close(&mut shared.conn, code, reason, now)
    }

    /// The next event not taken by a handler, waiting for it; `None` after
    /// the close event.
    pub fn next(&self) -> Option<BrowserEvent> {
        let mut shared = self.lock();
        loop {
            if let Some(event) = shared.inbox.pop() {
                return Some(event);
            }
            if shared.finished {
                return None;
            }
            shared = self
                .inner
                .changed
                .wait(shared)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The next event if one is waiting.
    pub fn try_next(&self) -> Option<BrowserEvent> {
        self.lock().inbox.pop()
    }

    /// `onopen`: runs on the socket thread; the event no longer appears in
    /// [`WebSocket::next`].
    pub fn on_open(&self, handler: impl FnMut() + Send + 'static) {
        self.lock().inbox.on_open(handler);
    }

    /// `onmessage`.
    pub fn on_message(&self, handler: impl FnMut(MessageEvent) + Send + 'static) {
        self.lock().inbox.on_message(handler);
    }

    /// `onerror`.
    pub fn on_error(&self, handler: impl FnMut(Option<sockweave::Error>) + Send + 'static) {
        self.lock().inbox.on_error(handler);
    }

    /// `onclose`.
    pub fn on_close(&self, handler: impl FnMut(CloseEvent) + Send + 'static) {
        self.lock().inbox.on_close(handler);
    }

    /// Blocks until the socket is CLOSED and its thread has ended.
    pub fn wait_closed(&self) {
        let mut shared = self.lock();
        while !shared.finished {
            shared = self
                .inner
                .changed
                .wait(shared)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Takes `event` from the connection through the rules into the inbox and
/// runs the handlers for those they take, outside the lock.
fn deliver(inner: &Inner, event: sockweave::Event) {
    let mut for_handlers = Vec::new();
    {
        let mut shared = lock(&inner.state);
        let shared = &mut *shared;
        for event in shared.layer.on_event(event, &shared.conn) {
            shared.inbox.push(event, &mut for_handlers);
        }
    }
    inner.changed.notify_all();
    run_handlers(inner, for_handlers);
}

fn run_handlers(inner: &Inner, events: Vec<BrowserEvent>) {
    for event in events {
        let Some(mut handler) = lock(&inner.state).inbox.take_handler(&event) else {
            continue;
        };
        handler.call(event);
        lock(&inner.state).inbox.put_back(handler);
    }
}

/// Waits until the application has taken events enough for more to come
/// in. Meanwhile what the calls queue still goes out and the timers run,
/// so a socket nobody reads still answers and ends on time.
fn wait_for_room(inner: &Inner, stream: &mut MaybeTls<TcpStream>, clock: Clock) {
    loop {
        let mut for_handlers = Vec::new();
        {
            let mut shared = lock(&inner.state);
            // A handler set meanwhile takes the events queued for it.
            shared.inbox.release(&mut for_handlers);
            if shared.inbox.has_room() && for_handlers.is_empty() {
                return;
            }
            if for_handlers.is_empty() {
                drop(
                    inner
                        .changed
                        .wait_timeout(shared, POLL_INTERVAL)
                        .map_or_else(|e| e.into_inner().0, |(guard, _)| guard),
                );
            }
        }
        run_handlers(inner, for_handlers);
        let mut hold = &inner.state;
        driver::run_timers(&mut hold, clock);
        let _ = driver::flush(&mut hold, stream, clock);
    }
}

fn connect(
    host: &str,
    port: u16,
    secure: bool,
    options: &Options,
) -> Result<MaybeTls<TcpStream>, crate::Error> {
    let (tls, proxy) = (&options.tls, options.proxy.as_ref());
    crate::websocket::connect_stream(host, port, secure, tls, proxy, options.connect_timeout)
}

/// The socket thread: connect, then run the driver until the connection
/// is CLOSED and its last event delivered.
fn drive(inner: &Inner, options: &Options) {
    let (host, port, secure, clock) = {
        let shared = lock(&inner.state);
        let request = shared.layer.request();
        (
            request.host.clone(),
            request.port,
            request.secure,
            shared.clock,
        )
    };
    // close() while connecting fails the connection at once; a connect
    // that then succeeds is dropped.
    let stream = match connect(&host, port, secure, options) {
        Ok(stream) if lock(&inner.state).conn.ready_state() != ReadyState::Closed => Some(stream),
        Ok(_) => None,
        Err(_) => {
            // The transport never came: to the core, its input ended.
            let mut shared = lock(&inner.state);
            let now = clock.now();
            shared.conn.receive_eof(now);
            None
        }
    };
    match stream {
        Some(mut stream) => {
            let mut reading = Reading::new(clock, BytesMut::new());
            reading.max_wait = Some(POLL_INTERVAL);
            loop {
                wait_for_room(inner, &mut stream, clock);
                match reading.step(&mut &inner.state, &mut stream) {
                    Ok(Next::Event(event)) => deliver(inner, event),
                    Ok(Next::Idle) => {}
                    Ok(Next::Closed) => break,
                    // The transport failed: to the core, its input ended
                    // (it reports the drop as error, then close 1006).
                    Err(_) => lock(&inner.state).conn.receive_eof(clock.now()),
                }
            }
        }
        None => loop {
            // No transport: only the last events (error, close) remain.
            let Some(event) = lock(&inner.state).conn.poll_event() else {
                break;
            };
            deliver(inner, event);
        },
    }
    let mut shared = lock(&inner.state);
    shared.finished = true;
    // Handlers often hold a clone of the socket: dropping them ends the cycle.
    shared.inbox.clear_handlers();
    drop(shared);
    inner.changed.notify_all();
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("url", &self.url())
            .field("ready_state", &self.ready_state())
            .finish_non_exhaustive()
    }
}
