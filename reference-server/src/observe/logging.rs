//! The process's one `tracing` subscriber: `RUST_LOG` filtering (default `info`), human lines by
//! default or JSON lines with `log_format = "json"` (`ROCKET_LOG_FORMAT=json`), on stderr.
//!
//! Standard output carries only what the binary prints on purpose, for people and scripts to
//! read: the "listening on" line, `serve --demo`'s sign-in details, and the provisioning
//! commands' answers (`tenant add`'s id, …). Everything else — the one line per request, start-up
//! and shutdown events, warnings, errors — is a `tracing` event on stderr.
//!
//! Rocket 0.5 logs through the `log` crate with its own logger; it stays silenced
//! (`log_level = "off"`, see [`crate::config`]): its per-request records repeat what the request
//! line says, some of them print the raw URI with its query string, and the ones its route
//! macros emit carry this crate's module paths as their target, so `RUST_LOG` could not tell them
//! from ours. Nothing bridges `log` into `tracing` here.

use std::io::IsTerminal;

use rocket::figment::Figment;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One human line per event: time, level, target, message, fields.
    Text,
    /// One JSON object per line, the event's fields at the top level.
    Json,
}

impl LogFormat {
    /// `log_format` from the configuration: `text` (the default) or `json`.
    ///
    /// # Errors
    /// A sentence naming the setting when its value is anything else.
    pub fn from_figment(figment: &Figment) -> Result<Self, String> {
        match figment.extract_inner::<String>("log_format") {
            Err(e) if e.missing() => Ok(Self::Text),
            Err(e) => Err(format!("log_format: {e}")),
            Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
                "text" | "" => Ok(Self::Text),
                "json" => Ok(Self::Json),
                _ => Err(format!(
                    "log_format must be \"text\" or \"json\" (it is {v:?}); e.g. ROCKET_LOG_FORMAT=json"
                )),
            },
        }
    }
}

/// The filter: `RUST_LOG` when it is set and valid, else `info`; and why `RUST_LOG` was not
/// used, when it was set but invalid.
fn filter() -> (EnvFilter, Option<String>) {
    match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(f) => (f, None),
            Err(e) => (
                EnvFilter::new("info"),
                Some(format!(
                    "RUST_LOG={spec:?} is not a valid filter ({e}); using \"info\""
                )),
            ),
        },
        _ => (EnvFilter::new("info"), None),
    }
}

/// Install the subscriber for this process (once; later calls do nothing).
pub fn init(format: LogFormat) {
    let (filter, complaint) = filter();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `set_global_default`, not `try_init`: no `log` bridge (see the module docs).
    let installed = match format {
        LogFormat::Text => tracing::subscriber::set_global_default(
            builder.with_ansi(std::io::stderr().is_terminal()).finish(),
        ),
        LogFormat::Json => tracing::subscriber::set_global_default(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish(),
        ),
    };
    if installed.is_ok()
        && let Some(complaint) = complaint
    {
        tracing::warn!("{complaint}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_is_read_and_checked() {
        let base = crate::config::figment();
        assert_eq!(LogFormat::from_figment(&base), Ok(LogFormat::Text));
        let json = base.clone().merge(("log_format", "json"));
        assert_eq!(LogFormat::from_figment(&json), Ok(LogFormat::Json));
        let bad = base.merge(("log_format", "yaml"));
        assert!(
            LogFormat::from_figment(&bad)
                .unwrap_err()
                .contains("log_format")
        );
    }
}
