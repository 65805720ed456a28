//! How `/v1` requests find their route, around the routes themselves:
//!
//! - [`media_type`]: a gate before every route, 415 for a body that is not JSON;
//! - [`query`]: a gate before every route, 422 for a query parameter given twice;
//! - [`fallback`]: after every route, 405 with `Allow` for a known path under another method,
//!   else 404;
//! - [`table`]: the known paths and their methods, computed from the mounted routes;
//! - [`is_api`]: whether a request belongs to the API (for `Cache-Control: no-store`).

use rocket::Request;
use rocket::fairing::AdHoc;
use rocket::http::Method;

pub mod fallback;
pub mod media_type;
pub mod query;
pub mod table;

/// The methods the gate and the fallbacks are mounted for: all Rocket knows but `HEAD`, which
/// Rocket answers with a path's `GET` route (and re-dispatches as `GET` when none takes it).
pub const METHODS: [Method; 8] = [
    Method::Get,
    Method::Put,
    Method::Post,
    Method::Delete,
    Method::Options,
    Method::Trace,
    Method::Connect,
    Method::Patch,
];

/// Whether `req` is an API request: its matched route lives under `/v1`, or, for a request no
/// route matched, its first path segment (percent-decoded, empty segments skipped, as Rocket
/// routes) is `v1`. So `//v1/…` and `/%761/…`, which Rocket routes like `/v1/…`, count too.
pub fn is_api(req: &Request<'_>) -> bool {
    let route_is_api = req
        .route()
        .is_some_and(|r| r.uri.path().split('/').find(|s| !s.is_empty()) == Some("v1"));
    route_is_api || req.uri().path().segments().next() == Some("v1")
}

/// Mount the gates and the fallbacks, and manage the route table.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("API routing", |rocket| async {
        rocket
            .manage(table::TableSlot::default())
            .mount("/", media_type::routes())
            .mount("/", query::routes())
            .mount("/", fallback::routes())
    })
}
