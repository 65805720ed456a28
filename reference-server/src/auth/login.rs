//! `POST /v1/partner/auth/login`: email and password in, a session token out.
//!
//! The path, top to bottom: normalise the email (trim, lower-case) → reserve an attempt under
//! the sign-in limit ([`super::throttle`]; locked → 429 with `Retry-After`) → look the user up
//! → argon2id verification off the executor, or for an unknown email one dummy verification
//! of the same cost → 401 `invalid_credentials` (the same answer for both), or clear the
//! failures and sign a token. Every attempt is audited; no password is ever logged or stored.

use rocket::serde::json::Json;
use rocket::{State, post};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::throttle::{self, Attempt};
use crate::db::accounts::normalize_email;
use crate::db::audit::{Action, NewEntry};
use crate::error::{ApiError, Body, Payload};
use crate::routes::me::{TenantView, UserView};
use crate::state::App;

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
        rocket::http::Status::Unauthorized,
        "invalid_credentials",
        "The email or password is wrong.",
    )
}

/// Sign in.
#[post("/v1/partner/auth/login", data = "<body>")]
pub async fn login(
    app: &State<App>,
    body: Body<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let LoginRequest { email, password } = body.0;
    let password = Zeroizing::new(password);
    let email = normalize_email(&email);
    let now = app.now().unix_timestamp();
    let db = &app.db;

    match throttle::reserve(db, &email, now).await {
        Ok(Attempt::Allowed) => {}
        Ok(Attempt::Locked { retry_after }) => {
            let user = db.user_by_email(&email).await.ok().flatten();
            audit(
                app,
                user.as_ref().map(|u| (u.tenant_id.as_str(), u.id.as_str())),
                &email,
                Action::LoginThrottled,
                now,
            )
            .await;
            return Err(ApiError::new(
                rocket::http::Status::TooManyRequests,
                "too_many_requests",
                "Too many failed sign-ins for this email; retry later.",
            )
            .retry_after(retry_after));
        }
        Err(e) => return Err(ApiError::database(&e)),
    }

    let user = db
        .user_by_email(&email)
        .await
        .map_err(|e| ApiError::database(&e))?;
    let permit = app
        .password_permits
        .acquire()
        .await
        .map_err(|_| ApiError::unavailable())?;
    let hasher = app.passwords.clone();
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let pw = password;
    let matched = tokio::task::spawn_blocking(move || match phc {
        Some(phc) => hasher.verify(pw.as_bytes(), &phc).unwrap_or(false),
        None => {
            hasher.dummy_verify(pw.as_bytes());
            false
        }
    })
    .await
    .map_err(|_| ApiError::internal())?;
    drop(permit);

    let user = match user {
        Some(user) if matched => user,
        other => {
            audit(
                app,
                other
                    .as_ref()
                    .map(|u| (u.tenant_id.as_str(), u.id.as_str())),
                &email,
                Action::LoginFailed,
                now,
            )
            .await;
            return Err(invalid_credentials());
        }
    };

    db.clear_login_failures(&email)
        .await
        .map_err(|e| ApiError::database(&e))?;
    let tenant = db
        .tenant(&user.tenant_id)
        .await
        .map_err(|e| ApiError::database(&e))?
        .ok_or_else(invalid_credentials)?;
    let token = app
        .jwt
        .issue(&user.id, &tenant.id, now)
        .map_err(|_| ApiError::internal())?;
    audit(
        app,
        Some((&tenant.id, &user.id)),
        &email,
        Action::LoginSucceeded,
        now,
    )
    .await;
    Ok(Json(LoginResponse {
        token,
        token_type: "Bearer",
        expires_in: app.jwt.ttl(),
        user: UserView {
            id: user.id,
            email: user.email,
        },
        tenant: TenantView {
            id: tenant.id,
            name: tenant.name,
        },
    }))
}

/// Record a sign-in attempt; a failure to record is logged, not fatal.
async fn audit(app: &App, who: Option<(&str, &str)>, email: &str, action: Action, now: i64) {
    let entry = NewEntry {
        at: now,
        tenant_id: who.map(|w| w.0),
        actor_user_id: who.map(|w| w.1),
        actor_email: Some(email),
        action,
        credential_id: None,
        detail: None,
    };
    if let Err(e) = app.db.record_audit(entry).await {
        eprintln!("error: cannot write the audit trail: {e}");
    }
}
