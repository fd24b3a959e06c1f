//! When to try again after a connection is lost: exponential backoff with
//! jitter, a cap, and a limit on attempts. Sans-IO: the caller supplies
//! the randomness and does the waiting.

use super::BrowserEvent;
use alloc::collections::VecDeque;
use core::time::Duration;

/// A reconnection policy. The delay before attempt `n` (1-based) is
/// `initial_delay * multiplier^(n-1)`, capped at `max_delay`, then
/// scaled by a random factor in `[1 - jitter, 1]` so that many clients
/// dropped at once do not come back at once.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Reconnect {
    /// The delay before the first attempt.
    pub initial_delay: Duration,
    /// The largest delay.
    pub max_delay: Duration,
    /// How much each delay grows over the previous one.
    pub multiplier: f64,
    /// How much of each delay is random, 0.0–1.0 ("full jitter" is 1.0).
    pub jitter: f64,
    /// Attempts after a loss before giving up; `None`: never give up.
    pub max_attempts: Option<u32>,
}

impl Default for Reconnect {
    /// 0.5 s, doubling up to 30 s, half of it random, at most 10 attempts.
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.5,
            max_attempts: Some(10),
        }
    }
}

impl Reconnect {
    /// The wait before attempt `attempt` (1-based), or `None` once the
    /// attempts are used up. `random` is uniform in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Option<Duration> {
        if attempt == 0 || self.max_attempts.is_some_and(|max| attempt > max) {
            return None;
        }
        let initial = self.initial_delay.as_secs_f64();
        let max = self.max_delay.as_secs_f64().max(initial);
        // Grown step by step (no `powi` without std), stopping at the cap.
        let multiplier = self.multiplier.max(1.0);
        let mut capped = initial;
        for _ in 1..attempt {
            if multiplier == 1.0 || capped >= max {
                break;
            }
            capped = (capped * multiplier).min(max);
        }
        let jitter = self.jitter.clamp(0.0, 1.0);
        let random = random.clamp(0.0, 1.0);
        Some(Duration::from_secs_f64(capped * (1.0 - jitter * random)))
    }
}

/// What a reconnecting socket reports: its connections' events, and when
/// it reconnects or gives up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconnectEvent {
    /// An event of the current connection (each connection has its own
    /// open … close).
    Socket(BrowserEvent),
    /// The connection was lost; attempt `attempt` starts after `delay`.
    Reconnecting {
        /// 1 for the first attempt after a loss.
        attempt: u32,
        /// The wait before it, jitter included.
        delay: Duration,
    },
    /// A new connection opened after `attempts` attempts; its `Open`
    /// follows.
    Reconnected {
        /// How many attempts it took.
        attempts: u32,
    },
    /// The policy's attempts are used up; nothing follows.
    GaveUp {
        /// How many attempts were made.
        attempts: u32,
    },
}

/// The reconnection state machine, sans-IO: adapters tell it when a
/// connection opened or ended, and it says whether and when to connect
/// again. Only connections the application did not close are retried, and
/// the attempt count starts over after each open.
#[derive(Debug, Clone)]
pub struct Reconnector {
    policy: Reconnect,
    attempt: u32,
    lost_before: bool,
    closing: bool,
}

impl Reconnector {
    /// A state machine for `policy`.
    pub fn new(policy: Reconnect) -> Self {
        Self {
            policy,
            attempt: 0,
            lost_before: false,
            closing: false,
        }
    }

    /// The application closed the socket: no more attempts.
    pub fn close(&mut self) {
        self.closing = true;
    }

    /// Whether the application closed the socket.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// A connection opened; after a loss, that is a reconnection.
    pub fn opened(&mut self) -> Option<ReconnectEvent> {
        let attempts = core::mem::take(&mut self.attempt);
        self.lost_before
            .then_some(ReconnectEvent::Reconnected { attempts })
    }

    /// A connection ended. `random` is uniform in `[0, 1)`. Returns what to
    /// report (`Reconnecting` with the wait, or `GaveUp`), or `None` when
    /// the application closed it and nothing follows.
    pub fn lost(&mut self, random: f64) -> Option<ReconnectEvent> {
        if self.closing {
            return None;
        }
        self.lost_before = true;
        self.attempt += 1;
        Some(match self.policy.delay(self.attempt, random) {
            Some(delay) => ReconnectEvent::Reconnecting {
                attempt: self.attempt,
                delay,
            },
            None => ReconnectEvent::GaveUp {
                attempts: self.attempt - 1,
            },
        })
    }
}

/// What a reconnecting socket does next, from [`ReconnectDriver::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconnectStep {
    /// Report this event to the application.
    Report(ReconnectEvent),
    /// Take the current connection's next event (waiting for it) and hand
    /// it to [`ReconnectDriver::socket_event`] (`None` once it has ended).
    Read,
    /// Wait this long, open a new connection, then call
    /// [`ReconnectDriver::reconnected`].
    Wait(Duration),
    /// Nothing follows: closed by the application, or given up.
    Done,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Live,
    Waiting(Duration),
    Done,
}

/// The whole reconnecting socket, sans-IO: the [`Reconnector`] plus the
/// order in which events are reported and when to wait and connect. An
/// adapter loops on [`ReconnectDriver::poll`] and only reads, sleeps and
/// connects, so every adapter reports the same events in the same order.
#[derive(Debug, Clone)]
pub struct ReconnectDriver {
    reconnector: Reconnector,
    phase: Phase,
    pending: VecDeque<ReconnectEvent>,
}

impl ReconnectDriver {
    /// A driver for `policy`, with its first connection under way.
    pub fn new(policy: Reconnect) -> Self {
        Self {
            reconnector: Reconnector::new(policy),
            phase: Phase::Live,
            pending: VecDeque::new(),
        }
    }

    /// What to do next.
    pub fn poll(&mut self) -> ReconnectStep {
        if let Some(event) = self.pending.pop_front() {
            return ReconnectStep::Report(event);
        }
        match self.phase {
            Phase::Live => ReconnectStep::Read,
            Phase::Waiting(delay) => ReconnectStep::Wait(delay),
            Phase::Done => ReconnectStep::Done,
        }
    }

    /// The current connection's next event, or `None` when it ended
    /// without one. `random` is uniform in `[0, 1)` (the delay's jitter).
    pub fn socket_event(&mut self, event: Option<BrowserEvent>, random: f64) {
        match event {
            Some(BrowserEvent::Open) => {
                self.pending.extend(self.reconnector.opened());
                self.pending
                    .push_back(ReconnectEvent::Socket(BrowserEvent::Open));
            }
            Some(BrowserEvent::Close(close)) => {
                self.pending
                    .push_back(ReconnectEvent::Socket(BrowserEvent::Close(close)));
                self.lost(random);
            }
            Some(event) => self.pending.push_back(ReconnectEvent::Socket(event)),
            None => self.lost(random),
        }
    }

    /// The wait is over and a new connection is under way.
    pub fn reconnected(&mut self) {
        if matches!(self.phase, Phase::Waiting(_)) {
            self.phase = Phase::Live;
        }
    }

    /// The application closed the socket: no reconnection follows.
    pub fn close(&mut self) {
        self.reconnector.close();
        if matches!(self.phase, Phase::Waiting(_)) {
            self.phase = Phase::Done;
        }
    }

    /// The connection ended: wait and try again, unless the application
    /// closed it or the attempts are used up.
    fn lost(&mut self, random: f64) {
        let next = self.reconnector.lost(random);
        self.phase = match next {
            Some(ReconnectEvent::Reconnecting { delay, .. }) => Phase::Waiting(delay),
            _ => Phase::Done,
        };
        self.pending.extend(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_reports_in_order_then_waits_then_reads_again() {
        let policy = Reconnect {
            max_attempts: Some(1),
            ..Reconnect::default()
        };
        let mut driver = ReconnectDriver::new(policy);
        assert_eq!(driver.poll(), ReconnectStep::Read);
        driver.socket_event(Some(BrowserEvent::Open), 0.0);
        assert_eq!(
            driver.poll(),
            ReconnectStep::Report(ReconnectEvent::Socket(BrowserEvent::Open))
        );
        driver.socket_event(None, 0.0);
        let ReconnectStep::Report(ReconnectEvent::Reconnecting { attempt: 1, delay }) =
            driver.poll()
        else {
            panic!()
        };
        assert_eq!(driver.poll(), ReconnectStep::Wait(delay));
        driver.reconnected();
        assert_eq!(driver.poll(), ReconnectStep::Read);
        driver.socket_event(Some(BrowserEvent::Open), 0.0);
        assert_eq!(
            driver.poll(),
            ReconnectStep::Report(ReconnectEvent::Reconnected { attempts: 1 })
        );
        assert_eq!(
            driver.poll(),
            ReconnectStep::Report(ReconnectEvent::Socket(BrowserEvent::Open))
        );
        driver.socket_event(None, 0.0);
        assert_eq!(
            driver.poll(),
            ReconnectStep::Report(ReconnectEvent::Reconnecting { attempt: 1, delay })
        );
        driver.close();
        assert_eq!(driver.poll(), ReconnectStep::Done, "closed while waiting");
    }

    #[test]
    fn reconnector_counts_attempts_and_stops_when_closed() {
        let policy = Reconnect {
            max_attempts: Some(2),
            ..Reconnect::default()
        };
        let mut r = Reconnector::new(policy);
        assert_eq!(r.opened(), None, "the first open is no reconnection");
        assert!(matches!(
            r.lost(0.0),
            Some(ReconnectEvent::Reconnecting { attempt: 1, .. })
        ));
        assert!(matches!(
            r.lost(0.0),
            Some(ReconnectEvent::Reconnecting { attempt: 2, .. })
        ));
        assert_eq!(
            r.opened(),
            Some(ReconnectEvent::Reconnected { attempts: 2 })
        );
        assert!(matches!(
            r.lost(0.0),
            Some(ReconnectEvent::Reconnecting { attempt: 1, .. })
        ));
        assert!(matches!(
            r.lost(0.0),
            Some(ReconnectEvent::Reconnecting { attempt: 2, .. })
        ));
        assert_eq!(r.lost(0.0), Some(ReconnectEvent::GaveUp { attempts: 2 }));
        let mut r = Reconnector::new(policy);
        r.close();
        assert_eq!(r.lost(0.0), None);
    }

    #[test]
    fn grows_caps_jitters_and_gives_up() {
        let policy = Reconnect {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            multiplier: 2.0,
            jitter: 0.5,
            max_attempts: Some(6),
        };
        let ms = |attempt, random| policy.delay(attempt, random).map(|d| d.as_millis());
        // Without the random part: 100, 200, 400, 800, then the cap.
        assert_eq!(ms(1, 0.0), Some(100));
        assert_eq!(ms(2, 0.0), Some(200));
        assert_eq!(ms(4, 0.0), Some(800));
        assert_eq!(ms(5, 0.0), Some(1000));
        assert_eq!(ms(6, 0.0), Some(1000));
        // The random part takes off up to half.
        assert_eq!(ms(1, 0.999_999), Some(50));
        assert_eq!(ms(3, 0.5), Some(300));
        assert_eq!(ms(7, 0.0), None, "six attempts, then give up");
        assert_eq!(ms(0, 0.0), None);
    }

    #[test]
    fn never_overflows() {
        let policy = Reconnect {
            max_attempts: None,
            ..Reconnect::default()
        };
        assert_eq!(policy.delay(u32::MAX, 0.0), Some(Duration::from_secs(30)));
        let silly = Reconnect {
            multiplier: f64::INFINITY,
            jitter: 7.0,
            ..policy
        };
        assert_eq!(silly.delay(3, 2.0), Some(Duration::ZERO));
        assert_eq!(silly.delay(3, 0.0), Some(Duration::from_secs(30)));
    }
}
