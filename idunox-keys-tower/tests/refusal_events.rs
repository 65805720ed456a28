//! The `tracing` event of each refusal: reason, key id when one parsed, method, path — never the
//! secret or the query string. Alone in its test binary: tracing caches per call site whether
//! anyone listens, and a test running in parallel without a subscriber could race that cache.

#[path = "../../idunox-keys/tests/support/key_parser_checks.rs"]
#[allow(dead_code)]
mod checks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use http::Request;
use idunox_keys::time::OffsetDateTime;
use idunox_keys::{
    HashParams, KeyFormat, KeyManager, ManualClock, MemoryStore, NewKey, Policy, SecretHasher,
    TenantId, Verifier,
};
use idunox_keys_tower::{ApiKeyLayer, RequireScope, Verified};
use tower::ServiceExt;

async fn whoami(Verified(key): Verified) -> String {
    key.key_id.to_string()
}

async fn send(app: &Router, method: &str, path: &str, key: &str, peer: Option<&str>) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap();
    if let Some(peer) = peer {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 40_000)));
    }
    let res = app.clone().oneshot(req).await.unwrap();
    axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap();
}

/// One event's fields, by name.
type Recorded = Vec<(String, String)>;

/// Records the events of the `idunox_keys_tower` target, field by field.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<Recorded>>>);

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl tracing::Subscriber for Events {
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        meta.target().starts_with("idunox_keys_tower")
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = vec![("level".to_owned(), event.metadata().level().to_string())];
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

impl Events {
    fn take(&self) -> Vec<std::collections::HashMap<String, String>> {
        self.0
            .lock()
            .unwrap()
            .drain(..)
            .map(|f| f.into_iter().collect())
            .collect()
    }
}

#[tokio::test]
async fn every_refusal_is_a_tracing_event_with_its_reason_and_key_id_never_the_secret() {
    let events = Events::default();
    let _guard = tracing::subscriber::set_default(events.clone());
    tracing::callsite::rebuild_interest_cache();
    let store = Arc::new(MemoryStore::new());
    let format = KeyFormat::new("idx", "test").unwrap();
    let clock = ManualClock::new(OffsetDateTime::from_unix_timestamp(1_772_366_400).unwrap());
    let keys = KeyManager::new(store.clone(), format.clone())
        .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap())
        .with_clock(clock.clone())
        .with_policy(Policy {
            scopes: vec!["orders:read".into(), "orders:write".into()],
            ..Policy::default()
        });
    let restricted = NewKey {
        scopes: Some(vec!["orders:read".into()]),
        allowed_ips: Some(vec!["203.0.113.0/24".into()]),
        ..NewKey::default()
    };
    let issued = keys
        .create_with(&TenantId::new("acme"), restricted)
        .await
        .unwrap();
    let (key, id) = (
        issued.api_key.expose_secret().to_owned(),
        issued.credential.key_id,
    );
    let verifier = Verifier::builder(store, format).clock(clock).build();
    let app = Router::new()
        .route("/v1/orders", get(whoami))
        .route(
            "/v1/orders",
            post(whoami).route_layer(RequireScope::new("orders:write")),
        )
        .layer(ApiKeyLayer::new(verifier));
    let secret = &key[22..54];
    let live = key.replacen("_test_", "_live_", 1);
    let typo = format!(
        "{}{}",
        &key[..59],
        if key.ends_with('0') { '1' } else { '0' }
    );
    let cases: [(&str, &str, String, Option<&str>); 6] = [
        ("GET", "/v1/orders", live, None),
        ("GET", "/v1/orders", typo, None),
        (
            "GET",
            "/v1/orders",
            checks::build_key("idx", "test", id.as_str(), &"W".repeat(32)),
            None,
        ),
        ("GET", "/v1/orders", key.clone(), Some("198.51.100.1")),
        ("POST", "/v1/orders", key.clone(), Some("203.0.113.1")),
        ("GET", "/v1/orders?token=x", String::new(), None),
    ];
    for (method, path, k, peer) in &cases {
        send(&app, method, path, k, *peer).await;
    }
    let seen = events.take();
    let reasons: Vec<&str> = seen.iter().map(|e| e["reason"].as_str()).collect();
    assert_eq!(
        reasons,
        [
            "wrong_environment",
            "bad_checksum",
            "wrong_secret",
            "ip_not_allowed",
            "insufficient_scope",
            "missing"
        ]
    );
    let ids: Vec<Option<&str>> = seen
        .iter()
        .map(|e| e.get("key_id").map(String::as_str))
        .collect();
    let id = id.as_str();
    assert_eq!(ids, [None, None, Some(id), Some(id), Some(id), None]);
    for e in &seen {
        assert_eq!(e["level"], "INFO");
        assert_eq!(e["path"], "/v1/orders", "the path, never the query string");
        for v in e.values() {
            assert!(!v.contains(secret), "the secret reached a log event: {e:?}");
        }
    }
    assert_eq!(seen[4]["status"], "403");
    assert_eq!(seen[4]["code"], "insufficient_scope");
    assert_eq!(seen[4]["method"], "POST");
}
