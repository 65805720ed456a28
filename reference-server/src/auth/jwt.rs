//! Session tokens: HS256 JSON Web Tokens, signed and checked. Token crypto only: whether the
//! session a token names is still live is the session guard's question
//! ([`crate::auth::session`]).
//!
//! The algorithm is pinned (`Validation::new(Algorithm::HS256)`: the token header never picks
//! it, so `alg: none` and RS/ES tokens are refused); `exp`, `iat`, `iss`, `aud` and `sub` are
//! required, issuer and audience checked, the tenant travels in `tid` and the server-side
//! session's id in `sid` (both required too). Expiry is checked against the server's injected
//! clock with no leeway (jsonwebtoken's own check reads the system clock, so it is turned off
//! and done here).
//!
//! Staff tokens ([`StaffClaims`]) are signed with the same key but carry their own audience
//! (`jwt_staff_audience`, which the configuration requires to differ from `jwt_audience`): a
//! partner's token fails the staff check and a staff token the partner check, whatever else
//! they hold.
//!
//! This file depends on `jsonwebtoken` and `serde` only (the configuration hands it
//! [`JwtSettings`]), so the `jwt_token` fuzz target compiles it by path without the server.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What [`JwtKeys`] is made from: the configuration's `jwt_*` settings.
#[derive(Clone, Copy)]
pub struct JwtSettings<'a> {
    /// The HS256 key (`jwt_secret`).
    pub secret: &'a [u8],
    /// `iss` of issued tokens, checked on every token.
    pub issuer: &'a str,
    /// `aud` of partner tokens.
    pub audience: &'a str,
    /// `aud` of staff tokens (differs from `audience`).
    pub staff_audience: &'a str,
    /// Session lifetime in seconds.
    pub ttl_seconds: u64,
}

/// The claims of a session token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// Server-side session id (`ses_…`).
    pub sid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// The claims of a staff session token (no tenant: staff act across tenants).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StaffClaims {
    /// Staff id (`stf_…`).
    pub sub: String,
    /// Server-side session id (`ses_…`).
    pub sid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience (the staff one).
    pub aud: String,
}

/// Claims whose times [`JwtKeys`] checks against its clock.
trait Timed {
    fn iat(&self) -> i64;
    fn exp(&self) -> i64;
}

impl Timed for Claims {
    fn iat(&self) -> i64 {
        self.iat
    }
    fn exp(&self) -> i64 {
        self.exp
    }
}

impl Timed for StaffClaims {
    fn iat(&self) -> i64 {
        self.iat
    }
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// Signing and checking keys with the pinned validation. `Debug` shows no key.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    staff_validation: Validation,
    issuer: String,
    audience: String,
    staff_audience: String,
    ttl: i64,
}

impl core::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("staff_audience", &self.staff_audience)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from the configuration's settings.
    pub fn new(config: JwtSettings<'_>) -> Self {
        let validation = |audience: &str| {
            let mut v = Validation::new(Algorithm::HS256);
            v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            v.set_issuer(&[config.issuer]);
            v.set_audience(&[audience]);
            // Checked against the injected clock in `verify`.
            v.validate_exp = false;
            v.validate_nbf = false;
            v.leeway = 0;
            v
        };
        Self {
            encoding: EncodingKey::from_secret(config.secret),
            decoding: DecodingKey::from_secret(config.secret),
            validation: validation(config.audience),
            staff_validation: validation(config.staff_audience),
            issuer: config.issuer.to_owned(),
            audience: config.audience.to_owned(),
            staff_audience: config.staff_audience.to_owned(),
            ttl: i64::try_from(config.ttl_seconds).unwrap_or(i64::MAX / 4),
        }
    }

    /// Session lifetime in seconds.
    pub fn ttl(&self) -> i64 {
        self.ttl
    }

    /// Sign a token for this user and session at `now` (Unix seconds); it expires [`ttl`]
    /// seconds later, with its session.
    ///
    /// [`ttl`]: Self::ttl
    ///
    /// # Errors
    /// When signing fails.
    pub fn issue(
        &self,
        user_id: &str,
        tenant_id: &str,
        session_id: &str,
        now: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user_id.to_owned(),
            tid: tenant_id.to_owned(),
            sid: session_id.to_owned(),
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
        self.verify(token, &self.validation, now)
    }

    /// Sign a staff token for this staff member and session at `now`, with the staff audience.
    ///
    /// # Errors
    /// When signing fails.
    pub fn issue_staff(
        &self,
        staff_id: &str,
        session_id: &str,
        now: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = StaffClaims {
            sub: staff_id.to_owned(),
            sid: session_id.to_owned(),
            iat: now,
            exp: now + self.ttl,
            iss: self.issuer.clone(),
            aud: self.staff_audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Check a staff token at `now`, as [`check`](Self::check) does a partner's, against the
    /// staff audience.
    ///
    /// # Errors
    /// Why the token is refused (a sentence; never the token).
    pub fn check_staff(&self, token: &str, now: i64) -> Result<StaffClaims, &'static str> {
        self.verify(token, &self.staff_validation, now)
    }

    fn verify<C: DeserializeOwned + Timed>(
        &self,
        token: &str,
        validation: &Validation,
        now: i64,
    ) -> Result<C, &'static str> {
        let data = jsonwebtoken::decode::<C>(token, &self.decoding, validation)
            .map_err(|_| "The session token is invalid.")?;
        let claims = data.claims;
        if now >= claims.exp() {
            return Err("The session has expired; sign in again.");
        }
        if claims.iat() > now + 60 {
            return Err("The session token is invalid.");
        }
        Ok(claims)
    }
}
