#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::sync::Arc;

use idunox_keys::Clock;
use rocket::figment::Figment;
use rocket::{Build, Rocket};

pub mod admin_page;
pub mod auth;
pub mod bodies;
pub mod catchers;
pub mod cli;
pub mod config;
pub mod db;
pub mod docs_page;
pub mod error;
pub mod guards;
pub mod headers;
pub mod keys;
pub mod maintenance;
pub mod observe;
pub mod portal;
pub mod routes;
pub mod routing;
pub mod state;

/// Assemble the server from a configuration figment (usually [`config::figment`]) and a clock
/// (the system clock in production, a `ManualClock` in tests).
///
/// Stages, in order: the SQLite file (created private), the database pool ([`db::pool`]),
/// migrations, the application state (configuration checked here: a `jwt_secret` under 32 bytes
/// refuses to start), the API routes, the routing around them (415 gate, 405/404 fallbacks), the
/// `/v1` JSON catcher, security headers, operations (`/healthz`, `/readyz`, `/metrics`, the
/// request log, see [`observe`]), the portal page, the API reference page at `/docs`, the staff
/// console page at `/admin`, and the upkeep task.
pub fn build(figment: Figment, clock: Arc<dyn Clock>) -> Rocket<Build> {
    sqlx::any::install_default_drivers();
    rocket::custom(config::normalize_figment(figment))
        .manage(state::ClockHandle(clock))
        .attach(db::file_stage())
        .attach(db::pool::stage())
        .attach(db::stage())
        .attach(state::stage())
        .attach(routes::stage())
        .attach(routing::stage())
        .attach(catchers::stage())
        .attach(headers::stage())
        .attach(observe::stage())
        .attach(portal::stage())
        .attach(docs_page::stage())
        .attach(admin_page::stage())
        .attach(maintenance::stage())
}
