//! When to try again after a connection is lost: exponential backoff with
//! jitter, a cap, and a limit on attempts. Sans-IO: the caller supplies
//! the randomness and does the waiting.

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

#[cfg(test)]
mod tests {
    use super::*;

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
