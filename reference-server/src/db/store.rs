//! [`SqlKeyStore`]: the core's [`KeyStore`] over SQLite or PostgreSQL.
//!
//! Usable outside Rocket: build it from any [`SqlDb`] (for example [`SqlDb::connect`]) and hand
//! it to an [`idunox_keys::Verifier`] in a tower service.
//!
//! Rotation is one transaction whose first statement is a conditional `UPDATE` of the
//! predecessor (`… WHERE revoked_at IS NULL AND replaced_by IS NULL AND expires_at > now`):
//! the database serialises concurrent writers on that row (PostgreSQL re-checks the condition
//! after a concurrent commit; SQLite takes its write lock before reading, waiting under the busy
//! timeout), so of any number of concurrent rotations exactly one updates a row and inserts a
//! successor; the others see zero rows and get [`StoreError::Conflict`].
//!
//! ```no_run
//! use idunox_keys::{KeyFormat, Verifier};
//! use reference_server::db::{SqlDb, SqlKeyStore};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let db = SqlDb::connect("postgres://portal@db.internal/idunox").await?;
//! let verifier = Verifier::new(SqlKeyStore::new(db), KeyFormat::new("idx", "live")?);
//! let verified = verifier.verify_str("idx_live_…").await;
//! # Ok(()) }
//! ```

use core::future::Future;

use idunox_keys::{Credential, KeyId, KeyStore, Rotation, StoreError, TenantId};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::{Args, SqlDb};

/// A [`KeyStore`] over the server's database. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct SqlKeyStore {
    db: SqlDb,
}

const COLUMNS: &str = "key_id, tenant_id, name, masked_key, secret_hash, created_at, expires_at, \
    grace_expires_at, revoked_at, replaced_by, replaces, last_used_at";

impl SqlKeyStore {
    /// A store over this database.
    pub fn new(db: SqlDb) -> Self {
        Self { db }
    }

    /// The database.
    pub fn db(&self) -> &SqlDb {
        &self.db
    }

    async fn find_owned(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
    ) -> Result<Option<Credential>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM credentials WHERE key_id = $1 AND tenant_id = $2");
        let row = sqlx::query(&sql)
            .bind(key_id.as_str())
            .bind(tenant_id.as_str())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(credential_from_row).transpose()
    }
}

/// Map a driver error to [`StoreError::Backend`] (503 at the HTTP edge).
pub fn backend(e: sqlx::Error) -> StoreError {
    StoreError::backend(e)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Unix seconds to an instant.
pub(crate) fn ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| StoreError::backend(format!("stored time out of range: {e}")))
}

fn opt_ts(secs: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    secs.map(ts).transpose()
}

fn key_id(s: &str) -> Result<KeyId, StoreError> {
    KeyId::parse(s).map_err(|e| StoreError::backend(format!("stored key id is malformed: {e}")))
}

fn credential_from_row(row: &AnyRow) -> Result<Credential, StoreError> {
    let get_s = |c: &str| row.try_get::<String, _>(c).map_err(backend);
    let get_os = |c: &str| super::get_opt::<String>(row, c).map_err(backend);
    let get_i = |c: &str| row.try_get::<i64, _>(c).map_err(backend);
    let get_oi = |c: &str| super::get_opt::<i64>(row, c).map_err(backend);
    Ok(Credential {
        key_id: key_id(&get_s("key_id")?)?,
        tenant_id: TenantId::new(get_s("tenant_id")?),
        name: get_os("name")?,
        masked_key: get_s("masked_key")?,
        secret_hash: get_s("secret_hash")?,
        created_at: ts(get_i("created_at")?)?,
        expires_at: ts(get_i("expires_at")?)?,
        grace_expires_at: opt_ts(get_oi("grace_expires_at")?)?,
        revoked_at: opt_ts(get_oi("revoked_at")?)?,
        replaced_by: get_os("replaced_by")?.as_deref().map(key_id).transpose()?,
        replaces: get_os("replaces")?.as_deref().map(key_id).transpose()?,
        last_used_at: opt_ts(get_oi("last_used_at")?)?,
    })
}

/// The `INSERT` of a credential, with its arguments.
fn insert_statement(c: &Credential) -> (String, Args) {
    let mut a = Args::new();
    let values = [
        a.text(c.key_id.as_str()),
        a.text(c.tenant_id.as_str()),
        a.opt_text(c.name.clone()),
        a.text(c.masked_key.clone()),
        a.text(c.secret_hash.clone()),
        a.int(c.created_at.unix_timestamp()),
        a.int(c.expires_at.unix_timestamp()),
        a.opt_int(c.grace_expires_at.map(OffsetDateTime::unix_timestamp)),
        a.opt_int(c.revoked_at.map(OffsetDateTime::unix_timestamp)),
        a.opt_text(c.replaced_by.map(|k| k.as_str().to_owned())),
        a.opt_text(c.replaces.map(|k| k.as_str().to_owned())),
        a.opt_int(c.last_used_at.map(OffsetDateTime::unix_timestamp)),
    ];
    let sql = format!(
        "INSERT INTO credentials ({COLUMNS}) VALUES ({})",
        values.join(", ")
    );
    (sql, a)
}

impl KeyStore for SqlKeyStore {
    async fn insert(&self, credential: Credential) -> Result<(), StoreError> {
        let (sql, args) = insert_statement(&credential);
        match args.query(&sql).execute(&self.db.pool).await {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::KeyIdTaken),
            Err(e) => Err(backend(e)),
        }
    }

    fn find(
        &self,
        key_id: &KeyId,
    ) -> impl Future<Output = Result<Option<Credential>, StoreError>> + Send {
        let key_id = *key_id;
        async move {
            let sql = format!("SELECT {COLUMNS} FROM credentials WHERE key_id = $1");
            let row = sqlx::query(&sql)
                .bind(key_id.as_str())
                .fetch_optional(&self.db.pool)
                .await
                .map_err(backend)?;
            row.as_ref().map(credential_from_row).transpose()
        }
    }

    fn list(
        &self,
        tenant_id: &TenantId,
    ) -> impl Future<Output = Result<Vec<Credential>, StoreError>> + Send {
        let tenant_id = tenant_id.clone();
        async move {
            let sql = format!(
                "SELECT {COLUMNS} FROM credentials WHERE tenant_id = $1 \
                 ORDER BY created_at DESC, seq DESC"
            );
            let rows = sqlx::query(&sql)
                .bind(tenant_id.as_str())
                .fetch_all(&self.db.pool)
                .await
                .map_err(backend)?;
            rows.iter().map(credential_from_row).collect()
        }
    }

    async fn rotate(&self, rotation: Rotation) -> Result<(), StoreError> {
        let mut tx = self.db.pool.begin().await.map_err(backend)?;
        // First statement of the transaction is the write: SQLite takes its write lock
        // here (waiting under the busy timeout), PostgreSQL locks the row.
        let updated = sqlx::query(
            "UPDATE credentials SET replaced_by = $1, grace_expires_at = $2 \
             WHERE key_id = $3 AND tenant_id = $4 AND revoked_at IS NULL \
             AND replaced_by IS NULL AND expires_at > $5",
        )
        .bind(rotation.successor.key_id.as_str())
        .bind(rotation.grace_expires_at.unix_timestamp())
        .bind(rotation.predecessor.as_str())
        .bind(rotation.tenant_id.as_str())
        .bind(rotation.now.unix_timestamp())
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if updated != 1 {
            let exists = sqlx::query(
                "SELECT COUNT(*) AS n FROM credentials WHERE key_id = $1 AND tenant_id = $2",
            )
            .bind(rotation.predecessor.as_str())
            .bind(rotation.tenant_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?
            .try_get::<i64, _>("n")
            .map_err(backend)?;
            tx.rollback().await.map_err(backend)?;
            return Err(if exists == 0 {
                StoreError::NotFound
            } else {
                StoreError::Conflict
            });
        }
        let (sql, args) = insert_statement(&rotation.successor);
        match args.query(&sql).execute(&mut *tx).await {
            Ok(_) => {}
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(if is_unique_violation(&e) {
                    StoreError::KeyIdTaken
                } else {
                    backend(e)
                });
            }
        }
        tx.commit().await.map_err(backend)
    }

    fn revoke(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Credential, StoreError>> + Send {
        let tenant_id = tenant_id.clone();
        let key_id = *key_id;
        async move {
            sqlx::query(
                "UPDATE credentials SET revoked_at = COALESCE(revoked_at, $1) \
                 WHERE key_id = $2 AND tenant_id = $3",
            )
            .bind(now.unix_timestamp())
            .bind(key_id.as_str())
            .bind(tenant_id.as_str())
            .execute(&self.db.pool)
            .await
            .map_err(backend)?;
            self.find_owned(&tenant_id, &key_id)
                .await?
                .ok_or(StoreError::NotFound)
        }
    }

    fn touch(
        &self,
        used: &[(KeyId, OffsetDateTime)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let used = used.to_vec();
        async move {
            if used.is_empty() {
                return Ok(());
            }
            let mut tx = self.db.pool.begin().await.map_err(backend)?;
            for (key_id, at) in &used {
                sqlx::query(
                    "UPDATE credentials SET last_used_at = $1 \
                     WHERE key_id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
                )
                .bind(at.unix_timestamp())
                .bind(key_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)
        }
    }
}
