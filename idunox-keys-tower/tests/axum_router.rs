//! The layer through a real axum router: every answer of the key probe (`docs/http-api.md`), the
//! extractor, the refusal hook, overload, odd headers, and revokes racing live traffic.

#[path = "../../idunox-keys/tests/support/key_parser_checks.rs"]
#[allow(dead_code)]
mod checks;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration as StdDuration;

use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use idunox_keys::time::{Duration, OffsetDateTime};
use idunox_keys::{
    Credential, HashParams, KeyFormat, KeyId, KeyManager, KeyStore, LiveLimit, ManualClock,
    MemoryStore, Patch, Refusal, Rotation, SecretHasher, Status, StoreError, TenantId, Verifier,
};
use idunox_keys_tower::{ApiKeyLayer, JsonRefusal, OnRefusal, Verified};
use serde_json::{Value, json};
use tower::{Layer, Service, ServiceExt};

const PROBE: &str = "/v1/partner-auth-probe";

type Store = Arc<MemoryStore>;

struct Fixture {
    store: Store,
    format: KeyFormat,
    keys: KeyManager<Store>,
    clock: ManualClock,
    verifier: Verifier<Store>,
    acme: TenantId,
}

impl Fixture {
    fn new() -> Self {
        Self::with(|b| b)
    }

    fn with(
        configure: impl FnOnce(
            idunox_keys::VerifierBuilder<Store>,
        ) -> idunox_keys::VerifierBuilder<Store>,
    ) -> Self {
        let store = Arc::new(MemoryStore::new());
        let format = KeyFormat::new("idx", "test").unwrap();
        let clock = ManualClock::new(OffsetDateTime::from_unix_timestamp(1_772_366_400).unwrap()); // 2026-03-01 12:00 UTC
        let keys = KeyManager::new(store.clone(), format.clone())
            .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap())
            .with_clock(clock.clone());
        let verifier =
            configure(Verifier::builder(store.clone(), format.clone()).clock(clock.clone()))
                .build();
        Self {
            store,
            format,
            keys,
            clock,
            verifier,
            acme: TenantId::new("acme"),
        }
    }

    /// A new key for acme, in plaintext, and its record.
    async fn issue(&self) -> (String, Credential) {
        let issued = self
            .keys
            .create(&self.acme, Some("ci".into()), None)
            .await
            .unwrap();
        (issued.api_key.expose_secret().to_owned(), issued.credential)
    }

    fn app(&self) -> Router {
        app(ApiKeyLayer::new(self.verifier.clone()))
    }
}

/// The key probe of `docs/http-api.md` behind `layer`, plus two unguarded routes.
fn app<R>(layer: ApiKeyLayer<Store, R>) -> Router
where
    R: OnRefusal<Body> + Send + Sync + 'static,
{
    Router::new()
        .route(PROBE, get(probe))
        .route("/sensitive", get(sensitive))
        .layer(layer)
        // Added after `.layer`: not guarded.
        .route("/open", get(open))
        .route("/forgot-the-layer", get(probe))
}

async fn probe(Verified(key): Verified) -> Json<Value> {
    Json(json!({
        "ok": true,
        "tenant": { "id": key.tenant_id.as_str(), "name": key.tenant_id.as_str() },
        "credential": {
            "id": key.key_id.as_str(),
            "masked_key": key.masked_key(),
            "status": key.status.as_str(),
        },
    }))
}

async fn open(key: Option<Verified>) -> String {
    format!("key: {}", key.is_some())
}

async fn sensitive(headers: HeaderMap) -> String {
    format!("{}", headers["x-api-key"].is_sensitive())
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<none>")
    }
}

async fn call(app: &Router, path: &str, keys: &[&[u8]]) -> Answer {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    for k in keys {
        req.headers_mut()
            .append("x-api-key", HeaderValue::from_bytes(k).unwrap());
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        headers,
        body,
    }
}

async fn probe_with(app: &Router, key: &str) -> Answer {
    call(app, PROBE, &[key.as_bytes()]).await
}

fn assert_refused(a: &Answer, code: &str) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{:?}", a.body);
    assert_eq!(a.code(), code, "{:?}", a.body);
    assert!(
        a.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(
        a.headers["www-authenticate"],
        r#"ApiKey realm="idunox", header="X-Api-Key""#
    );
    assert_eq!(a.headers["content-type"], "application/json");
}

#[tokio::test]
async fn valid_key_reaches_the_handler_with_its_verified_key() {
    let f = Fixture::new();
    let (key, cred) = f.issue().await;
    let app = f.app();
    for _ in 0..2 {
        // cold (argon2), then warm (cache)
        let a = probe_with(&app, &key).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(
            a.body,
            json!({
                "ok": true,
                "tenant": { "id": "acme", "name": "acme" },
                "credential": {
                    "id": cred.key_id.as_str(),
                    "masked_key": format!("idx_test_{}_••••", cred.key_id),
                    "status": "active",
                },
            })
        );
        assert!(a.headers.get("www-authenticate").is_none());
    }
    assert_eq!(f.verifier.cached_keys(), 1);
}

#[tokio::test]
async fn missing_and_empty_keys_are_missing_api_key() {
    let f = Fixture::new();
    let app = f.app();
    assert_refused(&call(&app, PROBE, &[]).await, "missing_api_key");
    assert_refused(&call(&app, PROBE, &[b""]).await, "missing_api_key");
}

#[tokio::test]
async fn malformed_wrong_environment_unknown_and_wrong_secret_are_invalid() {
    let f = Fixture::new();
    let (key, cred) = f.issue().await;
    let app = f.app();

    // Not a key at all.
    assert_refused(&probe_with(&app, "hello").await, "invalid_api_key");
    assert_refused(
        &probe_with(&app, &"x".repeat(key.len())).await,
        "invalid_api_key",
    );
    // One character changed: the checksum no longer holds.
    let mut typo = key.clone().into_bytes();
    typo[30] = if typo[30] == b'a' { b'b' } else { b'a' };
    assert_refused(
        &probe_with(&app, std::str::from_utf8(&typo).unwrap()).await,
        "invalid_api_key",
    );
    // A perfectly valid key of another environment.
    let live = KeyFormat::new("idx", "live").unwrap().generate().unwrap();
    assert_refused(
        &probe_with(&app, live.expose_secret()).await,
        "invalid_api_key",
    );
    // Well-formed, but never issued.
    let unknown = f.format.generate().unwrap();
    assert_refused(
        &probe_with(&app, unknown.expose_secret()).await,
        "invalid_api_key",
    );
    // Issued id, another secret (valid checksum): refused cold, and again once the real key is warm.
    let forged = f.format.generate_with_id(cred.key_id).unwrap();
    assert_refused(
        &probe_with(&app, forged.expose_secret()).await,
        "invalid_api_key",
    );
    assert_eq!(probe_with(&app, &key).await.status, StatusCode::OK);
    assert_refused(
        &probe_with(&app, forged.expose_secret()).await,
        "invalid_api_key",
    );
}

#[tokio::test]
async fn revoked_key_is_refused_at_once_even_when_warm() {
    let f = Fixture::new();
    let (key, cred) = f.issue().await;
    let app = f.app();
    assert_eq!(probe_with(&app, &key).await.status, StatusCode::OK);
    f.keys.revoke(&f.acme, &cred.key_id).await.unwrap();
    assert_refused(&probe_with(&app, &key).await, "api_key_revoked");
    // Only the right secret learns that the key was revoked.
    let forged = f.format.generate_with_id(cred.key_id).unwrap();
    assert_refused(
        &probe_with(&app, forged.expose_secret()).await,
        "invalid_api_key",
    );
}

#[tokio::test]
async fn expiring_then_expired() {
    let f = Fixture::new();
    let (key, _) = f.issue().await;
    let app = f.app();
    f.clock.advance(Duration::days(340));
    let a = probe_with(&app, &key).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["credential"]["status"], "expiring");
    f.clock.advance(Duration::days(25));
    assert_refused(&probe_with(&app, &key).await, "api_key_expired");
}

#[tokio::test]
async fn grace_key_is_accepted_until_its_overlap_ends() {
    let f = Fixture::new();
    let (old, cred) = f.issue().await;
    let app = f.app();
    let rotated = f.keys.rotate(&f.acme, &cred.key_id, 24).await.unwrap();
    let new = rotated.api_key.expose_secret().to_owned();

    let a = probe_with(&app, &old).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["credential"]["status"], "grace");
    assert_eq!(
        probe_with(&app, &new).await.body["credential"]["status"],
        "active"
    );

    f.clock.advance(Duration::hours(24) - Duration::seconds(1));
    assert_eq!(probe_with(&app, &old).await.status, StatusCode::OK);
    f.clock.advance(Duration::seconds(1));
    assert_refused(&probe_with(&app, &old).await, "api_key_expired");
    assert_eq!(probe_with(&app, &new).await.status, StatusCode::OK);
}

#[tokio::test]
async fn several_non_ascii_and_over_long_values_are_invalid() {
    let f = Fixture::new();
    let (key, _) = f.issue().await;
    let app = f.app();
    // Twice the same valid key: still refused, the layer does not pick one.
    assert_refused(
        &call(&app, PROBE, &[key.as_bytes(), key.as_bytes()]).await,
        "invalid_api_key",
    );
    assert_refused(
        &call(&app, PROBE, &[b"", key.as_bytes()]).await,
        "invalid_api_key",
    );
    // Right length, one byte outside ASCII.
    let mut bytes = key.clone().into_bytes();
    bytes[40] = 0xE9;
    assert_refused(&call(&app, PROBE, &[&bytes]).await, "invalid_api_key");
    // A valid key with trailing junk, and a very long value.
    assert_refused(
        &probe_with(&app, &format!("{key}x")).await,
        "invalid_api_key",
    );
    assert_refused(
        &probe_with(&app, &"a".repeat(16 * 1024)).await,
        "invalid_api_key",
    );
    // None of these touched the cache or the store's lookups in a way that blocks the real key.
    assert_eq!(probe_with(&app, &key).await.status, StatusCode::OK);
}

#[tokio::test]
async fn extractor_on_guarded_optional_and_unguarded_routes() {
    let f = Fixture::new();
    let (key, _) = f.issue().await;
    let app = f.app();
    // `Option<Verified>` on an unguarded route: absent, and no refusal.
    let a = call(&app, "/open", &[]).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, Some("key: false"))
    );
    // `Verified` where the layer was forgotten: a server bug, 500 internal_error, never a 200.
    let a = call(&app, "/forgot-the-layer", &[key.as_bytes()]).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(a.code(), "internal_error");
    // The header value reaches the handler marked sensitive.
    let a = call(&app, "/sensitive", &[key.as_bytes()]).await;
    assert_eq!(a.body, Value::Bool(true)); // the body `true`, read as JSON
}

#[tokio::test]
async fn custom_refusal_hook_replaces_the_answer() {
    let f = Fixture::new();
    let (key, cred) = f.issue().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let default = JsonRefusal::new().realm("data-api");
    let layer = ApiKeyLayer::new(f.verifier.clone()).on_refusal(
        move |parts: &http::request::Parts, r: &Refusal| {
            seen.fetch_add(1, Ordering::SeqCst);
            // The hook sees the request: its path, and its key header, marked sensitive.
            assert_eq!(parts.uri.path(), PROBE);
            assert!(
                parts
                    .headers
                    .get_all("x-api-key")
                    .iter()
                    .all(HeaderValue::is_sensitive)
            );
            if matches!(r, Refusal::Revoked) {
                (StatusCode::FORBIDDEN, format!("nope: {}", r.code())).into_response()
            } else {
                default.on_refusal(parts, r)
            }
        },
    );
    let app = app(layer);
    assert_eq!(probe_with(&app, &key).await.status, StatusCode::OK);
    let a = call(&app, PROBE, &[]).await;
    assert_eq!(a.code(), "missing_api_key");
    assert_eq!(
        a.headers["www-authenticate"],
        r#"ApiKey realm="data-api", header="X-Api-Key""#
    );
    f.keys.revoke(&f.acme, &cred.key_id).await.unwrap();
    let a = probe_with(&app, &key).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.body.as_str(), Some("nope: api_key_revoked"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn custom_header_name() {
    let f = Fixture::new();
    let (key, _) = f.issue().await;
    let layer = ApiKeyLayer::new(f.verifier.clone())
        .header_name(http::HeaderName::from_static("x-partner-key"))
        .on_refusal(JsonRefusal::new().header("X-Partner-Key"));
    let app = app(layer);
    let a = probe_with(&app, &key).await; // sent as x-api-key
    assert_eq!(a.code(), "missing_api_key");
    assert_eq!(
        a.headers["www-authenticate"],
        r#"ApiKey realm="idunox", header="X-Partner-Key""#
    );
    let req = Request::get(PROBE)
        .header("X-Partner-Key", &key)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.oneshot(req).await.unwrap().status(), StatusCode::OK);
}

/// The same key id with another (well-formed, checksummed) secret.
fn with_wrong_secret(format: &KeyFormat, key: &str) -> String {
    let id = format.parse(key).unwrap().key_id();
    checks::build_key("idx", "test", id.as_str(), &"W".repeat(32))
}

#[tokio::test]
async fn a_key_id_cooling_down_answers_503_with_retry_after() {
    // One failed argon2 run per minute for a key id, then its cold secrets are refused.
    let f = Fixture::with(|b| b.failure_budget(1, Duration::minutes(1)));
    let (key, _) = f.issue().await;
    let app = f.app();
    let wrong = with_wrong_secret(&f.format, &key);
    assert_refused(&probe_with(&app, &wrong).await, "invalid_api_key");
    // The right secret is not warm yet: it waits out the minute too.
    let a = probe_with(&app, &key).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.code(), "service_unavailable");
    assert_eq!(a.headers["retry-after"], "60");
    assert!(a.headers.get("www-authenticate").is_none());
    f.clock.advance(Duration::seconds(45));
    assert_eq!(probe_with(&app, &key).await.headers["retry-after"], "15");
    f.clock.advance(Duration::seconds(15));
    assert_eq!(probe_with(&app, &key).await.status, StatusCode::OK);
}

/// A store whose backend is down.
struct DownStore;

impl KeyStore for DownStore {
    async fn insert(&self, _: Credential, _: Option<LiveLimit>) -> Result<(), StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn find(&self, _: &KeyId) -> Result<Option<Arc<Credential>>, StoreError> {
        Err(StoreError::backend("connection refused"))
    }
    async fn list(&self, _: &TenantId) -> Result<Vec<Arc<Credential>>, StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn count_live(&self, _: &TenantId, _: OffsetDateTime) -> Result<usize, StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn rotate(&self, _: Rotation) -> Result<(), StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn revoke(
        &self,
        _: &TenantId,
        _: &KeyId,
        _: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn update(
        &self,
        _: &TenantId,
        _: &KeyId,
        _: &Patch,
        _: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        Err(StoreError::backend("down"))
    }
    async fn revoke_all(&self, _: &TenantId, _: OffsetDateTime) -> Result<Vec<KeyId>, StoreError> {
        Err(StoreError::backend("down"))
    }
    fn touch(&self, _: &[(KeyId, OffsetDateTime)]) {}
}

#[tokio::test]
async fn store_failure_answers_503_with_retry_after() {
    let format = KeyFormat::new("idx", "test").unwrap();
    let key = format.generate().unwrap();
    let app = Router::new()
        .route(PROBE, get(probe))
        .layer(ApiKeyLayer::new(Verifier::new(DownStore, format)));
    let a = probe_with(&app, key.expose_secret()).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(a.code(), "service_unavailable");
    assert_eq!(a.headers["retry-after"], "1");
    // Refusals decided from the header alone still answer 401.
    assert_eq!(call(&app, PROBE, &[]).await.code(), "missing_api_key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_started_after_a_revoke_returned_is_accepted() {
    let f = Fixture::new();
    let (key, cred) = f.issue().await;
    let app = f.app();
    assert_eq!(probe_with(&app, &key).await.status, StatusCode::OK);

    let revoked = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, key, revoked, stop) = (app.clone(), key.clone(), revoked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut before_ok, mut after_refused, mut violations) = (0, 0, 0);
            while !stop.load(Ordering::SeqCst) {
                let started_after_revoke = revoked.load(Ordering::SeqCst);
                let a = probe_with(&app, &key).await;
                match (started_after_revoke, a.status) {
                    (false, StatusCode::OK) => before_ok += 1,
                    (true, StatusCode::OK) => violations += 1,
                    (true, _) => {
                        assert_eq!(a.code(), "api_key_revoked");
                        after_refused += 1;
                    }
                    (false, _) => assert_eq!(a.code(), "api_key_revoked"),
                }
                tokio::task::yield_now().await;
            }
            (before_ok, after_refused, violations)
        }));
    }
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    f.keys.revoke(&f.acme, &cred.key_id).await.unwrap();
    revoked.store(true, Ordering::SeqCst);
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    stop.store(true, Ordering::SeqCst);
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        let (b, a, v) = t.await.unwrap();
        assert_eq!(
            v, 0,
            "a request that started after the revoke returned was accepted"
        );
        ok += b;
        refused += a;
    }
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_a_minute_not_per_request() {
    let f = Fixture::new();
    let (key, cred) = f.issue().await;
    let app = f.app();
    let last_used = || async {
        f.store
            .find(&cred.key_id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };
    assert_eq!(last_used().await, None);
    let t0 = f.verifier.now();
    assert_eq!(probe_with(&app, &key).await.status, StatusCode::OK);
    assert_eq!(last_used().await, Some(t0));
    f.clock.advance(Duration::seconds(30));
    assert_eq!(probe_with(&app, &key).await.status, StatusCode::OK);
    assert_eq!(
        last_used().await,
        Some(t0),
        "written again within the minute"
    );
    f.clock.advance(Duration::seconds(30));
    assert_eq!(probe_with(&app, &key).await.status, StatusCode::OK);
    assert_eq!(last_used().await, Some(t0 + Duration::minutes(1)));
    assert_eq!(
        f.keys
            .status(&f.store.find(&cred.key_id).await.unwrap().unwrap()),
        Status::Active
    );
}

/// An inner service whose clones start not ready: calling one that was not polled ready panics.
#[derive(Debug)]
struct MustBeReady {
    ready: bool,
    calls: Arc<AtomicUsize>,
}

impl Clone for MustBeReady {
    fn clone(&self) -> Self {
        Self {
            ready: false,
            calls: self.calls.clone(),
        }
    }
}

impl Service<Request<Body>> for MustBeReady {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.ready = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Body>) -> Self::Future {
        assert!(self.ready, "called a service that was not made ready");
        self.ready = false;
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(Response::new(Body::from("inner"))))
    }
}

#[tokio::test]
async fn the_service_made_ready_is_the_one_called() {
    let f = Fixture::new();
    let (key, _) = f.issue().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let mut svc = ApiKeyLayer::new(f.verifier.clone()).layer(MustBeReady {
        ready: false,
        calls: calls.clone(),
    });
    for _ in 0..3 {
        let req = Request::get("/")
            .header("x-api-key", &key)
            .body(Body::empty())
            .unwrap();
        let res = svc.ready().await.unwrap().call(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    // A refusal does not call the inner service.
    let res = svc
        .ready()
        .await
        .unwrap()
        .call(Request::new(Body::empty()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
