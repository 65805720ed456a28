//! `data-api --database-url` on a SQLite file the way the portal leaves it: keys issued into the
//! database are verified, tenant names come from the `tenants` table, a revoke is refused as
//! soon as the change feed carries it, `--no-auth` serves the same routes unchecked, and a
//! mistyped path or a database without the portal's schema is refused at start, saying why.
#![allow(missing_docs)]

use std::process::{Command, Stdio};

use idunox_keys::{HashParams, KeyFormat, KeyManager, SecretHasher, TenantId};
use idunox_keys_sqlx::{Backend, PoolSettings, SqlKeyStore, connect, migrate, sqlx};

mod common;

use common::{Proc, agent, probe, try_send};

#[test]
fn data_api_verifies_the_portal_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portal.sqlite").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tenant = TenantId::new("ten_sqlite");
    // What the portal does: schema, a tenant, a key (cheap argon2 for the test).
    let (keys, issued) = rt.block_on(async {
        let pool = connect(&url, &PoolSettings::default()).await.unwrap();
        migrate(&pool, Backend::Sqlite).await.unwrap();
        // The portal's own table (the reference server's migrations make it; this test stands
        // in for the portal with the one table the data API reads).
        sqlx::query("CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at BIGINT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, 0)")
            .bind(tenant.as_str())
            .bind("SQLite Partner")
            .execute(&pool)
            .await
            .unwrap();
        let keys = KeyManager::new(
            SqlKeyStore::new(pool),
            KeyFormat::new("idx", "test").unwrap(),
        )
        .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap());
        let issued = keys
            .create(&tenant, Some("on-db".into()), None)
            .await
            .unwrap();
        (keys, issued)
    });
    let key = issued.api_key.expose_secret();

    let api = Proc::data_api(&url);
    let mut c = Command::new(env!("CARGO_BIN_EXE_data-api"));
    c.args(["--port", "0", "--database-url", &url, "--no-auth"]);
    let open = Proc::start("data-api --no-auth", c, "data-api listening on ");
    let http = agent();
    let get = |p: &Proc, path: &str, key: Option<&str>| {
        let mut r = http.get(&p.url(path));
        if let Some(k) = key {
            r = r.set("X-Api-Key", k);
        }
        try_send(r, None).unwrap()
    };

    let r = get(&api, "/v1/partner-auth-probe", Some(key));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["tenant"]["name"], "SQLite Partner");
    assert_eq!(r.body["credential"]["status"], "active");
    assert_eq!(
        get(&api, "/v1/ping", Some(key)).body["tenant"],
        "ten_sqlite"
    );
    let r = get(&api, "/v1/ping", None);
    assert!(
        r.status == 401 && r.is_envelope("missing_api_key"),
        "{}",
        r.body
    );
    let r = get(&open, "/v1/ping", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["tenant"], serde_json::Value::Null);

    // Revoked in the database by another process: refused once the data API's change feed has
    // passed the revoke (milliseconds; never later than its max staleness, 1 s by default).
    rt.block_on(keys.revoke(&tenant, &issued.credential.key_id))
        .unwrap();
    let revoked = std::time::Instant::now();
    let r = loop {
        let r = probe(&http, &api, key).unwrap();
        if r.status != 200 || revoked.elapsed() > std::time::Duration::from_secs(2) {
            break r;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.is_envelope("api_key_revoked"), "{}", r.body);
}

/// Start-up refusals say what is wrong: a mistyped SQLite path (and no file is created), a
/// database without the portal's schema.
#[test]
fn a_wrong_database_is_refused_at_start_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let start = |url: &str, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_data-api"))
            .args(["--port", "0", "--database-url", url])
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let missing = dir.path().join("portl.sqlite");
    let url = format!("sqlite://{}", missing.display());
    for extra in [&[][..], &["--read-only"][..]] {
        let stderr = start(&url, extra);
        assert!(stderr.contains("no SQLite database at"), "{stderr}");
        assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
        assert!(!missing.exists(), "no file created");
    }
    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    let stderr = start(&format!("sqlite://{}", empty.display()), &[]);
    assert!(
        stderr.contains("no credentials table: is this the portal's database?"),
        "{stderr}"
    );
}
