//! The database becomes unavailable under a running server, then returns: SQLite.
//!
//! Another process holding an exclusive lock on the SQLite file (a backup tool, a stray
//! `sqlite3` shell) makes every query wait out the busy timeout and fail. The server must answer
//! 503 with the JSON envelope — the probe, portal reads and rotations alike — leave no
//! half-done rotation, and serve again as soon as the lock goes, without a restart. (PostgreSQL
//! stopping mid-traffic under two server processes is `examples/tests/fault.rs`.)
#![allow(missing_docs)]

mod common;

use common::{Backend, server};
use idunox_keys_sqlx::sqlx;
use rocket::http::Status;
use serde_json::json;

#[rocket::async_test]
async fn a_locked_sqlite_file_gives_503_then_recovers() {
    let s = server(Backend::Sqlite).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let c = s.create(&a, json!({"name": "locked"})).await;
    let id = c.body["credential"]["id"].as_str().unwrap().to_owned();
    let key = c.body["api_key"].as_str().unwrap().to_owned();
    assert_eq!(s.probe(Some(&key)).await.status, Status::Ok); // warm

    // Another connection takes the whole file (rollback journal: readers wait too).
    let settings = idunox_keys_sqlx::PoolSettings {
        max_connections: 1,
        ..Default::default()
    };
    let other = idunox_keys_sqlx::connect(&s.db.url, &settings)
        .await
        .unwrap();
    let mut conn = other.acquire().await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut *conn)
        .await
        .unwrap();

    let (probe, rotate, list) = tokio::join!(
        s.probe(Some(&key)),
        s.rotate(&a, &id, 24),
        s.get("/v1/partner/credentials", Some(&a.token)),
    );
    for r in [&probe, &rotate, &list] {
        r.assert_error(Status::ServiceUnavailable, "service_unavailable");
        assert!(r.header("Retry-After").is_some());
    }

    sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
    drop(conn);
    other.close().await;

    // Back at once, same process: nothing of the failed rotation was kept.
    assert_eq!(s.probe(Some(&key)).await.status, Status::Ok);
    let l = s.list(&a).await;
    assert_eq!(l.len(), 1, "no half-done rotation: {l:#?}");
    assert_eq!(l[0]["replaced_by"], serde_json::Value::Null);
    let r = s.rotate(&a, &id, 24).await;
    assert_eq!(r.status, Status::Created, "{}", r.body);
    assert_eq!(s.list(&a).await.len(), 2);
}
