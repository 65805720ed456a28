//! Change feeds: how a store tells every verifier that credential records changed, so that
//! verifiers may cache whole records (`docs/verification.md`, "Cached records").
//!
//! A store that offers a feed ([`KeyStore::feed`](crate::KeyStore::feed)) owns one
//! [`ChangeFeed`] and publishes into it:
//!
//! - [`changed`](ChangeFeed::changed) for every committed change to a credential (create,
//!   rotate, revoke, PATCH, hash upgrade), made by this process (at once, after the commit) or by
//!   any other process on the same database (when its listener or poller learns of it);
//! - [`confirm`](ChangeFeed::confirm)`(t)` when it knows that every change committed before the
//!   instant `t` has been published — the feed is then *fresh as of* `t`;
//! - [`reset`](ChangeFeed::reset) when changes may have been missed (a lost connection, a gap
//!   in a change sequence): every subscriber drops everything, and the feed is not fresh until
//!   the next `confirm`.
//!
//! Subscribers (verifiers' record caches) drop what changed. A reader trusts a cached record only
//! while [`is_fresh`](ChangeFeed::is_fresh)`(max_staleness)` holds: that is what bounds how stale
//! an accepted record can be, and what makes a verifier fail closed when the feed goes quiet.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::{Duration, Instant};
//! use idunox_keys::feed::{ChangeFeed, FeedSubscriber};
//! use idunox_keys::KeyId;
//!
//! #[derive(Default)]
//! struct Seen(Mutex<Vec<KeyId>>);
//! impl FeedSubscriber for Seen {
//!     fn changed(&self, ids: &[KeyId]) { self.0.lock().unwrap().extend_from_slice(ids) }
//!     fn reset(&self) { self.0.lock().unwrap().clear() }
//! }
//!
//! let feed = ChangeFeed::new();
//! let seen = Arc::new(Seen::default());
//! feed.subscribe(seen.clone());
//! assert!(!feed.is_fresh(Duration::from_secs(1)));      // nothing confirmed yet
//!
//! let id = KeyId::parse("XFE89T5jtdJh")?;
//! feed.changed(&[id]);
//! feed.confirm(Instant::now());
//! assert_eq!(*seen.0.lock().unwrap(), vec![id]);
//! assert!(feed.is_fresh(Duration::from_secs(1)));
//!
//! feed.reset();                                           // events may have been lost
//! assert!(seen.0.lock().unwrap().is_empty());
//! assert!(!feed.is_fresh(Duration::from_secs(1)));
//! # Ok::<(), idunox_keys::ParseError>(())
//! ```

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::key::KeyId;

/// What a feed notifies: a cache of credential records.
pub trait FeedSubscriber: Send + Sync + 'static {
    /// These credentials changed: drop what is cached for them.
    fn changed(&self, ids: &[KeyId]);
    /// Changes may have been missed: drop everything.
    fn reset(&self);
}

/// A store's change feed (see the [module docs](self)). Cheap to clone; clones share state.
#[derive(Clone)]
pub struct ChangeFeed {
    inner: Arc<Inner>,
}

struct Inner {
    /// The origin of `fresh_as_of`.
    base: Instant,
    /// Nanoseconds after `base` up to which the feed is complete, plus one; 0 = not fresh.
    fresh_as_of: AtomicU64,
    /// Bumped by every `changed` and `reset`.
    events: AtomicU64,
    subscribers: Mutex<Vec<Weak<dyn FeedSubscriber>>>,
}

impl ChangeFeed {
    /// A feed with no subscriber, not fresh until the first [`confirm`](Self::confirm).
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                base: Instant::now(),
                fresh_as_of: AtomicU64::new(0),
                events: AtomicU64::new(0),
                subscribers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Notify `subscriber` of every change from now on. The feed holds it weakly: dropping the
    /// last `Arc` unsubscribes.
    pub fn subscribe(&self, subscriber: Arc<dyn FeedSubscriber>) {
        let mut subs = self.lock();
        subs.retain(|s| s.strong_count() > 0);
        subs.push(Arc::downgrade(&subscriber));
    }

    /// Publisher: these credentials changed (the change is committed).
    pub fn changed(&self, ids: &[KeyId]) {
        if ids.is_empty() {
            return;
        }
        self.inner.events.fetch_add(1, Ordering::AcqRel);
        for sub in self.live() {
            sub.changed(ids);
        }
    }

    /// Publisher: every change committed before `as_of` has been passed to
    /// [`changed`](Self::changed). Freshness only moves forward.
    pub fn confirm(&self, as_of: Instant) {
        let nanos = as_of
            .saturating_duration_since(self.inner.base)
            .as_nanos()
            .min(u128::from(u64::MAX - 1)) as u64;
        self.inner
            .fresh_as_of
            .fetch_max(nanos + 1, Ordering::AcqRel);
    }

    /// Publisher: changes may have been missed. Every subscriber drops everything, and the feed
    /// is not fresh until the next [`confirm`](Self::confirm).
    pub fn reset(&self) {
        self.inner.fresh_as_of.store(0, Ordering::Release);
        self.inner.events.fetch_add(1, Ordering::AcqRel);
        for sub in self.live() {
            sub.reset();
        }
    }

    /// The instant up to which every change is known, if any.
    pub fn fresh_as_of(&self) -> Option<Instant> {
        match self.inner.fresh_as_of.load(Ordering::Acquire) {
            0 => None,
            n => Some(self.inner.base + Duration::from_nanos(n - 1)),
        }
    }

    /// Whether every change committed more than `max_staleness` ago is known now.
    pub fn is_fresh(&self, max_staleness: Duration) -> bool {
        self.lag().is_some_and(|lag| lag <= max_staleness)
    }

    /// How far behind now the feed is confirmed (`None`: not fresh at all).
    pub fn lag(&self) -> Option<Duration> {
        self.fresh_as_of()
            .map(|t| Instant::now().saturating_duration_since(t))
    }

    /// A counter bumped by every [`changed`](Self::changed) and [`reset`](Self::reset): a
    /// reader that saw the same value before and after reading a record from the store knows
    /// no change slipped in between.
    pub fn events(&self) -> u64 {
        self.inner.events.load(Ordering::Acquire)
    }

    fn live(&self) -> Vec<Arc<dyn FeedSubscriber>> {
        self.lock().iter().filter_map(Weak::upgrade).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Weak<dyn FeedSubscriber>>> {
        self.inner
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("lag", &self.lag())
            .field("events", &self.events())
            .finish_non_exhaustive()
    }
}
