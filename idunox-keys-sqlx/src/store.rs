//! [`SqlKeyStore`]: the core's [`KeyStore`] over the portal's SQLite or PostgreSQL database.
//!
//! **Verification** ([`KeyStore::find`]) is one query by the unique index on `key_id`, with
//! constant SQL text. With a change feed ([`SqlKeyStore::with_feed`]) a verifier may cache whole
//! records and skip even that, for as long as the feed confirms it has heard of every change
//! (see [`feed`](crate::feed)); without one, `feed()` is `None` and a verifier reads the record
//! on every request.
//!
//! **Writes** each run in one transaction ([`KeyTx`], which an application can also open itself
//! to write its own rows beside the change, e.g. an audit entry, with
//! [`SqlKeyStore::begin`]). After the commit the store publishes the change to its own feed, so
//! this instance sees it at once; the database's triggers announce it to every other.
//!
//! **Rotation** inserts the successor, then supersedes the predecessor with a conditional
//! `UPDATE` (`… WHERE revoked_at IS NULL AND replaced_by IS NULL AND expires_at > now`): the
//! database serialises concurrent writers on that row (PostgreSQL re-checks the condition after
//! a concurrent commit; SQLite's transaction holds the write lock from its start), so of any
//! number of concurrent rotations — from one process or several — exactly one succeeds; the
//! others get [`StoreError::Conflict`] and leave nothing behind. **Revocation** sets
//! `revoked_at = COALESCE(revoked_at, now)`: idempotent.
//!
//! **Last-used writes** are batched (see [`TouchBatch`]): `touch` only buffers, and one
//! statement writes the buffer once it is a second old or holds 256 keys, or on [`flush`]. They
//! are not changes: the feed does not announce them.
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

use idunox_keys::{
    ChangeFeed, Credential, KeyId, KeyStore, LiveLimit, Patch, Rotation, StoreError, TenantId,
};
use sqlx::AnyPool;
use time::OffsetDateTime;

use crate::feed::{FeedError, FeedRunner, FeedSettings};
use crate::page::{ListQuery, Page, PageError};
use crate::sql::{self, backend, count};
use crate::touch::{TouchBatch, Touches};
use crate::tx::KeyTx;
use crate::{Backend, db};

/// A [`KeyStore`] over the portal's database (see the [crate docs](crate)). Cheap to clone:
/// clones share the pool, the last-used buffer and the change feed, which stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct SqlKeyStore {
    pool: AnyPool,
    backend: Backend,
    touches: Arc<Touches>,
    feed: Option<Arc<FeedRunner>>,
    records_last_use: bool,
}

/// Builds a [`SqlKeyStore`] with non-default settings ([`SqlKeyStore::builder`]).
#[derive(Debug)]
#[must_use]
pub struct SqlKeyStoreBuilder {
    pool: AnyPool,
    touch_batch: TouchBatch,
    feed: Option<FeedSettings>,
}

impl SqlKeyStoreBuilder {
    /// When buffered last-used times are written.
    pub fn touch_batch(mut self, batch: TouchBatch) -> Self {
        self.touch_batch = batch;
        self
    }

    /// Run a change feed with these settings (see [`SqlKeyStore::with_feed`]).
    pub fn feed(mut self, settings: FeedSettings) -> Self {
        self.feed = Some(settings);
        self
    }

    /// The store; its feed, if any, starts now on the current tokio runtime.
    ///
    /// # Errors
    /// [`FeedError`] when a feed was asked for and cannot start (outside a tokio runtime, or a
    /// URL the feed cannot use).
    pub fn build(self) -> Result<SqlKeyStore, FeedError> {
        let url = self.pool.connect_options().database_url.to_string();
        let backend = Backend::from_url(&url).unwrap_or(Backend::Sqlite);
        let feed = self
            .feed
            .map(|settings| FeedRunner::start(&self.pool, backend, settings).map(Arc::new))
            .transpose()?;
        let records_last_use = !(backend == Backend::Sqlite && db::sqlite_mode(&url) == Some("ro"));
        Ok(SqlKeyStore {
            touches: Arc::new(Touches::new(self.pool.clone(), self.touch_batch)),
            backend,
            pool: self.pool,
            feed,
            records_last_use,
        })
    }
}

impl SqlKeyStore {
    /// A store over `pool` (from [`connect`](crate::connect), or the pool `rocket_db_pools`
    /// manages), with the default [`TouchBatch`] and no change feed. The schema must be in
    /// place ([`migrate`](crate::migrate), [`check_schema`](crate::check_schema)).
    pub fn new(pool: AnyPool) -> Self {
        Self::with_touch_batch(pool, TouchBatch::default())
    }

    /// A store whose last-used buffer is written by `batch`'s rules (no change feed).
    pub fn with_touch_batch(pool: AnyPool, batch: TouchBatch) -> Self {
        match Self::builder(pool).touch_batch(batch).build() {
            Ok(store) => store,
            // Without a feed, building cannot fail.
            Err(_) => unreachable!("a store without a feed always builds"),
        }
    }

    /// A store with a change feed: every committed change to a credential, by any process on
    /// the database, reaches [`KeyStore::feed`], so verifiers may cache records (see the crate
    /// README, "Change feed"). The feed runs as tasks on the current tokio runtime, with
    /// connections of its own (two on PostgreSQL, one on a SQLite file), until the last clone of
    /// the store is dropped. It is fresh once its first read (SQLite) or ping (PostgreSQL)
    /// completes, a few milliseconds after the start.
    ///
    /// # Errors
    /// [`FeedError::NoRuntime`] outside a tokio runtime; [`FeedError::Url`] when the pool's URL
    /// cannot be used for the feed's own connections.
    ///
    /// ```
    /// use std::time::Duration;
    /// use idunox_keys::KeyStore;
    /// use idunox_keys_sqlx::{Backend, FeedSettings, PoolSettings, SqlKeyStore, connect, migrate};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir()?;
    /// # let url = format!("sqlite://{}", dir.path().join("portal.sqlite").display());
    /// let pool = connect(&url, &PoolSettings::default()).await?;
    /// migrate(&pool, Backend::Sqlite).await?;
    /// let store = SqlKeyStore::with_feed(pool, FeedSettings::default())?;
    /// let feed = store.feed().expect("a feed");
    /// while !feed.is_fresh(Duration::from_secs(1)) {
    ///     tokio::time::sleep(Duration::from_millis(5)).await;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn with_feed(pool: AnyPool, settings: FeedSettings) -> Result<Self, FeedError> {
        Self::builder(pool).feed(settings).build()
    }

    /// A builder, for a store with several non-default settings.
    pub fn builder(pool: AnyPool) -> SqlKeyStoreBuilder {
        SqlKeyStoreBuilder {
            pool,
            touch_batch: TouchBatch::default(),
            feed: None,
        }
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database the pool talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Open a transaction for writes together with the caller's own statements (see
    /// [`KeyTx`]). On SQLite it takes the database's write lock at once.
    ///
    /// # Errors
    /// [`StoreError::Backend`] (no connection, or the write lock not granted within the busy
    /// timeout).
    pub async fn begin(&self) -> Result<KeyTx, StoreError> {
        KeyTx::begin(
            &self.pool,
            self.backend,
            Arc::clone(&self.touches),
            self.feed.as_ref().map(|f| f.feed.clone()),
        )
        .await
    }

    /// One page of a listing (see [`page`](crate::page)).
    ///
    /// # Errors
    /// [`PageError::InvalidCursor`], [`PageError::InvalidLimit`], [`PageError::SearchTooLong`],
    /// [`PageError::Store`].
    pub async fn page(&self, query: &ListQuery) -> Result<Page, PageError> {
        crate::page::page(&self.pool, self.backend, &self.touches, query).await
    }

    /// Whether this store writes last-used times. Not over a read-only SQLite database
    /// ([`connect_read_only`](crate::connect_read_only)): `touch` then does nothing.
    pub fn records_last_use(&self) -> bool {
        self.records_last_use
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

    /// A row as a shared record, with this process's buffered last use laid over it.
    fn record(&self, row: &sqlx::any::AnyRow) -> Result<Arc<Credential>, StoreError> {
        self.touches.record(row)
    }
}

impl fmt::Debug for SqlKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlKeyStore")
            .field("backend", &self.backend)
            .field("pool_size", &self.pool.size())
            .field("touch_batch", &self.touches.batch())
            .field("pending_touches", &self.touches.buffered())
            .field("feed", &self.feed.as_ref().map(|f| &f.feed))
            .finish_non_exhaustive()
    }
}

impl KeyStore for SqlKeyStore {
    async fn insert(
        &self,
        credential: Credential,
        limit: Option<LiveLimit>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.insert(credential, limit).await?;
        tx.commit().await
    }

    /// One query by the unique index on `key_id` (constant SQL text).
    fn find(
        &self,
        key_id: &KeyId,
    ) -> impl Future<Output = Result<Option<Arc<Credential>>, StoreError>> + Send {
        let key_id = *key_id;
        async move {
            let row = sqlx::query(sql::FIND)
                .bind(key_id.as_str().to_owned())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            row.as_ref().map(|r| self.record(r)).transpose()
        }
    }

    fn list(
        &self,
        tenant_id: &TenantId,
    ) -> impl Future<Output = Result<Vec<Arc<Credential>>, StoreError>> + Send {
        let tenant_id = tenant_id.clone();
        async move {
            let rows = sqlx::query(sql::LIST)
                .bind(tenant_id.as_str().to_owned())
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
            rows.iter().map(|r| self.record(r)).collect()
        }
    }

    fn count_live(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        let tenant_id = tenant_id.clone();
        async move {
            let row = sqlx::query(sql::COUNT_LIVE)
                .bind(tenant_id.as_str().to_owned())
                .bind(now.unix_timestamp())
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
            Ok(usize::try_from(count(&row)?).unwrap_or(0))
        }
    }

    async fn rotate(&self, rotation: Rotation) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.rotate(rotation).await?;
        tx.commit().await
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
            let mut tx = self.begin().await?;
            let c = tx.revoke(&tenant_id, &key_id, now).await?;
            tx.commit().await?;
            Ok(c)
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
            let mut tx = self.begin().await?;
            let c = tx.update(&tenant_id, &key_id, &patch, now).await?;
            tx.commit().await?;
            Ok(c)
        }
    }

    fn revoke_all(
        &self,
        tenant_id: &TenantId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<KeyId>, StoreError>> + Send {
        let tenant_id = tenant_id.clone();
        async move {
            let mut tx = self.begin().await?;
            let ids = tx.revoke_all(&tenant_id, now).await?;
            tx.commit().await?;
            Ok(ids)
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
            let mut tx = self.begin().await?;
            let replaced = tx.replace_hash(&key_id, &old_hash, new_hash).await?;
            tx.commit().await?;
            Ok(replaced)
        }
    }

    /// Buffers only (see [`TouchBatch`]) and never waits for the database: the background
    /// writer (started on the first call inside a tokio runtime) writes the buffer; without a
    /// runtime the entries wait for [`flush`](SqlKeyStore::flush). Over a read-only SQLite
    /// database it does nothing ([`SqlKeyStore::records_last_use`]).
    fn touch(&self, used: &[(KeyId, OffsetDateTime)]) {
        if used.is_empty() || !self.records_last_use {
            return;
        }
        let full = self.touches.add(used);
        if self.touches.ensure_flusher() && full {
            self.touches.wake();
        }
    }

    fn feed(&self) -> Option<&ChangeFeed> {
        self.feed.as_ref().map(|f| &f.feed)
    }
}
