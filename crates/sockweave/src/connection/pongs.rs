//! The pongs a connection owes (RFC 6455 §5.5.2): each ping is answered,
//! at most [`MAX_UNWRITTEN_PONGS`] wait unwritten, and past that later
//! pings collapse into one reply to the latest (§5.5.3), so a ping flood
//! cannot grow memory. Held in a box only while something is owed.

use alloc::collections::VecDeque;
use bytes::Bytes;

/// Pongs that may wait unwritten at once, each answering its own ping.
pub(crate) const MAX_UNWRITTEN_PONGS: usize = 16;

/// What the box of owed pongs costs, for the pinned budget.
pub(crate) const PONGS_SLOT: usize = size_of::<Pongs>();

#[derive(Debug, Default)]
pub(super) struct Pongs {
    /// Wire offsets of the ends of pongs queued and not yet written.
    unwritten: VecDeque<u64>,
    /// The latest ping received while `MAX_UNWRITTEN_PONGS` pongs waited.
    pending: Option<Bytes>,
}

impl Pongs {
    /// Keeps `payload` as the one reply owed when the queue of pongs is
    /// full; otherwise hands it back to be queued now.
    pub(super) fn defer(&mut self, payload: Bytes) -> Option<Bytes> {
        if self.unwritten.len() < MAX_UNWRITTEN_PONGS {
            return Some(payload);
        }
        self.pending = Some(payload);
        None
    }

    /// A pong queued, ending at wire offset `end`.
    pub(super) fn queued(&mut self, end: u64) {
        self.unwritten.push_back(end);
    }

    /// The transport has taken everything up to `written`: the pongs
    /// inside it are done. Returns the reply that was waiting for room.
    pub(super) fn written(&mut self, written: u64) -> Option<Bytes> {
        while self.unwritten.front().is_some_and(|&end| end <= written) {
            self.unwritten.pop_front();
        }
        self.pending.take()
    }

    /// Nothing unwritten: the box may go.
    pub(super) fn is_done(&self) -> bool {
        self.unwritten.is_empty() && self.pending.is_none()
    }

    /// No reply is owed any more (our close frame is queued).
    pub(super) fn forget_pending(&mut self) {
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_keeps_only_the_latest_reply() {
        let mut pongs = Pongs::default();
        for end in 1..=MAX_UNWRITTEN_PONGS as u64 {
            let payload = pongs.defer(Bytes::from_static(b"p")).expect("room");
            assert_eq!(payload, "p");
            pongs.queued(end * 10);
        }
        assert_eq!(pongs.defer(Bytes::from_static(b"older")), None);
        assert_eq!(pongs.defer(Bytes::from_static(b"latest")), None);
        // Half written: the latest reply comes back to be queued.
        assert_eq!(pongs.written(80).as_deref(), Some(&b"latest"[..]));
        assert!(!pongs.is_done());
        assert_eq!(pongs.written(160), None);
        assert!(pongs.is_done());
        // Our close frame is queued: no reply is owed any more.
        let mut closing = Pongs::default();
        for end in 1..=MAX_UNWRITTEN_PONGS as u64 {
            closing.defer(Bytes::new());
            closing.queued(end);
        }
        closing.defer(Bytes::from_static(b"late"));
        closing.forget_pending();
        assert_eq!(closing.written(100), None);
    }
}
