//! Time as the caller tells it.
//!
//! The core never reads a clock. Every call that may start or check a timer
//! takes an [`Instant`]: a count of nanoseconds since an epoch the caller
//! picks (an adapter usually takes the moment it created the connection).
//! Only differences between instants matter.

use core::fmt;
use core::num::NonZeroU64;
use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in time, as nanoseconds since a caller-chosen epoch.
// Held as nanoseconds + 1, never zero: an `Option<Instant>` (a deadline
// that may be unset, of which a connection has several) is then 8 bytes,
// not 16. The latest instant is therefore `u64::MAX - 1` ns (584 years).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(NonZeroU64);

impl Instant {
    /// The epoch itself.
    pub const ZERO: Self = Self(NonZeroU64::MIN);

    /// An instant `nanos` nanoseconds after the epoch (at most
    /// `u64::MAX - 1`, 584 years: a later one is that).
    pub const fn from_nanos(nanos: u64) -> Self {
        match NonZeroU64::new(nanos.saturating_add(1)) {
            Some(held) => Self(held),
            None => Self::ZERO, // unreachable: at least 1
        }
    }

    /// An instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self::from_nanos(millis.saturating_mul(1_000_000))
    }

    /// An instant `elapsed` after the epoch, saturating.
    pub fn from_elapsed(elapsed: Duration) -> Self {
        Self::from_nanos(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0.get() - 1
    }

    /// Time since the epoch.
    pub const fn elapsed_since_epoch(self) -> Duration {
        Duration::from_nanos(self.as_nanos())
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.as_nanos().saturating_sub(earlier.as_nanos()))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        let nanos = u64::try_from(rhs.as_nanos()).unwrap_or(u64::MAX);
        Instant::from_nanos(self.as_nanos().saturating_add(nanos))
    }
}

impl Default for Instant {
    fn default() -> Self {
        Self::ZERO
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Instant").field(&self.as_nanos()).finish()
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let late = Instant::from_nanos(u64::MAX - 2);
        assert_eq!(late + Duration::from_secs(1), Instant::from_nanos(u64::MAX));
        assert_eq!(Instant::from_nanos(u64::MAX).as_nanos(), u64::MAX - 1);
        assert_eq!(size_of::<Option<Instant>>(), 8);
        assert_eq!(Instant::ZERO - late, Duration::ZERO);
        assert_eq!(
            Instant::from_millis(1500) - Instant::from_millis(500),
            Duration::from_secs(1)
        );
    }
}
