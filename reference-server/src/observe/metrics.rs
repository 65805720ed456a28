//! The server's Prometheus metrics (`prometheus-client`; one registry per server, in its managed
//! state), served by `GET /metrics` (see [`crate::observe::health`]).
//!
//! | metric | type | labels | what |
//! | --- | --- | --- | --- |
//! | `idunox_http_request_duration_seconds` | histogram | `method`, `route`, `status` | every answered request; `route` is the matched route's template (`/v1/partner/credentials/<id>/rotate`), `<unmatched>` when none matched — never the raw path |
//! | `idunox_sign_ins_total` | counter | `realm` (`partner`, `staff`), `outcome` | `succeeded` (200), `failed` (401), `throttled` (429: the sign-in limits or too many checks in flight), `rejected` (another 4xx: malformed, not JSON), `unavailable` (5xx) |
//! | `idunox_sessions` | gauge | `kind` (`user`, `staff`) | live sessions (not ended, not expired), counted in the database at scrape time |
//! | `idunox_verifications_total` and the verifier's, budget's and change feed's metrics | | | see `idunox_keys::metrics` |
//! | `idunox_build_info` | gauge | `version` | always 1 |
//!
//! No label holds key material, an email, a key id, a tenant or a raw path, so the number of
//! series is bounded by the routes, methods and statuses the server has.

use std::sync::Arc;

use idunox_keys::metrics::VerifierMetrics;
use idunox_keys::{Refusal, VerifiedKey};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use rocket::Request;

use crate::state::App;

/// Latency buckets, in seconds: 1 ms to 10 s (a cold argon2 check is about 15 ms at the
/// default cost; a 503 after the database's `connect_timeout` is seconds).
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The labels of a request's latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// The labels of a sign-in.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    realm: &'static str,
    outcome: &'static str,
}

/// The label of the live-session gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// The label of `idunox_build_info`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: &'static str,
}

type Requests = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The registry and the metrics the server records into; managed by [`crate::observe::stage`].
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Requests,
    sign_ins: Family<SignInLabels, Counter>,
    sessions: Family<KindLabel, Gauge>,
    /// Verifications by outcome, and the verifier's state read at scrape time.
    pub verifications: VerifierMetrics,
}

impl Metrics {
    /// A registry over `app`'s verifier.
    pub fn new(app: &App) -> Arc<Self> {
        let mut registry = Registry::default();
        let requests: Requests =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS.iter().copied()));
        registry.register(
            "idunox_http_request_duration_seconds",
            "Time to answer a request, by method, matched route template and status",
            requests.clone(),
        );
        let sign_ins = Family::<SignInLabels, Counter>::default();
        registry.register(
            "idunox_sign_ins",
            "Sign-in attempts by realm (partner, staff) and outcome",
            sign_ins.clone(),
        );
        let sessions = Family::<KindLabel, Gauge>::default();
        registry.register(
            "idunox_sessions",
            "Live sessions (not ended, not expired) by kind, counted at scrape time",
            sessions.clone(),
        );
        let build = Family::<VersionLabel, Gauge>::default();
        build
            .get_or_create(&VersionLabel {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "idunox_build_info",
            "The server's version (always 1)",
            build,
        );
        let verifications = VerifierMetrics::register(&mut registry, &app.verifier);
        Arc::new(Self {
            registry,
            requests,
            sign_ins,
            sessions,
            verifications,
        })
    }

    /// Record one answered request: its latency, and the sign-in it was, if it was one.
    pub fn request(&self, method: &'static str, route: Option<&str>, status: u16, seconds: f64) {
        let route = route.unwrap_or(UNMATCHED);
        if method == "POST"
            && let Some(realm) = sign_in_realm(route)
        {
            self.sign_ins
                .get_or_create(&SignInLabels {
                    realm,
                    outcome: sign_in_outcome(status),
                })
                .inc();
        }
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_owned(),
                status,
            })
            .observe(seconds);
    }

    /// Count the live sessions (a database query), then encode every metric in the Prometheus
    /// text format (version 0.0.4). A database that cannot answer leaves the session gauges
    /// at their last values.
    pub async fn render(&self, app: &App) -> String {
        let now = app.now().unix_timestamp();
        match crate::db::sessions::live_counts(&app.db.pool, now).await {
            Ok(counts) => {
                for kind in ["user", "staff"] {
                    let n = counts
                        .iter()
                        .find(|(k, _)| k == kind)
                        .map_or(0, |(_, n)| *n);
                    self.sessions.get_or_create(&KindLabel { kind }).set(n);
                }
            }
            Err(e) => tracing::debug!(error = %e, "metrics: sessions not counted"),
        }
        let mut text = String::with_capacity(16 * 1024);
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
        {
            tracing::error!(error = %e, "metrics: cannot encode");
        }
        text
    }
}

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "<unmatched>";

/// Whose sign-in route `route` is.
fn sign_in_realm(route: &str) -> Option<&'static str> {
    match route {
        "/v1/partner/auth/login" => Some("partner"),
        "/v1/admin/auth/login" => Some("staff"),
        _ => None,
    }
}

/// A sign-in's outcome from its status.
fn sign_in_outcome(status: u16) -> &'static str {
    match status {
        200..=299 => "succeeded",
        401 => "failed",
        429 => "throttled",
        400..=499 => "rejected",
        _ => "unavailable",
    }
}

/// Count one `X-Api-Key` verification of `req`, when the server has metrics.
pub fn record_verification(req: &Request<'_>, answer: Result<&VerifiedKey, &Refusal>) {
    if let Some(m) = req.rocket().state::<Arc<Metrics>>() {
        m.verifications.record(answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_ins_are_told_apart_by_status() {
        assert_eq!(sign_in_realm("/v1/partner/auth/login"), Some("partner"));
        assert_eq!(sign_in_realm("/v1/admin/auth/login"), Some("staff"));
        assert_eq!(sign_in_realm("/v1/partner/auth/logout"), None);
        let outcomes: Vec<_> = [200, 401, 429, 415, 422, 503, 500]
            .into_iter()
            .map(sign_in_outcome)
            .collect();
        assert_eq!(
            outcomes,
            [
                "succeeded",
                "failed",
                "throttled",
                "rejected",
                "rejected",
                "unavailable",
                "unavailable"
            ]
        );
    }
}
