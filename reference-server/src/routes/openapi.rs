//! `GET /v1/openapi.json`: the hand-written OpenAPI 3.1 description of every endpoint, with the
//! values this server's configuration decides filled in (the rotation overlaps a rotation may
//! ask for, the scope catalogue), so the document describes exactly the server that serves it.

use rocket::http::ContentType;
use rocket::{State, get};
use serde_json::{Value, json};

use crate::config::ServerConfig;

/// The document, embedded at build time.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// The document as this server serves it, built once at ignite.
#[derive(Debug)]
pub struct ServedDocument(String);

impl ServedDocument {
    /// The embedded document with `config`'s values: `RotateRequest.grace_hours` is an enum of
    /// `rotation_grace_hours`; the `scopes` of `CreateRequest` and `PatchRequest` take names of
    /// the `scopes` catalogue, or only `null` when the catalogue is empty (every list is refused
    /// then).
    pub fn new(config: &ServerConfig) -> Self {
        let Ok(mut doc) = serde_json::from_str::<Value>(OPENAPI_JSON) else {
            return Self::default();
        };
        if let Some(grace) =
            doc.pointer_mut("/components/schemas/RotateRequest/properties/grace_hours")
        {
            grace["enum"] = config.rotation_grace_hours.clone().into();
        }
        let names: Vec<&str> = config.scopes.iter().map(|s| s.name.as_str()).collect();
        for schema in ["CreateRequest", "PatchRequest"] {
            let pointer = format!("/components/schemas/{schema}/properties/scopes");
            let Some(scopes) = doc.pointer_mut(&pointer) else {
                continue;
            };
            if names.is_empty() {
                *scopes = json!({
                    "type": "null",
                    "description": "This server has no scope catalogue: keys are unrestricted, \
                        and any list answers 422 `invalid_scope`.",
                });
            } else {
                scopes["items"]["enum"] = json!(names);
            }
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
