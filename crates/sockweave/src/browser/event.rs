//! The events of the WHATWG interface: open, message, error, close.

use crate::error::Error;
use crate::event::CloseEvent;
use crate::utf8::Text;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};

/// What `binaryType` means here: how a binary message is handed over.
///
/// - [`BinaryType::Blob`] (the default, as in browsers): the pieces as they
///   came off the wire, never copied into one buffer — a large message
///   costs no second copy, and you read it piece by piece or join it when
///   you need it ([`Blob::to_bytes`], like `blob.arrayBuffer()`).
/// - [`BinaryType::ArrayBuffer`]: one contiguous [`Bytes`], joined on
///   arrival (a message that came in one piece is not copied).
///
/// It is read when a message completes, so a change applies from the next
/// message on, as in browsers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BinaryType {
    /// Pieces as received ([`Blob`]).
    #[default]
    Blob,
    /// One contiguous buffer.
    ArrayBuffer,
}

/// A binary message as the pieces it arrived in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blob {
    chunks: Vec<Bytes>,
    len: usize,
}

impl Blob {
    pub(crate) fn from_chunks(chunks: Vec<Bytes>) -> Self {
        let len = chunks.iter().map(Bytes::len).sum();
        Self { chunks, len }
    }

    /// The size in bytes (`blob.size`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message was empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces, in order (`blob.stream()`).
    pub fn chunks(&self) -> &[Bytes] {
        &self.chunks
    }

    /// All bytes in one buffer (`blob.arrayBuffer()`); copies only if the
    /// message came in more than one piece.
    pub fn to_bytes(&self) -> Bytes {
        join(&self.chunks)
    }
}

/// One buffer from `chunks`, without a copy when there is one.
pub(crate) fn join(chunks: &[Bytes]) -> Bytes {
    match chunks {
        [] => Bytes::new(),
        [one] => one.clone(),
        many => {
            let mut all = BytesMut::with_capacity(many.iter().map(Bytes::len).sum());
            for chunk in many {
                all.extend_from_slice(chunk);
            }
            all.freeze()
        }
    }
}

/// `MessageEvent.data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageData {
    /// A text message (`typeof data === "string"`).
    Text(Text),
    /// A binary message with `binaryType` [`BinaryType::Blob`].
    Blob(Blob),
    /// A binary message with `binaryType` [`BinaryType::ArrayBuffer`].
    ArrayBuffer(Bytes),
}

impl MessageData {
    /// The message's size in bytes (UTF-8 bytes for text).
    pub fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.as_str().len(),
            Self::Blob(blob) => blob.len(),
            Self::ArrayBuffer(bytes) => bytes.len(),
        }
    }

    /// Whether the message was empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `MessageEvent`: the data and the origin it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEvent {
    /// The message.
    pub data: MessageData,
    /// The serialized origin of the WebSocket's URL, e.g. `wss://example.com`.
    pub origin: String,
}

/// What a [`WebSocket`](super::WebSocket) reports, in the WHATWG order:
/// `Open`, then messages, then (if the connection failed) `Error`, then
/// `Close`, which is always last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserEvent {
    /// The `open` event: `protocol()` and `extensions()` are now set.
    Open,
    /// A `message` event.
    Message(MessageEvent),
    /// The `error` event: the connection failed. Browsers say nothing more;
    /// here the cause comes along when there is one (none when `close()`
    /// was called before the connection opened).
    Error(Option<Error>),
    /// The `close` event: 1005 if the close frame had no code, 1006 if the
    /// connection ended without one; `was_clean` only when the closing
    /// handshake completed and the transport closed in order.
    Close(CloseEvent),
}
