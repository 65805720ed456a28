//! The change feed on real databases: every kind of change made through one store (or by hand
//! in SQL) reaches another store's feed subscribers, `last_used_at` writes do not; freshness
//! advances while the database lives, stops when it dies (a stopped PostgreSQL cluster, an
//! exclusively locked SQLite file) and comes back without a restart, with a reset on reconnect;
//! a SQLite poller that fell behind the pruned rows resets; the feed stops with its last store.
#![allow(missing_docs)]

mod common;

use std::time::{Duration as StdDuration, Instant};

use common::{NOW, Recorder, credential, db, pool, wait_fresh};
use idunox_keys::time::Duration;
use idunox_keys::{ChangeFeed, KeyStore, LiveLimit, Patch, Rotation, TenantId};
use idunox_keys_sqlx::sqlx::{self, AnyPool, Row};
use idunox_keys_sqlx::{Backend, FeedError, FeedSettings, SqlKeyStore, connect};

const BOUND: StdDuration = StdDuration::from_secs(1);
const PATIENCE: StdDuration = StdDuration::from_secs(15);

/// Wait until `feed` is confirmed past now (every change committed before now was handed on).
async fn caught_up(feed: &ChangeFeed) {
    let now = Instant::now();
    let deadline = now + PATIENCE;
    while feed.fresh_as_of().is_none_or(|t| t <= now) {
        assert!(
            Instant::now() < deadline,
            "the feed never caught up: {feed:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
}

async fn two_instances(b: Backend) -> Option<(common::Db, SqlKeyStore, SqlKeyStore)> {
    let db = db(b).await?;
    let a = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    let other = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    for s in [&a, &other] {
        wait_fresh(s.feed().unwrap(), BOUND, PATIENCE).await;
    }
    Some((db, a, other))
}

async fn every_kind_of_change_reaches_another_instance(b: Backend) {
    let Some((_db, a, other)) = two_instances(b).await else {
        return;
    };
    let seen = Recorder::subscribe(other.feed().unwrap());
    let t = TenantId::new("t1");

    // create (limited or not)
    let c1 = credential("t1", NOW);
    let c2 = credential("t1", NOW);
    a.insert(c1.clone(), None).await.unwrap();
    a.insert(c2.clone(), Some(LiveLimit { max: 10, now: NOW }))
        .await
        .unwrap();
    seen.wait_for_on(&[c1.key_id, c2.key_id], other.feed())
        .await;
    // rotate: predecessor and successor
    seen.clear();
    let mut successor = credential("t1", NOW);
    successor.replaces = Some(c1.key_id);
    a.rotate(Rotation {
        tenant_id: t.clone(),
        predecessor: c1.key_id,
        grace_expires_at: NOW + Duration::hours(24),
        now: NOW,
        successor: successor.clone(),
    })
    .await
    .unwrap();
    seen.wait_for_on(&[c1.key_id, successor.key_id], other.feed())
        .await;
    // PATCH
    seen.clear();
    let patch = Patch {
        allowed_ips: Some(Some(vec!["10.0.0.0/8".parse().unwrap()])),
        ..Patch::default()
    };
    a.update(&t, &c2.key_id, &patch, NOW).await.unwrap();
    seen.wait_for_on(&[c2.key_id], other.feed()).await;
    // hash upgrade
    seen.clear();
    assert!(
        a.replace_hash(
            &c2.key_id,
            common::HASH,
            "$argon2id$v=19$m=2048,t=1,p=1$x$y".into()
        )
        .await
        .unwrap()
    );
    seen.wait_for_on(&[c2.key_id], other.feed()).await;
    // revoke
    seen.clear();
    a.revoke(&t, &c2.key_id, NOW).await.unwrap();
    seen.wait_for_on(&[c2.key_id], other.feed()).await;
    // revoke-all: the predecessor in grace and the successor
    seen.clear();
    let all = a.revoke_all(&t, NOW).await.unwrap();
    assert_eq!(all.len(), 2);
    seen.wait_for_on(&all, other.feed()).await;
    // By hand, outside any store: an UPDATE and a DELETE.
    seen.clear();
    sqlx::query("UPDATE credentials SET name = 'by hand' WHERE key_id = $1")
        .bind(c1.key_id.as_str())
        .execute(a.pool())
        .await
        .unwrap();
    seen.wait_for_on(&[c1.key_id], other.feed()).await;
    seen.clear();
    sqlx::query("DELETE FROM credentials WHERE key_id = $1")
        .bind(successor.key_id.as_str())
        .execute(a.pool())
        .await
        .unwrap();
    seen.wait_for_on(&[successor.key_id], other.feed()).await;

    // Not changes: last-used writes, and a write that changes nothing (a second revoke).
    caught_up(other.feed().unwrap()).await;
    seen.clear();
    a.touch(&[(c1.key_id, NOW + Duration::hours(1)), (c2.key_id, NOW)]);
    a.flush().await.unwrap();
    a.revoke(&t, &c2.key_id, NOW + Duration::hours(2))
        .await
        .unwrap();
    let written: Option<i64> = {
        let row = sqlx::query(
            "SELECT CAST(last_used_at AS TEXT) AS t FROM credentials WHERE key_id = $1",
        )
        .bind(c1.key_id.as_str())
        .fetch_one(a.pool())
        .await
        .unwrap();
        idunox_keys_sqlx::portable::get_opt::<String>(&row, "t")
            .unwrap()
            .map(|s| s.parse().unwrap())
    };
    assert_eq!(written, Some((NOW + Duration::hours(1)).unix_timestamp()));
    caught_up(other.feed().unwrap()).await;
    assert_eq!(
        seen.changed(),
        [],
        "last-used writes and no-op updates are not changes"
    );
    assert_eq!(seen.resets(), 0);
}

/// SQLite: the trigger's WHEN clause names every column but `last_used_at`, so a migration
/// that adds a column and forgets the trigger fails here. PostgreSQL compares whole rows.
async fn a_change_to_any_column_is_a_change(b: Backend) {
    let Some(db) = db(b).await else { return };
    let pool = pool(&db).await;
    let store = SqlKeyStore::new(pool.clone());
    let c = credential("t1", NOW);
    store.insert(c.clone(), None).await.unwrap();
    let columns: Vec<String> = match b {
        Backend::Sqlite => sqlx::query("SELECT name FROM pragma_table_info('credentials')")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>("name").unwrap())
            .collect(),
        _ => sqlx::query(
            "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'credentials'",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("name").unwrap())
        .collect(),
    };
    assert!(columns.len() >= 15, "{columns:?}");
    let mut listener = match b {
        Backend::Postgres => {
            let mut l = sqlx::postgres::PgListener::connect(&db.url).await.unwrap();
            l.listen("idunox_credentials").await.unwrap();
            Some(l)
        }
        _ => None,
    };
    for col in columns {
        let value = match col.as_str() {
            "seq" | "created_at" | "expires_at" | "grace_expires_at" | "revoked_at"
            | "last_used_at" => format!("COALESCE({col}, 0) + 1000"),
            _ => "'changed'".to_owned(),
        };
        let before = changes(&pool, b).await;
        sqlx::query(&format!("UPDATE credentials SET {col} = {value}"))
            .execute(&pool)
            .await
            .unwrap();
        let announced = match listener.as_mut() {
            Some(l) => {
                // The notification of this statement, or none within a second.
                tokio::time::timeout(StdDuration::from_secs(1), l.recv())
                    .await
                    .is_ok()
            }
            None => changes(&pool, b).await > before,
        };
        assert_eq!(announced, col != "last_used_at", "column {col}");
        // Put the key id back for the next round.
        sqlx::query(&format!(
            "UPDATE credentials SET key_id = '{}'",
            c.key_id.as_str()
        ))
        .execute(&pool)
        .await
        .unwrap();
        if let Some(l) = listener.as_mut() {
            while tokio::time::timeout(StdDuration::from_millis(200), l.recv())
                .await
                .is_ok()
            {}
        }
    }
}

/// Rows in the SQLite change table (0 on PostgreSQL).
async fn changes(pool: &AnyPool, b: Backend) -> i64 {
    if b != Backend::Sqlite {
        return 0;
    }
    sqlx::query("SELECT COUNT(*) AS n FROM credential_changes")
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
}

/// PostgreSQL: stop the cluster under a fresh feed. The listener's loss resets the feed at
/// once, freshness stops; the cluster comes back, the feed reconnects by itself (resetting
/// again), is fresh again and hears of new changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_freshness_stops_with_the_database_and_recovers() {
    let Some(cluster) = idunox_test_support::postgres::OwnedCluster::start() else {
        return;
    };
    let db = common::on_server(cluster.admin_url()).await;
    let settings = FeedSettings::default();
    let store = SqlKeyStore::with_feed(pool(&db).await, settings).unwrap();
    let feed = store.feed().unwrap().clone();
    wait_fresh(&feed, BOUND, PATIENCE).await;
    let seen = Recorder::subscribe(&feed);
    // Freshness advances while the database lives.
    let first = feed.fresh_as_of().unwrap();
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    assert!(feed.fresh_as_of().unwrap() > first, "freshness advances");

    let cluster = std::sync::Arc::new(cluster);
    let blocking = |f: fn(&idunox_test_support::postgres::OwnedCluster)| {
        let c = cluster.clone();
        tokio::task::spawn_blocking(move || f(&c))
    };
    blocking(idunox_test_support::postgres::OwnedCluster::stop)
        .await
        .unwrap();
    let stopped = Instant::now();
    // The lost connection resets the feed at once: nothing cached is trusted any more.
    while seen.resets() == 0 {
        assert!(
            stopped.elapsed() < PATIENCE,
            "no reset after the database stopped"
        );
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    assert!(!feed.is_fresh(BOUND));
    assert_eq!(feed.fresh_as_of(), None);
    // And it stays so while the database is down.
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    assert!(!feed.is_fresh(BOUND));
    let resets_while_down = seen.resets();

    blocking(idunox_test_support::postgres::OwnedCluster::start_again)
        .await
        .unwrap();
    // Recovery without restart: fresh again, after one more reset (on reconnect).
    wait_fresh(&feed, BOUND, PATIENCE).await;
    assert!(seen.resets() > resets_while_down, "a reset on reconnect");
    let other = SqlKeyStore::new(pool(&db).await);
    let c = credential("t1", NOW);
    other.insert(c.clone(), None).await.unwrap();
    seen.wait_for_on(&[c.key_id], Some(&feed)).await;
}

/// PostgreSQL: a listener connection that hears nothing although no error says so (its server
/// process frozen) is replaced once a ping is overdue; one the server terminates is replaced at
/// once. Each time the feed resets, then is fresh again by itself.
///
/// On a cluster of its own: a frozen server process may hold the cluster's notification-queue
/// lock, which stalls every `NOTIFY` on the cluster until it thaws (feeds elsewhere then stop
/// confirming freshness: they fail closed).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_silent_or_killed_listener_is_replaced() {
    let Some(cluster) = idunox_test_support::postgres::OwnedCluster::start() else {
        return;
    };
    let db = common::on_server(cluster.admin_url()).await;
    let settings = FeedSettings::default().ping_timeout(StdDuration::from_millis(800));
    let store = SqlKeyStore::with_feed(pool(&db).await, settings).unwrap();
    let feed = store.feed().unwrap().clone();
    wait_fresh(&feed, BOUND, PATIENCE).await;
    let seen = Recorder::subscribe(&feed);
    let admin = SqlKeyStore::new(pool(&db).await);
    // The listener's server process (the newest: a frozen one lingers until it thaws).
    let listener_pid = || async {
        sqlx::query(
            "SELECT CAST(pid AS TEXT) AS pid FROM pg_stat_activity \
             WHERE application_name = 'idunox-keys feed listener' \
             AND datname = current_database() ORDER BY backend_start DESC LIMIT 1",
        )
        .fetch_one(admin.pool())
        .await
        .unwrap()
        .try_get::<String, _>("pid")
        .unwrap()
    };
    let signal = |sig: &str, pid: &str| {
        std::process::Command::new("kill")
            .args([sig, pid])
            .status()
            .is_ok_and(|s| s.success())
    };

    // Frozen: no error, no notification.
    let frozen = listener_pid().await;
    let can_signal = signal("-STOP", &frozen);
    if idunox_test_support::require(
        can_signal,
        "cannot signal PostgreSQL's processes here: the frozen-listener half is skipped",
    ) {
        let t0 = Instant::now();
        while seen.resets() == 0 {
            assert!(
                t0.elapsed() < PATIENCE,
                "the silent listener was never replaced"
            );
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        wait_fresh(&feed, BOUND, PATIENCE).await;
        assert_ne!(listener_pid().await, frozen, "a new connection");
        signal("-CONT", &frozen);
        let c = credential("t1", NOW);
        admin.insert(c.clone(), None).await.unwrap();
        seen.wait_for_on(&[c.key_id], Some(&feed)).await;
    }

    // Terminated by the server.
    let resets = seen.resets();
    sqlx::query("SELECT CAST(pg_terminate_backend(CAST($1 AS INTEGER)) AS INTEGER) AS ok")
        .bind(listener_pid().await)
        .execute(admin.pool())
        .await
        .unwrap();
    let t0 = Instant::now();
    while seen.resets() == resets {
        assert!(
            t0.elapsed() < PATIENCE,
            "no reset after the listener was terminated"
        );
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    wait_fresh(&feed, BOUND, PATIENCE).await;
    let c = credential("t1", NOW);
    admin.insert(c.clone(), None).await.unwrap();
    seen.wait_for_on(&[c.key_id], Some(&feed)).await;
}

/// SQLite: an exclusive lock on the file (as a long write or a backup would hold) stops the
/// poller's reads: freshness stops. When the lock goes, it resumes where it stood — no change
/// lost, no reset needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_freshness_stops_while_the_file_is_locked_and_recovers() {
    let db = db(Backend::Sqlite).await.unwrap();
    let store = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    let feed = store.feed().unwrap().clone();
    wait_fresh(&feed, BOUND, PATIENCE).await;
    let seen = Recorder::subscribe(&feed);
    let first = feed.fresh_as_of().unwrap();
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    assert!(feed.fresh_as_of().unwrap() > first, "freshness advances");

    // A change committed just before the lock is taken.
    let before = credential("t1", NOW);
    let writer = SqlKeyStore::new(pool(&db).await);
    writer.insert(before.clone(), None).await.unwrap();
    let mut lock = connect(&db.url, &Default::default()).await.unwrap();
    let mut conn = lock.acquire().await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut *conn)
        .await
        .unwrap();
    let locked = Instant::now();
    tokio::time::sleep(BOUND + StdDuration::from_millis(500)).await;
    assert!(!feed.is_fresh(BOUND), "not fresh while the file is locked");
    assert!(feed.fresh_as_of().unwrap() <= locked);
    sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
    drop(conn);
    lock.close().await;
    let _ = &mut lock;

    wait_fresh(&feed, BOUND, PATIENCE).await;
    seen.wait_for_on(&[before.key_id], Some(&feed)).await;
    let after = credential("t1", NOW);
    writer.insert(after.clone(), None).await.unwrap();
    seen.wait_for_on(&[after.key_id], Some(&feed)).await;
    assert_eq!(seen.resets(), 0, "the cursor resumed: nothing to reset");
}

/// SQLite: a poller whose cursor fell behind the rows the trigger keeps resets the feed, then
/// carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_a_poller_behind_the_pruned_rows_resets() {
    let db = db(Backend::Sqlite).await.unwrap();
    let settings = FeedSettings::default().poll_interval(StdDuration::from_secs(2));
    let store = SqlKeyStore::with_feed(pool(&db).await, settings).unwrap();
    let feed = store.feed().unwrap().clone();
    wait_fresh(&feed, StdDuration::from_secs(3), PATIENCE).await;
    let seen = Recorder::subscribe(&feed);
    // 10 050 changes in one transaction, between two polls: more than the trigger keeps.
    let writer = pool(&db).await;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10050) \
         INSERT INTO credentials (key_id, tenant_id, masked_key, secret_hash, created_at, \
         expires_at) SELECT printf('bulk%08d', i), 't1', 'idx_test_x_••••', 'h', 0, 1 FROM n",
    )
    .execute(&writer)
    .await
    .unwrap();
    let kept = sqlx::query("SELECT COUNT(*) AS n FROM credential_changes")
        .fetch_one(&writer)
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap();
    assert_eq!(kept, 10_000, "the trigger prunes as it goes");
    let deadline = Instant::now() + PATIENCE;
    while seen.resets() == 0 {
        assert!(Instant::now() < deadline, "no reset");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    assert!(seen.changed().is_empty(), "a reset, not a partial list");
    // And it carries on from there.
    let c = credential("t1", NOW);
    SqlKeyStore::new(writer)
        .insert(c.clone(), None)
        .await
        .unwrap();
    seen.wait_for_on(&[c.key_id], Some(&feed)).await;
}

/// PostgreSQL: a TRUNCATE announces "everything": subscribers reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_truncate_resets() {
    let Some(db) = db(Backend::Postgres).await else {
        return;
    };
    let store = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    wait_fresh(store.feed().unwrap(), BOUND, PATIENCE).await;
    let seen = Recorder::subscribe(store.feed().unwrap());
    sqlx::query("TRUNCATE credentials")
        .execute(store.pool())
        .await
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    while seen.resets() == 0 {
        assert!(Instant::now() < deadline, "no reset");
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    // The feed carries on (the listener did not lose its connection).
    wait_fresh(store.feed().unwrap(), BOUND, PATIENCE).await;
}

/// The feed's tasks end with the last clone of the store: its freshness stops advancing, and
/// on PostgreSQL its two connections close.
async fn the_feed_stops_with_its_last_store(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    let feed = store.feed().unwrap().clone();
    wait_fresh(&feed, BOUND, PATIENCE).await;
    let observer = SqlKeyStore::new(pool(&db).await);
    let feed_connections = || async {
        if b != Backend::Postgres {
            return 0;
        }
        sqlx::query(
            "SELECT COUNT(*) AS n FROM pg_stat_activity \
             WHERE application_name LIKE 'idunox-keys feed%' AND datname = current_database()",
        )
        .fetch_one(observer.pool())
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
    };
    if b == Backend::Postgres {
        assert_eq!(feed_connections().await, 2, "a listener and a pinger");
    }
    let clone = store.clone();
    drop(store);
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert!(feed.is_fresh(BOUND), "a clone keeps it running");
    drop(clone);
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    let stopped_at = feed.fresh_as_of();
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    assert_eq!(
        feed.fresh_as_of(),
        stopped_at,
        "no confirmation after the last drop"
    );
    let deadline = Instant::now() + PATIENCE;
    while feed_connections().await != 0 {
        assert!(
            Instant::now() < deadline,
            "the feed's connections stay open"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// Without a feed, `feed()` is `None`; a feed needs a tokio runtime.
#[test]
fn no_feed_without_asking_and_none_outside_a_runtime() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pool = rt.block_on(async {
        let settings = idunox_keys_sqlx::PoolSettings {
            max_connections: 1,
            ..Default::default()
        };
        connect("sqlite::memory:", &settings).await.unwrap()
    });
    assert!(SqlKeyStore::new(pool.clone()).feed().is_none());
    assert!(matches!(
        SqlKeyStore::with_feed(pool, FeedSettings::default()),
        Err(FeedError::NoRuntime)
    ));
}

/// An in-memory SQLite database (one connection) is polled through the pool.
#[tokio::test]
async fn an_in_memory_database_has_a_feed_too() {
    let settings = idunox_keys_sqlx::PoolSettings {
        max_connections: 1,
        ..Default::default()
    };
    let pool = connect("sqlite::memory:", &settings).await.unwrap();
    idunox_keys_sqlx::migrate(&pool, Backend::Sqlite)
        .await
        .unwrap();
    let store = SqlKeyStore::with_feed(pool, FeedSettings::default()).unwrap();
    wait_fresh(store.feed().unwrap(), BOUND, PATIENCE).await;
    let seen = Recorder::subscribe(store.feed().unwrap());
    let c = credential("t1", NOW);
    store.insert(c.clone(), None).await.unwrap();
    // Published by the store at once, then again by the poller.
    assert_eq!(seen.changed(), [c.key_id]);
    let deadline = Instant::now() + PATIENCE;
    while seen.changed().len() < 2 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    assert!(seen.changed().iter().all(|id| *id == c.key_id));
}

on_both_backends!(
    every_kind_of_change_reaches_another_instance,
    a_change_to_any_column_is_a_change,
    the_feed_stops_with_its_last_store,
);

/// A verifier caching whole records over a store with a feed: a revoke made by another instance
/// is refused once the feed has passed it; with the database gone (PostgreSQL stopped, SQLite
/// locked) no key is accepted once the feed is older than `max_staleness`, and service resumes
/// by itself.
async fn a_caching_verifier_follows_the_feed_and_fails_closed(b: Backend) {
    use idunox_keys::{HashParams, KeyFormat, KeyManager, ManualClock, SecretHasher, Verifier};
    let cluster = match b {
        Backend::Postgres => match idunox_test_support::postgres::OwnedCluster::start() {
            Some(c) => Some(std::sync::Arc::new(c)),
            None => return,
        },
        _ => None,
    };
    let db = match &cluster {
        Some(c) => common::on_server(c.admin_url()).await,
        None => db(b).await.unwrap(),
    };
    let writer = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    let reader = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    wait_fresh(reader.feed().unwrap(), BOUND, PATIENCE).await;
    let format = KeyFormat::new("idx", "test").unwrap();
    let clock = ManualClock::new(NOW);
    let keys = KeyManager::new(writer.clone(), format.clone())
        .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap())
        .with_clock(clock.clone());
    let verifier = Verifier::builder(reader.clone(), format)
        .clock(clock.clone())
        .max_staleness(BOUND)
        .build();
    let tenant = TenantId::new("ten_cache");
    let revoked = keys.create(&tenant, None, None).await.unwrap();
    let kept = keys.create(&tenant, None, None).await.unwrap();
    for k in [&revoked, &kept] {
        for _ in 0..2 {
            verifier
                .verify_str(k.api_key.expose_secret())
                .await
                .unwrap();
        }
    }
    keys.revoke(&tenant, &revoked.credential.key_id)
        .await
        .unwrap();
    caught_up(reader.feed().unwrap()).await;
    assert_eq!(
        verifier
            .verify_str(revoked.api_key.expose_secret())
            .await
            .unwrap_err()
            .code(),
        "api_key_revoked"
    );
    verifier
        .verify_str(kept.api_key.expose_secret())
        .await
        .unwrap();

    // The database goes away.
    let lock_pool = connect(&db.url, &Default::default()).await.unwrap();
    let mut lock = None;
    match &cluster {
        Some(c) => {
            let c = c.clone();
            tokio::task::spawn_blocking(move || c.stop()).await.unwrap();
        }
        None => {
            let mut conn = lock_pool.acquire().await.unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut *conn)
                .await
                .unwrap();
            lock = Some(conn);
        }
    }
    let gone = Instant::now();
    // Within max_staleness (plus a poll or ping) the cache is no longer trusted, and with the
    // store unreadable the warm key is refused as unavailable.
    loop {
        match verifier.verify_str(kept.api_key.expose_secret()).await {
            Err(r) => {
                assert_eq!(r.code(), "service_unavailable");
                break;
            }
            Ok(_) => {
                assert!(
                    gone.elapsed() < BOUND * 2 + StdDuration::from_secs(5),
                    "a key was still accepted long after the database went away"
                );
                tokio::time::sleep(StdDuration::from_millis(20)).await;
            }
        }
    }
    assert!(!reader.feed().unwrap().is_fresh(BOUND));

    // It comes back: service resumes without a restart.
    match &cluster {
        Some(c) => {
            let c = c.clone();
            tokio::task::spawn_blocking(move || c.start_again())
                .await
                .unwrap();
        }
        None => {
            let mut conn = lock.take().unwrap();
            sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
        }
    }
    wait_fresh(reader.feed().unwrap(), BOUND, PATIENCE).await;
    let deadline = Instant::now() + PATIENCE;
    while verifier
        .verify_str(kept.api_key.expose_secret())
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "no recovery");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(
        verifier
            .verify_str(revoked.api_key.expose_secret())
            .await
            .unwrap_err()
            .code(),
        "api_key_revoked"
    );
}

on_both_backends!(a_caching_verifier_follows_the_feed_and_fails_closed);

/// A feed over a database whose feed triggers are missing or disabled never confirms freshness
/// (pings or polls alone would confirm a feed that hears of no change), and does once they are
/// back.
async fn no_freshness_without_the_triggers(b: Backend) {
    let Some(db) = db(b).await else { return };
    let pool = pool(&db).await;
    let (off, on): (&[&str], &[&str]) = match b {
        Backend::Postgres => (
            &["ALTER TABLE credentials DISABLE TRIGGER credentials_feed"],
            &["ALTER TABLE credentials ENABLE TRIGGER credentials_feed"],
        ),
        _ => (&["DROP TRIGGER credentials_feed_update"], &[]),
    };
    for sql in off {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    let store = SqlKeyStore::with_feed(pool.clone(), FeedSettings::default()).unwrap();
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    assert_eq!(store.feed().unwrap().fresh_as_of(), None, "never confirmed");
    if b == Backend::Postgres {
        for sql in on {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        wait_fresh(store.feed().unwrap(), BOUND, PATIENCE).await;
    }
}

on_both_backends!(no_freshness_without_the_triggers);
