//! The queue between `receive` and `poll_event`: decoded events and the
//! reactions that take effect when the application reaches them, bounded
//! in count and in message bytes.

use super::Queued;
use crate::event::Event;
use alloc::boxed::Box;
use alloc::collections::VecDeque;

/// What one waiting event costs in the queue, for the pinned budget.
pub(crate) const EVENT_SLOT: usize = size_of::<Queued>();

/// What the box holding the events after the first costs, for the
/// pinned budget.
pub(crate) const EVENTS_BOX: usize = size_of::<VecDeque<Queued>>();

#[derive(Debug, Default)]
pub(super) struct Events {
    /// The oldest event, kept inline: most reads decode one event, and
    /// an idle connection then holds no queue allocation at all.
    first: Option<Queued>,
    /// The events after it, boxed (an idle connection carries a pointer);
    /// its memory is given back whenever the queue drains, so a burst
    /// does not cost an idle connection for the rest of its life.
    // The box is the point: 8 bytes inline instead of a deque's 32.
    #[allow(clippy::box_collection)]
    rest: Option<Box<VecDeque<Queued>>>,
    /// Message bytes the queued events carry.
    data: u64,
}

impl Events {
    pub(super) fn push(&mut self, queued: Queued) {
        self.data += data_len(&queued);
        if self.first.is_none() {
            self.first = Some(queued);
        } else {
            self.rest.get_or_insert_with(Box::default).push_back(queued);
        }
    }

    pub(super) fn pop(&mut self) -> Option<Queued> {
        let queued = self.first.take()?;
        self.data -= data_len(&queued);
        self.first = self.rest.as_mut().and_then(|rest| rest.pop_front());
        if self.first.is_none() {
            self.rest = None;
        }
        Some(queued)
    }

    pub(super) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.as_ref().map_or(0, |rest| rest.len())
    }

    /// Whether `receive` must stop taking frames: `max_events` wait, or
    /// messages of `max_bytes` (the message limit) in all. A message is
    /// taken only while fewer bytes wait, so the queue holds less than
    /// twice the message limit: a read of compressed frames cannot queue
    /// many messages that each inflated to the limit.
    pub(super) fn is_full(&self, max_events: usize, max_bytes: u64) -> bool {
        self.len() >= max_events.max(1) || self.data >= max_bytes.max(1)
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
    fn counts_message_bytes_keeps_order_and_gives_back_a_burst() {
        let mut events = Events::default();
        for i in 0..100 {
            let text = alloc::format!("{i:04}");
            events.push(Queued::Event(Event::Message(Message::from(text.as_str()))));
        }
        assert_eq!((events.len(), events.data), (100, 400));
        assert!(events.is_full(1000, 400));
        assert!(!events.is_full(1000, 401));
        assert!(events.is_full(100, 1 << 20));
        for i in 0..100 {
            let text = alloc::format!("{i:04}");
            match events.pop() {
                Some(Queued::Event(Event::Message(m))) => {
                    assert_eq!(m, Message::from(text.as_str()))
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(events.pop().is_none());
        assert_eq!(events.data, 0);
        assert!(events.rest.is_none(), "the burst's memory is back");
        // One event at a time never allocates.
        events.push(Queued::Eof);
        assert!(events.pop().is_some());
        assert!(events.rest.is_none());
    }
}
