//! `KeyTx`: the key store's writes in one transaction with the caller's own statements (an
//! audit trail). Committed together or not at all; published to the local feed only on commit;
//! on SQLite, a transaction that reads before it writes never loses its write lock to another
//! writer. Each test on a SQLite file and on PostgreSQL.
#![allow(missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration as StdDuration, Instant};

use common::{NOW, Recorder, credential, db, pool, wait_fresh};
use idunox_keys::time::Duration;
use idunox_keys::{KeyStore, Patch, Rotation, StoreError, TenantId};
use idunox_keys_sqlx::sqlx::{self, AnyPool, Row};
use idunox_keys_sqlx::{Backend, FeedSettings, SqlKeyStore};

async fn audit_table(pool: &AnyPool) {
    sqlx::query(
        "CREATE TABLE audit (action TEXT NOT NULL, key_id TEXT NOT NULL, \
         detail TEXT NOT NULL CHECK (length(detail) < 10))",
    )
    .execute(pool)
    .await
    .unwrap();
}

async fn audit_rows(pool: &AnyPool) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM audit")
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
}

fn audit<'q>(
    action: &'q str,
    key_id: &'q str,
    detail: &'q str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query("INSERT INTO audit (action, key_id, detail) VALUES ($1, $2, $3)")
        .bind(action)
        .bind(key_id)
        .bind(detail)
}

/// The caller's own statement fails after the key change: nothing of either is committed, and
/// no feed (this instance's or another's) hears of a change.
async fn a_failed_audit_statement_rolls_back_the_key_change(b: Backend) {
    let Some(db) = db(b).await else { return };
    let pool_a = pool(&db).await;
    audit_table(&pool_a).await;
    let a = SqlKeyStore::with_feed(pool_a.clone(), FeedSettings::default()).unwrap();
    let other = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    let (feed_a, feed_b) = (a.feed().unwrap().clone(), other.feed().unwrap().clone());
    wait_fresh(
        &feed_b,
        StdDuration::from_secs(1),
        StdDuration::from_secs(10),
    )
    .await;
    let (seen_a, seen_b) = (Recorder::subscribe(&feed_a), Recorder::subscribe(&feed_b));

    let existing = credential("t1", NOW);
    a.insert(existing.clone(), None).await.unwrap();
    // Both feeds past the insert (A's own poller or listener reports it too), then forget it.
    let inserted = Instant::now();
    for feed in [&feed_a, &feed_b] {
        while feed.fresh_as_of().is_none_or(|t| t <= inserted) {
            tokio::time::sleep(StdDuration::from_millis(5)).await;
        }
    }
    seen_a.clear();
    seen_b.clear();

    let c = credential("t1", NOW);
    let mut tx = a.begin().await.unwrap();
    tx.insert(c.clone(), None).await.unwrap();
    tx.revoke(&c.tenant_id, &existing.key_id, NOW)
        .await
        .unwrap();
    assert_eq!(tx.changed(), [c.key_id, existing.key_id]);
    // The audit row breaks its CHECK constraint.
    let failed = audit(
        "credential.created",
        c.key_id.as_str(),
        "far too long a detail",
    )
    .execute(tx.connection())
    .await;
    assert!(failed.is_err());
    drop(tx); // the caller gives up: everything is rolled back
    let rolled_back = Instant::now();

    assert!(a.find(&c.key_id).await.unwrap().is_none());
    assert_eq!(
        a.find(&existing.key_id).await.unwrap().unwrap().revoked_at,
        None
    );
    assert_eq!(audit_rows(&pool_a).await, 0);
    // Once the other instance's feed is confirmed past the rollback, it would have heard of a
    // commit: it heard nothing, nor did this instance.
    while feed_b.fresh_as_of().is_none_or(|t| t <= rolled_back) {
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    assert_eq!(seen_a.changed(), []);
    assert_eq!(seen_b.changed(), []);

    // An explicit rollback does the same.
    let mut tx = a.begin().await.unwrap();
    tx.insert(c.clone(), None).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(a.find(&c.key_id).await.unwrap().is_none());
    assert_eq!(seen_a.changed(), []);
}

/// Commit: the change and the audit row together; this instance's feed hears of it by the time
/// `commit` returns, another's shortly after.
async fn commit_writes_both_and_publishes_at_once(b: Backend) {
    let Some(db) = db(b).await else { return };
    let pool_a = pool(&db).await;
    audit_table(&pool_a).await;
    let a = SqlKeyStore::with_feed(pool_a.clone(), FeedSettings::default()).unwrap();
    let other = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    let seen_a = Recorder::subscribe(a.feed().unwrap());
    let seen_b = Recorder::subscribe(other.feed().unwrap());
    // A feed hears of changes committed once it listens (before, it is not fresh, and it
    // resets its subscribers when it starts).
    for feed in [a.feed().unwrap(), other.feed().unwrap()] {
        wait_fresh(feed, StdDuration::from_secs(1), StdDuration::from_secs(10)).await;
    }
    let t = TenantId::new("t1");

    let old = credential("t1", NOW);
    let keep = credential("t1", NOW);
    let mut successor = credential("t1", NOW);
    successor.replaces = Some(old.key_id);
    let mut tx = a.begin().await.unwrap();
    tx.insert(old.clone(), None).await.unwrap();
    tx.insert(keep.clone(), None).await.unwrap();
    tx.rotate(Rotation {
        tenant_id: t.clone(),
        predecessor: old.key_id,
        grace_expires_at: NOW + Duration::hours(24),
        now: NOW,
        successor: successor.clone(),
    })
    .await
    .unwrap();
    let patch = Patch {
        name: Some(Some("kept".into())),
        ..Patch::default()
    };
    let patched = tx.update(&t, &keep.key_id, &patch, NOW).await.unwrap();
    assert_eq!(patched.name.as_deref(), Some("kept"));
    // The transaction sees its own writes; the pool does not yet.
    assert!(tx.find(&successor.key_id).await.unwrap().is_some());
    audit("credential.rotated", old.key_id.as_str(), "ok")
        .execute(tx.connection())
        .await
        .unwrap();
    let ids = [old.key_id, keep.key_id, successor.key_id];
    tx.commit().await.unwrap();
    let changed = seen_a.changed();
    assert!(ids.iter().all(|id| changed.contains(id)), "{changed:?}");
    assert_eq!(audit_rows(&pool_a).await, 1);
    seen_b.wait_for(&ids).await;

    // revoke_all in a transaction: the ids it revoked are published.
    seen_a.clear();
    seen_b.clear();
    let mut tx = a.begin().await.unwrap();
    let revoked = tx.revoke_all(&t, NOW).await.unwrap();
    assert_eq!(revoked.len(), 3, "predecessor (grace), successor, kept");
    tx.commit().await.unwrap();
    // Published by the time `commit` returns (A's own listener or poller may add them again).
    let changed = seen_a.changed();
    assert!(revoked.iter().all(|id| changed.contains(id)), "{changed:?}");
    seen_b.wait_for(&revoked).await;
}

/// Refusals leave the transaction usable (no SQL error aborts it, even on PostgreSQL).
async fn refusals_leave_the_transaction_usable(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let t = TenantId::new("t1");
    let c = credential("t1", NOW);
    store.insert(c.clone(), None).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert(c.clone(), None).await,
        Err(StoreError::KeyIdTaken)
    ));
    let limit = idunox_keys::LiveLimit { max: 1, now: NOW };
    assert!(matches!(
        tx.insert(credential("t1", NOW), Some(limit)).await,
        Err(StoreError::LimitReached)
    ));
    assert!(matches!(
        tx.revoke(&TenantId::new("t2"), &c.key_id, NOW).await,
        Err(StoreError::NotFound)
    ));
    let mut clash = credential("t1", NOW);
    clash.key_id = c.key_id;
    assert!(matches!(
        tx.rotate(Rotation {
            tenant_id: t.clone(),
            predecessor: c.key_id,
            grace_expires_at: NOW,
            now: NOW,
            successor: clash,
        })
        .await,
        Err(StoreError::KeyIdTaken)
    ));
    let revoked = tx.revoke(&t, &c.key_id, NOW).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(NOW));
    assert!(matches!(
        tx.rotate(Rotation {
            tenant_id: t.clone(),
            predecessor: c.key_id,
            grace_expires_at: NOW,
            now: NOW,
            successor: credential("t1", NOW),
        })
        .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(tx.changed(), [c.key_id]);
    tx.commit().await.unwrap();
    assert_eq!(store.list(&t).await.unwrap().len(), 1, "no stray successor");
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

/// A transaction that reads before it writes, while another instance writes: both succeed
/// (SQLite: the transaction holds the write lock from `begin`, the other writer waits for it;
/// without that lock the transaction's upgrade from a read lock would fail with "database is
/// locked").
async fn read_then_write_beside_another_writer(b: Backend) {
    let Some(db) = db(b).await else { return };
    let a = SqlKeyStore::new(pool(&db).await);
    let other = SqlKeyStore::new(pool(&db).await);
    let c = credential("t1", NOW);
    a.insert(c.clone(), None).await.unwrap();

    let mut tx = a.begin().await.unwrap();
    assert!(tx.find(&c.key_id).await.unwrap().is_some());
    let committed = Arc::new(AtomicBool::new(false));
    let writer = {
        let other = other.clone();
        let committed = committed.clone();
        tokio::spawn(async move {
            let r = other.insert(credential("t1", NOW), None).await;
            (r, committed.load(Ordering::SeqCst))
        })
    };
    // Give the other writer time to reach the database (ordering only; nothing is timed).
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    tx.revoke(&c.tenant_id, &c.key_id, NOW).await.unwrap();
    committed.store(true, Ordering::SeqCst);
    tx.commit().await.unwrap();
    let (r, after_commit) = writer.await.unwrap();
    r.unwrap();
    if b == Backend::Sqlite {
        assert!(
            after_commit,
            "SQLite: the other writer waited for the transaction"
        );
    }
    assert_eq!(a.list(&c.tenant_id).await.unwrap().len(), 2);
}

on_both_backends!(
    a_failed_audit_statement_rolls_back_the_key_change,
    commit_writes_both_and_publishes_at_once,
    refusals_leave_the_transaction_usable,
    read_then_write_beside_another_writer,
);
