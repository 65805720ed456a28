//! One line per request, and its latency in the metrics: an axum middleware, added with
//! `Router::layer` around every route (so it sees the matched route, and 404s too).
//!
//! The line is a `tracing` event, target `data_api::request`, message `request`, with `method`,
//! `route` (the matched route, `<unmatched>` when none matched — never the raw path or query
//! string), `status`, `latency_ms` and, when an `X-Api-Key` was presented and parses as a key of
//! the configured format, its public `key_id` (never the key or its secret). `INFO`, `WARN` for
//! a 5xx, `DEBUG` for `/healthz`, `/readyz` and `/metrics`. `RUST_LOG=data_api::request=off`
//! turns it off.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use idunox_keys::KeyFormat;

use super::metrics::{Metrics, UNMATCHED};

/// What the middleware needs.
#[derive(Clone, Debug)]
pub(crate) struct RequestLog {
    /// Where latencies go.
    pub(crate) metrics: Arc<Metrics>,
    /// To read the key id of a presented key.
    pub(crate) format: KeyFormat,
}

/// The routes whose lines are written at `DEBUG`.
const QUIET_ROUTES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The middleware (`axum::middleware::from_fn_with_state`).
pub(crate) async fn log_request(
    State(log): State<RequestLog>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| p.as_str().to_owned());
    let key_id = req
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|presented| log.format.parse(presented).ok())
        .map(|k| k.key_id());
    let res = next.run(req).await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    log.metrics
        .request(method.as_str(), &route, status, elapsed.as_secs_f64());
    let latency_ms = (elapsed.as_secs_f64() * 10_000.0).round() / 10.0;
    macro_rules! line {
        ($level:expr) => {
            tracing::event!(
                target: "data_api::request",
                $level,
                method = %method,
                route = %route,
                status,
                latency_ms,
                key_id = key_id.as_ref().map(|k| tracing::field::display(k.as_str())),
                "request"
            )
        };
    }
    if status >= 500 {
        line!(tracing::Level::WARN);
    } else if QUIET_ROUTES.contains(&route.as_str()) {
        line!(tracing::Level::DEBUG);
    } else {
        line!(tracing::Level::INFO);
    }
    res
}
