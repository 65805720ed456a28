//! The [`KeyStore`] conformance suite (feature `conformance`): every rule of the trait, checked
//! through the trait, so that any store — [`MemoryStore`](crate::MemoryStore) here, SQLite and
//! PostgreSQL in `idunox-keys-sqlx`, a store of your own — is held to the same contract.
//!
//! Each rule is one `async fn` that panics, naming the rule, when the store breaks it; [`all`]
//! runs every rule but the change feed's. The suite uses fresh random tenant ids and key ids for
//! every rule, so it can run against a database that holds other data, and concurrently with
//! other tests. Times are whole seconds around the present (stores keep Unix seconds).
//!
//! The rules need a tokio runtime (they spawn concurrent writers and, for the feed, wait on a
//! timer). The feed rule, [`feed`], takes a writer store and a second, *reader* store on the same
//! backing (two pools, two processes' worth of state) and checks that every kind of committed
//! change reaches the reader's [`ChangeFeed`](crate::feed::ChangeFeed) before it confirms an
//! instant after the change.
//!
//! ```
//! use std::sync::Arc;
//! use idunox_keys::{MemoryStore, conformance};
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! conformance::all(&Arc::new(MemoryStore::new())).await;
//! # });
//! ```
//!
//! In a store crate's tests (enable the feature in `[dev-dependencies]`):
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn conforms() {
//!     let store = my_store().await;
//!     idunox_keys::conformance::all(&store).await;
//!     idunox_keys::conformance::feed(&store, &second_store_on_the_same_database().await).await;
//! }
//! ```

mod feed;
mod rules;

use std::time::Duration as StdDuration;

use time::{Duration, OffsetDateTime};

use crate::credential::Credential;
use crate::key::KeyId;
use crate::store::KeyStore;
use crate::tenant::TenantId;

pub use feed::feed;
pub use rules::{
    count_live, find, insert_and_key_id_taken, list_order, live_limit, live_limit_is_atomic,
    replace_hash, revoke, revoke_all, rotate, rotate_has_one_winner, touch, update,
};

/// How long the suite waits for something a store does in the background (a buffered last-used
/// write, a change reaching another store's feed) before it declares the rule broken.
pub const PATIENCE: StdDuration = StdDuration::from_secs(10);

/// Every rule of the trait but the change feed's ([`feed`]), one after the other.
///
/// # Panics
/// When the store breaks a rule; the message names it.
pub async fn all<S: KeyStore + Clone>(store: &S) {
    insert_and_key_id_taken(store).await;
    live_limit(store).await;
    live_limit_is_atomic(store).await;
    find(store).await;
    list_order(store).await;
    count_live(store).await;
    rotate(store).await;
    rotate_has_one_winner(store).await;
    revoke(store).await;
    update(store).await;
    revoke_all(store).await;
    replace_hash(store).await;
    touch(store).await;
}

/// A fresh tenant id no other run uses.
fn fresh_tenant(rule: &str) -> TenantId {
    let id = KeyId::random().unwrap_or_else(|e| panic!("conformance: {rule}: {e}"));
    TenantId::new(format!("conformance-{rule}-{id}"))
}

/// A fresh random key id.
fn fresh_id() -> KeyId {
    KeyId::random().unwrap_or_else(|e| panic!("conformance: {e}"))
}

/// The present, in whole seconds.
fn now() -> OffsetDateTime {
    crate::clock::truncate(OffsetDateTime::now_utc())
}

/// A plain live record of `tenant`: created at `at`, valid for a year, nothing else set.
fn record(tenant: &TenantId, at: OffsetDateTime) -> Credential {
    let key_id = fresh_id();
    Credential {
        key_id,
        tenant_id: tenant.clone(),
        name: None,
        masked_key: format!("idx_test_{key_id}_••••"),
        // Not a real hash: stores keep it verbatim and never look inside.
        secret_hash: format!("$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ${key_id}"),
        created_at: at,
        expires_at: at + Duration::days(365),
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: None,
        scopes: None,
        allowed_ips: None,
    }
}

/// Insert `c` (no limit), panicking with the rule's name on failure.
async fn put<S: KeyStore>(store: &S, rule: &str, c: &Credential) {
    if let Err(e) = store.insert(c.clone(), None).await {
        panic!("conformance: {rule}: inserting a fresh credential failed: {e}");
    }
}

/// The stored record of `id`, which must exist.
async fn get<S: KeyStore>(store: &S, rule: &str, id: &KeyId) -> Credential {
    match store.find(id).await {
        Ok(Some(c)) => Credential::clone(&c),
        Ok(None) => panic!("conformance: {rule}: find({id}) answered None for a stored key"),
        Err(e) => panic!("conformance: {rule}: find({id}) failed: {e}"),
    }
}

/// Whether `id` is stored.
async fn exists<S: KeyStore>(store: &S, rule: &str, id: &KeyId) -> bool {
    match store.find(id).await {
        Ok(found) => found.is_some(),
        Err(e) => panic!("conformance: {rule}: find({id}) failed: {e}"),
    }
}
