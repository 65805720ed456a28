//! Portal sessions: HS256 JSON Web Tokens and the [`Session`] request guard.
//!
//! The algorithm is pinned (`Validation::new(Algorithm::HS256)`: the token header never picks
//! it, so `alg: none` and RS/ES tokens are refused); `exp`, `iat`, `iss`, `aud` and `sub` are
//! required, issuer and audience checked, the tenant travels in `tid`. Expiry is checked
//! against the server's injected clock with no leeway (jsonwebtoken's own check reads the
//! system clock, so it is turned off and done here). The guard also checks that the user
//! still exists in that tenant.

use idunox_keys::Clock;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rocket::request::{FromRequest, Outcome, Request};
use serde::{Deserialize, Serialize};

use crate::config::ServerConfig;
use crate::db::accounts::{Tenant, User};
use crate::error::ApiError;
use crate::state::App;

/// The claims of a session token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// Signing and checking keys with the pinned validation. `Debug` shows no key.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: i64,
}

impl core::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from the configuration.
    pub fn new(config: &ServerConfig) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        // Checked against the injected clock in `check`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(&config.jwt_secret),
            decoding: DecodingKey::from_secret(&config.jwt_secret),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl: i64::try_from(config.jwt_ttl_seconds).unwrap_or(i64::MAX / 4),
        }
    }

    /// Session lifetime in seconds.
    pub fn ttl(&self) -> i64 {
        self.ttl
    }

    /// Sign a token for this user at `now` (Unix seconds).
    ///
    /// # Errors
    /// When signing fails.
    pub fn issue(
        &self,
        user_id: &str,
        tenant_id: &str,
        now: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user_id.to_owned(),
            tid: tenant_id.to_owned(),
            iat: now,
            exp: now + self.ttl,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Check a token at `now` (Unix seconds): signature, algorithm, issuer, audience, required
    /// claims, and `now < exp`.
    ///
    /// # Errors
    /// Why the token is refused (a sentence; never the token).
    pub fn check(&self, token: &str, now: i64) -> Result<Claims, &'static str> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| "The session token is invalid.")?;
        let claims = data.claims;
        if now >= claims.exp {
            return Err("The session has expired; sign in again.");
        }
        if claims.iat > now + 60 {
            return Err("The session token is invalid.");
        }
        Ok(claims)
    }
}

/// A signed-in portal user and their tenant.
#[derive(Clone, Debug)]
pub struct Session {
    /// The user.
    pub user: User,
    /// Their tenant.
    pub tenant: Tenant,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r Session {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let outcome = req
            .local_cache_async(async {
                let Some(app) = req.rocket().state::<App>() else {
                    return Err(ApiError::internal());
                };
                authenticate(app, req).await
            })
            .await;
        match outcome {
            Ok(session) => Outcome::Success(session),
            Err(e) => Outcome::Error((e.clone().stash(req), ())),
        }
    }
}

async fn authenticate(app: &App, req: &Request<'_>) -> Result<Session, ApiError> {
    let mut values = req.headers().get("Authorization");
    let header = values
        .next()
        .ok_or_else(|| ApiError::unauthorized("A Bearer token is required."))?;
    if values.next().is_some() {
        return Err(ApiError::unauthorized(
            "Send exactly one Authorization header.",
        ));
    }
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(ApiError::unauthorized("A Bearer token is required.")),
    };
    let claims = app
        .jwt
        .check(token, app.clock.now().unix_timestamp())
        .map_err(ApiError::unauthorized)?;
    match app.db.user_in_tenant(&claims.sub, &claims.tid).await {
        Ok(Some((user, tenant))) => Ok(Session { user, tenant }),
        Ok(None) => Err(ApiError::unauthorized(
            "The session's user no longer exists.",
        )),
        Err(e) => Err(ApiError::database(&e)),
    }
}
