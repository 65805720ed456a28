//! `GET /healthz`, `GET /readyz` and `GET /metrics`, outside the key layer (no API key needed).
//!
//! - `/healthz`: 200 `{"status":"ok"}` while the process serves requests.
//! - `/readyz`: 200 `{"status":"ok"}` when the database answers a `SELECT 1` within
//!   [`PROBE_TIMEOUT`] (always, on the demo's in-memory store), else 503
//!   `{"status":"unavailable"}`. The change feed's freshness is *not* part of it: a stale feed
//!   makes the verifier read the database, which is slower but right, and shows in
//!   `idunox_change_feed_lag_seconds`. One probe runs at a time and its answer is reused for
//!   [`READY_FOR`], so a flood of `/readyz` costs the database one query a second.
//! - `/metrics`: Prometheus text, to a client on this machine (a loopback peer and none of
//!   `Forwarded`, `X-Forwarded-For`, `X-Real-IP`), or from elsewhere with
//!   `Authorization: Bearer <--metrics-token>` (SHA-256 digests compared in constant time);
//!   401 with a wrong or missing token, 403 when no token is configured.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use idunox_keys_sqlx::sqlx::AnyPool;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Mutex;

use super::metrics::Metrics;

/// How long a readiness answer is reused.
pub(crate) const READY_FOR: Duration = Duration::from_secs(1);
/// How long the database may take to answer the readiness probe.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The shortest accepted `--metrics-token`, in bytes.
pub(crate) const MIN_TOKEN_LEN: usize = 16;

/// The `--metrics-token`, kept as its SHA-256 digest; `Debug` shows nothing of it.
#[derive(Clone)]
pub(crate) struct MetricsToken([u8; 32]);

impl MetricsToken {
    /// The token, checked for length.
    pub(crate) fn new(token: &str) -> Result<Self, String> {
        if token.len() < MIN_TOKEN_LEN {
            return Err(format!(
                "--metrics-token must be at least {MIN_TOKEN_LEN} bytes (it has {}); generate \
                 one with e.g. `openssl rand -base64 32`",
                token.len()
            ));
        }
        Ok(Self(Sha256::digest(token.as_bytes()).into()))
    }

    fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest.ct_eq(&self.0).into()
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

/// What `/readyz` checks.
#[derive(Debug)]
pub(crate) enum Readiness {
    /// Nothing: the in-memory demo store is always there.
    Always,
    /// The database behind this pool, with the last answer.
    Database(AnyPool, Mutex<Option<(Instant, bool)>>),
}

impl Readiness {
    /// Over the portal's database.
    pub(crate) fn database(pool: AnyPool) -> Self {
        Self::Database(pool, Mutex::new(None))
    }

    async fn check(&self) -> bool {
        let Self::Database(pool, last) = self else {
            return true;
        };
        // Holding the lock across the probe makes concurrent callers wait for its answer.
        let mut last = last.lock().await;
        if let Some((at, ready)) = *last
            && at.elapsed() < READY_FOR
        {
            return ready;
        }
        let probe = idunox_keys_sqlx::sqlx::query("SELECT 1").execute(pool);
        let ready = match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready: the database does not answer");
                false
            }
            Err(_) => {
                tracing::warn!("not ready: the database did not answer in time");
                false
            }
        };
        *last = Some((Instant::now(), ready));
        ready
    }
}

/// What the three routes share.
#[derive(Debug)]
pub(crate) struct Ops {
    /// The registry.
    pub(crate) metrics: Arc<Metrics>,
    /// What `/readyz` checks.
    pub(crate) readiness: Readiness,
    /// Who may read `/metrics` from elsewhere.
    pub(crate) token: Option<MetricsToken>,
}

/// The three routes.
pub(crate) fn routes(ops: Arc<Ops>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

fn probe_answer(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn healthz() -> Response {
    probe_answer(StatusCode::OK, r#"{"status":"ok"}"#)
}

async fn readyz(State(ops): State<Arc<Ops>>) -> Response {
    if ops.readiness.check().await {
        probe_answer(StatusCode::OK, r#"{"status":"ok"}"#)
    } else {
        probe_answer(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"unavailable"}"#,
        )
    }
}

async fn metrics(
    State(ops): State<Arc<Ops>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    let local = !proxied && peer.ip().to_canonical().is_loopback();
    if !local {
        let Some(token) = &ops.token else {
            return idunox_keys_tower::error_response(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Metrics are served to this machine only (no --metrics-token is configured).",
            );
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !presented.is_some_and(|t| token.matches(t)) {
            let mut res = idunox_keys_tower::error_response(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "A valid metrics token is required.",
            );
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            return res;
        }
    }
    (
        [
            (
                header::CONTENT_TYPE,
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        ops.metrics.render(),
    )
        .into_response()
}
