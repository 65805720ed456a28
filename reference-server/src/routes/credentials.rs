//! `/v1/partner/credentials`: list, create, rotate and revoke this tenant's API keys.
//!
//! Every route takes the [`Session`] guard; the tenant comes from the session only. Another
//! tenant's credential id, and a malformed id, answer exactly like an unknown id: 404
//! `not_found`. Plaintext keys appear only in the 201 answers of create and rotate.

use idunox_keys::{Credential, KeyId, TenantId};
use rocket::http::Status;
use rocket::response::status::Custom;
use rocket::serde::json::Json;
use rocket::{State, get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::session::Session;
use crate::db::audit::{Action, NewEntry};
use crate::error::ApiError;
use crate::guards::whole_number;
use crate::guards::{Body, Payload};
use crate::routes::rfc3339;
use crate::state::App;

/// A credential as the API shows it: the Credential object of `docs/http-api.md`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CredentialView {
    id: String,
    name: Option<String>,
    masked_key: String,
    status: &'static str,
    created_at: String,
    expires_at: String,
    expires_in_days: Option<i64>,
    grace_expires_at: Option<String>,
    revoked_at: Option<String>,
    replaced_by: Option<String>,
    replaces: Option<String>,
    last_used_at: Option<String>,
}

impl CredentialView {
    /// `revoked_at`, as shown.
    pub fn revoked_at(&self) -> Option<&str> {
        self.revoked_at.as_deref()
    }

    /// The view of `c` at the server's current time.
    pub fn new(app: &App, c: &Credential) -> Self {
        let now = app.now();
        let window = app.keys.policy().expiring_window;
        Self {
            id: c.key_id.to_string(),
            name: c.name.clone(),
            masked_key: c.masked_key.clone(),
            status: c.status_at(now, window).as_str(),
            created_at: rfc3339(c.created_at),
            expires_at: rfc3339(c.expires_at),
            expires_in_days: c.expires_in_days(now, window),
            grace_expires_at: c.grace_expires_at.map(rfc3339),
            revoked_at: c.revoked_at.map(rfc3339),
            replaced_by: c.replaced_by.map(|k| k.to_string()),
            replaces: c.replaces.map(|k| k.to_string()),
            last_used_at: c.last_used_at.map(rfc3339),
        }
    }
}

/// `{"credentials": [...]}`.
#[derive(Debug, Serialize)]
pub struct ListResponse {
    credentials: Vec<CredentialView>,
}

/// `POST /v1/partner/credentials` body; an empty body reads as `{}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "whole_number::optional")]
    validity_days: Option<i64>,
}

impl Payload for CreateRequest {
    const EMPTY_IS_OBJECT: bool = true;
}

/// `POST /v1/partner/credentials/<id>/rotate` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    #[serde(deserialize_with = "whole_number::required")]
    grace_hours: i64,
}

impl Payload for RotateRequest {}

fn tenant(session: &Session) -> TenantId {
    TenantId::new(session.tenant.id.clone())
}

/// A path id: malformed reads as unknown.
fn key_id(id: &str) -> Result<KeyId, ApiError> {
    KeyId::parse(id).map_err(|_| ApiError::not_found())
}

/// The credential routes' audit entry, written after the key store's change (see
/// [`SqlDb::record_audit_or_log`](crate::db::SqlDb::record_audit_or_log)).
fn entry<'a>(
    app: &App,
    session: &'a Session,
    action: Action,
    credential: &'a KeyId,
    detail: serde_json::Value,
) -> NewEntry<'a> {
    NewEntry::new(
        app.now().unix_timestamp(),
        &session.tenant.id,
        Some(session.actor()),
        action,
    )
    .credential(credential.as_str())
    .detail(detail)
}

/// This tenant's keys, newest first.
#[get("/v1/partner/credentials")]
pub async fn list(app: &State<App>, session: &Session) -> Result<Json<ListResponse>, ApiError> {
    let creds = app.keys.list(&tenant(session)).await?;
    Ok(Json(ListResponse {
        credentials: creds.iter().map(|c| CredentialView::new(app, c)).collect(),
    }))
}

/// Create a key: 201 `{"credential", "api_key"}`; the plaintext is shown this once.
#[post("/v1/partner/credentials", data = "<body>")]
pub async fn create(
    app: &State<App>,
    session: &Session,
    body: Body<CreateRequest>,
) -> Result<Custom<Json<serde_json::Value>>, ApiError> {
    let CreateRequest {
        name,
        validity_days,
    } = body.0;
    let issued = app
        .keys
        .create(&tenant(session), name, validity_days)
        .await?;
    let view = CredentialView::new(app, &issued.credential);
    app.db
        .record_audit_or_log(entry(
            app,
            session,
            Action::CredentialCreated,
            &issued.credential.key_id,
            json!({ "expires_at": view.expires_at }),
        ))
        .await;
    Ok(Custom(
        Status::Created,
        Json(json!({
            "credential": view,
            "api_key": issued.api_key.expose_secret(),
        })),
    ))
}

/// Rotate a key: 201 `{"credential", "api_key", "previous"}`.
#[post("/v1/partner/credentials/<id>/rotate", data = "<body>")]
pub async fn rotate(
    app: &State<App>,
    session: &Session,
    id: &str,
    body: Body<RotateRequest>,
) -> Result<Custom<Json<serde_json::Value>>, ApiError> {
    let key_id = key_id(id)?;
    let rotated = app
        .keys
        .rotate(&tenant(session), &key_id, body.0.grace_hours)
        .await?;
    let previous = CredentialView::new(app, &rotated.previous);
    app.db
        .record_audit_or_log(entry(
            app,
            session,
            Action::CredentialRotated,
            &key_id,
            json!({
                "successor": rotated.credential.key_id.as_str(),
                "grace_hours": body.0.grace_hours,
                "grace_expires_at": previous.grace_expires_at,
            }),
        ))
        .await;
    Ok(Custom(
        Status::Created,
        Json(json!({
            "credential": CredentialView::new(app, &rotated.credential),
            "api_key": rotated.api_key.expose_secret(),
            "previous": previous,
        })),
    ))
}

/// Revoke a key: 200 `{"credential"}`; idempotent.
#[post("/v1/partner/credentials/<id>/revoke")]
pub async fn revoke(
    app: &State<App>,
    session: &Session,
    id: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    let key_id = key_id(id)?;
    let credential = app.keys.revoke(&tenant(session), &key_id).await?;
    let view = CredentialView::new(app, &credential);
    app.db
        .record_audit_or_log(entry(
            app,
            session,
            Action::CredentialRevoked,
            &key_id,
            json!({ "revoked_at": view.revoked_at }),
        ))
        .await;
    Ok(Json(json!({ "credential": view })))
}
