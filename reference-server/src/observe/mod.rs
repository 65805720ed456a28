//! Operating the server: logs, one line per request, metrics, health and readiness, shutdown.
//!
//! | module | holds |
//! | --- | --- |
//! | [`logging`] | the `tracing` subscriber: `RUST_LOG`, `log_format` (human or JSON lines, on stderr) |
//! | [`request_log`] | the one line per request and its latency in the metrics |
//! | [`metrics`] | the Prometheus registry and what the server records in it |
//! | [`health`] | `GET /healthz`, `GET /readyz`, `GET /metrics` |
//! | [`access`] | who may read `/metrics`: this machine, or `metrics_token` |
//! | [`shutdown`] | graceful shutdown on SIGTERM and SIGINT, the last flush, the exit code |

use std::sync::Arc;

use rocket::fairing::AdHoc;

pub mod access;
pub mod health;
pub mod logging;
pub mod metrics;
pub mod request_log;
pub mod shutdown;

/// Manage the metrics (over the application state: attach after [`crate::state::stage`]), mount
/// the three routes, attach the request log (`access_log`, default on) and the shutdown notice.
/// A `metrics_token` shorter than [`access::MIN_TOKEN_LEN`] bytes refuses to start.
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Operations", |rocket| async {
        let token = match access::token_from_figment(rocket.figment()) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("{e}");
                return Err(rocket);
            }
        };
        let Some(app) = rocket.state::<crate::state::App>() else {
            tracing::error!("operations need the application state (see the error above)");
            return Err(rocket);
        };
        let metrics: Arc<metrics::Metrics> = metrics::Metrics::new(app);
        let access_log = app.config.access_log;
        Ok(rocket
            .manage(metrics)
            .manage(access::MetricsTokenSlot(token))
            .manage(health::Readiness::default())
            .mount(
                "/",
                rocket::routes![health::healthz, health::readyz, health::metrics],
            )
            .attach(request_log::RequestLog { access_log })
            .attach(shutdown::announce()))
    })
}
