//! The JSON catcher for everything under `/v1`: every non-2xx answer there is the envelope
//! `{"error": {"code", "message"}}` — bad bodies, failed guards (which stash their precise error,
//! see [`ApiError::stash`]) and server errors alike. Unknown paths and wrong methods end in
//! [`crate::routing::fallback`] before they get here; the one exception is a method Rocket does
//! not know at all, which Rocket hands to this catcher as a 400 for a request it never routed
//! (see [`v1_default`]). The portal registers its own HTML catchers for its pages.

use rocket::fairing::AdHoc;
use rocket::http::Status;
use rocket::{Request, catch, catchers};

use crate::error::ApiError;
use crate::routing::fallback;

/// Any status under `/v1`.
///
/// A 400 for a request that no route ever saw is Rocket's answer to an unknown method (`FOO`):
/// it cannot be routed, so Rocket salvages it as a `GET` and calls the 400 catcher before any
/// fairing. It is answered as any other method a path does not take: 405 with `Allow`, or 404
/// for an unknown path.
#[catch(default)]
pub fn v1_default(status: Status, req: &Request<'_>) -> ApiError {
    match ApiError::stashed(req) {
        Some(e) if e.status == status => e,
        _ if status == Status::BadRequest && req.route().is_none() => {
            fallback::not_routed(req, None)
        }
        _ => ApiError::for_status(status),
    }
}

/// Register the `/v1` catcher.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("JSON catchers", |rocket| async {
        rocket.register("/v1", catchers![v1_default])
    })
}
