//! `POST /v1/admin/auth/login` (email, password and a TOTP code in, a staff token out) and
//! `POST /v1/admin/auth/logout` (that session ends, on every instance at once).
//!
//! Sign-in is partner sign-in's ([`crate::auth::sign_in`]: the same throttling, in the staff
//! realm, the same bounded argon2 work and dummy hash for unknown emails) with one more factor:
//! the code ([`crate::auth::totp`]) must be of the current 30-second step or one beside it, and
//! of a step later than the last one this account used (each code works once). A wrong or
//! missing code, a wrong password, an unknown email and a disabled account all answer the same
//! 401 `invalid_credentials`; the code costs microseconds beside argon2's milliseconds, and is
//! checked for every known account whatever the password, so the time tells nothing more.
//!
//! A wrong code with the right password counts as a failed sign-in, so codes cannot be guessed
//! beyond the sign-in limits (10 per address, 100 in all, per 15 minutes: with three codes in a
//! million valid at any time, an attacker who knows the password has about one chance in 3 300
//! per window). Sign-ins and their failures go to the staff trail (entries with no tenant,
//! shown by `GET /v1/admin/audit` without a tenant filter), with the reason of a failure.

use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{State, post};
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::auth::password_work::Checked;
use crate::auth::sign_in::Attempt;
use crate::auth::staff_session::{MAX_PER_STAFF, StaffSession};
use crate::auth::throttle::Realm;
use crate::auth::totp;
use crate::db::audit::{self, Action, Actor, NewEntry};
use crate::db::sessions;
use crate::db::staff::{self, Staff};
use crate::error::ApiError;
use crate::guards::{Body, ClientIp};
use crate::state::App;

pub use crate::bodies::sign_in::StaffLoginRequest;

/// A staff member as the admin API shows them.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StaffView {
    id: String,
    email: String,
}

/// The staff sign-in answer.
#[derive(Debug, Serialize)]
pub struct StaffLoginResponse {
    token: String,
    token_type: &'static str,
    expires_in: i64,
    staff: StaffView,
}

/// The step of `code` if it is a fresh code of `staff`'s at `now`.
fn fresh_step(app: &App, staff: &Staff, code: &str, now: i64) -> Option<i64> {
    let Some(secret) = app.totp_seal.open(&staff.id, &staff.totp_secret) else {
        tracing::error!(
            "the TOTP secret of staff account {} does not open with the configured \
             staff_totp_key (or jwt_secret): was it changed? Enrol the account again.",
            staff.id
        );
        return None;
    };
    totp::accept(&secret, code, now, staff.totp_last_step)
}

/// Sign a staff member in.
#[post("/v1/admin/auth/login", data = "<body>")]
pub async fn login(
    app: &State<App>,
    client: ClientIp,
    body: Body<StaffLoginRequest>,
) -> Result<Json<StaffLoginResponse>, ApiError> {
    let StaffLoginRequest {
        email,
        password,
        totp,
    } = body.0;
    let password = Zeroizing::new(password);
    let code = Zeroizing::new(totp.unwrap_or_default());
    let attempt = Attempt::begin(app, Realm::Staff, &email, &client)?;
    let now = attempt.now;
    let (found, checked) = attempt.check::<Staff>(&password).await?;
    let step = found.as_ref().and_then(|s| fresh_step(app, s, &code, now));
    let (staff, rehash, step) = match (found, checked, step) {
        (Some(s), Checked::Matched { rehash }, Some(step)) if !s.disabled => (s, rehash, step),
        (found, checked, _) => {
            let reason = match (&found, checked) {
                (Some(s), _) if s.disabled => Some("staff_disabled"),
                (Some(_), Checked::Wrong) => Some("wrong_password"),
                (Some(_), Checked::Matched { .. }) => Some("wrong_code"),
                (None, _) => None,
            };
            return Err(attempt.fail(found.as_ref(), reason).await?);
        }
    };

    let mut tx = attempt.succeed().await?;
    let rehash = rehash
        .as_deref()
        .map(|new| (staff.password_hash.as_str(), new));
    if !staff::record_sign_in(&mut *tx, &staff.id, step, now, rehash).await? {
        // Another sign-in took this code first.
        drop(tx);
        return Err(attempt.fail(Some(&staff), Some("code_reused")).await?);
    }
    let session_id = sessions::create(
        &mut tx,
        sessions::STAFF,
        &staff.id,
        now,
        now + app.jwt.ttl(),
        MAX_PER_STAFF,
    )
    .await?;
    let actor = Actor::Staff {
        staff_id: &staff.id,
        email: &staff.email,
    };
    let entry = NewEntry::in_trail(now, None, Some(actor), Action::LoginSucceeded);
    audit::record(&mut *tx, entry.detail(json!({"totp_step": step}))).await?;
    let token = app
        .jwt
        .issue_staff(&staff.id, &session_id, now)
        .map_err(|_| ApiError::internal())?;
    tx.commit().await?;
    Ok(Json(StaffLoginResponse {
        token,
        token_type: "Bearer",
        expires_in: app.jwt.ttl(),
        staff: StaffView {
            id: staff.id,
            email: staff.email,
        },
    }))
}

/// Sign out: this staff session ends (204); the staff member's other sessions go on.
#[post("/v1/admin/auth/logout")]
pub async fn logout(app: &State<App>, session: &StaffSession) -> Result<NoContent, ApiError> {
    let now = app.now().unix_timestamp();
    let mut tx = app.db.pool.begin().await?;
    sessions::end(&mut *tx, &session.id, now).await?;
    let entry = NewEntry::in_trail(now, None, Some(session.actor()), Action::StaffLoggedOut);
    audit::record(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(NoContent)
}
