//! Stopping: SIGTERM (what `kill`, systemd and Kubernetes send) or SIGINT (Ctrl-C). The server
//! stops accepting connections, lets requests in flight finish for up to [`GRACE`], then the
//! caller writes buffered last-used times and exits 0.

use std::time::Duration;

/// How long requests in flight may take to finish once a stop was requested.
pub(crate) const GRACE: Duration = Duration::from_secs(10);

/// Resolves when SIGTERM or SIGINT arrives (and logs which).
pub(crate) async fn requested() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    let signal = tokio::select! {
        () = ctrl_c => "SIGINT",
        () = term => "SIGTERM",
    };
    tracing::info!(
        signal,
        "shutdown requested: no new connections; finishing requests in flight"
    );
}
