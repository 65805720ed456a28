//! Idunox staff accounts (the admin API): their own table, apart from partners' users in every
//! way.
//!
//! Ids are `stf_` followed by 12 random base62 characters; emails are stored normalised (trimmed,
//! lower-case) and unique; passwords only as argon2id PHC strings; the TOTP secret only sealed
//! ([`crate::auth::totp_seal`]), with the last accepted step beside it.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::accounts::{new_id, normalize_email};
use super::{SqlDb, get_opt};

/// A staff member. `Debug` leaves the password hash and the sealed TOTP secret out.
#[derive(Clone, PartialEq, Eq)]
pub struct Staff {
    /// `stf_…`
    pub id: String,
    /// Normalised email.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The sealed TOTP secret.
    pub totp_secret: String,
    /// The last accepted TOTP step (30-second steps since the Unix epoch).
    pub totp_last_step: Option<i64>,
    /// Refused at sign-in, and its sessions refused.
    pub disabled: bool,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// The last successful sign-in (Unix seconds).
    pub last_login_at: Option<i64>,
}

impl core::fmt::Debug for Staff {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Staff")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("totp_last_step", &self.totp_last_step)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("last_login_at", &self.last_login_at)
            .finish_non_exhaustive()
    }
}

/// Why a staff account could not be made or changed.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// The email is taken.
    #[error("a staff account with email {0} exists already")]
    DuplicateEmail(String),
    /// No staff account has this email.
    #[error("no staff account with email {0}")]
    UnknownEmail(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// The columns [`staff_from_row`] reads, from `staff` as `f`.
pub(crate) const STAFF_COLUMNS: &str = "f.id, f.email, f.password_hash, f.totp_secret, \
    f.totp_last_step, f.disabled, f.created_at, f.last_login_at";

/// A [`Staff`] from a row holding [`STAFF_COLUMNS`].
pub(crate) fn staff_from_row(r: &AnyRow) -> Result<Staff, sqlx::Error> {
    Ok(Staff {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r.try_get("totp_secret")?,
        totp_last_step: get_opt(r, "totp_last_step")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
        last_login_at: get_opt(r, "last_login_at")?,
    })
}

/// A fresh staff id, `stf_…`.
pub fn new_staff_id() -> String {
    new_id("stf_")
}

/// A staff member by normalised email (the sign-in lookup).
///
/// # Errors
/// A database error.
pub async fn by_email<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    email: &str,
) -> Result<Option<Staff>, sqlx::Error> {
    let sql = format!("SELECT {STAFF_COLUMNS} FROM staff f WHERE f.email = $1");
    let row = sqlx::query(&sql).bind(email).fetch_optional(ex).await?;
    row.as_ref().map(staff_from_row).transpose()
}

/// Record a successful staff sign-in: the accepted TOTP step (only if it is later than the
/// stored one: `false` when another sign-in took this step or a later one first), the time, and a
/// rehash when `rehash` holds one (only if the stored hash is still the old one).
///
/// # Errors
/// A database error.
pub async fn record_sign_in<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    staff_id: &str,
    step: i64,
    now: i64,
    rehash: Option<(&str, &str)>,
) -> Result<bool, sqlx::Error> {
    let (old, new) = rehash.unwrap_or(("", ""));
    let n = sqlx::query(
        "UPDATE staff SET totp_last_step = $2, last_login_at = $3, password_hash = CASE \
         WHEN $5 <> '' AND password_hash = $4 THEN $5 ELSE password_hash END \
         WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(staff_id)
    .bind(step)
    .bind(now)
    .bind(old)
    .bind(new)
    .execute(ex)
    .await?
    .rows_affected();
    Ok(n == 1)
}

impl SqlDb {
    /// Create a staff account with an already-hashed password and a sealed TOTP secret (sealed
    /// for `id`, which the caller drew with [`new_staff_id`]).
    ///
    /// # Errors
    /// [`StaffError::DuplicateEmail`] or a database error.
    pub async fn create_staff(
        &self,
        id: &str,
        email: &str,
        password_hash: &str,
        sealed_totp_secret: &str,
        now: i64,
    ) -> Result<Staff, StaffError> {
        let staff = Staff {
            id: id.to_owned(),
            email: normalize_email(email),
            password_hash: password_hash.to_owned(),
            totp_secret: sealed_totp_secret.to_owned(),
            totp_last_step: None,
            disabled: false,
            created_at: now,
            last_login_at: None,
        };
        let res = sqlx::query(
            "INSERT INTO staff (id, email, password_hash, totp_secret, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&staff.id)
        .bind(&staff.email)
        .bind(&staff.password_hash)
        .bind(&staff.totp_secret)
        .bind(now)
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(staff),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                Err(StaffError::DuplicateEmail(staff.email))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A staff member by normalised email.
    ///
    /// # Errors
    /// A database error.
    pub async fn staff_by_email(&self, email: &str) -> Result<Option<Staff>, sqlx::Error> {
        by_email(&self.pool, email).await
    }

    /// Replace a staff member's password hash and sealed TOTP secret (a new enrolment: the
    /// last accepted step is forgotten), e.g. for the demo account at every `serve --demo`.
    ///
    /// # Errors
    /// A database error.
    pub async fn reset_staff_credentials(
        &self,
        staff_id: &str,
        password_hash: &str,
        sealed_totp_secret: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE staff SET password_hash = $2, totp_secret = $3, totp_last_step = NULL \
             WHERE id = $1",
        )
        .bind(staff_id)
        .bind(password_hash)
        .bind(sealed_totp_secret)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Disable or enable a staff account by email; disabling ends every session of it in the
    /// same transaction. Returns the account as it now stands.
    ///
    /// # Errors
    /// [`StaffError::UnknownEmail`] or a database error.
    pub async fn set_staff_disabled(
        &self,
        email: &str,
        disabled: bool,
        now: i64,
    ) -> Result<Staff, StaffError> {
        let email = normalize_email(email);
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE staff SET disabled = $2 WHERE email = $1")
            .bind(&email)
            .bind(i64::from(disabled))
            .execute(&mut *tx)
            .await?;
        let Some(staff) = by_email(&mut *tx, &email).await? else {
            return Err(StaffError::UnknownEmail(email));
        };
        if disabled {
            super::sessions::end_all(&mut *tx, super::sessions::STAFF, &staff.id, now).await?;
        }
        tx.commit().await?;
        Ok(staff)
    }
}
