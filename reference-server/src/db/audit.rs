//! The audit trail: who did what to which credential or account, when. Never a secret: no key,
//! no password, no token.
//!
//! [`record`] is the one writer. It takes any executor, so an action and its entry commit in one
//! transaction (sign-in, sign-out, password change, and every key change through the audited key
//! store of [`crate::keys`]): either both are stored or the request fails.
//!
//! Who acted is an [`Actor`]: a portal user, a staff member, or nobody (`None`) for an anonymous
//! sign-in attempt, whose tried email and target user are in `detail`. Staff actions on a
//! tenant's users and keys join that tenant's trail (so the partner sees them); staff sign-ins and
//! sign-outs form the staff trail, entries with no tenant, which only the admin API shows. Attempts for emails nobody has are not
//! recorded at all: no tenant could read them (see [`crate::maintenance`] for their count in the
//! log). Entries older than `audit_retention_days` are deleted by [`prune`].

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::{Args, SqlDb, get_opt};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A successful sign-in.
    LoginSucceeded,
    /// A failed sign-in (wrong password, disabled user), or a wrong current password at a
    /// password change.
    LoginFailed,
    /// A sign-in refused because of too many failures (at most one entry per email and window).
    LoginThrottled,
    /// A key was created.
    CredentialCreated,
    /// A key was rotated (the entry names the predecessor; `detail` the successor).
    CredentialRotated,
    /// A key was revoked.
    CredentialRevoked,
    /// A user changed their password (their other sessions ended).
    PasswordChanged,
    /// A user signed out (that session ended).
    LoggedOut,
    /// A key was changed (name, scopes, allowed addresses).
    CredentialUpdated,
    /// Staff made a tenant.
    TenantCreated,
    /// Staff provisioned a portal user with a one-time password.
    UserProvisioned,
    /// Staff reset a user's password to a one-time one (the user's sessions ended).
    UserPasswordReset,
    /// Staff disabled a user (the user's sessions ended).
    UserDisabled,
    /// Staff enabled a user again.
    UserEnabled,
    /// Staff cleared the sign-in throttling of a user's email.
    UserUnlocked,
    /// Staff revoked every key of a tenant that still verified (incident response).
    TenantKeysRevoked,
    /// A staff member signed out (staff trail).
    StaffLoggedOut,
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
            Self::PasswordChanged => "user.password_changed",
            Self::LoggedOut => "user.logged_out",
            Self::CredentialUpdated => "credential.updated",
            Self::TenantCreated => "tenant.created",
            Self::UserProvisioned => "user.provisioned",
            Self::UserPasswordReset => "user.password_reset",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::UserUnlocked => "user.unlocked",
            Self::TenantKeysRevoked => "tenant.keys_revoked",
            Self::StaffLoggedOut => "staff.logged_out",
        }
    }
}

/// Who acted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor<'a> {
    /// A partner's portal user.
    User {
        /// `usr_…`
        user_id: &'a str,
        /// Their email.
        email: &'a str,
    },
    /// An Idunox staff member (the admin API).
    Staff {
        /// `stf_…`
        staff_id: &'a str,
        /// Their email.
        email: &'a str,
    },
}

impl Actor<'_> {
    /// The stored `actor_kind`.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::User { .. } => "user",
            Self::Staff { .. } => "staff",
        }
    }
}

/// An [`Actor`] that owns its strings, for what outlives the request's borrows (the audited key
/// store of [`crate::keys`]). Build it from any actor: `OwnedActor::from(session.actor())`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedActor {
    /// A partner's portal user.
    User {
        /// `usr_…`
        user_id: String,
        /// Their email.
        email: String,
    },
    /// An Idunox staff member.
    Staff {
        /// `stf_…`
        staff_id: String,
        /// Their email.
        email: String,
    },
}

impl OwnedActor {
    /// The borrowed form, for [`NewEntry`].
    pub fn as_actor(&self) -> Actor<'_> {
        match self {
            Self::User { user_id, email } => Actor::User { user_id, email },
            Self::Staff { staff_id, email } => Actor::Staff { staff_id, email },
        }
    }
}

impl From<Actor<'_>> for OwnedActor {
    fn from(actor: Actor<'_>) -> Self {
        match actor {
            Actor::User { user_id, email } => Self::User {
                user_id: user_id.to_owned(),
                email: email.to_owned(),
            },
            Actor::Staff { staff_id, email } => Self::Staff {
                staff_id: staff_id.to_owned(),
                email: email.to_owned(),
            },
        }
    }
}

/// An entry to record.
#[derive(Clone, Debug)]
pub struct NewEntry<'a> {
    /// Unix seconds.
    pub at: i64,
    /// The tenant whose trail it joins; `None` for the staff trail.
    pub tenant_id: Option<&'a str>,
    /// Who acted; `None` for an anonymous sign-in attempt.
    pub actor: Option<Actor<'a>>,
    /// What happened.
    pub action: Action,
    /// The credential concerned.
    pub credential_id: Option<&'a str>,
    /// Extra facts as a JSON object (never a secret).
    pub detail: Option<serde_json::Value>,
}

impl<'a> NewEntry<'a> {
    /// An entry of `action` by `actor` (`None`: anonymous) at `at`, in `tenant_id`'s trail.
    pub fn new(at: i64, tenant_id: &'a str, actor: Option<Actor<'a>>, action: Action) -> Self {
        Self::in_trail(at, Some(tenant_id), actor, action)
    }

    /// An entry in `tenant_id`'s trail, or in the staff trail for `None`.
    pub fn in_trail(
        at: i64,
        tenant_id: Option<&'a str>,
        actor: Option<Actor<'a>>,
        action: Action,
    ) -> Self {
        Self {
            at,
            tenant_id,
            actor,
            action,
            credential_id: None,
            detail: None,
        }
    }

    /// About this credential.
    #[must_use]
    pub fn credential(mut self, id: &'a str) -> Self {
        self.credential_id = Some(id);
        self
    }

    /// With these facts.
    #[must_use]
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// A recorded entry.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// Monotonic id, also the pagination cursor.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// The tenant concerned; `None` in the staff trail.
    pub tenant_id: Option<String>,
    /// The tenant's name (only where the query joins it: the admin API's listing).
    pub tenant_name: Option<String>,
    /// `user`, `staff`, or `None` for an anonymous attempt.
    pub actor_kind: Option<String>,
    /// The acting user.
    pub actor_user_id: Option<String>,
    /// The acting staff member.
    pub actor_staff_id: Option<String>,
    /// The acting user's or staff member's email.
    pub actor_email: Option<String>,
    /// What happened (`credential.created`, …).
    pub action: String,
    /// The credential concerned.
    pub credential_id: Option<String>,
    /// Extra facts.
    pub detail: Option<serde_json::Value>,
}

/// The columns [`entry_from_row`] reads (with `tenant_name`), from `audit_log` as `a`.
const ENTRY_COLUMNS: &str = "a.id, a.at, a.tenant_id, a.actor_kind, a.actor_user_id, \
    a.actor_staff_id, a.actor_email, a.action, a.credential_id, a.detail";

fn entry_from_row(r: &AnyRow) -> Result<Entry, sqlx::Error> {
    let detail: Option<String> = get_opt(r, "detail")?;
    Ok(Entry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        tenant_id: get_opt(r, "tenant_id")?,
        tenant_name: get_opt(r, "tenant_name")?,
        actor_kind: get_opt(r, "actor_kind")?,
        actor_user_id: get_opt(r, "actor_user_id")?,
        actor_staff_id: get_opt(r, "actor_staff_id")?,
        actor_email: get_opt(r, "actor_email")?,
        action: r.try_get("action")?,
        credential_id: get_opt(r, "credential_id")?,
        detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
    })
}

/// Record an audit entry on `ex` (the pool, or `&mut *tx` to commit it with the action).
///
/// # Errors
/// A database error.
pub async fn record<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    e: NewEntry<'_>,
) -> Result<(), sqlx::Error> {
    let (kind, user_id, staff_id, email) = match e.actor {
        Some(a @ Actor::User { user_id, email }) => {
            (Some(a.kind()), Some(user_id), None, Some(email))
        }
        Some(a @ Actor::Staff { staff_id, email }) => {
            (Some(a.kind()), None, Some(staff_id), Some(email))
        }
        None => (None, None, None, None),
    };
    let mut a = Args::new();
    let values = [
        a.int(e.at),
        a.opt_text(e.tenant_id),
        a.opt_text(kind),
        a.opt_text(user_id),
        a.opt_text(staff_id),
        a.opt_text(email),
        a.text(e.action.as_str()),
        a.opt_text(e.credential_id),
        a.opt_text(e.detail.map(|d| d.to_string())),
    ];
    let sql = format!(
        "INSERT INTO audit_log (at, tenant_id, actor_kind, actor_user_id, actor_staff_id, \
         actor_email, action, credential_id, detail) VALUES ({})",
        values.join(", ")
    );
    a.query(&sql).execute(ex).await?;
    Ok(())
}

/// Delete up to `batch` entries older than `before` (Unix seconds), oldest first. Returns how
/// many went.
///
/// # Errors
/// A database error.
pub async fn prune(db: &SqlDb, before: i64, batch: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM audit_log WHERE id IN \
         (SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(&db.pool)
    .await?
    .rows_affected())
}

impl SqlDb {
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
        let sql = format!(
            "SELECT {ENTRY_COLUMNS}, NULL AS tenant_name FROM audit_log a \
             WHERE a.tenant_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Entries of every trail (every tenant's and the staff trail), or of one tenant's, newest
    /// first, with the tenant's name: the admin API's listing.
    ///
    /// # Errors
    /// A database error.
    pub async fn audit_page_across(
        &self,
        tenant_id: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let filter = if tenant_id.is_some() {
            " AND a.tenant_id = $3"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {ENTRY_COLUMNS}, t.name AS tenant_name FROM audit_log a \
             LEFT JOIN tenants t ON t.id = a.tenant_id \
             WHERE a.id < $1{filter} ORDER BY a.id DESC LIMIT $2"
        );
        let mut query = sqlx::query(&sql)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit);
        if let Some(tenant) = tenant_id {
            query = query.bind(tenant);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(entry_from_row).collect()
    }
}
