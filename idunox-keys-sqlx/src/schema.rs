//! [`check_schema`]: say at start-up, in a sentence, why a database cannot serve as the key
//! store, instead of answering every request with 503.
//!
//! ```
//! use idunox_keys_sqlx::{Backend, PoolSettings, SchemaError, check_schema, connect, migrate};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let pool = connect("sqlite::memory:", &PoolSettings { max_connections: 1, ..Default::default() }).await?;
//! let err = check_schema(&pool).await.unwrap_err();
//! assert!(matches!(err, SchemaError::NoCredentialsTable));
//! assert!(err.to_string().starts_with("no credentials table: is this the portal's database?"));
//!
//! migrate(&pool, Backend::Sqlite).await?;
//! check_schema(&pool).await?;
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use std::collections::HashSet;

use sqlx::{AnyPool, Row};

use crate::{Backend, migrator};

/// What is wrong with a database as the key store (see [`check_schema`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum SchemaError {
    /// The database has no `credentials` table: an empty or wrong database (a typo in a SQLite
    /// path creates an empty file), or one nobody migrated.
    NoCredentialsTable,
    /// Some of the key store's migrations are not applied.
    MigrationsBehind {
        /// The missing migrations: version and description.
        missing: Vec<(i64, String)>,
    },
    /// A migration started and did not finish.
    MigrationFailed {
        /// Its version.
        version: i64,
    },
    /// The database URL is neither SQLite nor PostgreSQL.
    UnsupportedDatabase,
    /// The database could not be asked.
    Database(sqlx::Error),
}

impl SchemaError {
    /// A stable snake_case code: `no_credentials_table`, `migrations_behind`,
    /// `migration_failed`, `unsupported_database`, `database_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoCredentialsTable => "no_credentials_table",
            Self::MigrationsBehind { .. } => "migrations_behind",
            Self::MigrationFailed { .. } => "migration_failed",
            Self::UnsupportedDatabase => "unsupported_database",
            Self::Database(_) => "database_unavailable",
        }
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCredentialsTable => f.write_str(
                "no credentials table: is this the portal's database? run the reference \
                 server's migrations first (start it once on this database, or call \
                 idunox_keys_sqlx::migrate)",
            ),
            Self::MigrationsBehind { missing } => {
                f.write_str("migrations behind: the database lacks ")?;
                for (i, (version, description)) in missing.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{version} ({description})")?;
                }
                f.write_str(
                    "; run the newer reference server (or idunox_keys_sqlx::migrate) on it first",
                )
            }
            Self::MigrationFailed { version } => write!(
                f,
                "migration {version} started and did not finish: repair the database before \
                 using it"
            ),
            Self::UnsupportedDatabase => {
                f.write_str("the database URL must start with sqlite: or postgres:")
            }
            Self::Database(_) => f.write_str("the database cannot be read"),
        }
    }
}

impl std::error::Error for SchemaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Database(e) => Some(e),
            _ => None,
        }
    }
}

/// Check that `pool`'s database holds the key store's schema, with every migration this build
/// knows applied. Only reads (works on a read-only connection). A database ahead of this build
/// (applied migrations it does not know) passes: newer migrations keep the schema readable by
/// older builds, or say so in their release notes.
///
/// # Errors
/// [`SchemaError`], whose message says what is wrong and what to do.
pub async fn check_schema(pool: &AnyPool) -> Result<(), SchemaError> {
    let url = pool.connect_options().database_url.to_string();
    let backend = Backend::from_url(&url).ok_or(SchemaError::UnsupportedDatabase)?;
    if !has_table(pool, backend, "credentials").await? {
        return Err(SchemaError::NoCredentialsTable);
    }
    let applied: Vec<(i64, bool)> = if has_table(pool, backend, "_sqlx_migrations").await? {
        sqlx::query("SELECT CAST(version AS TEXT) AS v, CAST(success AS INTEGER) AS ok FROM _sqlx_migrations")
            .fetch_all(pool)
            .await
            .map_err(SchemaError::Database)?
            .iter()
            .map(|r| {
                let v = r.try_get::<String, _>("v")?;
                let ok = r.try_get::<i64, _>("ok")? != 0;
                Ok((v.parse::<i64>().unwrap_or(0), ok))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(SchemaError::Database)?
    } else {
        Vec::new()
    };
    if let Some((version, _)) = applied.iter().find(|(_, ok)| !ok) {
        return Err(SchemaError::MigrationFailed { version: *version });
    }
    let applied: HashSet<i64> = applied.into_iter().map(|(v, _)| v).collect();
    let missing: Vec<(i64, String)> = migrator(backend)
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::MigrationsBehind { missing })
    }
}

async fn has_table(pool: &AnyPool, backend: Backend, name: &str) -> Result<bool, SchemaError> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let n = sqlx::query(sql)
        .bind(name.to_owned())
        .fetch_one(pool)
        .await
        .and_then(|r| r.try_get::<i64, _>("n"))
        .map_err(SchemaError::Database)?;
    Ok(n > 0)
}
