//! Sign-in failures per realm, email and client address, kept in the database so the limits hold
//! across restarts and across instances sharing one database. The rules are
//! [`crate::auth::throttle`]'s; this module stores and counts.
//!
//! An attempt first reserves a failure row ([`reserve`]), inside a transaction that serialises
//! attempts on one email: on PostgreSQL a transaction-scoped advisory lock on the email, on
//! SQLite the database's single writer (the transaction's first statement is a write). So no
//! more attempts than the limits allow are ever checked, even when they arrive at once. A
//! successful password check then deletes its email and address's rows ([`clear_client`]).
//! Rows older than the window are deleted by [`prune`] (every minute, see
//! [`crate::maintenance`]); counts ignore them meanwhile.
//!
//! Partners and staff sign in to different realms ([`Realm`]): one email counts separately in
//! each, so neither can lock out the other.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::{Backend, SqlDb, get_opt};

/// Whose sign-ins are counted: a partner's portal users or Idunox staff. Each realm keeps its own
/// counts, so the same email in both never shares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Realm {
    /// Partner portal users (`POST /v1/partner/auth/login`).
    User,
    /// Staff (`POST /v1/admin/auth/login`).
    Staff,
}

impl Realm {
    /// The stored name: `"user"` or `"staff"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Staff => "staff",
        }
    }
}

/// The limits an attempt is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The sliding window, in seconds.
    pub window_secs: i64,
    /// Failures allowed per email and client address within the window.
    pub per_client: i64,
    /// Failures allowed per email from all addresses together within the window.
    pub per_email: i64,
}

/// Which limit refused an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// This email from this address.
    Address,
    /// This email from everywhere.
    Account,
}

impl Lock {
    /// `"address"` or `"account"`, as the audit trail names it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Account => "account",
        }
    }
}

/// The outcome of [`reserve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead: a failure row has been written in advance; a correct password clears it.
    Allowed,
    /// Refused without checking the password.
    Throttled {
        /// Seconds until an attempt from this address would be allowed again (at least 1).
        retry_after: i64,
        /// The limit that refused it (the account lock when both did).
        lock: Lock,
        /// Whether this is the first refusal for this email in the window (then, and only then,
        /// it is audited).
        first_in_window: bool,
    },
}

/// Reserve one attempt for `email` in `realm` from `client` at `now` (Unix seconds). Run it as the first
/// statements of a transaction and commit that transaction before the password is checked.
///
/// # Errors
/// A database error.
pub async fn reserve(
    conn: &mut AnyConnection,
    backend: Backend,
    realm: Realm,
    email: &str,
    client: &str,
    now: i64,
    limits: &Limits,
) -> Result<Attempt, sqlx::Error> {
    let since = now - limits.window_secs;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))")
            .bind(realm.as_str())
            .bind(email)
            .execute(&mut *conn)
            .await?;
    } else {
        // A write first, so this transaction holds SQLite's write lock from here on (a deferred
        // transaction that reads first can fail instead of waiting when it then writes).
        sqlx::query(
            "DELETE FROM login_failures WHERE email = $1 AND failed_at <= $2 AND realm = $3",
        )
        .bind(email)
        .bind(since)
        .bind(realm.as_str())
        .execute(&mut *conn)
        .await?;
    }
    let row = sqlx::query(
        "SELECT COUNT(*) AS total, \
         COALESCE(SUM(CASE WHEN client = $2 THEN 1 ELSE 0 END), 0) AS mine \
         FROM login_failures WHERE email = $1 AND failed_at > $3 AND realm = $4",
    )
    .bind(email)
    .bind(client)
    .bind(since)
    .bind(realm.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let total: i64 = row.try_get("total")?;
    let mine: i64 = row.try_get("mine")?;

    let mut refusal: Option<(i64, Lock)> = None;
    if mine >= limits.per_client {
        let at = nth_failure(
            &mut *conn,
            realm,
            email,
            Some(client),
            since,
            mine - limits.per_client,
        )
        .await?;
        refusal = Some((at + limits.window_secs - now, Lock::Address));
    }
    if total >= limits.per_email {
        let at = nth_failure(
            &mut *conn,
            realm,
            email,
            None,
            since,
            total - limits.per_email,
        )
        .await?;
        let wait = at + limits.window_secs - now;
        refusal = Some((refusal.map_or(wait, |(w, _)| w.max(wait)), Lock::Account));
    }
    if let Some((wait, lock)) = refusal {
        let first_in_window = note_throttled(&mut *conn, realm, email, now, since).await?;
        return Ok(Attempt::Throttled {
            retry_after: wait.max(1),
            lock,
            first_in_window,
        });
    }
    sqlx::query(
        "INSERT INTO login_failures (realm, email, client, failed_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(realm.as_str())
    .bind(email)
    .bind(client)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(Attempt::Allowed)
}

/// The time of the failure at `offset` (0 = oldest) within the window, for one address or all.
async fn nth_failure(
    conn: &mut AnyConnection,
    realm: Realm,
    email: &str,
    client: Option<&str>,
    since: i64,
    offset: i64,
) -> Result<i64, sqlx::Error> {
    let query = match client {
        Some(client) => sqlx::query(
            "SELECT failed_at FROM login_failures WHERE email = $1 AND failed_at > $2 \
             AND client = $4 AND realm = $5 ORDER BY failed_at LIMIT 1 OFFSET $3",
        )
        .bind(email)
        .bind(since)
        .bind(offset)
        .bind(client)
        .bind(realm.as_str()),
        None => sqlx::query(
            "SELECT failed_at FROM login_failures WHERE email = $1 AND failed_at > $2 \
             AND realm = $4 ORDER BY failed_at LIMIT 1 OFFSET $3",
        )
        .bind(email)
        .bind(since)
        .bind(offset)
        .bind(realm.as_str()),
    };
    let row = query.fetch_optional(conn).await?;
    Ok(match row {
        Some(r) => r.try_get("failed_at")?,
        None => since,
    })
}

/// Record that `email` was throttled at `now`; `true` when no refusal was recorded since `since`
/// (the first of the window, to be audited).
async fn note_throttled(
    conn: &mut AnyConnection,
    realm: Realm,
    email: &str,
    now: i64,
    since: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "INSERT INTO login_throttle_notes (email, noted_at, realm) VALUES ($1, $2, $4) \
         ON CONFLICT (realm, email) DO UPDATE SET noted_at = excluded.noted_at \
         WHERE login_throttle_notes.noted_at <= $3",
    )
    .bind(email)
    .bind(now)
    .bind(since)
    .bind(realm.as_str())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Give back an attempt reserved at `at` that was never checked (no password slot was free):
/// the client is told to retry (503), so it must not count as a failure. Deletes one of the
/// identical rows.
///
/// # Errors
/// A database error.
pub async fn release(
    db: &SqlDb,
    realm: Realm,
    email: &str,
    client: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    let row_id = if db.backend == Backend::Postgres {
        "ctid"
    } else {
        "rowid"
    };
    let sql = format!(
        "DELETE FROM login_failures WHERE {row_id} = (SELECT {row_id} FROM login_failures \
         WHERE email = $1 AND client = $2 AND failed_at = $3 AND realm = $4 LIMIT 1)"
    );
    sqlx::query(&sql)
        .bind(email)
        .bind(client)
        .bind(at)
        .bind(realm.as_str())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The write a failed sign-in for an unknown email makes instead of the `login.failed` entry a
/// known email gets: one committed update of its own failure row, so both cost one write
/// transaction and the time of the answer does not tell which emails exist.
///
/// # Errors
/// A database error.
pub async fn mirror_failure_write(
    db: &SqlDb,
    realm: Realm,
    email: &str,
    client: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE login_failures SET failed_at = $3 WHERE email = $1 AND client = $2 \
         AND failed_at = $3 AND realm = $4",
    )
    .bind(email)
    .bind(client)
    .bind(at)
    .bind(realm.as_str())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Forget the failures of `email` from `client` within the window (a correct password).
///
/// # Errors
/// A database error.
pub async fn clear_client<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    realm: Realm,
    email: &str,
    client: &str,
    since: i64,
) -> Result<(), sqlx::Error> {
    // Only rows inside the window: older ones are `prune`'s, so the two never wait on each other.
    sqlx::query(
        "DELETE FROM login_failures WHERE email = $1 AND client = $2 AND failed_at > $3 \
         AND realm = $4",
    )
    .bind(email)
    .bind(client)
    .bind(since)
    .bind(realm.as_str())
    .execute(ex)
    .await?;
    Ok(())
}

/// Delete up to `batch` failure rows and throttle notes from before `since`. Returns how many
/// failure rows went.
///
/// # Errors
/// A database error.
pub async fn prune(db: &SqlDb, since: i64, batch: i64) -> Result<u64, sqlx::Error> {
    let n = sqlx::query(
        "DELETE FROM login_failures WHERE failed_at IN (SELECT failed_at FROM login_failures \
         WHERE failed_at <= $1 ORDER BY failed_at LIMIT $2) AND failed_at <= $1",
    )
    .bind(since)
    .bind(batch)
    .execute(&db.pool)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM login_throttle_notes WHERE noted_at <= $1")
        .bind(since)
        .execute(&db.pool)
        .await?;
    Ok(n)
}

/// Forget every sign-in failure of `email` in `realm`, from every address, and its throttle
/// note, on `conn` (inside the caller's transaction).
///
/// # Errors
/// A database error.
pub async fn clear_throttle(
    conn: &mut AnyConnection,
    realm: Realm,
    email: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE email = $1 AND realm = $2")
        .bind(email)
        .bind(realm.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM login_throttle_notes WHERE email = $1 AND realm = $2")
        .bind(email)
        .bind(realm.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl SqlDb {
    /// Forget every sign-in failure of `email` in `realm`, from every address, and its throttle
    /// note (the email as normalised for lookup). In a transaction of its own; see
    /// [`clear_throttle`] to clear inside another (a staff "unlock" and its audit entry).
    ///
    /// # Errors
    /// A database error.
    pub async fn clear_sign_in_throttle(
        &self,
        realm: Realm,
        email: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        clear_throttle(&mut tx, realm, email).await?;
        tx.commit().await
    }

    /// How many failures of `email` in `realm`, from every address, are newer than `since` (for tests and
    /// tools).
    ///
    /// # Errors
    /// A database error.
    pub async fn sign_in_failures(
        &self,
        realm: Realm,
        email: &str,
        since: i64,
    ) -> Result<i64, sqlx::Error> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM login_failures WHERE email = $1 AND failed_at > $2 \
             AND realm = $3",
        )
        .bind(email)
        .bind(since)
        .bind(realm.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(get_opt::<i64>(&row, "n")?.unwrap_or(0))
    }
}
