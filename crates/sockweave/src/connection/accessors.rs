//! What a host asks a connection between calls: what it holds, what it
//! wants, what was negotiated.

use super::{Connection, Phase};
use crate::Role;
use crate::config::Config;
use crate::deflate::DeflateGroup;
use crate::error::Error;

impl Connection {
    /// The group of connections that compress a message to the same
    /// bytes as this one ([`crate::PreparedMessage::compress_for`]): `None`
    /// without permessage-deflate, or when what we send keeps context
    /// between messages.
    pub fn deflate_group(&self) -> Option<DeflateGroup> {
        self.extension.as_ref()?.group()
    }

    /// Application payload bytes queued and not yet taken by the transport.
    pub fn buffered_amount(&self) -> usize {
        self.out.buffered()
    }

    /// Whether there are bytes to write.
    pub fn wants_write(&self) -> bool {
        !self.out.is_empty()
    }

    /// Whether the last [`Connection::receive`] stopped at
    /// [`Config::max_pending_events`] with bytes left in its input (whole
    /// frames, perhaps): once [`Connection::poll_event`] is drained, call
    /// `receive` again with the same buffer before reading more. An
    /// adapter that reads only while this is false holds at most
    /// `max_pending_events` events and one read's worth of input.
    pub fn needs_receive(&self) -> bool {
        self.stalled && !self.reader.is_stopped() && self.wants_read()
    }

    /// How many bytes the frame now arriving spans, counted from the start
    /// of the unprocessed input: `buffered` bytes wait in the buffer
    /// passed to [`Connection::receive`] and `next` (a read's bytes, say)
    /// are about to be appended. 0 when not known: between frames, with a
    /// partial header waiting. A sizing hint for the host's buffer, so a
    /// frame's buffer is allocated once rather than regrown (and copied)
    /// as it arrives. It is the peer's declared length: grow towards it
    /// only as bytes arrive (at most double what came, say), so a 14-byte
    /// header cannot make a host reserve 16 MiB.
    pub fn frame_end(&self, buffered: usize, next: &[u8]) -> usize {
        usize::try_from(self.reader.frame_end(buffered, next)).unwrap_or(usize::MAX)
    }

    /// How many more bytes the frame now arriving needs when `buffered`
    /// bytes wait in the input buffer ([`Connection::frame_end`] less
    /// them): 0 between frames, or when the buffer holds its rest.
    pub fn frame_missing(&self, buffered: usize) -> usize {
        self.frame_end(buffered, &[]).saturating_sub(buffered)
    }

    /// How many events wait for [`Connection::poll_event`] (counting the
    /// reactions, pongs and close replies, that take effect there). An
    /// adapter that reads only when this is 0 holds at most one read's
    /// worth of decoded messages.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Whether the connection still needs bytes from the transport.
    pub fn wants_read(&self) -> bool {
        !matches!(
            self.phase,
            Phase::Closed | Phase::Deciding(_) | Phase::Refusing { .. }
        )
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The negotiated subprotocol, once OPEN.
    pub fn protocol(&self) -> Option<&str> {
        self.negotiated.as_ref()?.protocol.as_deref()
    }

    /// The negotiated `Sec-WebSocket-Extensions` value, once OPEN.
    pub fn extensions(&self) -> Option<&str> {
        self.negotiated.as_ref()?.extensions.as_deref()
    }

    /// Why the connection failed, if it did.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_deref()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
}
