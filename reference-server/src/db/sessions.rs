//! Server-side sessions: one row per issued session token, read on every authenticated request,
//! so ending a session takes effect at once on every instance sharing the database.
//!
//! A session is live while `now < expires_at` and `revoked_at` is `NULL`. Ending one sets
//! `revoked_at`; a deleted row (pruned, or cut by the per-subject cap) reads as unknown, which is
//! refused the same way. Rows stay bounded: [`create`] keeps at most `keep` live sessions per
//! subject (the oldest end first) and [`prune`] deletes expired and ended ones.

use idunox_keys::KeyId;
use sqlx::{Any, AnyConnection, Executor};

use super::accounts::{Tenant, USER_COLUMNS, User, user_and_tenant};
use super::get_opt;
use super::staff::{STAFF_COLUMNS, Staff, staff_from_row};

/// `subject_kind` of a partner's portal user.
pub const USER: &str = "user";
/// `subject_kind` of an Idunox staff member.
pub const STAFF: &str = "staff";

/// A session of a portal user, as the session guard loads it.
#[derive(Clone, Debug)]
pub struct UserSession {
    /// `ses_…`, the token's `sid`.
    pub id: String,
    /// When it ends by itself (Unix seconds).
    pub expires_at: i64,
    /// When it was ended, if it was.
    pub revoked_at: Option<i64>,
    /// Its user.
    pub user: User,
    /// The user's tenant.
    pub tenant: Tenant,
}

/// A session of a staff member, as the staff session guard loads it.
#[derive(Clone, Debug)]
pub struct StaffSession {
    /// `ses_…`, the token's `sid`.
    pub id: String,
    /// When it ends by itself (Unix seconds).
    pub expires_at: i64,
    /// When it was ended, if it was.
    pub revoked_at: Option<i64>,
    /// Its staff member.
    pub staff: Staff,
}

/// A fresh session id: `ses_` + 12 random base62 characters (about 71 bits). Not a secret by
/// itself: it only travels inside a signed token.
///
/// # Panics
/// When the operating system's random number generator fails.
pub fn new_id() -> String {
    let id = KeyId::random().expect("the operating system's random number generator failed");
    format!("ses_{id}")
}

/// Open a session for `subject_id` from `now` to `expires_at`, then end the subject's oldest
/// live sessions beyond `keep` (the new one always stays). Returns the session id.
///
/// # Errors
/// A database error.
pub async fn create(
    conn: &mut AnyConnection,
    kind: &str,
    subject_id: &str,
    now: i64,
    expires_at: i64,
    keep: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO sessions (id, subject_kind, subject_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(kind)
    .bind(subject_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    // Everything of this subject but the new session and its `keep - 1` newest live siblings.
    sqlx::query(
        "DELETE FROM sessions WHERE subject_kind = $1 AND subject_id = $2 AND id <> $3 \
         AND id NOT IN (SELECT id FROM sessions WHERE subject_kind = $1 AND subject_id = $2 \
           AND id <> $3 AND revoked_at IS NULL AND expires_at > $4 \
           ORDER BY created_at DESC, id DESC LIMIT $5)",
    )
    .bind(kind)
    .bind(subject_id)
    .bind(&id)
    .bind(now)
    .bind((keep - 1).max(0))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// A portal user's session with its user and tenant, by session id (the session guard's one
/// query).
///
/// # Errors
/// A database error.
pub async fn user_session<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    session_id: &str,
) -> Result<Option<UserSession>, sqlx::Error> {
    let sql = format!(
        "SELECT s.id AS session_id, s.expires_at, s.revoked_at, {USER_COLUMNS}, \
         t.name AS tenant_name FROM sessions s \
         JOIN users u ON u.id = s.subject_id JOIN tenants t ON t.id = u.tenant_id \
         WHERE s.id = $1 AND s.subject_kind = '{USER}'"
    );
    let Some(row) = sqlx::query(&sql)
        .bind(session_id)
        .fetch_optional(ex)
        .await?
    else {
        return Ok(None);
    };
    let (user, tenant) = user_and_tenant(&row)?;
    Ok(Some(UserSession {
        id: sqlx::Row::try_get(&row, "session_id")?,
        expires_at: sqlx::Row::try_get(&row, "expires_at")?,
        revoked_at: get_opt(&row, "revoked_at")?,
        user,
        tenant,
    }))
}

/// A staff member's session with the staff member, by session id (the staff session guard's
/// one query).
///
/// # Errors
/// A database error.
pub async fn staff_session<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    session_id: &str,
) -> Result<Option<StaffSession>, sqlx::Error> {
    let sql = format!(
        "SELECT s.id AS session_id, s.expires_at, s.revoked_at, {STAFF_COLUMNS} FROM sessions s \
         JOIN staff f ON f.id = s.subject_id WHERE s.id = $1 AND s.subject_kind = '{STAFF}'"
    );
    let Some(row) = sqlx::query(&sql)
        .bind(session_id)
        .fetch_optional(ex)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(StaffSession {
        id: sqlx::Row::try_get(&row, "session_id")?,
        expires_at: sqlx::Row::try_get(&row, "expires_at")?,
        revoked_at: get_opt(&row, "revoked_at")?,
        staff: staff_from_row(&row)?,
    }))
}

/// End every live session of a subject (a disabled account, a reset password). Returns how
/// many ended.
///
/// # Errors
/// A database error.
pub async fn end_all<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: &str,
    subject_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    // Session ids are never empty: nothing is kept.
    end_others(ex, kind, subject_id, "", now).await
}

/// End one session (sign-out). `false` when it had ended already.
///
/// # Errors
/// A database error.
pub async fn end<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    session_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(session_id)
        .execute(ex)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// End every live session of a subject but `keep_id` (a password change keeps the session that
/// made it). Returns how many ended.
///
/// # Errors
/// A database error.
pub async fn end_others<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: &str,
    subject_id: &str,
    keep_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE subject_kind = $2 AND subject_id = $3 \
         AND id <> $4 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(kind)
    .bind(subject_id)
    .bind(keep_id)
    .execute(ex)
    .await?
    .rows_affected())
}

/// Delete up to `batch` sessions that expired or were ended before `now` (an ended session's
/// token is refused either way: a missing row reads as unknown). Returns how many went.
///
/// # Errors
/// A database error.
pub async fn prune<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: i64,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions \
         WHERE expires_at <= $1 OR revoked_at IS NOT NULL LIMIT $2)",
    )
    .bind(now)
    .bind(batch)
    .execute(ex)
    .await?
    .rows_affected())
}

/// Live sessions (not ended, not expired at `now`) per `subject_kind`, for metrics.
///
/// # Errors
/// A database error.
pub async fn live_counts<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT subject_kind, CAST(COUNT(*) AS TEXT) AS n FROM sessions \
         WHERE revoked_at IS NULL AND expires_at > $1 GROUP BY subject_kind",
    )
    .bind(now)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            let n: String = r.try_get("n")?;
            Ok((r.try_get("subject_kind")?, n.parse().unwrap_or(0)))
        })
        .collect()
}
