//! Tenants (partner organisations) and portal users.
//!
//! Ids are `ten_` or `usr_` followed by 12 random base62 characters. Emails are stored
//! normalised (trimmed, lower-case) and unique across tenants; passwords only as argon2id PHC
//! strings.
//!
//! Queries that a request composes into one transaction are free functions over any executor
//! (the pool, or `&mut *tx`); the rest are [`SqlDb`] methods.

use idunox_keys::KeyId;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::{SqlDb, get_opt};

/// A tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// `ten_…`
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A portal user. `Debug` leaves the password hash out.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// `usr_…`
    pub id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Normalised email.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Refused at sign-in, and its sessions refused.
    pub disabled: bool,
    /// Must change the password before using anything but `me`, `me/password` and sign-out.
    pub must_change_password: bool,
    /// The last successful sign-in (Unix seconds).
    pub last_login_at: Option<i64>,
}

impl core::fmt::Debug for User {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email)
            .field("disabled", &self.disabled)
            .field("must_change_password", &self.must_change_password)
            .field("last_login_at", &self.last_login_at)
            .finish_non_exhaustive()
    }
}

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No tenant with this id.
    #[error("no tenant with id {0}")]
    UnknownTenant(String),
    /// The email is taken.
    #[error("a user with email {0} exists already")]
    DuplicateEmail(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// Trim and lower-case an email.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A fresh id: `prefix` + 12 random base62 characters.
///
/// # Panics
/// When the operating system's random number generator fails.
pub fn new_id(prefix: &str) -> String {
    let id = KeyId::random().expect("the operating system's random number generator failed");
    format!("{prefix}{id}")
}

fn tenant_from_row(r: &AnyRow) -> Result<Tenant, sqlx::Error> {
    Ok(Tenant {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
    })
}

/// The columns [`user_from_row`] reads, from `users` as `u`.
pub(crate) const USER_COLUMNS: &str = "u.id, u.tenant_id, u.email, u.password_hash, u.disabled, \
    u.must_change_password, u.last_login_at";

/// A [`User`] from a row holding [`USER_COLUMNS`].
pub(crate) fn user_from_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        email: r.try_get("email")?,
        password_hash: r.try_get("password_hash")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        must_change_password: r.try_get::<i64, _>("must_change_password")? != 0,
        last_login_at: get_opt(r, "last_login_at")?,
    })
}

/// A user and their tenant, by normalised email (the sign-in lookup).
///
/// # Errors
/// A database error.
pub async fn user_with_tenant_by_email<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    email: &str,
) -> Result<Option<(User, Tenant)>, sqlx::Error> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, t.name AS tenant_name FROM users u \
         JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1"
    );
    let row = sqlx::query(&sql).bind(email).fetch_optional(ex).await?;
    row.map(|r| user_and_tenant(&r)).transpose()
}

/// A [`User`] and its [`Tenant`] from a row holding [`USER_COLUMNS`] and `tenant_name`.
pub(crate) fn user_and_tenant(r: &AnyRow) -> Result<(User, Tenant), sqlx::Error> {
    let user = user_from_row(r)?;
    let tenant = Tenant {
        id: user.tenant_id.clone(),
        name: r.try_get("tenant_name")?,
    };
    Ok((user, tenant))
}

/// Record a successful sign-in, and replace the password hash when `rehash` holds a fresh one
/// (only if the stored hash is still `old_hash`: a password changed meanwhile is kept).
///
/// # Errors
/// A database error.
pub async fn record_sign_in<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    user_id: &str,
    now: i64,
    rehash: Option<(&str, &str)>,
) -> Result<(), sqlx::Error> {
    match rehash {
        Some((old_hash, new_hash)) => {
            sqlx::query(
                "UPDATE users SET last_login_at = $1, password_hash = CASE \
                 WHEN password_hash = $3 THEN $4 ELSE password_hash END WHERE id = $2",
            )
            .bind(now)
            .bind(user_id)
            .bind(old_hash)
            .bind(new_hash)
            .execute(ex)
            .await?
        }
        None => {
            sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
                .bind(now)
                .bind(user_id)
                .execute(ex)
                .await?
        }
    };
    Ok(())
}

/// Replace a user's password after a password change: the new hash, `must_change_password`
/// cleared. Only if the stored hash is still `old_hash` (`false` otherwise: changed meanwhile).
///
/// # Errors
/// A database error.
pub async fn change_password<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    user_id: &str,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = 0 \
         WHERE id = $2 AND password_hash = $3",
    )
    .bind(new_hash)
    .bind(user_id)
    .bind(old_hash)
    .execute(ex)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

impl SqlDb {
    /// Create a tenant.
    ///
    /// # Errors
    /// A database error.
    pub async fn create_tenant(&self, name: &str, now: i64) -> Result<Tenant, sqlx::Error> {
        let tenant = Tenant {
            id: new_id("ten_"),
            name: name.to_owned(),
        };
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&tenant.id)
            .bind(&tenant.name)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(tenant)
    }

    /// A tenant by id.
    ///
    /// # Errors
    /// A database error.
    pub async fn tenant(&self, id: &str) -> Result<Option<Tenant>, sqlx::Error> {
        sqlx::query("SELECT id, name FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(tenant_from_row)
            .transpose()
    }

    /// The first tenant with this name (oldest first).
    ///
    /// # Errors
    /// A database error.
    pub async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, sqlx::Error> {
        sqlx::query("SELECT id, name FROM tenants WHERE name = $1 ORDER BY created_at, id")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(tenant_from_row)
            .transpose()
    }

    /// Create a user in `tenant_id` with an already-hashed password.
    ///
    /// # Errors
    /// [`AccountError::UnknownTenant`], [`AccountError::DuplicateEmail`] or a database error.
    pub async fn create_user(
        &self,
        tenant_id: &str,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<User, AccountError> {
        if self.tenant(tenant_id).await?.is_none() {
            return Err(AccountError::UnknownTenant(tenant_id.to_owned()));
        }
        let user = User {
            id: new_id("usr_"),
            tenant_id: tenant_id.to_owned(),
            email: normalize_email(email),
            password_hash: password_hash.to_owned(),
            disabled: false,
            must_change_password: false,
            last_login_at: None,
        };
        let res = sqlx::query(
            "INSERT INTO users (id, tenant_id, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&user.id)
        .bind(&user.tenant_id)
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(now)
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(user),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                Err(AccountError::DuplicateEmail(user.email))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Replace a user's password hash.
    ///
    /// # Errors
    /// A database error.
    pub async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A user by normalised email.
    ///
    /// # Errors
    /// A database error.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, sqlx::Error> {
        Ok(user_with_tenant_by_email(&self.pool, email)
            .await?
            .map(|(user, _)| user))
    }
}
