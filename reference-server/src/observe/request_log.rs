//! One line per request, and its latency in the metrics: a response fairing.
//!
//! The line is a `tracing` event, target `reference_server::request`, message `request`, with:
//!
//! | field | what |
//! | --- | --- |
//! | `method` | `GET`, `POST`, … |
//! | `route` | the matched route's template (`/v1/partner/credentials/<id>/revoke`), `<unmatched>` when none matched — never the raw path, never the query string |
//! | `status` | the status code sent |
//! | `latency_ms` | from the request's arrival at the fairings to its answer, in milliseconds |
//! | `key_id` | when an `X-Api-Key` was presented and parses as a key of the configured format: its public key id (never the key or its secret) |
//! | `user_id` / `staff_id` | when the request was signed in: the partner user's or staff member's id (never the token, never an email) |
//!
//! `INFO`, `WARN` for a 5xx answer, `DEBUG` for `/healthz`, `/readyz` and `/metrics` (probes and
//! scrapes would drown the rest). `access_log = false` turns the line off (the metrics stay);
//! `RUST_LOG=reference_server::request=off` does the same. No header, body, query string or
//! path segment is ever logged, so no key, token or password reaches the log.

use std::sync::Arc;
use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Data, Request, Response};

use crate::auth::session::Session;
use crate::auth::staff_session::StaffSession;
use crate::error::ApiError;
use crate::observe::metrics::{Metrics, UNMATCHED};
use crate::state::App;

/// The fairing; see the [module docs](self).
#[derive(Debug, Clone, Copy)]
pub struct RequestLog {
    /// Write the line (`access_log`).
    pub access_log: bool,
}

/// When the request reached the fairings.
struct Started(Instant);

/// The routes whose lines are written at `DEBUG`.
const QUIET_ROUTES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "Request log and latency",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let _ = req.local_cache(|| Started(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let elapsed = req.local_cache(|| Started(Instant::now())).0.elapsed();
        let route = req.route().map(|r| r.uri.path());
        let method = req.method().as_str();
        let status = res.status().code;
        if let Some(metrics) = req.rocket().state::<Arc<Metrics>>() {
            metrics.request(method, route, status, elapsed.as_secs_f64());
        }
        if !self.access_log {
            return;
        }
        let route = route.unwrap_or(UNMATCHED);
        let key_id = req.headers().get_one("x-api-key").and_then(|presented| {
            let app = req.rocket().state::<App>()?;
            app.verifier.key_id_of(presented.as_bytes())
        });
        let user_id = signed_in::<Session>(req).map(|s| s.user.id.as_str());
        let staff_id = signed_in::<StaffSession>(req).map(|s| s.staff.id.as_str());
        let latency_ms = (elapsed.as_secs_f64() * 10_000.0).round() / 10.0;
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    target: "reference_server::request",
                    $level,
                    method = %method,
                    route = %route,
                    status,
                    latency_ms,
                    key_id = key_id.as_ref().map(|k| display(k.as_str())),
                    user_id = user_id.map(display),
                    staff_id = staff_id.map(display),
                    "request"
                )
            };
        }
        if status >= 500 {
            line!(tracing::Level::WARN);
        } else if QUIET_ROUTES.contains(&route) {
            line!(tracing::Level::DEBUG);
        } else {
            line!(tracing::Level::INFO);
        }
    }
}

/// The session a guard of this request checked successfully, if one did (the guards cache
/// their result per request; nothing is checked here).
fn signed_in<'r, T: Send + Sync + 'static>(req: &'r Request<'_>) -> Option<&'r T> {
    req.local_cache(|| Err::<T, ApiError>(ApiError::internal()))
        .as_ref()
        .ok()
}
