//! The data API's Prometheus metrics (`prometheus-client`), served by `GET /metrics`:
//!
//! | metric | type | labels | what |
//! | --- | --- | --- | --- |
//! | `data_api_http_request_duration_seconds` | histogram | `method`, `route`, `status` | every answered request; `route` is the matched route (`/v1/orders`), `<unmatched>` when none matched — never the raw path |
//! | `idunox_verifications_total` | counter | `outcome` | `ok`, or the refusal's reason (`bad_checksum`, `unknown_key_id`, `wrong_secret`, …) |
//! | the verifier's caches, the argon2 budget, the change feed's lag | | | see `idunox_keys::metrics` |
//!
//! No label holds key material, a key id, a tenant or a raw path.

use std::sync::Arc;

use idunox_keys::metrics::VerifierMetrics;
use idunox_keys::{KeyStore, Verifier};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of a request no route matched.
pub(crate) const UNMATCHED: &str = "<unmatched>";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

type Requests = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The registry and what the service records in it.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Requests,
    /// Verifications by outcome (the key layer's refusal hook and the routes behind it record
    /// here), and the verifier's state read at scrape time.
    pub(crate) verifications: Option<VerifierMetrics>,
}

impl Metrics {
    /// A registry over `verifier` (`None`: `--no-auth`, no verification to count).
    pub(crate) fn new<K: KeyStore>(verifier: Option<&Verifier<K>>) -> Arc<Self> {
        let mut registry = Registry::default();
        let requests: Requests =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS.iter().copied()));
        registry.register(
            "data_api_http_request_duration_seconds",
            "Time to answer a request, by method, matched route and status",
            requests.clone(),
        );
        let verifications = verifier.map(|v| VerifierMetrics::register(&mut registry, v));
        Arc::new(Self {
            registry,
            requests,
            verifications,
        })
    }

    /// Record one answered request.
    pub(crate) fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        // Only the methods the API knows get their own label: a client cannot grow the set.
        let method = match method {
            "GET" | "POST" | "HEAD" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .observe(seconds);
    }

    /// Everything, in the Prometheus text format.
    pub(crate) fn render(&self) -> String {
        let mut text = String::with_capacity(8 * 1024);
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
        {
            tracing::error!(error = %e, "metrics: cannot encode");
        }
        text
    }
}
