//! `GET /healthz`, `GET /readyz` and `GET /metrics`, outside `/v1`.
//!
//! - `/healthz`: 200 `{"status":"ok"}` while the process serves requests. No database, no auth.
//! - `/readyz`: 200 `{"status":"ok"}` when the database answers a `SELECT 1` within
//!   [`PROBE_TIMEOUT`], else 503 `{"status":"unavailable"}`. No auth, nothing more said. The
//!   answer is remembered for [`READY_FOR`], and one probe runs at a time, so a flood of
//!   `/readyz` costs the database at most one query per second.
//! - `/metrics`: the [metrics](crate::observe::metrics) in the Prometheus text format, for a
//!   client on this machine, or from elsewhere with `Authorization: Bearer <metrics_token>` (see
//!   [`crate::observe::access`]).
//!
//! All three answer with `Cache-Control: no-store`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket::http::{ContentType, Header, Status};
use rocket::response::Responder;
use rocket::{Request, State, get};
use tokio::sync::Mutex;

use crate::error::ApiError;
use crate::observe::access::MetricsAccess;
use crate::observe::metrics::Metrics;
use crate::state::App;

/// How long a readiness answer is reused.
pub const READY_FOR: Duration = Duration::from_secs(1);
/// How long the database may take to answer the readiness probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The last readiness answer, and the lock one probe holds at a time.
#[derive(Debug, Default)]
pub struct Readiness {
    last: Mutex<Option<(Instant, bool)>>,
}

impl Readiness {
    /// Whether the database answers (from the last probe when it is recent).
    pub async fn check(&self, app: &App) -> bool {
        // Holding the lock across the probe makes concurrent callers wait for its answer.
        let mut last = self.last.lock().await;
        if let Some((at, ready)) = *last
            && at.elapsed() < READY_FOR
        {
            return ready;
        }
        let probe = sqlx::query("SELECT 1").execute(&app.db.pool);
        let ready = match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready: the database does not answer");
                false
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = PROBE_TIMEOUT.as_millis() as u64,
                    "not ready: the database did not answer in time"
                );
                false
            }
        };
        *last = Some((Instant::now(), ready));
        ready
    }
}

/// A small JSON answer with `Cache-Control: no-store`.
#[derive(Debug)]
pub struct Probe(Status, &'static str);

impl<'r> Responder<'r, 'static> for Probe {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut res = self.1.respond_to(req)?;
        res.set_status(self.0);
        res.set_header(ContentType::JSON);
        res.set_header(Header::new("Cache-Control", "no-store"));
        Ok(res)
    }
}

/// `GET /healthz`.
#[get("/healthz")]
pub fn healthz() -> Probe {
    Probe(Status::Ok, r#"{"status":"ok"}"#)
}

/// `GET /readyz`.
#[get("/readyz")]
pub async fn readyz(app: &State<App>, readiness: &State<Readiness>) -> Probe {
    if readiness.check(app).await {
        Probe(Status::Ok, r#"{"status":"ok"}"#)
    } else {
        Probe(Status::ServiceUnavailable, r#"{"status":"unavailable"}"#)
    }
}

/// The Prometheus text.
#[derive(Debug)]
pub struct MetricsText(String);

impl<'r> Responder<'r, 'static> for MetricsText {
    fn respond_to(self, req: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut res = self.0.respond_to(req)?;
        res.set_header(Header::new(
            "Content-Type",
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        ));
        res.set_header(Header::new("Cache-Control", "no-store"));
        Ok(res)
    }
}

/// `GET /metrics`, for a client [`MetricsAccess`] lets in (401 or 403 otherwise).
///
/// # Errors
/// The refusal [`MetricsAccess`] decided.
#[get("/metrics")]
pub async fn metrics(
    access: MetricsAccess,
    app: &State<App>,
    metrics: &State<Arc<Metrics>>,
) -> Result<MetricsText, ApiError> {
    access.0?;
    Ok(MetricsText(metrics.render(app).await))
}
