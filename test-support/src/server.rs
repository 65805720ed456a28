//! The `reference-server` binary under test: the command line and environment every real-binary
//! test starts it with ([`ServerCommand`]), and provisioning through its own CLI
//! ([`ServerCommand::provision`]: `tenant add`, then `user add --password-stdin`).
//!
//! Only the calling integration test knows where cargo put the binary
//! (`env!("CARGO_BIN_EXE_reference-server")`), so the path is a parameter.
//!
//! ```no_run
//! use idunox_test_support::process::Spawned;
//! use idunox_test_support::server::ServerCommand;
//!
//! let dir = std::env::temp_dir().join("idunox-doc-example");
//! let url = format!("sqlite://{}", dir.join("portal.sqlite").display());
//! let server = ServerCommand::new(
//!     "target/debug/reference-server",
//!     &dir,
//!     &url,
//!     "doc-jwt-secret-0123456789abcdefghijklmnop",
//! )
//! .argon2("{m_cost=1024,t_cost=1,p_cost=1}") // cheap hashing: a test, not production
//! .env("ROCKET_ACCESS_LOG", "false");
//! let tenant = server.provision("Acme", "ops@acme.test", "correct horse battery");
//! let mut serve = server.command();
//! serve.arg("serve");
//! let running = Spawned::start("reference-server", serve, "listening on ");
//! # let _ = (tenant, running);
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::process::run_with_stdin;

/// The configuration file `ROCKET_CONFIG` names, in the working directory; no test writes it,
/// so only the environment configures the server. A name of its own, because a shared working
/// directory (the system's temporary directory) may hold someone else's `Rocket.toml`.
pub const ABSENT_CONFIG_FILE: &str = "idunox-absent-rocket.toml";

/// How to run `reference-server` for a test: which binary, in which directory, on which
/// database, with which JWT secret, plus the settings a test varies. [`command`](Self::command)
/// makes a fresh [`Command`] each time (the CLI subcommands and `serve` share one setup).
///
/// Every command gets:
/// - the working directory `dir`, and `ROCKET_CONFIG` naming [`ABSENT_CONFIG_FILE`] there;
/// - `ROCKET_PROFILE=debug`;
/// - `ROCKET_DATABASES={idunox={url="<database_url>"}}`, plus any
///   [`database_settings`](Self::database_settings) after the URL;
/// - `ROCKET_JWT_SECRET`;
/// - `ROCKET_ADDRESS=127.0.0.1` and `ROCKET_PORT=0` (any free port, printed on the
///   "listening on" line) unless [`port`](Self::port) says otherwise;
/// - `ROCKET_ARGON2` as given with [`argon2`](Self::argon2), else removed: the server's
///   default (production) cost;
/// - `ROCKET_LOG_LEVEL` removed;
/// - then, in order, what [`env`](Self::env) and [`env_remove`](Self::env_remove) added.
///
/// It has no `Debug`: it holds the JWT secret.
#[derive(Clone)]
#[must_use]
pub struct ServerCommand {
    bin: PathBuf,
    dir: PathBuf,
    database_url: String,
    database_settings: Option<String>,
    jwt_secret: String,
    port: u16,
    argon2: Option<String>,
    /// Set (`Some`) or removed (`None`), applied last, in order.
    extra: Vec<(OsString, Option<OsString>)>,
}

impl ServerCommand {
    /// The binary at `bin` (the caller's `env!("CARGO_BIN_EXE_reference-server")`), run in
    /// `dir`, on the database at `database_url`, signing tokens with `jwt_secret`.
    pub fn new(
        bin: impl AsRef<Path>,
        dir: impl AsRef<Path>,
        database_url: &str,
        jwt_secret: &str,
    ) -> Self {
        Self {
            bin: bin.as_ref().to_path_buf(),
            dir: dir.as_ref().to_path_buf(),
            database_url: database_url.to_owned(),
            database_settings: None,
            jwt_secret: jwt_secret.to_owned(),
            port: 0,
            argon2: None,
            extra: Vec::new(),
        }
    }

    /// Pool settings written after the URL in `ROCKET_DATABASES`, e.g.
    /// `"connect_timeout=1"` or `"max_connections=8,connect_timeout=1"`.
    pub fn database_settings(mut self, settings: &str) -> Self {
        self.database_settings = Some(settings.to_owned());
        self
    }

    /// `ROCKET_PORT` (default 0: a free port the server picks and prints).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// `ROCKET_ARGON2`, e.g. `"{m_cost=4096,t_cost=1,p_cost=1}"`; without it the server hashes
    /// at its default cost.
    pub fn argon2(mut self, params: &str) -> Self {
        self.argon2 = Some(params.to_owned());
        self
    }

    /// Set one more variable (applied after the ones above, so it may override them).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.extra.push((key.into(), Some(value.into())));
        self
    }

    /// Remove one more variable from the inherited environment (applied after the ones above).
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.extra.push((key.into(), None));
        self
    }

    /// A fresh command with this setup and no arguments yet (add `serve`, `tenant add …`).
    pub fn command(&self) -> Command {
        let settings = self
            .database_settings
            .as_deref()
            .map_or_else(String::new, |s| format!(",{s}"));
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(&self.dir)
            .env("ROCKET_CONFIG", self.dir.join(ABSENT_CONFIG_FILE))
            .env("ROCKET_PROFILE", "debug")
            .env(
                "ROCKET_DATABASES",
                format!("{{idunox={{url=\"{}\"{settings}}}}}", self.database_url),
            )
            .env("ROCKET_JWT_SECRET", &self.jwt_secret)
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", self.port.to_string())
            .env_remove("ROCKET_LOG_LEVEL");
        match &self.argon2 {
            Some(params) => cmd.env("ROCKET_ARGON2", params),
            None => cmd.env_remove("ROCKET_ARGON2"),
        };
        for (key, value) in &self.extra {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }

    /// `tenant add <name>`, which must succeed: the tenant id (its standard output, trimmed)
    /// and what it wrote on standard error.
    ///
    /// # Panics
    /// When the command cannot run or fails (the message holds its standard error).
    pub fn tenant_add(&self, name: &str) -> (String, String) {
        let out = self
            .command()
            .args(["tenant", "add", name])
            .output()
            .unwrap_or_else(|e| panic!("run `reference-server tenant add`: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "tenant add failed: {stderr}");
        let id = String::from_utf8(out.stdout).expect("a UTF-8 tenant id");
        (id.trim().to_owned(), stderr)
    }

    /// `user add --tenant <tenant> --email <email> --password-stdin` with `password` and a line
    /// break on standard input; its output, unchecked (for tests of the refusals too).
    pub fn user_add_output(&self, tenant: &str, email: &str, password: &str) -> Output {
        let mut cmd = self.command();
        cmd.args([
            "user",
            "add",
            "--tenant",
            tenant,
            "--email",
            email,
            "--password-stdin",
        ]);
        run_with_stdin(cmd, &format!("{password}\n"))
    }

    /// A tenant named `tenant_name` with one user (`email`, `password`), through the CLI
    /// ([`tenant_add`](Self::tenant_add), then [`user_add_output`](Self::user_add_output)),
    /// both of which must succeed; the tenant id.
    ///
    /// # Panics
    /// When either command fails (the message holds its standard error).
    pub fn provision(&self, tenant_name: &str, email: &str, password: &str) -> String {
        let (tenant, _) = self.tenant_add(tenant_name);
        let out = self.user_add_output(&tenant, email, password);
        assert!(
            out.status.success(),
            "user add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tenant
    }
}

/// The same key id as `key` — a key the server issued under its default format (`idx`, `test`) —
/// with another secret and a valid checksum: refused as `wrong_secret`, after the record is read.
///
/// # Panics
/// When `key` is not a key of that format.
#[must_use]
pub fn wrong_secret(key: &str) -> String {
    let format = idunox_keys::KeyFormat::new("idx", "test").expect("the default key format");
    let id = format
        .parse(key)
        .unwrap_or_else(|e| panic!("not an idx_test key: {e}"))
        .key_id();
    format
        .generate_with_id(id)
        .expect("the OS random number generator")
        .expose_secret()
        .to_owned()
}
