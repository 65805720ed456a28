//! The steps of a sign-in that partners (`POST /v1/partner/auth/login`) and staff
//! (`POST /v1/admin/auth/login`) share, so both are throttled and timed alike:
//!
//! 1. [`Attempt::begin`]: the email as normalised for lookup (control characters or more than
//!    [`MAX_EMAIL_LEN`] characters: 422 before any query), and a place among the client's
//!    password checks in flight ([`crate::auth::in_flight`]: 429, `Retry-After: 1`);
//! 2. [`Attempt::check`]: one transaction reserves the attempt under the sign-in limits of the
//!    account's realm ([`crate::auth::throttle`]: 429 with `Retry-After`, the first refusal per
//!    email and window audited in the same transaction) and looks the account up; then the
//!    argon2id check in a bounded slot ([`crate::auth::password_work`]: 503 after about a second
//!    without one), for an unknown email against a dummy hash of the same cost. A check that
//!    never ran gives its reserved attempt back;
//! 3. the caller judges the rest (a disabled account, the staff TOTP code) and then either
//!    [`Attempt::fail`]s — 401 `invalid_credentials`, the same answer at the same cost: a known
//!    account gets a `login.failed` entry in its trail, an unknown email an equal write to its own
//!    failure row instead and a count in the log — or opens [`Attempt::succeed`]'s transaction,
//!    which starts by clearing this address's failures for the email.
//!
//! Partners' and staff's failures are counted apart ([`Realm`]): the same email in both realms
//! never shares a count. No password is ever logged or stored; the email is stored only in known
//! accounts' entries.

use std::future::Future;
use std::sync::atomic::Ordering;

use rocket::http::Status;
use serde_json::json;
use sqlx::{Any, AnyConnection, Transaction};
use zeroize::Zeroizing;

use crate::auth::in_flight::Entered;
use crate::auth::password_work::Checked;
use crate::auth::throttle::{self, Attempt as Reserved, LIMITS, Realm};
use crate::db::accounts::{self, Tenant, User, normalize_email};
use crate::db::audit::{self, Action, NewEntry};
use crate::db::staff::{self, Staff};
use crate::error::ApiError;
use crate::guards::ClientIp;
use crate::state::App;

/// The longest email that can belong to an account (as the CLI accepts them).
pub const MAX_EMAIL_LEN: usize = 254;

/// An account that signs in with an email and a password.
pub trait Account: Sized + Send {
    /// Whose limits it signs in under.
    const REALM: Realm;

    /// The account with this normalised email, read inside the attempt's reservation.
    fn find(
        conn: &mut AnyConnection,
        email: &str,
    ) -> impl Future<Output = Result<Option<Self>, sqlx::Error>> + Send;

    /// Its argon2id PHC string.
    fn password_hash(&self) -> &str;

    /// Whether it is disabled (refused whatever the password).
    fn disabled(&self) -> bool;

    /// The trail its sign-in entries join: its tenant's, or the staff trail (`None`).
    fn trail(&self) -> Option<&str>;

    /// What an anonymous attempt's entry says about it: the email and the account's id.
    fn attempt_detail(&self) -> serde_json::Value;
}

impl Account for (User, Tenant) {
    const REALM: Realm = Realm::User;

    async fn find(conn: &mut AnyConnection, email: &str) -> Result<Option<Self>, sqlx::Error> {
        accounts::user_with_tenant_by_email(conn, email).await
    }

    fn password_hash(&self) -> &str {
        &self.0.password_hash
    }

    fn disabled(&self) -> bool {
        self.0.disabled
    }

    fn trail(&self) -> Option<&str> {
        Some(&self.1.id)
    }

    fn attempt_detail(&self) -> serde_json::Value {
        json!({"email": self.0.email, "user_id": self.0.id})
    }
}

impl Account for Staff {
    const REALM: Realm = Realm::Staff;

    async fn find(conn: &mut AnyConnection, email: &str) -> Result<Option<Self>, sqlx::Error> {
        staff::by_email(conn, email).await
    }

    fn password_hash(&self) -> &str {
        &self.password_hash
    }

    fn disabled(&self) -> bool {
        self.disabled
    }

    fn trail(&self) -> Option<&str> {
        None
    }

    fn attempt_detail(&self) -> serde_json::Value {
        json!({"email": self.email, "staff_id": self.id})
    }
}

/// 401 `invalid_credentials`: the one answer of every refused sign-in in `realm`.
pub fn invalid_credentials(realm: Realm) -> ApiError {
    let message = match realm {
        Realm::User => "The email or password is wrong.",
        Realm::Staff => "The email, password or code is wrong.",
    };
    ApiError::new(Status::Unauthorized, "invalid_credentials", message)
}

/// The email as normalised for lookup, refused before any query when it cannot be anyone's.
///
/// # Errors
/// 422 `invalid_request` for control characters or more than [`MAX_EMAIL_LEN`] characters.
pub fn sign_in_email(raw: &str) -> Result<String, ApiError> {
    if raw.chars().any(char::is_control) {
        return Err(ApiError::new(
            Status::UnprocessableEntity,
            "invalid_request",
            "The email must not contain control characters.",
        ));
    }
    // Counted as sent (before trimming and lower-casing), so the bound is the document's
    // `maxLength` exactly.
    if raw.chars().count() > MAX_EMAIL_LEN {
        return Err(ApiError::new(
            Status::UnprocessableEntity,
            "invalid_request",
            format!("The email must be at most {MAX_EMAIL_LEN} characters."),
        ));
    }
    Ok(normalize_email(raw))
}

/// One sign-in attempt; see the [module docs](self).
pub struct Attempt<'a> {
    app: &'a App,
    realm: Realm,
    /// The email as normalised for lookup.
    pub email: String,
    /// The client address it is counted under ([`ClientIp::bucket`]).
    pub bucket: String,
    /// When it was made (Unix seconds).
    pub now: i64,
    _in_flight: Entered<'a>,
}

impl core::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Attempt")
            .field("realm", &self.realm)
            .field("email", &self.email)
            .field("bucket", &self.bucket)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl<'a> Attempt<'a> {
    /// Start an attempt in `realm` for the email as typed.
    ///
    /// # Errors
    /// 422 for an email that cannot be anyone's; 429 when the client has its password checks in
    /// flight already.
    pub fn begin(
        app: &'a App,
        realm: Realm,
        raw_email: &str,
        client: &ClientIp,
    ) -> Result<Self, ApiError> {
        let email = sign_in_email(raw_email)?;
        let bucket = client.bucket();
        let in_flight = app.sign_ins.enter(&bucket)?;
        Ok(Self {
            now: app.now().unix_timestamp(),
            app,
            realm,
            email,
            bucket,
            _in_flight: in_flight,
        })
    }

    /// Reserve the attempt, look the account up, and check the password (against the dummy
    /// hash for an unknown email). Returns the account found, if any, and the verdict.
    ///
    /// # Errors
    /// 429 when throttled, 503 when no password slot frees in time or the database fails.
    pub async fn check<A: Account>(
        &self,
        password: &Zeroizing<String>,
    ) -> Result<(Option<A>, Checked), ApiError> {
        debug_assert_eq!(A::REALM, self.realm);
        let db = &self.app.db;
        let now = self.now;
        let mut tx = db.pool.begin().await?;
        let reserved = throttle::reserve(
            &mut tx,
            db.backend,
            self.realm,
            &self.email,
            &self.bucket,
            now,
            &LIMITS,
        )
        .await?;
        let found = A::find(&mut tx, &self.email).await?;
        if let Reserved::Throttled {
            retry_after,
            lock,
            first_in_window,
        } = reserved
        {
            if first_in_window && let Some(account) = &found {
                let mut detail = account.attempt_detail();
                detail["lock"] = json!(lock.as_str());
                let entry = NewEntry::in_trail(now, account.trail(), None, Action::LoginThrottled);
                audit::record(&mut *tx, entry.detail(detail)).await?;
            }
            tx.commit().await?;
            return Err(throttle::too_many(retry_after, lock));
        }
        tx.commit().await?;

        let stored = found.as_ref().map(Account::password_hash);
        match self.app.passwords.check(password, stored).await {
            Ok(checked) => Ok((found, checked)),
            Err(e) => {
                // Never checked (no slot): not a failure.
                throttle::release(db, self.realm, &self.email, &self.bucket, now).await?;
                Err(e)
            }
        }
    }

    /// Refuse the attempt: 401 `invalid_credentials`, after a `login.failed` entry for a known
    /// account (with `reason` in its detail when given) or the equal write for an unknown email.
    ///
    /// # Errors
    /// 503 when the database fails (the attempt still counts: its failure row was reserved).
    pub async fn fail<A: Account>(
        &self,
        account: Option<&A>,
        reason: Option<&str>,
    ) -> Result<ApiError, ApiError> {
        let db = &self.app.db;
        match account {
            Some(account) => {
                let mut detail = account.attempt_detail();
                if let Some(reason) = reason {
                    detail["reason"] = json!(reason);
                }
                let entry =
                    NewEntry::in_trail(self.now, account.trail(), None, Action::LoginFailed);
                audit::record(&db.pool, entry.detail(detail)).await?;
            }
            None => {
                throttle::mirror_failure_write(db, self.realm, &self.email, &self.bucket, self.now)
                    .await?;
                self.app
                    .unknown_email_failures
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(invalid_credentials(self.realm))
    }

    /// Open the transaction of a successful sign-in, which starts by clearing this address's
    /// failures for the email; the caller opens the session, records the sign-in and commits.
    ///
    /// # Errors
    /// 503 when the database fails.
    pub async fn succeed(&self) -> Result<Transaction<'static, Any>, ApiError> {
        let mut tx = self.app.db.pool.begin().await?;
        let since = self.now - LIMITS.window_secs;
        throttle::clear_client(&mut *tx, self.realm, &self.email, &self.bucket, since).await?;
        Ok(tx)
    }
}

#[cfg(test)]
mod email_tests {
    use super::{MAX_EMAIL_LEN, sign_in_email};

    #[test]
    fn the_length_is_counted_as_sent() {
        let email = format!("{}@b.example", "a".repeat(MAX_EMAIL_LEN - 10));
        assert_eq!(sign_in_email(&email).unwrap(), email);
        assert_eq!(
            sign_in_email(&format!(" {email}")).unwrap_err().status.code,
            422
        );
        assert_eq!(sign_in_email(" A@B.example").unwrap(), "a@b.example");
        assert_eq!(sign_in_email("a\u{85}@b").unwrap_err().status.code, 422);
    }
}
