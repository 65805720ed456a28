//! A database made by 0.1 (the reference server of 2026-11-27, whose single migration created
//! every table) upgrades in place: the key store's and the portal's own migrations apply on top
//! of it, and its tenant, user, keys (active, in grace, revoked) and audit trail keep working.
//!
//! The fixtures in `tests/fixtures/upgrade/` were made by that build through its CLI and HTTP
//! API (see `keys.json`'s note): a SQLite file, and a `pg_dump --inserts` of the same on
//! PostgreSQL.
#![allow(missing_docs)]

mod common;

use std::sync::Arc;

use common::{Backend, PASSWORD};
use idunox_keys::ManualClock;
use idunox_keys::time::macros::datetime;
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};
use sqlx::Row;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade");

/// A database holding the 0.1 fixture for `backend`, and the fixture's keys.
async fn old_database(backend: Backend) -> (common::TestDb, Value) {
    let keys: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/keys.json")).unwrap())
            .unwrap();
    let db = common::test_db(backend).await;
    match backend {
        Backend::Sqlite => {
            let path = db
                .url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_owned();
            std::fs::copy(format!("{FIXTURES}/main-2026-11-27.sqlite"), &path).unwrap();
            (db, keys["sqlite"].clone())
        }
        Backend::Postgres => {
            let dump = std::fs::read_to_string(format!("{FIXTURES}/main-2026-11-27-postgres.sql"))
                .unwrap();
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::Executor::execute(&mut conn, dump.as_str())
                .await
                .unwrap();
            (db, keys["postgres"].clone())
        }
    }
}

async fn upgrades_in_place(backend: Backend) {
    let (db, keys) = old_database(backend).await;
    // 0.1 wrote the targeted user of a failed sign-in as its actor; add such an entry.
    {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO audit_log (at, tenant_id, actor_user_id, actor_email, action) \
             SELECT 1796166790, tenant_id, id, email, 'login.failed' FROM users",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
    // An hour after the fixture was made: the rotated key is still in its 24-hour grace.
    let clock = ManualClock::new(datetime!(2026-12-02 0:30 UTC));
    let rocket = reference_server::build(common::figment(&db.url), Arc::new(clock.clone()));
    let client = Client::tracked(rocket)
        .await
        .expect("the old database migrates");
    let app = client
        .rocket()
        .state::<reference_server::state::App>()
        .unwrap();

    // Both migration sets recorded themselves beside 0.1's single migration.
    // (As text: sqlx 0.7's `Any` driver reads a SQLite integer through an `i32`.)
    let versions: Vec<i64> =
        sqlx::query("SELECT CAST(version AS TEXT) AS v FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&app.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>("v").unwrap().parse().unwrap())
            .collect();
    assert_eq!(versions[0], 20261127000001, "{versions:?}");
    assert!(versions.contains(&20261201000001), "{versions:?}");
    for v in [
        20261201100001,
        20261201100002,
        20261201100003,
        20261201100004,
    ] {
        assert!(versions.contains(&v), "{v} in {versions:?}");
    }

    // The old user signs in with the old password.
    let login = client
        .post("/v1/partner/auth/login")
        .header(rocket::http::ContentType::JSON)
        .body(json!({"email": "old@example.com", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    assert_eq!(login.status(), Status::Ok);
    let login: Value = serde_json::from_str(&login.into_string().await.unwrap()).unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    assert_eq!(login["tenant"]["name"], "Upgrade Test Co");

    // Its keys are listed with their statuses.
    let list = client
        .get("/v1/partner/credentials")
        .header(rocket::http::Header::new(
            "Authorization",
            format!("Bearer {token}"),
        ))
        .dispatch()
        .await;
    assert_eq!(list.status(), Status::Ok);
    let list: Value = serde_json::from_str(&list.into_string().await.unwrap()).unwrap();
    let status_of = |id: &Value| {
        list["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| &c["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed: {list}"))["status"]
            .clone()
    };
    assert_eq!(status_of(&keys["rotated_old"]["id"]), "grace");
    assert_eq!(status_of(&keys["rotated_new"]["id"]), "active");
    assert_eq!(status_of(&keys["revoked"]["id"]), "revoked");

    // The old keys verify as before.
    for (which, expected) in [
        ("rotated_new", Status::Ok),
        ("rotated_old", Status::Ok),
        ("revoked", Status::Unauthorized),
    ] {
        let probe = client
            .get("/v1/partner-auth-probe")
            .header(rocket::http::Header::new(
                "X-Api-Key",
                keys[which]["api_key"].as_str().unwrap().to_owned(),
            ))
            .dispatch()
            .await;
        assert_eq!(probe.status(), expected, "{which}");
    }

    // The audit trail made by 0.1 is still read.
    let audit = client
        .get("/v1/partner/audit")
        .header(rocket::http::Header::new(
            "Authorization",
            format!("Bearer {token}"),
        ))
        .dispatch()
        .await;
    assert_eq!(audit.status(), Status::Ok);
    let audit: Value = serde_json::from_str(&audit.into_string().await.unwrap()).unwrap();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for old in [
        "credential.created",
        "credential.rotated",
        "credential.revoked",
    ] {
        assert!(actions.contains(&old), "{old} in {actions:?}");
    }
    // Old entries got their actor's kind; the old failed sign-in became anonymous, with the
    // email it tried in `detail`.
    let entries = audit["entries"].as_array().unwrap();
    let user_id = login["user"]["id"].clone();
    let revoked = entries
        .iter()
        .find(|e| e["action"] == "credential.revoked")
        .unwrap();
    assert_eq!(
        revoked["actor"],
        json!({"kind": "user", "user_id": user_id, "email": "old@example.com"})
    );
    let failed = entries
        .iter()
        .find(|e| e["action"] == "login.failed")
        .unwrap();
    assert!(failed["actor"].is_null(), "{failed}");
    assert_eq!(
        failed["detail"],
        json!({"email": "old@example.com", "user_id": user_id})
    );
    assert_eq!(login["user"]["must_change_password"], false);

    // And new keys can be made next to the old ones.
    let created = client
        .post("/v1/partner/credentials")
        .header(rocket::http::ContentType::JSON)
        .header(rocket::http::Header::new(
            "Authorization",
            format!("Bearer {token}"),
        ))
        .body("{}")
        .dispatch()
        .await;
    assert_eq!(created.status(), Status::Created);
}

on_both_backends!(upgrades_in_place);
