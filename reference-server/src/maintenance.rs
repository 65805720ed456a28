//! Background upkeep that keeps the portal's tables bounded, one task per server process
//! (several instances on one database each run it; the deletes are idempotent):
//!
//! | what | when | rule |
//! | --- | --- | --- |
//! | audit entries | at start, then hourly | older than `audit_retention_days` (default 365) are deleted |
//! | sessions | every minute | expired or ended ones are deleted (their tokens are refused either way) |
//! | sign-in failures, throttle notes | every minute | older than the 15-minute window are deleted |
//! | failed sign-ins for unknown emails | every minute | their number is logged (no email: it may be a mistyped password) |
//!
//! Deletes run in batches of [`BATCH`] rows, one statement each, so no single statement holds
//! locks for long however much there is to delete.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use idunox_keys::Clock;
use rocket::fairing::AdHoc;

use crate::auth::throttle::WINDOW;
use crate::db::{SqlDb, audit, sessions, throttle};
use crate::state::App;

/// Rows per delete statement.
pub const BATCH: i64 = 1000;
/// How often the frequent part runs.
pub const TICK: Duration = Duration::from_secs(60);
/// How often the audit trail is pruned.
pub const AUDIT_EVERY: Duration = Duration::from_secs(3600);

/// What one round deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Audit entries.
    pub audit: u64,
    /// Sessions.
    pub sessions: u64,
    /// Sign-in failure rows.
    pub failures: u64,
}

/// What the upkeep task needs from the application state.
#[derive(Clone)]
pub struct Upkeep {
    db: SqlDb,
    clock: Arc<dyn Clock>,
    retention_days: u32,
    unknown_email_failures: Arc<AtomicU64>,
}

impl Upkeep {
    /// The upkeep of `app`.
    pub fn of(app: &App) -> Self {
        Self {
            db: app.db.clone(),
            clock: app.clock.clone(),
            retention_days: app.config.audit_retention_days,
            unknown_email_failures: app.unknown_email_failures.clone(),
        }
    }

    /// One round at the clock's `now`: sessions, sign-in failures, the unknown-email count, and
    /// the audit trail when `audit` is set.
    ///
    /// # Errors
    /// A database error (the rest of the round is skipped; the next round tries again).
    pub async fn run(&self, audit: bool) -> Result<Pruned, sqlx::Error> {
        let now = self.clock.now().unix_timestamp();
        let mut pruned = Pruned::default();
        while batch(
            &mut pruned.sessions,
            sessions::prune(&self.db.pool, now, BATCH).await?,
        ) {}
        let since = now - WINDOW.whole_seconds();
        while batch(
            &mut pruned.failures,
            throttle::prune(&self.db, since, BATCH).await?,
        ) {}
        let unknown = self.unknown_email_failures.swap(0, Ordering::Relaxed);
        if unknown > 0 {
            tracing::info!(
                failed_attempts = unknown,
                "sign-in: failed attempts for unknown emails since the last count"
            );
        }
        if audit {
            let before = now - i64::from(self.retention_days) * 86_400;
            while batch(
                &mut pruned.audit,
                audit::prune(&self.db, before, BATCH).await?,
            ) {
                tokio::task::yield_now().await;
            }
        }
        Ok(pruned)
    }
}

/// Add one batch's count; whether a full batch went (so there may be more).
fn batch(total: &mut u64, deleted: u64) -> bool {
    *total += deleted;
    deleted >= BATCH.unsigned_abs()
}

/// Start the upkeep task once the server runs; it stops at shutdown.
pub fn stage() -> AdHoc {
    AdHoc::on_liftoff("Upkeep", |rocket| {
        Box::pin(async move {
            let Some(app) = rocket.state::<App>() else {
                return;
            };
            let upkeep = Upkeep::of(app);
            let shutdown = rocket.shutdown();
            tokio::spawn(async move {
                let mut last_audit: Option<tokio::time::Instant> = None;
                tokio::pin!(shutdown);
                loop {
                    let audit = last_audit.is_none_or(|t| t.elapsed() >= AUDIT_EVERY);
                    match upkeep.run(audit).await {
                        Ok(_) if audit => last_audit = Some(tokio::time::Instant::now()),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "upkeep of the portal's tables failed");
                        }
                    }
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(TICK) => {}
                    }
                }
            });
        })
    })
}
