//! The browser's WebSocket interface on tokio: `new WebSocket(url,
//! protocols)`, a synchronous `send` and `close` that queue and return,
//! `ready_state`, `buffered_amount`, and the open / message / error / close
//! events as a stream or through handlers. The rules are the core's
//! ([`sockweave::browser::Layer`]); a task runs the adapter's own
//! [`crate::WebSocket`] under them (the same driver as every other
//! connection: one read/write/timer loop per adapter).
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

use crate::tls::MaybeTls;
pub use sockweave::browser::{
    BinaryType, Blob, BrowserEvent, DomException, MessageData, MessageEvent, Reconnect,
    ReconnectEvent,
};
use sockweave::browser::{Inbox, Layer};
use sockweave::{CloseEvent, Connection, Message, ReadyState};
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::net::TcpStream;

/// What the constructor takes beyond the URL and protocols (the same as
/// every adapter's).
pub use sockweave_net::BrowserOptions as Options;

struct Shared {
    layer: Layer,
    link: Link,
    start: tokio::time::Instant,
    inbox: Inbox,
    app: Option<Waker>,
    driver: Option<Waker>,
    /// The task has ended: no event will follow those queued.
    finished: bool,
}

/// Where the connection is: on its own until the stream comes, then in
/// the adapter's WebSocket.
enum Link {
    Connecting(Box<Connection>),
    Up(Box<crate::WebSocket<MaybeTls<TcpStream>>>),
    /// Only while moving from one to the other.
    Moving,
}

impl Link {
    fn conn(&mut self) -> &mut Connection {
        match self {
            Self::Connecting(conn) => conn,
            Self::Up(ws) => ws.connection_mut(),
            Self::Moving => unreachable!("never seen outside `drive`"),
        }
    }
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
        let start = tokio::time::Instant::now();
        let (layer, conn) = Layer::new(
            url,
            protocols,
            options.rules(),
            |buf: &mut [u8]| rand::fill(buf),
            sockweave::Instant::ZERO,
        )?;
        let shared = Arc::new(Mutex::new(Shared {
            layer,
            link: Link::Connecting(Box::new(conn)),
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
        let mut shared = self.lock();
        let shared = &mut *shared;
        shared.layer.ready_state(shared.link.conn())
    }

    /// `bufferedAmount`: bytes passed to `send` and not yet written to the
    /// socket (and, once closing, bytes sent and discarded).
    pub fn buffered_amount(&self) -> u64 {
        let mut shared = self.lock();
        let shared = &mut *shared;
        shared.layer.buffered_amount(shared.link.conn())
    }

    /// `binaryType`.
    pub fn binary_type(&self) -> BinaryType {
        self.lock().layer.binary_type()
    }

    /// Sets `binaryType` for messages completed from now on.
    pub fn set_binary_type(&self, binary_type: BinaryType) {
        self.lock().layer.set_binary_type(binary_type);
    }

    /// `send(data)`: queues and returns; the task writes it out.
    pub fn send(&self, data: impl Into<Message>) -> Result<(), DomException> {
        let mut shared = self.lock();
        let shared = &mut *shared;
        shared.layer.send(shared.link.conn(), data)?;
        wake(&mut shared.driver);
        Ok(())
    }

    /// `close(code, reason)`.
    pub fn close(&self, code: Option<u16>, reason: Option<&str>) -> Result<(), DomException> {
        let mut shared = self.lock();
        let shared = &mut *shared;
        let now = shared.now();
        shared.layer.close(shared.link.conn(), code, reason, now)?;
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

    /// Takes a connection event through the rules into the inbox (or
    /// `dispatch`, for those a handler takes), waking the application.
    fn deliver(&mut self, event: sockweave::Event, dispatch: &mut Vec<BrowserEvent>) {
        for event in self.layer.on_event(event, self.link.conn()) {
            self.inbox.push(event, dispatch);
        }
        if !self.inbox.is_empty() {
            wake(&mut self.app);
        }
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

/// The socket's task: connect (TCP, then TLS for wss), then run the
/// adapter's WebSocket until the connection is CLOSED and its last event
/// delivered.
async fn drive(shared: Arc<Mutex<Shared>>, options: Options) {
    let (host, port, secure) = {
        let guard = lock(&shared);
        let request = guard.layer.request();
        (request.host.clone(), request.port, request.secure)
    };
    // The TCP connect, then the TLS handshake, each within the timeout.
    let connect = async {
        let (tls, proxy) = (&options.tls, options.proxy.as_ref());
        let timeout = options.connect_timeout;
        crate::websocket::connect_stream(&host, port, secure, tls, proxy, timeout).await
    };
    // close() while connecting fails the connection at once; the connect
    // is abandoned.
    let closed_early = poll_fn(|cx| {
        let mut guard = lock(&shared);
        if guard.link.conn().ready_state() == ReadyState::Closed {
            return Poll::Ready(());
        }
        guard.driver = Some(cx.waker().clone());
        Poll::Pending
    });
    let stream = tokio::select! {
        result = connect => result.ok(),
        () = closed_early => None,
    };
    match stream {
        Some(stream) => {
            {
                let mut guard = lock(&shared);
                let start = guard.start;
                let Link::Connecting(conn) = std::mem::replace(&mut guard.link, Link::Moving)
                else {
                    unreachable!("the link is only moved here")
                };
                guard.link = Link::Up(Box::new(crate::WebSocket::resume(stream, *conn, start)));
            }
            poll_fn(|cx| poll_drive(&shared, cx)).await;
        }
        None => {
            // The transport never came: to the core, its input ended, and
            // only its last events (error, close) remain.
            let mut guard = lock(&shared);
            let now = guard.now();
            guard.link.conn().receive_eof(now);
            let mut events = Vec::new();
            while let Some(event) = guard.link.conn().poll_event() {
                guard.deliver(event, &mut events);
            }
            drop(guard);
            dispatch(&shared, events);
        }
    }
    let mut guard = lock(&shared);
    guard.finished = true;
    // Handlers often hold a clone of the socket: dropping them ends the cycle.
    guard.inbox.clear_handlers();
    wake(&mut guard.app);
}

/// Runs the adapter's WebSocket: its events go through the rules into the
/// inbox while there is room; without room, it only writes and runs its
/// timers. Ready once the connection is CLOSED and every event delivered.
fn poll_drive(shared: &Mutex<Shared>, cx: &mut Context<'_>) -> Poll<()> {
    loop {
        let mut events = Vec::new();
        let mut guard = lock(shared);
        guard.driver = Some(cx.waker().clone());
        // A handler set meanwhile takes the events queued for it.
        guard.inbox.release(&mut events);
        let paused = !guard.inbox.has_room() || !events.is_empty();
        let Link::Up(ws) = &mut guard.link else {
            unreachable!("driven once the stream is up")
        };
        let (done, more) = if paused {
            ws.poll_paused(cx);
            (false, !events.is_empty())
        } else {
            match ws.poll_next_event(cx) {
                Poll::Ready(Ok(Some(event))) => {
                    guard.deliver(event, &mut events);
                    (false, true)
                }
                Poll::Ready(Ok(None)) => (true, false),
                Poll::Ready(Err(_)) => {
                    // The transport failed: to the core, its input ended
                    // (it reports the drop as error, then close 1006).
                    let now = guard.now();
                    guard.link.conn().receive_eof(now);
                    (false, true)
                }
                Poll::Pending => (false, false),
            }
        };
        drop(guard);
        dispatch(shared, events);
        if done {
            return Poll::Ready(());
        }
        if !more {
            return Poll::Pending;
        }
    }
}

fn wake(waker: &mut Option<Waker>) {
    if let Some(waker) = waker.take() {
        waker.wake();
    }
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("url", &self.url())
            .field("ready_state", &self.ready_state())
            .finish_non_exhaustive()
    }
}
