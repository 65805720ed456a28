//! `SqlKeyStore` on real databases: batched last-used writes, fresh status reads across two
//! stores (two "instances") on one database, and the tenant-name helper. Each test runs on a
//! temporary SQLite file and on a fresh PostgreSQL database (skipped without PostgreSQL, except
//! under `CI=true`).
#![allow(missing_docs)]

use std::time::Duration as StdDuration;

use idunox_keys::time::{Duration, OffsetDateTime, macros::datetime};
use idunox_keys::{
    Credential, HashParams, KeyFormat, KeyManager, KeyStore, ManualClock, SecretHasher, TenantId,
    Verifier,
};
use idunox_keys_sqlx::sqlx::{self, AnyPool, Row};
use idunox_keys_sqlx::{Backend, PoolSettings, SqlKeyStore, TouchBatch, connect, migrate};

const NOW: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

struct Db {
    url: String,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

async fn db(backend: Backend) -> Option<Db> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("t.sqlite").display());
            Some(Db {
                url,
                backend,
                _dir: Some(dir),
            })
        }
        _ => {
            let admin = idunox_test_support::postgres::admin_url()?;
            let url = tokio::task::spawn_blocking(move || {
                idunox_test_support::postgres::fresh_database(&admin)
            })
            .await
            .unwrap();
            Some(Db {
                url,
                backend,
                _dir: None,
            })
        }
    }
}

async fn pool(db: &Db) -> AnyPool {
    let settings = PoolSettings {
        max_connections: 4,
        ..PoolSettings::default()
    };
    let pool = connect(&db.url, &settings).await.unwrap();
    migrate(&pool, db.backend).await.unwrap();
    pool
}

fn credential(tenant: &str) -> Credential {
    let key = KeyFormat::new("idx", "test").unwrap().generate().unwrap();
    Credential {
        key_id: key.key_id(),
        tenant_id: TenantId::new(tenant),
        name: None,
        masked_key: key.masked().to_owned(),
        secret_hash: "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        created_at: NOW,
        expires_at: NOW + Duration::days(365),
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: None,
        scopes: None,
        allowed_ips: None,
    }
}

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
    let creds: Vec<Credential> = (0..450).map(|_| credential("t1")).collect();
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
    let creds: Vec<Credential> = (0..4).map(|_| credential("t1")).collect();
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

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(idunox_keys_sqlx::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(idunox_keys_sqlx::Backend::Postgres).await;
            }
        }
    )*};
}

on_both_backends!(
    touches_are_buffered_then_written_in_one_batch,
    the_background_writer_honours_age_and_size,
    two_instances_agree_at_once,
    outdated_hashes_are_upgraded_at_the_next_cold_verification,
);
