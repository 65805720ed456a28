//! The argon2 budget (`idunox_keys::HashBudget`): what going through its workers costs, what a
//! refusal costs, and what a burst costs in memory — each against a baseline in the same run.
//!
//! 1. `pool overhead`: an argon2 verification through the budget (admission, queue, a worker's
//!    reused buffer, the answer's oneshot, the waiting thread woken) against the same
//!    verification called directly on this thread, at the minimum cost (m = 8 KiB, t = 1: the
//!    difference is the pool) and at the production cost (m = 19 MiB, t = 2);
//! 2. `refused admission`: a hash asked of a full budget (its one slot taken by a long run),
//!    answered `Busy` at once, against the floor of any bounded admission: reading the counter
//!    and finding it at its bound;
//! 3. `burst memory`: peak resident memory while 200 hashes at the production cost are asked
//!    of the budget at once, against 16 threads hashing directly (what an unbounded pool would
//!    do with 16 of them) — each in a fresh process (this binary, run again), so that neither
//!    sees the other's high-water mark.
//!
//! `cargo bench -p idunox-benches --bench budget -- --quick`

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::Criterion;
use idunox_benches::{block_ready, human, median_pair, peak_rss_kib, rss_kib};
use idunox_keys::{BudgetError, BudgetSettings, HashBudget, HashParams, Priority, SecretHasher};

const BATCHES: usize = 9;
const SECRET: &[u8; 32] = b"6xuFZu1TeOffxgYTozBujBIzcR09E8aF";
const TINY: HashParams = HashParams {
    m_cost: 8,
    t_cost: 1,
    p_cost: 1,
};

fn budget(params: HashParams, workers: usize, capacity: usize) -> HashBudget {
    HashBudget::new(
        params,
        BudgetSettings {
            workers,
            capacity,
            reserved: 0,
        },
    )
    .expect("valid params")
}

struct Pair {
    rt: tokio::runtime::Runtime,
    budget: HashBudget,
    hasher: SecretHasher,
    phc: String,
}

fn pair(params: HashParams) -> Pair {
    let hasher = SecretHasher::new(params).expect("valid params");
    let phc = hasher.hash(SECRET).expect("hash");
    Pair {
        rt: tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime"),
        budget: budget(params, 1, 4),
        hasher,
        phc,
    }
}

fn through_pool(p: &Pair) {
    let ok =
        p.rt.block_on(p.budget.verify(Priority::Normal, SECRET, &p.phc));
    assert_eq!(ok, Ok(true));
}

fn direct(p: &Pair) {
    assert_eq!(p.hasher.verify(SECRET, &p.phc), Ok(true));
}

/// A budget whose one slot is held by a long run while `f` runs; `None` if the run ended first.
fn while_full<R>(f: impl FnOnce(&HashBudget) -> R) -> Option<R> {
    // 64 MiB and 16 passes: about a second of argon2 on this machine.
    let slow = SecretHasher::new(HashParams {
        m_cost: 64 * 1024,
        t_cost: 16,
        p_cost: 1,
    })
    .expect("valid params")
    .hash(b"slow")
    .expect("hash");
    let b = budget(TINY, 1, 1);
    let holder = {
        let b = b.clone();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(b.verify(Priority::Normal, b"slow", &slow))
        })
    };
    while b.in_flight() == 0 {
        std::thread::yield_now();
    }
    let r = f(&b);
    let held = b.in_flight() == 1 && !holder.is_finished();
    let _ = holder.join();
    held.then_some(r)
}

fn refused(b: &HashBudget) {
    assert!(matches!(
        block_ready(b.hash(Priority::Normal, black_box(SECRET))),
        Err(BudgetError::Busy { .. })
    ));
}

/// The floor of an admission check: a counter found at its bound (`fetch_update` whose closure
/// declines does a single atomic load).
fn failed_cas(counter: &AtomicUsize) {
    let r = black_box(counter).fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < 1).then_some(n + 1)
    });
    assert!(r.is_err());
}

/// In a child process: run one burst and print `peak-growth-kib <n> <hashed> <refused>`.
fn burst_child(kind: &str) {
    let before = peak_rss_kib().unwrap_or(0).max(rss_kib().unwrap_or(0));
    let (mut ok, mut busy) = (0u32, 0u32);
    match kind {
        "budget" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .expect("runtime");
            let b = HashBudget::new(HashParams::DEFAULT, BudgetSettings::default())
                .expect("valid params");
            let results = rt.block_on(async {
                let tasks: Vec<_> = (0..200)
                    .map(|_| {
                        let b = b.clone();
                        tokio::spawn(async move { b.hash(Priority::Normal, SECRET).await })
                    })
                    .collect();
                let mut out = Vec::new();
                for t in tasks {
                    out.push(t.await.expect("task"));
                }
                out
            });
            for r in results {
                match r {
                    Ok(_) => ok += 1,
                    Err(BudgetError::Busy { .. }) => busy += 1,
                    Err(e) => panic!("{e}"),
                }
            }
        }
        _ => {
            let hasher = Arc::new(SecretHasher::new(HashParams::DEFAULT).expect("valid params"));
            let threads: Vec<_> = (0..16)
                .map(|_| {
                    let h = hasher.clone();
                    std::thread::spawn(move || h.hash(SECRET).expect("hash"))
                })
                .collect();
            for t in threads {
                black_box(t.join().expect("thread"));
                ok += 1;
            }
        }
    }
    let peak = peak_rss_kib().unwrap_or(0);
    println!(
        "peak-growth-kib {} {ok} {busy}",
        peak.saturating_sub(before)
    );
}

/// Run this binary again for one burst: (peak growth in MiB, hashed, refused).
fn burst(kind: &str) -> Option<(f64, u32, u32)> {
    let out = std::process::Command::new(std::env::current_exe().ok()?)
        .args(["--burst-child", kind])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("peak-growth-kib "))?;
    let mut f = line.split_whitespace().skip(1);
    let kib: f64 = f.next()?.parse().ok()?;
    Some((
        kib / 1024.0,
        f.next()?.parse().ok()?,
        f.next()?.parse().ok()?,
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--burst-child") {
        burst_child(args.get(i + 1).map_or("budget", String::as_str));
        return;
    }
    let test_mode = args.iter().any(|a| a == "--test" || a == "--list");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();

    let tiny = pair(TINY);
    let prod = pair(HashParams::DEFAULT);
    let mut g = c.benchmark_group("budget_pool");
    g.bench_function("verify through the pool, m=8 KiB", |b| {
        b.iter(|| through_pool(&tiny))
    });
    g.bench_function("baseline: verify directly, m=8 KiB", |b| {
        b.iter(|| direct(&tiny))
    });
    g.sample_size(10);
    g.bench_function("verify through the pool, default", |b| {
        b.iter(|| through_pool(&prod))
    });
    g.bench_function("baseline: verify directly, default", |b| {
        b.iter(|| direct(&prod))
    });
    g.finish();
    c.final_summary();

    let profiling = args.iter().any(|a| a.starts_with("--profile-time"));
    if test_mode || profiling {
        return;
    }

    let mut rows: Vec<(String, String, f64, String, f64)> = Vec::new();
    let (a, b) = median_pair(BATCHES, |_| through_pool(&tiny), |_| direct(&tiny));
    rows.push((
        "pool overhead".into(),
        "verify via budget, m=8 KiB".into(),
        a,
        "directly, m=8 KiB".into(),
        b,
    ));
    let (a, b) = median_pair(BATCHES, |_| through_pool(&prod), |_| direct(&prod));
    rows.push((
        "pool overhead".into(),
        "verify via budget, default".into(),
        a,
        "directly, default".into(),
        b,
    ));
    // A refusal, measured while the budget's only slot is held (retried if the holder ended
    // during the measurement).
    let mut admission = None;
    for _ in 0..5 {
        let full = AtomicUsize::new(1);
        admission = while_full(|b| median_pair(3, |_| refused(b), |_| failed_cas(&full)));
        if admission.is_some() {
            break;
        }
    }
    if let Some((a, b)) = admission {
        rows.push((
            "refused admission".into(),
            "hash asked of a full budget".into(),
            a,
            "the bound check alone".into(),
            b,
        ));
    }

    // Memory: 200 hashes at once at the production cost through a default budget, against 16
    // threads hashing directly; each in a fresh process.
    let settings = BudgetSettings::default();
    let budget_burst = burst("budget");
    let direct_burst = burst("direct");

    println!();
    println!("idunox-keys budget: medians of alternating batches (std::time::Instant)");
    println!(
        "| {:<18} | {:<28} | {:>10} | {:<26} | {:>10} | {:>9} |",
        "group", "operation", "median", "baseline", "median", "ratio"
    );
    println!(
        "| {:-<18} | {:-<28} | {:->10} | {:-<26} | {:->10} | {:->9} |",
        "", "", "", "", "", ""
    );
    for (group, op, a, base, b) in &rows {
        println!(
            "| {group:<18} | {op:<28} | {:>10} | {base:<26} | {:>10} | {:>8.2}x |",
            human(*a),
            human(*b),
            a / b,
        );
    }
    if let (Some((through_budget, ok, busy)), Some((direct, threads, _))) =
        (budget_burst, direct_burst)
    {
        println!();
        println!(
            "burst memory: 200 hashes at once (m=19 MiB) through a default budget ({} workers, \
             capacity {}): {ok} hashed, {busy} refused at once, peak RSS +{through_budget:.0} MiB \
             (bound: {} workers x 19 MiB = {} MiB); {threads} threads hashing directly: peak RSS \
             +{direct:.0} MiB",
            settings.workers,
            settings.capacity,
            settings.workers,
            settings.workers * 19
        );
    }
}
