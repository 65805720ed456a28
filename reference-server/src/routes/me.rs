//! `GET /v1/partner/me`: who is signed in. Answers also while a password change is due (then
//! `user.must_change_password` is `true` and every other partner route but the password change
//! and sign-out answers 403 `password_change_required`).

use rocket::get;
use rocket::serde::json::Json;
use serde::Serialize;

use crate::auth::session::AnySession;
use crate::db::accounts::{Tenant, User};

/// A user as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct UserView {
    /// `usr_…`
    pub id: String,
    /// Normalised email.
    pub email: String,
    /// Whether the password must be changed before anything else.
    pub must_change_password: bool,
}

impl UserView {
    /// The view of `user`.
    pub fn of(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            must_change_password: user.must_change_password,
        }
    }
}

/// A tenant as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct TenantView {
    /// `ten_…`
    pub id: String,
    /// Display name.
    pub name: String,
}

impl TenantView {
    /// The view of `tenant`.
    pub fn of(tenant: &Tenant) -> Self {
        Self {
            id: tenant.id.clone(),
            name: tenant.name.clone(),
        }
    }
}

/// `{"user":{"id","email","must_change_password"},"tenant":{"id","name"}}`.
#[derive(Debug, Serialize)]
pub struct MeResponse {
    user: UserView,
    tenant: TenantView,
}

/// The signed-in user and tenant.
#[get("/v1/partner/me")]
pub fn me(session: AnySession<'_>) -> Json<MeResponse> {
    Json(MeResponse {
        user: UserView::of(&session.0.user),
        tenant: TenantView::of(&session.0.tenant),
    })
}
