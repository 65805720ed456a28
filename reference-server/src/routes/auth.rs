//! `POST /v1/partner/auth/login` (email and password in, a session token out) and
//! `POST /v1/partner/auth/logout` (that session ends, on every instance at once).
//!
//! Sign-in, top to bottom:
//!
//! 1. the body (415, 400, 422, 413, 408: [`crate::guards::body`]); an email with control
//!    characters (NUL included) or over 254 characters is refused (422 `invalid_request`) before
//!    any query;
//! 2. at most two password checks in flight per client address ([`crate::auth::in_flight`]:
//!    429, `Retry-After: 1`);
//! 3. one transaction reserves the attempt under the sign-in limits ([`crate::auth::throttle`]:
//!    429 with `Retry-After`, the first refusal per email and window audited in the same
//!    transaction) and looks the user up;
//! 4. the argon2id check in a bounded slot ([`crate::auth::password_work`]: 503 after about a
//!    second without one) — for an unknown email against a dummy hash of the same cost;
//!    A check that never ran (no slot) gives its reserved attempt back;
//! 5. wrong password, unknown email or disabled user: 401 `invalid_credentials`, the same answer
//!    at the same cost: known users get a `login.failed` entry, unknown emails an equal write to
//!    their own failure row instead (no tenant could read an entry) and a count in the log;
//! 6. right password: one transaction clears this address's failures, opens the session (at most
//!    [`MAX_PER_USER`](crate::auth::session::MAX_PER_USER) live per user, the oldest end),
//!    records the time, stores a rehash when the stored hash is weaker than the configured
//!    parameters, and writes `login.succeeded`; the token is signed before it commits.
//!
//! No password is ever logged or stored; the email is stored only for known users' entries.

use std::sync::atomic::Ordering;

use rocket::http::Status;
use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{State, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use crate::auth::password_work::Checked;
use crate::auth::session::{AnySession, MAX_PER_USER};
use crate::auth::throttle::{self, Attempt, LIMITS};
use crate::db::accounts::{self, normalize_email};
use crate::db::audit::{self, Action, Actor, NewEntry};
use crate::db::sessions;
use crate::error::ApiError;
use crate::guards::{Body, ClientIp, Payload};
use crate::routes::me::{TenantView, UserView};
use crate::state::App;

/// The longest email that can belong to a user (as the CLI accepts them).
pub const MAX_EMAIL_LEN: usize = 254;

/// The sign-in request. `Debug` hides the password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
}

impl Payload for LoginRequest {
    const SENSITIVE: bool = true;
}

impl core::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// The sign-in answer.
#[derive(Debug, Serialize)]
pub struct LoginResponse {
    token: String,
    token_type: &'static str,
    expires_in: i64,
    user: UserView,
    tenant: TenantView,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        Status::Unauthorized,
        "invalid_credentials",
        "The email or password is wrong.",
    )
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
    let email = normalize_email(raw);
    if email.chars().count() > MAX_EMAIL_LEN {
        return Err(ApiError::new(
            Status::UnprocessableEntity,
            "invalid_request",
            format!("The email must be at most {MAX_EMAIL_LEN} characters."),
        ));
    }
    Ok(email)
}

/// Sign in.
#[post("/v1/partner/auth/login", data = "<body>")]
pub async fn login(
    app: &State<App>,
    client: ClientIp,
    body: Body<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let LoginRequest { email, password } = body.0;
    let password = Zeroizing::new(password);
    let email = sign_in_email(&email)?;
    let bucket = client.bucket();
    let _in_flight = app.sign_ins.enter(&bucket)?;
    let now = app.now().unix_timestamp();
    let db = &app.db;

    let mut tx = db.pool.begin().await?;
    let attempt = throttle::reserve(&mut tx, db.backend, &email, &bucket, now, &LIMITS).await?;
    let found = accounts::user_with_tenant_by_email(&mut *tx, &email).await?;
    if let Attempt::Throttled {
        retry_after,
        lock,
        first_in_window,
    } = attempt
    {
        if first_in_window && let Some((user, tenant)) = &found {
            let detail = json!({"email": email, "user_id": user.id, "lock": lock.as_str()});
            let entry = NewEntry::new(now, &tenant.id, None, Action::LoginThrottled);
            audit::record(&mut *tx, entry.detail(detail)).await?;
        }
        tx.commit().await?;
        return Err(throttle::too_many(retry_after, lock));
    }
    tx.commit().await?;

    let stored = found.as_ref().map(|(u, _)| u.password_hash.as_str());
    let checked = match app.passwords.check(&password, stored).await {
        Ok(checked) => checked,
        Err(e) => {
            // Never checked (no slot): not a failure.
            throttle::release(db, &email, &bucket, now).await?;
            return Err(e);
        }
    };
    let (user, tenant, rehash) = match (found, checked) {
        (Some((user, tenant)), Checked::Matched { rehash }) if !user.disabled => {
            (user, tenant, rehash)
        }
        (Some((user, tenant)), _) => {
            let mut detail = json!({"email": email, "user_id": user.id});
            if user.disabled {
                detail["reason"] = json!("user_disabled");
            }
            let entry = NewEntry::new(now, &tenant.id, None, Action::LoginFailed);
            audit::record(&db.pool, entry.detail(detail)).await?;
            return Err(invalid_credentials());
        }
        (None, _) => {
            throttle::mirror_failure_write(db, &email, &bucket, now).await?;
            app.unknown_email_failures.fetch_add(1, Ordering::Relaxed);
            return Err(invalid_credentials());
        }
    };

    let mut tx = db.pool.begin().await?;
    throttle::clear_client(&mut *tx, &email, &bucket, now - LIMITS.window_secs).await?;
    let session_id = sessions::create(
        &mut tx,
        sessions::USER,
        &user.id,
        now,
        now + app.jwt.ttl(),
        MAX_PER_USER,
    )
    .await?;
    let rehash = rehash
        .as_deref()
        .map(|new| (user.password_hash.as_str(), new));
    accounts::record_sign_in(&mut *tx, &user.id, now, rehash).await?;
    let actor = Actor::User {
        user_id: &user.id,
        email: &user.email,
    };
    audit::record(
        &mut *tx,
        NewEntry::new(now, &tenant.id, Some(actor), Action::LoginSucceeded),
    )
    .await?;
    let token = app
        .jwt
        .issue(&user.id, &tenant.id, &session_id, now)
        .map_err(|_| ApiError::internal())?;
    tx.commit().await?;
    Ok(Json(LoginResponse {
        token,
        token_type: "Bearer",
        expires_in: app.jwt.ttl(),
        user: UserView::of(&user),
        tenant: TenantView::of(&tenant),
    }))
}

/// Sign out: this session ends (204); the user's other sessions go on.
#[post("/v1/partner/auth/logout")]
pub async fn logout(app: &State<App>, session: AnySession<'_>) -> Result<NoContent, ApiError> {
    let s = session.0;
    let now = app.now().unix_timestamp();
    let mut tx = app.db.pool.begin().await?;
    sessions::end(&mut *tx, &s.id, now).await?;
    let entry = NewEntry::new(now, &s.tenant.id, Some(s.actor()), Action::LoggedOut);
    audit::record(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(NoContent)
}
