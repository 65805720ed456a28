//! The change feed of a [`SqlKeyStore`](crate::SqlKeyStore): every committed change to a
//! credential, made by any process on the database, reaches the store's
//! [`idunox_keys::ChangeFeed`], so verifiers may cache whole records for a bounded
//! time (see the crate README, "Change feed").
//!
//! The database itself records changes, with triggers (migration `20261201000003_feed`), so no
//! code path can bypass the feed: another server, an older build, a manual `UPDATE` in `psql`.
//! Writes of `last_used_at` alone are not changes.
//!
//! - **PostgreSQL**: the trigger `pg_notify`s the key id on the channel
//!   [`CHANNEL`]; a listener connection hands the ids to the feed as they arrive. A pinger sends
//!   `pg_notify(<this instance's channel>, n)` every [`FeedSettings::ping_interval`], noting the
//!   instant it sent ping `n`; PostgreSQL delivers notifications in commit order, so when the
//!   listener receives ping `n`, every change committed before it was sent has been delivered,
//!   and the feed is confirmed fresh as of that instant. A lost listener connection resets the
//!   feed (caches drop everything) and reconnects; the reset is the catch-up, and it cannot miss
//!   anything.
//! - **SQLite**: the trigger appends `(seq, key_id)` to `credential_changes`; a
//!   poller reads the rows after its cursor every [`FeedSettings::poll_interval`] and confirms
//!   the instant its read began (one writer at a time makes sequence order commit order). The
//!   trigger keeps the last [`SQLITE_RETAINED_CHANGES`] rows; a poller whose cursor fell behind
//!   them resets the feed.
//!
//! The store that makes a change also publishes it to its own feed right after its commit, so
//! the instance that made it sees it at once.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use core::fmt;
use std::time::Duration;

use idunox_keys::ChangeFeed;
use sqlx::AnyPool;
use tokio::task::AbortHandle;

use crate::Backend;

/// The PostgreSQL channel on which the trigger announces changed key ids.
pub const CHANNEL: &str = "idunox_credentials";

/// How many rows of `credential_changes` the SQLite trigger keeps.
pub const SQLITE_RETAINED_CHANGES: u32 = 10_000;

/// How a store's change feed runs (see the [module docs](self)).
///
/// The defaults suit a verifier's default `max_staleness` of 1 s: a fresh feed lags by at most
/// about a ping interval (PostgreSQL) or a poll interval (SQLite) plus one round trip, well
/// inside it. For another `max_staleness`, [`FeedSettings::for_max_staleness`] scales them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FeedSettings {
    /// SQLite: how often the change table is read (default 20 ms). It bounds how late another
    /// instance's change arrives, and what an idle feed costs.
    pub poll_interval: Duration,
    /// PostgreSQL: how often a ping confirms freshness (default 200 ms). Changes themselves
    /// arrive as soon as they commit, whatever this is.
    pub ping_interval: Duration,
    /// PostgreSQL: a ping that has not come back after this long means the listener's
    /// connection is dead although no error said so; it is then dropped and reopened
    /// (default 2 s).
    pub ping_timeout: Duration,
    /// How long opening a feed connection may take (default 5 s).
    pub connect_timeout: Duration,
    /// The longest pause between two attempts to reconnect (default 1 s; the first attempt
    /// follows at once, then the pause doubles from 50 ms).
    pub max_reconnect_delay: Duration,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(20),
            ping_interval: Duration::from_millis(200),
            ping_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
            max_reconnect_delay: Duration::from_secs(1),
        }
    }
}

impl FeedSettings {
    /// Settings for verifiers trusting cached records for at most `max_staleness`: pings every
    /// fifth of it (at least 10 ms), polls every fiftieth (between 5 and 50 ms), the rest
    /// default.
    ///
    /// ```
    /// use std::time::Duration;
    /// use idunox_keys_sqlx::FeedSettings;
    /// let s = FeedSettings::for_max_staleness(Duration::from_secs(1));
    /// assert_eq!(s, FeedSettings::default());
    /// assert_eq!(FeedSettings::for_max_staleness(Duration::from_secs(5)).poll_interval, Duration::from_millis(50));
    /// ```
    pub fn for_max_staleness(max_staleness: Duration) -> Self {
        Self {
            poll_interval: (max_staleness / 50)
                .clamp(Duration::from_millis(5), Duration::from_millis(50)),
            ping_interval: (max_staleness / 5).max(Duration::from_millis(10)),
            ..Self::default()
        }
    }

    /// These settings with another poll interval (SQLite).
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }

    /// These settings with another ping interval (PostgreSQL).
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.ping_interval = d;
        self
    }

    /// These settings with another ping timeout (PostgreSQL).
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.ping_timeout = d;
        self
    }
}

/// Why a change feed could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum FeedError {
    /// Not called inside a tokio runtime: the feed runs as tasks on the current runtime.
    NoRuntime,
    /// The pool's URL could not be turned into a connection for the feed.
    Url(sqlx::Error),
}

impl fmt::Display for FeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRuntime => {
                f.write_str("the change feed runs on tokio: build the store inside a tokio runtime")
            }
            Self::Url(_) => f.write_str("the database URL cannot be used for the change feed"),
        }
    }
}

impl std::error::Error for FeedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Url(e) => Some(e),
            Self::NoRuntime => None,
        }
    }
}

/// A running feed: its [`ChangeFeed`] and the tasks that feed it, stopped when this is dropped
/// (with the last clone of the store holding it).
pub(crate) struct FeedRunner {
    pub(crate) feed: ChangeFeed,
    tasks: Vec<AbortHandle>,
}

impl FeedRunner {
    /// Start the feed of `pool`'s database on the current tokio runtime.
    pub(crate) fn start(
        pool: &AnyPool,
        backend: Backend,
        settings: FeedSettings,
    ) -> Result<Self, FeedError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| FeedError::NoRuntime)?;
        let feed = ChangeFeed::new();
        let url = pool.connect_options().database_url.to_string();
        let tasks = match backend {
            Backend::Postgres => postgres::start(&handle, &url, feed.clone(), settings)?,
            Backend::Sqlite => sqlite::start(&handle, pool, &url, feed.clone(), settings)?,
        };
        Ok(Self { feed, tasks })
    }
}

impl Drop for FeedRunner {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl fmt::Debug for FeedRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeedRunner")
            .field("feed", &self.feed)
            .finish_non_exhaustive()
    }
}

/// Exponential reconnection pauses: 50 ms, doubling up to a maximum, reset on success.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(50);

    pub(crate) fn new(max: Duration) -> Self {
        Self {
            next: Self::FIRST.min(max),
            max,
        }
    }

    /// The pause before the next attempt.
    pub(crate) fn pause(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }

    pub(crate) fn reset(&mut self) {
        self.next = Self::FIRST.min(self.max);
    }
}

/// Aborts its task when dropped (a helper task must not outlive the task that owns it).
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
