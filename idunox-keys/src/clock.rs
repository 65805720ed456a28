//! Time is injected: every rule that depends on "now" reads it from a [`Clock`], so tests set
//! the time instead of sleeping.
//!
//! All instants are whole seconds in UTC (stores keep Unix seconds, the HTTP API prints RFC 3339).
//!
//! ```
//! use idunox_keys::{Clock, ManualClock};
//! use idunox_keys::time::{Duration, macros::datetime};
//!
//! let clock = ManualClock::new(datetime!(2026-01-01 0:00 UTC));
//! clock.advance(Duration::hours(25));
//! assert_eq!(clock.now(), datetime!(2026-01-02 1:00 UTC));
//! ```

use core::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, UTC, truncated to whole seconds.
    fn now(&self) -> OffsetDateTime;
}

/// Truncate to whole seconds, UTC.
pub fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.unix_timestamp()).unwrap_or(t)
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        // Whole seconds straight from the system clock: one calendar conversion, not two.
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        i64::try_from(secs)
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .unwrap_or_else(|| truncate(OffsetDateTime::now_utc()))
    }
}

/// A clock that stands still until told to move. Clones share one instant.
#[derive(Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Arc::new(Mutex::new(truncate(at))))
    }

    /// Set the time.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = truncate(at);
    }

    /// Move the time forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *t = truncate(*t + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}
