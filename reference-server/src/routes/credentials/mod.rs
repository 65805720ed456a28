//! `/v1/partner/credentials`: list (a page at a time), create, change (PATCH), rotate and revoke
//! this tenant's API keys.
//!
//! Every route takes the [`Session`] guard; the tenant comes from the session only. Another
//! tenant's credential id, and a malformed id, answer exactly like an unknown id: 404
//! `not_found`. Plaintext keys appear only in the 201 answers of create and rotate. Every change
//! goes through the audited key store ([`crate::keys`]): the change and its audit entry commit
//! together, or the request fails and nothing changed.

pub mod listing;
pub mod view;

use idunox_keys::{KeyId, RotateOptions, TenantId};
use rocket::http::Status;
use rocket::response::status::Custom;
use rocket::serde::json::Json;
use rocket::{State, get, patch, post};
use serde_json::{Value, json};

pub use crate::bodies::credentials::{CreateRequest, PatchRequest, RotateRequest};
pub use view::CredentialView;

use crate::auth::session::Session;
use crate::error::ApiError;
use crate::guards::{Body, QueryParams};
use crate::keys::AuditedStore;
use crate::state::App;

fn tenant(session: &Session) -> TenantId {
    TenantId::new(session.tenant.id.clone())
}

/// A path id: malformed reads as unknown.
fn key_id(id: &str) -> Result<KeyId, ApiError> {
    KeyId::parse(id).map_err(|_| ApiError::not_found())
}

/// A page of this tenant's keys: `{"credentials", "counts", "next_cursor"}` (see
/// [`listing`] for the query).
#[get("/v1/partner/credentials")]
pub async fn list(
    app: &State<App>,
    session: &Session,
    params: QueryParams<'_>,
) -> Result<Json<Value>, ApiError> {
    let page = listing::page(app, &params, listing::for_tenant(app, tenant(session))).await?;
    Ok(Json(listing::page_json(app, &page)))
}

/// Create a key: 201 `{"credential", "api_key"}`; the plaintext is shown this once.
#[post("/v1/partner/credentials", data = "<body>")]
pub async fn create(
    app: &State<App>,
    session: &Session,
    body: Body<CreateRequest>,
) -> Result<Custom<Json<Value>>, ApiError> {
    let issued = app
        .keys_as(session.actor())
        .create_with(&tenant(session), body.0.into_new_key())
        .await?;
    Ok(Custom(
        Status::Created,
        Json(json!({
            "credential": CredentialView::new(app, &issued.credential),
            "api_key": issued.api_key.expose_secret(),
        })),
    ))
}

/// Change a live key's name, scopes or allow-list: 200 `{"credential"}`.
#[patch("/v1/partner/credentials/<id>", data = "<body>")]
pub async fn update(
    app: &State<App>,
    session: &Session,
    id: &str,
    body: Body<PatchRequest>,
) -> Result<Json<Value>, ApiError> {
    let key_id = key_id(id)?;
    let credential = app
        .keys_as(session.actor())
        .update(&tenant(session), &key_id, body.0.into_changes())
        .await?;
    Ok(Json(
        json!({ "credential": CredentialView::new(app, &credential) }),
    ))
}

/// Rotate a key: 201 `{"credential", "api_key", "previous"}`.
#[post("/v1/partner/credentials/<id>/rotate", data = "<body>")]
pub async fn rotate(
    app: &State<App>,
    session: &Session,
    id: &str,
    body: Body<RotateRequest>,
) -> Result<Custom<Json<Value>>, ApiError> {
    let key_id = key_id(id)?;
    let RotateRequest {
        grace_hours,
        validity_days,
    } = body.0;
    let store = AuditedStore::new(app.keys.store().clone(), session.actor())
        .with_detail("grace_hours", json!(grace_hours));
    let rotated = app
        .keys
        .with_store(store)
        .rotate_with(
            &tenant(session),
            &key_id,
            RotateOptions {
                grace_hours,
                validity_days,
            },
        )
        .await?;
    Ok(Custom(
        Status::Created,
        Json(json!({
            "credential": CredentialView::new(app, &rotated.credential),
            "api_key": rotated.api_key.expose_secret(),
            "previous": CredentialView::new(app, &rotated.previous),
        })),
    ))
}

/// Revoke a key: 200 `{"credential"}`; idempotent.
#[post("/v1/partner/credentials/<id>/revoke")]
pub async fn revoke(
    app: &State<App>,
    session: &Session,
    id: &str,
) -> Result<Json<Value>, ApiError> {
    let key_id = key_id(id)?;
    let credential = app
        .keys_as(session.actor())
        .revoke(&tenant(session), &key_id)
        .await?;
    Ok(Json(
        json!({ "credential": CredentialView::new(app, &credential) }),
    ))
}
