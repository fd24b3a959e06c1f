//! Connections that compress a message to the same bytes: what lets a
//! broadcast ([`crate::PreparedMessage`]) compress once for many.

/// The permessage-deflate settings of what a connection sends, when they
/// make its compressed messages depend on the message alone: no context
/// takeover (each message compressed afresh, RFC 7692 §7.1.1), with a
/// window and compression settings. Connections in the same group turn a
/// message into the same bytes, so one compression serves them all.
/// [`crate::Connection::deflate_group`] says a connection's; with context
/// takeover a connection has none (each message depends on the ones it
/// sent before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeflateGroup {
    pub(crate) window_bits: u8,
    pub(crate) level: u8,
    pub(crate) mem_level: u8,
    pub(crate) threshold: usize,
}

impl DeflateGroup {
    #[cfg(feature = "deflate")]
    pub(crate) fn new(window_bits: u8, compression: super::Compression, threshold: usize) -> Self {
        Self {
            window_bits,
            level: compression.level,
            mem_level: compression.mem_level,
            threshold,
        }
    }

    /// Whether a whole message of `len` bytes is compressed in this group
    /// (the sender's threshold).
    pub fn compresses(&self, len: usize) -> bool {
        len >= self.threshold
    }

    /// The message's compressed payload, as a connection in this group
    /// would write it (tail removed, RFC 7692 §7.2.1).
    #[cfg(feature = "deflate")]
    pub(crate) fn compress(&self, payload: &[u8]) -> alloc::vec::Vec<u8> {
        let compression = super::Compression {
            level: self.level,
            mem_level: self.mem_level,
            release: true,
        };
        let mut deflater = super::Deflater::new(self.window_bits, true, compression);
        let mut out = alloc::vec::Vec::new();
        deflater.compress(payload, true, &mut out);
        out
    }
}
