//! A browser-style WebSocket that comes back after it is lost.

use super::{BrowserEvent, DomException, Options, WebSocket};
use sockweave::Message;
use sockweave::browser::{Reconnect, ReconnectEvent, Reconnector};
use std::collections::VecDeque;
use std::pin::Pin;

enum State {
    Live,
    Waiting(Pin<Box<tokio::time::Sleep>>),
    Done,
}

/// A [`WebSocket`] that, when its connection closes without the
/// application asking, connects again after the [`Reconnect`] policy's
/// delay (exponential backoff with jitter, a cap, a maximum number of
/// attempts). The attempt count starts over after each successful open.
///
/// Messages sent while the connection is down are dropped, as on any
/// closed socket: wait for the next `Open` (or `Reconnected`) to send again.
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

    /// The current connection (for `ready_state`, `protocol`, `buffered_amount`…).
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

    /// The next event; `None` once closed for good or given up.
    pub async fn next(&mut self) -> Option<ReconnectEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            match &mut self.state {
                State::Done => return None,
                State::Waiting(sleep) => {
                    sleep.as_mut().await;
                    let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
                    // The arguments passed the rules once; they still do.
                    self.current =
                        WebSocket::with_options(&self.url, &protocols, self.options.clone())
                            .expect("the URL and protocols were accepted before");
                    self.state = State::Live;
                }
                State::Live => match self.current.next().await {
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

    /// The connection ended: wait and try again, unless the application
    /// closed it or the attempts are used up.
    fn lost(&mut self) {
        let next = self.reconnector.lost(rand::random::<f64>());
        self.state = match next {
            Some(ReconnectEvent::Reconnecting { delay, .. }) => {
                State::Waiting(Box::pin(tokio::time::sleep(delay)))
            }
            _ => State::Done,
        };
        self.pending.extend(next);
    }
}
