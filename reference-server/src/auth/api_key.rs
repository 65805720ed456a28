//! The `X-Api-Key` request guard: the core [`Verifier`](idunox_keys::Verifier) over the
//! server's [`SqlKeyStore`](crate::db::SqlKeyStore), run once per request
//! (`local_cache_async`).
//!
//! The whole check — parse, checksum, environment, lookup, constant-time secret check,
//! fresh status, then the key's IP allow-list — is the core's; this guard gives it the client's
//! address ([`ClientAddress`]: the peer, or the client a trusted proxy names) and maps its
//! refusal to the HTTP answer: 401 `missing_api_key` / `invalid_api_key` / `api_key_revoked` /
//! `api_key_expired` with `WWW-Authenticate`, 403 `ip_not_allowed`, or 503
//! `service_unavailable` with `Retry-After`. The allow-list is checked after the secret and the
//! status, so a wrong or revoked key from a denied address still answers as a wrong or revoked
//! key, and an address says nothing about keys it cannot present. A restricted key whose client
//! is unknown (a trusted proxy that names nobody) is refused.

use idunox_keys::VerifiedKey;
use rocket::request::{FromRequest, Outcome, Request};

use crate::error::ApiError;
use crate::guards::ClientAddress;
use crate::state::App;

/// A key that passed verification.
#[derive(Clone, Debug)]
pub struct ApiKey(pub VerifiedKey);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r ApiKey {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let outcome = req
            .local_cache_async(async {
                let Some(app) = req.rocket().state::<App>() else {
                    return Err(ApiError::internal());
                };
                let mut values = req.headers().get("x-api-key");
                let presented = values.next();
                let answer = if values.next().is_some() {
                    // Two keys: refuse rather than guess which one counts.
                    Err(idunox_keys::Refusal::Invalid(
                        idunox_keys::InvalidKey::SeveralValues,
                    ))
                } else {
                    match app.verifier.verify(presented.map(str::as_bytes)).await {
                        Ok(key) => {
                            let client = ClientAddress::resolve(
                                req.remote().map(|r| r.ip()),
                                req.headers().get("X-Forwarded-For"),
                                &app.config.trusted_proxies,
                            );
                            key.check_ip(client.0).map(|()| key)
                        }
                        Err(refusal) => Err(refusal),
                    }
                };
                let answer = answer.and_then(|key| {
                    let client = ClientAddress::resolve(
                        req.remote().map(|r| r.ip()),
                        req.headers().get("X-Forwarded-For"),
                        &app.config.trusted_proxies,
                    );
                    key.check_ip(client.0).map(|()| key)
                });
                crate::observe::metrics::record_verification(req, answer.as_ref());
                answer.map(ApiKey).map_err(|r| ApiError::from(&r))
            })
            .await;
        match outcome {
            Ok(key) => Outcome::Success(key),
            Err(e) => Outcome::Error((e.clone().stash(req), ())),
        }
    }
}
