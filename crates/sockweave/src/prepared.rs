//! A message framed once for many connections: broadcast at the cost of
//! one frame, not one per subscriber.

use crate::deflate::DeflateGroup;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::message::{Message, MessageKind};
use alloc::vec::Vec;
use bytes::Bytes;

/// A message encoded once and sent to many connections with
/// [`crate::Connection::send_prepared`] (a chat room, a feed, a game
/// tick): a server connection queues the same frame bytes by reference, so
/// a thousand subscribers cost one frame, not a thousand copies. A client
/// masks each frame with its own key, so it copies (as
/// [`crate::Connection::send`] would).
///
/// With permessage-deflate, connections whose compressed output depends on
/// the message alone (no context takeover) share one compression per
/// [`DeflateGroup`]: [`PreparedMessage::prepare_for`] (or
/// [`PreparedMessage::compress_for`]) before the fan-out. A connection
/// whose group was not prepared, or that keeps context between messages
/// (each message then depends on what it sent before), compresses for
/// itself, as `send` would.
///
/// What to do with a subscriber that cannot keep up is the caller's:
/// `send_prepared` hands back [`crate::SendError::Full`] when its queue
/// is at [`crate::Config::max_queued`], and the caller skips the message
/// for it, or closes it (1008 or 1013, say), or waits (an adapter's
/// `send_prepared` waits). The core holds no list of subscribers.
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    message: Message,
    /// The whole frame a server writes without compression.
    plain: Encoded,
    /// Whole compressed frames, one per group prepared.
    compressed: Vec<(DeflateGroup, Encoded)>,
}

/// A whole frame and where its payload starts.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub(crate) frame: Bytes,
    pub(crate) header_len: usize,
}

impl Encoded {
    fn new(opcode: OpCode, rsv: u8, payload: &[u8]) -> Self {
        let header = FrameHeader {
            fin: true,
            rsv,
            opcode,
            mask: None,
            payload_len: payload.len() as u64,
        };
        let mut head = [0; MAX_HEADER_LEN];
        let header_len = header.encode(&mut head);
        let mut frame = Vec::with_capacity(header_len + payload.len());
        frame.extend_from_slice(&head[..header_len]);
        frame.extend_from_slice(payload);
        Self {
            frame: frame.into(),
            header_len,
        }
    }
}

impl PreparedMessage {
    /// Frames `message` once, unmasked and uncompressed.
    pub fn new(message: impl Into<Message>) -> Self {
        let message = message.into();
        let plain = Encoded::new(opcode(&message), 0, message.as_bytes());
        Self {
            message,
            plain,
            compressed: Vec::new(),
        }
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Compresses the message for `conn`'s group, unless it has no group
    /// (no compression, or context takeover), the message is below the
    /// group's threshold, or the group was prepared already.
    pub fn prepare_for(&mut self, conn: &crate::Connection) {
        if let Some(group) = conn.deflate_group() {
            self.compress_for(group);
        }
    }

    /// Compresses the message for every connection in `group` (from
    /// [`crate::Connection::deflate_group`], e.g. recorded when each
    /// subscriber opened), once. Without the `deflate` feature no
    /// connection has a group and this does nothing.
    pub fn compress_for(&mut self, group: DeflateGroup) {
        #[cfg(feature = "deflate")]
        if group.compresses(self.message.len()) && !self.compressed.iter().any(|(g, _)| *g == group)
        {
            /// RSV1: permessage-deflate's bit, on a compressed message.
            const RSV1: u8 = 0b100;
            let payload = group.compress(self.message.as_bytes());
            let encoded = Encoded::new(opcode(&self.message), RSV1, &payload);
            self.compressed.push((group, encoded));
        }
        // Without the codec no connection has a group to compress for.
        #[cfg(not(feature = "deflate"))]
        let _ = group;
    }

    /// The groups prepared so far.
    pub fn groups(&self) -> impl Iterator<Item = DeflateGroup> + '_ {
        self.compressed.iter().map(|(group, _)| *group)
    }

    pub(crate) fn plain(&self) -> &Encoded {
        &self.plain
    }

    pub(crate) fn compressed(&self, group: DeflateGroup) -> Option<&Encoded> {
        self.compressed
            .iter()
            .find(|(g, _)| *g == group)
            .map(|(_, encoded)| encoded)
    }
}

fn opcode(message: &Message) -> OpCode {
    match message.kind() {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    }
}
