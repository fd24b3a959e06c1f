//! The pinned budget: the most heap a peer can make one connection hold,
//! computed from a [`Config`], term by term.
//!
//! Every term is what a mechanism in the core bounds (a limit, a cap, a
//! queue that stops taking input) and is named after it, so a reader can
//! check the sum against the code, and the `pinned_budget` fuzz target
//! checks it against a counting allocator: whatever bytes a peer sends, in
//! whatever pieces, with whatever timing, the heap that one connection and
//! its read buffer hold never grows past [`Budget::total`].

use crate::config::Config;
use crate::connection::{EVENT_SLOT, EVENTS_BOX, MAX_UNWRITTEN_PONGS, PONGS_SLOT, SHRINK_ABOVE};
use crate::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::handshake::{Header, MAX_OFFERS, Request};
use alloc::string::String;
use core::mem::size_of;

/// Room for the fixed part of our own HTTP answer (status line, `Upgrade`,
/// `Connection`, `Sec-WebSocket-Accept`, a permessage-deflate answer) or
/// of a refusal, beside what it echoes from the request.
const ANSWER_FIXED: u128 = 512;

/// What permessage-deflate's inflater holds while it exists: zlib-rs keeps
/// a 32 KiB window whatever the peer's window bits, and its state (47,552
/// bytes measured in `benches/src/bin/deflate_state.rs`), with room for a
/// newer zlib-rs. Our compressor is not counted: only the application's
/// own sends make it (a peer cannot make us compress).
const INFLATER_STATE: u128 = 56 << 10;

/// The most heap a peer can make one connection hold, by what holds it.
/// From [`Config::pinned_budget`]; every field is in bytes.
///
/// What it covers: the allocations of the [`crate::Connection`] (not its
/// own `size_of`, nor what the application's [`crate::ServerPolicy`] or
/// its own sends hold), the caller's read buffer driven as the [crate
/// docs](crate) describe (events drained before the next read; at most
/// `read_len` bytes reserved and read at a time), and the events not yet
/// taken. The application's messages once taken are its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Budget {
    /// The read buffer: one frame handled in place (a whole single-frame
    /// message waits there for its last byte, up to `max_frame_len`) or an
    /// opening handshake head, plus one read; twice that in capacity, as a
    /// growing buffer doubles; plus the small remainder moved out of a
    /// large buffer while the messages split off it wait.
    pub read_buffer: u64,
    /// Messages: one being reassembled or inflated (at most
    /// `max_message_len`, however many fragments or however small its
    /// compressed form) and the ones waiting for the application, which
    /// `receive` stops adding to once `max_message_len` bytes wait, so
    /// under twice the limit. Buffers are trimmed to their messages.
    pub messages: u64,
    /// The event queue's slots: at most `max_pending_events` events, and
    /// the few a failure or the end adds; a drained queue gives a burst's
    /// slots back.
    pub events: u64,
    /// Bytes to write that the peer caused: our answer to its handshake,
    /// pongs (at most 16 waiting, later pings share one), our close frame
    /// and a keepalive ping, twice that in the queue's capacity; the
    /// peer's close reason.
    pub control: u64,
    /// The opening handshake: the request (or response) parsed, every
    /// header and offer copied, with the parser's header slots; twice
    /// when a deferred request is reported and kept for the decision.
    pub handshake: u64,
    /// The negotiated extension: permessage-deflate's inflater, allocated
    /// at the first compressed message.
    pub extension: u64,
}

impl Budget {
    /// The sum of every term.
    pub fn total(&self) -> u64 {
        [
            self.read_buffer,
            self.messages,
            self.events,
            self.control,
            self.handshake,
            self.extension,
        ]
        .iter()
        .fold(0u64, |sum, term| sum.saturating_add(*term))
    }
}

impl Config {
    /// The most heap a peer can make one connection hold with this
    /// configuration, when its host reads at most `read_len` bytes at a
    /// time ([`Budget`] says what each term covers). The defaults with
    /// 64 KiB reads: about 64 MiB, nearly all of it the two 16 MiB limits
    /// (a whole frame in the read buffer, a message being reassembled
    /// and those waiting); lower `max_frame_len` and `max_message_len` to
    /// lower it. The `pinned_budget` fuzz target holds the core to it.
    pub fn pinned_budget(&self, read_len: usize) -> Budget {
        // In u128, where no setting can overflow; clamped once at the end.
        let n = |v: usize| v as u128;
        let read_len = n(read_len);
        let head = n(self.max_handshake_len);
        let headers = n(self.max_headers.min(crate::config::MAX_HEADERS_LIMIT));
        let in_place = self.max_frame_len.max(MAX_CONTROL_PAYLOAD as u64) as u128;
        let read_buffer = 2 * (in_place.max(head) + n(MAX_HEADER_LEN) + read_len);
        // Only a buffer that grew past SHRINK_ABOVE has its remainder moved.
        let read_buffer = match read_buffer > n(SHRINK_ABOVE) {
            true => read_buffer + n(SHRINK_ABOVE / 4),
            false => read_buffer,
        };
        // A message buffer holds at most one byte past the limit (the
        // inflater's way to tell "exactly the limit" from "over it").
        let messages = 2 * (self.max_message_len as u128 + 1);
        let events = 2 * (n(self.max_pending_events) + 4) * n(EVENT_SLOT) + n(EVENTS_BOX);
        let frame = n(MAX_CONTROL_PAYLOAD + MAX_HEADER_LEN);
        let replies = (n(MAX_UNWRITTEN_PONGS) + 2) * frame;
        let control = 2 * (head + ANSWER_FIXED + replies)
            + 2 * n(MAX_UNWRITTEN_PONGS * size_of::<u64>() + PONGS_SLOT)
            + 2 * frame;
        // Each head byte lands in at most two copies (the header list and
        // a field taken from it), in containers that grow by doubling.
        let parsed = 2 * head
            + 2 * headers * n(size_of::<Header>())
            + 4 * n(MAX_OFFERS * size_of::<String>())
            + n(size_of::<Request>());
        let slots = headers * n(size_of::<httparse::Header<'_>>());
        let handshake = 2 * parsed + slots + 2 * (head + ANSWER_FIXED);
        let extension = if self.deflate.is_some() {
            INFLATER_STATE
        } else {
            0
        };
        let clamp = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
        Budget {
            read_buffer: clamp(read_buffer),
            messages: clamp(messages),
            events: clamp(events),
            control: clamp(control),
            handshake: clamp(handshake),
            extension: clamp(extension),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_budget_is_the_two_limits_and_small_change() {
        let budget = Config::default().pinned_budget(64 << 10);
        let limits = 2 * (16 << 20) + 2 * (16 << 20);
        assert!(budget.total() > limits);
        assert!(
            budget.total() < limits + (1 << 20),
            "{budget:?}: everything but the limits stays under 1 MiB"
        );
        // Lower limits, a lower budget.
        let small = Config {
            max_frame_len: 64 << 10,
            max_message_len: 64 << 10,
            ..Config::default()
        };
        assert!(small.pinned_budget(16 << 10).total() < 1 << 20);
    }

    #[test]
    fn nonsense_saturates_instead_of_wrapping() {
        let config = Config {
            max_frame_len: u64::MAX,
            max_message_len: u64::MAX,
            max_pending_events: usize::MAX,
            max_handshake_len: usize::MAX,
            ..Config::default()
        };
        assert_eq!(config.pinned_budget(usize::MAX).total(), u64::MAX);
    }
}
