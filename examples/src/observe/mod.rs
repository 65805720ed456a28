//! Operating the data API: logs, one line per request, `/healthz`, `/readyz`, `/metrics`, and a
//! graceful stop on SIGTERM or Ctrl-C.
//!
//! | module | holds |
//! | --- | --- |
//! | [`logging`] | the `tracing` subscriber: `RUST_LOG` (default `info`), `--log-format text\|json`, on stderr |
//! | [`request_log`] | the one line per request and its latency in the metrics |
//! | [`metrics`] | the Prometheus registry: requests, verifications by outcome, the verifier's state |
//! | [`health`] | `GET /healthz`, `GET /readyz`, `GET /metrics` and who may read the metrics |
//! | [`shutdown`] | the signals that stop the server, and the bound on how long it waits |

pub(crate) mod health;
pub(crate) mod logging;
pub(crate) mod metrics;
pub(crate) mod request_log;
pub(crate) mod shutdown;
