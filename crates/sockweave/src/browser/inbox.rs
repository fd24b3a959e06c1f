//! Where events wait for the application: a bounded queue, and the
//! `onopen` / `onmessage` / `onerror` / `onclose` handlers that take
//! events instead. Adapters share it; they only add locking and I/O.

use super::{BrowserEvent, MessageEvent};
use crate::error::Error;
use crate::event::CloseEvent;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

type Callback<T> = Option<Box<dyn FnMut(T) + Send>>;

/// One handler, taken out of the inbox to be called without a lock held
/// (handlers usually send or close through the socket).
pub struct Handler(Slot);

enum Slot {
    Open(Box<dyn FnMut(()) + Send>),
    Message(Box<dyn FnMut(MessageEvent) + Send>),
    Error(Box<dyn FnMut(Option<Error>) + Send>),
    Close(Box<dyn FnMut(CloseEvent) + Send>),
}

impl Handler {
    /// Calls the handler with `event` (which it was taken for).
    pub fn call(&mut self, event: BrowserEvent) {
        match (&mut self.0, event) {
            (Slot::Open(f), BrowserEvent::Open) => f(()),
            (Slot::Message(f), BrowserEvent::Message(m)) => f(m),
            (Slot::Error(f), BrowserEvent::Error(e)) => f(e),
            (Slot::Close(f), BrowserEvent::Close(c)) => f(c),
            _ => debug_assert!(false, "a handler is only taken for its own kind"),
        }
    }
}

/// The events taken from a connection and not yet read, at most
/// `capacity` of them holding at most `max_bytes` of message data (plus
/// the one message that crossed it), and the handlers.
pub struct Inbox {
    events: VecDeque<BrowserEvent>,
    capacity: usize,
    bytes: usize,
    max_bytes: usize,
    open: Callback<()>,
    message: Callback<MessageEvent>,
    error: Callback<Option<Error>>,
    close: Callback<CloseEvent>,
}

impl core::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inbox")
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl Default for Inbox {
    /// 32 unread events and 16 MiB of unread message data.
    fn default() -> Self {
        Self::new(32, 16 << 20)
    }
}

impl Inbox {
    /// An inbox holding up to `capacity` unread events and `max_bytes` of
    /// unread message data: past either, the adapter stops reading and the
    /// peer feels the backpressure. So unread events hold at most
    /// `max_bytes` plus one message (bounded by `Config::max_message_len`).
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            bytes: 0,
            max_bytes,
            open: None,
            message: None,
            error: None,
            close: None,
        }
    }

    /// Takes `event` into the queue, or into `for_handlers` when a handler
    /// takes it and nothing is queued before it. The caller checks
    /// [`Inbox::has_room`] before it takes the next event from its
    /// connection (one connection event can make two here: `error`, then
    /// `close`).
    pub fn push(&mut self, event: BrowserEvent, for_handlers: &mut Vec<BrowserEvent>) {
        self.release(for_handlers);
        if self.events.is_empty() && self.is_handled(&event) {
            for_handlers.push(event);
        } else {
            self.bytes += size(&event);
            self.events.push_back(event);
        }
    }

    /// Moves the events at the front of the queue that a handler takes into
    /// `for_handlers`.
    ///
    /// Events keep their order: a handler takes events from the front of
    /// the queue, so one set after its event arrived (the socket's thread
    /// may open it before `on_open` is called, where JavaScript would
    /// dispatch later) still gets it, and an event nobody handles holds the
    /// ones behind it until the application reads it.
    pub fn release(&mut self, for_handlers: &mut Vec<BrowserEvent>) {
        while self.events.front().is_some_and(|e| self.is_handled(e)) {
            for_handlers.extend(self.pop());
        }
    }

    /// Takes events from `next` (until it has none) with [`Inbox::push`]
    /// while there is room. Returns whether `next` ran dry.
    pub fn fill(
        &mut self,
        mut next: impl FnMut() -> Option<BrowserEvent>,
        for_handlers: &mut Vec<BrowserEvent>,
    ) -> bool {
        loop {
            self.release(for_handlers);
            if !self.has_room() {
                return false;
            }
            let Some(event) = next() else {
                return true;
            };
            self.push(event, for_handlers);
        }
    }

    /// Whether the queue has room for another event.
    pub fn has_room(&self) -> bool {
        self.events.len() < self.capacity && self.bytes < self.max_bytes
    }

    /// Whether events wait to be read.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The oldest unread event.
    pub fn pop(&mut self) -> Option<BrowserEvent> {
        let event = self.events.pop_front()?;
        self.bytes -= size(&event);
        Some(event)
    }

    fn is_handled(&self, event: &BrowserEvent) -> bool {
        match event {
            BrowserEvent::Open => self.open.is_some(),
            BrowserEvent::Message(_) => self.message.is_some(),
            BrowserEvent::Error(_) => self.error.is_some(),
            BrowserEvent::Close(_) => self.close.is_some(),
        }
    }

    /// `onopen`.
    pub fn on_open(&mut self, mut f: impl FnMut() + Send + 'static) {
        self.open = Some(Box::new(move |()| f()));
    }

    /// `onmessage`.
    pub fn on_message(&mut self, f: impl FnMut(MessageEvent) + Send + 'static) {
        self.message = Some(Box::new(f));
    }

    /// `onerror`.
    pub fn on_error(&mut self, f: impl FnMut(Option<Error>) + Send + 'static) {
        self.error = Some(Box::new(f));
    }

    /// `onclose`.
    pub fn on_close(&mut self, f: impl FnMut(CloseEvent) + Send + 'static) {
        self.close = Some(Box::new(f));
    }

    /// Takes out the handler for `event`'s kind, if one is set.
    pub fn take_handler(&mut self, event: &BrowserEvent) -> Option<Handler> {
        Some(Handler(match event {
            BrowserEvent::Open => Slot::Open(self.open.take()?),
            BrowserEvent::Message(_) => Slot::Message(self.message.take()?),
            BrowserEvent::Error(_) => Slot::Error(self.error.take()?),
            BrowserEvent::Close(_) => Slot::Close(self.close.take()?),
        }))
    }

    /// Puts a handler back, unless the application set a new one meanwhile.
    pub fn put_back(&mut self, handler: Handler) {
        match handler.0 {
            Slot::Open(f) => {
                self.open.get_or_insert(f);
            }
            Slot::Message(f) => {
                self.message.get_or_insert(f);
            }
            Slot::Error(f) => {
                self.error.get_or_insert(f);
            }
            Slot::Close(f) => {
                self.close.get_or_insert(f);
            }
        }
    }

    /// Drops every handler: they often hold a clone of the socket, and
    /// once it is closed that cycle must end.
    pub fn clear_handlers(&mut self) {
        self.open = None;
        self.message = None;
        self.error = None;
        self.close = None;
    }
}

/// The message bytes an event holds.
fn size(event: &BrowserEvent) -> usize {
    match event {
        BrowserEvent::Message(message) => message.data.len(),
        _ => 0,
    }
}

impl core::fmt::Debug for Handler {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self.0 {
            Slot::Open(_) => "Handler(onopen)",
            Slot::Message(_) => "Handler(onmessage)",
            Slot::Error(_) => "Handler(onerror)",
            Slot::Close(_) => "Handler(onclose)",
        })
    }
}
