//! What answers a `/v1` request no route serves: 405 `method_not_allowed` with `Allow` when the
//! path exists under another method, else 404 `not_found`.
//!
//! [`Fallback`] is mounted last-ranked for every method but `HEAD` (Rocket answers `HEAD` with a
//! path's `GET` route, and re-dispatches an unserved `HEAD` as `GET`). It runs before any guard
//! of any route, so a wrong method is refused before authentication. Ending here rather than in
//! Rocket's router miss also keeps Rocket from logging the whole request URI, query included.
//!
//! Rocket cannot represent a method outside its nine (`FOO`): it answers such a request through
//! the 400 catcher with the method replaced by `GET` and before any fairing has run. The `/v1`
//! catcher recognises that case (a 400 for a request that was never routed) and answers it here
//! as well ([`crate::catchers::v1_default`]).

use rocket::http::{Method, Status};
use rocket::route::{self, Handler, Route};
use rocket::{Data, Request};

use super::table::{allow_header, table};
use crate::error::ApiError;

/// The last-ranked handler of every `/v1` path.
#[derive(Clone, Copy, Debug)]
pub struct Fallback;

/// Rank of the fallback routes: after every route the application mounts.
pub const RANK: isize = 100;

#[rocket::async_trait]
impl Handler for Fallback {
    async fn handle<'r>(&self, req: &'r Request<'_>, _data: Data<'r>) -> route::Outcome<'r> {
        route::Outcome::from(req, not_routed(req, Some(req.method())))
    }
}

/// The fallback routes, one per method.
pub fn routes() -> Vec<Route> {
    super::METHODS
        .into_iter()
        .map(|m| Route::ranked(RANK, m, "/v1/<path..>", Fallback))
        .collect()
}

/// The answer to a request no route took. `method` is `None` for a method Rocket does not know.
pub fn not_routed(req: &Request<'_>, method: Option<Method>) -> ApiError {
    let methods = table(req).map(|t| t.methods_for(req)).unwrap_or_default();
    let served = method.is_some_and(|m| methods.contains(&m));
    if methods.is_empty() || served {
        return ApiError::for_status(Status::NotFound);
    }
    ApiError {
        allow: Some(allow_header(&methods)),
        ..ApiError::new(
            Status::MethodNotAllowed,
            "method_not_allowed",
            format!(
                "This path does not take this method; it takes {}.",
                allow_header(&methods)
            ),
        )
    }
}
