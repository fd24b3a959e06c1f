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
//! The socket thread reads with a short timeout so that what `send`
//! queues goes out within [`POLL_INTERVAL`] even while nothing arrives.

mod reconnecting;

pub use reconnecting::ReconnectingWebSocket;

use crate::tls::{MaybeTls, TlsConnector};
use crate::transport::Transport;
use sockweave::browser::{self as rules, Inbox};
pub use sockweave::browser::{
    BinaryType, Blob, BrowserEvent, DomException, MessageData, MessageEvent, Reconnect,
    ReconnectEvent,
};
use sockweave::{BytesMut, CloseEvent, Config, Message, ReadyState};
use std::io::{ErrorKind, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest a queued `send` waits for the socket thread to notice it.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Bytes written per lock: the lock is not held while the socket blocks.
const WRITE_CHUNK: usize = 64 << 10;

/// What the constructor takes beyond the URL and protocols.
#[derive(Clone)]
#[non_exhaustive]
pub struct Options {
    /// Limits and timers, including keepalive and the handshake timeout.
    pub config: Config,
    /// Extra request headers (`Origin`, `Authorization`, `Cookie`…).
    pub headers: Vec<(String, String)>,
    /// How `wss://` is secured.
    pub tls: TlsConnector,
    /// How long the TCP connect and TLS handshake may each take.
    pub connect_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            config: rules::default_config(),
            headers: Vec::new(),
            tls: TlsConnector::default(),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

struct Shared {
    ws: rules::WebSocket,
    start: Instant,
    inbox: Inbox,
    finished: bool,
}

impl Shared {
    fn now(&self) -> sockweave::Instant {
        sockweave::Instant::from_elapsed(self.start.elapsed())
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
        let mut core_options = rules::Options::default();
        core_options.config = options.config.clone();
        core_options.headers = options.headers.clone();
        let ws = rules::WebSocket::new(
            url,
            protocols,
            core_options,
            |buf: &mut [u8]| rand::fill(buf),
            sockweave::Instant::ZERO,
        )?;
        let inner = Arc::new(Inner {
            state: Mutex::new(Shared {
                ws,
                start: Instant::now(),
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
        lock(&self.inner)
    }

    /// `url`.
    pub fn url(&self) -> String {
        self.lock().ws.url().to_owned()
    }

    /// `protocol`: empty until open.
    pub fn protocol(&self) -> String {
        self.lock().ws.protocol().to_owned()
    }

    /// `extensions`: empty until open.
    pub fn extensions(&self) -> String {
        self.lock().ws.extensions().to_owned()
    }

    /// `readyState`.
    pub fn ready_state(&self) -> ReadyState {
        self.lock().ws.ready_state()
    }

    /// `bufferedAmount`.
    pub fn buffered_amount(&self) -> u64 {
        self.lock().ws.buffered_amount()
    }

    /// `binaryType`.
    pub fn binary_type(&self) -> BinaryType {
        self.lock().ws.binary_type()
    }

    /// Sets `binaryType` for messages completed from now on.
    pub fn set_binary_type(&self, binary_type: BinaryType) {
        self.lock().ws.set_binary_type(binary_type);
    }

    /// `send(data)`: queues and returns.
    pub fn send(&self, data: impl Into<Message>) -> Result<(), DomException> {
        self.lock().ws.send(data)
    }

    /// `close(code, reason)`.
    pub fn close(&self, code: Option<u16>, reason: Option<&str>) -> Result<(), DomException> {
        let mut shared = self.lock();
        let now = shared.now();
        shared.ws.close(code, reason, now)
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

fn lock(inner: &Inner) -> MutexGuard<'_, Shared> {
    // A handler that panicked leaves the state consistent: every change is
    // made whole under the lock.
    inner.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes the core's events into the inbox and runs the handlers for
/// those they take, outside the lock. Returns whether the core has no more.
fn deliver(inner: &Inner) -> bool {
    let mut for_handlers = Vec::new();
    let drained = {
        let mut shared = lock(inner);
        let shared = &mut *shared;
        shared.inbox.fill(&mut shared.ws, &mut for_handlers)
    };
    inner.changed.notify_all();
    for event in for_handlers {
        let Some(mut handler) = lock(inner).inbox.take_handler(&event) else {
            continue;
        };
        handler.call(event);
        lock(inner).inbox.put_back(handler);
    }
    drained
}

fn connect(
    host: &str,
    port: u16,
    secure: bool,
    options: &Options,
) -> Result<MaybeTls<TcpStream>, crate::Error> {
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, options.connect_timeout) {
            Ok(tcp) => {
                tcp.set_nodelay(true)?;
                return options
                    .tls
                    .connect(tcp, host, secure, options.connect_timeout);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| ErrorKind::NotFound.into()).into())
}

/// The socket thread: connect, then move bytes until the core is CLOSED.
fn drive(inner: &Inner, options: &Options) {
    let (host, port, secure) = {
        let shared = lock(inner);
        let request = shared.ws.request();
        (request.host.clone(), request.port, request.secure)
    };
    // close() while connecting fails the connection at once; a connect
    // that then succeeds is dropped.
    match connect(&host, port, secure, options) {
        Ok(stream) if lock(inner).ws.connection().ready_state() != ReadyState::Closed => {
            run(inner, stream);
        }
        Ok(_) => {}
        Err(_) => {
            // The transport never came: to the core, its input ended.
            let mut shared = lock(inner);
            let now = shared.now();
            shared.ws.receive_eof(now);
        }
    }
    // The last events (error, close) are delivered, window by window.
    loop {
        if deliver(inner) {
            break;
        }
        let mut shared = lock(inner);
        while !shared.inbox.has_room() {
            shared = inner
                .changed
                .wait_timeout(shared, POLL_INTERVAL)
                .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
        }
    }
    let mut shared = lock(inner);
    shared.finished = true;
    // Handlers often hold a clone of the socket: dropping them ends the cycle.
    shared.inbox.clear_handlers();
    drop(shared);
    inner.changed.notify_all();
}

fn run(inner: &Inner, mut stream: MaybeTls<TcpStream>) {
    let mut input = BytesMut::new();
    let mut out = Vec::with_capacity(WRITE_CHUNK);
    let mut read_done = false;
    loop {
        // Write what is queued, a chunk per lock.
        loop {
            out.clear();
            {
                let shared = lock(inner);
                for slice in shared.ws.transmit() {
                    let room = WRITE_CHUNK - out.len();
                    out.extend_from_slice(&slice[..slice.len().min(room)]);
                    if out.len() == WRITE_CHUNK {
                        break;
                    }
                }
            }
            if out.is_empty() {
                break;
            }
            let written = stream.write(&out).and_then(|n| stream.flush().map(|()| n));
            let mut shared = lock(inner);
            match written {
                Ok(n) if n > 0 => shared.ws.advance_transmit(n),
                _ => {
                    let now = shared.now();
                    shared.ws.receive_eof(now);
                    read_done = true;
                    break;
                }
            }
        }
        let drained = deliver(inner);
        let (done, timeout, room) = {
            let mut shared = lock(inner);
            let now = shared.now();
            if shared.ws.poll_timeout().is_some_and(|at| at <= now) {
                shared.ws.handle_timeout(now);
            }
            let done = drained
                && shared.ws.connection().ready_state() == ReadyState::Closed
                && !shared.ws.wants_write();
            let timeout = shared
                .ws
                .poll_timeout()
                .map_or(POLL_INTERVAL, |at| (at - now).min(POLL_INTERVAL));
            (done, timeout, shared.inbox.has_room())
        };
        if done {
            let _ = stream.shutdown();
            return;
        }
        if read_done || !room {
            // Nothing to read (or no room for what it would bring): wait a
            // turn for the application.
            std::thread::sleep(timeout.max(Duration::from_millis(1)));
            continue;
        }
        {
            let mut shared = lock(inner);
            if shared.ws.needs_receive() {
                // The core stopped at its event budget: whole frames wait.
                let now = shared.now();
                shared.ws.receive(&mut input, now);
                continue;
            }
        }
        let _ = stream.set_read_timeout(Some(timeout.max(Duration::from_millis(1))));
        let result = crate::websocket::read_into(&mut stream, &mut input);
        let mut shared = lock(inner);
        let now = shared.now();
        match result {
            Ok(0) => {
                shared.ws.receive_eof(now);
                read_done = true;
            }
            Ok(_) => shared.ws.receive(&mut input, now),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => {
                shared.ws.receive_eof(now);
                read_done = true;
            }
        }
    }
}
