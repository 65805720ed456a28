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
    /// Created (Unix seconds).
    pub created_at: i64,
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
            .field("created_at", &self.created_at)
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

pub use crate::bodies::email::normalize_email;

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
    u.must_change_password, u.last_login_at, u.created_at";

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
        created_at: r.try_get("created_at")?,
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

/// Insert a tenant named `name` on `ex` (the pool, or a transaction that also writes its audit
/// entry).
///
/// # Errors
/// A database error.
pub async fn insert_tenant<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    name: &str,
    now: i64,
) -> Result<Tenant, sqlx::Error> {
    let tenant = Tenant {
        id: new_id("ten_"),
        name: name.to_owned(),
    };
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&tenant.id)
        .bind(&tenant.name)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(tenant)
}

/// A user to insert with [`insert_user`].
#[derive(Clone, Copy)]
pub struct NewUser<'a> {
    /// Owning tenant (must exist).
    pub tenant_id: &'a str,
    /// The email as typed (stored normalised).
    pub email: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// Whether the password is a one-time one, to be changed at first sign-in.
    pub must_change_password: bool,
}

impl core::fmt::Debug for NewUser<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NewUser")
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// Insert a user on `ex` (the pool, or a transaction that also writes its audit entry).
///
/// # Errors
/// [`AccountError::DuplicateEmail`] or a database error.
pub async fn insert_user<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    new: NewUser<'_>,
    now: i64,
) -> Result<User, AccountError> {
    let user = User {
        id: new_id("usr_"),
        tenant_id: new.tenant_id.to_owned(),
        email: normalize_email(new.email),
        password_hash: new.password_hash.to_owned(),
        disabled: false,
        must_change_password: new.must_change_password,
        last_login_at: None,
        created_at: now,
    };
    let res = sqlx::query(
        "INSERT INTO users (id, tenant_id, email, password_hash, created_at, \
         must_change_password) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&user.id)
    .bind(&user.tenant_id)
    .bind(&user.email)
    .bind(&user.password_hash)
    .bind(now)
    .bind(i64::from(user.must_change_password))
    .execute(ex)
    .await;
    match res {
        Ok(_) => Ok(user),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            Err(AccountError::DuplicateEmail(user.email))
        }
        Err(e) => Err(e.into()),
    }
}

/// A user by id.
///
/// # Errors
/// A database error.
pub async fn user_by_id<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    user_id: &str,
) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    let row = sqlx::query(&sql).bind(user_id).fetch_optional(ex).await?;
    row.as_ref().map(user_from_row).transpose()
}

/// A tenant's users, oldest first, at most `limit`.
///
/// # Errors
/// A database error.
pub async fn users_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    tenant_id: &str,
    limit: i64,
) -> Result<Vec<User>, sqlx::Error> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.tenant_id = $1 \
         ORDER BY u.created_at, u.id LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(ex)
        .await?;
    rows.iter().map(user_from_row).collect()
}

/// Set a one-time password (a staff reset): the new hash, `must_change_password` set.
///
/// # Errors
/// A database error.
pub async fn set_one_time_password<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    user_id: &str,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Disable or enable a user; `true` when that changed something.
///
/// # Errors
/// A database error.
pub async fn set_disabled<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    user_id: &str,
    disabled: bool,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2 AND disabled <> $1")
        .bind(i64::from(disabled))
        .bind(user_id)
        .execute(ex)
        .await?
        .rows_affected();
    Ok(n == 1)
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
        insert_tenant(&self.pool, name, now).await
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

    /// The tenants with these ids (unknown ids left out), in one query per 100 ids: what a
    /// page of keys across tenants shows beside each key.
    ///
    /// # Errors
    /// A database error.
    pub async fn tenants_by_id(&self, ids: &[&str]) -> Result<Vec<Tenant>, sqlx::Error> {
        let mut out = Vec::new();
        for chunk in ids.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, name FROM tenants WHERE id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(tenant_from_row(&row)?);
            }
        }
        Ok(out)
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
        let user = NewUser {
            tenant_id,
            email,
            password_hash,
            must_change_password: false,
        };
        insert_user(&self.pool, user, now).await
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
