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
    if Backend::from_url(url) != Some(Backend::Sqlite) || is_sqlite_memory(url) {
        return url.to_owned();
    }
    match sqlite_mode(url) {
        Some(_) => url.to_owned(),
        None => with_sqlite_mode(url, "rwc"),
    }
}

/// Whether a SQLite URL names an in-memory database.
pub(crate) fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || sqlite_mode(url) == Some("memory")
}

/// The `mode` parameter of a SQLite URL.
pub(crate) fn sqlite_mode(url: &str) -> Option<&str> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|p| p.strip_prefix("mode="))
}

/// `url` with its `mode` parameter set to `mode` (added, or replacing the one it has).
pub(crate) fn with_sqlite_mode(url: &str, mode: &str) -> String {
    match url.split_once('?') {
        None => format!("{url}?mode={mode}"),
        Some((base, query)) => {
            let mut params: Vec<String> = query
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("mode="))
                .map(str::to_owned)
                .collect();
            params.push(format!("mode={mode}"));
            format!("{base}?{}", params.join("&"))
        }
    }
}

/// A file-backed SQLite URL that opens the file without ever creating it: `mode=rwc` (or no
/// mode) becomes `mode=rw`; `mode=ro` stays.
pub(crate) fn sqlite_url_never_creating(url: &str) -> String {
    match sqlite_mode(url) {
        Some("ro") => url.to_owned(),
        _ => with_sqlite_mode(url, "rw"),
    }
}

/// The file a SQLite URL names, if it names one (`sqlite://path?…`, `sqlite:path`).
pub(crate) fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    if Backend::from_url(url) != Some(Backend::Sqlite) || is_sqlite_memory(url) {
        return None;
    }
    let rest = url.split_once(':')?.1;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split(['?', '#']).next()?;
    (!path.is_empty()).then(|| std::path::PathBuf::from(percent_decode(path)))
}

/// `%XX` escapes of a URL path decoded (as sqlx decodes a SQLite file name).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |i: usize| {
        b.get(i)
            .and_then(|&c| char::from(c).to_digit(16))
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push(h * 16 + l);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

/// Like [`connect`], but a SQLite file must exist already: the URL's `mode` becomes `rw`
/// (`ro` stays), so a typo in the path is an error naming the path instead of a new, empty
/// database. PostgreSQL never creates a database on connect; its URL is used as it is.
///
/// # Errors
/// [`sqlx::Error::Configuration`] when the URL is neither SQLite nor PostgreSQL, or names a
/// SQLite file that does not exist; otherwise whatever opening the first connection fails with.
///
/// ```
/// use idunox_keys_sqlx::{PoolSettings, connect_existing};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let err = connect_existing("sqlite:///nowhere/portal.sqlite", &PoolSettings::default()).await.unwrap_err();
/// assert!(err.to_string().contains("/nowhere/portal.sqlite"), "{err}");
/// # });
/// ```
pub async fn connect_existing(url: &str, settings: &PoolSettings) -> Result<AnyPool, sqlx::Error> {
    open_existing(url, settings, "rw").await
}

/// A pool for a service that only verifies keys. SQLite opens read-only (`mode=ro`): the file
/// must exist, is never created and never written, and a [`SqlKeyStore`](crate::SqlKeyStore)
/// over it does not record last use (see [`SqlKeyStore::records_last_use`]). PostgreSQL never
/// creates a database on connect; restrict what the service may write with its role's
/// privileges (`SELECT` on `credentials`, and `UPDATE (last_used_at)` to record last use).
///
/// # Errors
/// As [`connect_existing`].
///
/// [`SqlKeyStore::records_last_use`]: crate::SqlKeyStore::records_last_use
pub async fn connect_read_only(url: &str, settings: &PoolSettings) -> Result<AnyPool, sqlx::Error> {
    open_existing(url, settings, "ro").await
}

async fn open_existing(
    url: &str,
    settings: &PoolSettings,
    mode: &str,
) -> Result<AnyPool, sqlx::Error> {
    if Backend::from_url(url) != Some(Backend::Sqlite) || is_sqlite_memory(url) {
        return connect(url, settings).await;
    }
    if let Some(path) = sqlite_path(url)
        && !path.exists()
    {
        return Err(sqlx::Error::Configuration(
            format!(
                "no SQLite database at {}: check the database URL (this connection never \
                 creates a database file)",
                path.display()
            )
            .into(),
        ));
    }
    let url = match mode {
        "ro" => with_sqlite_mode(url, "ro"),
        _ => sqlite_url_never_creating(url),
    };
    connect(&url, settings).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_modes_are_set_replaced_and_read() {
        assert_eq!(
            with_sqlite_mode("sqlite://a.db", "ro"),
            "sqlite://a.db?mode=ro"
        );
        assert_eq!(
            with_sqlite_mode("sqlite://a.db?mode=rwc&cache=shared", "ro"),
            "sqlite://a.db?cache=shared&mode=ro"
        );
        assert_eq!(
            sqlite_mode("sqlite://a.db?cache=shared&mode=ro"),
            Some("ro")
        );
        assert_eq!(sqlite_mode("sqlite://a.db"), None);
        assert_eq!(
            sqlite_url_never_creating("sqlite://a.db?mode=rwc"),
            "sqlite://a.db?mode=rw"
        );
        assert_eq!(
            sqlite_url_never_creating("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
        assert!(is_sqlite_memory("sqlite::memory:"));
        assert!(is_sqlite_memory("sqlite://x?mode=memory"));
        assert!(!is_sqlite_memory("sqlite://x"));
    }

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        let p = |u: &str| sqlite_path(u).map(|p| p.display().to_string());
        assert_eq!(
            p("sqlite:///var/lib/portal.sqlite?mode=rwc").as_deref(),
            Some("/var/lib/portal.sqlite")
        );
        assert_eq!(
            p("sqlite://portal.sqlite").as_deref(),
            Some("portal.sqlite")
        );
        assert_eq!(p("sqlite:portal.sqlite").as_deref(), Some("portal.sqlite"));
        assert_eq!(
            p("sqlite://my%20db.sqlite").as_deref(),
            Some("my db.sqlite")
        );
        assert_eq!(p("sqlite::memory:"), None);
        assert_eq!(p("postgres://db/x"), None);
    }
}
