//! `GET /v1/openapi.json`: the hand-written OpenAPI 3.1 description of every endpoint.

use rocket::get;
use rocket::http::ContentType;

/// The document, embedded at build time.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// The OpenAPI document.
#[get("/v1/openapi.json")]
pub fn openapi() -> (ContentType, &'static str) {
    (ContentType::JSON, OPENAPI_JSON)
}
