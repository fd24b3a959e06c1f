//! The extension point: what a negotiated extension (RFC 6455 §9) does to
//! frames and messages. The connection asks it which RSV bits it defines,
//! whether to transform a message it sends, and hands it the payload of
//! every received message whose first frame carries those bits.
//!
//! permessage-deflate is the one implementation (feature `deflate`).

use crate::error::ProtocolError;
use alloc::vec::Vec;

/// A negotiated extension that transforms whole messages.
pub(crate) trait Extension: Send + core::fmt::Debug {
    /// The RSV bits it defines; set on the first frame of a message it
    /// transformed, and accepted there only.
    fn rsv(&self) -> u8;

    /// Whether to transform an outgoing message whose first piece is
    /// `len` bytes (`whole`: that piece is the entire message).
    fn wants(&self, len: usize, whole: bool) -> bool;

    /// The group whose members transform a whole message into the same
    /// bytes as this one, if its output depends on the message alone.
    fn group(&self) -> Option<crate::deflate::DeflateGroup> {
        None
    }

    /// Transforms one piece of an outgoing message into `out`.
    fn encode(&mut self, piece: &[u8], last: bool, out: &mut Vec<u8>);

    /// Restores one received piece of a transformed message into `out`,
    /// failing once the restored message would pass `max` bytes.
    fn decode(
        &mut self,
        piece: &[u8],
        last: bool,
        max: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtocolError>;
}

/// The most wire bytes a transformed payload of `len` restored bytes may
/// take: compressed data can be slightly larger than its input (stored
/// blocks, flushes per fragment), and a bound is needed because deflate
/// can encode empty blocks that restore to nothing.
pub(crate) fn wire_bound(len: u64) -> u64 {
    len.saturating_add(len / 8).saturating_add(1024)
}
