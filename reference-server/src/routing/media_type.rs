//! The media-type gate: a `/v1` request that carries a body must say
//! `Content-Type: application/json`, else 415 `unsupported_media_type` — also on routes that take
//! no body (revoke, logout), and before any guard runs, so a cross-site form post never reaches
//! authentication, throttling or a handler.
//!
//! [`MediaTypeGate`] is mounted first-ranked on every `/v1` path and method but `HEAD`. It looks
//! only at requests a route serves (a wrong method stays a 405, an unknown path a 404), waits for
//! at most the body deadline to see whether a body comes ([`crate::guards::body`]), and otherwise
//! forwards the request, body untouched, to the route that serves it.

use rocket::http::Status;
use rocket::route::{self, Handler, Route};
use rocket::{Data, Request};

use super::table::served;
use crate::guards::body::{carries_body, is_json, unsupported_media_type};

/// The gate in front of every `/v1` route.
#[derive(Clone, Copy, Debug)]
pub struct MediaTypeGate;

/// Rank of the gate: before every route the application mounts (Rocket's defaults are -12..-1).
pub const RANK: isize = -100;

#[rocket::async_trait]
impl Handler for MediaTypeGate {
    async fn handle<'r>(&self, req: &'r Request<'_>, mut data: Data<'r>) -> route::Outcome<'r> {
        if is_json(req) {
            return route::Outcome::forward(data, Status::NotFound);
        }
        if !served(req) {
            return route::Outcome::forward(data, Status::NotFound);
        }
        match carries_body(req, &mut data).await {
            Ok(false) => route::Outcome::forward(data, Status::NotFound),
            Ok(true) => route::Outcome::from(req, unsupported_media_type()),
            Err(timed_out) => route::Outcome::from(req, timed_out),
        }
    }
}

/// The gate routes, one per method.
pub fn routes() -> Vec<Route> {
    super::METHODS
        .into_iter()
        .map(|m| Route::ranked(RANK, m, "/v1/<path..>", MediaTypeGate))
        .collect()
}
