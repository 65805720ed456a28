//! Connecting to the key database and applying the key store's schema.
//!
//! One pool type, sqlx's [`AnyPool`], serves SQLite (`sqlite:…`) and PostgreSQL
//! (`postgres://…`). The key store owns the `credentials` table and what its change feed needs
//! (`migrations/sqlite`, `migrations/postgres`, embedded here); an application that shares the
//! database (the reference server's portal) keeps its own tables in its own migrations.
//!
//! Both migration sets record themselves in sqlx's one `_sqlx_migrations` table, so each
//! [`Migrator`] here ignores versions it does not know (`ignore_missing`): the key store's
//! versions start at `20261201000001`, and an application's must not collide with them.

use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{MigrateError, Migrator};

/// Which database a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// `sqlite:…`
    Sqlite,
    /// `postgres:…` or `postgresql:…`
    Postgres,
}

impl Backend {
    /// The backend of a database URL, if supported.
    ///
    /// ```
    /// use idunox_keys_sqlx::Backend;
    /// assert_eq!(Backend::from_url("sqlite://portal.sqlite"), Some(Backend::Sqlite));
    /// assert_eq!(Backend::from_url("postgres://db/idunox"), Some(Backend::Postgres));
    /// assert_eq!(Backend::from_url("mysql://db"), None);
    /// ```
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Pool size and timeouts, named as `rocket_db_pools` names them under `databases.<name>` (the
/// reference server reads them from there; see its README).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// `max_connections`: the most connections open at once.
    pub max_connections: u32,
    /// `min_connections`: connections kept open even when idle.
    pub min_connections: u32,
    /// `connect_timeout`: how long a query waits for a connection (and how long opening one may
    /// take) before it fails. While the database is down, each query fails after this long.
    pub connect_timeout: Duration,
    /// `idle_timeout`: close connections idle this long (`None`: keep them).
    pub idle_timeout: Option<Duration>,
}

impl Default for PoolSettings {
    /// `rocket_db_pools`' defaults: 4 connections per core, none kept idle, 5 s to connect,
    /// idle connections kept.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            max_connections: u32::try_from(cores * 4).unwrap_or(u32::MAX),
            min_connections: 0,
            connect_timeout: Duration::from_secs(5),
            idle_timeout: None,
        }
    }
}

/// A SQLite URL without a `mode` gets `mode=rwc`, so the file is created when missing (as
/// `rocket_db_pools`' own SQLite pool does; sqlx's `Any` driver does not by itself). Other URLs,
/// and in-memory SQLite, are returned unchanged.
///
/// ```
/// use idunox_keys_sqlx::normalize_url;
/// assert_eq!(normalize_url("sqlite://portal.sqlite"), "sqlite://portal.sqlite?mode=rwc");
/// assert_eq!(normalize_url("sqlite::memory:"), "sqlite::memory:");
/// assert_eq!(normalize_url("postgres://db/idunox"), "postgres://db/idunox");
/// ```
pub fn normalize_url(url: &str) -> String {
    if Backend::from_url(url) != Some(Backend::Sqlite) || url.contains(":memory:") {
        return url.to_owned();
    }
    match url.split_once('?') {
        Some((_, query)) if query.split('&').any(|p| p.starts_with("mode=")) => url.to_owned(),
        Some(_) => format!("{url}&mode=rwc"),
        None => format!("{url}?mode=rwc"),
    }
}

/// Open a pool on `url` (SQLite or PostgreSQL) with these settings. Installs sqlx's `Any`
/// drivers first; a SQLite file is created when missing ([`normalize_url`]).
///
/// Pooled connections are tested before use, so after the database comes back from an outage
/// the pool replaces its dead connections by itself.
///
/// # Errors
/// [`sqlx::Error::Configuration`] when the URL is neither SQLite nor PostgreSQL; otherwise
/// whatever opening the first connection fails with.
///
/// # Example
/// ```
/// use idunox_keys_sqlx::{Backend, PoolSettings, connect, migrate};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// // An in-memory SQLite database lives in one connection: keep the pool at one.
/// let settings = PoolSettings { max_connections: 1, ..PoolSettings::default() };
/// let pool = connect("sqlite::memory:", &settings).await?;
/// migrate(&pool, Backend::Sqlite).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub async fn connect(url: &str, settings: &PoolSettings) -> Result<AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    if Backend::from_url(url).is_none() {
        return Err(sqlx::Error::Configuration(
            "the database URL must start with sqlite: or postgres:".into(),
        ));
    }
    AnyPoolOptions::new()
        .max_connections(settings.max_connections.max(1))
        .min_connections(settings.min_connections)
        .acquire_timeout(settings.connect_timeout)
        .idle_timeout(settings.idle_timeout)
        .test_before_acquire(true)
        .connect(&normalize_url(url))
        .await
}

// `ignore_missing`: the same `_sqlx_migrations` table also records the migrations of an
// application sharing the database (and, on databases made by 0.1, its single all-tables one).
static SQLITE_MIGRATIONS: Migrator = Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("migrations/sqlite")
};
static POSTGRES_MIGRATIONS: Migrator = Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("migrations/postgres")
};

/// The key store's embedded migrations for `backend`: the `credentials` table and its change
/// feed. They ignore versions recorded by other migration sets on the same database.
pub fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// Apply the key store's embedded migrations for `backend` that `pool` lacks (idempotent; on
/// PostgreSQL, concurrent callers serialise on sqlx's advisory lock). A database made by 0.1
/// (one migration creating every portal table) upgrades in place: the table exists already and
/// is kept with its rows.
///
/// # Errors
/// When a migration fails, or the database holds a migration this build does not know.
pub async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), MigrateError> {
    migrator(backend).run(pool).await
}
