//! The staff session guard: what every `/v1/admin` route but sign-in takes. The partner guard's
//! twin ([`crate::auth::session`], whose token and liveness checks it shares): a Bearer token
//! checked against the staff audience ([`JwtKeys::check_staff`]) names a server-side session of
//! kind `staff`, loaded on every request with its staff member in one query
//! ([`crate::db::sessions::staff_session`]).
//!
//! A token is refused (401 `unauthorized`, `WWW-Authenticate: Bearer realm="idunox-staff"`)
//! when it is missing, malformed, tampered with, expired or a partner's (another audience), and
//! when its session is unknown, ended (sign-out, the per-account cap), expired, belongs to
//! another staff member than the token says, or its account is disabled — at once, on every
//! instance.
//!
//! [`JwtKeys::check_staff`]: crate::auth::jwt::JwtKeys::check_staff

use rocket::request::{FromRequest, Outcome, Request};

use crate::auth::session::{bearer_token, check_live, ended};
use crate::db::audit::Actor;
use crate::db::sessions;
use crate::db::staff::Staff;
use crate::error::{ApiError, STAFF_BEARER_CHALLENGE};
use crate::state::App;

/// A signed-in staff member and their session.
#[derive(Clone, Debug)]
pub struct StaffSession {
    /// The session's id (`ses_…`).
    pub id: String,
    /// The staff member.
    pub staff: Staff,
}

impl StaffSession {
    /// The staff member as the actor of an audit entry.
    pub fn actor(&self) -> Actor<'_> {
        Actor::Staff {
            staff_id: &self.staff.id,
            email: &self.staff.email,
        }
    }
}

/// Live sessions one staff member may hold; past it the oldest end (each sign-in opens one).
pub const MAX_PER_STAFF: i64 = 20;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r StaffSession {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let checked = req
            .local_cache_async(async {
                let Some(app) = req.rocket().state::<App>() else {
                    return Err(ApiError::internal());
                };
                authenticate(app, req).await
            })
            .await;
        match checked {
            Ok(session) => Outcome::Success(session),
            Err(e) => Outcome::Error((e.clone().stash(req), ())),
        }
    }
}

async fn authenticate(app: &App, req: &Request<'_>) -> Result<StaffSession, ApiError> {
    let refuse = |m: &str| ApiError::unauthorized(m).challenge(STAFF_BEARER_CHALLENGE);
    let token = bearer_token(req, STAFF_BEARER_CHALLENGE)?;
    let now = app.now().unix_timestamp();
    let claims = app.jwt.check_staff(token, now).map_err(refuse)?;
    let found = sessions::staff_session(&app.db.pool, &claims.sid)
        .await
        .map_err(|e| ApiError::database(&e))?;
    let Some(s) = found else {
        return Err(ended(STAFF_BEARER_CHALLENGE));
    };
    if s.staff.id != claims.sub {
        return Err(refuse("The session token is invalid."));
    }
    check_live(
        s.revoked_at,
        s.expires_at,
        s.staff.disabled,
        now,
        STAFF_BEARER_CHALLENGE,
    )?;
    Ok(StaffSession {
        id: s.id,
        staff: s.staff,
    })
}
