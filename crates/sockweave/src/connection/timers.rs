//! Every deadline of a connection in one place: the phase's own (the
//! opening handshake while CONNECTING, the closing handshake while
//! CLOSING) and, while OPEN, the message, keepalive and idle timers.

use crate::config::Config;
use crate::time::Instant;

#[derive(Debug)]
pub(super) struct Timers {
    /// The end of the opening handshake (CONNECTING) or of the closing
    /// one (CLOSING, or a refusal being written).
    phase: Option<Instant>,
    /// When the peer last sent anything: keepalive and idle count from it.
    last_received: Instant,
    /// When our keepalive ping went out, while it waits for an answer.
    ping_sent: Option<Instant>,
}

/// Which timer fired, in the order they are acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Due {
    /// The phase's deadline: the handshake or the close took too long.
    Phase,
    /// A data message did not end within `message_timeout`.
    Message,
    /// Our keepalive ping went unanswered.
    Pong,
    /// Time for a keepalive ping.
    Ping,
    /// Nothing received for `idle_timeout`.
    Idle,
}

impl Timers {
    pub(super) fn new(now: Instant) -> Self {
        Self {
            phase: None,
            last_received: now,
            ping_sent: None,
        }
    }

    /// The phase's deadline is `after` from `from`.
    pub(super) fn start_phase(&mut self, from: Instant, after: core::time::Duration) {
        self.phase = Some(from + after);
    }

    pub(super) fn end_phase(&mut self) {
        self.phase = None;
    }

    /// The peer sent something at `now`: it is alive.
    pub(super) fn received(&mut self, now: Instant) {
        self.last_received = now;
        self.ping_sent = None;
    }

    pub(super) fn last_received(&self) -> Instant {
        self.last_received
    }

    pub(super) fn ping_sent(&mut self, now: Instant) {
        self.ping_sent = Some(now);
    }

    /// The next deadline. Outside OPEN only the phase's counts; while OPEN
    /// the message timer runs from `message_since`, the first frame of the
    /// data message in progress.
    pub(super) fn next(
        &self,
        open: bool,
        config: &Config,
        message_since: Option<Instant>,
    ) -> Option<Instant> {
        if !open {
            return self.phase;
        }
        self.open_deadlines(config, message_since)
            .into_iter()
            .flatten()
            .map(|(at, _)| at)
            .min()
    }

    /// The first timer due at `now`, if any.
    pub(super) fn due(
        &self,
        now: Instant,
        open: bool,
        config: &Config,
        message_since: Option<Instant>,
    ) -> Option<Due> {
        if !open {
            return self.phase.filter(|&at| at <= now).map(|_| Due::Phase);
        }
        self.open_deadlines(config, message_since)
            .into_iter()
            .flatten()
            .find(|&(at, _)| at <= now)
            .map(|(_, due)| due)
    }

    fn open_deadlines(
        &self,
        config: &Config,
        message_since: Option<Instant>,
    ) -> [Option<(Instant, Due)>; 3] {
        let message = message_since
            .zip(config.message_timeout)
            .map(|(since, after)| (since + after, Due::Message));
        let keepalive = config.keepalive.map(|k| match self.ping_sent {
            Some(sent) => (sent + k.timeout, Due::Pong),
            None => (self.last_received + k.interval, Due::Ping),
        });
        let idle = config
            .idle_timeout
            .map(|idle| (self.last_received + idle, Due::Idle));
        [message, keepalive, idle]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Keepalive;
    use core::time::Duration;

    #[test]
    fn open_timers_in_order() {
        let mut config = Config {
            keepalive: Some(Keepalive {
                interval: Duration::from_secs(10),
                timeout: Duration::from_secs(5),
            }),
            idle_timeout: Some(Duration::from_secs(30)),
            message_timeout: Some(Duration::from_secs(60)),
            ..Config::default()
        };
        let t0 = Instant::ZERO;
        let at = |s| t0 + Duration::from_secs(s);
        let mut timers = Timers::new(t0);
        assert_eq!(timers.next(true, &config, None), Some(at(10)));
        assert_eq!(timers.due(at(9), true, &config, None), None);
        assert_eq!(timers.due(at(10), true, &config, None), Some(Due::Ping));
        timers.ping_sent(at(10));
        assert_eq!(timers.next(true, &config, None), Some(at(15)));
        assert_eq!(timers.due(at(15), true, &config, None), Some(Due::Pong));
        timers.received(at(12));
        assert_eq!(timers.next(true, &config, None), Some(at(22)));
        // A message in progress since 1 s is due first once it is late.
        assert_eq!(
            timers.due(at(100), true, &config, Some(at(1))),
            Some(Due::Message)
        );
        config.keepalive = None;
        assert_eq!(timers.due(at(42), true, &config, None), Some(Due::Idle));
        // Outside OPEN, only the phase's deadline counts.
        assert_eq!(timers.next(false, &config, None), None);
        timers.start_phase(at(50), Duration::from_secs(5));
        assert_eq!(timers.next(false, &config, Some(at(1))), Some(at(55)));
        assert_eq!(timers.due(at(55), false, &config, None), Some(Due::Phase));
        timers.end_phase();
        assert_eq!(timers.due(at(99), false, &config, None), None);
    }
}
