//! A blocking browser-style WebSocket that comes back after it is lost.

use super::{BrowserEvent, DomException, Options, WebSocket};
use sockweave::Message;
use sockweave::browser::{Reconnect, ReconnectEvent, Reconnector};
use std::collections::VecDeque;
use std::time::Instant;

enum State {
    Live,
    Waiting(Instant),
    Done,
}

/// A [`WebSocket`] that, when its connection closes without the
/// application asking, connects again after the [`Reconnect`] policy's
/// delay (the same state machine as tokio's, from the core).
///
/// Messages sent while the connection is down are dropped, as on any
/// closed socket: wait for the next `Open` to send again.
pub struct ReconnectingWebSocket {
    url: String,
    protocols: Vec<String>,
    options: Options,
    reconnector: Reconnector,
    current: WebSocket,
    state: State,
    pending: VecDeque<ReconnectEvent>,
}

impl ReconnectingWebSocket {
    /// Connects as [`WebSocket::with_options`] does, reconnecting by `policy`.
    pub fn new(
        url: &str,
        protocols: &[&str],
        options: Options,
        policy: Reconnect,
    ) -> Result<Self, DomException> {
        let current = WebSocket::with_options(url, protocols, options.clone())?;
        Ok(Self {
            url: url.to_owned(),
            protocols: protocols.iter().map(|p| (*p).to_owned()).collect(),
            options,
            reconnector: Reconnector::new(policy),
            current,
            state: State::Live,
            pending: VecDeque::new(),
        })
    }

    /// The current connection.
    pub fn socket(&self) -> &WebSocket {
        &self.current
    }

    /// `send` on the current connection.
    pub fn send(&self, data: impl Into<Message>) -> Result<(), DomException> {
        self.current.send(data)
    }

    /// Closes for good: no reconnection follows.
    pub fn close(&mut self, code: Option<u16>, reason: Option<&str>) -> Result<(), DomException> {
        self.current.close(code, reason)?;
        self.reconnector.close();
        if matches!(self.state, State::Waiting(_)) {
            self.state = State::Done;
        }
        Ok(())
    }

    fn lost(&mut self) {
        let next = self.reconnector.lost(rand::random::<f64>());
        self.state = match next {
            Some(ReconnectEvent::Reconnecting { delay, .. }) => {
                State::Waiting(Instant::now() + delay)
            }
            _ => State::Done,
        };
        self.pending.extend(next);
    }
}

/// Blocking iteration over the events, across reconnections.
impl Iterator for ReconnectingWebSocket {
    type Item = ReconnectEvent;

    /// The next event, waiting for it; `None` once closed for good or
    /// given up.
    fn next(&mut self) -> Option<ReconnectEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            match self.state {
                State::Done => return None,
                State::Waiting(until) => {
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                    let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
                    // The arguments passed the rules once; they still do.
                    self.current =
                        WebSocket::with_options(&self.url, &protocols, self.options.clone())
                            .expect("the URL and protocols were accepted before");
                    self.state = State::Live;
                }
                State::Live => match self.current.next() {
                    Some(BrowserEvent::Open) => {
                        self.pending.extend(self.reconnector.opened());
                        self.pending
                            .push_back(ReconnectEvent::Socket(BrowserEvent::Open));
                    }
                    Some(BrowserEvent::Close(close)) => {
                        self.pending
                            .push_back(ReconnectEvent::Socket(BrowserEvent::Close(close)));
                        self.lost();
                    }
                    Some(event) => return Some(ReconnectEvent::Socket(event)),
                    None => self.lost(),
                },
            }
        }
    }
}
