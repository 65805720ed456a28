//! Shared helpers for the idunox benchmarks: fixtures (a memory store of any size with a warm
//! set of verified keys, and the warm-verification floor), a poll-once executor for futures that
//! are ready at once, an honest median timer for the ratio tables the benches print, and the
//! process's peak resident memory.

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use idunox_keys::key::SECRET_LEN;
use idunox_keys::time::OffsetDateTime;
use idunox_keys::{
    Credential, HashParams, KeyFormat, KeyId, KeyStore, MemoryStore, SecretHasher, TenantId,
    Verifier,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Drive a future that completes without waiting (a [`MemoryStore`] and a warm verifier never
/// wait) on the calling thread: no runtime, so none of its cost is measured.
///
/// # Panics
/// When the future is not ready at its first poll.
pub fn block_ready<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("block_ready: the future was not ready at its first poll"),
    }
}

/// The key format every bench uses: `idx_test_…`.
///
/// # Panics
/// Never (the labels are valid).
pub fn format() -> KeyFormat {
    KeyFormat::new("idx", "test").expect("valid labels")
}

/// A hasher with the cheap test parameters (fixtures only; the argon2 benches use the defaults).
///
/// # Panics
/// Never (the parameters are valid).
pub fn fast_hasher() -> SecretHasher {
    SecretHasher::new(HashParams::INSECURE_FAST).expect("valid params")
}

/// The floor of a warm verification: one `HashMap<KeyId, _>` lookup, the same keyed digest the
/// core's cache computes (SHA-256 over a random 64-byte key block, pre-absorbed and cloned, then
/// `key_id ‖ secret`), and one `subtle` comparison of 32 bytes. Nothing else. The map is a std
/// `HashMap` with its default hasher, as the issue defines the floor.
pub struct Floor {
    map: HashMap<KeyId, [u8; 32]>,
    keyed: Sha256,
}

impl Floor {
    fn digest(&self, key_id: &KeyId, secret: &[u8; SECRET_LEN]) -> [u8; 32] {
        let mut h = self.keyed.clone();
        h.update(key_id.as_bytes());
        h.update(secret);
        h.finalize().into()
    }

    /// Whether `secret` is the one remembered for `key_id`.
    pub fn check(&self, key_id: &KeyId, secret: &[u8; SECRET_LEN]) -> bool {
        match self.map.get(key_id) {
            Some(stored) => bool::from(stored.ct_eq(&self.digest(key_id, secret))),
            None => false,
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A store of `total` credentials in which `warm` keys have been verified once (so they are in
/// the verifier's cache), with the matching [`Floor`] of the same size.
pub struct WarmFixture {
    /// The store, `total` credentials.
    pub store: Arc<MemoryStore>,
    /// A verifier over it (system clock, default settings) with the warm set in its cache.
    pub verifier: Verifier<Arc<MemoryStore>>,
    /// The warm set's plaintext keys.
    pub keys: Vec<String>,
    /// The warm set, parsed: key id and secret (the floor's inputs).
    pub parts: Vec<(KeyId, [u8; SECRET_LEN])>,
    /// The floor over `total` entries.
    pub floor: Floor,
}

/// A deterministic, well-spread key id for filler entry `i` (never one `generate` draws twice).
fn filler_id(i: u64) -> KeyId {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // A bijective mix of the index, so ids look random to the hasher and to the eye.
    let mut n = u128::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D);
    let mut id = [0u8; 12];
    for slot in &mut id {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    KeyId::parse(std::str::from_utf8(&id).expect("ASCII")).expect("base62")
}

fn record(
    key_id: KeyId,
    tenant: &TenantId,
    format: &KeyFormat,
    secret_hash: String,
    now: OffsetDateTime,
) -> Credential {
    Credential {
        key_id,
        tenant_id: tenant.clone(),
        name: None,
        masked_key: format.mask(&key_id),
        secret_hash,
        created_at: now,
        expires_at: now + idunox_keys::time::Duration::days(365),
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: None,
        scopes: None,
        allowed_ips: None,
    }
}

/// Build a [`WarmFixture`]: `warm` real keys (argon2 with the cheap parameters, verified once)
/// and `total - warm` filler credentials that share one precomputed hash string, inserted
/// directly (no argon2 per filler entry, so a million entries take seconds).
///
/// # Panics
/// When `warm > total`, or a warm key fails to verify.
pub fn warm_fixture(total: usize, warm: usize) -> WarmFixture {
    assert!(warm <= total);
    let format = format();
    let hasher = fast_hasher();
    let store = Arc::new(MemoryStore::new());
    let tenant = TenantId::new("acme");
    let now = OffsetDateTime::now_utc();
    let filler_hash = hasher
        .hash(b"filler secret, never presented")
        .expect("hash");
    let mut mac_key = [0u8; 64];
    getrandom::fill(&mut mac_key).expect("OS randomness");
    let mut keyed = Sha256::new();
    keyed.update(mac_key);
    let mut floor = Floor {
        map: HashMap::with_capacity(total),
        keyed,
    };

    let mut keys = Vec::with_capacity(warm);
    let mut parts = Vec::with_capacity(warm);
    for _ in 0..warm {
        let key = format.generate().expect("OS randomness");
        let phc = hasher.hash(key.secret_bytes()).expect("hash");
        block_ready(store.insert(record(key.key_id(), &tenant, &format, phc, now), None))
            .expect("fresh id");
        let parsed = format.parse(key.expose_secret()).expect("valid");
        let secret = *parsed.secret();
        let digest = floor.digest(&key.key_id(), &secret);
        floor.map.insert(key.key_id(), digest);
        parts.push((key.key_id(), secret));
        keys.push(key.expose_secret().to_owned());
    }
    let mut i = 0u64;
    while store.len() < total {
        let id = filler_id(i);
        i += 1;
        let c = record(id, &tenant, &format, filler_hash.clone(), now);
        if block_ready(store.insert(c, None)).is_ok() {
            floor.map.insert(id, [0u8; 32]);
        }
    }

    let verifier = Verifier::new(store.clone(), format);
    // Cold verifications run on the argon2 budget's threads: wait for them on a small runtime.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for key in &keys {
        rt.block_on(verifier.verify_str(key))
            .expect("a warm-set key verifies");
    }
    assert_eq!(verifier.cached_keys(), warm);
    WarmFixture {
        store,
        verifier,
        keys,
        parts,
        floor,
    }
}

/// Median nanoseconds per call of `op` and of `base`, timed in alternating batches (so both see
/// the same machine load) with `std::time::Instant`: each batch runs long enough to dwarf the
/// timer, `batches` batches each, median of the per-call means.
pub fn median_pair(
    batches: usize,
    mut op: impl FnMut(usize),
    mut base: impl FnMut(usize),
) -> (f64, f64) {
    let iters_op = calibrate(&mut op);
    let iters_base = calibrate(&mut base);
    let mut a = Vec::with_capacity(batches);
    let mut b = Vec::with_capacity(batches);
    for _ in 0..batches {
        a.push(time_batch(&mut op, iters_op));
        b.push(time_batch(&mut base, iters_base));
    }
    (median(&mut a), median(&mut b))
}

/// How many calls make a batch of about 20 ms (at least 2).
fn calibrate(f: &mut impl FnMut(usize)) -> usize {
    let target = Duration::from_millis(20);
    let mut n = 1usize;
    loop {
        let t = Instant::now();
        for i in 0..n {
            f(black_box(i));
        }
        let took = t.elapsed();
        if took >= target / 4 || n >= 1 << 26 {
            let per = took.as_secs_f64() / n as f64;
            return ((target.as_secs_f64() / per.max(1e-12)) as usize).clamp(2, 1 << 28);
        }
        n *= 4;
    }
}

fn time_batch(f: &mut impl FnMut(usize), n: usize) -> f64 {
    let t = Instant::now();
    for i in 0..n {
        f(black_box(i));
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Format nanoseconds for the summary table.
pub fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// The process's peak resident set size so far, in KiB (`VmHWM` of `/proc/self/status`; `None`
/// where there is no such file).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The process's resident set size now, in KiB (`VmRSS`).
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
