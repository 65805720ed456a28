//! `GET /v1/openapi.json`: the hand-written OpenAPI 3.1 description of every endpoint, with the
//! values this server's configuration decides filled in (the rotation overlaps a rotation may
//! ask for), so the document describes exactly the server that serves it.

use rocket::http::ContentType;
use rocket::{State, get};
use serde_json::Value;

use crate::config::ServerConfig;

/// The document, embedded at build time.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// The document as this server serves it, built once at ignite.
#[derive(Debug)]
pub struct ServedDocument(String);

impl ServedDocument {
    /// The embedded document with `config`'s values: `RotateRequest.grace_hours` is an enum of
    /// `rotation_grace_hours`.
    pub fn new(config: &ServerConfig) -> Self {
        let Ok(mut doc) = serde_json::from_str::<Value>(OPENAPI_JSON) else {
            return Self::default();
        };
        if let Some(grace) =
            doc.pointer_mut("/components/schemas/RotateRequest/properties/grace_hours")
        {
            grace["enum"] = config.rotation_grace_hours.clone().into();
        }
        Self(doc.to_string())
    }
}

impl Default for ServedDocument {
    /// The embedded document as it is.
    fn default() -> Self {
        Self(OPENAPI_JSON.to_owned())
    }
}

/// The OpenAPI document.
#[get("/v1/openapi.json")]
pub fn openapi(doc: &State<ServedDocument>) -> (ContentType, &str) {
    (ContentType::JSON, &doc.0)
}
