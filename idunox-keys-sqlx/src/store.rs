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

use idunox_keys::restrictions::IpNet;
use idunox_keys::{Credential, KeyId, KeyStore, LiveLimit, Patch, Rotation, StoreError, TenantId};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use crate::portable::{Args, get_opt};
use crate::touch::{TouchBatch, Touches};

const COLUMNS: &str = "key_id, tenant_id, name, masked_key, secret_hash, created_at, expires_at, \
    grace_expires_at, revoked_at, replaced_by, replaces, last_used_at, scopes, allowed_ips";

/// `SELECT` of every column by key id (the verification path).
const FIND_SQL: &str = "SELECT key_id, tenant_id, name, masked_key, secret_hash, created_at, \
    expires_at, grace_expires_at, revoked_at, replaced_by, replaces, last_used_at, scopes, \
    allowed_ips FROM credentials WHERE key_id = $1";

/// A key that still verifies at `$now` (active, expiring, grace), for `{now}` = a placeholder.
fn live(now: &str) -> String {
    format!(
        "revoked_at IS NULL AND expires_at > {now} \
         AND (replaced_by IS NULL OR grace_expires_at > {now})"
    )
}

/// A [`KeyStore`] over the portal's database (see the [crate docs](crate)). Cheap to clone:
/// clones share the pool and the last-used buffer.
#[derive(Clone)]
pub struct SqlKeyStore {
    pool: AnyPool,
    backend: crate::Backend,
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
        let url = pool.connect_options().database_url.to_string();
        Self {
            touches: Arc::new(Touches::new(pool.clone(), batch)),
            backend: crate::Backend::from_url(&url).unwrap_or(crate::Backend::Sqlite),
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
    ) -> Result<Option<Arc<Credential>>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM credentials WHERE key_id = $1 AND tenant_id = $2");
        let row = sqlx::query(&sql)
            .bind(key_id.as_str())
            .bind(tenant_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref()
            .map(|r| self.credential(r).map(Arc::new))
            .transpose()
    }

    /// Whether a credential with this id exists for this tenant.
    async fn exists(&self, tenant_id: &TenantId, key_id: &KeyId) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "SELECT COUNT(*) AS n FROM credentials WHERE key_id = $1 AND tenant_id = $2",
        )
        .bind(key_id.as_str())
        .bind(tenant_id.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?
        .try_get::<i64, _>("n")
        .map_err(backend)?;
        Ok(n > 0)
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
        scopes: get_os("scopes")?.map(|s| words(&s).map(str::to_owned).collect()),
        allowed_ips: get_os("allowed_ips")?
            .map(|s| {
                words(&s)
                    .map(|w| {
                        w.parse::<IpNet>().map_err(|e| {
                            StoreError::backend(format!("stored allow-list entry {w:?}: {e}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?,
    })
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|w| !w.is_empty())
}

/// Scopes as stored: space-separated.
fn scopes_text(scopes: Option<&[String]>) -> Option<String> {
    scopes.map(|s| s.join(" "))
}

/// An allow-list as stored: space-separated CIDRs.
fn ips_text(ips: Option<&[IpNet]>) -> Option<String> {
    ips.map(|l| {
        l.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
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
        a.opt_text(scopes_text(c.scopes.as_deref())),
        a.opt_text(ips_text(c.allowed_ips.as_deref())),
    ];
    let sql = format!(
        "INSERT INTO credentials ({COLUMNS}) VALUES ({})",
        values.join(", ")
    );
    (sql, a)
}

/// The `INSERT` of a credential only while its tenant holds fewer than `limit.max` live keys.
fn limited_insert_statement(c: &Credential, limit: LiveLimit) -> (String, Args) {
    let mut b = Args::new();
    let values = [
        b.text(c.key_id.as_str()),
        b.text(c.tenant_id.as_str()),
        b.opt_text(c.name.clone()),
        b.text(c.masked_key.clone()),
        b.text(c.secret_hash.clone()),
        b.int(c.created_at.unix_timestamp()),
        b.int(c.expires_at.unix_timestamp()),
        b.opt_int(c.grace_expires_at.map(OffsetDateTime::unix_timestamp)),
        b.opt_int(c.revoked_at.map(OffsetDateTime::unix_timestamp)),
        b.opt_text(c.replaced_by.map(|k| k.as_str().to_owned())),
        b.opt_text(c.replaces.map(|k| k.as_str().to_owned())),
        b.opt_int(c.last_used_at.map(OffsetDateTime::unix_timestamp)),
        b.opt_text(scopes_text(c.scopes.as_deref())),
        b.opt_text(ips_text(c.allowed_ips.as_deref())),
    ];
    let tenant = b.text(c.tenant_id.as_str());
    let now = b.int(limit.now.unix_timestamp());
    let max = b.int(i64::try_from(limit.max).unwrap_or(i64::MAX));
    let sql = format!(
        "INSERT INTO credentials ({COLUMNS}) SELECT {} \
         WHERE (SELECT COUNT(*) FROM credentials WHERE tenant_id = {tenant} AND {}) < {max}",
        values.join(", "),
        live(&now)
    );
    (sql, b)
}

impl KeyStore for SqlKeyStore {
    async fn insert(
        &self,
        credential: Credential,
        limit: Option<LiveLimit>,
    ) -> Result<(), StoreError> {
        let Some(limit) = limit else {
            let (sql, args) = insert_statement(&credential);
            return match args.query(&sql).execute(&self.pool).await {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::KeyIdTaken),
                Err(e) => Err(backend(e)),
            };
        };
        let mut tx = self.pool.begin().await.map_err(backend)?;
        if self.backend == crate::Backend::Postgres {
            // Serialise the count and the insert per tenant (SQLite serialises every writer).
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('idunox-live:' || $1))")
                .bind(credential.tenant_id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        let (sql, args) = limited_insert_statement(&credential, limit);
        let inserted = match args.query(&sql).execute(&mut *tx).await {
            Ok(done) => done.rows_affected(),
            Err(e) if is_unique_violation(&e) => return Err(StoreError::KeyIdTaken),
            Err(e) => return Err(backend(e)),
        };
        tx.commit().await.map_err(backend)?;
        if inserted == 1 {
            Ok(())
        } else {
            Err(StoreError::LimitReached)
        }
    }

    /// One query by the unique index on `key_id` (constant SQL text).
    fn find(
        &self,
        key_id: &KeyId,
    ) -> impl Future<Output = Result<Option<Arc<Credential>>, StoreError>> + Send {
        let key_id = *key_id;
        async move {
            let row = sqlx::query(FIND_SQL)
                .bind(key_id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            row.as_ref()
                .map(|r| self.credential(r).map(Arc::new))
                .transpose()
        }
    }

    fn list(
        &self,
        tenant_id: &TenantId,
    ) -> impl Future<Output = Result<Vec<Arc<Credential>>, StoreError>> + Send {
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
            rows.iter()
                .map(|r| self.credential(r).map(Arc::new))
                .collect()
        }
    }

    fn count_live(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        let tenant_id = tenant_id.clone();
        async move {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM credentials WHERE tenant_id = $1 AND {}",
                live("$2")
            );
            let n = sqlx::query(&sql)
                .bind(tenant_id.as_str())
                .bind(now.unix_timestamp())
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?
                .try_get::<i64, _>("n")
                .map_err(backend)?;
            Ok(usize::try_from(n).unwrap_or(0))
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
    ) -> impl Future<Output = Result<Arc<Credential>, StoreError>> + Send {
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

    fn update(
        &self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        patch: &Patch,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Arc<Credential>, StoreError>> + Send {
        let tenant_id = tenant_id.clone();
        let key_id = *key_id;
        let patch = patch.clone();
        async move {
            if !patch.is_empty() {
                let mut a = Args::new();
                let mut sets = Vec::new();
                if let Some(name) = &patch.name {
                    sets.push(format!("name = {}", a.opt_text(name.clone())));
                }
                if let Some(scopes) = &patch.scopes {
                    sets.push(format!(
                        "scopes = {}",
                        a.opt_text(scopes_text(scopes.as_deref()))
                    ));
                }
                if let Some(ips) = &patch.allowed_ips {
                    sets.push(format!(
                        "allowed_ips = {}",
                        a.opt_text(ips_text(ips.as_deref()))
                    ));
                }
                let id = a.text(key_id.as_str());
                let tenant = a.text(tenant_id.as_str());
                let now = a.int(now.unix_timestamp());
                let sql = format!(
                    "UPDATE credentials SET {} WHERE key_id = {id} AND tenant_id = {tenant} AND {}",
                    sets.join(", "),
                    live(&now)
                );
                let done = a.query(&sql).execute(&self.pool).await.map_err(backend)?;
                if done.rows_affected() != 1 {
                    return Err(if self.exists(&tenant_id, &key_id).await? {
                        StoreError::Conflict
                    } else {
                        StoreError::NotFound
                    });
                }
            }
            let found = self.find_owned(&tenant_id, &key_id).await?;
            match found {
                Some(c) if patch.is_empty() && !idunox_keys::store::is_live(&c, now) => {
                    Err(StoreError::Conflict)
                }
                Some(c) => Ok(c),
                None => Err(StoreError::NotFound),
            }
        }
    }

    fn revoke_all(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<KeyId>, StoreError>> + Send {
        let tenant_id = tenant_id.clone();
        async move {
            let sql = format!(
                "UPDATE credentials SET revoked_at = $1 WHERE tenant_id = $2 AND {} \
                 RETURNING key_id",
                live("$1")
            );
            let rows = sqlx::query(&sql)
                .bind(now.unix_timestamp())
                .bind(tenant_id.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
            rows.iter()
                .map(|r| key_id(&r.try_get::<String, _>("key_id").map_err(backend)?))
                .collect()
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

    /// Buffers only (see [`TouchBatch`]) and never waits for the database: the background
    /// writer (started on the first call inside a tokio runtime) writes the buffer; without a
    /// runtime the entries wait for [`flush`](SqlKeyStore::flush).
    fn touch(&self, used: &[(KeyId, OffsetDateTime)]) {
        if used.is_empty() {
            return;
        }
        let full = self.touches.add(used);
        if self.touches.ensure_flusher() && full {
            self.touches.wake();
        }
    }
}
