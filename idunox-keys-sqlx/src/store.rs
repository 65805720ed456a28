//! [`SqlKeyStore`]: the core's [`KeyStore`] over the portal's SQLite or PostgreSQL database.
//!
//! **Verification** ([`KeyStore::find`]) is one query by the unique index on `key_id`; together
//! with the verifier's warm cache that is the whole hot path. No credential record is cached: the
//! status (revoked, superseded, expiry) is read fresh on every verification, so a revoke or a
//! rotation made by any process on the same database is seen by the very next request on every
//! other — the staleness bound is zero, with no `LISTEN/NOTIFY` or other invalidation protocol.
//! The verifier's warm cache holds only keyed digests of secrets that argon2 accepted, and a
//! key's secret never changes, so nothing in it can go stale.
//!
//! **Rotation** is one transaction whose first statement is a conditional `UPDATE` of the
//! predecessor (`… WHERE revoked_at IS NULL AND replaced_by IS NULL AND expires_at > now`): the
//! database serialises concurrent writers on that row (PostgreSQL re-checks the condition after
//! a concurrent commit; SQLite takes its write lock before reading, waiting under the busy
//! timeout), so of any number of concurrent rotations — from one process or several — exactly
//! one updates a row and inserts a successor; the others get [`StoreError::Conflict`].
//! **Revocation** sets `revoked_at = COALESCE(revoked_at, now)`: idempotent.
//!
//! **Last-used writes** are batched (see [`TouchBatch`]): `touch` only buffers, and one
//! statement writes the buffer once it is a second old or holds 256 keys, or on [`flush`].
//!
//! **Failures** of the database (down, unreachable, pool timed out) are
//! [`StoreError::Backend`]; the verifier turns them into `Refusal::Unavailable` (503). The pool
//! tests connections before use, so the store recovers by itself when the database returns.
//!
//! [`flush`]: SqlKeyStore::flush
//!
//! ```
//! use idunox_keys::{HashParams, KeyFormat, KeyManager, SecretHasher, TenantId, Verifier};
//! use idunox_keys_sqlx::{Backend, PoolSettings, SqlKeyStore, connect, migrate};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let pool = connect("sqlite::memory:", &PoolSettings { max_connections: 1, ..Default::default() }).await?;
//! migrate(&pool, Backend::Sqlite).await?;
//! let store = SqlKeyStore::new(pool);
//!
//! let format = KeyFormat::new("idx", "test")?;
//! let keys = KeyManager::new(store.clone(), format.clone())
//!     .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST)?);
//! let verifier = Verifier::new(store.clone(), format);
//!
//! let issued = keys.create(&TenantId::new("ten_acme"), None, None).await?;
//! let key = issued.api_key.expose_secret();
//! assert!(verifier.verify_str(key).await.is_ok());
//!
//! keys.revoke(&TenantId::new("ten_acme"), &issued.credential.key_id).await?;
//! assert_eq!(verifier.verify_str(key).await.unwrap_err().code(), "api_key_revoked");
//! store.flush().await?; // write buffered last-used times now (e.g. at shutdown)
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use core::future::Future;
use std::sync::Arc;

use idunox_keys::{Credential, KeyId, KeyStore, Rotation, StoreError, TenantId};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use crate::portable::{Args, get_opt};
use crate::touch::{TouchBatch, Touches};

const COLUMNS: &str = "key_id, tenant_id, name, masked_key, secret_hash, created_at, expires_at, \
    grace_expires_at, revoked_at, replaced_by, replaces, last_used_at";

/// A [`KeyStore`] over the portal's database (see the [crate docs](crate)). Cheap to clone:
/// clones share the pool and the last-used buffer.
#[derive(Clone)]
pub struct SqlKeyStore {
    pool: AnyPool,
    touches: Arc<Touches>,
}

impl SqlKeyStore {
    /// A store over `pool` (from [`connect`](crate::connect), or the pool `rocket_db_pools`
    /// manages), with the default [`TouchBatch`]. The schema must be in place
    /// ([`migrate`](crate::migrate)).
    pub fn new(pool: AnyPool) -> Self {
        Self::with_touch_batch(pool, TouchBatch::default())
    }

    /// A store whose last-used buffer is written by `batch`'s rules.
    pub fn with_touch_batch(pool: AnyPool, batch: TouchBatch) -> Self {
        Self {
            touches: Arc::new(Touches::new(pool.clone(), batch)),
            pool,
        }
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// When buffered last-used times are written.
    pub fn touch_batch(&self) -> TouchBatch {
        self.touches.batch()
    }

    /// How many keys' last-used times are buffered or being written.
    pub fn pending_touches(&self) -> usize {
        self.touches.buffered()
    }

    /// Write the buffered last-used times now (call it at shutdown; the background writer does
    /// it otherwise).
    ///
    /// # Errors
    /// [`StoreError::Backend`]; the entries stay buffered for the next attempt.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.touches.flush().await
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
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(|r| self.credential(r)).transpose()
    }

    /// A row as a credential, with this process's buffered last use laid over it.
    fn credential(&self, row: &AnyRow) -> Result<Credential, StoreError> {
        let mut c = credential_from_row(row)?;
        self.touches.overlay(&c.key_id, &mut c.last_used_at);
        Ok(c)
    }
}

impl fmt::Debug for SqlKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlKeyStore")
            .field("pool_size", &self.pool.size())
            .field("touch_batch", &self.touches.batch())
            .field("pending_touches", &self.touches.buffered())
            .finish_non_exhaustive()
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
fn ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
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
    let get_os = |c: &str| get_opt::<String>(row, c).map_err(backend);
    let get_i = |c: &str| row.try_get::<i64, _>(c).map_err(backend);
    let get_oi = |c: &str| get_opt::<i64>(row, c).map_err(backend);
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
        match args.query(&sql).execute(&self.pool).await {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::KeyIdTaken),
            Err(e) => Err(backend(e)),
        }
    }

    /// One query by the unique index on `key_id`; never cached.
    fn find(
        &self,
        key_id: &KeyId,
    ) -> impl Future<Output = Result<Option<Credential>, StoreError>> + Send {
        let key_id = *key_id;
        async move {
            let sql = format!("SELECT {COLUMNS} FROM credentials WHERE key_id = $1");
            let row = sqlx::query(&sql)
                .bind(key_id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            row.as_ref().map(|r| self.credential(r)).transpose()
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
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
            rows.iter().map(|r| self.credential(r)).collect()
        }
    }

    async fn rotate(&self, rotation: Rotation) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // The first statement of the transaction is the write: SQLite takes its write lock
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
        if let Err(e) = args.query(&sql).execute(&mut *tx).await {
            let _ = tx.rollback().await;
            return Err(if is_unique_violation(&e) {
                StoreError::KeyIdTaken
            } else {
                backend(e)
            });
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
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            self.find_owned(&tenant_id, &key_id)
                .await?
                .ok_or(StoreError::NotFound)
        }
    }

    fn replace_hash(
        &self,
        key_id: &KeyId,
        old_hash: &str,
        new_hash: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let key_id = *key_id;
        let old_hash = old_hash.to_owned();
        async move {
            let done = sqlx::query(
                "UPDATE credentials SET secret_hash = $1 WHERE key_id = $2 AND secret_hash = $3",
            )
            .bind(new_hash)
            .bind(key_id.as_str())
            .bind(old_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            Ok(done.rows_affected() == 1)
        }
    }

    /// Buffers only (see [`TouchBatch`]) and never waits for the database — unless no tokio
    /// runtime is at hand to run the background writer, in which case it writes the buffer here.
    fn touch(
        &self,
        used: &[(KeyId, OffsetDateTime)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let full = !used.is_empty() && self.touches.add(used);
        async move {
            if self.touches.buffered() == 0 {
                return Ok(());
            }
            if self.touches.ensure_flusher() {
                if full {
                    self.touches.wake();
                }
                Ok(())
            } else {
                self.touches.flush().await
            }
        }
    }
}
