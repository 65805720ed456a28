//! `POST /v1/partner/auth/login` (email and password in, a session token out) and
//! `POST /v1/partner/auth/logout` (that session ends, on every instance at once).
//!
//! Sign-in, top to bottom (the steps staff sign-in shares are [`crate::auth::sign_in`]'s):
//!
//! 1. the body (415, 400, 422, 413, 408: [`crate::guards::body`]); an email with control
//!    characters (NUL included) or over 254 characters is refused (422 `invalid_request`) before
//!    any query; at most two password checks in flight per client address (429);
//! 2. the attempt is reserved under the sign-in limits (429 with `Retry-After`), the user looked
//!    up and the password checked on the one argon2 budget (503 at once when it is full),
//!    for an unknown email against a dummy hash of the same cost;
//! 3. wrong password, unknown email or disabled user: 401 `invalid_credentials`, the same answer
//!    at the same cost (known users get a `login.failed` entry);
//! 4. right password: one transaction clears this address's failures, opens the session (at most
//!    [`crate::auth::session::MAX_PER_USER`] live per user, the oldest end),
//!    records the time, stores a rehash when the stored hash is weaker than the configured
//!    parameters, and writes `login.succeeded`; the token is signed before it commits.
//!
//! No password is ever logged or stored; the email is stored only for known users' entries.

use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{State, post};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::auth::password_work::Checked;
use crate::auth::session::{AnySession, MAX_PER_USER};
use crate::auth::sign_in::{Account, Attempt};
use crate::auth::throttle::Realm;
use crate::db::accounts;
use crate::db::audit::{self, Action, Actor, NewEntry};
use crate::db::sessions;
use crate::error::ApiError;
use crate::guards::{Body, ClientIp};
use crate::routes::me::{TenantView, UserView};
use crate::state::App;

pub use crate::auth::sign_in::{MAX_EMAIL_LEN, sign_in_email};

pub use crate::bodies::sign_in::LoginRequest;

/// The sign-in answer.
#[derive(Debug, Serialize)]
pub struct LoginResponse {
    token: String,
    token_type: &'static str,
    expires_in: i64,
    user: UserView,
    tenant: TenantView,
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
    let attempt = Attempt::begin(app, Realm::User, &email, &client)?;
    let (found, checked) = attempt
        .check::<(accounts::User, accounts::Tenant)>(&password)
        .await?;
    let ((user, tenant), rehash) = match (found, checked) {
        (Some(account), Checked::Matched { rehash }) if !account.disabled() => (account, rehash),
        (found, _) => {
            let disabled = found.as_ref().is_some_and(Account::disabled);
            let reason = disabled.then_some("user_disabled");
            return Err(attempt.fail(found.as_ref(), reason).await?);
        }
    };

    let now = attempt.now;
    let mut tx = attempt.succeed().await?;
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
