//! [`KeyTx`]: the key store's writes inside one database transaction, beside the caller's own
//! statements (an audit trail, typically), committed together or not at all.
//!
//! ```
//! use idunox_keys::time::{Duration, OffsetDateTime};
//! use idunox_keys::{Credential, KeyFormat, KeyStore, TenantId};
//! use idunox_keys_sqlx::{Backend, PoolSettings, SqlKeyStore, connect, migrate, sqlx};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let pool = connect("sqlite::memory:", &PoolSettings { max_connections: 1, ..Default::default() }).await?;
//! migrate(&pool, Backend::Sqlite).await?;
//! sqlx::query("CREATE TABLE audit (action TEXT NOT NULL, key_id TEXT NOT NULL)").execute(&pool).await?;
//! let store = SqlKeyStore::new(pool);
//! # let key = KeyFormat::new("idx", "test")?.generate()?;
//! # let now = OffsetDateTime::now_utc();
//! # let credential = Credential { key_id: key.key_id(), tenant_id: TenantId::new("ten_acme"),
//! #     name: None, masked_key: key.masked().to_owned(), secret_hash: "$argon2id$…".into(),
//! #     created_at: now, expires_at: now + Duration::days(365), grace_expires_at: None,
//! #     revoked_at: None, replaced_by: None, replaces: None, last_used_at: None, scopes: None,
//! #     allowed_ips: None };
//! let id = credential.key_id;
//!
//! let mut tx = store.begin().await?;
//! tx.insert(credential, None).await?;
//! sqlx::query("INSERT INTO audit (action, key_id) VALUES ($1, $2)")
//!     .bind("credential.created")
//!     .bind(id.as_str())
//!     .execute(tx.connection())
//!     .await?;
//! tx.commit().await?; // both rows, or neither; then the change feed hears of it
//! assert!(store.find(&id).await?.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use std::sync::Arc;

use idunox_keys::{
    ChangeFeed, Credential, KeyId, LiveLimit, Patch, Rotation, StoreError, TenantId,
};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use time::OffsetDateTime;

use crate::Backend;
use crate::sql::{self, backend, bind_credential, bind_patch, count};
use crate::touch::Touches;

/// One transaction on the key store's database (from [`SqlKeyStore::begin`]).
///
/// It offers the writes of [`KeyStore`](idunox_keys::KeyStore) with the same rules and errors,
/// and the transaction's [`connection`](Self::connection) for the caller's own statements.
/// [`commit`](Self::commit) makes everything durable at once and then tells this store's change
/// feed which credentials changed (other instances hear of it from the database); dropping it,
/// or [`rollback`](Self::rollback), undoes everything and tells nobody.
///
/// Each write either makes its whole change or none: a refusal (`NotFound`, `Conflict`,
/// `KeyIdTaken`, `LimitReached`) leaves the transaction usable. After a
/// [`StoreError::Backend`], drop the transaction (PostgreSQL refuses further statements in a
/// transaction that failed).
///
/// On SQLite the transaction holds the database's write lock from `begin` to its end (as
/// `BEGIN IMMEDIATE` does), so it never fails to upgrade a read lock half-way; other writers
/// wait meanwhile (up to the busy timeout). Keep it short, and write the caller's own rows
/// through [`connection`](Self::connection), never through another connection of the pool,
/// which would wait for this transaction's lock.
///
/// [`SqlKeyStore::begin`]: crate::SqlKeyStore::begin
pub struct KeyTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    touches: Arc<Touches>,
    feed: Option<ChangeFeed>,
    changed: Vec<KeyId>,
}

impl KeyTx {
    pub(crate) async fn begin(
        pool: &sqlx::AnyPool,
        kind: Backend,
        touches: Arc<Touches>,
        feed: Option<ChangeFeed>,
    ) -> Result<Self, StoreError> {
        let mut tx = pool.begin().await.map_err(backend)?;
        if kind == Backend::Sqlite {
            sqlx::query(sql::SQLITE_WRITE_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        Ok(Self {
            tx,
            backend: kind,
            touches,
            feed,
            changed: Vec::new(),
        })
    }

    /// The transaction's connection, for the caller's own statements
    /// (`sqlx::query(…).execute(tx.connection())`).
    pub fn connection(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// The credentials this transaction changed so far (published by [`commit`](Self::commit)).
    pub fn changed(&self) -> &[KeyId] {
        &self.changed
    }

    /// Commit, then publish the changed credentials to this store's change feed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the commit fails. The changes are published to the local
    /// feed even then (the commit may have happened before the connection failed; a needless
    /// invalidation costs one read, a missed one would serve a stale record).
    pub async fn commit(self) -> Result<(), StoreError> {
        let Self {
            tx, feed, changed, ..
        } = self;
        let result = tx.commit().await.map_err(backend);
        if let Some(feed) = feed {
            feed.changed(&changed);
        }
        result
    }

    /// Undo everything; nothing is published.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the rollback cannot be sent (the database discards the
    /// transaction anyway when the connection ends).
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await.map_err(backend)
    }

    /// [`KeyStore::insert`](idunox_keys::KeyStore::insert) in this transaction.
    ///
    /// # Errors
    /// [`StoreError::KeyIdTaken`], [`StoreError::LimitReached`], [`StoreError::Backend`].
    pub async fn insert(
        &mut self,
        credential: Credential,
        limit: Option<LiveLimit>,
    ) -> Result<(), StoreError> {
        let id = credential.key_id;
        let inserted = match limit {
            None => bind_credential(sqlx::query(sql::INSERT), &credential)
                .execute(&mut *self.tx)
                .await
                .map_err(insert_err)?
                .rows_affected(),
            Some(limit) => {
                if self.backend == Backend::Postgres {
                    sqlx::query(sql::LOCK_TENANT_PG)
                        .bind(credential.tenant_id.as_str().to_owned())
                        .execute(&mut *self.tx)
                        .await
                        .map_err(backend)?;
                }
                bind_credential(sqlx::query(sql::INSERT_LIMITED), &credential)
                    .bind(limit.now.unix_timestamp())
                    .bind(i64::try_from(limit.max).unwrap_or(i64::MAX))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(insert_err)?
                    .rows_affected()
            }
        };
        if inserted == 1 {
            self.changed.push(id);
            return Ok(());
        }
        if self.id_exists(&id).await? {
            Err(StoreError::KeyIdTaken)
        } else {
            Err(StoreError::LimitReached)
        }
    }

    /// [`KeyStore::rotate`](idunox_keys::KeyStore::rotate) in this transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Conflict`], [`StoreError::KeyIdTaken`] (nothing
    /// changed), [`StoreError::Backend`].
    pub async fn rotate(&mut self, rotation: Rotation) -> Result<(), StoreError> {
        let successor = rotation.successor.key_id;
        // The successor first: a taken id changes nothing.
        let inserted = bind_credential(sqlx::query(sql::INSERT), &rotation.successor)
            .execute(&mut *self.tx)
            .await
            .map_err(insert_err)?
            .rows_affected();
        if inserted != 1 {
            return Err(StoreError::KeyIdTaken);
        }
        // PostgreSQL locks the predecessor's row here: of concurrent rotations one updates it,
        // the others re-check the condition after its commit and find it superseded.
        let updated = sqlx::query(sql::SUPERSEDE)
            .bind(successor.as_str().to_owned())
            .bind(rotation.grace_expires_at.unix_timestamp())
            .bind(rotation.predecessor.as_str().to_owned())
            .bind(rotation.tenant_id.as_str().to_owned())
            .bind(rotation.now.unix_timestamp())
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?
            .rows_affected();
        if updated == 1 {
            self.changed.extend([rotation.predecessor, successor]);
            return Ok(());
        }
        sqlx::query(sql::DELETE_ONE)
            .bind(successor.as_str().to_owned())
            .bind(rotation.successor.tenant_id.as_str().to_owned())
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        Err(
            if self
                .exists_for(&rotation.tenant_id, &rotation.predecessor)
                .await?
            {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            },
        )
    }

    /// [`KeyStore::revoke`](idunox_keys::KeyStore::revoke) in this transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Backend`].
    pub async fn revoke(
        &mut self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        let row = sqlx::query(sql::REVOKE)
            .bind(now.unix_timestamp())
            .bind(key_id.as_str().to_owned())
            .bind(tenant_id.as_str().to_owned())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?;
        let c = self.record(&row)?;
        if c.revoked_at == Some(now) {
            self.changed.push(*key_id);
        }
        Ok(c)
    }

    /// [`KeyStore::update`](idunox_keys::KeyStore::update) in this transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Conflict`] (revoked or expired),
    /// [`StoreError::Backend`].
    pub async fn update(
        &mut self,
        tenant_id: &TenantId,
        key_id: &KeyId,
        patch: &Patch,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        let q = bind_patch(sqlx::query(sql::UPDATE), patch.name.clone());
        let q = bind_patch(
            q,
            patch
                .scopes
                .as_ref()
                .map(|s| sql::scopes_text(s.as_deref())),
        );
        let q = bind_patch(
            q,
            patch
                .allowed_ips
                .as_ref()
                .map(|l| sql::ips_text(l.as_deref())),
        );
        let row = q
            .bind(key_id.as_str().to_owned())
            .bind(tenant_id.as_str().to_owned())
            .bind(now.unix_timestamp())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(backend)?;
        match row {
            Some(row) => {
                if !patch.is_empty() {
                    self.changed.push(*key_id);
                }
                self.record(&row)
            }
            None if self.exists_for(tenant_id, key_id).await? => Err(StoreError::Conflict),
            None => Err(StoreError::NotFound),
        }
    }

    /// [`KeyStore::revoke_all`](idunox_keys::KeyStore::revoke_all) in this transaction.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn revoke_all(
        &mut self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> Result<Vec<KeyId>, StoreError> {
        let rows = sqlx::query(sql::REVOKE_ALL)
            .bind(now.unix_timestamp())
            .bind(tenant_id.as_str().to_owned())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?;
        let ids = rows
            .iter()
            .map(|r| {
                use sqlx::Row;
                sql::key_id(&r.try_get::<String, _>("key_id").map_err(backend)?)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.changed.extend_from_slice(&ids);
        Ok(ids)
    }

    /// [`KeyStore::replace_hash`](idunox_keys::KeyStore::replace_hash) in this transaction.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn replace_hash(
        &mut self,
        key_id: &KeyId,
        old_hash: &str,
        new_hash: String,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::REPLACE_HASH)
            .bind(new_hash)
            .bind(key_id.as_str().to_owned())
            .bind(old_hash.to_owned())
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        let replaced = done.rows_affected() == 1;
        if replaced {
            self.changed.push(*key_id);
        }
        Ok(replaced)
    }

    /// The credential with this key id as this transaction sees it (its own writes included).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn find(&mut self, key_id: &KeyId) -> Result<Option<Arc<Credential>>, StoreError> {
        let row = sqlx::query(sql::FIND)
            .bind(key_id.as_str().to_owned())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(backend)?;
        row.as_ref().map(|r| self.record(r)).transpose()
    }

    async fn id_exists(&mut self, key_id: &KeyId) -> Result<bool, StoreError> {
        let row = sqlx::query(sql::ID_EXISTS)
            .bind(key_id.as_str().to_owned())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(count(&row)? > 0)
    }

    async fn exists_for(
        &mut self,
        tenant_id: &TenantId,
        key_id: &KeyId,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(sql::EXISTS_FOR_TENANT)
            .bind(key_id.as_str().to_owned())
            .bind(tenant_id.as_str().to_owned())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(count(&row)? > 0)
    }

    /// A row as a shared record, with this process's buffered last use laid over it.
    fn record(&self, row: &AnyRow) -> Result<Arc<Credential>, StoreError> {
        self.touches.record(row)
    }
}

impl fmt::Debug for KeyTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyTx")
            .field("backend", &self.backend)
            .field("changed", &self.changed)
            .finish_non_exhaustive()
    }
}

/// A unique violation on insert is a taken key id (`ON CONFLICT` normally prevents it).
fn insert_err(e: sqlx::Error) -> StoreError {
    if sql::is_unique_violation(&e) {
        StoreError::KeyIdTaken
    } else {
        backend(e)
    }
}
