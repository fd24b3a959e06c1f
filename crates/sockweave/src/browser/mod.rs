//! The browser's WebSocket interface (WHATWG), sans-IO: the same rules as
//! `new WebSocket(url, protocols)`, `send`, `close(code, reason)`,
//! `readyState`, `bufferedAmount`, `binaryType`, `protocol`, `extensions`
//! and the open / message / error / close events, over a client
//! [`Connection`]. Feature `browser`.
//!
//! The adapters wrap this type for their I/O; its rules live only here.
//!
//! ```
//! use sockweave::browser::{BrowserEvent, Options, WebSocket};
//! use sockweave::{Instant, ReadyState};
//!
//! let now = Instant::ZERO;
//! let mut ws = WebSocket::new("https://example.com/chat", &["chat"], Options::default(),
//!     |buf: &mut [u8]| buf.fill(7), now).unwrap();
//! assert_eq!(ws.url(), "wss://example.com/chat"); // http(s) maps to ws(s)
//! assert_eq!(ws.ready_state(), ReadyState::Connecting);
//! assert_eq!(ws.send("too early").unwrap_err().name(), "InvalidStateError");
//! assert_eq!(ws.close(Some(1001), None, now).unwrap_err().name(), "InvalidAccessError");
//! ws.close(None, None, now).unwrap(); // before open: the connection fails
//! assert!(matches!(ws.poll_event(), Some(BrowserEvent::Error(None))));
//! assert!(matches!(ws.poll_event(), Some(BrowserEvent::Close(c)) if c.code.0 == 1006 && !c.was_clean));
//! ```
//!
//! Where Rust and the browser differ, on purpose:
//! - there is no base URL, so relative URLs are a `SyntaxError`;
//! - `send` takes anything that converts into a [`Message`]; a `Blob`,
//!   `ArrayBuffer` and typed array are all bytes here;
//! - the `error` event carries the cause when there is one.

mod event;
mod inbox;
mod layer;
mod reconnect;
mod rules;

pub use event::{BinaryType, Blob, BrowserEvent, MessageData, MessageEvent};
pub use inbox::{Handler, Inbox};
pub use layer::Layer;
pub use reconnect::{Reconnect, ReconnectDriver, ReconnectEvent, ReconnectStep, Reconnector};
pub use rules::{DomException, MAX_REASON};

use crate::Entropy;
use crate::config::Config;
use crate::connection::{Connection, ReadyState};
use crate::handshake::ClientRequest;
use crate::message::Message;
use crate::time::Instant;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::BytesMut;

/// The configuration a browser connects with: the core's defaults, plus a
/// permessage-deflate offer when the `deflate` feature is compiled in
/// (browsers always offer it; the server decides).
pub fn default_config() -> Config {
    Config {
        #[cfg(feature = "deflate")]
        deflate: Some(crate::deflate::DeflateConfig::default()),
        // A browser buffers what the page sends and lets `bufferedAmount`
        // climb (Chromium held 18.6 MB in a test where the peer read
        // slowly); failing the connection is its last resort.
        max_queued: 64 << 20,
        ..Config::default()
    }
}

/// What else the constructor takes, beyond the URL and protocols.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Limits and timers (streaming is always on underneath: see [`BinaryType`]).
    pub config: Config,
    /// Extra request headers a browser would add itself: `Origin`,
    /// `Cookie`, `User-Agent`, `Authorization`.
    pub headers: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            config: default_config(),
            headers: Vec::new(),
        }
    }
}

/// The WHATWG WebSocket over a sans-IO client connection: a [`Layer`] of
/// rules and the [`Connection`] it applies them to, for callers that drive
/// the connection's I/O themselves. (The adapters keep the connection in
/// their own driver and use the [`Layer`] directly.)
#[derive(Debug)]
pub struct WebSocket {
    layer: Layer,
    conn: Connection,
    /// The close event, held back one call behind the error event.
    held: Option<BrowserEvent>,
}

impl WebSocket {
    /// `new WebSocket(url, protocols)`: checks the arguments and starts the
    /// opening handshake (the request is queued in [`WebSocket::transmit`]).
    /// Connect a socket to [`WebSocket::request`]'s host and port, TLS if
    /// it is `secure`.
    pub fn new(
        url: &str,
        protocols: &[&str],
        options: Options,
        entropy: impl Entropy + 'static,
        now: Instant,
    ) -> Result<Self, DomException> {
        let (layer, conn) = Layer::new(url, protocols, options, entropy, now)?;
        Ok(Self {
            layer,
            conn,
            held: None,
        })
    }

    /// `url`: the URL as the WHATWG parser serialized it.
    pub fn url(&self) -> &str {
        self.layer.url()
    }

    /// Where to connect, and what the handshake asks for.
    pub fn request(&self) -> &ClientRequest {
        self.layer.request()
    }

    /// `readyState`. CLOSING from the moment `close()` is called or the
    /// peer's close frame is reached; CLOSED once the close event is taken.
    pub fn ready_state(&self) -> ReadyState {
        match self.held {
            Some(_) => ReadyState::Closing,
            None => self.layer.ready_state(&self.conn),
        }
    }

    /// `bufferedAmount` ([`Layer::buffered_amount`]).
    pub fn buffered_amount(&self) -> u64 {
        self.layer.buffered_amount(&self.conn)
    }

    /// `binaryType`.
    pub fn binary_type(&self) -> BinaryType {
        self.layer.binary_type()
    }

    /// Sets `binaryType`; applies from the next message that completes.
    pub fn set_binary_type(&mut self, binary_type: BinaryType) {
        self.layer.set_binary_type(binary_type);
    }

    /// `protocol` ([`Layer::protocol`]).
    pub fn protocol(&self) -> &str {
        self.layer.protocol()
    }

    /// `extensions` ([`Layer::extensions`]).
    pub fn extensions(&self) -> &str {
        self.layer.extensions()
    }

    /// `send(data)` ([`Layer::send`]).
    pub fn send(&mut self, data: impl Into<Message>) -> Result<(), DomException> {
        self.layer.send(&mut self.conn, data)
    }

    /// `close(code, reason)` ([`Layer::close`]).
    pub fn close(
        &mut self,
        code: Option<u16>,
        reason: Option<&str>,
        now: Instant,
    ) -> Result<(), DomException> {
        self.layer.close(&mut self.conn, code, reason, now)
    }

    /// The next event. Pings and pongs are handled underneath and never
    /// show; a message that completes after `close()` was called is
    /// dropped (the spec delivers messages only while OPEN).
    #[must_use = "an event not taken is lost: drain until None"]
    pub fn poll_event(&mut self) -> Option<BrowserEvent> {
        if let Some(event) = self.held.take() {
            return Some(event);
        }
        loop {
            let event = self.conn.poll_event()?;
            let mut events = self.layer.on_event(event, &self.conn);
            if let Some(first) = events.next() {
                self.held = events.next();
                return Some(first);
            }
        }
    }

    // ----- I/O, for the caller's driver ----------------------------------------

    /// Bytes read from the transport.
    pub fn receive(&mut self, input: &mut BytesMut, now: Instant) {
        self.conn.receive(input, now);
    }

    /// Whether the core stopped at its event budget with frames left in
    /// the input: call [`WebSocket::receive`] again, with the same buffer,
    /// once there is room for events, before reading more
    /// ([`Connection::needs_receive`]).
    pub fn needs_receive(&self) -> bool {
        self.conn.needs_receive()
    }

    /// The transport ended (or failed).
    pub fn receive_eof(&mut self, now: Instant) {
        self.conn.receive_eof(now);
    }

    /// Runs due timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
    }

    /// When [`WebSocket::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    /// Bytes to write, as a few slices.
    pub fn transmit(&self) -> impl Iterator<Item = &[u8]> {
        self.conn.transmit()
    }

    /// Reports `n` bytes written.
    pub fn advance_transmit(&mut self, n: usize) {
        self.conn.advance_transmit(n);
    }

    /// Whether there are bytes to write.
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Whether the connection still reads.
    pub fn wants_read(&self) -> bool {
        self.conn.wants_read()
    }

    /// The connection underneath (read-only: sending goes through the rules).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests;
