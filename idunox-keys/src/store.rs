//! The storage-agnostic [`KeyStore`] trait, and [`MemoryStore`], its in-memory implementation.
//!
//! A store keeps [`Credential`] records and makes its writes atomic: `insert` refuses a taken
//! key id (and, given a [`LiveLimit`], a tenant at its limit), `rotate` supersedes a credential
//! and inserts its successor in one step (of two concurrent rotations of one key exactly one
//! wins), `update` and `revoke_all` change only keys that still verify. The lifecycle rules
//! themselves (which status may rotate, how long the overlap is, what a name may hold) live in
//! [`KeyManager`](crate::KeyManager); a store checks the conditions it is given under its lock
//! or transaction.
//!
//! Records are handed out shared ([`Arc<Credential>`]): the verification path never copies one.
//! A store that can tell verifiers about committed changes offers a
//! [`ChangeFeed`] ([`KeyStore::feed`]); verifiers may then cache whole
//! records for a bounded time (`docs/verification.md`).
//!
//! The conformance suite (`idunox_keys::conformance`, feature `conformance`) checks every rule
//! here against any implementation.

use core::future::Future;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::credential::Credential;
use crate::error::StoreError;
use crate::feed::ChangeFeed;
use crate::key::KeyId;
use crate::restrictions::IpNet;
use crate::tenant::TenantId;

pub mod memory;

pub use memory::MemoryStore;

/// What [`KeyStore::rotate`] must do in one atomic step.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The tenant that asks; a predecessor of another tenant is [`StoreError::NotFound`].
    pub tenant_id: TenantId,
    /// The credential being superseded.
    pub predecessor: KeyId,
    /// `min(now + overlap, predecessor.expires_at)`, computed by the manager.
    pub grace_expires_at: OffsetDateTime,
    /// The instant of the rotation: the predecessor must still be unexpired at it.
    pub now: OffsetDateTime,
    /// The new credential, with `replaces = Some(predecessor)`.
    pub successor: Credential,
}

/// A bound on a tenant's live keys, checked by [`KeyStore::insert`] atomically with the insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLimit {
    /// The most keys that still verify (active, expiring, grace) a tenant may hold.
    pub max: usize,
    /// The instant at which "still verifies" is judged.
    pub now: OffsetDateTime,
}

/// The changes of a PATCH: each `Some` replaces that field (with `Some(None)` clearing it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// A new name, or `Some(None)` to remove it.
    pub name: Option<Option<String>>,
    /// New scopes, or `Some(None)` to make the key unrestricted by scope.
    pub scopes: Option<Option<Vec<String>>>,
    /// A new allow-list, or `Some(None)` to allow any address.
    pub allowed_ips: Option<Option<Vec<IpNet>>>,
}

impl Patch {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.scopes.is_none() && self.allowed_ips.is_none()
    }

    /// Apply to a record.
    pub fn apply(&self, c: &mut Credential) {
        if let Some(name) = &self.name {
            c.name.clone_from(name);
        }
        if let Some(scopes) = &self.scopes {
            c.scopes.clone_from(scopes);
        }
        if let Some(ips) = &self.allowed_ips {
            c.allowed_ips.clone_from(ips);
        }
    }
}

/// Whether a record still verifies at `now` (active, expiring or grace): not revoked, not
/// expired, and, once superseded, inside its grace window. The condition of
/// [`KeyStore::update`], [`KeyStore::revoke_all`] and [`LiveLimit`].
pub fn is_live(c: &Credential, now: OffsetDateTime) -> bool {
    c.revoked_at.is_none()
        && now < c.expires_at
        && (c.replaced_by.is_none() || c.grace_expires_at.is_some_and(|g| now < g))
}

/// What [`KeyStore::find_now`] knows without waiting.
#[derive(Debug, Clone)]
pub enum Immediate {
    /// The credential, as it stands now.
    Found(Arc<Credential>),
    /// No credential has this key id.
    NotFound,
    /// This store cannot answer without waiting: ask [`KeyStore::find`].
    Pending,
}

/// Where credentials live. Implementations: [`MemoryStore`] here; SQLite and PostgreSQL in the
/// `idunox-keys-sqlx` crate (shared by the reference server and any tower service).
///
/// Every method returns a `Send` future so a store can sit behind a tower layer on a
/// multi-threaded runtime.
pub trait KeyStore: Send + Sync + 'static {
    /// Add a new credential; with `limit`, only if its tenant holds fewer than `limit.max` live
    /// keys at `limit.now` ([`is_live`]), judged atomically with the insert.
    ///
    /// # Errors
    /// [`StoreError::KeyIdTaken`] when the key id exists (for any tenant),
    /// [`StoreError::LimitReached`], [`StoreError::Backend`].
    fn insert(
        &self,
        credential: Credential,
        limit: Option<LiveLimit>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The credential with this key id, whatever its tenant (the verification path), shared.
    ///
    /// # Errors
    /// [`StoreError::Backend`] only; an unknown id is `Ok(None)`.
    fn find(
        &self,
        key_id: &KeyId,
    ) -> impl Future<Output = Result<Option<Arc<Credential>>, StoreError>> + Send;

    /// The credential with this key id if the store can tell without waiting (an in-memory
    /// store can; a database cannot). The default answers [`Immediate::Pending`].
    fn find_now(&self, key_id: &KeyId) -> Immediate {
        let _ = key_id;
        Immediate::Pending
    }

    /// This tenant's credentials, newest first (ties broken by insertion order, newest first).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn list(
        &self,
        tenant_id: &TenantId,
    ) -> impl Future<Output = Result<Vec<Arc<Credential>>, StoreError>> + Send;

    /// How many of this tenant's keys are live at `now` ([`is_live`]).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn count_live(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Atomically: if the predecessor exists for `rotation.tenant_id`, is not revoked, not
    /// superseded and `now < expires_at`, set its `replaced_by` and `grace_expires_at` and insert
    /// the successor.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] (no such credential for this tenant), [`StoreError::Conflict`]
    /// (it is no longer rotatable: another rotation or a revoke won), [`StoreError::KeyIdTaken`]
    /// (the successor's id is taken; nothing changed), [`StoreError::Backend`].
    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Revoke at `now` unless revoked already (idempotent: the first `revoked_at` stays), and
    /// return the record as it now stands.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] (no such credential for this tenant), [`StoreError::Backend`].
    fn revoke(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Credential>, StoreError>> + Send;

    /// Apply `patch` if the credential is live at `now` ([`is_live`]), and return the record as
    /// it now stands.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] (no such credential for this tenant), [`StoreError::Conflict`]
    /// (revoked or expired), [`StoreError::Backend`].
    fn update(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        patch: &Patch,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Credential>, StoreError>> + Send;

    /// Revoke at `now`, in one step, every key of the tenant that is live at `now`; the ids of
    /// the keys it revoked (none on a second call).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn revoke_all(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<KeyId>, StoreError>> + Send;

    /// Replace the stored hash of `key_id` with `new_hash` if it is still `old_hash` (a
    /// compare-and-set, so a concurrent change is never overwritten); whether it was replaced.
    /// Used to upgrade a hash made with outdated argon2 parameters after a successful
    /// verification ([`VerifierBuilder::upgrade_hashes`](crate::VerifierBuilder::upgrade_hashes)).
    /// The default keeps every hash as it is and answers `false`.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn replace_hash(
        &self,
        key_id: &KeyId,
        old_hash: &str,
        new_hash: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (key_id, old_hash, new_hash);
        core::future::ready(Ok(false))
    }

    /// Record last use for a batch of keys (later instants only ever move `last_used_at`
    /// forward). Never waits and never fails: a store that writes elsewhere buffers and writes
    /// in the background, and may lose the last moments of uses if the process dies.
    fn touch(&self, used: &[(KeyId, OffsetDateTime)]);

    /// The store's change feed, if it has one: every committed change to a credential reaches
    /// it, so verifiers may cache records (`docs/verification.md`). The default has none, and
    /// verifiers read the store on every request (unless [`find_now`](Self::find_now) answers).
    fn feed(&self) -> Option<&ChangeFeed> {
        None
    }
}

impl<S: KeyStore> KeyStore for Arc<S> {
    fn insert(
        &self,
        credential: Credential,
        limit: Option<LiveLimit>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).insert(credential, limit)
    }
    fn find(
        &self,
        key_id: &KeyId,
    ) -> impl Future<Output = Result<Option<Arc<Credential>>, StoreError>> + Send {
        (**self).find(key_id)
    }
    fn find_now(&self, key_id: &KeyId) -> Immediate {
        (**self).find_now(key_id)
    }
    fn list(
        &self,
        tenant_id: &TenantId,
    ) -> impl Future<Output = Result<Vec<Arc<Credential>>, StoreError>> + Send {
        (**self).list(tenant_id)
    }
    fn count_live(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        (**self).count_live(tenant_id, now)
    }
    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).rotate(rotation)
    }
    fn revoke(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Credential>, StoreError>> + Send {
        (**self).revoke(tenant_id, key_id, now)
    }
    fn update(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        patch: &Patch,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Credential>, StoreError>> + Send {
        (**self).update(tenant_id, key_id, patch, now)
    }
    fn revoke_all(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<KeyId>, StoreError>> + Send {
        (**self).revoke_all(tenant_id, now)
    }
    fn replace_hash(
        &self,
        key_id: &KeyId,
        old_hash: &str,
        new_hash: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).replace_hash(key_id, old_hash, new_hash)
    }
    fn touch(&self, used: &[(KeyId, OffsetDateTime)]) {
        (**self).touch(used);
    }
    fn feed(&self) -> Option<&ChangeFeed> {
        (**self).feed()
    }
}
