//! `POST /v1/partner/me/password` `{"current_password","new_password"}` → 204: the signed-in
//! user changes their password. Also while a change is due (`must_change_password`), which it
//! clears.
//!
//! Top to bottom:
//!
//! 1. the new password: under 12 characters, or the current one again → 422 `weak_password`;
//!    over 1024 → 422 `invalid_request` (no argon2 work for either);
//! 2. the current password is checked like a sign-in, under the same limits: two checks in
//!    flight per address, the sign-in throttle on the user's email and this address (429), the
//!    one argon2 budget (503 at once when full). A wrong one is a sign-in failure (so a stolen session is no
//!    unthrottled password oracle): `login.failed` in the audit trail, 403 `wrong_password`;
//! 3. the new password is hashed at the configured parameters; one transaction clears this
//!    address's failures, stores the hash (only if the password was not changed meanwhile, else
//!    409 `conflict`), clears `must_change_password`, ends every other session of the user (the
//!    one that made the change stays valid) and writes `user.password_changed`.

use rocket::http::Status;
use rocket::response::status::NoContent;
use rocket::{State, post};
use serde_json::json;
use zeroize::Zeroizing;

use crate::auth::password_rules::{self, Problem};
use crate::auth::password_work::Checked;
use crate::auth::session::AnySession;
use crate::auth::throttle::{self, Attempt, LIMITS, Realm};
use crate::db::accounts;
use crate::db::audit::{self, Action, NewEntry};
use crate::db::sessions;
use crate::error::ApiError;
use crate::guards::{Body, ClientIp};
use crate::state::App;

pub use crate::bodies::sign_in::PasswordChange;

fn weak(message: String) -> ApiError {
    ApiError::new(Status::UnprocessableEntity, "weak_password", message)
}

/// Change the signed-in user's password.
#[post("/v1/partner/me/password", data = "<body>")]
pub async fn change_password(
    app: &State<App>,
    session: AnySession<'_>,
    client: ClientIp,
    body: Body<PasswordChange>,
) -> Result<NoContent, ApiError> {
    let s = session.0;
    let current = Zeroizing::new(body.0.current_password);
    let new = Zeroizing::new(body.0.new_password);
    match password_rules::check(&new) {
        Ok(()) => {}
        Err(Problem::TooShort) => {
            return Err(weak(format!(
                "The new password must have at least {} characters.",
                password_rules::MIN_CHARS
            )));
        }
        Err(Problem::TooLong) => {
            return Err(ApiError::new(
                Status::UnprocessableEntity,
                "invalid_request",
                format!(
                    "The new password must have at most {} characters.",
                    password_rules::MAX_CHARS
                ),
            ));
        }
    }
    if new.as_str() == current.as_str() {
        return Err(weak(
            "The new password must differ from the current one.".to_owned(),
        ));
    }
    let bucket = client.bucket();
    let _in_flight = app.sign_ins.enter(&bucket)?;
    let now = app.now().unix_timestamp();
    let db = &app.db;
    let email = &s.user.email;

    let mut tx = db.pool.begin().await?;
    let attempt = throttle::reserve(
        &mut tx,
        db.backend,
        Realm::User,
        email,
        &bucket,
        now,
        &LIMITS,
    )
    .await?;
    if let Attempt::Throttled {
        retry_after,
        lock,
        first_in_window,
    } = attempt
    {
        if first_in_window {
            let detail = json!({"email": email, "user_id": s.user.id, "lock": lock.as_str()});
            let entry = NewEntry::new(now, &s.tenant.id, Some(s.actor()), Action::LoginThrottled);
            audit::record(&mut *tx, entry.detail(detail)).await?;
        }
        tx.commit().await?;
        return Err(throttle::too_many(retry_after, lock));
    }
    tx.commit().await?;

    let old_hash = s.user.password_hash.as_str();
    let checked = match app.passwords.check(&current, Some(old_hash)).await {
        Ok(checked) => checked,
        Err(e) => {
            throttle::release(db, Realm::User, email, &bucket, now).await?;
            return Err(e);
        }
    };
    if checked == Checked::Wrong {
        let detail = json!({"email": email, "user_id": s.user.id, "via": "password_change"});
        let entry = NewEntry::new(now, &s.tenant.id, Some(s.actor()), Action::LoginFailed);
        audit::record(&db.pool, entry.detail(detail)).await?;
        return Err(ApiError::new(
            Status::Forbidden,
            "wrong_password",
            "The current password is wrong.",
        ));
    }
    let new_hash = app.passwords.hash(&new).await?;

    let mut tx = db.pool.begin().await?;
    let since = now - LIMITS.window_secs;
    throttle::clear_client(&mut *tx, Realm::User, email, &bucket, since).await?;
    if !accounts::change_password(&mut *tx, &s.user.id, old_hash, &new_hash).await? {
        return Err(ApiError::new(
            Status::Conflict,
            "conflict",
            "The password was changed meanwhile; sign in again.",
        ));
    }
    sessions::end_others(&mut *tx, sessions::USER, &s.user.id, &s.id, now).await?;
    let entry = NewEntry::new(now, &s.tenant.id, Some(s.actor()), Action::PasswordChanged);
    audit::record(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(NoContent)
}
