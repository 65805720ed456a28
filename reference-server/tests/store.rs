//! `SqlKeyStore` outside Rocket: the `KeyStore` guarantees on the real database (SQLite, or
//! PostgreSQL with `IDUNOX_TEST_POSTGRES_URL`), with real parallelism (tokio tasks on a
//! multi-threaded runtime).
#![allow(missing_docs)]

mod common;

use std::sync::Arc;

use common::Backend;
use idunox_keys::time::{Duration, OffsetDateTime};
use idunox_keys::{
    Credential, HashParams, KeyFormat, KeyId, KeyManager, KeyStore, ManageError, ManualClock,
    Rotation, SecretHasher, Status, StoreError, TenantId, Verifier,
};
use reference_server::db::{SqlDb, SqlKeyStore};

async fn store(b: Backend) -> (SqlKeyStore, common::TestDb) {
    let db = common::test_db(b).await;
    let sql = SqlDb::connect(&db.url).await.unwrap();
    sql.migrate().await.unwrap();
    (SqlKeyStore::new(sql.pool), db)
}

fn credential(tenant: &str, now: OffsetDateTime) -> Credential {
    let format = KeyFormat::new("idx", "test").unwrap();
    let key = format.generate().unwrap();
    Credential {
        key_id: key.key_id(),
        tenant_id: TenantId::new(tenant),
        name: None,
        masked_key: key.masked().to_owned(),
        secret_hash: "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        created_at: now,
        expires_at: now + Duration::days(365),
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: None,
        scopes: None,
        allowed_ips: None,
    }
}

async fn thirty_two_parallel_rotations_leave_exactly_one_successor(b: Backend) {
    let (store, _db) = store(b).await;
    let now = common::START;
    let old = credential("t1", now);
    store.insert(old.clone(), None).await.unwrap();
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            let mut successor = credential("t1", now);
            successor.replaces = Some(old.key_id);
            let rotation = Rotation {
                tenant_id: TenantId::new("t1"),
                predecessor: old.key_id,
                grace_expires_at: now + Duration::hours(24),
                now,
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
    let (store, _db) = store(b).await;
    let clock = ManualClock::new(common::START);
    let keys = Arc::new(
        KeyManager::new(store, KeyFormat::new("idx", "test").unwrap())
            .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap())
            .with_clock(clock),
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

async fn store_contract(b: Backend) {
    let (store, _db) = store(b).await;
    let now = common::START;
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
    store.insert(full.clone(), None).await.unwrap();
    assert_eq!(*store.find(&full.key_id).await.unwrap().unwrap(), full);
    assert_eq!(*store.find(&a.key_id).await.unwrap().unwrap(), a);
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
    assert!(store.list(&t2).await.unwrap().is_empty());

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

async fn a_verifier_over_the_sql_store_outside_rocket(b: Backend) {
    let (store, _db) = store(b).await;
    let format = KeyFormat::new("idx", "test").unwrap();
    let clock = ManualClock::new(common::START);
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
    let (store, _db) = store(b).await;
    store.pool().close().await;
    assert!(matches!(
        store.find(&KeyId::random().unwrap()).await,
        Err(StoreError::Backend(_))
    ));
}

/// Each test twice, on a multi-threaded runtime (real parallelism), SQLite and PostgreSQL.
macro_rules! on_both_backends_parallel {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if super::common::postgres_admin().is_some() {
                    super::$name(super::Backend::Postgres).await;
                }
            }
        }
    )*};
}

on_both_backends_parallel!(
    thirty_two_parallel_rotations_leave_exactly_one_successor,
    thirty_two_parallel_manager_rotations,
    store_contract,
    a_verifier_over_the_sql_store_outside_rocket,
    a_closed_pool_is_a_backend_error,
);
