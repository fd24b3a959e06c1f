//! [`Layer`]: the WHATWG rules over a client [`Connection`] that someone
//! else owns and drives. An adapter keeps the connection in its own driver
//! (the one loop that reads, writes and runs timers) and passes it in for
//! each call; the layer decides what a call may do and what an event
//! becomes.

use super::Options;
use super::event::{self, BinaryType, Blob, BrowserEvent, MessageData, MessageEvent};
use super::rules::{self, DomException, WsUrl};
use crate::connection::{Connection, ReadyState};
use crate::error::SendError;
use crate::event::{CloseEvent, Event};
use crate::handshake::ClientRequest;
use crate::message::{Message, MessageKind};
use crate::time::Instant;
use crate::utf8::Text;
use crate::{CloseCode, Entropy};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};

/// Pieces of a message at least this long are kept as they came; shorter
/// ones are gathered into pieces of about this size.
const SMALL_PIECE: usize = 4 << 10;

/// The browser's state beside a client connection: what the application
/// has seen, `binaryType`, the message being gathered, and what `send`
/// discarded. Every method that needs the connection takes it.
#[derive(Debug)]
pub struct Layer {
    url: WsUrl,
    /// The state the application has seen: it moves when events are
    /// delivered, as in a browser where it moves when their tasks run.
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
}

impl Layer {
    /// `new WebSocket(url, protocols)`: checks the arguments and builds the
    /// client connection, its opening request queued. The caller owns the
    /// connection: connect a socket to [`Layer::request`]'s host and port
    /// (TLS if it is `secure`) and drive it.
    pub fn new(
        url: &str,
        protocols: &[&str],
        options: Options,
        entropy: impl Entropy + 'static,
        now: Instant,
    ) -> Result<(Self, Connection), DomException> {
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
        let layer = Self {
            url: WsUrl { request, ..url },
            state: ReadyState::Connecting,
            binary_type: BinaryType::default(),
            protocol: String::new(),
            extensions: String::new(),
            discarded: 0,
            failed_early: false,
            pieces: Vec::new(),
            small: BytesMut::new(),
        };
        Ok((layer, conn))
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
    /// peer's close frame is reached; CLOSED once the close event is
    /// delivered.
    pub fn ready_state(&self, conn: &Connection) -> ReadyState {
        match self.state {
            ReadyState::Open if conn.ready_state() != ReadyState::Open => ReadyState::Closing,
            state => state,
        }
    }

    /// `bufferedAmount`: bytes of application data passed to `send` and not
    /// yet taken by the transport, plus what was sent while closing (which
    /// is discarded but, per the spec, still counted).
    pub fn buffered_amount(&self, conn: &Connection) -> u64 {
        conn.buffered_amount() as u64 + self.discarded
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
    pub fn send(
        &mut self,
        conn: &mut Connection,
        data: impl Into<Message>,
    ) -> Result<(), DomException> {
        if self.state == ReadyState::Connecting {
            return Err(DomException::InvalidState(String::from(
                "send() before the connection is open",
            )));
        }
        let message = data.into();
        let len = message.len() as u64;
        if self.ready_state(conn) != ReadyState::Open {
            self.discarded += len;
            return Ok(());
        }
        match conn.send(message) {
            Ok(()) => {}
            Err(SendError::Full(_)) => {
                // "Flag as full and close the WebSocket connection": the
                // transport goes at once, without a closing handshake, and
                // nothing queued or sent later reaches the peer (a later,
                // smaller message must not arrive where this one is
                // missing). What did not go still counts, as the spec says.
                self.discarded += len + conn.buffered_amount() as u64;
                conn.abort();
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
        conn: &mut Connection,
        code: Option<u16>,
        reason: Option<&str>,
        now: Instant,
    ) -> Result<(), DomException> {
        let (code, reason) = rules::check_close(code, reason)?;
        match self.ready_state(conn) {
            ReadyState::Closing | ReadyState::Closed => {}
            ReadyState::Connecting => {
                self.failed_early = true;
                self.state = ReadyState::Closing;
                // The core drops a connection that is not open yet.
                let _ = conn.close(CloseCode::NO_STATUS, "", now);
            }
            ReadyState::Open => {
                self.state = ReadyState::Closing;
                let _ = conn.close(code, &reason, now);
            }
        }
        Ok(())
    }

    /// What a connection event becomes for the application: nothing (pings
    /// and pongs are handled underneath; a message that completes after
    /// `close()` was called is dropped, as the spec delivers messages only
    /// while OPEN), one event, or two (`error` then `close` when `close()`
    /// failed the connection before open). `conn` is the connection the
    /// event came from.
    pub fn on_event(
        &mut self,
        event: Event,
        conn: &Connection,
    ) -> impl Iterator<Item = BrowserEvent> + use<> {
        let (first, second) = match event {
            Event::Open(open) => {
                self.state = ReadyState::Open;
                self.protocol = open.protocol.unwrap_or_default();
                self.extensions = open.extensions.unwrap_or_default();
                (Some(BrowserEvent::Open), None)
            }
            Event::Fragment(piece) => {
                self.push_piece(piece.data);
                let message = if piece.last {
                    self.flush_small();
                    let pieces = core::mem::take(&mut self.pieces);
                    self.deliverable(conn)
                        .then(|| BrowserEvent::Message(self.message(piece.kind, pieces)))
                } else {
                    None
                };
                (message, None)
            }
            Event::Message(message) => {
                // Streaming is on, so whole messages only come from a
                // connection configured elsewhere; treat them alike.
                let (kind, data) = match message {
                    Message::Text(text) => (MessageKind::Text, text.into_bytes()),
                    Message::Binary(bytes) => (MessageKind::Binary, bytes),
                };
                let message = self
                    .deliverable(conn)
                    .then(|| BrowserEvent::Message(self.message(kind, alloc::vec![data])));
                (message, None)
            }
            Event::Error(error) => (Some(BrowserEvent::Error(Some(error))), None),
            Event::Closed(close) => self.closed(close),
            Event::Request(_) | Event::Ping(_) | Event::Pong(_) => (None, None),
        };
        first.into_iter().chain(second)
    }

    fn deliverable(&self, conn: &Connection) -> bool {
        self.ready_state(conn) == ReadyState::Open
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

    fn message(&self, kind: MessageKind, pieces: Vec<Bytes>) -> MessageEvent {
        let data = match (kind, self.binary_type) {
            // Each piece is whole code points, validated by the core.
            (MessageKind::Text, _) => MessageData::Text(Text::from_validated(event::join(&pieces))),
            (MessageKind::Binary, BinaryType::Blob) => MessageData::Blob(Blob::from_chunks(pieces)),
            (MessageKind::Binary, BinaryType::ArrayBuffer) => {
                MessageData::ArrayBuffer(event::join(&pieces))
            }
        };
        MessageEvent {
            data,
            origin: self.url.origin.clone(),
        }
    }

    fn closed(&mut self, close: CloseEvent) -> (Option<BrowserEvent>, Option<BrowserEvent>) {
        self.state = ReadyState::Closed;
        let close = Some(BrowserEvent::Close(close));
        if core::mem::take(&mut self.failed_early) {
            (Some(BrowserEvent::Error(None)), close)
        } else {
            (close, None)
        }
    }
}
