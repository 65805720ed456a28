//! [`MemoryStore`]: a [`KeyStore`] in process memory, correct under concurrency.
//!
//! One `RwLock` guards the whole state, so every operation is atomic; no guard is held across
//! an `.await` (the futures are ready at once).
//!
//! ```
//! use idunox_keys::{KeyStore, MemoryStore, TenantId};
//! # tokio_test_block_on(async {
//! let store = MemoryStore::new();
//! assert!(store.list(&TenantId::new("t1")).await?.is_empty());
//! # Ok::<(), idunox_keys::StoreError>(()) });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) }
//! ```

use core::fmt;
use core::future::{Future, ready};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use time::OffsetDateTime;

use super::{Immediate, KeyStore, LiveLimit, Patch, Rotation, is_live};
use crate::credential::Credential;
use crate::error::StoreError;
use crate::key::{KeyId, KeyIdMap};
use crate::tenant::TenantId;

#[derive(Default)]
struct State {
    /// Records behind `Arc`, so the verification path shares them instead of cloning; the rare
    /// writes copy on write (`Arc::make_mut`).
    by_id: KeyIdMap<Arc<Credential>>,
    /// Each tenant's key ids in insertion order.
    by_tenant: HashMap<TenantId, Vec<KeyId>>,
}

impl State {
    fn insert(&mut self, c: Credential) -> Result<(), StoreError> {
        if self.by_id.contains_key(&c.key_id) {
            return Err(StoreError::KeyIdTaken);
        }
        self.by_tenant
            .entry(c.tenant_id.clone())
            .or_default()
            .push(c.key_id);
        self.by_id.insert(c.key_id, Arc::new(c));
        Ok(())
    }

    fn live_count(&self, tenant: &TenantId, now: OffsetDateTime) -> usize {
        self.by_tenant.get(tenant).map_or(0, |ids| {
            ids.iter()
                .filter(|id| self.by_id.get(id).is_some_and(|c| is_live(c, now)))
                .count()
        })
    }

    fn owned_mut(&mut self, tenant: &TenantId, id: &KeyId) -> Result<&mut Credential, StoreError> {
        match self.by_id.get_mut(id) {
            Some(c) if &c.tenant_id == tenant => Ok(Arc::make_mut(c)),
            _ => Err(StoreError::NotFound),
        }
    }
}

/// An in-memory [`KeyStore`]. Share it with `Arc` (which is a `KeyStore` too).
#[derive(Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many credentials it holds.
    pub fn len(&self) -> usize {
        self.read(|s| s.by_id.len())
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.write().unwrap_or_else(PoisonError::into_inner))
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len())
            .finish()
    }
}

impl KeyStore for MemoryStore {
    fn insert(
        &self,
        credential: Credential,
        limit: Option<LiveLimit>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(self.write(|s| {
            if let Some(limit) = limit
                && !s.by_id.contains_key(&credential.key_id)
                && s.live_count(&credential.tenant_id, limit.now) >= limit.max
            {
                return Err(StoreError::LimitReached);
            }
            s.insert(credential)
        }))
    }

    fn find(
        &self,
        key_id: &KeyId,
    ) -> impl Future<Output = Result<Option<Arc<Credential>>, StoreError>> + Send {
        ready(Ok(self.read(|s| s.by_id.get(key_id).cloned())))
    }

    fn find_now(&self, key_id: &KeyId) -> Immediate {
        match self.read(|s| s.by_id.get(key_id).cloned()) {
            Some(c) => Immediate::Found(c),
            None => Immediate::NotFound,
        }
    }

    fn list(
        &self,
        tenant_id: &TenantId,
    ) -> impl Future<Output = Result<Vec<Arc<Credential>>, StoreError>> + Send {
        let mut out: Vec<Arc<Credential>> = self.read(|s| {
            s.by_tenant
                .get(tenant_id)
                .map(|ids| {
                    ids.iter()
                        .rev()
                        .filter_map(|id| s.by_id.get(id).cloned())
                        .collect()
                })
                .unwrap_or_default()
        });
        // Newest first; the sort is stable, so equal instants keep newest-inserted first.
        out.sort_by_key(|c| core::cmp::Reverse(c.created_at));
        ready(Ok(out))
    }

    fn count_live(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        ready(Ok(self.read(|s| s.live_count(tenant_id, now))))
    }

    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(self.write(|s| {
            if s.by_id.contains_key(&rotation.successor.key_id) {
                return Err(StoreError::KeyIdTaken);
            }
            let old = s.owned_mut(&rotation.tenant_id, &rotation.predecessor)?;
            if old.revoked_at.is_some()
                || old.replaced_by.is_some()
                || rotation.now >= old.expires_at
            {
                return Err(StoreError::Conflict);
            }
            old.replaced_by = Some(rotation.successor.key_id);
            old.grace_expires_at = Some(rotation.grace_expires_at);
            s.insert(rotation.successor)
        }))
    }

    fn revoke(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Credential>, StoreError>> + Send {
        ready(self.write(|s| {
            let c = s.owned_mut(tenant_id, key_id)?;
            c.revoked_at.get_or_insert(now);
            Ok(s.by_id[key_id].clone())
        }))
    }

    fn update(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        patch: &Patch,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Credential>, StoreError>> + Send {
        ready(self.write(|s| {
            let c = s.owned_mut(tenant_id, key_id)?;
            if !is_live(c, now) {
                return Err(StoreError::Conflict);
            }
            patch.apply(c);
            Ok(s.by_id[key_id].clone())
        }))
    }

    fn revoke_all(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<KeyId>, StoreError>> + Send {
        ready(Ok(self.write(|s| {
            let ids = s.by_tenant.get(tenant_id).cloned().unwrap_or_default();
            let mut revoked = Vec::new();
            for id in ids {
                if let Some(c) = s.by_id.get_mut(&id)
                    && is_live(c, now)
                {
                    Arc::make_mut(c).revoked_at = Some(now);
                    revoked.push(id);
                }
            }
            revoked
        })))
    }

    fn replace_hash(
        &self,
        key_id: &KeyId,
        old_hash: &str,
        new_hash: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        ready(Ok(self.write(|s| match s.by_id.get_mut(key_id) {
            Some(c) if c.secret_hash == old_hash => {
                Arc::make_mut(c).secret_hash = new_hash;
                true
            }
            _ => false,
        })))
    }

    fn touch(&self, used: &[(KeyId, OffsetDateTime)]) {
        self.write(|s| {
            for (id, at) in used {
                if let Some(c) = s.by_id.get_mut(id)
                    && c.last_used_at.is_none_or(|prev| prev < *at)
                {
                    Arc::make_mut(c).last_used_at = Some(*at);
                }
            }
        });
    }
}
