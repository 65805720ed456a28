//! `MemoryStore` against the `KeyStore` conformance suite, and the suite against stores that
//! break a rule (so that it is known to fail when it should).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Bus, FeedStore};
use idunox_keys::{MemoryStore, conformance};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    conformance::all(&Arc::new(MemoryStore::new())).await;
}

/// Two stores with feeds on one backing, confirmed fresh every few milliseconds (their changes
/// are published synchronously, so every instant is a valid confirmation).
fn pair(drop_revokes: bool) -> (FeedStore, FeedStore, tokio::task::JoinHandle<()>) {
    let backing = Arc::new(MemoryStore::new());
    let bus = Bus::default();
    let mut writer = FeedStore::on(backing.clone(), &bus);
    writer.drop_revokes = drop_revokes;
    let reader = FeedStore::on(backing, &bus);
    let ticker = tokio::spawn(async move {
        loop {
            bus.confirm_all();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    (writer, reader, ticker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_with_a_feed_conforms() {
    let (writer, reader, ticker) = pair(false);
    conformance::all(&writer).await;
    conformance::feed(&writer, &reader).await;
    ticker.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_rule_catches_a_store_that_does_not_publish_revokes() {
    let (writer, reader, ticker) = pair(true);
    let run = tokio::spawn(async move { conformance::feed(&writer, &reader).await });
    let err = run
        .await
        .expect_err("the suite accepted a store that loses revokes");
    assert!(err.is_panic());
    ticker.abort();
}

/// `MemoryStore`, except that a second revoke moves `revoked_at`.
#[derive(Clone, Default)]
struct Forgetful(Arc<MemoryStore>);

impl idunox_keys::KeyStore for Forgetful {
    async fn insert(
        &self,
        c: idunox_keys::Credential,
        l: Option<idunox_keys::LiveLimit>,
    ) -> Result<(), idunox_keys::StoreError> {
        self.0.insert(c, l).await
    }
    async fn find(
        &self,
        id: &idunox_keys::KeyId,
    ) -> Result<Option<Arc<idunox_keys::Credential>>, idunox_keys::StoreError> {
        self.0.find(id).await
    }
    async fn list(
        &self,
        t: &idunox_keys::TenantId,
    ) -> Result<Vec<Arc<idunox_keys::Credential>>, idunox_keys::StoreError> {
        self.0.list(t).await
    }
    async fn count_live(
        &self,
        t: &idunox_keys::TenantId,
        now: idunox_keys::time::OffsetDateTime,
    ) -> Result<usize, idunox_keys::StoreError> {
        self.0.count_live(t, now).await
    }
    async fn rotate(&self, r: idunox_keys::Rotation) -> Result<(), idunox_keys::StoreError> {
        self.0.rotate(r).await
    }
    async fn revoke(
        &self,
        t: &idunox_keys::TenantId,
        id: &idunox_keys::KeyId,
        now: idunox_keys::time::OffsetDateTime,
    ) -> Result<Arc<idunox_keys::Credential>, idunox_keys::StoreError> {
        let c = self
            .0
            .find(id)
            .await?
            .ok_or(idunox_keys::StoreError::NotFound)?;
        let mut c = idunox_keys::Credential::clone(&c);
        if &c.tenant_id != t {
            return Err(idunox_keys::StoreError::NotFound);
        }
        c.revoked_at = Some(now);
        Ok(Arc::new(c))
    }
    async fn update(
        &self,
        t: &idunox_keys::TenantId,
        id: &idunox_keys::KeyId,
        p: &idunox_keys::Patch,
        now: idunox_keys::time::OffsetDateTime,
    ) -> Result<Arc<idunox_keys::Credential>, idunox_keys::StoreError> {
        self.0.update(t, id, p, now).await
    }
    async fn revoke_all(
        &self,
        t: &idunox_keys::TenantId,
        now: idunox_keys::time::OffsetDateTime,
    ) -> Result<Vec<idunox_keys::KeyId>, idunox_keys::StoreError> {
        self.0.revoke_all(t, now).await
    }
    fn touch(&self, used: &[(idunox_keys::KeyId, idunox_keys::time::OffsetDateTime)]) {
        self.0.touch(used);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_catches_a_revoke_that_is_not_idempotent_and_a_missing_compare_and_set() {
    let store = Forgetful::default();
    let s = store.clone();
    let revoke = tokio::spawn(async move { conformance::revoke(&s).await });
    assert!(
        revoke
            .await
            .expect_err("a moving revoked_at passed")
            .is_panic()
    );
    // The trait's default `replace_hash` never replaces: not a compare-and-set.
    let cas = tokio::spawn(async move { conformance::replace_hash(&store).await });
    assert!(
        cas.await
            .expect_err("a store without compare-and-set passed")
            .is_panic()
    );
}
