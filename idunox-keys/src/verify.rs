//! The verification path of `docs/verification.md`, top to bottom:
//! parse → checksum → environment → store lookup by key id → secret check → status at `now`.
//!
//! Each step refuses cheaply before the next, more expensive one. The secret check is warm when
//! the [cache](crate::cache) remembers this key (one HMAC and one constant-time comparison) and
//! cold otherwise (argon2id on the blocking pool, at most `cold_limit` at once; past that the
//! caller is told [`Refusal::Overloaded`] instead of queueing). An unknown key id is refused
//! without argon2 work. The status is always read fresh from the store, so a revoke takes effect
//! on the very next request.
//!
//! ```
//! use std::sync::Arc;
//! use idunox_keys::{KeyFormat, KeyManager, MemoryStore, Refusal, TenantId, Verifier};
//! use idunox_keys::{HashParams, SecretHasher};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let format = KeyFormat::new("idx", "test")?;
//! let keys = KeyManager::new(store.clone(), format.clone())
//!     .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST)?);
//! let verifier = Verifier::new(store, format);
//!
//! let issued = keys.create(&TenantId::new("acme"), None, None).await?;
//! let key = issued.api_key.expose_secret();
//! let cold = verifier.verify(Some(key.as_bytes())).await?;      // argon2
//! let warm = verifier.verify(Some(key.as_bytes())).await?;      // cache
//! assert_eq!(cold.tenant_id, warm.tenant_id);
//! assert!(matches!(verifier.verify(None).await, Err(Refusal::Missing)));
//!
//! keys.revoke(&TenantId::new("acme"), &issued.credential.key_id).await?;
//! assert_eq!(verifier.verify(Some(key.as_bytes())).await.unwrap_err().code(), "api_key_revoked");
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::blocking::{ColdLimiter, default_cold_limit};
use crate::budget::{BudgetSettings, HashBudget, Priority};
use crate::cache::{Warm, WarmCache};
use crate::clock::{Clock, SystemClock};
use crate::credential::Credential;
use crate::error::{BudgetError, InvalidKey, Overload, RandomnessError, Refusal};
use crate::hash::HashParams;
use crate::key::{KeyFormat, KeyId, PresentedKey};
use crate::lifecycle::Policy;
use crate::restrictions::IpNet;
use crate::status::Status;
use crate::store::{Immediate, KeyStore};
use crate::tenant::TenantId;

/// A key that passed verification: who it belongs to and where it stands.
///
/// Cheap to clone: the masked key and name are read from the shared record
/// ([`masked_key`](Self::masked_key), [`name`](Self::name)), not copied per request.
/// Two are equal when every fact they expose is.
#[derive(Clone)]
#[non_exhaustive]
pub struct VerifiedKey {
    /// The owning tenant.
    pub tenant_id: TenantId,
    /// The key id (also the credential id).
    pub key_id: KeyId,
    /// `active`, `expiring` or `grace`.
    pub status: Status,
    /// When the key stops being accepted.
    pub expires_at: OffsetDateTime,
    /// End of the rotation overlap, for a key in grace.
    pub grace_expires_at: Option<OffsetDateTime>,
    record: Arc<Credential>,
}

impl VerifiedKey {
    /// `idx_test_<key_id>_••••`.
    pub fn masked_key(&self) -> &str {
        &self.record.masked_key
    }

    /// The key's name, if any.
    pub fn name(&self) -> Option<&str> {
        self.record.name.as_deref()
    }

    /// The scopes the key carries, or `None` for an unrestricted key.
    pub fn scopes(&self) -> Option<&[String]> {
        self.record.scopes.as_deref()
    }

    /// The networks the key may be used from, or `None` for any address.
    pub fn allowed_ips(&self) -> Option<&[IpNet]> {
        self.record.allowed_ips.as_deref()
    }

    /// Whether the key carries `scope` (an unrestricted key carries every scope).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.record.has_scope(scope)
    }

    /// Whether the key may be used from `addr` (no allow-list, or inside it).
    pub fn allows_ip(&self, addr: IpAddr) -> bool {
        self.record.allows_ip(addr)
    }

    /// [`Refusal::IpNotAllowed`] unless the key may be used from `addr`.
    ///
    /// # Errors
    /// [`Refusal::IpNotAllowed`].
    pub fn check_ip(&self, addr: IpAddr) -> Result<(), Refusal> {
        if self.allows_ip(addr) {
            Ok(())
        } else {
            Err(Refusal::IpNotAllowed)
        }
    }

    /// [`Refusal::InsufficientScope`] unless the key carries `scope`.
    ///
    /// # Errors
    /// [`Refusal::InsufficientScope`] naming `scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), Refusal> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(Refusal::InsufficientScope {
                scope: scope.to_owned(),
            })
        }
    }
}

impl PartialEq for VerifiedKey {
    fn eq(&self, other: &Self) -> bool {
        self.tenant_id == other.tenant_id
            && self.key_id == other.key_id
            && self.status == other.status
            && self.expires_at == other.expires_at
            && self.grace_expires_at == other.grace_expires_at
            && self.masked_key() == other.masked_key()
            && self.name() == other.name()
            && self.scopes() == other.scopes()
            && self.allowed_ips() == other.allowed_ips()
    }
}

impl Eq for VerifiedKey {}

impl fmt::Debug for VerifiedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedKey")
            .field("tenant_id", &self.tenant_id)
            .field("key_id", &self.key_id)
            .field("status", &self.status)
            .field("expires_at", &self.expires_at)
            .field("grace_expires_at", &self.grace_expires_at)
            .field("masked_key", &self.masked_key())
            .field("name", &self.name())
            .field("scopes", &self.scopes())
            .field("allowed_ips", &self.allowed_ips())
            .finish()
    }
}

/// Settings for a [`Verifier`]; start from [`Verifier::builder`].
pub struct VerifierBuilder<S> {
    store: S,
    format: KeyFormat,
    clock: Arc<dyn Clock>,
    expiring_window: Duration,
    cache_capacity: usize,
    cold_limit: usize,
    touch_every: Duration,
    upgrade: bool,
    budget: Option<HashBudget>,
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

    /// How many keys the warm cache remembers (default 100 000; 0 disables it).
    #[must_use]
    pub fn cache_capacity(mut self, entries: usize) -> Self {
        self.cache_capacity = entries;
        self
    }

    /// How many cold (argon2) verifications may run at once (default 8 per core).
    #[must_use]
    pub fn cold_limit(mut self, max: usize) -> Self {
        self.cold_limit = max;
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

    /// Build the verifier.
    ///
    /// # Errors
    /// When the operating system cannot provide the cache's random key.
    pub fn try_build(self) -> Result<Verifier<S>, RandomnessError> {
        let budget = match self.budget {
            Some(b) => b,
            None => HashBudget::new(HashParams::DEFAULT, BudgetSettings::default())
                .map_err(|_| RandomnessError)?,
        };
        Ok(Verifier {
            inner: Arc::new(Inner {
                store: self.store,
                format: self.format,
                budget,
                cache: WarmCache::new(self.cache_capacity)?,
                cold: ColdLimiter::new(self.cold_limit),
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
    cache: WarmCache,
    cold: ColdLimiter,
    clock: Arc<dyn Clock>,
    expiring_window: Duration,
    touch_every: Duration,
    upgrade: bool,
}

/// Verifies presented keys against a [`KeyStore`]. Cheap to clone (one `Arc`).
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
            cold_limit: default_cold_limit(),
            touch_every: Duration::minutes(1),
            upgrade: false,
            budget: None,
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

    /// The current instant by its clock.
    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// How many keys the warm cache remembers now.
    pub fn cached_keys(&self) -> usize {
        self.inner.cache.len()
    }

    /// How many cold verifications may run at once.
    pub fn cold_limit(&self) -> usize {
        self.inner.cold.max()
    }

    /// Verify a presented header value (`None` when the header is absent).
    ///
    /// # Errors
    /// A [`Refusal`]: `Missing` (absent or empty), `Invalid` (malformed, other environment,
    /// unknown id, wrong secret), `Revoked` and `Expired` (only after the secret matched),
    /// `Overloaded` (cold verification limit reached) or `Unavailable` (store failure).
    pub async fn verify(&self, presented: Option<&[u8]>) -> Result<VerifiedKey, Refusal> {
        if let Some(answer) = self.verify_now(presented) {
            return answer;
        }
        let inner = &*self.inner;
        let key = Self::parse(inner, presented)?;
        let key_id = key.key_id();
        let credential = inner
            .store
            .find(&key_id)
            .await
            .map_err(Refusal::Unavailable)?
            .ok_or(Refusal::Invalid(InvalidKey::UnknownKeyId))?;
        let now = inner.clock.now();
        let touch_due = match inner
            .cache
            .check(&key_id, key.secret(), now, inner.touch_every, true)
        {
            Warm::Match { touch_due } => touch_due,
            Warm::Mismatch => return Err(Refusal::Invalid(InvalidKey::WrongSecret)),
            Warm::Absent => {
                let _permit = inner
                    .cold
                    .try_acquire()
                    .ok_or(Refusal::Overloaded(Overload::Budget { retry_after: 1 }))?;
                let priority = if credential.last_used_at.is_some() {
                    Priority::Known
                } else {
                    Priority::Normal
                };
                let matched = inner
                    .budget
                    .verify(priority, key.secret(), &credential.secret_hash)
                    .await;
                match matched {
                    Ok(true) => {}
                    Ok(false) | Err(BudgetError::Hash(_)) => {
                        return Err(Refusal::Invalid(InvalidKey::WrongSecret));
                    }
                    Err(BudgetError::Busy { retry_after }) => {
                        return Err(Refusal::Overloaded(Overload::Budget { retry_after }));
                    }
                }
                // The secret is at hand only now: an outdated hash is replaced here or not
                // until the next cold verification. Best effort, like the last-used write.
                if inner.upgrade
                    && inner.budget.hasher().needs_rehash(&credential.secret_hash)
                    && let Ok(new_hash) = inner.budget.hash(priority, key.secret()).await
                {
                    let _ = inner
                        .store
                        .replace_hash(&key_id, &credential.secret_hash, new_hash)
                        .await;
                }
                inner.cache.remember(&key_id, key.secret(), now);
                true
            }
        };
        let verified = Self::accept(inner, credential, now)?;
        if touch_due {
            inner.store.touch(&[(key_id, now)]);
        }
        Ok(verified)
    }

    /// The synchronous warm path: the same pipeline as [`verify`](Self::verify), answered
    /// without a future when that needs no waiting — missing or malformed input, or a store that
    /// answers at once ([`KeyStore::find_now`], e.g. [`MemoryStore`](crate::MemoryStore)) with an
    /// unknown id, a warm cache hit or a warm mismatch. `None` means "call `verify`": the store
    /// must be asked asynchronously, the secret needs argon2, or a last-used write is due.
    ///
    /// # Errors
    /// The inner `Result` is as [`verify`](Self::verify)'s.
    pub fn verify_now(&self, presented: Option<&[u8]>) -> Option<Result<VerifiedKey, Refusal>> {
        let inner = &*self.inner;
        let key = match Self::parse(inner, presented) {
            Ok(key) => key,
            Err(refusal) => return Some(Err(refusal)),
        };
        let key_id = key.key_id();
        let credential = match inner.store.find_now(&key_id) {
            Immediate::Found(c) => c,
            Immediate::NotFound => return Some(Err(Refusal::Invalid(InvalidKey::UnknownKeyId))),
            Immediate::Pending => return None,
        };
        let now = inner.clock.now();
        match inner
            .cache
            .check(&key_id, key.secret(), now, inner.touch_every, false)
        {
            Warm::Match { touch_due: false } => Some(Self::accept(inner, credential, now)),
            Warm::Mismatch => Some(Err(Refusal::Invalid(InvalidKey::WrongSecret))),
            Warm::Match { touch_due: true } | Warm::Absent => None,
        }
    }

    /// Missing, or parsed.
    fn parse(inner: &Inner<S>, presented: Option<&[u8]>) -> Result<PresentedKey, Refusal> {
        match presented {
            None | Some([]) => Err(Refusal::Missing),
            Some(raw) => inner
                .format
                .parse_bytes(raw)
                .map_err(|e| Refusal::Invalid(InvalidKey::Malformed(e))),
        }
    }

    /// The last step, once the secret matched: the status at `now` decides.
    fn accept(
        inner: &Inner<S>,
        credential: Arc<Credential>,
        now: OffsetDateTime,
    ) -> Result<VerifiedKey, Refusal> {
        let status = credential.status_at(now, inner.expiring_window);
        match status {
            Status::Revoked => Err(Refusal::Revoked),
            Status::Expired => Err(Refusal::Expired),
            Status::Active | Status::Expiring | Status::Grace => Ok(VerifiedKey {
                tenant_id: credential.tenant_id.clone(),
                key_id: credential.key_id,
                status,
                expires_at: credential.expires_at,
                grace_expires_at: credential.grace_expires_at,
                record: credential,
            }),
        }
    }

    /// [`verify`](Self::verify) for a key given as text.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub async fn verify_str(&self, key: &str) -> Result<VerifiedKey, Refusal> {
        self.verify(Some(key.as_bytes())).await
    }
}

impl<S> fmt::Debug for Verifier<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("format", &self.inner.format)
            .field("cache", &self.inner.cache)
            .field("cold_limit", &self.inner.cold.max())
            .finish_non_exhaustive()
    }
}
