//! `SqlKeyStore` on real databases: the store contract with real parallelism (32 concurrent
//! rotations), round trips of every field (times after 2038 included), batched last-used
//! writes, fresh status reads across two stores ("instances") on one database, hash upgrades.
//! Each test runs on a temporary SQLite file and on a fresh PostgreSQL database (skipped without
//! PostgreSQL, except under `CI=true`).
#![allow(missing_docs)]

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::{NOW, credential, db, pool};
use idunox_keys::time::{Duration, OffsetDateTime, macros::datetime};
use idunox_keys::{
    Credential, HashParams, KeyFormat, KeyId, KeyManager, KeyStore, ManageError, ManualClock,
    Rotation, SecretHasher, Status, StoreError, TenantId, Verifier,
};
use idunox_keys_sqlx::sqlx::{self, AnyPool, Row};
use idunox_keys_sqlx::{Backend, SqlKeyStore, TouchBatch};

/// `last_used_at` as stored, bypassing the store's overlay.
async fn stored_last_used(pool: &AnyPool, c: &Credential) -> Option<i64> {
    let row = sqlx::query("SELECT last_used_at FROM credentials WHERE key_id = $1")
        .bind(c.key_id.as_str())
        .fetch_one(pool)
        .await
        .unwrap();
    idunox_keys_sqlx::portable::get_opt::<i64>(&row, "last_used_at").unwrap()
}

async fn touches_are_buffered_then_written_in_one_batch(b: Backend) {
    let Some(db) = db(b).await else { return };
    let pool = pool(&db).await;
    let batch = TouchBatch {
        max_age: StdDuration::from_secs(3600),
        max_keys: 10_000,
    };
    let store = SqlKeyStore::with_touch_batch(pool.clone(), batch);
    // 450 keys: three statements (200 keys each), one transaction.
    let creds: Vec<Credential> = (0..450).map(|_| credential("t1", NOW)).collect();
    for c in &creds {
        store.insert(c.clone(), None).await.unwrap();
    }
    let later = NOW + Duration::hours(5);
    let used: Vec<_> = creds.iter().map(|c| (c.key_id, later)).collect();
    store.touch(&used);
    store.touch(&[(creds[0].key_id, NOW + Duration::hours(1))]);
    assert_eq!(store.pending_touches(), 450);
    // Not written yet, but this store already reads its own last-used times.
    assert_eq!(stored_last_used(&pool, &creds[0]).await, None);
    assert_eq!(
        store
            .find(&creds[0].key_id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(later)
    );
    assert!(
        store
            .list(&TenantId::new("t1"))
            .await
            .unwrap()
            .iter()
            .all(|c| c.last_used_at == Some(later))
    );

    store.flush().await.unwrap();
    assert_eq!(store.pending_touches(), 0);
    for c in [&creds[0], &creds[199], &creds[200], &creds[449]] {
        assert_eq!(
            stored_last_used(&pool, c).await,
            Some(later.unix_timestamp())
        );
    }
    // Only forward.
    store.touch(&[(creds[0].key_id, NOW)]);
    store.flush().await.unwrap();
    assert_eq!(
        stored_last_used(&pool, &creds[0]).await,
        Some(later.unix_timestamp())
    );
    store.flush().await.unwrap(); // nothing buffered: no-op
}

async fn the_background_writer_honours_age_and_size(b: Backend) {
    let Some(db) = db(b).await else { return };
    let pool = pool(&db).await;
    let batch = TouchBatch {
        max_age: StdDuration::from_millis(300),
        max_keys: 3,
    };
    let store = SqlKeyStore::with_touch_batch(pool.clone(), batch);
    let creds: Vec<Credential> = (0..4).map(|_| credential("t1", NOW)).collect();
    for c in &creds {
        store.insert(c.clone(), None).await.unwrap();
    }
    // Age: one key, written within max_age (plus one write).
    store.touch(&[(creds[0].key_id, NOW)]);
    let t0 = std::time::Instant::now();
    while stored_last_used(&pool, &creds[0]).await.is_none() {
        assert!(
            t0.elapsed() < StdDuration::from_secs(5),
            "not written by age"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert!(
        t0.elapsed() >= StdDuration::from_millis(250),
        "written before max_age"
    );
    // Size: three keys wake the writer at once.
    let big = TouchBatch {
        max_age: StdDuration::from_secs(3600),
        max_keys: 3,
    };
    let store = SqlKeyStore::with_touch_batch(pool.clone(), big);
    let used: Vec<_> = creds[1..].iter().map(|c| (c.key_id, NOW)).collect();
    store.touch(&used);
    let t0 = std::time::Instant::now();
    while stored_last_used(&pool, &creds[3]).await.is_none() {
        assert!(
            t0.elapsed() < StdDuration::from_secs(5),
            "not written by size"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

async fn two_instances_agree_at_once(b: Backend) {
    let Some(db) = db(b).await else { return };
    let pool_a = pool(&db).await;
    let pool_b = pool(&db).await;
    let (a, bb) = (SqlKeyStore::new(pool_a), SqlKeyStore::new(pool_b));
    let format = KeyFormat::new("idx", "test").unwrap();
    let clock = ManualClock::new(NOW);
    let keys_a = KeyManager::new(a.clone(), format.clone())
        .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap())
        .with_clock(clock.clone());
    let verifier_b = Verifier::builder(bb.clone(), format)
        .clock(clock.clone())
        .build();
    let tenant = TenantId::new("ten_acme");
    let issued = keys_a.create(&tenant, None, None).await.unwrap();
    let key = issued.api_key.expose_secret().to_owned();
    for _ in 0..2 {
        // cold, then warm: both read the status fresh
        assert!(verifier_b.verify_str(&key).await.is_ok());
    }
    keys_a
        .revoke(&tenant, &issued.credential.key_id)
        .await
        .unwrap();
    assert_eq!(
        verifier_b.verify_str(&key).await.unwrap_err().code(),
        "api_key_revoked"
    );
    let row = sqlx::query("SELECT COUNT(*) AS n FROM credentials")
        .fetch_one(bb.pool())
        .await
        .unwrap();
    assert_eq!(row.try_get::<i64, _>("n").unwrap(), 1);
}

/// A hash made with weaker parameters is replaced at the next cold verification, compare-and-set.
async fn outdated_hashes_are_upgraded_at_the_next_cold_verification(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let format = KeyFormat::new("idx", "test").unwrap();
    let clock = ManualClock::new(NOW);
    let keys = KeyManager::new(store.clone(), format.clone())
        .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap())
        .with_clock(clock.clone());
    let stronger = SecretHasher::new(HashParams {
        m_cost: 2048,
        ..HashParams::INSECURE_FAST
    })
    .unwrap();
    let verifier = Verifier::builder(store.clone(), format.clone())
        .clock(clock.clone())
        .cache_capacity(0)
        .budget(idunox_keys::HashBudget::new(stronger.params(), Default::default()).unwrap())
        .upgrade_hashes(true)
        .build();
    let tenant = TenantId::new("ten_upgrade");
    let issued = keys.create(&tenant, None, None).await.unwrap();
    let id = issued.credential.key_id;
    let stored =
        |s: SqlKeyStore| async move { s.find(&id).await.unwrap().unwrap().secret_hash.clone() };
    let before = stored(store.clone()).await;
    assert!(before.contains("m=1024"), "{before}");
    verifier
        .verify_str(issued.api_key.expose_secret())
        .await
        .unwrap();
    let after = stored(store.clone()).await;
    assert!(after.contains("m=2048"), "{after}");
    assert!(!stronger.needs_rehash(&after));
    // The upgraded hash verifies the same key (cold again: the cache is off).
    verifier
        .verify_str(issued.api_key.expose_secret())
        .await
        .unwrap();
    assert_eq!(stored(store.clone()).await, after, "no second upgrade");
    // Compare-and-set: a stale expected hash changes nothing.
    assert!(!store.replace_hash(&id, &before, "x".into()).await.unwrap());
    assert_eq!(stored(store.clone()).await, after);
}

async fn thirty_two_parallel_rotations_leave_exactly_one_successor(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = Arc::new(SqlKeyStore::new(pool(&db).await));
    let old = credential("t1", NOW);
    store.insert(old.clone(), None).await.unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            let mut successor = credential("t1", NOW);
            successor.replaces = Some(old.key_id);
            let rotation = Rotation {
                tenant_id: TenantId::new("t1"),
                predecessor: old.key_id,
                grace_expires_at: NOW + Duration::hours(24),
                now: NOW,
                successor,
            };
            tokio::spawn(async move { store.rotate(rotation).await })
        })
        .collect();
    let mut ok = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict) => conflicts += 1,
            Err(e) => panic!("unexpected: {e:?} / {:?}", std::error::Error::source(&e)),
        }
    }
    assert_eq!((ok, conflicts), (1, 31));
    let list = store.list(&TenantId::new("t1")).await.unwrap();
    assert_eq!(list.len(), 2, "one successor, no stray rows");
    let old_now = store.find(&old.key_id).await.unwrap().unwrap();
    let successor = list.iter().find(|c| c.key_id != old.key_id).unwrap();
    assert_eq!(old_now.replaced_by, Some(successor.key_id));
    assert_eq!(successor.replaces, Some(old.key_id));
}

async fn thirty_two_parallel_manager_rotations(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let keys = Arc::new(
        KeyManager::new(store, KeyFormat::new("idx", "test").unwrap())
            .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap())
            .with_clock(ManualClock::new(NOW)),
    );
    let tenant = TenantId::new("t1");
    let issued = keys.create(&tenant, Some("n".into()), None).await.unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let keys = keys.clone();
            let tenant = tenant.clone();
            let id = issued.credential.key_id;
            tokio::spawn(async move { keys.rotate(&tenant, &id, 24).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ManageError::NotRotatable {
                status: Status::Grace,
            })
            | Err(ManageError::RotationInProgress) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(keys.list(&tenant).await.unwrap().len(), 2);
}

/// Of many concurrent limited inserts into one tenant, from two stores (two instances), exactly
/// as many succeed as the limit leaves room for.
async fn the_live_key_limit_holds_under_concurrent_inserts(b: Backend) {
    let Some(db) = db(b).await else { return };
    let a = Arc::new(SqlKeyStore::new(pool(&db).await));
    let bb = Arc::new(SqlKeyStore::new(pool(&db).await));
    // One revoked and one expired key do not count.
    let mut revoked = credential("t1", NOW);
    revoked.revoked_at = Some(NOW);
    let mut expired = credential("t1", NOW - Duration::days(400));
    expired.expires_at = NOW - Duration::days(35);
    a.insert(revoked, None).await.unwrap();
    a.insert(expired, None).await.unwrap();
    let limit = idunox_keys::LiveLimit { max: 5, now: NOW };
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { bb.clone() };
            let c = credential("t1", NOW);
            tokio::spawn(async move { store.insert(c, Some(limit)).await })
        })
        .collect();
    let (mut ok, mut full) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::LimitReached) => full += 1,
            Err(e) => panic!("unexpected: {e:?} / {:?}", std::error::Error::source(&e)),
        }
    }
    assert_eq!((ok, full), (5, 19));
    assert_eq!(a.count_live(&TenantId::new("t1"), NOW).await.unwrap(), 5);
    // Another tenant is not affected; a taken id is reported as such even at the limit.
    let other = credential("t2", NOW);
    a.insert(other.clone(), Some(limit)).await.unwrap();
    let mut clash = credential("t1", NOW);
    clash.key_id = other.key_id;
    assert!(matches!(
        a.insert(clash, Some(limit)).await,
        Err(StoreError::KeyIdTaken)
    ));
}

async fn store_contract(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let now = NOW;
    let t1 = TenantId::new("t1");
    let t2 = TenantId::new("t2");
    let a = credential("t1", now);
    store.insert(a.clone(), None).await.unwrap();
    // Round trip, with every optional field set.
    let mut full = credential("t1", now);
    full.name = Some("ünïcode ✓ name".into());
    full.grace_expires_at = Some(now + Duration::hours(1));
    full.revoked_at = Some(now);
    full.replaced_by = Some(a.key_id);
    full.replaces = Some(a.key_id);
    full.last_used_at = Some(now);
    full.scopes = Some(vec!["orders:read".into(), "orders:write".into()]);
    full.allowed_ips = Some(vec![
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::1/128".parse().unwrap(),
    ]);
    store.insert(full.clone(), None).await.unwrap();
    assert_eq!(*store.find(&full.key_id).await.unwrap().unwrap(), full);
    assert_eq!(*store.find(&a.key_id).await.unwrap().unwrap(), a);
    // An empty name is a name, not an absent one.
    let mut empty = credential("t2", now);
    empty.name = Some(String::new());
    store.insert(empty.clone(), None).await.unwrap();
    assert_eq!(*store.find(&empty.key_id).await.unwrap().unwrap(), empty);
    assert!(matches!(
        store.insert(a.clone(), None).await,
        Err(StoreError::KeyIdTaken)
    ));
    assert!(
        store
            .find(&KeyId::random().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    // Newest first; same created_at → insertion order.
    let list = store.list(&t1).await.unwrap();
    assert_eq!(
        list.iter().map(|c| c.key_id).collect::<Vec<_>>(),
        [full.key_id, a.key_id]
    );
    assert_eq!(store.list(&t2).await.unwrap().len(), 1);

    // Rotation refusals.
    let rotation = |pred: KeyId, tenant: &TenantId, at: OffsetDateTime| {
        let mut successor = credential(tenant.as_str(), at);
        successor.replaces = Some(pred);
        Rotation {
            tenant_id: tenant.clone(),
            predecessor: pred,
            grace_expires_at: at + Duration::hours(24),
            now: at,
            successor,
        }
    };
    let rows = |s: &SqlKeyStore| {
        let pool = s.pool().clone();
        async move {
            sqlx::query("SELECT COUNT(*) AS n FROM credentials")
                .fetch_one(&pool)
                .await
                .unwrap()
                .try_get::<i64, _>("n")
                .unwrap()
        }
    };
    let before = rows(&store).await;
    assert!(matches!(
        store.rotate(rotation(a.key_id, &t2, now)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.rotate(rotation(full.key_id, &t1, now)).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store
            .rotate(rotation(a.key_id, &t1, now + Duration::days(365)))
            .await,
        Err(StoreError::Conflict)
    ));
    // A taken successor id: nothing changes.
    let mut clash = rotation(a.key_id, &t1, now);
    clash.successor.key_id = full.key_id;
    assert!(matches!(
        store.rotate(clash).await,
        Err(StoreError::KeyIdTaken)
    ));
    assert_eq!(*store.find(&a.key_id).await.unwrap().unwrap(), a);
    assert_eq!(rows(&store).await, before, "refused rotations leave no row");

    // Revoke: idempotent, tenant-checked.
    assert!(matches!(
        store.revoke(&t2, &a.key_id, now).await,
        Err(StoreError::NotFound)
    ));
    let r1 = store
        .revoke(&t1, &a.key_id, now + Duration::hours(1))
        .await
        .unwrap();
    let r2 = store
        .revoke(&t1, &a.key_id, now + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(r1.revoked_at, Some(now + Duration::hours(1)));
    assert_eq!(r2.revoked_at, r1.revoked_at);

    // Touch: only forward, batched.
    store.touch(&[
        (a.key_id, now + Duration::hours(5)),
        (full.key_id, now + Duration::hours(5)),
    ]);
    store.touch(&[(a.key_id, now + Duration::hours(3))]);
    assert_eq!(
        store.find(&a.key_id).await.unwrap().unwrap().last_used_at,
        Some(now + Duration::hours(5))
    );
    store.touch(&[]);
}

/// PATCH and revoke-all: live keys only, one statement each.
async fn update_and_revoke_all(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let t = TenantId::new("t1");
    let live = credential("t1", NOW);
    let mut dead = credential("t1", NOW);
    dead.revoked_at = Some(NOW);
    store.insert(live.clone(), None).await.unwrap();
    store.insert(dead.clone(), None).await.unwrap();
    let patch = idunox_keys::Patch {
        name: Some(Some("renamed".into())),
        scopes: Some(Some(vec!["orders:read".into()])),
        allowed_ips: None,
    };
    let c = store.update(&t, &live.key_id, &patch, NOW).await.unwrap();
    assert_eq!(c.name.as_deref(), Some("renamed"));
    assert_eq!(c.scopes, Some(vec!["orders:read".to_owned()]));
    assert_eq!(c.allowed_ips, None);
    // Clearing, and an empty patch (the record as it stands).
    let clear = idunox_keys::Patch {
        name: Some(None),
        ..Default::default()
    };
    let c = store.update(&t, &live.key_id, &clear, NOW).await.unwrap();
    assert_eq!((c.name.as_deref(), c.scopes.is_some()), (None, true));
    let same = store
        .update(&t, &live.key_id, &idunox_keys::Patch::default(), NOW)
        .await
        .unwrap();
    assert_eq!(same, c);
    assert!(matches!(
        store.update(&t, &dead.key_id, &patch, NOW).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store
            .update(&TenantId::new("t2"), &live.key_id, &patch, NOW)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.revoke_all(&t, NOW).await.unwrap(), vec![live.key_id]);
    assert!(store.revoke_all(&t, NOW).await.unwrap().is_empty());
    assert_eq!(store.count_live(&t, NOW).await.unwrap(), 0);
}

/// sqlx 0.7's `Any` driver reads a SQLite integer through an `i32`: times after 2038-01-19
/// must still come back exactly (the store reads them as text).
async fn times_after_2038_round_trip(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let late = datetime!(2041-06-01 12:00 UTC);
    assert!(late.unix_timestamp() > i64::from(i32::MAX));
    let mut c = credential("t1", late);
    c.grace_expires_at = Some(late + Duration::days(1));
    c.replaced_by = Some(KeyId::random().unwrap());
    c.last_used_at = Some(late);
    c.revoked_at = Some(datetime!(2106-02-07 6:28:16 UTC)); // past 2^32 too
    store.insert(c.clone(), None).await.unwrap();
    // What a plain read gives: on SQLite, the driver's i32 truncates the stored value (if a
    // later sqlx reads it whole, the text casts of this crate are no longer needed).
    let raw = sqlx::query("SELECT expires_at FROM credentials WHERE key_id = $1")
        .bind(c.key_id.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get::<i64, _>("expires_at")
        .unwrap();
    assert_eq!(
        raw == c.expires_at.unix_timestamp(),
        b == Backend::Postgres,
        "plain read: {raw}"
    );
    assert_eq!(*store.find(&c.key_id).await.unwrap().unwrap(), c);
    assert_eq!(*store.list(&c.tenant_id).await.unwrap()[0], c);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(*tx.find(&c.key_id).await.unwrap().unwrap(), c);
    tx.rollback().await.unwrap();
}

/// Lists sort by time, not by the text the times are read as: 1999 (nine digits of Unix
/// seconds) comes before 2026 (ten digits), though "915148800" > "1767225600" as text.
async fn lists_sort_by_time_not_by_text(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let t = TenantId::new("t1");
    let old = credential("t1", datetime!(1999-01-01 0:00 UTC));
    let new = credential("t1", NOW);
    store.insert(new.clone(), None).await.unwrap();
    store.insert(old.clone(), None).await.unwrap();
    let ids = |v: &[Arc<Credential>]| v.iter().map(|c| c.key_id).collect::<Vec<_>>();
    assert_eq!(
        ids(&store.list(&t).await.unwrap()),
        [new.key_id, old.key_id]
    );
    for (sort, want) in [
        (idunox_keys_sqlx::Sort::Created, [new.key_id, old.key_id]),
        (idunox_keys_sqlx::Sort::Expires, [old.key_id, new.key_id]),
    ] {
        let q = idunox_keys_sqlx::ListQuery::for_tenant(t.clone(), NOW).sort(sort);
        assert_eq!(
            ids(&store.page(&q).await.unwrap().credentials),
            want,
            "{sort:?}"
        );
        // And page by page, through the cursor.
        let first = store.page(&q.clone().limit(1).unwrap()).await.unwrap();
        let second = store
            .page(&q.limit(1).unwrap().after(first.next_cursor))
            .await
            .unwrap();
        assert_eq!(ids(&second.credentials), want[1..], "{sort:?}");
    }
}

async fn a_verifier_over_the_sql_store(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let format = KeyFormat::new("idx", "test").unwrap();
    let clock = ManualClock::new(NOW);
    let keys = KeyManager::new(store.clone(), format.clone())
        .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap())
        .with_clock(clock.clone());
    let verifier = Verifier::builder(store, format)
        .clock(clock.clone())
        .build();
    let tenant = TenantId::new("t1");
    let issued = keys.create(&tenant, None, None).await.unwrap();
    let key = issued.api_key.expose_secret().to_owned();
    assert_eq!(
        verifier.verify_str(&key).await.unwrap().status,
        Status::Active
    );
    keys.revoke(&tenant, &issued.credential.key_id)
        .await
        .unwrap();
    assert_eq!(
        verifier.verify_str(&key).await.unwrap_err().code(),
        "api_key_revoked"
    );
}

async fn a_closed_pool_is_a_backend_error(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    store.pool().close().await;
    assert!(matches!(
        store.find(&KeyId::random().unwrap()).await,
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        store.insert(credential("t1", NOW), None).await,
        Err(StoreError::Backend(_))
    ));
}

on_both_backends!(
    touches_are_buffered_then_written_in_one_batch,
    the_background_writer_honours_age_and_size,
    two_instances_agree_at_once,
    outdated_hashes_are_upgraded_at_the_next_cold_verification,
    thirty_two_parallel_rotations_leave_exactly_one_successor,
    thirty_two_parallel_manager_rotations,
    the_live_key_limit_holds_under_concurrent_inserts,
    store_contract,
    update_and_revoke_all,
    times_after_2038_round_trip,
    lists_sort_by_time_not_by_text,
    a_verifier_over_the_sql_store,
    a_closed_pool_is_a_backend_error,
);
