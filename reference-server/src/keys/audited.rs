//! [`AuditedStore`]: the server's [`SqlKeyStore`] with an actor, writing every change to a key
//! and its audit entry in one transaction.
//!
//! Each write opens a [`idunox_keys_sqlx::KeyTx`], makes the change, writes the entry of
//! [`super::entries`] through the transaction's connection, and commits: both rows or
//! neither. A refusal of the store (unknown key, a rotation that lost, the live-key limit)
//! writes no entry; a failure of the entry (the database, a constraint) rolls the change back
//! and answers like a store failure (`StoreError::Backend`, 503). A write that changes nothing
//! — a revoke of a revoked key, a PATCH to the values a key has — writes no entry either.
//!
//! Reads pass straight through to the store; so do last-use writes and hash upgrades, which
//! are the verifier's bookkeeping, not anyone's action. The change feed is the store's own, so
//! a committed change reaches this instance's verifier at once and the others through the
//! database.

use core::fmt;
use std::sync::Arc;

use idunox_keys::{
    ChangeFeed, Credential, KeyId, KeyStore, LiveLimit, Patch, Rotation, StoreError, TenantId,
};
use idunox_keys_sqlx::sqlx::AnyConnection;
use idunox_keys_sqlx::{KeyTx, backend};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::entries;
use crate::db::SqlKeyStore;
use crate::db::audit::{self, Actor, NewEntry, OwnedActor};

/// A [`KeyStore`] whose writes commit with their audit entry, for one actor (see the
/// [module docs](self)). Build one per request: [`App::keys_as`](crate::state::App::keys_as).
#[derive(Clone)]
pub struct AuditedStore {
    store: SqlKeyStore,
    actor: Arc<OwnedActor>,
    note: Map<String, Value>,
}

impl AuditedStore {
    /// `store`'s writes, audited as `actor`'s.
    pub fn new(store: SqlKeyStore, actor: Actor<'_>) -> Self {
        Self {
            store,
            actor: Arc::new(OwnedActor::from(actor)),
            note: Map::new(),
        }
    }

    /// Add `key: value` to the `detail` of every entry this store writes (e.g. the rotation's
    /// requested `grace_hours`, which the store itself does not see).
    #[must_use]
    pub fn with_detail(mut self, key: &str, value: Value) -> Self {
        self.note.insert(key.to_owned(), value);
        self
    }

    /// The store it writes to.
    pub fn store(&self) -> &SqlKeyStore {
        &self.store
    }

    /// Who acts.
    pub fn actor(&self) -> Actor<'_> {
        self.actor.as_actor()
    }

    /// Write `entry`, with this store's extra detail, on the transaction's connection.
    async fn write(
        &self,
        conn: &mut AnyConnection,
        mut entry: NewEntry<'_>,
    ) -> Result<(), StoreError> {
        if !self.note.is_empty() {
            let mut detail = match entry.detail.take() {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            for (k, v) in &self.note {
                detail.insert(k.clone(), v.clone());
            }
            entry.detail = Some(Value::Object(detail));
        }
        audit::record(conn, entry).await.map_err(backend)
    }
}

impl fmt::Debug for AuditedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditedStore")
            .field("store", &self.store)
            .field("actor", &self.actor)
            .field("note", &self.note)
            .finish()
    }
}

/// Begin a transaction on `store`.
async fn begin(store: &SqlKeyStore) -> Result<KeyTx, StoreError> {
    store.begin().await
}

impl KeyStore for AuditedStore {
    async fn insert(
        &self,
        credential: Credential,
        limit: Option<LiveLimit>,
    ) -> Result<(), StoreError> {
        let mut tx = begin(&self.store).await?;
        tx.insert(credential.clone(), limit).await?;
        self.write(tx.connection(), entries::created(self.actor(), &credential))
            .await?;
        tx.commit().await
    }

    async fn find(&self, key_id: &KeyId) -> Result<Option<Arc<Credential>>, StoreError> {
        self.store.find(key_id).await
    }

    fn find_now(&self, key_id: &KeyId) -> idunox_keys::Immediate {
        self.store.find_now(key_id)
    }

    async fn list(&self, tenant_id: &TenantId) -> Result<Vec<Arc<Credential>>, StoreError> {
        self.store.list(tenant_id).await
    }

    async fn count_live(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        self.store.count_live(tenant_id, now).await
    }

    async fn rotate(&self, rotation: Rotation) -> Result<(), StoreError> {
        let mut tx = begin(&self.store).await?;
        tx.rotate(rotation.clone()).await?;
        self.write(tx.connection(), entries::rotated(self.actor(), &rotation))
            .await?;
        tx.commit().await
    }

    async fn revoke(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        let mut tx = begin(&self.store).await?;
        let was_revoked = tx
            .find(key_id)
            .await?
            .is_some_and(|c| c.revoked_at.is_some());
        let after = tx.revoke(tenant_id, key_id, now).await?;
        // Revoked by this transaction: it was not before, and the instant is this one (on
        // PostgreSQL a concurrent revoke may commit between the read and the update).
        if !was_revoked && after.revoked_at == Some(now) {
            let entry = entries::revoked(self.actor(), tenant_id, key_id, now, None);
            self.write(tx.connection(), entry).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    async fn update(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        patch: &Patch,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        let mut tx = begin(&self.store).await?;
        let before = tx.find(key_id).await?;
        let after = tx.update(tenant_id, key_id, patch, now).await?;
        if let Some(before) = before
            && let Some(entry) = entries::updated(self.actor(), &before, &after, now)
        {
            self.write(tx.connection(), entry).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    async fn revoke_all(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> Result<Vec<KeyId>, StoreError> {
        let mut tx = begin(&self.store).await?;
        let ids = tx.revoke_all(tenant_id, now).await?;
        for id in &ids {
            let entry = entries::revoked(self.actor(), tenant_id, id, now, Some("revoke_all"));
            self.write(tx.connection(), entry).await?;
        }
        if !ids.is_empty() {
            let entry = entries::keys_revoked(self.actor(), tenant_id, ids.len(), now);
            self.write(tx.connection(), entry).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn replace_hash(
        &self,
        key_id: &KeyId,
        old_hash: &str,
        new_hash: String,
    ) -> Result<bool, StoreError> {
        self.store.replace_hash(key_id, old_hash, new_hash).await
    }

    fn touch(&self, used: &[(KeyId, OffsetDateTime)]) {
        self.store.touch(used);
    }

    fn feed(&self) -> Option<&ChangeFeed> {
        self.store.feed()
    }
}
