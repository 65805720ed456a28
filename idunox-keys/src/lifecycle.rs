//! The lifecycle rules of `docs/lifecycle.md` — create, rotate, revoke — over any [`KeyStore`].
//!
//! ```
//! use std::sync::Arc;
//! use idunox_keys::{KeyFormat, KeyManager, ManageError, ManualClock, MemoryStore, Status, TenantId};
//! use idunox_keys::{HashParams, SecretHasher};
//! use idunox_keys::time::{Duration, macros::datetime};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let clock = ManualClock::new(datetime!(2026-01-01 0:00 UTC));
//! let keys = KeyManager::new(Arc::new(MemoryStore::new()), KeyFormat::new("idx", "test")?)
//!     .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST)?)
//!     .with_clock(clock.clone());
//! let tenant = TenantId::new("acme");
//!
//! let issued = keys.create(&tenant, Some("ci".into()), None).await?;
//! assert_eq!(keys.status(&issued.credential), Status::Active);
//!
//! // Rotate with a 24-hour overlap: the old key is in grace until then.
//! let rotated = keys.rotate(&tenant, &issued.credential.key_id, 24).await?;
//! assert_eq!(keys.status(&rotated.previous), Status::Grace);
//! assert!(matches!(keys.rotate(&tenant, &issued.credential.key_id, 24).await,
//!                  Err(ManageError::NotRotatable { status: Status::Grace })));
//! clock.advance(Duration::hours(24));
//! let old = keys.get(&tenant, &issued.credential.key_id).await?;
//! assert_eq!(keys.status(&old), Status::Expired);
//!
//! // Revoke is immediate and idempotent.
//! let revoked = keys.revoke(&tenant, &rotated.credential.key_id).await?;
//! assert_eq!(keys.status(&revoked), Status::Revoked);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use crate::budget::{BudgetSettings, HashBudget, Priority};
use crate::clock::{Clock, SystemClock};
use crate::credential::Credential;
use crate::error::{ManageError, StoreError};
use crate::hash::SecretHasher;
use crate::key::{ApiKey, KeyFormat, KeyId};
use crate::restrictions::{self, IpNet};
use crate::status::Status;
use crate::store::{KeyStore, LiveLimit, Patch, Rotation};
use crate::tenant::TenantId;

/// The longest validity a key may be created with, in days.
pub const MAX_VALIDITY_DAYS: u32 = 365;
/// The longest name a key may carry, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// How often a fresh key id is drawn when the drawn one is taken before giving up.
const MAX_ID_DRAWS: usize = 8;

/// The configurable rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Validity of a new key when none is asked for (1..=365, default 365).
    pub default_validity_days: u32,
    /// The rotation overlaps allowed, in hours (default `[24, 48, 72]`).
    pub grace_hours: Vec<u32>,
    /// How long before `expires_at` a key reads `expiring` (default 30 days).
    pub expiring_window: Duration,
    /// The most live keys (active, expiring, grace) one tenant may hold; creating more is
    /// refused ([`ManageError::KeyLimitReached`]), rotating stays allowed. Default: none.
    pub max_live_keys: Option<usize>,
    /// The scope catalogue: the names a restricted key may carry (default empty: only
    /// unrestricted keys).
    pub scopes: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            default_validity_days: MAX_VALIDITY_DAYS,
            grace_hours: vec![24, 48, 72],
            expiring_window: Duration::days(30),
            max_live_keys: None,
            scopes: Vec::new(),
        }
    }
}

/// What a new key should be: everything optional (see [`KeyManager::create_with`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewKey {
    /// A name, at most [`MAX_NAME_CHARS`] characters, no control characters.
    pub name: Option<String>,
    /// Validity in days, `1..=365` (default: the policy's).
    pub validity_days: Option<i64>,
    /// Scopes from the policy's catalogue, or `None` for an unrestricted key.
    pub scopes: Option<Vec<String>>,
    /// Allow-list entries (CIDRs or bare addresses, 1 to 50), or `None` for any address.
    pub allowed_ips: Option<Vec<String>>,
}

/// How to rotate (see [`KeyManager::rotate_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotateOptions {
    /// The overlap, one of the policy's `grace_hours`.
    pub grace_hours: i64,
    /// The successor's validity in days, `1..=365` (default: the policy's).
    pub validity_days: Option<i64>,
}

/// The changes of a PATCH as asked for (see [`KeyManager::update`]): each `Some` replaces that
/// field, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyChanges {
    /// A new name, or `Some(None)` to remove it.
    pub name: Option<Option<String>>,
    /// New scopes from the catalogue, or `Some(None)` for unrestricted.
    pub scopes: Option<Option<Vec<String>>>,
    /// New allow-list entries, or `Some(None)` for any address.
    pub allowed_ips: Option<Option<Vec<String>>>,
}

/// A freshly created key: its record and the plaintext, to be shown once.
#[derive(Debug)]
pub struct Issued {
    /// The stored record.
    pub credential: Credential,
    /// The plaintext key. Show it once.
    pub api_key: ApiKey,
}

/// The outcome of a rotation.
#[derive(Debug)]
pub struct Rotated {
    /// The successor's record.
    pub credential: Credential,
    /// The successor's plaintext. Show it once.
    pub api_key: ApiKey,
    /// The predecessor as it now stands (in grace until `grace_expires_at`).
    pub previous: Credential,
}

/// Creates, rotates, changes, revokes and lists keys in a [`KeyStore`], enforcing the
/// lifecycle rules. Cheap to clone when `S` is, and cheap to re-target at another store
/// ([`with_store`](Self::with_store)) — the settings are shared.
pub struct KeyManager<S> {
    store: S,
    format: KeyFormat,
    budget: HashBudget,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
    /// Key ids being rotated by this process: a second concurrent rotation of one key is
    /// refused before it hashes anything (shared by every manager made with `with_store`).
    rotating: Arc<Mutex<HashSet<KeyId>>>,
}

impl<S: Clone> Clone for KeyManager<S> {
    fn clone(&self) -> Self {
        self.with_store(self.store.clone())
    }
}

impl<S> KeyManager<S> {
    /// The same manager (format, budget, policy, clock, rotations in progress) over another
    /// store, e.g. a per-request wrapper that writes an audit entry in each transaction.
    pub fn with_store<T>(&self, store: T) -> KeyManager<T> {
        KeyManager {
            store,
            format: self.format.clone(),
            budget: self.budget.clone(),
            policy: Arc::clone(&self.policy),
            clock: Arc::clone(&self.clock),
            rotating: Arc::clone(&self.rotating),
        }
    }
}

impl<S: KeyStore> KeyManager<S> {
    /// A manager with default argon2 parameters and budget, the default [`Policy`] and the
    /// system clock.
    ///
    /// # Panics
    /// When the operating system's random number generator fails (the budget's dummy hash).
    pub fn new(store: S, format: KeyFormat) -> Self {
        Self {
            store,
            format,
            budget: HashBudget::new(SecretHasher::default().params(), BudgetSettings::default())
                .unwrap_or_else(|e| panic!("cannot build the argon2 budget: {e}")),
            policy: Arc::new(Policy::default()),
            clock: Arc::new(SystemClock),
            rotating: Arc::default(),
        }
    }

    /// Hash new keys with this hasher's parameters, under a budget of default size of its own.
    /// A server shares one budget between everything that runs argon2: use
    /// [`with_budget`](Self::with_budget).
    ///
    /// # Panics
    /// When the operating system's random number generator fails (the budget's dummy hash).
    #[must_use]
    pub fn with_hasher(self, hasher: SecretHasher) -> Self {
        let budget = HashBudget::new(hasher.params(), BudgetSettings::default())
            .unwrap_or_else(|e| panic!("cannot build the argon2 budget: {e}"));
        self.with_budget(budget)
    }

    /// Hash new keys under this budget (and at its parameters).
    #[must_use]
    pub fn with_budget(mut self, budget: HashBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Use this policy.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// Read time from this clock.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The key format.
    pub fn format(&self) -> &KeyFormat {
        &self.format
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The argon2 budget new keys are hashed under.
    pub fn budget(&self) -> &HashBudget {
        &self.budget
    }

    /// The current instant by this manager's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The status of `credential` now.
    pub fn status(&self, credential: &Credential) -> Status {
        credential.status_at(self.now(), self.policy.expiring_window)
    }

    /// Check a name: at most [`MAX_NAME_CHARS`] characters, no control characters.
    ///
    /// # Errors
    /// [`ManageError::NameTooLong`] or [`ManageError::InvalidName`].
    pub fn check_name(name: &str) -> Result<(), ManageError> {
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(ManageError::NameTooLong {
                max: MAX_NAME_CHARS,
            });
        }
        if name.chars().any(char::is_control) {
            return Err(ManageError::InvalidName);
        }
        Ok(())
    }

    /// Create an unrestricted key for `tenant`, valid for `validity_days` (default from the
    /// policy): [`create_with`](Self::create_with) with only a name and a validity.
    ///
    /// # Errors
    /// As [`create_with`](Self::create_with).
    pub async fn create(
        &self,
        tenant: &TenantId,
        name: Option<String>,
        validity_days: Option<i64>,
    ) -> Result<Issued, ManageError> {
        let new = NewKey {
            name,
            validity_days,
            ..NewKey::default()
        };
        self.create_with(tenant, new).await
    }

    /// Create a key for `tenant`. Everything is checked before anything is hashed: validity,
    /// name, scopes (against the policy's catalogue), allow-list, and the tenant's live-key limit
    /// (checked again atomically with the insert).
    ///
    /// # Errors
    /// [`ManageError::InvalidValidity`], [`ManageError::NameTooLong`], [`ManageError::InvalidName`],
    /// [`ManageError::InvalidScope`], [`ManageError::InvalidCidr`],
    /// [`ManageError::KeyLimitReached`], [`ManageError::Busy`] (argon2 budget), or a store,
    /// hashing or randomness failure.
    pub async fn create_with(&self, tenant: &TenantId, new: NewKey) -> Result<Issued, ManageError> {
        let days = self.validity(new.validity_days)?;
        if let Some(n) = &new.name {
            Self::check_name(n)?;
        }
        let scopes = self.check_scopes(new.scopes.as_deref())?;
        let allowed_ips = Self::check_ips(new.allowed_ips.as_deref())?;
        let limit = self.policy.max_live_keys;
        if let Some(max) = limit
            && self.store.count_live(tenant, self.now()).await? >= max
        {
            return Err(ManageError::KeyLimitReached { max });
        }
        let (api_key, secret_hash) = self.mint().await?;
        let mut api_key = api_key;
        for _ in 0..MAX_ID_DRAWS {
            let now = self.now();
            let credential = Credential {
                scopes: scopes.clone(),
                allowed_ips: allowed_ips.clone(),
                ..self.record(
                    &api_key,
                    secret_hash.clone(),
                    tenant,
                    new.name.clone(),
                    now,
                    days,
                    None,
                )
            };
            let limit = limit.map(|max| LiveLimit { max, now });
            match self.store.insert(credential.clone(), limit).await {
                Ok(()) => {
                    return Ok(Issued {
                        credential,
                        api_key,
                    });
                }
                // The secret's hash does not depend on the key id: draw another id, keep it.
                Err(StoreError::KeyIdTaken) => api_key = self.redraw(&api_key)?,
                Err(StoreError::LimitReached) => {
                    return Err(ManageError::KeyLimitReached {
                        max: limit.map_or(0, |l| l.max),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::KeyIdTaken.into())
    }

    /// Rotate `key_id` with a `grace_hours` overlap; the successor gets the policy's default
    /// validity: [`rotate_with`](Self::rotate_with).
    ///
    /// # Errors
    /// As [`rotate_with`](Self::rotate_with).
    pub async fn rotate(
        &self,
        tenant: &TenantId,
        key_id: &KeyId,
        grace_hours: i64,
    ) -> Result<Rotated, ManageError> {
        let options = RotateOptions {
            grace_hours,
            validity_days: None,
        };
        self.rotate_with(tenant, key_id, options).await
    }

    /// Rotate `key_id`: the successor gets `validity_days` (default from the policy) and the old
    /// key's name, scopes and allow-list; the old key stays accepted for `grace_hours` (capped at
    /// its own expiry). The key must be rotatable *before* anything is hashed, and a second
    /// concurrent rotation of the same key in this process is refused at once
    /// ([`ManageError::RotationInProgress`]); across processes the store's conditional update
    /// lets exactly one win.
    ///
    /// # Errors
    /// [`ManageError::InvalidGraceHours`] (not a configured overlap),
    /// [`ManageError::InvalidValidity`], [`ManageError::NotFound`],
    /// [`ManageError::NotRotatable`] (grace, revoked or expired — also when a concurrent rotation
    /// or revoke won), [`ManageError::RotationInProgress`], [`ManageError::Busy`], or a store,
    /// hashing or randomness failure.
    pub async fn rotate_with(
        &self,
        tenant: &TenantId,
        key_id: &KeyId,
        options: RotateOptions,
    ) -> Result<Rotated, ManageError> {
        let grace_hours = options.grace_hours;
        if !self
            .policy
            .grace_hours
            .iter()
            .any(|&h| i64::from(h) == grace_hours)
        {
            return Err(ManageError::InvalidGraceHours { hours: grace_hours });
        }
        let days = self.validity(options.validity_days)?;
        let _claim = RotationClaim::take(&self.rotating, *key_id)?;
        let old = self.get(tenant, key_id).await?;
        let status = old.status_at(self.now(), self.policy.expiring_window);
        if !status.is_rotatable() {
            return Err(ManageError::NotRotatable { status });
        }
        let (mut api_key, secret_hash) = self.mint().await?;
        for _ in 0..MAX_ID_DRAWS {
            let now = self.now();
            let grace_expires_at = (now + Duration::hours(grace_hours)).min(old.expires_at);
            let credential = Credential {
                scopes: old.scopes.clone(),
                allowed_ips: old.allowed_ips.clone(),
                ..self.record(
                    &api_key,
                    secret_hash.clone(),
                    tenant,
                    old.name.clone(),
                    now,
                    days,
                    Some(old.key_id),
                )
            };
            let rotation = Rotation {
                tenant_id: tenant.clone(),
                predecessor: old.key_id,
                grace_expires_at,
                now,
                successor: credential.clone(),
            };
            match self.store.rotate(rotation).await {
                Ok(()) => {
                    let previous = Credential {
                        replaced_by: Some(credential.key_id),
                        grace_expires_at: Some(grace_expires_at),
                        ..Credential::clone(&old)
                    };
                    return Ok(Rotated {
                        credential,
                        api_key,
                        previous,
                    });
                }
                Err(StoreError::KeyIdTaken) => api_key = self.redraw(&api_key)?,
                Err(StoreError::Conflict) => {
                    let now_status = self.status(&*self.get(tenant, key_id).await?);
                    return Err(ManageError::NotRotatable { status: now_status });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::KeyIdTaken.into())
    }

    /// Change a live key's name, scopes or allow-list (checked like [`create_with`](Self::create_with)'s).
    ///
    /// # Errors
    /// [`ManageError::NameTooLong`], [`ManageError::InvalidName`], [`ManageError::InvalidScope`],
    /// [`ManageError::InvalidCidr`], [`ManageError::NotFound`], [`ManageError::NotPatchable`]
    /// (revoked or expired), or a store failure.
    pub async fn update(
        &self,
        tenant: &TenantId,
        key_id: &KeyId,
        changes: KeyChanges,
    ) -> Result<Arc<Credential>, ManageError> {
        if let Some(Some(n)) = &changes.name {
            Self::check_name(n)?;
        }
        let scopes = match &changes.scopes {
            Some(s) => Some(self.check_scopes(s.as_deref())?),
            None => None,
        };
        let allowed_ips = match &changes.allowed_ips {
            Some(ips) => Some(Self::check_ips(ips.as_deref())?),
            None => None,
        };
        let patch = Patch {
            name: changes.name,
            scopes,
            allowed_ips,
        };
        let now = self.now();
        match self.store.update(tenant, key_id, &patch, now).await {
            Err(StoreError::Conflict) => {
                let status = self.status(&*self.get(tenant, key_id).await?);
                Err(ManageError::NotPatchable { status })
            }
            other => Ok(other?),
        }
    }

    /// Revoke every key of `tenant` that still verifies (active, expiring, grace), at once; the
    /// ids revoked (none on a second call).
    ///
    /// # Errors
    /// A store failure.
    pub async fn revoke_all(&self, tenant: &TenantId) -> Result<Vec<KeyId>, ManageError> {
        Ok(self.store.revoke_all(tenant, self.now()).await?)
    }

    /// Revoke `key_id` now. Idempotent: revoking again returns the first `revoked_at`.
    ///
    /// # Errors
    /// [`ManageError::NotFound`] or a store failure.
    pub async fn revoke(
        &self,
        tenant: &TenantId,
        key_id: &KeyId,
    ) -> Result<Arc<Credential>, ManageError> {
        Ok(self.store.revoke(tenant, key_id, self.now()).await?)
    }

    /// This tenant's keys, newest first.
    ///
    /// # Errors
    /// A store failure.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<Arc<Credential>>, ManageError> {
        Ok(self.store.list(tenant).await?)
    }

    /// One of this tenant's keys. Another tenant's key is [`ManageError::NotFound`], exactly like
    /// an unknown id.
    ///
    /// # Errors
    /// [`ManageError::NotFound`] or a store failure.
    pub async fn get(
        &self,
        tenant: &TenantId,
        key_id: &KeyId,
    ) -> Result<Arc<Credential>, ManageError> {
        match self.store.find(key_id).await? {
            Some(c) if &c.tenant_id == tenant => Ok(c),
            _ => Err(ManageError::NotFound),
        }
    }

    /// `1..=365` days, or the policy's default.
    fn validity(&self, days: Option<i64>) -> Result<Duration, ManageError> {
        let days = days.unwrap_or(i64::from(self.policy.default_validity_days));
        if !(1..=i64::from(MAX_VALIDITY_DAYS)).contains(&days) {
            return Err(ManageError::InvalidValidity {
                days,
                max: MAX_VALIDITY_DAYS,
            });
        }
        Ok(Duration::days(days))
    }

    fn check_scopes(&self, scopes: Option<&[String]>) -> Result<Option<Vec<String>>, ManageError> {
        scopes
            .map(|s| restrictions::check_scopes(s, &self.policy.scopes))
            .transpose()
    }

    fn check_ips(entries: Option<&[String]>) -> Result<Option<Vec<IpNet>>, ManageError> {
        entries
            .map(|e| restrictions::parse_allow_list(e.iter().map(String::as_str)))
            .transpose()
    }

    /// Draw a key and hash its secret under the budget.
    async fn mint(&self) -> Result<(ApiKey, String), ManageError> {
        let api_key = self.format.generate()?;
        let secret_hash = self
            .budget
            .hash(Priority::Normal, api_key.secret_bytes())
            .await?;
        Ok((api_key, secret_hash))
    }

    /// The same secret under a freshly drawn key id (after an id collision).
    fn redraw(&self, key: &ApiKey) -> Result<ApiKey, ManageError> {
        Ok(self.format.with_new_id(key)?)
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        api_key: &ApiKey,
        secret_hash: String,
        tenant: &TenantId,
        name: Option<String>,
        now: OffsetDateTime,
        validity: Duration,
        replaces: Option<KeyId>,
    ) -> Credential {
        Credential {
            key_id: api_key.key_id(),
            tenant_id: tenant.clone(),
            name,
            masked_key: api_key.masked().to_owned(),
            secret_hash,
            created_at: now,
            expires_at: now + validity,
            grace_expires_at: None,
            revoked_at: None,
            replaced_by: None,
            replaces,
            last_used_at: None,
            scopes: None,
            allowed_ips: None,
        }
    }
}

/// This process's claim on rotating one key id; released when dropped.
struct RotationClaim {
    set: Arc<Mutex<HashSet<KeyId>>>,
    key_id: KeyId,
}

impl RotationClaim {
    fn take(set: &Arc<Mutex<HashSet<KeyId>>>, key_id: KeyId) -> Result<Self, ManageError> {
        let mut ids = set.lock().unwrap_or_else(PoisonError::into_inner);
        if !ids.insert(key_id) {
            return Err(ManageError::RotationInProgress);
        }
        Ok(Self {
            set: Arc::clone(set),
            key_id,
        })
    }
}

impl Drop for RotationClaim {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key_id);
    }
}

impl<S> fmt::Debug for KeyManager<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyManager")
            .field("format", &self.format)
            .field("budget", &self.budget)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
