//! `GET /v1/partner/config`: the public settings a client needs, never a secret.

use rocket::serde::json::Json;
use rocket::{State, get};
use serde::Serialize;

use crate::config::ScopeConfig;
use crate::state::App;

/// Exactly the fields `docs/http-api.md` lists.
#[derive(Debug, Serialize)]
pub struct PublicConfig {
    environment: String,
    api_base_url: String,
    docs_url: String,
    portal_url: String,
    key_prefix: String,
    default_validity_days: u32,
    rotation_grace_hours: Vec<u32>,
    expiring_threshold_days: u32,
    scopes: Vec<ScopeConfig>,
}

/// The public configuration.
#[get("/v1/partner/config")]
pub fn config(app: &State<App>) -> Json<PublicConfig> {
    let c = &app.config;
    Json(PublicConfig {
        environment: c.environment.clone(),
        api_base_url: c.api_base_url.clone(),
        docs_url: c.docs_url.clone(),
        portal_url: c.portal_url.clone(),
        key_prefix: c.key_prefix.clone(),
        default_validity_days: c.default_validity_days,
        rotation_grace_hours: c.rotation_grace_hours.clone(),
        expiring_threshold_days: c.expiring_threshold_days,
        scopes: c.scopes.clone(),
    })
}
