//! The `tracing` event of a refusal: one per refused request, target `idunox_keys_tower`, with
//! the status, the code sent, the detailed [`reason`](idunox_keys::Refusal::reason) (the
//! client never sees it: "wrong_environment", "bad_checksum", "wrong_secret", "key_busy", …),
//! the key id when one parsed, the method and the path. Never the key or any secret; never the
//! query string. `INFO` for 401 and 403, `WARN` for 503 (the store or the argon2 budget needs
//! attention).

use http::request::Parts;
use idunox_keys::{KeyId, Refusal};

/// Whether the event of this refusal would be recorded (so that work for it can be skipped).
pub(crate) fn enabled(refusal: &Refusal) -> bool {
    if refusal.is_unavailable() {
        tracing::enabled!(target: "idunox_keys_tower", tracing::Level::WARN)
    } else {
        tracing::enabled!(target: "idunox_keys_tower", tracing::Level::INFO)
    }
}

/// Emit the event.
pub(crate) fn refused(parts: &Parts, refusal: &Refusal, key_id: Option<KeyId>) {
    macro_rules! emit {
        ($level:expr) => {
            tracing::event!(
                target: "idunox_keys_tower",
                $level,
                status = refusal.http_status(),
                code = refusal.code(),
                reason = refusal.reason(),
                key_id = key_id.as_ref().map(KeyId::as_str),
                method = parts.method.as_str(),
                path = parts.uri.path(),
                "API key refused"
            )
        };
    }
    if refusal.is_unavailable() {
        emit!(tracing::Level::WARN);
    } else {
        emit!(tracing::Level::INFO);
    }
}
