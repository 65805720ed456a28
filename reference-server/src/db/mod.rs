//! The database: one `rocket_db_pools` pool of sqlx's `Any` driver, so the same binary runs on
//! SQLite (the default, embedded) and PostgreSQL (`postgres://…`).
//!
//! The key store, its `credentials` table and the portable-SQL helpers live in
//! [`idunox_keys_sqlx`], so a tower service outside Rocket reads the same database the same way;
//! this module wraps the pool `rocket_db_pools` manages in that crate's [`SqlKeyStore`] and owns
//! the portal's own tables (tenants and users, sessions, sign-in throttling, audit trail) and
//! their migrations (`reference-server/migrations/`, see [`migrator`]). A SQLite file it creates
//! is private to its owner ([`sqlite_file`]).
//!
//! SQL here is portable: times are `BIGINT` Unix seconds, ids `TEXT`, placeholders `$1…`.
//! Nullable values are never bound as SQL `NULL` arguments (sqlx 0.7's `Any` driver sends a
//! `NULL` as an `INT4` to PostgreSQL, which a `TEXT` column refuses): [`Args`] writes a literal
//! `NULL` instead, and [`get_opt`] reads nullable columns.
//!
//! Pool size and timeouts are Rocket's: `databases.idunox.max_connections` (default: 4 per
//! worker), `min_connections` (0), `connect_timeout` (seconds, default 5: also how long a request
//! waits before its 503 while the database is down) and `idle_timeout` (seconds, none). The
//! provisioning commands read the same keys ([`pool_settings`]).

use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use sqlx::AnyPool;

pub mod accounts;
pub mod audit;
pub mod pool;
pub mod sessions;
pub mod sqlite_file;
pub mod staff;
pub mod store;
pub mod tenants;
pub mod throttle;

pub use idunox_keys_sqlx::Backend;
pub(crate) use idunox_keys_sqlx::portable::{Args, get_opt};
pub use store::SqlKeyStore;

/// The pool, as `rocket_db_pools` manages it (`databases.idunox` in the configuration).
#[derive(Database)]
#[database("idunox")]
pub struct Db(pub AnyPool);

/// The pool and which backend it talks to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SqlDb {
    /// The pool.
    pub pool: AnyPool,
    /// Its backend.
    pub backend: Backend,
}

impl SqlDb {
    /// Wrap a pool.
    pub fn new(pool: AnyPool, backend: Backend) -> Self {
        Self { pool, backend }
    }

    /// Connect outside Rocket (tests, tools) with `rocket_db_pools`' default pool settings.
    ///
    /// # Errors
    /// When the URL is not SQLite or PostgreSQL or the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        Self::connect_with(url, &idunox_keys_sqlx::PoolSettings::default()).await
    }

    /// Connect outside Rocket with these pool settings (the provisioning commands pass
    /// [`pool_settings`] of the configuration).
    ///
    /// # Errors
    /// When the URL is not SQLite or PostgreSQL or the database cannot be reached.
    pub async fn connect_with(
        url: &str,
        settings: &idunox_keys_sqlx::PoolSettings,
    ) -> Result<Self, sqlx::Error> {
        let backend = Backend::from_url(url).ok_or_else(|| {
            sqlx::Error::Configuration("the database URL must be sqlite: or postgres:".into())
        })?;
        sqlite_file::create_private(&crate::config::normalize_database_url(url))?;
        let pool = idunox_keys_sqlx::connect(url, settings).await?;
        Ok(Self { pool, backend })
    }

    /// Apply the key store's migrations ([`idunox_keys_sqlx::migrate`]: the `credentials`
    /// table and its change feed), then the portal's own ([`migrator`]: tenants, users,
    /// throttling, audit trail, …).
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        idunox_keys_sqlx::migrate(&self.pool, self.backend).await?;
        migrator(self.backend).run(&self.pool).await
    }
}

// `ignore_missing`: the key store's migrations record themselves in the same `_sqlx_migrations`
// table, and so did the single all-tables migration (20261127000001) of databases made by 0.1.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate::Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("migrations/sqlite")
};
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate::Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("migrations/postgres")
};

/// The portal's own embedded migrations for `backend` (`reference-server/migrations/`):
/// tenants, users, sessions, sign-in throttling, audit trail. The key store's table comes from
/// [`idunox_keys_sqlx::migrate`]; [`SqlDb::migrate`] applies both.
pub fn migrator(backend: Backend) -> &'static sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        // `Backend` is non-exhaustive; PostgreSQL is the only other backend there is.
        _ => &POSTGRES_MIGRATIONS,
    }
}

/// The pool settings under `databases.idunox` with `rocket_db_pools`' defaults
/// (`max_connections` = 4 × `workers`, `connect_timeout` = 5 s).
pub fn pool_settings(figment: &Figment) -> idunox_keys_sqlx::PoolSettings {
    let workers: usize = figment
        .extract_inner(rocket::Config::WORKERS)
        .unwrap_or_else(|_| std::thread::available_parallelism().map_or(1, usize::from));
    let key = |k: &str| format!("databases.{}.{k}", crate::config::DATABASE_NAME);
    let secs = |k: &str| figment.extract_inner::<u64>(&key(k)).ok();
    idunox_keys_sqlx::PoolSettings {
        max_connections: figment
            .extract_inner::<u32>(&key("max_connections"))
            .unwrap_or_else(|_| u32::try_from(workers * 4).unwrap_or(u32::MAX)),
        min_connections: figment
            .extract_inner::<u32>(&key("min_connections"))
            .unwrap_or(0),
        connect_timeout: Duration::from_secs(secs("connect_timeout").unwrap_or(5)),
        idle_timeout: secs("idle_timeout").map(Duration::from_secs),
    }
}

/// Create a missing SQLite database file with mode 0600 before [`pool::stage`] opens the pool
/// (see [`sqlite_file`]). Attach before it.
pub fn file_stage() -> AdHoc {
    AdHoc::try_on_ignite("SQLite file", |rocket: Rocket<Build>| async move {
        let url: Option<String> = rocket
            .figment()
            .extract_inner(&format!("databases.{}.url", crate::config::DATABASE_NAME))
            .ok();
        match url.map(|u| sqlite_file::create_private(&u)) {
            Some(Err(e)) => {
                tracing::error!("cannot create the SQLite database file: {e}");
                Err(rocket)
            }
            _ => Ok(rocket),
        }
    })
}

/// Migrations and the [`SqlDb`] handle, run after [`pool::stage`] has opened the pool.
/// Attach it first, then this.
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Database migrations", |rocket: Rocket<Build>| async move {
        let Some(db) = Db::fetch(&rocket) else {
            tracing::error!("the database pool was not initialised");
            return Err(rocket);
        };
        let url: Option<String> = rocket
            .figment()
            .extract_inner(&format!("databases.{}.url", crate::config::DATABASE_NAME))
            .ok();
        let Some(backend) = url.as_deref().and_then(Backend::from_url) else {
            tracing::error!("databases.idunox.url must start with sqlite: or postgres:");
            return Err(rocket);
        };
        let sql = SqlDb::new(db.0.clone(), backend);
        if let Err(e) = sql.migrate().await {
            tracing::error!("database migrations failed: {e}");
            return Err(rocket);
        }
        Ok(rocket.manage(sql))
    })
}
