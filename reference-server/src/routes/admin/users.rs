//! A tenant's portal users, managed by staff:
//!
//! - `POST /v1/admin/tenants/<tid>/users` `{"email"}` → 201 `{"user","initial_password"}`: a
//!   strong one-time password (24 base62 characters, about 142 bits), shown in this answer only;
//!   the user must change it at first sign-in (`must_change_password`). An email that does not
//!   look like one → 422 `invalid_request`; one taken (by any tenant) → 409 `conflict`; a tenant
//!   at [`MAX_USERS_PER_TENANT`] users → 409 `user_limit_reached`.
//! - `POST /v1/admin/users/<uid>/reset-password` → 200 `{"user","initial_password"}`: a new
//!   one-time password; every session of the user ends at once.
//! - `POST /v1/admin/users/<uid>/disable` · `/enable` → 200 `{"user"}`: a disabled user cannot
//!   sign in and every session of it ends at once. Disabling a disabled user changes nothing
//!   (and writes no entry).
//! - `POST /v1/admin/users/<uid>/unlock` → 200 `{"user"}`: clears the sign-in throttling of the
//!   user's email, from every address.
//!
//! Each change and its entry in the tenant's trail (`user.provisioned`, `user.password_reset`,
//! `user.disabled`, `user.enabled`, `user.unlocked`, with the staff actor) commit in one
//! transaction. The password is hashed on the process's one argon2 budget (503 at once when it is
//! full), never logged, never stored in clear, never written in an audit entry.

use rocket::http::Status;
use rocket::response::status::Custom;
use rocket::serde::json::Json;
use rocket::{State, post};
use serde_json::json;

use crate::auth::staff_session::StaffSession;
use crate::auth::throttle::{self, Realm};
use crate::cli::{check_email, generate_password};
use crate::db::accounts::{self, AccountError, NewUser, User};
use crate::db::audit::{self, Action, NewEntry};
use crate::db::sessions;
use crate::error::ApiError;
use crate::guards::Body;
use crate::routes::admin::tenants::MAX_USERS_PER_TENANT;
use crate::routes::admin::{AdminUserView, not_found, path_id};
use crate::state::App;

pub use crate::bodies::admin::NewUserRequest;

/// The user with this path id, or 404.
async fn user(app: &App, uid: &str) -> Result<User, ApiError> {
    let uid = path_id(uid, "usr_", "user")?;
    accounts::user_by_id(&app.db.pool, uid)
        .await?
        .ok_or_else(|| not_found("user"))
}

/// `{"user","initial_password"}`.
fn with_password(user: &User, password: &str) -> serde_json::Value {
    json!({ "user": AdminUserView::of(user), "initial_password": password })
}

/// The audit entry of a staff action on `user`.
fn entry<'a>(now: i64, staff: &'a StaffSession, user: &'a User, action: Action) -> NewEntry<'a> {
    NewEntry::new(now, &user.tenant_id, Some(staff.actor()), action)
        .detail(json!({"user_id": user.id, "email": user.email}))
}

/// Provision a user with a one-time password.
#[post("/v1/admin/tenants/<tid>/users", data = "<body>")]
pub async fn provision(
    app: &State<App>,
    staff: &StaffSession,
    tid: &str,
    body: Body<NewUserRequest>,
) -> Result<Custom<Json<serde_json::Value>>, ApiError> {
    let tid = path_id(tid, "ten_", "tenant")?;
    let email = check_email(&body.0.email).map_err(|_| {
        ApiError::new(
            Status::UnprocessableEntity,
            "invalid_request",
            "The email must look like name@domain: one @, no spaces, at most 254 characters.",
        )
    })?;
    let now = app.now().unix_timestamp();
    let tenant = app
        .db
        .tenant_summary(tid, now)
        .await?
        .ok_or_else(|| not_found("tenant"))?;
    if tenant.users >= MAX_USERS_PER_TENANT {
        return Err(ApiError::new(
            Status::Conflict,
            "user_limit_reached",
            format!("A tenant has at most {MAX_USERS_PER_TENANT} users."),
        ));
    }
    let password = generate_password();
    let hash = app.passwords.hash(&password).await?;
    let mut tx = app.db.pool.begin().await?;
    let new = NewUser {
        tenant_id: tid,
        email: &email,
        password_hash: &hash,
        must_change_password: true,
    };
    let user = match accounts::insert_user(&mut *tx, new, now).await {
        Ok(user) => user,
        Err(AccountError::DuplicateEmail(_)) => {
            return Err(ApiError::new(
                Status::Conflict,
                "conflict",
                "A user with this email exists already.",
            ));
        }
        Err(AccountError::Db(e)) => return Err(e.into()),
        Err(AccountError::UnknownTenant(_)) => return Err(not_found("tenant")),
    };
    audit::record(&mut *tx, entry(now, staff, &user, Action::UserProvisioned)).await?;
    tx.commit().await?;
    Ok(Custom(
        Status::Created,
        Json(with_password(&user, password.as_str())),
    ))
}

/// Reset a user's password to a new one-time one; every session of the user ends.
#[post("/v1/admin/users/<uid>/reset-password")]
pub async fn reset_password(
    app: &State<App>,
    staff: &StaffSession,
    uid: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut user = user(app, uid).await?;
    let password = generate_password();
    let hash = app.passwords.hash(&password).await?;
    let now = app.now().unix_timestamp();
    let mut tx = app.db.pool.begin().await?;
    accounts::set_one_time_password(&mut *tx, &user.id, &hash).await?;
    sessions::end_all(&mut *tx, sessions::USER, &user.id, now).await?;
    audit::record(
        &mut *tx,
        entry(now, staff, &user, Action::UserPasswordReset),
    )
    .await?;
    tx.commit().await?;
    user.must_change_password = true;
    Ok(Json(with_password(&user, password.as_str())))
}

async fn set_disabled(
    app: &App,
    staff: &StaffSession,
    uid: &str,
    disabled: bool,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut user = user(app, uid).await?;
    let now = app.now().unix_timestamp();
    let mut tx = app.db.pool.begin().await?;
    let changed = accounts::set_disabled(&mut *tx, &user.id, disabled).await?;
    if disabled {
        sessions::end_all(&mut *tx, sessions::USER, &user.id, now).await?;
    }
    if changed {
        let action = if disabled {
            Action::UserDisabled
        } else {
            Action::UserEnabled
        };
        audit::record(&mut *tx, entry(now, staff, &user, action)).await?;
    }
    tx.commit().await?;
    user.disabled = disabled;
    Ok(Json(json!({ "user": AdminUserView::of(&user) })))
}

/// Disable a user: it cannot sign in, and every session of it ends at once.
#[post("/v1/admin/users/<uid>/disable")]
pub async fn disable(
    app: &State<App>,
    staff: &StaffSession,
    uid: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    set_disabled(app, staff, uid, true).await
}

/// Enable a disabled user again.
#[post("/v1/admin/users/<uid>/enable")]
pub async fn enable(
    app: &State<App>,
    staff: &StaffSession,
    uid: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    set_disabled(app, staff, uid, false).await
}

/// Clear the sign-in throttling of the user's email (every address, the account lock too).
#[post("/v1/admin/users/<uid>/unlock")]
pub async fn unlock(
    app: &State<App>,
    staff: &StaffSession,
    uid: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = user(app, uid).await?;
    let now = app.now().unix_timestamp();
    let mut tx = app.db.pool.begin().await?;
    throttle::clear_throttle(&mut tx, Realm::User, &user.email).await?;
    audit::record(&mut *tx, entry(now, staff, &user, Action::UserUnlocked)).await?;
    tx.commit().await?;
    Ok(Json(json!({ "user": AdminUserView::of(&user) })))
}
