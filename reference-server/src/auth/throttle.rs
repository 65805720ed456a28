//! The sign-in limit (`docs/http-api.md`): no more than [`MAX_FAILURES`] failures for one email in
//! [`WINDOW`]; the next attempt gets `429` with `Retry-After` (the seconds until the oldest
//! failure in the window ages out), and while locked even the right password gets `429`.
//! A successful sign-in clears the email's failures. The counts live in the database
//! (see [`crate::db::throttle`]), so they hold across restarts and instances.

use time::Duration;

use crate::db::SqlDb;
pub use crate::db::throttle::Attempt;

/// Failures allowed per email within [`WINDOW`].
pub const MAX_FAILURES: i64 = 10;
/// The sliding window.
pub const WINDOW: Duration = Duration::minutes(15);

/// Reserve one attempt for `email` at `now`.
///
/// # Errors
/// A database error.
pub async fn reserve(db: &SqlDb, email: &str, now: i64) -> Result<Attempt, sqlx::Error> {
    db.reserve_login_attempt(email, now, WINDOW.whole_seconds(), MAX_FAILURES)
        .await
}
