//! A browser-style WebSocket that comes back after it is lost.

use super::{DomException, Options, WebSocket};
use sockweave::Message;
use sockweave::browser::{Reconnect, ReconnectDriver, ReconnectEvent, ReconnectStep};
use std::pin::Pin;

/// A [`WebSocket`] that, when its connection closes without the
/// application asking, connects again after the [`Reconnect`] policy's
/// delay (exponential backoff with jitter, a cap, a maximum number of
/// attempts). The attempt count starts over after each successful open.
/// What to report and when to wait is the core's [`ReconnectDriver`] (the
/// same as std's); this only reads, sleeps and connects.
///
/// Messages sent while the connection is down are dropped, as on any
/// closed socket: wait for the next `Open` (or `Reconnected`) to send again.
pub struct ReconnectingWebSocket {
    url: String,
    protocols: Vec<String>,
    options: Options,
    driver: ReconnectDriver,
    current: WebSocket,
    /// The wait before the next attempt, kept across a cancelled `next`.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
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
            driver: ReconnectDriver::new(policy),
            current,
            sleep: None,
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
        self.driver.close();
        self.sleep = None;
        Ok(())
    }

    /// The next event; `None` once closed for good or given up.
    /// Cancel-safe.
    pub async fn next(&mut self) -> Option<ReconnectEvent> {
        loop {
            match self.driver.poll() {
                ReconnectStep::Report(event) => return Some(event),
                ReconnectStep::Done => return None,
                ReconnectStep::Read => {
                    let event = self.current.next().await;
                    self.driver.socket_event(event, rand::random::<f64>());
                }
                ReconnectStep::Wait(delay) => {
                    self.sleep
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)))
                        .as_mut()
                        .await;
                    self.sleep = None;
                    let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
                    // The arguments passed the rules once; they still do.
                    self.current =
                        WebSocket::with_options(&self.url, &protocols, self.options.clone())
                            .expect("the URL and protocols were accepted before");
                    self.driver.reconnected();
                }
            }
        }
    }
}

impl std::fmt::Debug for ReconnectingWebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectingWebSocket")
            .field("url", &self.url)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}
