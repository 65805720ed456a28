//! Shared by the multi-process tests: the `reference-server` and `data-api` binaries on one
//! PostgreSQL database, loopback only, every process killed when its handle drops.
//!
//! `data-api` is this package's binary (`CARGO_BIN_EXE_data-api`). `reference-server` is
//! another package's, which cargo does not build for this package's tests: [`server_bin`] takes
//! `IDUNOX_REFERENCE_SERVER_BIN` if set; else the binary in this test's own target directory and
//! profile when it is newer than every source it is built from (as under `cargo test
//! --workspace`, which builds it for the server's own tests); else it runs
//! `cargo build -p reference-server --bin reference-server` there first.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::ops::Deref;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

pub use idunox_test_support::http::{Answer, send, try_send};
use idunox_test_support::process::Spawned;
use idunox_test_support::server::ServerCommand;

use serde_json::{Value, json};

pub const JWT_SECRET: &str = "multi-instance-jwt-secret-0123456789abcdefghij";
pub const PASSWORD: &str = "multi instance correct horse";
pub const EMAIL: &str = "ops@multi.test";

/// The `reference-server` binary, built on first use.
pub fn server_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("IDUNOX_REFERENCE_SERVER_BIN")
            && !p.is_empty()
        {
            return PathBuf::from(p);
        }
        // <target>/<profile>/deps/<this test> → <target>, <profile>
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap().to_path_buf();
        let target = profile_dir.parent().unwrap().to_path_buf();
        let profile = profile_dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let bin = profile_dir.join("reference-server");
        if is_fresh(&bin) {
            return bin;
        }
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args([
                "build",
                "--quiet",
                "-p",
                "reference-server",
                "--bin",
                "reference-server",
            ])
            .arg("--manifest-path")
            .arg(manifest)
            .arg("--target-dir")
            .arg(&target);
        match profile.as_str() {
            "debug" => {}
            "release" => {
                cargo.arg("--release");
            }
            other => {
                cargo.args(["--profile", other]);
            }
        }
        let status = cargo.status().expect("run cargo build -p reference-server");
        assert!(status.success(), "cargo build -p reference-server failed");
        assert!(bin.exists(), "{} missing after the build", bin.display());
        bin
    })
    .clone()
}

/// Whether `bin` exists and is newer than every file of the packages it is built from and the
/// workspace's manifest and lock file.
fn is_fresh(bin: &std::path::Path) -> bool {
    fn newest(path: &std::path::Path) -> std::time::SystemTime {
        let Ok(meta) = std::fs::metadata(path) else {
            return std::time::SystemTime::UNIX_EPOCH;
        };
        let own = meta.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        if !meta.is_dir() {
            return own;
        }
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| newest(&e.path()))
            .fold(own, std::cmp::max)
    }
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return false;
    };
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    [
        "Cargo.toml",
        "Cargo.lock",
        "reference-server/Cargo.toml",
        "reference-server/src",
        "idunox-keys-sqlx/Cargo.toml",
        "idunox-keys-sqlx/src",
        "idunox-keys-sqlx/migrations",
        "idunox-keys/Cargo.toml",
        "idunox-keys/src",
    ]
    .iter()
    .all(|p| newest(&root.join(p)) <= built)
}

/// A reference server on `url`, run in the system's temporary directory: cheap argon2, one JWT
/// secret for all, short connection timeout (so an outage answers 503 within a second), four
/// workers, no access log.
pub fn server_command(url: &str) -> ServerCommand {
    ServerCommand::new(server_bin(), std::env::temp_dir(), url, JWT_SECRET)
        .database_settings("max_connections=8,connect_timeout=1")
        .argon2("{m_cost=1024,t_cost=1,p_cost=1}")
        .env("ROCKET_WORKERS", "4")
        .env("ROCKET_ACCESS_LOG", "false")
}

/// A running process (test-support's [`Spawned`]: killed and reaped on drop, output kept), with
/// constructors for this package's two binaries.
pub struct Proc(Spawned);

impl Deref for Proc {
    type Target = Spawned;
    fn deref(&self) -> &Spawned {
        &self.0
    }
}

impl Proc {
    /// Start `cmd`, wait for the line holding `marker` followed by the base URL.
    pub fn start(name: &'static str, cmd: Command, marker: &str) -> Self {
        Self(Spawned::start(name, cmd, marker))
    }

    pub fn server(name: &'static str, url: &str) -> Self {
        let mut c = server_command(url).command();
        c.arg("serve");
        Self::start(name, c, "listening on ")
    }

    pub fn data_api(url: &str) -> Self {
        let mut c = Command::new(env!("CARGO_BIN_EXE_data-api"));
        c.args([
            "--port",
            "0",
            "--database-url",
            url,
            "--connect-timeout",
            "1",
        ])
        .args(["--max-connections", "8"]);
        Self::start("data-api", c, "data-api listening on ")
    }
}

/// Provision a tenant and a user through the CLI; returns the tenant id.
pub fn provision(url: &str, tenant_name: &str) -> String {
    let tenant = server_command(url).provision(tenant_name, EMAIL, PASSWORD);
    assert!(tenant.starts_with("ten_"), "{tenant}");
    tenant
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

pub fn login(agent: &ureq::Agent, p: &Proc) -> String {
    let a = send(
        agent.post(&p.url("/v1/partner/auth/login")),
        Some(json!({"email": EMAIL, "password": PASSWORD})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["token"].as_str().unwrap().to_owned()
}

pub fn create(agent: &ureq::Agent, p: &Proc, token: &str, name: &str) -> (String, String) {
    let a = send(
        agent
            .post(&p.url("/v1/partner/credentials"))
            .set("Authorization", &format!("Bearer {token}")),
        Some(json!({"name": name})),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    (
        a.body["credential"]["id"].as_str().unwrap().to_owned(),
        a.body["api_key"].as_str().unwrap().to_owned(),
    )
}

pub fn rotate(agent: &ureq::Agent, p: &Proc, token: &str, id: &str) -> Option<Answer> {
    try_send(
        agent
            .post(&p.url(&format!("/v1/partner/credentials/{id}/rotate")))
            .set("Authorization", &format!("Bearer {token}")),
        Some(json!({"grace_hours": 24})),
    )
}

pub fn patch(agent: &ureq::Agent, p: &Proc, token: &str, id: &str, body: Value) -> Answer {
    send(
        agent
            .request("PATCH", &p.url(&format!("/v1/partner/credentials/{id}")))
            .set("Authorization", &format!("Bearer {token}")),
        Some(body),
    )
}

pub fn revoke(agent: &ureq::Agent, p: &Proc, token: &str, id: &str) -> Answer {
    send(
        agent
            .post(&p.url(&format!("/v1/partner/credentials/{id}/revoke")))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    )
}

pub fn list(agent: &ureq::Agent, p: &Proc, token: &str) -> Vec<Value> {
    let a = send(
        agent
            .get(&p.url("/v1/partner/credentials"))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["credentials"].as_array().unwrap().clone()
}

pub fn probe(agent: &ureq::Agent, p: &Proc, key: &str) -> Option<Answer> {
    try_send(
        agent
            .get(&p.url("/v1/partner-auth-probe"))
            .set("X-Api-Key", key),
        None,
    )
}

/// A fresh database on the shared test cluster, or `None` (a skip; under `CI=true` a panic).
pub fn postgres_database() -> Option<String> {
    let admin = idunox_test_support::postgres::admin_url()?;
    Some(idunox_test_support::postgres::fresh_database(&admin))
}
