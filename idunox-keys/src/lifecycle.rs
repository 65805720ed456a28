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
use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::blocking::run_blocking;
use crate::clock::{Clock, SystemClock};
use crate::credential::Credential;
use crate::error::{HashError, ManageError, StoreError};
use crate::hash::SecretHasher;
use crate::key::{ApiKey, KeyFormat, KeyId, SECRET_LEN};
use crate::status::Status;
use crate::store::{KeyStore, Rotation};
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
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            default_validity_days: MAX_VALIDITY_DAYS,
            grace_hours: vec![24, 48, 72],
            expiring_window: Duration::days(30),
        }
    }
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

/// Creates, rotates, revokes and lists keys in a [`KeyStore`], enforcing the lifecycle rules.
pub struct KeyManager<S> {
    store: S,
    format: KeyFormat,
    hasher: SecretHasher,
    policy: Policy,
    clock: Arc<dyn Clock>,
}

impl<S: KeyStore> KeyManager<S> {
    /// A manager with default argon2 parameters, the default [`Policy`] and the system clock.
    pub fn new(store: S, format: KeyFormat) -> Self {
        Self {
            store,
            format,
            hasher: SecretHasher::default(),
            policy: Policy::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Use this hasher for new keys.
    #[must_use]
    pub fn with_hasher(mut self, hasher: SecretHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// Use this policy.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
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

    /// Create a key for `tenant`, valid for `validity_days` (default from the policy).
    ///
    /// # Errors
    /// [`ManageError::InvalidValidity`], [`ManageError::NameTooLong`], [`ManageError::InvalidName`],
    /// or a store, hashing or randomness failure.
    pub async fn create(
        &self,
        tenant: &TenantId,
        name: Option<String>,
        validity_days: Option<i64>,
    ) -> Result<Issued, ManageError> {
        let days = validity_days.unwrap_or(i64::from(self.policy.default_validity_days));
        if !(1..=i64::from(MAX_VALIDITY_DAYS)).contains(&days) {
            return Err(ManageError::InvalidValidity {
                days,
                max: MAX_VALIDITY_DAYS,
            });
        }
        if let Some(n) = &name {
            Self::check_name(n)?;
        }
        for _ in 0..MAX_ID_DRAWS {
            let now = self.now();
            let (api_key, credential) = self
                .mint(tenant, name.clone(), now, Duration::days(days), None)
                .await?;
            match self.store.insert(credential.clone()).await {
                Ok(()) => {
                    return Ok(Issued {
                        credential,
                        api_key,
                    });
                }
                Err(StoreError::KeyIdTaken) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::KeyIdTaken.into())
    }

    /// Rotate `key_id`: the successor gets a fresh default validity and the old name; the old
    /// key stays accepted for `grace_hours` (capped at its own expiry).
    ///
    /// # Errors
    /// [`ManageError::InvalidGraceHours`] (not a configured overlap), [`ManageError::NotFound`],
    /// [`ManageError::NotRotatable`] (grace, revoked or expired — also when a concurrent rotation
    /// or revoke won), or a store, hashing or randomness failure.
    pub async fn rotate(
        &self,
        tenant: &TenantId,
        key_id: &KeyId,
        grace_hours: i64,
    ) -> Result<Rotated, ManageError> {
        if !self
            .policy
            .grace_hours
            .iter()
            .any(|&h| i64::from(h) == grace_hours)
        {
            return Err(ManageError::InvalidGraceHours { hours: grace_hours });
        }
        for _ in 0..MAX_ID_DRAWS {
            let old = self.get(tenant, key_id).await?;
            let now = self.now();
            let status = old.status_at(now, self.policy.expiring_window);
            if !status.is_rotatable() {
                return Err(ManageError::NotRotatable { status });
            }
            let grace_expires_at = (now + Duration::hours(grace_hours)).min(old.expires_at);
            let validity = Duration::days(i64::from(self.policy.default_validity_days));
            let (api_key, credential) = self
                .mint(tenant, old.name.clone(), now, validity, Some(old.key_id))
                .await?;
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
                        ..old
                    };
                    return Ok(Rotated {
                        credential,
                        api_key,
                        previous,
                    });
                }
                Err(StoreError::KeyIdTaken) => continue,
                Err(StoreError::Conflict) => {
                    let now_status = self.status(&self.get(tenant, key_id).await?);
                    return Err(ManageError::NotRotatable { status: now_status });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::KeyIdTaken.into())
    }

    /// Revoke `key_id` now. Idempotent: revoking again returns the first `revoked_at`.
    ///
    /// # Errors
    /// [`ManageError::NotFound`] or a store failure.
    pub async fn revoke(
        &self,
        tenant: &TenantId,
        key_id: &KeyId,
    ) -> Result<Credential, ManageError> {
        Ok(self.store.revoke(tenant, key_id, self.now()).await?)
    }

    /// This tenant's keys, newest first.
    ///
    /// # Errors
    /// A store failure.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<Credential>, ManageError> {
        Ok(self.store.list(tenant).await?)
    }

    /// One of this tenant's keys. Another tenant's key is [`ManageError::NotFound`], exactly like
    /// an unknown id.
    ///
    /// # Errors
    /// [`ManageError::NotFound`] or a store failure.
    pub async fn get(&self, tenant: &TenantId, key_id: &KeyId) -> Result<Credential, ManageError> {
        match self.store.find(key_id).await? {
            Some(c) if &c.tenant_id == tenant => Ok(c),
            _ => Err(ManageError::NotFound),
        }
    }

    /// Draw a key and hash its secret off the executor.
    async fn mint(
        &self,
        tenant: &TenantId,
        name: Option<String>,
        now: OffsetDateTime,
        validity: Duration,
        replaces: Option<KeyId>,
    ) -> Result<(ApiKey, Credential), ManageError> {
        let api_key = self.format.generate()?;
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        secret.copy_from_slice(api_key.secret_bytes());
        let hasher = self.hasher.clone();
        let secret_hash = run_blocking(move || hasher.hash(secret.as_slice()))
            .await
            .ok_or(HashError::Interrupted)??;
        let credential = Credential {
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
        };
        Ok((api_key, credential))
    }
}

impl<S> fmt::Debug for KeyManager<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyManager")
            .field("format", &self.format)
            .field("hasher", &self.hasher)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
