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
mod reconnect;
mod rules;

pub use event::{BinaryType, Blob, BrowserEvent, MessageData, MessageEvent};
pub use inbox::{Handler, Inbox};
pub use reconnect::{Reconnect, ReconnectDriver, ReconnectEvent, ReconnectStep, Reconnector};
pub use rules::{DomException, MAX_REASON};

use crate::config::Config;
use crate::connection::{Connection, ReadyState};
use crate::error::SendError;
use crate::event::{CloseEvent, Event};
use crate::handshake::ClientRequest;
use crate::message::{Kind, Message};
use crate::time::Instant;
use crate::utf8::Text;
use crate::{CloseCode, Entropy};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};
use rules::WsUrl;

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

/// The WHATWG WebSocket over a sans-IO client connection.
#[derive(Debug)]
pub struct WebSocket {
    conn: Connection,
    url: WsUrl,
    /// The state the application has seen: it moves when events are
    /// taken, as in a browser where it moves when their tasks run.
    state: ReadyState,
    binary_type: BinaryType,
    protocol: String,
    extensions: String,
    /// Bytes passed to `send` once closing: counted, as the spec says, and
    /// dropped.
    discarded: u64,
    /// `close()` before open failed the connection: `error` comes before
    /// `close`.
    failed_early: bool,
    /// The message being received, piece by piece.
    pieces: Vec<Bytes>,
    /// Small pieces gathered, not yet in `pieces`.
    small: BytesMut,
    /// The close event, held back one call behind the error event.
    pending_close: Option<CloseEvent>,
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
        let url = rules::parse_url(url)?;
        rules::check_protocols(protocols)?;
        let mut request = url.request.clone();
        request.protocols = protocols.iter().map(|p| String::from(*p)).collect();
        request.headers = options.headers;
        let mut config = options.config;
        config.streaming = true;
        // Only the extra headers can fail here (URL and protocols passed
        // the WHATWG checks): a browser refuses them too.
        let conn = Connection::client(&request, config, entropy, now)
            .map_err(|e| DomException::Syntax(e.to_string()))?;
        Ok(Self {
            conn,
            url: WsUrl { request, ..url },
            state: ReadyState::Connecting,
            binary_type: BinaryType::default(),
            protocol: String::new(),
            extensions: String::new(),
            discarded: 0,
            failed_early: false,
            pieces: Vec::new(),
            small: BytesMut::new(),
            pending_close: None,
        })
    }

    /// `url`: the URL as the WHATWG parser serialized it.
    pub fn url(&self) -> &str {
        &self.url.href
    }

    /// Where to connect, and what the handshake asks for.
    pub fn request(&self) -> &ClientRequest {
        &self.url.request
    }

    /// `readyState`. CLOSING from the moment `close()` is called or the
    /// peer's close frame is reached; CLOSED once the close event is taken.
    pub fn ready_state(&self) -> ReadyState {
        match self.state {
            ReadyState::Open if self.conn.ready_state() != ReadyState::Open => ReadyState::Closing,
            state => state,
        }
    }

    /// `bufferedAmount`: bytes of application data passed to `send` and not
    /// yet taken by the transport, plus what was sent while closing (which
    /// is discarded but, per the spec, still counted).
    pub fn buffered_amount(&self) -> u64 {
        self.conn.buffered_amount() as u64 + self.discarded
    }

    /// `binaryType`.
    pub fn binary_type(&self) -> BinaryType {
        self.binary_type
    }

    /// Sets `binaryType`; applies from the next message that completes.
    pub fn set_binary_type(&mut self, binary_type: BinaryType) {
        self.binary_type = binary_type;
    }

    /// `protocol`: the subprotocol the server selected; empty before the
    /// open event and when it selected none.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// `extensions`: the `Sec-WebSocket-Extensions` value the server sent;
    /// empty before the open event and when there was none.
    pub fn extensions(&self) -> &str {
        &self.extensions
    }

    /// `send(data)`: `InvalidStateError` while CONNECTING. While CLOSING or
    /// CLOSED the data is dropped and only counted. If the queue is full
    /// (`Config::max_queued`), the connection is dropped, as the spec says:
    /// `error`, then `close` with 1006.
    pub fn send(&mut self, data: impl Into<Message>) -> Result<(), DomException> {
        if self.state == ReadyState::Connecting {
            return Err(DomException::InvalidState(String::from(
                "send() before the connection is open",
            )));
        }
        let message = data.into();
        let len = message.len() as u64;
        if self.ready_state() != ReadyState::Open {
            self.discarded += len;
            return Ok(());
        }
        match self.conn.send(message) {
            Ok(()) => {}
            Err(SendError::Full(_)) => {
                // "Flag as full and close the WebSocket connection": the
                // transport goes at once, without a closing handshake, and
                // nothing queued or sent later reaches the peer (a later,
                // smaller message must not arrive where this one is
                // missing). What did not go still counts, as the spec says.
                self.discarded += len + self.conn.buffered_amount() as u64;
                self.conn.abort();
            }
            Err(_) => self.discarded += len,
        }
        Ok(())
    }

    /// `close(code, reason)`: the code must be 1000 or 3000–4999
    /// (`InvalidAccessError`), the reason at most 123 bytes of UTF-8
    /// (`SyntaxError`). Before open the connection fails (`error`, then
    /// `close` with 1006); when CLOSING or CLOSED nothing happens.
    pub fn close(
        &mut self,
        code: Option<u16>,
        reason: Option<&str>,
        now: Instant,
    ) -> Result<(), DomException> {
        let (code, reason) = rules::check_close(code, reason)?;
        match self.ready_state() {
            ReadyState::Closing | ReadyState::Closed => {}
            ReadyState::Connecting => {
                self.failed_early = true;
                self.state = ReadyState::Closing;
                // The core drops a connection that is not open yet.
                let _ = self.conn.close(CloseCode::NO_STATUS, "", now);
            }
            ReadyState::Open => {
                self.state = ReadyState::Closing;
                let _ = self.conn.close(code, &reason, now);
            }
        }
        Ok(())
    }

    /// The next event. Pings and pongs are handled underneath and never
    /// show; a message that completes after `close()` was called is
    /// dropped (the spec delivers messages only while OPEN).
    #[must_use = "an event not taken is lost: drain until None"]
    pub fn poll_event(&mut self) -> Option<BrowserEvent> {
        if let Some(close) = self.pending_close.take() {
            self.state = ReadyState::Closed;
            return Some(BrowserEvent::Close(close));
        }
        loop {
            match self.conn.poll_event()? {
                Event::Open(open) => {
                    self.state = ReadyState::Open;
                    self.protocol = open.protocol.unwrap_or_default();
                    self.extensions = open.extensions.unwrap_or_default();
                    return Some(BrowserEvent::Open);
                }
                Event::Fragment(piece) => {
                    self.push_piece(piece.data);
                    if piece.last {
                        self.flush_small();
                        let pieces = core::mem::take(&mut self.pieces);
                        if self.ready_state() == ReadyState::Open {
                            return Some(BrowserEvent::Message(self.message(piece.kind, pieces)));
                        }
                    }
                }
                Event::Message(message) => {
                    // Streaming is on, so whole messages only come from a
                    // connection configured elsewhere; treat them alike.
                    let (kind, data) = match message {
                        Message::Text(text) => (Kind::Text, text.into_bytes()),
                        Message::Binary(bytes) => (Kind::Binary, bytes),
                    };
                    if self.ready_state() == ReadyState::Open {
                        return Some(BrowserEvent::Message(self.message(kind, alloc::vec![data])));
                    }
                }
                Event::Error(error) => return Some(BrowserEvent::Error(Some(error))),
                Event::Closed(close) => return Some(self.closed(close)),
                Event::Request(_) | Event::Ping(_) | Event::Pong(_) => {}
            }
        }
    }

    /// Adds a received piece to the message in progress. A peer that
    /// trickles a message a byte at a time makes many tiny pieces; each
    /// kept on its own would cost a handle and an allocation (about 64
    /// bytes) per byte, so small pieces are gathered.
    fn push_piece(&mut self, piece: Bytes) {
        if piece.len() >= SMALL_PIECE {
            self.flush_small();
            self.pieces.push(piece);
        } else {
            self.small.extend_from_slice(&piece);
            if self.small.len() >= SMALL_PIECE {
                self.flush_small();
            }
        }
    }

    fn flush_small(&mut self) {
        if !self.small.is_empty() {
            self.pieces.push(core::mem::take(&mut self.small).freeze());
        }
    }

    fn message(&self, kind: Kind, pieces: Vec<Bytes>) -> MessageEvent {
        let data = match (kind, self.binary_type) {
            // Each piece is whole code points, validated by the core.
            (Kind::Text, _) => MessageData::Text(Text::from_validated(event::join(&pieces))),
            (Kind::Binary, BinaryType::Blob) => MessageData::Blob(Blob::from_chunks(pieces)),
            (Kind::Binary, BinaryType::ArrayBuffer) => {
                MessageData::ArrayBuffer(event::join(&pieces))
            }
        };
        MessageEvent {
            data,
            origin: self.url.origin.clone(),
        }
    }

    fn closed(&mut self, close: CloseEvent) -> BrowserEvent {
        if core::mem::take(&mut self.failed_early) {
            // The error event first; the close event on the next call.
            self.pending_close = Some(close);
            return BrowserEvent::Error(None);
        }
        self.state = ReadyState::Closed;
        BrowserEvent::Close(close)
    }

    // ----- I/O, for adapters ------------------------------------------------

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

/// Pieces of a message at least this long are kept as they came; shorter
/// ones are gathered into pieces of about this size.
const SMALL_PIECE: usize = 4 << 10;
