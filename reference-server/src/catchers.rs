//! JSON catchers for everything under `/v1`: every non-2xx answer there is the envelope
//! `{"error": {"code", "message"}}` — unknown routes, malformed or oversized bodies, failed
//! guards (which stash their precise error, see [`ApiError::stash`]) and server errors alike.
//! The portal registers its own HTML catchers for its pages.

use rocket::fairing::AdHoc;
use rocket::http::Status;
use rocket::http::uri::Segments;
use rocket::http::uri::fmt::Path;
use rocket::{Request, catch, catchers, delete, get, options, patch, post, put, routes};

use crate::error::ApiError;

/// Any status under `/v1`.
#[catch(default)]
pub fn v1_default(status: Status, req: &Request<'_>) -> ApiError {
    match ApiError::stashed(req) {
        Some(e) if e.status == status => e,
        _ => ApiError::for_status(status),
    }
}

/// Unknown `/v1` paths end in these last-ranked routes rather than in Rocket's router miss,
/// which would log the whole request URI (query string included) at every log level.
#[get("/v1/<_path..>", rank = 100)]
pub fn unknown_get(_path: Segments<'_, Path>) -> ApiError {
    ApiError::for_status(Status::NotFound)
}

/// See [`unknown_get`].
#[post("/v1/<_path..>", rank = 100)]
pub fn unknown_post(_path: Segments<'_, Path>) -> ApiError {
    ApiError::for_status(Status::NotFound)
}

/// See [`unknown_get`].
#[put("/v1/<_path..>", rank = 100)]
pub fn unknown_put(_path: Segments<'_, Path>) -> ApiError {
    ApiError::for_status(Status::NotFound)
}

/// See [`unknown_get`].
#[delete("/v1/<_path..>", rank = 100)]
pub fn unknown_delete(_path: Segments<'_, Path>) -> ApiError {
    ApiError::for_status(Status::NotFound)
}

/// See [`unknown_get`].
#[patch("/v1/<_path..>", rank = 100)]
pub fn unknown_patch(_path: Segments<'_, Path>) -> ApiError {
    ApiError::for_status(Status::NotFound)
}

/// See [`unknown_get`].
#[options("/v1/<_path..>", rank = 100)]
pub fn unknown_options(_path: Segments<'_, Path>) -> ApiError {
    ApiError::for_status(Status::NotFound)
}

/// Register the `/v1` catchers and the unknown-path routes.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("JSON catchers", |rocket| async {
        rocket.register("/v1", catchers![v1_default]).mount(
            "/",
            routes![
                unknown_get,
                unknown_post,
                unknown_put,
                unknown_delete,
                unknown_patch
            ],
        )
    })
}
