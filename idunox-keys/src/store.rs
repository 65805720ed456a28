//! The storage-agnostic [`KeyStore`] trait, and [`MemoryStore`], its in-memory implementation.
//!
//! A store keeps [`Credential`] records and makes two operations atomic: `insert` refuses a
//! taken key id, and `rotate` supersedes a credential and inserts its successor in one step, so
//! that of two concurrent rotations of one key exactly one wins. The lifecycle rules themselves
//! (which status may rotate, how long the overlap is) live in [`KeyManager`](crate::KeyManager);
//! a store only checks the conditions of [`Rotation`] under its lock or transaction.

use core::future::Future;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::credential::Credential;
use crate::error::StoreError;
use crate::key::KeyId;
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
    /// Add a new credential.
    ///
    /// # Errors
    /// [`StoreError::KeyIdTaken`] when the key id exists (for any tenant).
    fn insert(&self, credential: Credential)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The credential with this key id, whatever its tenant (the verification path).
    ///
    /// # Errors
    /// [`StoreError::Backend`] only; an unknown id is `Ok(None)`.
    fn find(
        &self,
        key_id: &KeyId,
    ) -> impl Future<Output = Result<Option<Credential>, StoreError>> + Send;

    /// The credential with this key id if the store can tell without waiting (an in-memory
    /// store can; a database cannot). The default answers [`Immediate::Pending`].
    ///
    /// The verifier's synchronous warm path ([`Verifier::verify_now`](crate::Verifier::verify_now))
    /// uses it to skip the future and the copy of the record.
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
    ) -> impl Future<Output = Result<Vec<Credential>, StoreError>> + Send;

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
    ) -> impl Future<Output = Result<Credential, StoreError>> + Send;

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

    /// Record last use for a batch of keys (later instants only ever move `last_used_at` forward).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    fn touch(
        &self,
        used: &[(KeyId, OffsetDateTime)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<S: KeyStore> KeyStore for Arc<S> {
    fn insert(
        &self,
        credential: Credential,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).insert(credential)
    }
    fn find(
        &self,
        key_id: &KeyId,
    ) -> impl Future<Output = Result<Option<Credential>, StoreError>> + Send {
        (**self).find(key_id)
    }
    fn find_now(&self, key_id: &KeyId) -> Immediate {
        (**self).find_now(key_id)
    }
    fn list(
        &self,
        tenant_id: &TenantId,
    ) -> impl Future<Output = Result<Vec<Credential>, StoreError>> + Send {
        (**self).list(tenant_id)
    }
    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).rotate(rotation)
    }
    fn revoke(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Credential, StoreError>> + Send {
        (**self).revoke(tenant_id, key_id, now)
    }
    fn replace_hash(
        &self,
        key_id: &KeyId,
        old_hash: &str,
        new_hash: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).replace_hash(key_id, old_hash, new_hash)
    }
    fn touch(
        &self,
        used: &[(KeyId, OffsetDateTime)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).touch(used)
    }
}
