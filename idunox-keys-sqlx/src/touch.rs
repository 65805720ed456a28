//! Batched last-used writes: [`KeyStore::touch`](idunox_keys::KeyStore::touch) only buffers;
//! a background task writes the buffer in one statement (one transaction when it is larger than
//! one statement holds) once its oldest entry is [`TouchBatch::max_age`] old or it holds
//! [`TouchBatch::max_keys`] keys, and [`SqlKeyStore::flush`](crate::SqlKeyStore::flush) writes
//! it at once.
//!
//! The buffer keeps one entry per key (the latest instant), so it never holds more entries than
//! there are keys in use. Reads through the same store see buffered instants at once (they are
//! laid over `last_used_at`), so a process never reads its own last-used times stale; other
//! processes see them once written, at most `max_age` plus one write later. A failed write keeps
//! its entries and retries after `max_age`; a process that dies loses at most what its buffer
//! held (the last `max_age` of last-used times).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use idunox_keys::{Credential, KeyId, StoreError};
use sqlx::AnyPool;
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::portable::Args;
use crate::sql::backend;

/// Keys per `UPDATE` statement: 2 arguments each, far below SQLite's and PostgreSQL's limits.
const KEYS_PER_STATEMENT: usize = 200;

/// When buffered last-used times are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TouchBatch {
    /// Write once the oldest buffered entry is this old (default 1 s).
    pub max_age: Duration,
    /// Write as soon as this many keys are buffered (default 256).
    pub max_keys: usize,
}

impl Default for TouchBatch {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(1),
            max_keys: 256,
        }
    }
}

#[derive(Default)]
struct Buffer {
    pending: HashMap<KeyId, OffsetDateTime>,
    /// When the oldest pending entry arrived.
    since: Option<Instant>,
    /// Being written now: still laid over reads until the write ends.
    in_flight: HashMap<KeyId, OffsetDateTime>,
}

impl Buffer {
    fn add(&mut self, key_id: KeyId, at: OffsetDateTime) {
        let slot = self.pending.entry(key_id).or_insert(at);
        if *slot < at {
            *slot = at;
        }
        self.since.get_or_insert_with(Instant::now);
    }

    fn len(&self) -> usize {
        self.pending.len() + self.in_flight.len()
    }
}

pub(crate) struct Touches {
    pool: AnyPool,
    batch: TouchBatch,
    buffer: Mutex<Buffer>,
    /// `buffer.len()`, readable without the lock (reads skip the overlay when it is 0).
    buffered: AtomicUsize,
    /// One write at a time, so a later write never lands before an earlier one.
    writing: tokio::sync::Mutex<()>,
    flusher: AtomicBool,
    wake: Arc<Notify>,
}

impl Touches {
    pub(crate) fn new(pool: AnyPool, batch: TouchBatch) -> Self {
        Self {
            pool,
            batch,
            buffer: Mutex::default(),
            buffered: AtomicUsize::new(0),
            writing: tokio::sync::Mutex::new(()),
            flusher: AtomicBool::new(false),
            wake: Arc::new(Notify::new()),
        }
    }

    pub(crate) fn batch(&self) -> TouchBatch {
        self.batch
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Buffer `used`; whether the buffer is now full.
    pub(crate) fn add(&self, used: &[(KeyId, OffsetDateTime)]) -> bool {
        let mut b = self.lock();
        for (key_id, at) in used {
            b.add(*key_id, *at);
        }
        self.buffered.store(b.len(), Ordering::Relaxed);
        b.pending.len() >= self.batch.max_keys
    }

    /// How many keys are buffered or being written.
    pub(crate) fn buffered(&self) -> usize {
        self.buffered.load(Ordering::Relaxed)
    }

    /// The buffered last use of `key_id`, if later than `stored`.
    pub(crate) fn overlay(&self, key_id: &KeyId, stored: &mut Option<OffsetDateTime>) {
        if self.buffered() == 0 {
            return;
        }
        let b = self.lock();
        for at in [b.pending.get(key_id), b.in_flight.get(key_id)]
            .into_iter()
            .flatten()
        {
            if *stored < Some(*at) {
                *stored = Some(*at);
            }
        }
    }

    /// A row of [`columns`](crate::sql) as a shared record, with this process's buffered last
    /// use laid over it (every record this store hands out goes through here).
    pub(crate) fn record(&self, row: &sqlx::any::AnyRow) -> Result<Arc<Credential>, StoreError> {
        let mut c = crate::sql::credential_from_row(row)?;
        self.overlay(&c.key_id, &mut c.last_used_at);
        Ok(Arc::new(c))
    }

    /// Whether the buffer should be written now, and else how long until it should.
    fn due_in(&self) -> Option<Duration> {
        let b = self.lock();
        match b.since {
            None => Some(self.batch.max_age),
            Some(_) if b.pending.len() >= self.batch.max_keys => None,
            Some(since) => self.batch.max_age.checked_sub(since.elapsed()),
        }
    }

    /// Start the background writer if it is not running and a tokio runtime is at hand.
    /// Returns whether one runs.
    pub(crate) fn ensure_flusher(self: &Arc<Self>) -> bool {
        if self.flusher.load(Ordering::Acquire) {
            return true;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        if self.flusher.swap(true, Ordering::AcqRel) {
            return true;
        }
        handle.spawn(flusher(Arc::downgrade(self), Arc::clone(&self.wake)));
        true
    }

    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Write whatever is buffered now.
    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.writing.lock().await;
        let mut rows: Vec<(KeyId, OffsetDateTime)> = {
            let mut b = self.lock();
            if b.pending.is_empty() {
                return Ok(());
            }
            b.since = None;
            let taken = std::mem::take(&mut b.pending);
            b.in_flight.clone_from(&taken);
            taken.into_iter().collect()
        };
        // One order for every writer, so concurrent batches of several instances never
        // lock rows in opposite orders.
        rows.sort_unstable_by_key(|(k, _)| *k);
        let result = write(&self.pool, &rows).await;
        let mut b = self.lock();
        let in_flight = std::mem::take(&mut b.in_flight);
        if result.is_err() {
            // Keep them for the next attempt (a newer instant may have arrived meanwhile).
            for (key_id, at) in in_flight {
                b.add(key_id, at);
            }
        }
        self.buffered.store(b.len(), Ordering::Relaxed);
        result
    }
}

/// The background writer: wakes when the buffer fills or its oldest entry reaches `max_age`,
/// and ends when the store is dropped.
async fn flusher(store: Weak<Touches>, wake: Arc<Notify>) {
    // Dropped when this task ends, or with its runtime: the next `touch` starts a new one.
    struct Running(Weak<Touches>);
    impl Drop for Running {
        fn drop(&mut self) {
            if let Some(t) = self.0.upgrade() {
                t.flusher.store(false, Ordering::Release);
            }
        }
    }
    let _running = Running(store.clone());
    loop {
        let wait = match store.upgrade() {
            Some(t) => t.due_in(),
            None => return,
        };
        if let Some(wait) = wait {
            let _ = tokio::time::timeout(wait, wake.notified()).await;
        }
        let Some(t) = store.upgrade() else { return };
        if t.due_in().is_none() && t.flush().await.is_err() {
            // The database is down: retry after `max_age`, not in a tight loop.
            let pause = t.batch.max_age;
            drop(t);
            tokio::time::sleep(pause).await;
        }
    }
}

/// `UPDATE credentials SET last_used_at = …` for `rows` (sorted, distinct keys): one statement
/// per [`KEYS_PER_STATEMENT`] keys, in one transaction when there are several. Only ever moves
/// `last_used_at` forward.
async fn write(pool: &AnyPool, rows: &[(KeyId, OffsetDateTime)]) -> Result<(), StoreError> {
    if rows.len() <= KEYS_PER_STATEMENT {
        let (sql, args) = statement(rows);
        args.query(&sql).execute(pool).await.map_err(backend)?;
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(backend)?;
    for chunk in rows.chunks(KEYS_PER_STATEMENT) {
        let (sql, args) = statement(chunk);
        args.query(&sql).execute(&mut *tx).await.map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

/// `UPDATE credentials SET last_used_at = CASE key_id WHEN $1 THEN $2 … END
///  WHERE key_id IN ($1, …) AND (last_used_at IS NULL OR last_used_at < CASE … END)`.
fn statement(rows: &[(KeyId, OffsetDateTime)]) -> (String, Args) {
    let mut a = Args::new();
    let mut case = String::from("CASE key_id");
    let mut ids = Vec::with_capacity(rows.len());
    for (key_id, at) in rows {
        let id = a.text(key_id.as_str());
        let at = a.int(at.unix_timestamp());
        case.push_str(&format!(" WHEN {id} THEN {at}"));
        ids.push(id);
    }
    case.push_str(" END");
    let sql = format!(
        "UPDATE credentials SET last_used_at = {case} WHERE key_id IN ({}) \
         AND (last_used_at IS NULL OR last_used_at < {case})",
        ids.join(", ")
    );
    (sql, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_statement_names_each_key_once_per_list() {
        let t = OffsetDateTime::UNIX_EPOCH;
        let a = KeyId::parse("AAAAAAAAAAAA").unwrap();
        let b = KeyId::parse("BBBBBBBBBBBB").unwrap();
        let (sql, args) = statement(&[(a, t), (b, t)]);
        assert_eq!(args.len(), 4);
        assert!(sql.contains("CASE key_id WHEN $1 THEN $2 WHEN $3 THEN $4 END"));
        assert!(sql.contains("key_id IN ($1, $3)"));
    }

    #[test]
    fn the_buffer_keeps_the_latest_instant_per_key() {
        let mut b = Buffer::default();
        let a = KeyId::parse("AAAAAAAAAAAA").unwrap();
        let t = OffsetDateTime::UNIX_EPOCH;
        b.add(a, t + time::Duration::hours(2));
        b.add(a, t + time::Duration::hours(1));
        assert_eq!(b.pending.len(), 1);
        assert_eq!(b.pending[&a], t + time::Duration::hours(2));
        assert!(b.since.is_some());
    }
}
