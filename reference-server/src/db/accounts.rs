//! Tenants (partner organisations) and portal users.
//!
//! Ids are `ten_` or `usr_` followed by 12 random base62 characters. Emails are stored
//! normalised (trimmed, lower-case) and unique across tenants; passwords only as argon2id PHC
//! strings.

use idunox_keys::KeyId;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::SqlDb;

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
}

impl core::fmt::Debug for User {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email)
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

fn user_from_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        email: r.try_get("email")?,
        password_hash: r.try_get("password_hash")?,
    })
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
        sqlx::query("SELECT id, tenant_id, email, password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    /// A user and their tenant, by user id and tenant id (the session check).
    ///
    /// # Errors
    /// A database error.
    pub async fn user_in_tenant(
        &self,
        user_id: &str,
        tenant_id: &str,
    ) -> Result<Option<(User, Tenant)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT u.id, u.tenant_id, u.email, u.password_hash, t.name AS tenant_name \
             FROM users u JOIN tenants t ON t.id = u.tenant_id \
             WHERE u.id = $1 AND u.tenant_id = $2",
        )
        .bind(user_id)
        .bind(tenant_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let user = user_from_row(&r)?;
            let tenant = Tenant {
                id: user.tenant_id.clone(),
                name: r.try_get("tenant_name")?,
            };
            Ok((user, tenant))
        })
        .transpose()
    }
}
