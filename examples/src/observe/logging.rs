//! The process's one `tracing` subscriber: `RUST_LOG` filtering (default `info`), human lines by
//! default or one JSON object per line with `--log-format json`, on stderr.
//!
//! Standard output carries only what the binary prints on purpose: the "listening on" line and,
//! in the demo, the two keys it issued. Everything else — the one line per request, the tower
//! layer's event for each refused key (target `idunox_keys_tower`, with the refusal's reason:
//! `wrong_environment`, `bad_checksum`, `wrong_secret`, …), start-up and shutdown — is a
//! `tracing` event on stderr. sqlx logs through the `log` crate; those records are bridged into
//! the same subscriber (`RUST_LOG=sqlx=warn` keeps slow-statement notices, for example).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One human line per event.
    Text,
    /// One JSON object per line, the event's fields at the top level.
    Json,
}

/// Install the subscriber (and the `log` bridge) for this process.
pub(crate) fn init(format: LogFormat) {
    let spec = std::env::var("RUST_LOG").unwrap_or_default();
    let (filter, complaint) = if spec.trim().is_empty() {
        (EnvFilter::new("info"), None)
    } else {
        match EnvFilter::try_new(&spec) {
            Ok(f) => (f, None),
            Err(e) => (
                EnvFilter::new("info"),
                Some(format!(
                    "RUST_LOG={spec:?} is not a valid filter ({e}); using \"info\""
                )),
            ),
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    if installed.is_ok()
        && let Some(complaint) = complaint
    {
        tracing::warn!("{complaint}");
    }
}
