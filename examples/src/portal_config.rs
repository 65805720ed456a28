//! The key format read from the portal's public configuration (`GET /v1/partner/config`,
//! no authentication, never a secret) instead of being copied by hand: `--portal-url`.
//!
//! A portal that cannot be reached, or answers something else, stops the start with a sentence
//! saying so: guessing the format would refuse every key (or accept test keys in production).

use std::time::Duration;

use idunox_keys::KeyFormat;

/// The key format `config` (the JSON of `GET /v1/partner/config`) describes.
pub(crate) fn key_format(config: &serde_json::Value) -> Result<KeyFormat, String> {
    let field = |name: &str| {
        config[name]
            .as_str()
            .ok_or_else(|| format!("the portal's configuration has no string `{name}`"))
    };
    KeyFormat::new(field("key_prefix")?, field("environment")?)
        .map_err(|e| format!("the portal's key format is not usable: {e}"))
}

/// Fetch `GET <portal>/v1/partner/config` and build the key format from it.
pub(crate) async fn fetch_key_format(portal: &str) -> Result<KeyFormat, String> {
    let url = format!("{}/v1/partner/config", portal.trim_end_matches('/'));
    let fetched = url.clone();
    let config = tokio::task::spawn_blocking(move || {
        ureq::get(&fetched)
            .timeout(Duration::from_secs(10))
            .call()
            .map_err(|e| e.to_string())?
            .into_json::<serde_json::Value>()
            .map_err(|e| format!("not JSON: {e}"))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("cannot read the key format from {url}: {e}"))?;
    key_format(&config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_config_fields() {
        let config = serde_json::json!({"key_prefix": "acme", "environment": "live"});
        let format = key_format(&config).unwrap();
        assert_eq!((format.prefix(), format.environment()), ("acme", "live"));
        let missing = key_format(&serde_json::json!({"key_prefix": "acme"})).unwrap_err();
        assert!(missing.contains("environment"), "{missing}");
    }
}
