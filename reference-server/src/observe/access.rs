//! Who may read `/metrics`: a client on this machine, or one presenting the configured
//! `metrics_token` as `Authorization: Bearer <metrics_token>`.
//!
//! - **This machine**: the TCP peer is a loopback address *and* the request carries none of
//!   `Forwarded`, `X-Forwarded-For`, `X-Real-IP`. A reverse proxy on the same machine connects
//!   from loopback too; the headers it adds make its requests count as remote, so the proxy
//!   never exposes the metrics by accident.
//! - **Elsewhere**: with `metrics_token` configured (at least [`MIN_TOKEN_LEN`] bytes), the
//!   bearer token must equal it (SHA-256 digests compared in constant time, so neither the
//!   token's bytes nor its length leak through timing); a missing or wrong token → 401 with
//!   `WWW-Authenticate: Bearer realm="metrics"`. Without `metrics_token` → 403: nothing would be
//!   accepted.
//!
//! ```
//! use reference_server::observe::access::MetricsToken;
//! let token = MetricsToken::new("an-operator-s-long-token").unwrap();
//! assert!(token.matches("an-operator-s-long-token"));
//! assert!(!token.matches("an-operator-s-long-tokem"));
//! assert!(!format!("{token:?}").contains("operator"));
//! assert!(MetricsToken::new("short").is_err());
//! ```

use core::fmt;
use std::convert::Infallible;
use std::net::IpAddr;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// The shortest accepted `metrics_token`, in bytes.
pub const MIN_TOKEN_LEN: usize = 16;

/// `WWW-Authenticate` of a refused `/metrics` request.
pub const METRICS_CHALLENGE: &str = "Bearer realm=\"metrics\"";

/// The configured `metrics_token`, kept as its SHA-256 digest. `Debug` shows nothing of it.
#[derive(Clone)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    /// The token, checked for length.
    ///
    /// # Errors
    /// A sentence naming the setting when it is shorter than [`MIN_TOKEN_LEN`] bytes.
    pub fn new(token: &str) -> Result<Self, String> {
        if token.len() < MIN_TOKEN_LEN {
            return Err(format!(
                "metrics_token must be at least {MIN_TOKEN_LEN} bytes (it has {}); generate one \
                 with e.g. `openssl rand -base64 32`",
                token.len()
            ));
        }
        Ok(Self(Sha256::digest(token.as_bytes()).into()))
    }

    /// Whether `presented` is the token, in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest.ct_eq(&self.0).into()
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

/// `metrics_token` from the configuration, if set.
///
/// # Errors
/// When it is set but too short or not a string.
pub fn token_from_figment(
    figment: &rocket::figment::Figment,
) -> Result<Option<MetricsToken>, String> {
    match figment.extract_inner::<String>("metrics_token") {
        Err(e) if e.missing() => Ok(None),
        Err(e) => Err(format!("metrics_token: {e}")),
        Ok(t) if t.is_empty() => Ok(None),
        Ok(t) => MetricsToken::new(&t).map(Some),
    }
}

/// Whether a request came straight from this machine: a loopback peer and no proxy header.
pub fn is_local(peer: Option<IpAddr>, proxy_headers: bool) -> bool {
    !proxy_headers && peer.is_some_and(|ip| ip.to_canonical().is_loopback())
}

/// The verdict on a `/metrics` request: `Ok` lets it in, `Err` is the answer.
#[derive(Debug)]
pub struct MetricsAccess(pub Result<(), ApiError>);

/// The configured token, managed by [`crate::observe::stage`] (`None`: loopback only).
#[derive(Clone, Debug, Default)]
pub struct MetricsTokenSlot(pub Option<MetricsToken>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MetricsAccess {
    type Error = Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Infallible> {
        let headers = req.headers();
        let proxied = ["Forwarded", "X-Forwarded-For", "X-Real-IP"]
            .iter()
            .any(|h| headers.contains(*h));
        if is_local(req.remote().map(|a| a.ip()), proxied) {
            return Outcome::Success(Self(Ok(())));
        }
        let token = req
            .rocket()
            .state::<MetricsTokenSlot>()
            .and_then(|s| s.0.as_ref());
        let Some(token) = token else {
            return Outcome::Success(Self(Err(ApiError::new(
                Status::Forbidden,
                "forbidden",
                "Metrics are served to this machine only (no metrics_token is configured).",
            ))));
        };
        let presented = crate::auth::session::bearer_token(req, METRICS_CHALLENGE);
        let verdict =
            match presented {
                Ok(t) if token.matches(t) => Ok(()),
                Ok(_) => Err(ApiError::unauthorized("The metrics token is wrong.")
                    .challenge(METRICS_CHALLENGE)),
                Err(e) => Err(e),
            };
        Outcome::Success(Self(verdict))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_means_a_loopback_peer_without_proxy_headers() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let lan: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(is_local(Some(v4), false) && is_local(Some(v6), false));
        assert!(is_local(Some(mapped), false));
        assert!(!is_local(Some(v4), true), "through a proxy on this machine");
        assert!(!is_local(Some(lan), false));
        assert!(
            !is_local(None, false),
            "no peer: Rocket's in-process client"
        );
    }

    #[test]
    fn tokens_come_from_the_configuration() {
        let base = crate::config::figment();
        assert!(token_from_figment(&base).unwrap().is_none());
        let set = base.clone().merge(("metrics_token", "0123456789abcdef"));
        assert!(
            token_from_figment(&set)
                .unwrap()
                .unwrap()
                .matches("0123456789abcdef")
        );
        let short = base.merge(("metrics_token", "0123"));
        assert!(
            token_from_figment(&short)
                .unwrap_err()
                .contains("metrics_token")
        );
    }
}
