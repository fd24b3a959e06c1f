//! Limits and knobs. Every limit has a safe default.

use core::time::Duration;

/// Connection limits and timers.
///
/// The defaults accept everything legitimate peers send (Autobahn's 16 MiB
/// messages and 4 MiB messages in 65,536 fragments among them) while
/// bounding what a hostile peer can make us hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Longest frame payload accepted (default 16 MiB). Checked against the
    /// declared length, before any byte of the payload is buffered.
    pub max_frame_len: u64,
    /// Longest message accepted, after reassembly (default 16 MiB).
    pub max_message_len: u64,
    /// Most fragments in one message (default 262,144). Fragments cost no
    /// memory of their own (they are appended to one buffer), so this only
    /// bounds the work a flood of tiny fragments makes us do.
    pub max_fragments: u32,
    /// Longest HTTP head of the opening handshake (default 16 KiB).
    pub max_handshake_len: usize,
    /// Longest request line a server accepts (default 8 KiB; 414 past it).
    pub max_request_line_len: usize,
    /// Most HTTP headers in the opening handshake (default 100).
    pub max_headers: usize,
    /// Most outbound bytes queued and not yet taken by the transport
    /// (default 1 MiB), counting the queue's bookkeeping (a few dozen
    /// bytes per message waiting). A message that does not fit is handed
    /// back; a message is always accepted into an empty queue.
    pub max_queued: usize,
    /// Most events waiting for the application (default 64). Past it,
    /// [`crate::Connection::receive`] takes no more frames and leaves them
    /// in the input until [`crate::Connection::poll_event`] has drained the
    /// queue ([`crate::Connection::needs_receive`]), so a flood of tiny
    /// frames or pings costs at most this many events, and an application
    /// that stops taking events stops the reading too. At least 1.
    pub max_pending_events: usize,
    /// Time allowed for the opening handshake (default 10 s).
    pub handshake_timeout: Duration,
    /// Time allowed for the peer to answer our close frame, and for a
    /// server to close the transport after the closing handshake (default 5 s).
    pub close_timeout: Duration,
    /// Keepalive pings (default: a ping after 30 s without anything from
    /// the peer, which then has 30 s to send anything; so a peer that is
    /// gone is noticed within a minute, for a 2-byte ping and a 2-byte
    /// pong per 30 s of silence).
    pub keepalive: Option<Keepalive>,
    /// Close with 1001 after this long without receiving anything (default
    /// off: a peer that answers pings but sends nothing, like a subscriber
    /// to a feed, is legitimate; keepalive catches the ones that are gone).
    pub idle_timeout: Option<Duration>,
    /// Time from the first byte of a data message to its last (default
    /// 60 s). A peer that starts a message and then trickles it, holding
    /// what it sent so far, is failed with 1008 ([`crate::error::Timeout::Message`]).
    /// At the default 16 MiB message limit, the largest message needs
    /// about 280 KB/s; raise it for large messages over slow links.
    pub message_timeout: Option<Duration>,
    /// Deliver data messages piece by piece as they arrive
    /// ([`crate::Event::Fragment`]) instead of whole ([`crate::Event::Message`]).
    /// The message limit still applies.
    pub streaming: bool,
    /// permessage-deflate (default off). A client offers it; a server
    /// accepts offers within it. Off by default for servers because each
    /// connection that uses it holds zlib state (see
    /// [`crate::deflate::DeflateConfig`]'s presets for the costs). Present
    /// whatever the features, so code that sets it compiles either way;
    /// without the `deflate` feature (the codec) [`Config::validate`]
    /// refuses `Some`.
    pub deflate: Option<crate::deflate::DeflateConfig>,
}

/// Keepalive: ping after `interval` without traffic from the peer, and
/// fail the connection if nothing arrives within `timeout` of the ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Silence from the peer before a ping is sent.
    pub interval: Duration,
    /// Time the peer has to answer (any received byte counts).
    pub timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_len: 16 << 20,
            max_message_len: 16 << 20,
            max_fragments: 1 << 18,
            max_handshake_len: 16 << 10,
            max_request_line_len: 8 << 10,
            max_headers: 100,
            max_queued: 1 << 20,
            max_pending_events: 64,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            keepalive: Some(Keepalive {
                interval: Duration::from_secs(30),
                timeout: Duration::from_secs(30),
            }),
            idle_timeout: None,
            message_timeout: Some(Duration::from_secs(60)),
            streaming: false,
            deflate: None,
        }
    }
}

/// A [`Config`] setting that cannot work, from [`Config::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigError {
    /// The field, as named in [`Config`].
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Config::{}: {}", self.field, self.problem)
    }
}

impl core::error::Error for ConfigError {}

/// The most headers a request or response may be allowed: the parser
/// reserves a slot per header for every head it reads.
pub const MAX_HEADERS_LIMIT: usize = 10_000;

impl Config {
    /// Checks that every setting can work: lengths a buffer can hold,
    /// counts and times that are not zero where zero would stop the
    /// connection at once, and no limit so large that honouring it would
    /// overflow or allocate without bound. Every [`crate::Connection`]
    /// constructor applies it (so do the adapters, through theirs), and
    /// refuses what it refuses.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |field, problem| Err(ConfigError { field, problem });
        // A buffer holds a whole frame or message: it must fit in memory.
        let addressable = isize::MAX as u64;
        if self.max_frame_len > addressable {
            return fail("max_frame_len", "larger than memory can hold");
        }
        if self.max_message_len > addressable {
            return fail("max_message_len", "larger than memory can hold");
        }
        if self.max_fragments == 0 {
            return fail("max_fragments", "0 refuses every message");
        }
        if self.max_handshake_len < 256 {
            return fail(
                "max_handshake_len",
                "below 256 bytes, no opening handshake fits",
            );
        }
        if self.max_request_line_len == 0 {
            return fail("max_request_line_len", "0 refuses every request");
        }
        if self.max_headers == 0 || self.max_headers > MAX_HEADERS_LIMIT {
            return fail("max_headers", "must be 1 to 10,000");
        }
        if self.max_pending_events == 0 {
            return fail("max_pending_events", "0 would never deliver an event");
        }
        if self.handshake_timeout.is_zero() {
            return fail("handshake_timeout", "0 fails every handshake");
        }
        if self.close_timeout.is_zero() {
            return fail("close_timeout", "0 never lets a close complete");
        }
        if let Some(keepalive) = self.keepalive {
            if keepalive.interval.is_zero() || keepalive.timeout.is_zero() {
                return fail("keepalive", "interval and timeout must be above 0");
            }
        }
        if self.idle_timeout.is_some_and(|t| t.is_zero()) {
            return fail(
                "idle_timeout",
                "0 closes every connection at once (None turns it off)",
            );
        }
        if self.message_timeout.is_some_and(|t| t.is_zero()) {
            return fail(
                "message_timeout",
                "0 fails every message (None turns it off)",
            );
        }
        if cfg!(not(feature = "deflate")) && self.deflate.is_some() {
            return fail(
                "deflate",
                "permessage-deflate needs the `deflate` feature (the codec is not compiled in)",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deflate_is_a_setting_whatever_the_features() {
        let config = Config {
            deflate: Some(crate::deflate::DeflateConfig::default()),
            ..Config::default()
        };
        let verdict = config.validate();
        if cfg!(feature = "deflate") {
            assert_eq!(verdict, Ok(()));
        } else {
            assert_eq!(verdict.unwrap_err().field, "deflate");
        }
    }

    #[test]
    fn the_defaults_are_valid_and_nonsense_is_named() {
        assert_eq!(Config::default().validate(), Ok(()));
        type Break = fn(&mut Config);
        let cases: [(Break, &str); 6] = [
            (|c| c.max_message_len = u64::MAX, "max_message_len"),
            (|c| c.max_headers = usize::MAX, "max_headers"),
            (|c| c.max_pending_events = 0, "max_pending_events"),
            (|c| c.close_timeout = Duration::ZERO, "close_timeout"),
            (
                |c| c.message_timeout = Some(Duration::ZERO),
                "message_timeout",
            ),
            (
                |c| {
                    c.keepalive = Some(Keepalive {
                        interval: Duration::ZERO,
                        timeout: Duration::from_secs(1),
                    })
                },
                "keepalive",
            ),
        ];
        for (break_it, field) in cases {
            let mut config = Config::default();
            break_it(&mut config);
            assert_eq!(config.validate().map_err(|e| e.field), Err(field));
            // Every constructor refuses it.
            let now = crate::Instant::ZERO;
            let policy = crate::ServerPolicy::default();
            let refused = crate::Connection::server(policy, config.clone(), now).err();
            assert_eq!(refused.map(|e| e.field), Some(field));
            let refused = crate::Connection::established_server(config.clone(), now).err();
            assert_eq!(refused.map(|e| e.field), Some(field));
            let request = crate::ClientRequest::new("ws://h/").unwrap();
            let refused = crate::Connection::client(&request, config, |_: &mut [u8]| {}, now);
            assert!(matches!(
                refused,
                Err(crate::HandshakeError::InvalidConfig(e)) if e.field == field
            ));
        }
    }
}
