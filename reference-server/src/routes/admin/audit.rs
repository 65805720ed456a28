//! `GET /v1/admin/audit?tenant=&limit=&before=`: the audit trail across tenants, newest first.
//!
//! Without `tenant`, every tenant's entries and the staff trail (staff sign-ins and sign-outs,
//! entries with no tenant); with `tenant=ten_…`, that tenant's only (an unknown tenant reads as
//! an empty trail). Each entry is the partner API's (`{"id","at","action","actor",
//! "credential_id","detail"}`) plus `"tenant":{"id","name"}`, `null` in the staff trail.
//! `limit` is 1..=200 (default 50); pass `next_cursor` as `before` for the next, older page.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get};
use serde::Serialize;

use crate::auth::staff_session::StaffSession;
use crate::error::ApiError;
use crate::routes::audit::{EntryView, cut_page, page_query, view};
use crate::routes::me::TenantView;
use crate::state::App;

/// An entry with its tenant.
#[derive(Debug, Serialize)]
pub struct AdminEntryView {
    #[serde(flatten)]
    entry: EntryView,
    tenant: Option<TenantView>,
}

/// A page.
#[derive(Debug, Serialize)]
pub struct AdminAuditPage {
    entries: Vec<AdminEntryView>,
    next_cursor: Option<String>,
}

/// A page of the audit trail across tenants.
#[get("/v1/admin/audit?<tenant>&<limit>&<before>")]
pub async fn audit(
    app: &State<App>,
    _staff: &StaffSession,
    tenant: Option<&str>,
    limit: Option<&str>,
    before: Option<&str>,
) -> Result<Json<AdminAuditPage>, ApiError> {
    let (limit, before) = page_query(limit, before)?;
    let tenant = tenant.filter(|t| !t.is_empty());
    if tenant.is_some_and(|t| t.len() > 64) {
        return Err(ApiError::new(
            Status::UnprocessableEntity,
            "invalid_request",
            "tenant must be a tenant id.",
        ));
    }
    let entries = app.db.audit_page_across(tenant, before, limit + 1).await?;
    let (entries, next_cursor) = cut_page(entries, limit);
    Ok(Json(AdminAuditPage {
        entries: entries
            .into_iter()
            .map(|mut e| {
                let tenant = match (e.tenant_id.take(), e.tenant_name.take()) {
                    (Some(id), Some(name)) => Some(TenantView { id, name }),
                    _ => None,
                };
                AdminEntryView {
                    entry: view(e),
                    tenant,
                }
            })
            .collect(),
        next_cursor,
    }))
}
