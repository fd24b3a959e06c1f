//! The browser's WebSocket interface on tokio: `new WebSocket(url,
//! protocols)`, a synchronous `send` and `close` that queue and return,
//! `ready_state`, `buffered_amount`, and the open / message / error / close
//! events as a stream or through handlers. The rules are the core's
//! ([`sockweave::browser`]); this module moves bytes for it in a task.
//!
//! ```no_run
//! use sockweave_tokio::browser::{BrowserEvent, MessageData, WebSocket};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut socket = WebSocket::new("ws://127.0.0.1:9001/", &[])?;
//! while let Some(event) = socket.next().await {
//!     match event {
//!         BrowserEvent::Open => socket.send("Hello Server!")?,
//!         BrowserEvent::Message(m) => {
//!             if let MessageData::Text(text) = &m.data {
//!                 println!("Message from server: {text}");
//!             }
//!             socket.close(Some(1000), Some("Work complete"))?;
//!         }
//!         BrowserEvent::Error(_) => eprintln!("WebSocket error"),
//!         BrowserEvent::Close(c) => println!("closed: {} {} clean={}", c.code, c.reason, c.was_clean),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## The reference's examples, one by one
//!
//! Constructors — `new WebSocket(url)`, with one protocol, with several:
//!
//! ```no_run
//! # use sockweave_tokio::browser::WebSocket;
//! # async fn run() -> Result<(), sockweave_tokio::browser::DomException> {
//! let plain = WebSocket::new("ws://localhost:8080", &[])?;
//! let one = WebSocket::new("wss://example.com/socket", &["chat"])?;
//! let several = WebSocket::new("wss://example.com/socket", &["chat", "superchat"])?;
//! // http(s) URLs are accepted and mapped, as in browsers:
//! assert_eq!(WebSocket::new("https://example.com", &[])?.url(), "wss://example.com/");
//! # Ok(())
//! # }
//! ```
//!
//! Sending text and binary — strings are text; `ArrayBuffer`, typed arrays
//! and `Blob`s are all bytes in Rust:
//!
//! ```no_run
//! # use sockweave_tokio::browser::WebSocket;
//! # fn run(socket: &WebSocket) -> Result<(), sockweave_tokio::browser::DomException> {
//! socket.send("Hello Server!")?;                         // text
//! socket.send(vec![0u8, 1, 2, 3])?;                       // new Uint8Array([0, 1, 2, 3])
//! let floats = [1.5f32, 2.5];
//! let bytes: Vec<u8> = floats.iter().flat_map(|f| f.to_le_bytes()).collect();
//! socket.send(bytes)?;                                    // new Float32Array([1.5, 2.5]).buffer
//! socket.send(sockweave_tokio::Bytes::from_static(b"blob"))?; // new Blob(["blob"])
//! println!("queued: {} bytes", socket.buffered_amount()); // socket.bufferedAmount
//! # Ok(())
//! # }
//! ```
//!
//! Each event handler — `onopen`, `onmessage` (text, and binary with
//! `binaryType`), `onerror`, `onclose`:
//!
//! ```no_run
//! # use sockweave_tokio::browser::{BinaryType, MessageData, WebSocket};
//! # async fn run() -> Result<(), sockweave_tokio::browser::DomException> {
//! let socket = WebSocket::new("ws://localhost:8080", &[])?;
//! socket.set_binary_type(BinaryType::ArrayBuffer);        // socket.binaryType = "arraybuffer"
//! socket.on_open(|| println!("connected"));
//! socket.on_message(|event| match &event.data {
//!     MessageData::Text(text) => println!("text: {text}"),
//!     MessageData::ArrayBuffer(bytes) => println!("{} bytes", bytes.len()),
//!     MessageData::Blob(blob) => println!("blob of {} bytes", blob.len()),
//! });
//! socket.on_error(|cause| eprintln!("error: {cause:?}"));
//! socket.on_close(|event| {
//!     println!("closed: {} {:?} clean={}", event.code, event.reason, event.was_clean)
//! });
//! socket.closed().await;
//! # Ok(())
//! # }
//! ```
//!
//! The close variants — `close()`, `close(code)`, `close(code, reason)`,
//! and what the rules refuse:
//!
//! ```no_run
//! # use sockweave_tokio::browser::WebSocket;
//! # fn run(socket: &WebSocket) -> Result<(), sockweave_tokio::browser::DomException> {
//! socket.close(None, None)?;                              // socket.close()
//! socket.close(Some(1000), None)?;                        // socket.close(1000)
//! socket.close(Some(4000), Some("Work complete"))?;       // socket.close(4000, "Work complete")
//! assert_eq!(socket.close(Some(1001), None).unwrap_err().name(), "InvalidAccessError");
//! let long = "x".repeat(124);
//! assert_eq!(socket.close(None, Some(&long)).unwrap_err().name(), "SyntaxError");
//! # Ok(())
//! # }
//! ```
//!
//! The complete example is `examples/browser_complete.rs`; tests/browser
//! runs it against `sockweave serve` on every adapter.

mod reconnecting;

pub use reconnecting::ReconnectingWebSocket;

use crate::tls::{MaybeTls, TlsConnector};
use sockweave::browser::{self as rules, Inbox};
pub use sockweave::browser::{
    BinaryType, Blob, BrowserEvent, DomException, MessageData, MessageEvent, Reconnect,
    ReconnectEvent,
};
use sockweave::{BytesMut, CloseEvent, Config, Message, ReadyState};
use std::future::poll_fn;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

const READ_CHUNK: usize = 16 << 10;

/// What the constructor takes beyond the URL and protocols.
#[derive(Clone)]
#[non_exhaustive]
pub struct Options {
    /// Limits and timers, including the opening handshake's timeout.
    pub config: Config,
    /// Extra request headers (`Origin`, `Authorization`, `Cookie`…).
    pub headers: Vec<(String, String)>,
    /// How `wss://` is secured.
    pub tls: TlsConnector,
    /// How long the TCP connect and TLS handshake may take together.
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
    start: tokio::time::Instant,
    inbox: Inbox,
    app: Option<Waker>,
    driver: Option<Waker>,
    /// The task has ended: no event will follow those queued.
    finished: bool,
}

/// A browser-style WebSocket, driven by a tokio task. Clone it to use it
/// from handlers or other tasks; all clones are the same socket.
#[derive(Clone)]
pub struct WebSocket {
    shared: Arc<Mutex<Shared>>,
}

impl WebSocket {
    /// `new WebSocket(url, protocols)`: checks the arguments (a
    /// [`DomException`] if they break the rules) and starts connecting in a
    /// task on the current tokio runtime.
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
        let start = tokio::time::Instant::now();
        let ws = rules::WebSocket::new(
            url,
            protocols,
            core_options,
            |buf: &mut [u8]| rand::fill(buf),
            sockweave::Instant::ZERO,
        )?;
        let shared = Arc::new(Mutex::new(Shared {
            ws,
            start,
            inbox: Inbox::default(),
            app: None,
            driver: None,
            finished: false,
        }));
        tokio::spawn(drive(shared.clone(), options));
        Ok(Self { shared })
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
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

    /// `bufferedAmount`: bytes passed to `send` and not yet written to the
    /// socket (and, once closing, bytes sent and discarded).
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

    /// `send(data)`: queues and returns; the task writes it out.
    pub fn send(&self, data: impl Into<Message>) -> Result<(), DomException> {
        let mut shared = self.lock();
        shared.ws.send(data)?;
        wake(&mut shared.driver);
        Ok(())
    }

    /// `close(code, reason)`.
    pub fn close(&self, code: Option<u16>, reason: Option<&str>) -> Result<(), DomException> {
        let mut shared = self.lock();
        let now = shared.now();
        shared.ws.close(code, reason, now)?;
        wake(&mut shared.driver);
        Ok(())
    }

    /// The next event not taken by a handler; `None` after the close event.
    pub async fn next(&mut self) -> Option<BrowserEvent> {
        poll_fn(|cx| self.poll_next_event(cx)).await
    }

    fn poll_next_event(&self, cx: &mut Context<'_>) -> Poll<Option<BrowserEvent>> {
        let mut shared = self.lock();
        if let Some(event) = shared.inbox.pop() {
            // Room in the window: the task may read again.
            wake(&mut shared.driver);
            return Poll::Ready(Some(event));
        }
        if shared.finished {
            return Poll::Ready(None);
        }
        shared.app = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Sets a handler, and wakes the task so that events already queued for
    /// it reach it.
    fn set_handler(&self, set: impl FnOnce(&mut Inbox)) {
        let mut shared = self.lock();
        set(&mut shared.inbox);
        wake(&mut shared.driver);
    }

    /// `onopen`: called from the socket's task; the event no longer
    /// appears in [`WebSocket::next`].
    pub fn on_open(&self, handler: impl FnMut() + Send + 'static) {
        self.set_handler(|inbox| inbox.on_open(handler));
    }

    /// `onmessage`.
    pub fn on_message(&self, handler: impl FnMut(MessageEvent) + Send + 'static) {
        self.set_handler(|inbox| inbox.on_message(handler));
    }

    /// `onerror`.
    pub fn on_error(&self, handler: impl FnMut(Option<sockweave::Error>) + Send + 'static) {
        self.set_handler(|inbox| inbox.on_error(handler));
    }

    /// `onclose`.
    pub fn on_close(&self, handler: impl FnMut(CloseEvent) + Send + 'static) {
        self.set_handler(|inbox| inbox.on_close(handler));
    }

    /// Waits until the socket is CLOSED and its task has ended (for
    /// programs that only use handlers).
    pub async fn closed(&self) {
        poll_fn(|cx| {
            let mut shared = self.lock();
            if shared.finished {
                return Poll::Ready(());
            }
            shared.app = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl futures_core::Stream for WebSocket {
    type Item = BrowserEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BrowserEvent>> {
        self.poll_next_event(cx)
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A handler that panicked leaves the state consistent: every change is
    // made whole under the lock.
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn now(&self) -> sockweave::Instant {
        sockweave::Instant::from_elapsed(self.start.elapsed())
    }

    /// Takes the core's events into the inbox (or `dispatch`, for those a
    /// handler takes), waking the application. Returns whether the core has
    /// no more.
    fn take_events(&mut self, dispatch: &mut Vec<BrowserEvent>) -> bool {
        let was_empty = self.inbox.is_empty();
        let drained = self.inbox.fill(&mut self.ws, dispatch);
        if was_empty && !self.inbox.is_empty() {
            wake(&mut self.app);
        }
        drained
    }
}

/// Runs the handlers for `events`, without holding the lock (handlers
/// send and close through their own clone of the socket).
fn dispatch(shared: &Mutex<Shared>, events: Vec<BrowserEvent>) {
    for event in events {
        let Some(mut handler) = lock(shared).inbox.take_handler(&event) else {
            continue;
        };
        handler.call(event);
        lock(shared).inbox.put_back(handler);
    }
}

/// The socket's task: connect (TCP, then TLS for wss), then move bytes
/// until the core is CLOSED, then end the transport.
async fn drive(shared: Arc<Mutex<Shared>>, options: Options) {
    let (host, port, secure) = {
        let guard = lock(&shared);
        let request = guard.ws.request();
        (request.host.clone(), request.port, request.secure)
    };
    let connect = async {
        let tcp = TcpStream::connect((host.as_str(), port)).await?;
        tcp.set_nodelay(true)?;
        let timeout = options.connect_timeout;
        options.tls.connect(tcp, &host, secure, timeout).await
    };
    // close() while connecting fails the connection at once; the connect
    // is abandoned.
    let closed_early = poll_fn(|cx| {
        let mut guard = lock(&shared);
        if guard.ws.connection().ready_state() == ReadyState::Closed {
            return Poll::Ready(());
        }
        guard.driver = Some(cx.waker().clone());
        Poll::Pending
    });
    let stream = tokio::select! {
        result = tokio::time::timeout(options.connect_timeout, connect) => match result {
            Ok(Ok(stream)) => Some(stream),
            _ => None,
        },
        () = closed_early => None,
    };
    match stream {
        Some(mut stream) => {
            let mut driver = Driver {
                input: BytesMut::new(),
                timer: None,
                read_done: false,
            };
            poll_fn(|cx| driver.poll(&shared, &mut stream, cx)).await;
            let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
        }
        None => {
            // The transport never came: to the core, its input ended.
            let mut guard = lock(&shared);
            let now = guard.now();
            guard.ws.receive_eof(now);
        }
    }
    // Whatever the core still holds (the last events) is delivered.
    loop {
        let mut events = Vec::new();
        let drained = lock(&shared).take_events(&mut events);
        dispatch(&shared, events);
        if drained {
            break;
        }
        // The window is full: wait for the application to take some.
        poll_fn(|cx| {
            let mut guard = lock(&shared);
            if guard.inbox.has_room() {
                return Poll::Ready(());
            }
            guard.driver = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }
    let mut guard = lock(&shared);
    guard.finished = true;
    // Handlers often hold a clone of the socket: dropping them ends the cycle.
    guard.inbox.clear_handlers();
    wake(&mut guard.app);
}

struct Driver {
    input: BytesMut,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    read_done: bool,
}

impl Driver {
    /// One turn: timers, writes, events, a read. Ready once the core is
    /// CLOSED with nothing left to write.
    fn poll<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        shared: &Mutex<Shared>,
        stream: &mut MaybeTls<S>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        loop {
            let mut progress = false;
            let mut events = Vec::new();
            let mut guard = lock(shared);
            guard.driver = Some(cx.waker().clone());
            let now = guard.now();
            if guard.ws.poll_timeout().is_some_and(|at| at <= now) {
                guard.ws.handle_timeout(now);
            }
            let mut write_blocked = false;
            while guard.ws.wants_write() {
                let slices: Vec<IoSlice<'_>> =
                    guard.ws.transmit().take(8).map(IoSlice::new).collect();
                match Pin::new(&mut *stream).poll_write_vectored(cx, &slices) {
                    Poll::Ready(Ok(n)) if n > 0 => {
                        guard.ws.advance_transmit(n);
                        progress = true;
                    }
                    Poll::Ready(_) => {
                        // Gone or failed: to the core, that ends the input.
                        guard.ws.receive_eof(now);
                        self.read_done = true;
                        break;
                    }
                    Poll::Pending => {
                        write_blocked = true;
                        break;
                    }
                }
            }
            let _ = Pin::new(&mut *stream).poll_flush(cx);
            let drained = guard.take_events(&mut events);
            // Taking events can queue bytes (a close reply, a pong).
            progress |= !events.is_empty() || (guard.ws.wants_write() && !write_blocked);
            if guard.inbox.has_room() && guard.ws.needs_receive() {
                // The core stopped at its event budget: whole frames wait.
                guard.ws.receive(&mut self.input, now);
                progress = true;
            } else if guard.inbox.has_room() && guard.ws.wants_read() && !self.read_done {
                if self.input.capacity() - self.input.len() < READ_CHUNK {
                    self.input.reserve(READ_CHUNK);
                }
                match tokio_util::io::poll_read_buf(Pin::new(&mut *stream), cx, &mut self.input) {
                    Poll::Ready(Ok(0)) => {
                        guard.ws.receive_eof(now);
                        self.read_done = true;
                        progress = true;
                    }
                    Poll::Ready(Ok(_)) => {
                        guard.ws.receive(&mut self.input, now);
                        progress = true;
                    }
                    // A reset or any other failure ends the input; the core
                    // reports the drop (error, then close 1006).
                    Poll::Ready(Err(_)) => {
                        guard.ws.receive_eof(now);
                        self.read_done = true;
                        progress = true;
                    }
                    Poll::Pending => {}
                }
            }
            let done = drained
                && guard.ws.connection().ready_state() == ReadyState::Closed
                && !guard.ws.wants_write();
            let deadline = guard
                .ws
                .poll_timeout()
                .map(|at| guard.start + at.elapsed_since_epoch());
            drop(guard);
            dispatch(shared, events);
            if done {
                return Poll::Ready(());
            }
            if progress {
                continue;
            }
            match deadline {
                Some(at) => {
                    let timer = self
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
                    timer.as_mut().reset(at);
                    if timer.as_mut().poll(cx).is_ready() {
                        continue;
                    }
                }
                None => self.timer = None,
            }
            return Poll::Pending;
        }
    }
}

fn wake(waker: &mut Option<Waker>) {
    if let Some(waker) = waker.take() {
        waker.wake();
    }
}
