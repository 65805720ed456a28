//! The query gate: a `/v1` request that names a query parameter twice (`?limit=5&limit=7`) is
//! refused with 422 `invalid_request` before any guard runs. No operation takes a repeated
//! parameter, and reading one of the values silently (Rocket keeps the first) would let a client
//! believe the other was applied.
//!
//! [`QueryGate`] is mounted on every `/v1` path and method but `HEAD`, ranked after the media-type
//! gate ([`super::media_type`]). Like it, it looks only at requests a route serves (a wrong method
//! stays a 405, an unknown path a 404); names are compared percent-decoded, as Rocket matches
//! them (`lim%69t` is `limit`).

use std::collections::BTreeSet;

use rocket::http::Status;
use rocket::route::{self, Handler, Route};
use rocket::{Data, Request};

use super::table::served;
use crate::error::ApiError;

/// The gate against repeated query parameters.
#[derive(Clone, Copy, Debug)]
pub struct QueryGate;

/// Rank of the gate: after the media-type gate, before every route the application mounts.
pub const RANK: isize = -90;

#[rocket::async_trait]
impl Handler for QueryGate {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        // The route table only when a name repeats: every other request passes at the cost of
        // reading its query.
        match repeated(req) {
            Some(name) if served(req) => route::Outcome::from(req, repeated_parameter(&name)),
            _ => route::Outcome::forward(data, Status::NotFound),
        }
    }
}

/// The first query parameter name the request gives more than once.
fn repeated(req: &Request<'_>) -> Option<String> {
    let mut seen = BTreeSet::new();
    req.uri()
        .query()?
        .segments()
        .map(|(name, _)| name)
        .find(|name| !seen.insert(*name))
        .map(str::to_owned)
}

/// 422 `invalid_request` naming the repeated parameter.
fn repeated_parameter(name: &str) -> ApiError {
    let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    ApiError::new(
        Status::UnprocessableEntity,
        "invalid_request",
        format!("The query parameter {name:?} is given more than once; give it once."),
    )
}

/// The gate routes, one per method.
pub fn routes() -> Vec<Route> {
    super::METHODS
        .into_iter()
        .map(|m| Route::ranked(RANK, m, "/v1/<path..>", QueryGate))
        .collect()
}
