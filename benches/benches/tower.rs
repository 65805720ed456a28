//! What `idunox-keys-tower` adds to a request, against two baselines measured in the same run.
//!
//! One axum router (`GET /v1/partner-auth-probe`, a static JSON answer), driven in-process with
//! tower's `oneshot` (no sockets), three ways:
//! 1. `no_auth`: the bare router (and, for reference, `noop_layer`: the router with a layer that
//!    does nothing, which shows what axum charges for any route layer);
//! 2. `tower_http_token`: tower-http 0.7's `ValidateRequestHeaderLayer::custom` with a closure
//!    comparing `X-Api-Key` to one static token with `==` — the cheapest peer, and what people
//!    write today;
//! 3. `idunox_100k`: `ApiKeyLayer` over a `MemoryStore` of 100 000 keys, the presented key warm
//!    (verified once with argon2id before measuring), so each request does the real multi-tenant
//!    path: checksum, store lookup, keyed digest + constant-time compare, fresh status, extension.
//!
//! Every request is built the same way and carries the same header in all three.
//! After criterion's own report, a summary measures medians with `Instant` (rounds of
//! interleaved batches, so drift hits all three alike) and prints the added cost of each layer
//! and the ratio ours / tower-http.
//!
//! `cargo bench -p idunox-benches --bench tower -- --quick`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::Criterion;
use http::{Request, Response, StatusCode};
use idunox_keys::time::Duration as TimeDuration;
use idunox_keys::{
    Credential, HashParams, KeyFormat, KeyId, KeyManager, KeyStore, MemoryStore, SecretHasher,
    TenantId, Verifier,
};
use idunox_keys_tower::ApiKeyLayer;
use tokio::runtime::Runtime;
use tower::ServiceExt;
use tower_http::validate_request::ValidateRequestHeaderLayer;

const PATH: &str = "/v1/partner-auth-probe";
const STORE_KEYS: usize = 100_000;

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
    apps: [(&'static str, &'static str, Router); 4],
    verifier: Verifier<Arc<MemoryStore>>,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let format = KeyFormat::new("idx", "test").unwrap();
    let store = Arc::new(MemoryStore::new());
    let verifier = Verifier::new(store.clone(), format.clone());
    let key = rt.block_on(async {
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
        // The presented key: a real one, hashed with the production argon2id parameters.
        let issued = KeyManager::new(store.clone(), format.clone())
            .create(&TenantId::new("acme"), Some("bench".into()), None)
            .await
            .unwrap();
        let key = issued.api_key.expose_secret().to_owned();
        // Warm it: the one cold (argon2) verification happens here, not in the measurement.
        verifier.verify_str(&key).await.unwrap();
        key
    });
    assert_eq!(store.len(), STORE_KEYS + 1);
    assert_eq!(verifier.cached_keys(), 1);

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
    // `with_state(())` turns every handler into a finished route once, as `axum::serve` does
    // (through `into_make_service`); without it a `Router<()>` called as a service re-applies
    // each layer to the handler on every request, which no server pays.
    Setup {
        rt,
        key,
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
        ],
        verifier,
    }
}

fn request(key: &str) -> Request<Body> {
    Request::get(PATH)
        .header("x-api-key", key)
        .body(Body::empty())
        .unwrap()
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
    for (id, _, app) in &s.apps {
        group.bench_function(*id, |b| {
            b.iter_custom(|iters| run(&s.rt, app, &s.key, iters))
        });
    }
    group.finish();
}

/// Medians of interleaved rounds, in nanoseconds per request.
fn summary(s: &Setup, quick: bool) {
    let (rounds, batch) = if quick { (15, 5_000) } else { (41, 20_000) };
    let mut per_request = [const { Vec::new() }; 4];
    for _ in 0..rounds {
        for (i, (_, _, app)) in s.apps.iter().enumerate() {
            let t = run(&s.rt, app, &s.key, batch);
            per_request[i].push(t.as_nanos() as f64 / batch as f64);
        }
    }
    let medians: Vec<f64> = per_request
        .iter_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect();
    let base = medians[0];
    println!();
    println!(
        "tower summary: median of {rounds} interleaved rounds x {batch} requests, in-process oneshot"
    );
    for ((_, label, _), m) in s.apps.iter().zip(&medians) {
        println!(
            "  {label:<32} {m:>8.0} ns/request  added vs no auth: {:>+6.0} ns",
            m - base
        );
    }
    // Where our added cost goes: the core's warm verification alone, and its store lookup alone.
    let verify = median_ns(rounds, batch, || {
        s.rt.block_on(async {
            let start = Instant::now();
            for _ in 0..batch {
                black_box(s.verifier.verify_str(black_box(&s.key)).await.unwrap());
            }
            start.elapsed()
        })
    });
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
    println!("  of which the core's Verifier::verify, warm, alone: {verify:.0} ns");
    println!("  of which MemoryStore::find (clones the credential): {find:.0} ns");
    let (theirs, ours) = (medians[2] - base, medians[3] - base);
    let ratio = ours / theirs.max(1.0);
    println!(
        "  added cost ours / tower-http: {ours:.0} ns / {theirs:.0} ns = {ratio:.1}x (target <= 2x: {})",
        if ratio <= 2.0 { "met" } else { "NOT met" }
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
    for (id, _, app) in &s.apps {
        let res = s.rt.block_on(app.clone().oneshot(request(&s.key))).unwrap();
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
