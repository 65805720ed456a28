//! What `idunox-keys-tower` adds to a request, against two baselines measured in the same run.
//!
//! One axum router (`GET /v1/partner-auth-probe`, a static JSON answer), driven in-process with
//! tower's `oneshot` (no sockets), five ways:
//! 1. `no_auth`: the bare router (and, for reference, `noop_layer`: the router with a layer that
//!    does nothing, which shows what axum charges for any route layer);
//! 2. `tower_http_token`: tower-http 0.7's `ValidateRequestHeaderLayer::custom` with a closure
//!    comparing `X-Api-Key` to one static token with `==` — the cheapest peer, and what people
//!    write today;
//! 3. `idunox_100k`: `ApiKeyLayer` over a `MemoryStore` of 100 000 keys, the presented key warm
//!    (verified once with argon2id before measuring), so each request does the real multi-tenant
//!    path: checksum, store lookup, keyed digest + constant-time compare, fresh status, extension;
//! 4. `idunox_restricted`: the same with a restricted key (10 CIDRs, the client in the last one,
//!    and 3 scopes) on a route that needs one of them, required by the key layer itself
//!    (`ApiKeyLayer::require_scope`);
//! 5. `idunox_restricted_handler`: the same, the scope required by a `RequireScope` layer on the
//!    handler (`get(probe.layer(RequireScope::new(…)))`) — what axum charges for one more layer
//!    shows here;
//! 6. `floor_layer`: the least any API-key layer does besides verifying — its settings behind
//!    one `Arc` (axum clones the service per request), find the key header and mark it
//!    sensitive, put a verified key into the request's extensions, wrap the inner future with a
//!    refusal state — with a clone of a ready `VerifiedKey` in place of the verification. It
//!    shows how much of the 100 ns the target allows the layer these steps take by themselves.
//!
//! Every request is built the same way: the same key header (each variant gets its own key) and
//! the client address (`ConnectInfo`) in its extensions.
//! After criterion's own report, a summary measures medians with `Instant` (rounds of
//! interleaved batches, so drift hits every variant alike) and checks the targets: the layer's
//! added cost at most the core's warm verification (`Verifier::check`, measured alone in the same
//! run) plus axum's cost of a no-op layer plus 100 ns; a restricted key adding less than 50 ns.
//!
//! `cargo bench -p idunox-benches --bench tower -- --quick`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::handler::Handler;
use axum::routing::get;
use criterion::Criterion;
use http::{Request, Response, StatusCode};
use idunox_keys::time::Duration as TimeDuration;
use idunox_keys::{
    Check, Credential, HashParams, KeyFormat, KeyId, KeyManager, KeyStore, MemoryStore, NewKey,
    Policy, SecretHasher, TenantId, Verifier,
};
use idunox_keys_tower::{ApiKeyLayer, RequireScope};
use tokio::runtime::Runtime;
use tower::ServiceExt;
use tower_http::validate_request::ValidateRequestHeaderLayer;

const PATH: &str = "/v1/partner-auth-probe";
const STORE_KEYS: usize = 100_000;
/// The client address of every request: inside the last of the restricted key's 10 networks.
const CLIENT: &str = "203.0.113.77";
const APPS: usize = 7;

async fn probe() -> ([(http::HeaderName, &'static str); 1], &'static str) {
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        r#"{"ok":true}"#,
    )
}

fn routes() -> Router {
    Router::new().route(PATH, get(probe))
}

/// Key id number `i`, as 12 base62 digits (deterministic, unique, valid).
fn key_id(mut i: usize) -> KeyId {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut id = [b'0'; 12];
    for slot in id.iter_mut().rev() {
        *slot = ALPHABET[i % 62];
        i /= 62;
    }
    KeyId::parse(std::str::from_utf8(&id).unwrap()).unwrap()
}

struct Setup {
    rt: Runtime,
    key: String,
    restricted: String,
    apps: [(&'static str, &'static str, Router); APPS],
    verifier: Verifier<Arc<MemoryStore>>,
}

impl Setup {
    /// The key variant `i` presents.
    fn key_for(&self, i: usize) -> &str {
        if self.apps[i].0.starts_with("idunox_restricted") {
            &self.restricted
        } else {
            &self.key
        }
    }
}

/// The least any API-key layer does besides verifying (variant 6, see the crate docs).
mod floor {
    use std::convert::Infallible;
    use std::future::Future;
    use std::hint::black_box;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use axum::body::Body;
    use http::{HeaderName, Request, Response, StatusCode};
    use idunox_keys::VerifiedKey;

    /// The settings every service shares: the header, and the key a verification would give.
    #[derive(Clone)]
    pub(crate) struct FloorLayer(pub(crate) Arc<(HeaderName, VerifiedKey)>);

    #[derive(Clone)]
    pub(crate) struct FloorService<S> {
        inner: S,
        shared: Arc<(HeaderName, VerifiedKey)>,
    }

    impl<S> tower::Layer<S> for FloorLayer {
        type Service = FloorService<S>;
        fn layer(&self, inner: S) -> FloorService<S> {
            FloorService {
                inner,
                shared: Arc::clone(&self.0),
            }
        }
    }

    /// The inner future, or a refusal's response.
    pub(crate) enum FloorFuture<F> {
        Calling(F),
        Refused(Option<Response<Body>>),
    }

    impl<F: Future<Output = Result<Response<Body>, Infallible>> + Unpin> Future for FloorFuture<F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            match &mut *self {
                FloorFuture::Calling(f) => Pin::new(f).poll(cx),
                FloorFuture::Refused(r) => Poll::Ready(Ok(r.take().unwrap_or_default())),
            }
        }
    }

    impl<S> tower::Service<Request<Body>> for FloorService<S>
    where
        S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
        S::Future: Unpin,
    {
        type Response = Response<Body>;
        type Error = Infallible;
        type Future = FloorFuture<S::Future>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, mut req: Request<Body>) -> Self::Future {
            let (header, key) = &*self.shared;
            match req.headers_mut().get_mut(header) {
                Some(value) => {
                    value.set_sensitive(true);
                    black_box(value.as_bytes());
                }
                None => {
                    let mut res = Response::new(Body::empty());
                    *res.status_mut() = StatusCode::UNAUTHORIZED;
                    return FloorFuture::Refused(Some(res));
                }
            }
            req.extensions_mut().insert(key.clone());
            FloorFuture::Calling(self.inner.call(req))
        }
    }
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let format = KeyFormat::new("idx", "test").unwrap();
    let store = Arc::new(MemoryStore::new());
    let verifier = Verifier::new(store.clone(), format.clone());
    let (key, restricted) = rt.block_on(async {
        // 100 000 other tenants' keys, inserted directly with one precomputed cheap hash:
        // the benchmark measures lookups among them, not their creation.
        let filler_hash = SecretHasher::new(HashParams::INSECURE_FAST)
            .unwrap()
            .hash(b"filler secret, never presented")
            .unwrap();
        let now = verifier.now();
        for i in 0..STORE_KEYS {
            let id = key_id(i);
            store
                .insert(
                    Credential {
                        key_id: id,
                        tenant_id: TenantId::new(format!("tenant-{:05}", i % 10_000)),
                        name: Some(format!("key {i}")),
                        masked_key: format.mask(&id),
                        secret_hash: filler_hash.clone(),
                        created_at: now,
                        expires_at: now + TimeDuration::days(365),
                        grace_expires_at: None,
                        revoked_at: None,
                        replaced_by: None,
                        replaces: None,
                        last_used_at: None,
                        scopes: None,
                        allowed_ips: None,
                    },
                    None,
                )
                .await
                .unwrap();
        }
        // The presented keys: real ones, hashed with the production argon2id parameters.
        let scopes = ["orders:read", "orders:write", "reports:read"].map(String::from);
        let keys = KeyManager::new(store.clone(), format.clone()).with_policy(Policy {
            scopes: scopes.to_vec(),
            ..Policy::default()
        });
        let issued = keys
            .create(&TenantId::new("acme"), Some("bench".into()), None)
            .await
            .unwrap();
        let key = issued.api_key.expose_secret().to_owned();
        // 10 networks, the client's last (every check walks the whole list), and 3 scopes.
        let mut nets: Vec<String> = (0..9).map(|i| format!("10.{i}.0.0/16")).collect();
        nets.push("203.0.113.0/24".into());
        let restricted = NewKey {
            name: Some("bench, restricted".into()),
            scopes: Some(scopes.to_vec()),
            allowed_ips: Some(nets),
            ..NewKey::default()
        };
        let issued = keys
            .create_with(&TenantId::new("acme"), restricted)
            .await
            .unwrap();
        let restricted = issued.api_key.expose_secret().to_owned();
        // Warm them: the cold (argon2) verifications happen here, not in the measurement.
        verifier.verify_str(&key).await.unwrap();
        verifier.verify_str(&restricted).await.unwrap();
        (key, restricted)
    });
    assert_eq!(store.len(), STORE_KEYS + 2);
    assert_eq!(verifier.cached_keys(), 2);

    let token = key.clone();
    // tower-http's `ValidateRequest` closure returns `Result<(), Response<_>>`: its shape, not ours.
    #[allow(clippy::result_large_err)]
    let tower_http = routes().layer(ValidateRequestHeaderLayer::custom(
        move |req: &mut Request<Body>| -> Result<(), Response<Body>> {
            match req.headers().get("x-api-key") {
                Some(v) if v.as_bytes() == token.as_bytes() => Ok(()),
                _ => {
                    let mut res = Response::new(Body::from(
                        r#"{"error":{"code":"invalid_api_key","message":"The API key is not valid."}}"#,
                    ));
                    *res.status_mut() = StatusCode::UNAUTHORIZED;
                    Err(res)
                }
            }
        },
    ));
    let ours = routes().layer(ApiKeyLayer::new(verifier.clone()));
    let ours_restricted =
        routes().layer(ApiKeyLayer::new(verifier.clone()).require_scope("reports:read"));
    let ours_restricted_handler = Router::new()
        .route(PATH, get(probe.layer(RequireScope::new("reports:read"))))
        .layer(ApiKeyLayer::new(verifier.clone()));
    let verified = match verifier.check(Some(key.as_bytes())) {
        Check::Done(Ok(k)) => k,
        _ => panic!("the bench key is not warm"),
    };
    let floor_layer = routes().layer(floor::FloorLayer(Arc::new((
        http::HeaderName::from_static("x-api-key"),
        verified,
    ))));
    // `with_state(())` turns every handler into a finished route once, as `axum::serve` does
    // (through `into_make_service`); without it a `Router<()>` called as a service re-applies
    // each layer to the handler on every request, which no server pays.
    Setup {
        rt,
        apps: [
            ("no_auth", "no auth", routes().with_state(())),
            (
                "noop_layer",
                "a layer that does nothing",
                routes()
                    .layer(tower::layer::layer_fn(|inner| inner))
                    .with_state(()),
            ),
            (
                "tower_http_token",
                "tower-http, one static token",
                tower_http.with_state(()),
            ),
            (
                "idunox_100k",
                "idunox-keys-tower, 100k keys",
                ours.with_state(()),
            ),
            (
                "idunox_restricted",
                "  restricted key, layer's scope",
                ours_restricted.with_state(()),
            ),
            (
                "idunox_restricted_handler",
                "  restricted, RequireScope layer",
                ours_restricted_handler.with_state(()),
            ),
            (
                "floor_layer",
                "the least a key layer does",
                floor_layer.with_state(()),
            ),
        ],
        key,
        restricted,
        verifier,
    }
}

fn request(key: &str) -> Request<Body> {
    let mut req = Request::get(PATH)
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap();
    let client: SocketAddr = SocketAddr::new(CLIENT.parse().unwrap(), 40_000);
    req.extensions_mut().insert(ConnectInfo(client));
    req
}

/// Send `n` requests one after another; the time they took.
fn run(rt: &Runtime, app: &Router, key: &str, n: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..n {
            let res = app.clone().oneshot(request(key)).await.unwrap();
            black_box(res);
        }
        start.elapsed()
    })
}

fn criterion_benches(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("tower");
    for (i, (id, _, app)) in s.apps.iter().enumerate() {
        let key = s.key_for(i);
        group.bench_function(*id, |b| b.iter_custom(|iters| run(&s.rt, app, key, iters)));
    }
    group.finish();
}

/// Medians of interleaved rounds, in nanoseconds per request.
fn summary(s: &Setup, quick: bool) {
    // `IDUNOX_TOWER_ROUNDS` / `IDUNOX_TOWER_BATCH` override: on a loaded machine, more and
    // shorter rounds give the minimum a chance to be an uninterrupted batch.
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
    };
    let (rounds, batch) = if quick { (15, 5_000) } else { (41, 20_000) };
    let rounds = env("IDUNOX_TOWER_ROUNDS").unwrap_or(rounds).max(1);
    let batch = env("IDUNOX_TOWER_BATCH").map_or(batch, |b| b as u64).max(1);
    let mut per_request = [const { Vec::new() }; APPS];
    // The core's warm verification alone (what the layer calls), interleaved with the rest.
    let mut verify = Vec::new();
    for _ in 0..rounds {
        for (i, (_, _, app)) in s.apps.iter().enumerate() {
            let t = run(&s.rt, app, s.key_for(i), batch);
            per_request[i].push(t.as_nanos() as f64 / batch as f64);
        }
        let start = Instant::now();
        for _ in 0..batch {
            match s.verifier.check(Some(black_box(s.key.as_bytes()))) {
                Check::Done(Ok(k)) => {
                    black_box(k);
                }
                _ => panic!("the bench key is not warm"),
            }
        }
        verify.push(start.elapsed().as_nanos() as f64 / batch as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<f64> = per_request.iter_mut().map(median).collect();
    // Sorted by `median`: the first is the minimum, the batch least disturbed by other processes.
    let mins: Vec<f64> = per_request.iter().map(|v| v[0]).collect();
    let verify_min = {
        let mut v = verify.clone();
        v.sort_by(f64::total_cmp);
        v[0]
    };
    let verify = median(&mut verify);
    let base = medians[0];
    println!();
    println!(
        "tower summary: median (and minimum) of {rounds} interleaved rounds x {batch} requests, in-process oneshot"
    );
    for (((_, label, _), m), lo) in s.apps.iter().zip(&medians).zip(&mins) {
        println!(
            "  {label:<32} {m:>8.0} ns/request  added vs no auth: {:>+6.0} ns   (minimum {lo:>6.0}, added {:>+6.0})",
            m - base,
            lo - mins[0]
        );
    }
    println!(
        "  minima: added cost {:.0} ns against {verify_min:.0} + {:.0} + 100 = {:.0} ns; restricted {:+.0} ns",
        mins[3] - mins[0],
        mins[1] - mins[0],
        verify_min + mins[1] - mins[0] + 100.0,
        mins[4] - mins[3]
    );
    let id = s.verifier.format().parse(&s.key).unwrap().key_id();
    let find = median_ns(rounds, batch, || {
        s.rt.block_on(async {
            let start = Instant::now();
            for _ in 0..batch {
                black_box(s.verifier.store().find(black_box(&id)).await.unwrap());
            }
            start.elapsed()
        })
    });
    // The restricted path's extra work alone, in a loop: the client address from the request,
    // the allow-list (10 networks), the scope (3 names).
    let rkey = match s.verifier.check(Some(s.restricted.as_bytes())) {
        Check::Done(Ok(k)) => k,
        _ => panic!("the restricted bench key is not warm"),
    };
    let rreq = request(&s.restricted);
    let extras = median_ns(rounds, batch, || {
        let start = Instant::now();
        for _ in 0..batch {
            let addr = idunox_keys_tower::client_addr(black_box(&rreq), &[]);
            rkey.check_ip(black_box(addr)).unwrap();
            rkey.require_scope(black_box("reports:read")).unwrap();
        }
        start.elapsed()
    });
    let (noop, theirs, ours, restricted, handler_layer) = (
        medians[1] - base,
        medians[2] - base,
        medians[3] - base,
        medians[4] - medians[3],
        medians[5] - medians[3],
    );
    println!("  the core's warm verification (Verifier::check) alone: {verify:.0} ns");
    println!("  of which MemoryStore::find (shares the record): {find:.0} ns");
    let ceiling = verify + noop + 100.0;
    println!(
        "  target: added cost <= warm verification + no-op layer + 100 ns = {verify:.0} + {noop:.0} + 100 = {ceiling:.0} ns; \
         measured {ours:.0} ns ({})",
        if ours <= ceiling { "met" } else { "NOT met" }
    );
    println!(
        "  target: a restricted key (10 CIDRs, 3 scopes, the route's scope) adds < 50 ns; measured {restricted:+.0} ns ({})",
        if restricted < 50.0 { "met" } else { "NOT met" }
    );
    println!(
        "  the restricted path's extra work measured alone (client address, 10 networks, 3 scopes): {extras:.0} ns"
    );
    println!(
        "  with the scope in a RequireScope layer on the handler instead: {handler_layer:+.0} ns (axum's cost of a layer: {noop:.0} ns)"
    );
    println!(
        "  for reference, ours / tower-http's one static token: {ours:.0} / {theirs:.0} ns = {:.1}x",
        ours / theirs.max(1.0)
    );
    // What the 100 ns must cover before the layer decides anything.
    let floor = medians[6] - medians[1];
    let floor_min = mins[6] - mins[1];
    println!(
        "  the least a key layer does (settings Arc, header, extension, future), over the no-op layer: {floor:+.0} ns (minima {floor_min:+.0}) of the 100 allowed; \
         the layer's own work beyond it and the verification: {:+.0} ns (minima {:+.0})",
        ours - noop - verify - floor,
        (mins[3] - mins[0]) - (mins[1] - mins[0]) - verify_min - floor_min
    );
}

/// Median over `rounds` of `f`'s batch time, in nanoseconds per item.
fn median_ns(rounds: usize, batch: u64, mut f: impl FnMut() -> Duration) -> f64 {
    let mut v: Vec<f64> = (0..rounds)
        .map(|_| f().as_nanos() as f64 / batch as f64)
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let s = setup();
    for (i, (id, _, app)) in s.apps.iter().enumerate() {
        let res =
            s.rt.block_on(app.clone().oneshot(request(s.key_for(i))))
                .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{id} refused the bench key");
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, &s);
    c.final_summary();
    // `cargo test --benches` runs this binary without `--bench`: keep it short there.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    if bench_mode {
        summary(&s, quick);
    }
}
