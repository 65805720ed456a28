//! `GET /v1/partner/me`: who is signed in.

use rocket::get;
use rocket::serde::json::Json;
use serde::Serialize;

use crate::auth::jwt::Session;

/// A user as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct UserView {
    /// `usr_…`
    pub id: String,
    /// Normalised email.
    pub email: String,
}

/// A tenant as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct TenantView {
    /// `ten_…`
    pub id: String,
    /// Display name.
    pub name: String,
}

/// `{"user":{"id","email"},"tenant":{"id","name"}}`.
#[derive(Debug, Serialize)]
pub struct MeResponse {
    user: UserView,
    tenant: TenantView,
}

/// The signed-in user and tenant.
#[get("/v1/partner/me")]
pub fn me(session: &Session) -> Json<MeResponse> {
    Json(MeResponse {
        user: UserView {
            id: session.user.id.clone(),
            email: session.user.email.clone(),
        },
        tenant: TenantView {
            id: session.tenant.id.clone(),
            name: session.tenant.name.clone(),
        },
    })
}
