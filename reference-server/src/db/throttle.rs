//! Login failures per email, kept in the database so the limit holds across restarts and
//! across instances sharing one database.
//!
//! An attempt first reserves a failure slot atomically (`INSERT … SELECT … WHERE count < max`);
//! a successful sign-in then clears the email's failures, slot included. So no more than `max`
//! attempts per window are ever checked, even when they arrive at once. On PostgreSQL a
//! transaction-scoped advisory lock on the email serialises the count and the insert.

use super::{Backend, SqlDb};

/// The outcome of [`SqlDb::reserve_login_attempt`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead: a failure has been recorded in advance; clear it on success.
    Allowed,
    /// Too many failures in the window: retry after this many seconds.
    Locked {
        /// Seconds until the oldest failure in the window ages out (at least 1).
        retry_after: i64,
    },
}

impl SqlDb {
    /// Reserve one login attempt for `email` at `now` (Unix seconds), allowing at most
    /// `max_failures` in the last `window_secs` seconds.
    ///
    /// # Errors
    /// A database error.
    pub async fn reserve_login_attempt(
        &self,
        email: &str,
        now: i64,
        window_secs: i64,
        max_failures: i64,
    ) -> Result<Attempt, sqlx::Error> {
        let since = now - window_secs;
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(email)
                .execute(&mut *tx)
                .await?;
        }
        // Forget failures that aged out, for every email, so guessed addresses do not pile up
        // (the first statement is a write: SQLite takes its write lock here).
        sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
            .bind(since)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO login_failures (email, failed_at) SELECT $1, $2 \
             WHERE (SELECT COUNT(*) FROM login_failures WHERE email = $1 AND failed_at > $3) < $4",
        )
        .bind(email)
        .bind(now)
        .bind(since)
        .bind(max_failures)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let outcome = if inserted == 1 {
            Attempt::Allowed
        } else {
            let row = sqlx::query(
                "SELECT MIN(failed_at) AS oldest FROM login_failures \
                 WHERE email = $1 AND failed_at > $2",
            )
            .bind(email)
            .bind(since)
            .fetch_one(&mut *tx)
            .await?;
            let oldest: Option<i64> = super::get_opt(&row, "oldest")?;
            let retry_after = oldest.map_or(1, |o| (o + window_secs - now).max(1));
            Attempt::Locked { retry_after }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Forget every failure of `email` (after a successful sign-in).
    ///
    /// # Errors
    /// A database error.
    pub async fn clear_login_failures(&self, email: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
