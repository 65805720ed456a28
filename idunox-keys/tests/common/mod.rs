//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use idunox_keys::time::{Duration, OffsetDateTime, macros::datetime};
use idunox_keys::{
    Credential, HashParams, KeyFormat, KeyId, KeyManager, KeyStore, LiveLimit, ManualClock,
    MemoryStore, Patch, Rotation, SecretHasher, StoreError, TenantId,
};

/// The example key of `docs/key-format.md`.
pub(crate) const DOCUMENTED_KEY: &str =
    "idx_test_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM";

pub(crate) const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

pub(crate) fn format() -> KeyFormat {
    KeyFormat::new("idx", "test").unwrap()
}

pub(crate) fn fast_hasher() -> SecretHasher {
    SecretHasher::new(HashParams::INSECURE_FAST).unwrap()
}

pub(crate) fn tenant(name: &str) -> TenantId {
    TenantId::new(name)
}

pub(crate) fn id(s: &str) -> KeyId {
    KeyId::parse(s).unwrap()
}

/// A credential created at `T0`, expiring at `expires_at`, nothing else set.
pub(crate) fn credential(expires_at: OffsetDateTime) -> Credential {
    Credential {
        key_id: id("AAAAAAAAAAAA"),
        tenant_id: tenant("acme"),
        name: None,
        masked_key: "idx_test_AAAAAAAAAAAA_••••".into(),
        secret_hash: String::new(),
        created_at: T0,
        expires_at,
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: None,
        scopes: None,
        allowed_ips: None,
    }
}

/// A manager over a fresh memory store, with cheap argon2 and a manual clock at `T0`.
pub(crate) fn manager() -> (KeyManager<Arc<MemoryStore>>, ManualClock) {
    let clock = ManualClock::new(T0);
    let keys = KeyManager::new(Arc::new(MemoryStore::new()), format())
        .with_hasher(fast_hasher())
        .with_clock(clock.clone());
    (keys, clock)
}

pub(crate) fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// A [`KeyStore`] over a shared [`MemoryStore`] that counts calls and can lie about the stored
/// hash, so tests can tell which path the verifier took without timing anything.
#[derive(Clone, Default)]
pub(crate) struct ProbeStore {
    pub(crate) inner: Arc<MemoryStore>,
    pub(crate) finds: Arc<AtomicUsize>,
    pub(crate) touches: Arc<AtomicUsize>,
    /// When set, `find` returns this in place of every stored `secret_hash`.
    pub(crate) hash_override: Arc<Mutex<Option<String>>>,
}

impl ProbeStore {
    pub(crate) fn over(inner: Arc<MemoryStore>) -> Self {
        Self {
            inner,
            ..Self::default()
        }
    }

    pub(crate) fn override_hash(&self, phc: Option<&str>) {
        *self.hash_override.lock().unwrap() = phc.map(str::to_owned);
    }

    pub(crate) fn touches(&self) -> usize {
        self.touches.load(Ordering::SeqCst)
    }
}

impl KeyStore for ProbeStore {
    async fn insert(
        &self,
        credential: Credential,
        limit: Option<LiveLimit>,
    ) -> Result<(), StoreError> {
        self.inner.insert(credential, limit).await
    }

    async fn find(&self, key_id: &KeyId) -> Result<Option<Arc<Credential>>, StoreError> {
        self.finds.fetch_add(1, Ordering::SeqCst);
        let found = self.inner.find(key_id).await?;
        let hash = self.hash_override.lock().unwrap().clone();
        Ok(found.map(|c| match hash {
            Some(h) => Arc::new(Credential {
                secret_hash: h,
                ..Credential::clone(&c)
            }),
            None => c,
        }))
    }

    async fn list(&self, tenant_id: &TenantId) -> Result<Vec<Arc<Credential>>, StoreError> {
        self.inner.list(tenant_id).await
    }

    async fn count_live(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        self.inner.count_live(tenant_id, now).await
    }

    async fn rotate(&self, rotation: Rotation) -> Result<(), StoreError> {
        self.inner.rotate(rotation).await
    }

    async fn revoke(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        self.inner.revoke(tenant_id, key_id, now).await
    }

    async fn update(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        patch: &Patch,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        self.inner.update(tenant_id, key_id, patch, now).await
    }

    async fn revoke_all(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> Result<Vec<KeyId>, StoreError> {
        self.inner.revoke_all(tenant_id, now).await
    }

    fn touch(&self, used: &[(KeyId, OffsetDateTime)]) {
        self.touches.fetch_add(1, Ordering::SeqCst);
        self.inner.touch(used);
    }
}

/// Every [`ChangeFeed`] on one [`MemoryStore`] backing: what a database's notifications are to
/// the stores of several processes.
#[derive(Clone, Default)]
pub(crate) struct Bus(Arc<Mutex<Vec<idunox_keys::ChangeFeed>>>);

impl Bus {
    fn publish(&self, ids: &[KeyId]) {
        for feed in self.0.lock().unwrap().iter() {
            feed.changed(ids);
        }
    }

    /// Confirm every feed fresh as of now (every change is published synchronously).
    pub(crate) fn confirm_all(&self) {
        let now = std::time::Instant::now();
        for feed in self.0.lock().unwrap().iter() {
            feed.confirm(now);
        }
    }
}

/// A [`KeyStore`] with a change feed over a shared [`MemoryStore`], like a database store: it
/// never answers `find_now`, counts `find`s, can be taken down, and publishes every change it
/// makes to every feed on its [`Bus`] (its own included) right after making it. Freshness is the
/// test's to confirm ([`ChangeFeed::confirm`] on [`feed`](KeyStore::feed), or
/// [`Bus::confirm_all`]).
#[derive(Clone)]
pub(crate) struct FeedStore {
    pub(crate) inner: Arc<MemoryStore>,
    pub(crate) feed: idunox_keys::ChangeFeed,
    pub(crate) bus: Bus,
    pub(crate) finds: Arc<AtomicUsize>,
    pub(crate) down: Arc<std::sync::atomic::AtomicBool>,
    /// When set, this kind of change is not published (a broken store).
    pub(crate) drop_revokes: bool,
    /// When set, every `find` publishes a change of the id it reads while reading (a change
    /// committed elsewhere during the read).
    pub(crate) race_finds: Arc<std::sync::atomic::AtomicBool>,
}

impl FeedStore {
    /// A store with its own feed on `inner`, joining `bus`.
    pub(crate) fn on(inner: Arc<MemoryStore>, bus: &Bus) -> Self {
        let feed = idunox_keys::ChangeFeed::new();
        bus.0.lock().unwrap().push(feed.clone());
        Self {
            inner,
            feed,
            bus: bus.clone(),
            finds: Arc::default(),
            down: Arc::default(),
            drop_revokes: false,
            race_finds: Arc::default(),
        }
    }

    pub(crate) fn finds(&self) -> usize {
        self.finds.load(Ordering::SeqCst)
    }

    pub(crate) fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn check_up(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::backend("the test took the store down"))
        } else {
            Ok(())
        }
    }
}

impl KeyStore for FeedStore {
    async fn insert(
        &self,
        credential: Credential,
        limit: Option<LiveLimit>,
    ) -> Result<(), StoreError> {
        self.check_up()?;
        let id = credential.key_id;
        self.inner.insert(credential, limit).await?;
        self.bus.publish(&[id]);
        Ok(())
    }

    async fn find(&self, key_id: &KeyId) -> Result<Option<Arc<Credential>>, StoreError> {
        self.finds.fetch_add(1, Ordering::SeqCst);
        self.check_up()?;
        let found = self.inner.find(key_id).await;
        if self.race_finds.load(Ordering::SeqCst) {
            self.bus.publish(&[*key_id]);
        }
        found
    }

    async fn list(&self, tenant_id: &TenantId) -> Result<Vec<Arc<Credential>>, StoreError> {
        self.check_up()?;
        self.inner.list(tenant_id).await
    }

    async fn count_live(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        self.check_up()?;
        self.inner.count_live(tenant_id, now).await
    }

    async fn rotate(&self, rotation: Rotation) -> Result<(), StoreError> {
        self.check_up()?;
        let ids = [rotation.predecessor, rotation.successor.key_id];
        self.inner.rotate(rotation).await?;
        self.bus.publish(&ids);
        Ok(())
    }

    async fn revoke(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        self.check_up()?;
        let c = self.inner.revoke(tenant_id, key_id, now).await?;
        if !self.drop_revokes {
            self.bus.publish(&[*key_id]);
        }
        Ok(c)
    }

    async fn update(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        patch: &Patch,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        self.check_up()?;
        let c = self.inner.update(tenant_id, key_id, patch, now).await?;
        self.bus.publish(&[*key_id]);
        Ok(c)
    }

    async fn revoke_all(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> Result<Vec<KeyId>, StoreError> {
        self.check_up()?;
        let ids = self.inner.revoke_all(tenant_id, now).await?;
        if !self.drop_revokes {
            self.bus.publish(&ids);
        }
        Ok(ids)
    }

    async fn replace_hash(
        &self,
        key_id: &KeyId,
        old_hash: &str,
        new_hash: String,
    ) -> Result<bool, StoreError> {
        self.check_up()?;
        let replaced = self.inner.replace_hash(key_id, old_hash, new_hash).await?;
        if replaced {
            self.bus.publish(&[*key_id]);
        }
        Ok(replaced)
    }

    fn touch(&self, used: &[(KeyId, OffsetDateTime)]) {
        self.inner.touch(used);
    }

    fn feed(&self) -> Option<&idunox_keys::ChangeFeed> {
        Some(&self.feed)
    }
}
