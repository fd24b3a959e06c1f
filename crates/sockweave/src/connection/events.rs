//! The queue between `receive` and `poll_event`: decoded events and the
//! reactions that take effect when the application reaches them, bounded
//! in count and in message bytes.

use super::Queued;
use crate::event::Event;
use alloc::collections::VecDeque;

/// Slots a drained queue may keep for the next burst; past this, a
/// drained queue gives its memory back, so one burst does not cost an
/// idle connection for the rest of its life.
const KEEP_SLOTS: usize = 16;

#[derive(Debug, Default)]
pub(super) struct Events {
    queue: VecDeque<Queued>,
    /// Message bytes the queued events carry.
    data: u64,
}

impl Events {
    pub(super) fn push(&mut self, queued: Queued) {
        self.data += data_len(&queued);
        self.queue.push_back(queued);
    }

    pub(super) fn pop(&mut self) -> Option<Queued> {
        let queued = self.queue.pop_front();
        match &queued {
            Some(queued) => self.data -= data_len(queued),
            None if self.queue.capacity() > KEEP_SLOTS => self.queue = VecDeque::new(),
            None => {}
        }
        queued
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether `receive` must stop taking frames: `max_events` wait, or
    /// messages of `max_bytes` (the message limit) in all. A message is
    /// taken only while fewer bytes wait, so the queue holds less than
    /// twice the message limit: a read of compressed frames cannot queue
    /// many messages that each inflated to the limit.
    pub(super) fn is_full(&self, max_events: usize, max_bytes: u64) -> bool {
        self.queue.len() >= max_events.max(1) || self.data >= max_bytes.max(1)
    }
}

fn data_len(queued: &Queued) -> u64 {
    match queued {
        Queued::Event(Event::Message(message)) => message.len() as u64,
        Queued::Event(Event::Fragment(piece)) => piece.data.len() as u64,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    #[test]
    fn counts_message_bytes_and_gives_back_a_burst() {
        let mut events = Events::default();
        for _ in 0..100 {
            events.push(Queued::Event(Event::Message(Message::from("abcd"))));
        }
        assert_eq!(events.data, 400);
        assert!(events.is_full(1000, 400));
        assert!(!events.is_full(1000, 401));
        assert!(events.is_full(100, 1 << 20));
        while events.pop().is_some() {}
        assert_eq!(events.data, 0);
        // The `None` that ends the drain gave the burst's slots back.
        assert_eq!(events.queue.capacity(), 0);
        events.push(Queued::Eof);
        assert!(events.pop().is_some());
        assert!(events.pop().is_none());
        assert!(events.queue.capacity() <= KEEP_SLOTS, "small queues stay");
        assert_ne!(events.queue.capacity(), 0);
    }
}
