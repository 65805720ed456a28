//! The session guards: a Bearer token, checked by [`crate::auth::jwt`], names a server-side
//! session (`sid`), which is loaded on every request with its user and tenant in one query
//! ([`crate::db::sessions::user_session`]).
//!
//! A token is refused (401 `unauthorized`, `WWW-Authenticate: Bearer`) when it is missing,
//! malformed, tampered with or expired, and when its session is unknown, ended (sign-out, a
//! password change elsewhere, the per-user cap), expired, belongs to another user or tenant than
//! the token says, or its user is disabled. Because the session is read from the database each
//! time, ending it takes effect at once on every instance.
//!
//! Two guards, one check (cached per request):
//!
//! - [`Session`]: what every partner route takes. While the user must change their password
//!   (`must_change_password`, set for a one-time password) it answers 403
//!   `password_change_required`, so a one-time password never becomes a working credential.
//! - [`AnySession`]: the same session, also while a password change is due. Only for the routes
//!   that lead there: `GET /v1/partner/me`, `POST /v1/partner/me/password` and sign-out.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::db::accounts::{Tenant, User};
use crate::db::audit::Actor;
use crate::db::sessions;
use crate::error::{ApiError, BEARER_CHALLENGE};
use crate::state::App;

/// A signed-in portal user, their tenant and their session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The session's id (`ses_…`).
    pub id: String,
    /// The user.
    pub user: User,
    /// Their tenant.
    pub tenant: Tenant,
}

impl Session {
    /// The signed-in user as the actor of an audit entry.
    pub fn actor(&self) -> Actor<'_> {
        Actor::User {
            user_id: &self.user.id,
            email: &self.user.email,
        }
    }
}

/// A live session, even one whose user must change their password first; see the [module
/// docs](self) for the routes that may take it.
#[derive(Clone, Copy, Debug)]
pub struct AnySession<'r>(pub &'r Session);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r Session {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match authenticated(req).await {
            Ok(session) if session.user.must_change_password => {
                Outcome::Error((password_change_required().stash(req), ()))
            }
            Ok(session) => Outcome::Success(session),
            Err(e) => Outcome::Error((e.stash(req), ())),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AnySession<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match authenticated(req).await {
            Ok(session) => Outcome::Success(AnySession(session)),
            Err(e) => Outcome::Error((e.stash(req), ())),
        }
    }
}

/// Live sessions one user may hold; past it the oldest end (each sign-in opens one).
pub const MAX_PER_USER: i64 = 20;

/// 403 `password_change_required`.
pub fn password_change_required() -> ApiError {
    ApiError::new(
        Status::Forbidden,
        "password_change_required",
        "Change your password first (POST /v1/partner/me/password).",
    )
}

/// The request's session, checked once per request.
async fn authenticated<'r>(req: &'r Request<'_>) -> Result<&'r Session, ApiError> {
    req.local_cache_async(async {
        let Some(app) = req.rocket().state::<App>() else {
            return Err(ApiError::internal());
        };
        authenticate(app, req).await
    })
    .await
    .as_ref()
    .map_err(Clone::clone)
}

/// 401: the session named by the token has ended (or never existed), with `challenge`.
pub(crate) fn ended(challenge: &'static str) -> ApiError {
    ApiError::unauthorized("The session has ended; sign in again.").challenge(challenge)
}

/// The Bearer token of the request's one `Authorization` header.
///
/// # Errors
/// 401 `unauthorized` with `challenge` when there is none, several, or another scheme.
pub(crate) fn bearer_token<'r>(
    req: &'r Request<'_>,
    challenge: &'static str,
) -> Result<&'r str, ApiError> {
    let refuse = |m: &str| ApiError::unauthorized(m).challenge(challenge);
    let mut values = req.headers().get("Authorization");
    let header = values
        .next()
        .ok_or_else(|| refuse("A Bearer token is required."))?;
    if values.next().is_some() {
        return Err(refuse("Send exactly one Authorization header."));
    }
    match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(refuse("A Bearer token is required.")),
    }
}

/// Whether a loaded session may still be used at `now`: not ended, not expired, and its
/// subject not disabled.
///
/// # Errors
/// 401 (see [`ended`]) otherwise.
pub(crate) fn check_live(
    revoked_at: Option<i64>,
    expires_at: i64,
    disabled: bool,
    now: i64,
    challenge: &'static str,
) -> Result<(), ApiError> {
    if revoked_at.is_some() || now >= expires_at || disabled {
        return Err(ended(challenge));
    }
    Ok(())
}

async fn authenticate(app: &App, req: &Request<'_>) -> Result<Session, ApiError> {
    let token = bearer_token(req, BEARER_CHALLENGE)?;
    let now = app.now().unix_timestamp();
    let claims = app.jwt.check(token, now).map_err(ApiError::unauthorized)?;
    let found = sessions::user_session(&app.db.pool, &claims.sid)
        .await
        .map_err(|e| ApiError::database(&e))?;
    let Some(s) = found else {
        return Err(ended(BEARER_CHALLENGE));
    };
    if s.user.id != claims.sub || s.tenant.id != claims.tid {
        return Err(ApiError::unauthorized("The session token is invalid."));
    }
    check_live(
        s.revoked_at,
        s.expires_at,
        s.user.disabled,
        now,
        BEARER_CHALLENGE,
    )?;
    Ok(Session {
        id: s.id,
        user: s.user,
        tenant: s.tenant,
    })
}
