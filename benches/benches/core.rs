//! Criterion benchmarks of the core crate `idunox-keys`. Every group measures its baseline in
//! the same run; after the groups, a table gives the median of each operation, of its baseline,
//! and their ratio (own timing loop: alternating batches, median of the batch means).
//!
//! ```text
//! cargo bench -p idunox-benches --bench core -- --quick
//! ```
//!
//! `IDUNOX_BENCH_MAX_KEYS` (default 1 000 000) sets the larger store of the warm-verify group;
//! `IDUNOX_BENCH_SUMMARY=0` skips the table (as do `--test` and `--profile-time`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use idunox_benches::{WarmFixture, block_ready, fast_hasher, format, human, median_pair};
use idunox_keys::time::{Duration as TimeDuration, OffsetDateTime};
use idunox_keys::{
    Check, Credential, HashParams, KeyFormat, KeyId, KeyStore, MemoryStore, SecretHasher, Status,
    TenantId, Verifier,
};
use sha2::{Digest, Sha256};

/// The example key of `docs/key-format.md`.
const DOCUMENTED_KEY: &str = "idx_test_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM";
/// Keys verified once before the warm-verify group, cycled through by it.
const WARM_SET: usize = 1024;
const BATCHES: usize = 9;

/// A key stored with the default (production) argon2 parameters, for the cold path.
struct Cold {
    rt: tokio::runtime::Runtime,
    verifier: Verifier<Arc<MemoryStore>>,
    key: String,
    secret: Vec<u8>,
    phc: String,
    hasher: SecretHasher,
}

fn cold_fixture() -> Cold {
    let format = format();
    let hasher = SecretHasher::new(HashParams::DEFAULT).expect("valid params");
    let key = format.generate().expect("OS randomness");
    let phc = hasher.hash(key.secret_bytes()).expect("hash");
    let store = Arc::new(MemoryStore::new());
    let now = OffsetDateTime::now_utc();
    block_ready(store.insert(credential(key.key_id(), &format, phc.clone(), now), None))
        .expect("fresh id");
    // Cache off: every verification is cold (argon2 on a worker of the verifier's budget, as in
    // a server).
    let verifier = Verifier::builder(store, format).cache_capacity(0).build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    Cold {
        rt,
        verifier,
        key: key.expose_secret().to_owned(),
        secret: key.secret_bytes().to_vec(),
        phc,
        hasher,
    }
}

fn credential(
    key_id: KeyId,
    format: &KeyFormat,
    secret_hash: String,
    now: OffsetDateTime,
) -> Credential {
    Credential {
        key_id,
        tenant_id: TenantId::new("acme"),
        name: Some("billing-sync".into()),
        masked_key: format.mask(&key_id),
        secret_hash,
        created_at: now,
        expires_at: now + TimeDuration::days(365),
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: None,
        scopes: None,
        allowed_ips: None,
    }
}

fn cold_verify(cold: &Cold) {
    let r = cold.rt.block_on(cold.verifier.verify_str(&cold.key));
    assert!(r.is_ok());
}

fn argon2_verify(cold: &Cold) {
    assert_eq!(cold.hasher.verify(&cold.secret, &cold.phc), Ok(true));
}

/// The warm path as a middleware calls it: `Verifier::check`, answered at once.
fn warm_verify(fx: &WarmFixture, i: usize) {
    let key = &fx.keys[i % fx.keys.len()];
    match fx.verifier.check(Some(key.as_bytes())) {
        Check::Done(Ok(k)) => {
            black_box(k);
        }
        other => panic!("a warm key was not answered at once: {other:?}"),
    }
}

fn floor(fx: &WarmFixture, i: usize) {
    let (id, secret) = &fx.parts[i % fx.parts.len()];
    assert!(fx.floor.check(black_box(id), black_box(secret)));
}

/// `1k`, `1M`, or the number itself.
fn short(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo test --benches` runs each bench once: keep the fixtures small then.
    let test_mode = args.iter().any(|a| a == "--test" || a == "--list");
    let big: usize = std::env::var("IDUNOX_BENCH_MAX_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let sizes = if test_mode {
        [1_000, 2_000]
    } else {
        [1_000, big]
    };

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();

    let format = format();
    let fast = fast_hasher();
    let default_hasher = SecretHasher::new(HashParams::DEFAULT).expect("valid params");
    let secret = *b"6xuFZu1TeOffxgYTozBujBIzcR09E8aF";
    let body = &DOCUMENTED_KEY.as_bytes()[..54];

    // generate: a whole key (id and secret from the OS CSPRNG, checksum, mask) vs the OS RNG alone.
    let mut g = c.benchmark_group("generate");
    g.bench_function("KeyFormat::generate", |b| {
        b.iter(|| format.generate().expect("OS randomness"))
    });
    g.bench_function("baseline: getrandom 32 bytes", |b| {
        b.iter(|| {
            let mut buf = [0u8; 32];
            getrandom::fill(&mut buf).expect("OS randomness");
            buf
        })
    });
    g.finish();

    // parse: shape, labels, alphabet and checksum vs the CRC32 it has to compute anyway.
    let mut g = c.benchmark_group("parse");
    g.bench_function("KeyFormat::parse", |b| {
        b.iter(|| format.parse(black_box(DOCUMENTED_KEY)).expect("valid"))
    });
    g.bench_function("baseline: crc32 of 54 bytes", |b| {
        b.iter(|| crc32fast::hash(black_box(body)))
    });
    g.finish();

    // argon2 hash: production parameters vs the test parameters vs a plain SHA-256.
    let mut g = c.benchmark_group("argon2_hash");
    g.sample_size(10);
    g.bench_function("default m=19456 t=2 p=1", |b| {
        b.iter(|| default_hasher.hash(black_box(&secret)).expect("hash"))
    });
    g.bench_function("baseline: INSECURE_FAST m=1024 t=1", |b| {
        b.iter(|| fast.hash(black_box(&secret)).expect("hash"))
    });
    g.bench_function("baseline: SHA-256 of 32 bytes", |b| {
        b.iter(|| Sha256::digest(black_box(&secret)))
    });
    g.finish();

    // cold verify: the whole pipeline with argon2 on a budget worker vs argon2 verify alone.
    let cold = cold_fixture();
    let mut g = c.benchmark_group("cold_verify");
    g.sample_size(10);
    g.bench_function("Verifier::verify, cache off, budget worker", |b| {
        b.iter(|| cold_verify(&cold))
    });
    g.bench_function("baseline: argon2 verify alone", |b| {
        b.iter(|| argon2_verify(&cold))
    });
    g.finish();

    // warm verify through the memory store at two sizes vs the floor of the same size.
    let fixtures: Vec<(usize, WarmFixture)> = sizes
        .iter()
        .map(|&n| {
            let t = std::time::Instant::now();
            let fx = idunox_benches::warm_fixture(n, WARM_SET.min(n));
            eprintln!(
                "warm_verify: built a store of {} keys ({} warm) in {:.1?}",
                fx.store.len(),
                fx.keys.len(),
                t.elapsed()
            );
            (n, fx)
        })
        .collect();
    let mut g = c.benchmark_group("warm_verify");
    for (n, fx) in &fixtures {
        g.bench_with_input(
            BenchmarkId::new("Verifier::check (memory store)", n),
            fx,
            |b, fx| {
                let mut i = 0usize;
                b.iter(|| {
                    i = i.wrapping_add(1);
                    warm_verify(fx, i);
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("floor: HashMap lookup + keyed SHA-256 + ct_eq", n),
            fx,
            |b, fx| {
                let mut i = 0usize;
                b.iter(|| {
                    i = i.wrapping_add(1);
                    floor(fx, i);
                })
            },
        );
    }
    g.finish();

    // status: the rules at an instant vs reading one field.
    let now = OffsetDateTime::now_utc();
    let cred = credential(
        KeyId::parse("XFE89T5jtdJh").expect("valid"),
        &format,
        String::new(),
        now - TimeDuration::days(300),
    );
    let window = TimeDuration::days(30);
    let mut g = c.benchmark_group("status");
    g.bench_function("Status::of", |b| {
        b.iter(|| Status::of(black_box(&cred), black_box(now), window))
    });
    g.bench_function("baseline: read expires_at", |b| {
        b.iter(|| black_box(&cred).expires_at)
    });
    g.finish();

    c.final_summary();
    // No table when only running (tests, `--profile-time` under a profiler) or when asked not to.
    let profiling = args.iter().any(|a| a.starts_with("--profile-time"));
    let skip = std::env::var("IDUNOX_BENCH_SUMMARY").is_ok_and(|v| v == "0");
    if test_mode || profiling || skip {
        return;
    }

    // The ratio table.
    let mut rows: Vec<(String, String, f64, String, f64)> = Vec::new();
    let mut row = |group: &str, op: &str, base: &str, (a, b): (f64, f64)| {
        rows.push((group.into(), op.into(), a, base.into(), b));
    };
    row(
        "generate",
        "KeyFormat::generate",
        "getrandom 32 B",
        median_pair(
            BATCHES,
            |_| {
                black_box(format.generate().expect("OS randomness"));
            },
            |_| {
                let mut buf = [0u8; 32];
                getrandom::fill(&mut buf).expect("OS randomness");
                black_box(buf);
            },
        ),
    );
    row(
        "parse",
        "KeyFormat::parse",
        "crc32 of 54 B",
        median_pair(
            BATCHES,
            |_| {
                black_box(format.parse(black_box(DOCUMENTED_KEY)).expect("valid"));
            },
            |_| {
                black_box(crc32fast::hash(black_box(body)));
            },
        ),
    );
    let (argon_default, argon_fast) = median_pair(
        BATCHES,
        |_| {
            black_box(default_hasher.hash(black_box(&secret)).expect("hash"));
        },
        |_| {
            black_box(fast.hash(black_box(&secret)).expect("hash"));
        },
    );
    row(
        "argon2 hash",
        "default m=19456 t=2",
        "INSECURE_FAST m=1024 t=1",
        (argon_default, argon_fast),
    );
    let (_, sha) = median_pair(
        3,
        |_| {},
        |_| {
            black_box(Sha256::digest(black_box(&secret)));
        },
    );
    row(
        "argon2 hash",
        "default m=19456 t=2",
        "SHA-256 of 32 B",
        (argon_default, sha),
    );
    row(
        "cold verify",
        "Verifier (cache off, budget)",
        "argon2 verify alone",
        median_pair(BATCHES, |_| cold_verify(&cold), |_| argon2_verify(&cold)),
    );
    let mut warm_medians = Vec::new();
    for (n, fx) in &fixtures {
        let (v, f) = median_pair(BATCHES, |i| warm_verify(fx, i), |i| floor(fx, i));
        warm_medians.push((*n, v, f));
        row(
            &format!("warm verify, {} keys", short(*n)),
            "Verifier::check",
            "floor: lookup+keyed SHA-256+ct_eq",
            (v, f),
        );
    }
    row(
        "status",
        "Status::of",
        "read expires_at",
        median_pair(
            BATCHES,
            |_| {
                black_box(Status::of(black_box(&cred), black_box(now), window));
            },
            |_| {
                black_box(black_box(&cred).expires_at);
            },
        ),
    );

    println!();
    println!("idunox-keys core: medians of {BATCHES} alternating batches (std::time::Instant)");
    println!(
        "| {:<22} | {:<28} | {:>10} | {:<26} | {:>10} | {:>9} |",
        "group", "operation", "median", "baseline", "median", "ratio"
    );
    println!(
        "| {:-<22} | {:-<28} | {:->10} | {:-<26} | {:->10} | {:->9} |",
        "", "", "", "", "", ""
    );
    for (group, op, a, base, b) in &rows {
        let ratio = a / b;
        let ratio = if ratio >= 100.0 {
            format!("{ratio:.0}x")
        } else {
            format!("{ratio:.1}x")
        };
        println!(
            "| {group:<22} | {op:<28} | {:>10} | {base:<26} | {:>10} | {ratio:>9} |",
            human(*a),
            human(*b),
        );
    }
    if let [(n0, v0, f0), (n1, v1, f1)] = warm_medians[..] {
        println!();
        println!(
            "warm verify, {} → {} keys: verifier {:.2}x, floor {:.2}x (1.00x = flat); \
             target: warm verify ≤ 3x floor (measured {:.1}x and {:.1}x)",
            short(n0),
            short(n1),
            v1 / v0,
            f1 / f0,
            v0 / f0,
            v1 / f1
        );
    }
}
