//! The database: one `rocket_db_pools` pool of sqlx's `Any` driver, so the same binary runs on
//! SQLite (the default, embedded) and PostgreSQL (`postgres://…`).
//!
//! SQL here is portable: times are `BIGINT` Unix seconds, ids `TEXT`, placeholders `$1…`
//! (SQLite reads `$N` as the N-th argument). Nullable values are never bound as SQL `NULL`
//! arguments: sqlx 0.7's `Any` driver sends a `NULL` as an `INT4` to PostgreSQL, which a `TEXT`
//! column refuses, so [`Args`] writes a literal `NULL` into the statement instead.
//!
//! The schema lives in `migrations/sqlite` and `migrations/postgres`, embedded in the binary
//! and applied at start (and by every provisioning command).

use rocket::fairing::AdHoc;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::query::Query;
use sqlx::{Any, AnyPool};

pub mod accounts;
pub mod audit;
pub mod store;
pub mod throttle;

pub use store::SqlKeyStore;

/// The pool, as `rocket_db_pools` manages it (`databases.idunox` in the configuration).
#[derive(Database)]
#[database("idunox")]
pub struct Db(pub AnyPool);

/// Which database the URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:…`
    Sqlite,
    /// `postgres:…` or `postgresql:…`
    Postgres,
}

impl Backend {
    /// The backend of a database URL, if supported.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

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

    /// Connect outside Rocket (provisioning commands, tower services, tests), with sqlx's
    /// defaults for pool size and timeouts.
    ///
    /// # Errors
    /// When the URL is not SQLite or PostgreSQL or the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| {
            sqlx::Error::Configuration("the database URL must be sqlite: or postgres:".into())
        })?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(&crate::config::normalize_database_url(url))
            .await?;
        Ok(Self { pool, backend })
    }

    /// Apply the embedded migrations of this backend.
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }
}

/// Migrations and the [`SqlDb`] handle, run after [`Db::init`] has opened the pool.
/// Attach `Db::init()` first, then this.
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Database migrations", |rocket: Rocket<Build>| async move {
        let Some(db) = Db::fetch(&rocket) else {
            eprintln!("error: the database pool was not initialised");
            return Err(rocket);
        };
        let url: Option<String> = rocket
            .figment()
            .extract_inner(&format!("databases.{}.url", crate::config::DATABASE_NAME))
            .ok();
        let Some(backend) = url.as_deref().and_then(Backend::from_url) else {
            eprintln!("error: databases.idunox.url must start with sqlite: or postgres:");
            return Err(rocket);
        };
        let sql = SqlDb::new(db.0.clone(), backend);
        if let Err(e) = sql.migrate().await {
            eprintln!("error: database migrations failed: {e}");
            return Err(rocket);
        }
        Ok(rocket.manage(sql))
    })
}

/// A value bound to a statement.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// Builds the argument list of a statement, numbering `$N` placeholders, and writing `NULL`
/// literally for absent values (see the module docs).
#[derive(Default, Debug)]
pub(crate) struct Args {
    values: Vec<Arg>,
}

impl Args {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Bind `v`; returns its placeholder.
    pub(crate) fn push(&mut self, v: Arg) -> String {
        self.values.push(v);
        format!("${}", self.values.len())
    }

    pub(crate) fn text(&mut self, s: impl Into<String>) -> String {
        self.push(Arg::Text(s.into()))
    }

    pub(crate) fn int(&mut self, i: i64) -> String {
        self.push(Arg::Int(i))
    }

    pub(crate) fn opt_text(&mut self, s: Option<impl Into<String>>) -> String {
        match s {
            Some(s) => self.text(s),
            None => "NULL".to_owned(),
        }
    }

    pub(crate) fn opt_int(&mut self, i: Option<i64>) -> String {
        match i {
            Some(i) => self.int(i),
            None => "NULL".to_owned(),
        }
    }

    /// Bind every value to a query over `sql`.
    pub(crate) fn query(self, sql: &str) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(sql);
        for v in self.values {
            q = match v {
                Arg::Text(s) => q.bind(s),
                Arg::Int(i) => q.bind(i),
            };
        }
        q
    }
}

/// A nullable column. sqlx 0.7.4's `Any` values and type infos never report `is_null()`, so
/// `Option<T>` fails to decode a `NULL`; the type info's name does say `NULL`, so read that.
pub(crate) fn get_opt<'r, T>(
    row: &'r sqlx::any::AnyRow,
    col: &str,
) -> Result<Option<T>, sqlx::Error>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::{Row, TypeInfo, ValueRef};
    let raw = row.try_get_raw(col)?;
    if raw.is_null() || raw.type_info().name() == "NULL" {
        return Ok(None);
    }
    row.try_get(col).map(Some)
}
