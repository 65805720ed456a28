//! The SQLite change feed: a poller over `credential_changes`.
//!
//! The trigger of migration `20261201000003_feed` appends one row per changed credential, with
//! an `AUTOINCREMENT` sequence: one writer at a time makes sequence order commit order, and a
//! rolled-back transaction gives its numbers back, so committed rows are numbered without gaps.
//! The poller keeps a cursor (the last sequence number it handed on) and, every poll interval:
//!
//! 1. notes the instant `t`, then reads the rows after the cursor (up to [`BATCH`] at a time);
//! 2. passes their key ids to the feed; a first row that is not `cursor + 1` means the trigger
//!    pruned rows this poller never read, so the feed is reset instead;
//! 3. once a read comes back short of a full batch, everything committed before `t` has been
//!    read: it confirms the feed fresh as of `t`.
//!
//! It reads through a connection of its own (the pool's options), so a busy pool never delays
//! it; an in-memory database lives in the pool's one connection, and is read through the pool.
//! A read that fails (the file locked by an exclusive transaction, unreadable, gone) confirms
//! nothing, so the feed's lag grows and verifiers stop trusting cached records; the next read
//! that succeeds resumes where the cursor stood (no change is lost while the rows are kept).

use std::sync::Arc;
use std::time::Instant;

use idunox_keys::{ChangeFeed, KeyId};
use sqlx::AnyConnection;
use sqlx::any::AnyConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Connection, Row};
use tokio::task::AbortHandle;
use tokio::time::MissedTickBehavior;

use super::{Backoff, FeedError, FeedSettings};

/// Rows read per query.
pub(crate) const BATCH: i64 = 1000;

const READ: &str = "SELECT CAST(seq AS TEXT) AS seq, key_id FROM credential_changes \
                    WHERE seq > $1 ORDER BY seq LIMIT $2";
const LAST: &str = "SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) AS seq FROM credential_changes";
/// How many of the three feed triggers exist.
const TRIGGERS_IN_PLACE: &str = "SELECT CAST(COUNT(*) AS TEXT) AS seq FROM sqlite_master \
     WHERE type = 'trigger' AND tbl_name = 'credentials' AND name IN \
     ('credentials_feed_insert', 'credentials_feed_update', 'credentials_feed_delete')";

pub(crate) fn start(
    handle: &tokio::runtime::Handle,
    pool: &AnyPool,
    url: &str,
    feed: ChangeFeed,
    settings: FeedSettings,
) -> Result<Vec<AbortHandle>, FeedError> {
    let source = if crate::db::is_sqlite_memory(url) {
        Source::Pool(pool.clone())
    } else {
        // The pool's URL, but never creating the file (`mode=rwc` becomes `mode=rw`).
        let url = crate::db::sqlite_url_never_creating(url);
        Source::Own {
            options: Arc::new(url.parse::<AnyConnectOptions>().map_err(FeedError::Url)?),
            conn: None,
        }
    };
    let task = handle.spawn(poll_loop(source, feed, settings));
    Ok(vec![task.abort_handle()])
}

/// Where the poller reads.
enum Source {
    Pool(AnyPool),
    Own {
        options: Arc<AnyConnectOptions>,
        conn: Option<AnyConnection>,
    },
}

impl Source {
    async fn fetch(
        &mut self,
        sql: &'static str,
        args: &[i64],
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        let mut q = sqlx::query(sql);
        for a in args {
            q = q.bind(*a);
        }
        match self {
            Self::Pool(pool) => q.fetch_all(&*pool).await,
            Self::Own { options, conn } => {
                if conn.is_none() {
                    let mut c = options.connect().await?;
                    // Never sleep in SQLite's busy handler (1, 2, 5 … 100 ms steps) while a
                    // writer commits: a busy read is retried at the next tick instead.
                    sqlx::query("PRAGMA busy_timeout = 0")
                        .execute(&mut c)
                        .await?;
                    *conn = Some(c);
                }
                match conn.as_mut() {
                    Some(c) => q.fetch_all(c).await,
                    None => Err(sqlx::Error::PoolClosed),
                }
            }
        }
    }

    /// Drop a connection that failed, so the next read opens a new one.
    async fn discard(&mut self) {
        if let Self::Own { conn, .. } = self
            && let Some(c) = conn.take()
        {
            let _ = c.close().await;
        }
    }
}

async fn poll_loop(mut source: Source, feed: ChangeFeed, settings: FeedSettings) {
    let mut cursor: Option<i64> = None;
    // Whether the triggers were seen in place since the last (re)connection.
    let mut checked = false;
    let mut ticker = tokio::time::interval(settings.poll_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut backoff = Backoff::new(settings.max_reconnect_delay);
    let mut failing = false;
    loop {
        ticker.tick().await;
        let tick = Instant::now();
        let result = loop {
            match poll(&mut source, &feed, &mut cursor, &mut checked).await {
                // A writer is committing: SQLite's own busy handler would sleep in growing
                // steps (1, 2, 5 … 100 ms); retry every millisecond for up to one interval.
                Err(e) if is_busy(&e) && tick.elapsed() < settings.poll_interval => {
                    tokio::time::sleep(BUSY_RETRY).await;
                }
                other => break other,
            }
        };
        match result {
            Ok(()) => {
                if failing {
                    tracing::info!("change feed: reading the SQLite change table again");
                    failing = false;
                }
                backoff.reset();
            }
            // Still busy after an interval: try again at the next tick.
            Err(e) if is_busy(&e) => {}
            Err(e) => {
                if !failing {
                    tracing::warn!(
                        error = %e,
                        "change feed: cannot read the SQLite change table; cached records \
                         expire with the staleness bound until it can"
                    );
                    failing = true;
                }
                source.discard().await;
                checked = false;
                tokio::time::sleep(backoff.pause()).await;
            }
        }
    }
}

/// The pause between two attempts at a read a writer's lock refused.
const BUSY_RETRY: std::time::Duration = std::time::Duration::from_millis(1);

/// Read everything after the cursor; confirm the instant the last (short) read began.
async fn poll(
    source: &mut Source,
    feed: &ChangeFeed,
    cursor: &mut Option<i64>,
    checked: &mut bool,
) -> Result<(), sqlx::Error> {
    if !*checked {
        // Without its triggers the change table hears of nothing: never confirm then.
        let rows = source.fetch(TRIGGERS_IN_PLACE, &[]).await?;
        if rows.first().map(seq).transpose()? != Some(3) {
            return Err(sqlx::Error::Configuration(
                "the credentials table lacks its change-feed triggers (migration \
                 20261201000003_feed): the feed stays unconfirmed, so verifiers do not trust \
                 cached records; run the key store's migrations"
                    .into(),
            ));
        }
        *checked = true;
    }
    loop {
        let started = Instant::now();
        let Some(after) = *cursor else {
            // First read: start after the last change, and drop whatever subscribers cached
            // before (it may predate changes this poller never saw).
            let rows = source.fetch(LAST, &[]).await?;
            let last = rows.first().map(seq).transpose()?.unwrap_or(0);
            *cursor = Some(last);
            feed.reset();
            feed.confirm(started);
            return Ok(());
        };
        let rows = source.fetch(READ, &[after, BATCH]).await?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut expected = after + 1;
        let mut missed = false;
        for row in &rows {
            let n = seq(row)?;
            missed |= n != expected;
            expected = n + 1;
            match row.try_get::<String, _>("key_id").map(|s| KeyId::parse(&s)) {
                Ok(Ok(id)) => ids.push(id),
                // Not a key id this crate wrote: drop everything rather than guess.
                _ => missed = true,
            }
        }
        *cursor = Some(expected - 1);
        if missed {
            tracing::info!("change feed: missed changes (pruned before read); cache reset");
            feed.reset();
        } else {
            feed.changed(&ids);
        }
        if (rows.len() as i64) < BATCH {
            feed.confirm(started);
            return Ok(());
        }
    }
}

/// SQLite's "database is locked" (`SQLITE_BUSY`, extended codes included).
fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d)
        if d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5))
}

fn seq(row: &sqlx::any::AnyRow) -> Result<i64, sqlx::Error> {
    let s: String = row.try_get("seq")?;
    s.parse::<i64>()
        .map_err(|e| sqlx::Error::Decode(format!("change sequence {s:?}: {e}").into()))
}
