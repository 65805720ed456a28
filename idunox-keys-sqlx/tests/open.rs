//! Opening the key store's database the way a service that only verifies should: a SQLite
//! typo is an error naming the path (no empty file created), the schema check says what is
//! wrong in a sentence, and a read-only SQLite store verifies, follows the feed and records no
//! last use. Both backends where it applies.
#![allow(missing_docs)]

mod common;

use std::time::Duration as StdDuration;

use common::{NOW, credential, db, pool, wait_fresh};
use idunox_keys::{KeyStore, StoreError};
use idunox_keys_sqlx::sqlx::{self, AnyPool};
use idunox_keys_sqlx::{
    Backend, FeedSettings, PoolSettings, SchemaError, SqlKeyStore, check_schema, connect,
    connect_existing, connect_read_only,
};

#[tokio::test]
async fn a_mistyped_sqlite_path_is_an_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("portl.sqlite");
    let url = format!("sqlite://{}", missing.display());
    for read_only in [true, false] {
        let err = if read_only {
            connect_read_only(&url, &PoolSettings::default()).await
        } else {
            connect_existing(&url, &PoolSettings::default()).await
        }
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&missing.display().to_string()), "{msg}");
        assert!(msg.contains("no SQLite database at"), "{msg}");
        assert!(!missing.exists(), "nothing created");
    }
    // The plain connect creates it (the server's behaviour), and the schema check then says
    // what is wrong.
    let pool = connect(&url, &PoolSettings::default()).await.unwrap();
    assert!(missing.exists());
    let err = check_schema(&pool).await.unwrap_err();
    assert!(matches!(err, SchemaError::NoCredentialsTable));
    assert_eq!(err.code(), "no_credentials_table");
    assert!(
        err.to_string()
            .starts_with("no credentials table: is this the portal's database? run the reference server's migrations first"),
        "{err}"
    );
}

async fn version_rows(pool: &AnyPool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap();
}

async fn the_schema_check_says_what_is_wrong(b: Backend) {
    let Some(db) = db(b).await else { return };
    let settings = PoolSettings {
        max_connections: 2,
        ..PoolSettings::default()
    };
    let empty = connect(&db.url, &settings).await.unwrap();
    assert!(matches!(
        check_schema(&empty).await,
        Err(SchemaError::NoCredentialsTable)
    ));
    let pool = pool(&db).await;
    check_schema(&pool).await.unwrap();

    // A database migrated by an older build: the listing indexes are missing.
    version_rows(
        &pool,
        "DELETE FROM _sqlx_migrations WHERE version = 20261201000004",
    )
    .await;
    let err = check_schema(&pool).await.unwrap_err();
    assert_eq!(err.code(), "migrations_behind");
    assert_eq!(
        err.to_string(),
        "migrations behind: the database lacks 20261201000004 (listing); run the newer \
         reference server (or idunox_keys_sqlx::migrate) on it first"
    );
    idunox_keys_sqlx::migrate(&pool, b).await.unwrap_err(); // the indexes exist already
    version_rows(
        &pool,
        "DELETE FROM _sqlx_migrations WHERE version >= 20261201000003",
    )
    .await;
    let err = check_schema(&pool).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("20261201000003 (feed), 20261201000004 (listing)"),
        "{err}"
    );

    // A migration that failed half-way.
    let db2 = common::db(b).await.unwrap();
    let pool2 = common::pool(&db2).await;
    version_rows(
        &pool2,
        "UPDATE _sqlx_migrations SET success = (1 = 0) WHERE version = 20261201000002",
    )
    .await;
    let err = check_schema(&pool2).await.unwrap_err();
    assert!(matches!(
        err,
        SchemaError::MigrationFailed {
            version: 20261201000002
        }
    ));
    assert!(
        err.to_string()
            .starts_with("migration 20261201000002 started and did not finish")
    );

    // Other migration sets on the same database (the portal's) do not disturb it.
    let db3 = common::db(b).await.unwrap();
    let pool3 = common::pool(&db3).await;
    version_rows(
        &pool3,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 20261201100001, 'portal', success, checksum, execution_time \
         FROM _sqlx_migrations WHERE version = 20261201000001",
    )
    .await;
    check_schema(&pool3).await.unwrap();
}

/// A read-only SQLite store: finds keys, follows the feed (another process writes), records no
/// last use, and refuses writes as a backend error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_sqlite_store_verifies_and_follows_the_feed() {
    let db = db(Backend::Sqlite).await.unwrap();
    let writer = SqlKeyStore::new(pool(&db).await);
    let c = credential("t1", NOW);
    writer.insert(c.clone(), None).await.unwrap();

    let ro = connect_read_only(&db.url, &PoolSettings::default())
        .await
        .unwrap();
    check_schema(&ro).await.unwrap();
    let store = SqlKeyStore::with_feed(ro, FeedSettings::default()).unwrap();
    assert!(!store.records_last_use());
    assert!(writer.records_last_use());
    wait_fresh(
        store.feed().unwrap(),
        StdDuration::from_secs(1),
        StdDuration::from_secs(10),
    )
    .await;
    let seen = common::Recorder::subscribe(store.feed().unwrap());
    assert!(store.find(&c.key_id).await.unwrap().is_some());
    store.touch(&[(c.key_id, NOW)]);
    assert_eq!(store.pending_touches(), 0, "nothing buffered");
    assert!(matches!(
        store.insert(credential("t1", NOW), None).await,
        Err(StoreError::Backend(_))
    ));
    writer.revoke(&c.tenant_id, &c.key_id, NOW).await.unwrap();
    seen.wait_for(&[c.key_id]).await;
    assert!(
        store
            .find(&c.key_id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
}

on_both_backends!(the_schema_check_says_what_is_wrong);
