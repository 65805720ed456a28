//! `GET /v1/partner-auth-probe`: check an `X-Api-Key` the way the data API does.

use rocket::serde::json::Json;
use rocket::{State, get};
use serde::Serialize;

use crate::auth::api_key::ApiKey;
use crate::error::ApiError;
use crate::routes::me::TenantView;
use crate::state::App;

/// The probe's answer.
#[derive(Debug, Serialize)]
pub struct ProbeResponse {
    ok: bool,
    tenant: TenantView,
    credential: ProbeCredential,
}

/// The presented key, masked.
#[derive(Debug, Serialize)]
pub struct ProbeCredential {
    id: String,
    masked_key: String,
    status: &'static str,
    scopes: Option<Vec<String>>,
    allowed_ips: Option<Vec<String>>,
}

/// 200 with the key's tenant, status and restrictions, or the guard's 401 / 403 / 503. The
/// probe needs no scope; it enforces the key's allow-list (the guard does).
#[get("/v1/partner-auth-probe")]
pub async fn probe(app: &State<App>, key: &ApiKey) -> Result<Json<ProbeResponse>, ApiError> {
    let k = &key.0;
    let tenant = app
        .db
        .tenant(k.tenant_id.as_str())
        .await
        .map_err(|e| ApiError::database(&e))?;
    let name = tenant.map(|t| t.name).unwrap_or_default();
    Ok(Json(ProbeResponse {
        ok: true,
        tenant: TenantView {
            id: k.tenant_id.to_string(),
            name,
        },
        credential: ProbeCredential {
            id: k.key_id.to_string(),
            masked_key: k.masked_key().to_owned(),
            status: k.status.as_str(),
            scopes: k.scopes().map(<[String]>::to_vec),
            allowed_ips: k
                .allowed_ips()
                .map(|l| l.iter().map(ToString::to_string).collect()),
        },
    }))
}
