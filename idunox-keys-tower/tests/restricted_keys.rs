//! Restricted keys through real axum routers: the allow-list against the connection's address
//! (a real TCP connection with `ConnectInfo`, IPv4 and IPv4-mapped IPv6), `X-Forwarded-For`
//! believed only from trusted proxies, per-route scopes with `RequireScope`, the order of the
//! refusals (nothing but `invalid_api_key` before the secret matched, the status before the
//! address). The `tracing` event of each refusal: `tests/refusal_events.rs`.

#[path = "../../idunox-keys/tests/support/key_parser_checks.rs"]
#[allow(dead_code)]
mod checks;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::get;
use http::{Request, StatusCode};
use idunox_keys::restrictions::parse_allow_list;
use idunox_keys::time::OffsetDateTime;
use idunox_keys::{
    HashParams, KeyFormat, KeyManager, ManualClock, MemoryStore, NewKey, Policy, SecretHasher,
    TenantId, Verifier,
};
use idunox_keys_tower::{ApiKeyLayer, JsonRefusal, RequireScope, Verified};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

type Store = Arc<MemoryStore>;

struct Fixture {
    keys: KeyManager<Store>,
    verifier: Verifier<Store>,
    acme: TenantId,
}

fn fixture() -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let format = KeyFormat::new("idx", "test").unwrap();
    let clock = ManualClock::new(OffsetDateTime::from_unix_timestamp(1_772_366_400).unwrap());
    let keys = KeyManager::new(store.clone(), format.clone())
        .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST).unwrap())
        .with_clock(clock.clone())
        .with_policy(Policy {
            scopes: vec!["orders:read".into(), "orders:write".into(), "orders".into()],
            ..Policy::default()
        });
    let verifier = Verifier::builder(store, format).clock(clock).build();
    Fixture {
        keys,
        verifier,
        acme: TenantId::new("acme"),
    }
}

impl Fixture {
    async fn key(
        &self,
        scopes: Option<&[&str]>,
        ips: Option<&[&str]>,
    ) -> (String, idunox_keys::KeyId) {
        let new = NewKey {
            scopes: scopes.map(|s| s.iter().map(|s| (*s).to_owned()).collect()),
            allowed_ips: ips.map(|s| s.iter().map(|s| (*s).to_owned()).collect()),
            ..NewKey::default()
        };
        let issued = self.keys.create_with(&self.acme, new).await.unwrap();
        (
            issued.api_key.expose_secret().to_owned(),
            issued.credential.key_id,
        )
    }
}

async fn whoami(Verified(key): Verified) -> String {
    key.key_id.to_string()
}

/// A read route, a write route, and a route with no scope, all behind the key layer.
fn app(layer: ApiKeyLayer<Store>) -> Router {
    Router::new()
        // One `route` per method: a method router's `route_layer` wraps every method added
        // to it so far.
        .route(
            "/v1/orders",
            get(whoami).route_layer(RequireScope::new("orders:read")),
        )
        .route(
            "/v1/orders",
            axum::routing::post(whoami).route_layer(RequireScope::new("orders:write")),
        )
        .route("/v1/any", get(whoami))
        .layer(layer)
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// One request through the router in-process, as from `peer` (when given) with these
/// `X-Forwarded-For` lines.
async fn send(
    app: &Router,
    method: &str,
    path: &str,
    key: &str,
    peer: Option<&str>,
    xff: &[&str],
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("x-api-key", key);
    for line in xff {
        req = req.header("x-forwarded-for", *line);
    }
    let mut req = req.body(Body::empty()).unwrap();
    if let Some(peer) = peer {
        let addr: SocketAddr = SocketAddr::new(peer.parse().unwrap(), 40_000);
        req.extensions_mut().insert(ConnectInfo(addr));
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
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

fn wrong_secret(key: &str) -> String {
    checks::build_key("idx", "test", &key[9..21], &"W".repeat(32))
}

#[tokio::test]
async fn the_allow_list_is_checked_against_the_connection_address() {
    let f = fixture();
    let app = app(ApiKeyLayer::new(f.verifier.clone()));
    let (key, id) = f
        .key(None, Some(&["203.0.113.0/24", "2001:db8::/32"]))
        .await;
    let (open, _) = f.key(None, None).await;

    let ok = send(&app, "GET", "/v1/any", &key, Some("203.0.113.9"), &[]).await;
    assert_eq!(
        (ok.status, ok.body.as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
    assert_eq!(
        send(&app, "GET", "/v1/any", &key, Some("2001:db8::7"), &[])
            .await
            .status,
        StatusCode::OK
    );
    // An IPv4 client on a dual-stack socket shows as IPv4-mapped IPv6: still that IPv4 address.
    assert_eq!(
        send(
            &app,
            "GET",
            "/v1/any",
            &key,
            Some("::ffff:203.0.113.9"),
            &[]
        )
        .await
        .status,
        StatusCode::OK
    );

    for denied in ["198.51.100.1", "::ffff:198.51.100.1", "2001:db9::1"] {
        let a = send(&app, "GET", "/v1/any", &key, Some(denied), &[]).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{denied}");
        assert_eq!(a.code(), "ip_not_allowed");
        assert_eq!(
            a.headers["www-authenticate"],
            r#"ApiKey realm="idunox", header="X-Api-Key", error="ip_not_allowed""#
        );
        assert_eq!(a.headers["cache-control"], "no-store");
    }
    // No known address: a key with an allow-list is refused; one without is not.
    assert_eq!(
        send(&app, "GET", "/v1/any", &key, None, &[]).await.code(),
        "ip_not_allowed"
    );
    assert_eq!(
        send(&app, "GET", "/v1/any", &open, None, &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn nothing_but_invalid_before_the_secret_matched_and_the_status_before_the_address() {
    let f = fixture();
    let app = app(ApiKeyLayer::new(f.verifier.clone()));
    let (key, id) = f
        .key(Some(&["orders:read"]), Some(&["203.0.113.0/24"]))
        .await;
    let denied = Some("198.51.100.1");
    // Cold, then warm: a wrong secret from a denied address is invalid either way.
    for _ in 0..2 {
        let a = send(&app, "GET", "/v1/orders", &wrong_secret(&key), denied, &[]).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNAUTHORIZED, "invalid_api_key")
        );
        send(&app, "GET", "/v1/orders", &key, Some("203.0.113.1"), &[]).await;
    }
    // A route needing a scope the key lacks, from a denied address: the address first.
    let a = send(&app, "POST", "/v1/orders", &key, denied, &[]).await;
    assert_eq!(a.code(), "ip_not_allowed");
    f.keys.revoke(&f.acme, &id).await.unwrap();
    let a = send(&app, "GET", "/v1/orders", &key, denied, &[]).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNAUTHORIZED, "api_key_revoked")
    );
}

#[tokio::test]
async fn scopes_are_required_per_route_and_match_exactly() {
    let f = fixture();
    let app = app(ApiKeyLayer::new(f.verifier.clone()));
    let (reader, _) = f.key(Some(&["orders:read"]), None).await;
    let (prefix, _) = f.key(Some(&["orders"]), None).await;
    let (unrestricted, _) = f.key(None, None).await;

    assert_eq!(
        send(&app, "GET", "/v1/orders", &reader, None, &[])
            .await
            .status,
        StatusCode::OK
    );
    let a = send(&app, "POST", "/v1/orders", &reader, None, &[]).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    assert_eq!(
        a.headers["www-authenticate"],
        r#"ApiKey realm="idunox", header="X-Api-Key", error="insufficient_scope", scope="orders:write""#
    );
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("orders:write")
    );
    // `orders` is not a prefix of `orders:read`.
    assert_eq!(
        send(&app, "GET", "/v1/orders", &prefix, None, &[])
            .await
            .code(),
        "insufficient_scope"
    );
    // An unrestricted key carries every scope; a route without a requirement takes any key.
    assert_eq!(
        send(&app, "POST", "/v1/orders", &unrestricted, None, &[])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, "GET", "/v1/any", &reader, None, &[])
            .await
            .status,
        StatusCode::OK
    );
    // Unknown paths and methods are not turned into scope refusals.
    assert_eq!(
        send(&app, "GET", "/v1/nope", &reader, None, &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, "DELETE", "/v1/orders", &reader, None, &[])
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn a_scope_refusal_uses_its_own_hook_and_an_unguarded_route_is_a_server_error() {
    let f = fixture();
    let (reader, _) = f.key(Some(&["orders:read"]), None).await;
    let app = Router::new()
        .route(
            "/v1/orders",
            axum::routing::post(whoami).route_layer(
                RequireScope::new("orders:write").on_refusal(
                    JsonRefusal::new()
                        .realm("orders-api")
                        .header("X-Partner-Key"),
                ),
            ),
        )
        .layer(ApiKeyLayer::new(f.verifier.clone()))
        .route(
            "/v1/unguarded",
            get(whoami).route_layer(RequireScope::new("orders:read")),
        );
    let a = send(&app, "POST", "/v1/orders", &reader, None, &[]).await;
    assert_eq!(
        a.headers["www-authenticate"],
        r#"ApiKey realm="orders-api", header="X-Partner-Key", error="insufficient_scope", scope="orders:write""#
    );
    let a = send(&app, "GET", "/v1/unguarded", &reader, None, &[]).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
    );
}

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_trusted_proxies() {
    let f = fixture();
    let (key, _) = f.key(None, Some(&["203.0.113.0/24"])).await;
    let trusting = app(ApiKeyLayer::new(f.verifier.clone())
        .trusted_proxies(parse_allow_list(["10.0.0.0/8"]).unwrap()));
    let plain = app(ApiKeyLayer::new(f.verifier.clone()));
    let proxy = Some("10.0.0.2");

    // Through the trusted proxy: the right-most untrusted entry is the client.
    let a = send(&trusting, "GET", "/v1/any", &key, proxy, &["203.0.113.9"]).await;
    assert_eq!(a.status, StatusCode::OK);
    let a = send(
        &trusting,
        "GET",
        "/v1/any",
        &key,
        proxy,
        &["203.0.113.9, 10.0.0.7"],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "a chain of trusted proxies");
    // A forged left-most entry does not help a client outside the list.
    let a = send(
        &trusting,
        "GET",
        "/v1/any",
        &key,
        proxy,
        &["203.0.113.9, 198.51.100.1"],
    )
    .await;
    assert_eq!(a.code(), "ip_not_allowed");
    // A trusted proxy that names nobody (no header, or only proxies) vouches for nobody.
    let a = send(&trusting, "GET", "/v1/any", &key, proxy, &[]).await;
    assert_eq!(a.code(), "ip_not_allowed");
    let a = send(&trusting, "GET", "/v1/any", &key, proxy, &["10.0.0.9"]).await;
    assert_eq!(a.code(), "ip_not_allowed");
    // An unreadable entry where the client should be: unknown, refused.
    let a = send(
        &trusting,
        "GET",
        "/v1/any",
        &key,
        proxy,
        &["not-an-address"],
    )
    .await;
    assert_eq!(a.code(), "ip_not_allowed");
    // From a peer that is not a trusted proxy, the header is ignored.
    let a = send(
        &trusting,
        "GET",
        "/v1/any",
        &key,
        Some("198.51.100.1"),
        &["203.0.113.9"],
    )
    .await;
    assert_eq!(a.code(), "ip_not_allowed");
    // And a layer that trusts no proxy ignores it from anyone.
    let a = send(&plain, "GET", "/v1/any", &key, proxy, &["203.0.113.9"]).await;
    assert_eq!(a.code(), "ip_not_allowed");
}

/// A raw HTTP/1.1 GET over a real TCP connection; the status code.
async fn http_get(connect_to: SocketAddr, path: &str, key: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(connect_to).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut res = Vec::new();
    stream.read_to_end(&mut res).await.unwrap();
    let text = String::from_utf8_lossy(&res);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_real_connection_supplies_the_address_ipv4_and_ipv4_mapped() {
    let f = fixture();
    let (loopback, _) = f.key(None, Some(&["127.0.0.0/8"])).await;
    let (elsewhere, _) = f.key(None, Some(&["198.51.100.0/24"])).await;
    let app = app(ApiKeyLayer::new(f.verifier.clone()));
    // A dual-stack listener where the system offers one (IPv4 clients then show as
    // ::ffff:127.0.0.1), else IPv4 alone.
    let listener = match tokio::net::TcpListener::bind("[::]:0").await {
        Ok(l) => l,
        Err(_) => tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let v4 = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port);
    assert_eq!(http_get(v4, "/v1/any", &loopback).await, 200);
    assert_eq!(http_get(v4, "/v1/any", &elsewhere).await, 403);
    server.abort();
}

#[tokio::test]
async fn the_key_layer_itself_can_require_scopes_for_a_group_of_routes() {
    let f = fixture();
    let (reader, _) = f.key(Some(&["orders:read"]), None).await;
    let (both, _) = f
        .key(
            Some(&["orders:read", "orders:write"]),
            Some(&["203.0.113.0/24"]),
        )
        .await;
    let layer = ApiKeyLayer::new(f.verifier.clone());
    let app = Router::new()
        .route("/v1/orders", get(whoami))
        .route_layer(layer.clone().require_scope("orders:read"))
        .merge(
            Router::new().route("/v1/admin", get(whoami)).route_layer(
                layer
                    .require_scope("orders:read")
                    .require_scope("orders:write"),
            ),
        );
    let ok = Some("203.0.113.5");
    assert_eq!(
        send(&app, "GET", "/v1/orders", &reader, ok, &[])
            .await
            .status,
        StatusCode::OK
    );
    let a = send(&app, "GET", "/v1/admin", &reader, ok, &[]).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    assert!(
        a.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .ends_with(r#"scope="orders:write""#)
    );
    assert_eq!(
        send(&app, "GET", "/v1/admin", &both, ok, &[]).await.status,
        StatusCode::OK
    );
    // The address is checked before the scopes.
    let a = send(&app, "GET", "/v1/admin", &both, Some("198.51.100.1"), &[]).await;
    assert_eq!(a.code(), "ip_not_allowed");
}
