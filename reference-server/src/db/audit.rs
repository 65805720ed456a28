//! The audit trail: who did what to which credential, when. Never a secret: no key, no
//! password, no token; the email of a failed sign-in is the only free text from outside.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Args, SqlDb, get_opt};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A successful sign-in.
    LoginSucceeded,
    /// A failed sign-in (wrong email or password).
    LoginFailed,
    /// A sign-in refused because of too many failures.
    LoginThrottled,
    /// A key was created.
    CredentialCreated,
    /// A key was rotated (the entry names the predecessor; `detail` the successor).
    CredentialRotated,
    /// A key was revoked.
    CredentialRevoked,
}

impl Action {
    /// The stored and published name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login.succeeded",
            Self::LoginFailed => "login.failed",
            Self::LoginThrottled => "login.throttled",
            Self::CredentialCreated => "credential.created",
            Self::CredentialRotated => "credential.rotated",
            Self::CredentialRevoked => "credential.revoked",
        }
    }
}

/// An entry to record.
#[derive(Clone, Debug)]
pub struct NewEntry<'a> {
    /// Unix seconds.
    pub at: i64,
    /// The tenant concerned (`None` for a failed sign-in with an unknown email).
    pub tenant_id: Option<&'a str>,
    /// The acting user, when known.
    pub actor_user_id: Option<&'a str>,
    /// The acting user's email, or the email attempted.
    pub actor_email: Option<&'a str>,
    /// What happened.
    pub action: Action,
    /// The credential concerned.
    pub credential_id: Option<&'a str>,
    /// Extra facts as a JSON object (never a secret).
    pub detail: Option<serde_json::Value>,
}

/// A recorded entry.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Monotonic id, also the pagination cursor.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// The tenant concerned.
    pub tenant_id: Option<String>,
    /// The acting user.
    pub actor_user_id: Option<String>,
    /// The acting user's email, or the email attempted.
    pub actor_email: Option<String>,
    /// What happened (`credential.created`, …).
    pub action: String,
    /// The credential concerned.
    pub credential_id: Option<String>,
    /// Extra facts.
    pub detail: Option<serde_json::Value>,
}

fn entry_from_row(r: &AnyRow) -> Result<Entry, sqlx::Error> {
    let detail: Option<String> = get_opt(r, "detail")?;
    Ok(Entry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        tenant_id: get_opt(r, "tenant_id")?,
        actor_user_id: get_opt(r, "actor_user_id")?,
        actor_email: get_opt(r, "actor_email")?,
        action: r.try_get("action")?,
        credential_id: get_opt(r, "credential_id")?,
        detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
    })
}

impl SqlDb {
    /// Record an audit entry.
    ///
    /// # Errors
    /// A database error.
    pub async fn record_audit(&self, e: NewEntry<'_>) -> Result<(), sqlx::Error> {
        let mut a = Args::new();
        let values = [
            a.int(e.at),
            a.opt_text(e.tenant_id),
            a.opt_text(e.actor_user_id),
            a.opt_text(e.actor_email),
            a.text(e.action.as_str()),
            a.opt_text(e.credential_id),
            a.opt_text(e.detail.map(|d| d.to_string())),
        ];
        let sql = format!(
            "INSERT INTO audit_log (at, tenant_id, actor_user_id, actor_email, action, \
             credential_id, detail) VALUES ({})",
            values.join(", ")
        );
        a.query(&sql).execute(&self.pool).await?;
        Ok(())
    }

    /// This tenant's entries, newest first, at most `limit`, older than the entry `before`.
    ///
    /// # Errors
    /// A database error.
    pub async fn audit_page(
        &self,
        tenant_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, at, tenant_id, actor_user_id, actor_email, action, credential_id, detail \
             FROM audit_log WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }
}
