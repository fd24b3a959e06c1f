//! What a connection reports to the application.

use crate::close::CloseCode;
use crate::error::Error;
use crate::handshake::Request;
use crate::message::{Message, MessageKind};
use alloc::boxed::Box;
use alloc::string::String;
use bytes::Bytes;

/// Something that happened on a connection, from [`crate::Connection::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server role with [`crate::ServerPolicy::defer`]: a valid request
    /// awaits [`crate::Connection::accept`] or [`crate::Connection::reject`].
    Request(Box<Request>),
    /// The opening handshake completed: the connection is OPEN.
    Open(Negotiated),
    /// A whole data message.
    Message(Message),
    /// A piece of a data message, in streaming mode ([`crate::Config::streaming`]).
    Fragment(Fragment),
    /// The peer pinged; the pong is already queued.
    Ping(Bytes),
    /// The peer ponged.
    Pong(Bytes),
    /// The connection failed. Always followed by [`Event::Closed`].
    Error(Error),
    /// The connection is CLOSED. The last event of every connection.
    Closed(CloseEvent),
}

/// What the opening handshake negotiated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// The selected subprotocol, if any.
    pub protocol: Option<String>,
    /// The negotiated `Sec-WebSocket-Extensions` value, if any.
    pub extensions: Option<String>,
}

/// A piece of a data message as it arrived.
///
/// For text, every piece is valid UTF-8 on its own: a code point split
/// across reads is delivered whole in the later piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// Text or binary (the same for every piece of a message).
    pub kind: MessageKind,
    /// The bytes.
    pub data: Bytes,
    /// The first piece of its message.
    pub first: bool,
    /// The last piece of its message.
    pub last: bool,
}

/// How a connection ended (RFC 6455 §7.1.5, §7.1.6; WHATWG `CloseEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseEvent {
    /// The code of the peer's close frame; [`CloseCode::NO_STATUS`] if it
    /// carried none, [`CloseCode::ABNORMAL`] if none was received.
    pub code: CloseCode,
    /// The reason of the peer's close frame, empty if none.
    pub reason: String,
    /// Whether the closing handshake completed: close frames went both
    /// ways and the transport was then closed in order.
    pub was_clean: bool,
}
