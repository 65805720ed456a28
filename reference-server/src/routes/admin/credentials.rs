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
//! - `GET /v1/admin/credentials?tenant=&q=&status=&sort=&limit=&cursor=` → a page of keys across
//!   tenants, each a Credential plus `"tenant": {"id", "name"}`; `q` (at most 200 characters)
//!   matches the key id, the masked key and the name.
//!
//!   **What one staff member can make the database spend.** Without `tenant`, a listing reads
//!   across every tenant's keys: a search (`q`) reads every row (about 2 s of database time at
//!   1 000 000 keys), and a status filter or a cursor can read most of them too. So a listing
//!   without `tenant` — whatever its filters; the cheap ones cost nothing to refuse — holds one
//!   of the staff member's [`MAX_SEARCHES_PER_STAFF`] (1) places while it runs, freed however it
//!   ends; past it 429 `too_many_requests` with `Retry-After: 1` at once, without a query
//!   ([`InFlight::staff_searches`]). Another staff member's places and partners' requests are
//!   untouched. On PostgreSQL each of its statements also runs under `statement_timeout` =
//!   `staff_search_timeout_ms` (default 5 s): one past it is cancelled by the database and the
//!   request answers 503 `service_unavailable` (`Retry-After: 5`), as for any database failure.
//!   SQLite has no statement timeout: there the per-staff place, and the one process that holds
//!   the database, bound it. A listing with `tenant` reads that tenant's keys only, by index, as
//!   the partner's own listing does, and is not capped.
//! - `PATCH /v1/admin/credentials/<id>` → as for partners, on the key's tenant's behalf.
//!
//! Audit: `credential.revoked` (one per key revoked), `tenant.keys_revoked` (when revoke-all
//! revoked any) and `credential.updated` in the tenant's trail with the staff actor, written by
//! the audited key store ([`crate::keys`]) in the change's own transaction; a change that
//! changes nothing writes none.
//!
//! [`MAX_SEARCHES_PER_STAFF`]: crate::auth::in_flight::MAX_SEARCHES_PER_STAFF
//! [`InFlight::staff_searches`]: crate::auth::in_flight::InFlight::staff_searches

use std::collections::HashMap;

use idunox_keys::{Credential, KeyId, KeyStore, TenantId};
use idunox_keys_sqlx::ListQuery;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, patch, post};
use serde_json::json;

use crate::auth::staff_session::StaffSession;
use crate::error::ApiError;
use crate::guards::query::invalid;
use crate::guards::{Body, QueryParams};
use crate::routes::admin::{not_found, path_id};
use crate::routes::credentials::{CredentialView, PatchRequest, listing};
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

/// Keys across tenants, a page at a time: `{"credentials": [Credential + "tenant"],
/// "next_cursor"}`. `tenant` narrows to one tenant (then `counts` too); `q` matches the key id,
/// the masked key and the name; `status`, `sort`, `limit` and `cursor` as for partners. Without
/// `tenant`: one at a time per staff member, under the PostgreSQL time limit (module docs).
#[get("/v1/admin/credentials")]
pub async fn list(
    app: &State<App>,
    staff: &StaffSession,
    params: QueryParams<'_>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // `_in_flight` holds the staff member's place until this function returns or its future is
    // dropped, whatever the outcome.
    let (base, _in_flight) = match params.get("tenant") {
        Some(tid) => {
            // An unknown tenant lists nothing; a malformed one is a bad parameter.
            if !tid.starts_with("ten_") || tid.len() > 64 {
                return Err(invalid("tenant must be a tenant id (ten_…)."));
            }
            let query = listing::for_tenant(app, TenantId::new(tid)).search_masked_key(true);
            (query, None)
        }
        None => {
            let entered = app.staff_searches.enter(&staff.staff.id)?;
            let query = ListQuery::across_tenants(app.now())
                .expiring_window(app.keys.policy().expiring_window)
                .time_limit(app.config.staff_search_timeout);
            (query, Some(entered))
        }
    };
    let page = listing::page(app, &params, base).await?;
    let mut out = listing::page_json(app, &page);
    let mut ids: Vec<&str> = page
        .credentials
        .iter()
        .map(|c| c.tenant_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let tenants: HashMap<String, TenantView> = app
        .db
        .tenants_by_id(&ids)
        .await?
        .iter()
        .map(|t| (t.id.clone(), TenantView::of(t)))
        .collect();
    if let Some(items) = out["credentials"].as_array_mut() {
        for (item, c) in items.iter_mut().zip(&page.credentials) {
            item["tenant"] = json!(tenants.get(c.tenant_id.as_str()));
        }
    }
    Ok(Json(out))
}

/// Change a key's name, scopes or allow-list on its tenant's behalf: 200 `{"credential"}`, as
/// for partners; audited in the tenant's trail with the staff actor.
#[patch("/v1/admin/credentials/<id>", data = "<body>")]
pub async fn update(
    app: &State<App>,
    staff: &StaffSession,
    id: &str,
    body: Body<PatchRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (found, _tenant) = find(app, id).await?;
    let credential = app
        .keys_as(staff.actor())
        .update(&found.tenant_id, &found.key_id, body.0.into_changes())
        .await?;
    Ok(Json(
        json!({ "credential": CredentialView::new(app, &credential) }),
    ))
}

/// Revoke a key on its tenant's behalf: 200 `{"credential"}`; idempotent.
#[post("/v1/admin/credentials/<id>/revoke")]
pub async fn revoke(
    app: &State<App>,
    staff: &StaffSession,
    id: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (found, _tenant) = find(app, id).await?;
    let credential = app
        .keys_as(staff.actor())
        .revoke(&found.tenant_id, &found.key_id)
        .await?;
    Ok(Json(
        json!({ "credential": CredentialView::new(app, &credential) }),
    ))
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
        .keys_as(staff.actor())
        .revoke_all(&TenantId::new(tenant.id.clone()))
        .await?;
    Ok(Json(json!({ "revoked": revoked.len() })))
}
