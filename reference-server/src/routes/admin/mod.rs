//! The admin API under `/v1/admin` (`docs/http-api.md`, "Staff admin"), one module per resource:
//! staff sign-in and sign-out ([`auth`]), tenants ([`tenants`]), their users ([`users`]), keys on a
//! tenant's behalf ([`credentials`]) and the audit trail across tenants ([`audit`]).
//!
//! Every route but sign-in takes the staff session guard
//! ([`StaffSession`](crate::auth::staff_session::StaffSession)): a partner's token is refused
//! (401) as is a staff token on the partner routes. Every staff action is written in the
//! tenant's own audit trail with the staff actor, in the same transaction as the change. Ids of
//! another kind, malformed ids and unknown ids all answer 404 `not_found`.

use rocket::http::Status;
use rocket::{Route, routes};
use serde::Serialize;

use crate::db::accounts::User;
use crate::error::ApiError;
use crate::routes::rfc3339;

pub mod audit;
pub mod auth;
pub mod credentials;
pub mod tenants;
pub mod users;

/// Every `/v1/admin` route.
pub fn routes() -> Vec<Route> {
    routes![
        auth::login,
        auth::logout,
        tenants::list,
        tenants::create,
        tenants::detail,
        users::provision,
        users::reset_password,
        users::disable,
        users::enable,
        users::unlock,
        credentials::list,
        credentials::detail,
        credentials::update,
        credentials::revoke,
        credentials::revoke_all,
        audit::audit,
    ]
}

/// A portal user as the admin API shows it (the User object of `docs/http-api.md`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AdminUserView {
    id: String,
    email: String,
    created_at: String,
    disabled: bool,
    must_change_password: bool,
    last_login_at: Option<String>,
}

impl AdminUserView {
    /// The view of `user`.
    pub fn of(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            created_at: unix_rfc3339(user.created_at),
            disabled: user.disabled,
            must_change_password: user.must_change_password,
            last_login_at: user.last_login_at.map(unix_rfc3339),
        }
    }
}

/// Unix seconds as RFC 3339 in UTC.
pub fn unix_rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(rfc3339)
        .unwrap_or_default()
}

/// 404 `not_found` naming what was looked for (`"tenant"`, `"user"`, …).
pub fn not_found(what: &str) -> ApiError {
    ApiError::new(
        Status::NotFound,
        "not_found",
        format!("No {what} with this id."),
    )
}

/// A path id of the kind `prefix` (`ten_`, `usr_`): the prefix and 12 base62 characters, else
/// 404 `not_found` without a query.
///
/// # Errors
/// 404 `not_found` for an id of another kind or a malformed one.
pub fn path_id<'a>(id: &'a str, prefix: &str, what: &str) -> Result<&'a str, ApiError> {
    let ok = id
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 12 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok { Ok(id) } else { Err(not_found(what)) }
}

/// A `limit` query value: a whole number in `1..=max`, `default` when absent.
///
/// # Errors
/// 422 `invalid_request` naming the bounds.
pub fn limit(value: Option<&str>, default: i64, max: i64) -> Result<i64, ApiError> {
    match value {
        None => Ok(default),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| {
                ApiError::new(
                    Status::UnprocessableEntity,
                    "invalid_request",
                    format!("limit must be a whole number from 1 to {max}."),
                )
            }),
    }
}
