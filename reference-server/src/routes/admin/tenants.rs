//! `/v1/admin/tenants`: the tenants with their counts, a new tenant, one tenant with its users.
//!
//! - `GET /v1/admin/tenants?limit=&cursor=` → `{"tenants":[{"id","name","created_at","users",
//!   "live_keys"}],"next_cursor"}`, by name, at most `limit` (1..=1000, default 1000) per page;
//!   `next_cursor` (`null` on the last page) passed as `cursor` gives the next.
//! - `POST /v1/admin/tenants` `{"name"}` → 201 `{"tenant"}`; the name is trimmed and must then
//!   have 1 to 100 characters and no control characters (else 422 `invalid_name`). Audited as
//!   `tenant.created` in the new tenant's trail, in the same transaction.
//! - `GET /v1/admin/tenants/<tid>` → `{"tenant","users":[User…]}`, the users oldest first (at
//!   most [`MAX_USERS_PER_TENANT`], which provisioning keeps to).

use rocket::http::Status;
use rocket::response::status::Custom;
use rocket::serde::json::Json;
use rocket::{State, get, post};
use serde::Serialize;

use crate::auth::staff_session::StaffSession;
use crate::db::accounts;
use crate::db::audit::{self, Action, NewEntry};
use crate::db::tenants::TenantSummary;
use crate::error::ApiError;
use crate::guards::Body;
use crate::routes::admin::{AdminUserView, not_found, path_id, unix_rfc3339};
use crate::state::App;

/// Largest page of tenants.
pub const MAX_LIMIT: i64 = 1000;
pub use crate::bodies::admin::MAX_NAME_CHARS;
/// The most users one tenant may have through the admin API (the detail lists them all).
pub const MAX_USERS_PER_TENANT: i64 = 1000;

/// A tenant with its counts, as the admin API shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TenantView {
    id: String,
    name: String,
    created_at: String,
    users: i64,
    live_keys: i64,
}

impl TenantView {
    /// The view of `t`.
    pub fn of(t: &TenantSummary) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            created_at: unix_rfc3339(t.created_at),
            users: t.users,
            live_keys: t.live_keys,
        }
    }
}

/// `{"tenants":[…],"next_cursor"}`.
#[derive(Debug, Serialize)]
pub struct TenantList {
    tenants: Vec<TenantView>,
    next_cursor: Option<String>,
}

pub use crate::bodies::admin::NewTenant;

/// `{"tenant","users"}`.
#[derive(Debug, Serialize)]
pub struct TenantDetail {
    tenant: TenantView,
    users: Vec<AdminUserView>,
}

pub use crate::bodies::admin::check_name;

/// The tenants with their counts, by name.
#[get("/v1/admin/tenants?<limit>&<cursor>")]
pub async fn list(
    app: &State<App>,
    _staff: &StaffSession,
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<Json<TenantList>, ApiError> {
    let limit = super::limit(limit, MAX_LIMIT, MAX_LIMIT)?;
    let invalid_cursor = || {
        ApiError::new(
            Status::UnprocessableEntity,
            "invalid_request",
            "cursor must be a next_cursor from an earlier page.",
        )
    };
    let after = cursor
        .map(|c| path_id(c, "ten_", "tenant").map_err(|_| invalid_cursor()))
        .transpose()?;
    let now = app.now().unix_timestamp();
    let mut tenants = app
        .db
        .tenant_summaries(after, limit + 1, now)
        .await?
        .ok_or_else(invalid_cursor)?;
    let more = tenants.len() as i64 > limit;
    tenants.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(Json(TenantList {
        next_cursor: if more {
            tenants.last().map(|t| t.id.clone())
        } else {
            None
        },
        tenants: tenants.iter().map(TenantView::of).collect(),
    }))
}

/// Make a tenant: 201 `{"tenant"}`.
#[post("/v1/admin/tenants", data = "<body>")]
pub async fn create(
    app: &State<App>,
    staff: &StaffSession,
    body: Body<NewTenant>,
) -> Result<Custom<Json<serde_json::Value>>, ApiError> {
    let name = check_name(&body.0.name)
        .map_err(|m| ApiError::new(Status::UnprocessableEntity, "invalid_name", m))?;
    let now = app.now().unix_timestamp();
    let mut tx = app.db.pool.begin().await?;
    let tenant = accounts::insert_tenant(&mut *tx, name, now).await?;
    let entry = NewEntry::new(now, &tenant.id, Some(staff.actor()), Action::TenantCreated);
    audit::record(
        &mut *tx,
        entry.detail(serde_json::json!({"name": tenant.name})),
    )
    .await?;
    tx.commit().await?;
    let view = TenantView::of(&TenantSummary {
        id: tenant.id,
        name: tenant.name,
        created_at: now,
        users: 0,
        live_keys: 0,
    });
    Ok(Custom(
        Status::Created,
        Json(serde_json::json!({ "tenant": view })),
    ))
}

/// One tenant with its users.
#[get("/v1/admin/tenants/<tid>")]
pub async fn detail(
    app: &State<App>,
    _staff: &StaffSession,
    tid: &str,
) -> Result<Json<TenantDetail>, ApiError> {
    let tid = path_id(tid, "ten_", "tenant")?;
    let now = app.now().unix_timestamp();
    let tenant = app
        .db
        .tenant_summary(tid, now)
        .await?
        .ok_or_else(|| not_found("tenant"))?;
    let users = accounts::users_of(&app.db.pool, tid, MAX_USERS_PER_TENANT).await?;
    Ok(Json(TenantDetail {
        tenant: TenantView::of(&tenant),
        users: users.iter().map(AdminUserView::of).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  Acme Ltd "), Ok("Acme Ltd"));
        assert_eq!(check_name(&"é".repeat(100)).map(str::len), Ok(200));
        for bad in ["", "   ", "a\u{0}b", "tab\there"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn the_bounds_apply_to_the_name_as_sent() {
        // The document says maxLength 100 and no control characters: judged before trimming.
        assert!(check_name(&format!(" {}", "x".repeat(100))).is_err());
        assert!(check_name("\tAcme").is_err());
        assert!(check_name("Acme\n").is_err());
        assert_eq!(
            check_name(&format!(" {}", "x".repeat(99))).map(str::len),
            Ok(99)
        );
    }
}
