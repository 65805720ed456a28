//! The verification pipeline, top to bottom (`docs/verification.md`):
//!
//! 1. **parse** once: shape, prefix, environment, alphabet, checksum — offline, no store
//!    (`missing_api_key`, or `invalid_api_key` for anything malformed);
//! 2. **find the record** by key id: from the record cache while the store's change feed is
//!    fresh, from a store that answers at once ([`KeyStore::find_now`]), or else by asking the
//!    store (an unknown id is `invalid_api_key`, without argon2; a store that fails is `503`);
//! 3. **check the secret**: *warm* when this process verified the key before (a keyed digest
//!    and one constant-time comparison; a different secret is `invalid_api_key` at once), *cold*
//!    otherwise (argon2id under the process's [`HashBudget`], at most one per
//!    key id at a time, within a per-key-id failure budget: see [`fairness`](crate::fairness)
//!    for the `503` answers);
//! 4. **status** at `now`, from the record: `api_key_revoked` and `api_key_expired` are told
//!    only here, after the secret matched.
//!
//! Restrictions come after, at the edge that knows the request: the client address against
//! the allow-list ([`VerifiedKey::check_ip`], `403 ip_not_allowed`), then the route's scope
//! ([`VerifiedKey::require_scope`], `403 insufficient_scope`).
//!
//! [`Verifier::check`] runs the pipeline as far as it can without waiting and answers
//! [`Check::Done`] — the warm path, synchronous, allocating nothing but what the
//! [`VerifiedKey`] shares — or [`Check::Pending`], which owns the parsed key (zeroed on drop)
//! and finishes with [`Pending::finish`] (a store read, or argon2). [`Verifier::verify`] is both
//! in one `async fn`. Last use is recorded synchronously ([`KeyStore::touch`] buffers), at most
//! once per key per [`touch_every`](VerifierBuilder::touch_every).
//!
//! With a store that has a change feed and `max_staleness > 0`, whole records are cached and a
//! warm key needs no store round trip; a change made anywhere reaches the cache through the
//! feed, and when the feed cannot be confirmed fresh within `max_staleness` the cache is not
//! trusted: the store is read, and a store that cannot be read answers `503` (fail closed).
//!
//! ```
//! use std::sync::Arc;
//! use idunox_keys::{Check, KeyFormat, KeyManager, MemoryStore, Refusal, TenantId, Verifier};
//! use idunox_keys::{HashParams, SecretHasher};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let format = KeyFormat::new("idx", "test")?;
//! let keys = KeyManager::new(store.clone(), format.clone())
//!     .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST)?);
//! let verifier = Verifier::new(store, format);
//!
//! let issued = keys.create(&TenantId::new("acme"), None, None).await?;
//! let key = issued.api_key.expose_secret().as_bytes();
//! // First time: argon2 is needed, so the check is pending.
//! let Check::Pending(pending) = verifier.check(Some(key)) else { unreachable!() };
//! let cold = pending.finish().await?;
//! // From now on the key is warm: answered at once.
//! let Check::Done(warm) = verifier.check(Some(key)) else { unreachable!() };
//! assert_eq!(warm?.tenant_id, cold.tenant_id);
//! assert!(matches!(verifier.verify(None).await, Err(Refusal::Missing)));
//!
//! keys.revoke(&TenantId::new("acme"), &issued.credential.key_id).await?;
//! assert_eq!(verifier.verify(Some(key)).await.unwrap_err().code(), "api_key_revoked");
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

mod pending;
mod verified;

use core::fmt;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use time::{Duration, OffsetDateTime};

use crate::budget::{BudgetSettings, HashBudget};
use crate::cache::{Warm, WarmCache};
use crate::clock::{Clock, SystemClock};
use crate::credential::Credential;
use crate::error::{InvalidKey, Overload, RandomnessError, Refusal};
use crate::fairness::Fairness;
use crate::feed::ChangeFeed;
use crate::hash::HashParams;
use crate::key::{KeyFormat, KeyId, PresentedKey};
use crate::lifecycle::Policy;
use crate::records::{Cached, RecordCache};
use crate::status::Status;
use crate::store::{Immediate, KeyStore};

pub use pending::Pending;
pub use verified::VerifiedKey;

/// Default [`VerifierBuilder::max_staleness`]: one second.
pub const DEFAULT_MAX_STALENESS: StdDuration = StdDuration::from_secs(1);
/// Default of [`VerifierBuilder::failure_budget`]: argon2 failures allowed per key id…
pub const DEFAULT_MAX_FAILURES: u32 = 5;
/// …within this window.
pub const DEFAULT_FAILURE_WINDOW: Duration = Duration::minutes(1);

/// What [`Verifier::check`] could decide without waiting.
#[must_use]
pub enum Check<S> {
    /// The answer: a warm key (or a refusal that needed no waiting).
    Done(Result<VerifiedKey, Refusal>),
    /// The store must be read or the secret checked with argon2: finish it with
    /// [`Pending::finish`].
    Pending(Pending<S>),
}

impl<S> fmt::Debug for Check<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Done(answer) => f.debug_tuple("Done").field(answer).finish(),
            Self::Pending(p) => f.debug_tuple("Pending").field(p).finish(),
        }
    }
}

/// Settings for a [`Verifier`]; start from [`Verifier::builder`].
pub struct VerifierBuilder<S> {
    store: S,
    format: KeyFormat,
    clock: Arc<dyn Clock>,
    expiring_window: Duration,
    cache_capacity: usize,
    touch_every: Duration,
    upgrade: bool,
    budget: Option<HashBudget>,
    max_staleness: StdDuration,
    max_failures: u32,
    failure_window: Duration,
}

impl<S: KeyStore> VerifierBuilder<S> {
    /// Read time from this clock (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Take the expiring window from this policy (default 30 days).
    #[must_use]
    pub fn policy(mut self, policy: &Policy) -> Self {
        self.expiring_window = policy.expiring_window;
        self
    }

    /// How many keys the warm cache remembers, and how many records the record cache holds
    /// (default 100 000 each; 0 disables both). Unknown ids are remembered up to an eighth of it.
    #[must_use]
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.cache_capacity = entries;
        self
    }

    /// Record a key's last use in the store at most this often per process (default 1 minute).
    #[must_use]
    pub fn touch_every(mut self, every: Duration) -> Self {
        self.touch_every = every;
        self
    }

    /// Run cold (argon2) verifications under this budget — the process's one budget for all
    /// argon2 work, shared with key creation and sign-in. Default: a budget of this verifier's
    /// own, at default parameters and size.
    #[must_use]
    pub fn budget(mut self, budget: HashBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// After a successful cold verification, replace a stored hash made with weaker argon2
    /// parameters than the budget's (see [`SecretHasher::needs_rehash`](crate::SecretHasher::needs_rehash))
    /// by a fresh hash, through [`KeyStore::replace_hash`]. Off by default. Raising the
    /// parameters then upgrades every key the next time it is verified cold, at the cost of one
    /// more hash on that request.
    #[must_use]
    pub fn upgrade_hashes(mut self, upgrade: bool) -> Self {
        self.upgrade = upgrade;
        self
    }

    /// How stale a cached record may be (default one second): records are cached only when the
    /// store has a change feed, and trusted only while the feed is confirmed fresh within this
    /// bound; otherwise the store is read. [`Duration::ZERO`](StdDuration::ZERO) reads the store
    /// on every request.
    #[must_use]
    pub fn max_staleness(mut self, max: StdDuration) -> Self {
        self.max_staleness = max;
        self
    }

    /// The failure budget of one key id: after `failures` argon2 runs that did not match within
    /// `window`, that id's non-warm secrets are refused without argon2 (`503`,
    /// [`Overload::KeyCoolingDown`]) until the window passes; a warm secret still verifies.
    /// Default: 5 per minute. `failures = 0` turns the budget off.
    #[must_use]
    pub fn failure_budget(mut self, failures: u32, window: Duration) -> Self {
        self.max_failures = failures;
        self.failure_window = window;
        self
    }

    /// Build the verifier, subscribing its record cache to the store's change feed.
    ///
    /// # Errors
    /// When the operating system cannot provide the cache's random key.
    pub fn try_build(self) -> Result<Verifier<S>, RandomnessError> {
        let budget = match self.budget {
            Some(b) => b,
            None => HashBudget::new(HashParams::DEFAULT, BudgetSettings::default())
                .map_err(|_| RandomnessError)?,
        };
        let (feed, records) = match self.store.feed() {
            Some(feed) if !self.max_staleness.is_zero() && self.cache_capacity > 0 => {
                let records = Arc::new(RecordCache::new(self.cache_capacity));
                feed.subscribe(records.clone());
                (Some(feed.clone()), Some(records))
            }
            _ => (None, None),
        };
        Ok(Verifier {
            inner: Arc::new(Inner {
                store: self.store,
                format: self.format,
                budget,
                cache: Arc::new(WarmCache::new(self.cache_capacity)?),
                records,
                feed,
                max_staleness: self.max_staleness,
                fairness: Arc::new(Fairness::new(self.max_failures, self.failure_window)),
                clock: self.clock,
                expiring_window: self.expiring_window,
                touch_every: self.touch_every,
                upgrade: self.upgrade,
            }),
        })
    }

    /// Build the verifier.
    ///
    /// # Panics
    /// When the operating system's random number generator fails (see [`try_build`](Self::try_build)).
    pub fn build(self) -> Verifier<S> {
        self.try_build()
            .unwrap_or_else(|e| panic!("cannot build the key verifier: {e}"))
    }
}

struct Inner<S> {
    store: S,
    format: KeyFormat,
    budget: HashBudget,
    cache: Arc<WarmCache>,
    /// Cached records, when the store has a feed and `max_staleness > 0`.
    records: Option<Arc<RecordCache>>,
    feed: Option<ChangeFeed>,
    max_staleness: StdDuration,
    fairness: Arc<Fairness>,
    clock: Arc<dyn Clock>,
    expiring_window: Duration,
    touch_every: Duration,
    upgrade: bool,
}

/// Verifies presented keys against a [`KeyStore`] (see the [module docs](self)). Cheap to clone
/// (one `Arc`).
pub struct Verifier<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Verifier<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

/// Sizes and state of a [`Verifier`], for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifierStats {
    /// Keys whose verified secret's digest is remembered.
    pub warm_keys: usize,
    /// Records cached (0 without a change feed).
    pub cached_records: usize,
    /// Key ids remembered as unknown (0 without a change feed).
    pub unknown_ids: usize,
    /// Key ids with a cold verification in flight.
    pub cold_in_flight: usize,
    /// Key ids with argon2 failures in their current window.
    pub failing_ids: usize,
    /// How far behind now the change feed is confirmed (`None`: no feed, or not fresh at all).
    pub feed_lag: Option<StdDuration>,
}

/// What step 3 decided without argon2.
enum Decision {
    /// The answer (warm, or refused without argon2).
    Answer(Result<VerifiedKey, Refusal>),
    /// The secret must be checked cold; the record, handed back.
    Cold(Arc<Credential>),
}

/// Where step 2 found the record, without waiting.
enum Lookup {
    Found(Arc<Credential>),
    Unknown,
    AskStore,
}

impl<S: KeyStore> Verifier<S> {
    /// A verifier with default settings.
    ///
    /// # Panics
    /// When the operating system's random number generator fails.
    pub fn new(store: S, format: KeyFormat) -> Self {
        Self::builder(store, format).build()
    }

    /// Start configuring a verifier.
    pub fn builder(store: S, format: KeyFormat) -> VerifierBuilder<S> {
        VerifierBuilder {
            store,
            format,
            clock: Arc::new(SystemClock),
            expiring_window: Policy::default().expiring_window,
            cache_capacity: 100_000,
            touch_every: Duration::minutes(1),
            upgrade: false,
            budget: None,
            max_staleness: DEFAULT_MAX_STALENESS,
            max_failures: DEFAULT_MAX_FAILURES,
            failure_window: DEFAULT_FAILURE_WINDOW,
        }
    }

    /// The store it reads.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The key format it accepts.
    pub fn format(&self) -> &KeyFormat {
        &self.inner.format
    }

    /// The argon2 budget cold verifications run under.
    pub fn budget(&self) -> &HashBudget {
        &self.inner.budget
    }

    /// The current instant by its clock.
    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// How many keys the warm cache remembers now.
    pub fn cached_keys(&self) -> usize {
        self.inner.cache.len()
    }

    /// Whether it caches records under a store's change feed (see [`VerifierStats::feed_lag`]).
    pub fn has_change_feed(&self) -> bool {
        self.inner.feed.is_some()
    }

    /// Sizes and state, for metrics.
    pub fn stats(&self) -> VerifierStats {
        let (cached_records, unknown_ids) = self.inner.records.as_ref().map_or((0, 0), |r| r.len());
        let (cold_in_flight, failing_ids, _) = self.inner.fairness.sizes();
        VerifierStats {
            warm_keys: self.inner.cache.len(),
            cached_records,
            unknown_ids,
            cold_in_flight,
            failing_ids,
            feed_lag: self.inner.feed.as_ref().and_then(ChangeFeed::lag),
        }
    }

    /// The key id of a presented value, if it parses as a key of this format (for logs: an id
    /// is public; the secret never leaves the parser).
    pub fn key_id_of(&self, presented: &[u8]) -> Option<KeyId> {
        self.inner
            .format
            .parse_bytes(presented)
            .ok()
            .map(|k| k.key_id())
    }

    /// Run the pipeline as far as it goes without waiting (see the [module docs](self)).
    ///
    /// `presented` is the header value, `None` when the header is absent.
    pub fn check(&self, presented: Option<&[u8]>) -> Check<S> {
        let inner = &*self.inner;
        let key = match parse(&inner.format, presented) {
            Ok(key) => key,
            Err(refusal) => return Check::Done(Err(refusal)),
        };
        let key_id = key.key_id();
        match self.lookup_now(&key_id) {
            Lookup::Found(record) => {
                let digest = inner.cache.digest(&key_id, key.secret());
                let now = inner.clock.now();
                match self.decide(record, &digest, now) {
                    Decision::Answer(answer) => Check::Done(answer),
                    Decision::Cold(record) => {
                        Check::Pending(Pending::cold(self.clone(), key, record, digest, now))
                    }
                }
            }
            Lookup::Unknown => Check::Done(Err(Refusal::Invalid(InvalidKey::UnknownKeyId))),
            Lookup::AskStore => Check::Pending(Pending::store(self.clone(), key)),
        }
    }

    /// Verify a presented header value (`None` when the header is absent): [`check`](Self::check),
    /// then [`Pending::finish`] when needed.
    ///
    /// # Errors
    /// A [`Refusal`]: `Missing` (absent or empty), `Invalid` (malformed, other environment,
    /// unknown id, wrong secret), `Revoked` and `Expired` (only after the secret matched),
    /// `Overloaded` (argon2 budget exhausted, another secret of this key id being verified, or
    /// its failure budget spent) or `Unavailable` (the store cannot be read).
    pub async fn verify(&self, presented: Option<&[u8]>) -> Result<VerifiedKey, Refusal> {
        match self.check(presented) {
            Check::Done(answer) => answer,
            Check::Pending(pending) => pending.finish().await,
        }
    }

    /// [`verify`](Self::verify) for a key given as text.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub async fn verify_str(&self, key: &str) -> Result<VerifiedKey, Refusal> {
        self.verify(Some(key.as_bytes())).await
    }

    /// Step 2 without waiting.
    fn lookup_now(&self, key_id: &KeyId) -> Lookup {
        let inner = &*self.inner;
        if let (Some(records), Some(feed)) = (&inner.records, &inner.feed)
            && feed.is_fresh(inner.max_staleness)
        {
            match records.get(key_id) {
                Some(Cached::Record(c)) => return Lookup::Found(c),
                Some(Cached::Unknown) => return Lookup::Unknown,
                None => {}
            }
        }
        match inner.store.find_now(key_id) {
            Immediate::Found(c) => Lookup::Found(c),
            Immediate::NotFound => Lookup::Unknown,
            Immediate::Pending => Lookup::AskStore,
        }
    }

    /// Step 2 from the store; the answer is cached when the feed allows it.
    async fn read_store(&self, key_id: &KeyId) -> Result<Option<Arc<Credential>>, Refusal> {
        let inner = &*self.inner;
        // A record may be cached only if the feed was fresh before the read and published
        // nothing during it: a change committed meanwhile may or may not be in what was read.
        let cacheable = match (&inner.records, &inner.feed) {
            (Some(_), Some(feed)) => {
                let events = feed.events();
                feed.is_fresh(inner.max_staleness).then_some(events)
            }
            _ => None,
        };
        let found = inner
            .store
            .find(key_id)
            .await
            .map_err(Refusal::Unavailable)?;
        if let (Some(events), Some(records), Some(feed)) = (cacheable, &inner.records, &inner.feed)
            && feed.events() == events
        {
            records.put(*key_id, found.as_ref());
        }
        Ok(found)
    }

    /// Step 3 without argon2, then step 4: the answer, or the record back when the secret must
    /// be checked cold.
    fn decide(&self, record: Arc<Credential>, digest: &[u8; 32], now: OffsetDateTime) -> Decision {
        let inner = &*self.inner;
        let key_id = record.key_id;
        match inner
            .cache
            .check(&key_id, digest, now, inner.touch_every, true)
        {
            Warm::Match { touch_due } => {
                let answer = self.accept(record, now);
                if touch_due && answer.is_ok() {
                    inner.store.touch(&[(key_id, now)]);
                }
                Decision::Answer(answer)
            }
            Warm::Mismatch => Decision::Answer(Err(Refusal::Invalid(InvalidKey::WrongSecret))),
            Warm::Absent => match inner.fairness.cooling(&key_id, now) {
                Some(retry_after) => {
                    Decision::Answer(Err(Refusal::Overloaded(Overload::KeyCoolingDown {
                        retry_after,
                    })))
                }
                None => Decision::Cold(record),
            },
        }
    }

    /// Step 4, once the secret matched: the status at `now` decides.
    fn accept(&self, record: Arc<Credential>, now: OffsetDateTime) -> Result<VerifiedKey, Refusal> {
        match record.status_at(now, self.inner.expiring_window) {
            Status::Revoked => Err(Refusal::Revoked),
            Status::Expired => Err(Refusal::Expired),
            status => Ok(VerifiedKey::new(record, status)),
        }
    }
}

/// Step 1: missing, or parsed.
fn parse(format: &KeyFormat, presented: Option<&[u8]>) -> Result<PresentedKey, Refusal> {
    match presented {
        None | Some([]) => Err(Refusal::Missing),
        Some(raw) => format
            .parse_bytes(raw)
            .map_err(|e| Refusal::Invalid(InvalidKey::Malformed(e))),
    }
}

impl<S> fmt::Debug for Verifier<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("format", &self.inner.format)
            .field("cache", &self.inner.cache)
            .field("records", &self.inner.records)
            .field("max_staleness", &self.inner.max_staleness)
            .field("budget", &self.inner.budget)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
