//! Keys on a tenant's behalf: one key by id, its revocation, and revoke-all for incident response.
//!
//! - `GET /v1/admin/credentials/<id>` → `{"credential","tenant"}`. `<id>` is a key id (12
//!   characters) or a masked key (`idx_test_<key id>_••••`, what a partner reads out). Something
//!   that looks like a whole key (its secret included) is refused with 400 `invalid_request`
//!   and a sentence saying staff never handle secrets: the key is not looked up, not echoed, and
//!   the access log never shows a path segment that long.
//! - `POST /v1/admin/credentials/<id>/revoke` → 200 `{"credential"}`, as for partners
//!   (idempotent: a second revoke answers the same `revoked_at`).
//! - `POST /v1/admin/tenants/<tid>/revoke-all` → 200 `{"revoked": N}`: every key of the tenant
//!   that still verifies (active, expiring, grace), in one step; a second call `{"revoked": 0}`.
//!
//! Staff never create or rotate a partner's key (no such route: the secret goes to the partner
//! alone). Unknown, malformed and other kinds of ids answer 404 `not_found`.
//!
//! Audit: `credential.revoked` (one per key revoked) and `tenant.keys_revoked` (when it revoked
//! any) in the tenant's trail with the staff actor; a revoke that changes nothing writes none. Until the key store's audited writes land, these entries are written right
//! after the key store's change, like the partner credential routes' (see
//! [`SqlDb::record_audit_or_log`](crate::db::SqlDb::record_audit_or_log)).

use idunox_keys::{Credential, KeyId, KeyStore, TenantId};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post};
use serde_json::json;

use crate::auth::staff_session::StaffSession;
use crate::db::audit::{Action, NewEntry};
use crate::error::ApiError;
use crate::routes::admin::{not_found, path_id};
use crate::routes::credentials::CredentialView;
use crate::routes::me::TenantView;
use crate::state::App;

/// Whether `id` holds what looks like a whole key: the configured prefix and environment, a
/// key id, and more than the masked form's bullets after it.
fn looks_like_a_key(app: &App, id: &str) -> bool {
    let head = format!("{}_{}_", app.config.key_prefix, app.config.environment);
    id.len() > head.len() + 13
        && id.starts_with(&head)
        && !id.ends_with("_\u{2022}\u{2022}\u{2022}\u{2022}")
}

/// The key id in a path `<id>`: a bare key id or a masked key.
///
/// # Errors
/// 400 for a whole key; 404 for anything else that is not a key id.
fn key_id(app: &App, id: &str) -> Result<KeyId, ApiError> {
    if looks_like_a_key(app, id) {
        return Err(ApiError::new(
            Status::BadRequest,
            "invalid_request",
            "This looks like a whole API key, secret included. Staff never handle secrets: use \
             the key id (the 12 characters after the environment), and have the partner rotate \
             this key, since it has been shared.",
        ));
    }
    let head = format!("{}_{}_", app.config.key_prefix, app.config.environment);
    let bare = id
        .strip_prefix(&head)
        .and_then(|rest| rest.strip_suffix("_\u{2022}\u{2022}\u{2022}\u{2022}"))
        .unwrap_or(id);
    KeyId::parse(bare).map_err(|_| not_found("credential"))
}

/// The credential with this id, whatever its tenant, and its tenant.
async fn find(app: &App, id: &str) -> Result<(std::sync::Arc<Credential>, TenantView), ApiError> {
    let key_id = key_id(app, id)?;
    let credential = app
        .keys
        .store()
        .find(&key_id)
        .await
        .map_err(|e| ApiError::database(&e))?
        .ok_or_else(|| not_found("credential"))?;
    let tenant = app
        .db
        .tenant(credential.tenant_id.as_str())
        .await?
        .ok_or_else(|| not_found("credential"))?;
    Ok((credential, TenantView::of(&tenant)))
}

/// One key, whatever its tenant, with the tenant.
#[get("/v1/admin/credentials/<id>")]
pub async fn detail(
    app: &State<App>,
    _staff: &StaffSession,
    id: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (credential, tenant) = find(app, id).await?;
    Ok(Json(json!({
        "credential": CredentialView::new(app, &credential),
        "tenant": tenant,
    })))
}

/// Revoke a key on its tenant's behalf: 200 `{"credential"}`; idempotent.
#[post("/v1/admin/credentials/<id>/revoke")]
pub async fn revoke(
    app: &State<App>,
    staff: &StaffSession,
    id: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (found, tenant) = find(app, id).await?;
    let credential = app.keys.revoke(&found.tenant_id, &found.key_id).await?;
    let view = CredentialView::new(app, &credential);
    if found.revoked_at.is_none() {
        let now = app.now().unix_timestamp();
        let entry = NewEntry::new(
            now,
            &tenant.id,
            Some(staff.actor()),
            Action::CredentialRevoked,
        )
        .credential(credential.key_id.as_str())
        .detail(json!({ "revoked_at": view.revoked_at() }));
        app.db.record_audit_or_log(entry).await;
    }
    Ok(Json(json!({ "credential": view })))
}

/// Revoke every key of a tenant that still verifies: 200 `{"revoked": N}`.
#[post("/v1/admin/tenants/<tid>/revoke-all")]
pub async fn revoke_all(
    app: &State<App>,
    staff: &StaffSession,
    tid: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tid = path_id(tid, "ten_", "tenant")?;
    let tenant = app
        .db
        .tenant(tid)
        .await?
        .ok_or_else(|| not_found("tenant"))?;
    let revoked = app
        .keys
        .revoke_all(&TenantId::new(tenant.id.clone()))
        .await?;
    let now = app.now().unix_timestamp();
    for key_id in &revoked {
        let entry = NewEntry::new(
            now,
            &tenant.id,
            Some(staff.actor()),
            Action::CredentialRevoked,
        )
        .credential(key_id.as_str())
        .detail(json!({ "via": "revoke_all" }));
        app.db.record_audit_or_log(entry).await;
    }
    if !revoked.is_empty() {
        let entry = NewEntry::new(
            now,
            &tenant.id,
            Some(staff.actor()),
            Action::TenantKeysRevoked,
        )
        .detail(json!({ "revoked": revoked.len() }));
        app.db.record_audit_or_log(entry).await;
    }
    Ok(Json(json!({ "revoked": revoked.len() })))
}
