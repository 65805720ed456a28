//! Measures the change feed: how long a revoke made by one instance takes to reach another
//! instance's feed, how far behind a fresh feed is, and what an idle feed costs.
//!
//! ```sh
//! cargo run --release -p idunox-keys-sqlx --example feed_propagation
//! ```
//!
//! Two `SqlKeyStore`s with their own pools and feeds stand for two instances (one process, so
//! one clock: no cross-machine clock skew in the figures). Instance A revokes `N` keys one at a
//! time, at random gaps of 0–20 ms (so revokes fall at every phase of the poll or ping cycle);
//! instance B's feed subscriber notes when each arrives. Propagation is measured from the
//! instant A's `revoke` returned (committed) to B's arrival. It runs on a temporary SQLite file
//! (at several poll intervals) and on a throwaway PostgreSQL cluster (`idunox-test-support`).
//!
//! Idle cost: CPU time of this process (from `/proc/self/stat`) over 20 s with 10 idle feeds,
//! minus the same without feeds, per feed; on PostgreSQL also the CPU time of the feeds' server
//! processes. `N` (default 500) from `FEED_BENCH_KEYS`.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use idunox_keys::time::{Duration as TDuration, OffsetDateTime};
use idunox_keys::{ChangeFeed, Credential, FeedSubscriber, KeyFormat, KeyId, KeyStore, TenantId};
use idunox_keys_sqlx::sqlx::{self, AnyPool, Row};
use idunox_keys_sqlx::{Backend, FeedSettings, PoolSettings, SqlKeyStore, connect, migrate};

#[derive(Default)]
struct Arrivals(Mutex<HashMap<KeyId, Instant>>);

impl FeedSubscriber for Arrivals {
    fn changed(&self, ids: &[KeyId]) {
        let now = Instant::now();
        let mut m = self.0.lock().unwrap();
        for id in ids {
            m.entry(*id).or_insert(now);
        }
    }
    fn reset(&self) {}
}

fn credential(tenant: &TenantId, now: OffsetDateTime) -> Credential {
    let key = KeyFormat::new("idx", "test").unwrap().generate().unwrap();
    Credential {
        key_id: key.key_id(),
        tenant_id: tenant.clone(),
        name: Some("bench".into()),
        masked_key: key.masked().to_owned(),
        secret_hash: "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        created_at: now,
        expires_at: now + TDuration::days(365),
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: None,
        scopes: None,
        allowed_ips: None,
    }
}

async fn pool(url: &str, backend: Backend) -> AnyPool {
    let settings = PoolSettings {
        max_connections: 4,
        ..PoolSettings::default()
    };
    let pool = connect(url, &settings).await.unwrap();
    migrate(&pool, backend).await.unwrap();
    pool
}

async fn wait_fresh(feed: &ChangeFeed) {
    while !feed.is_fresh(Duration::from_secs(1)) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Wait until `feed` is confirmed past now.
async fn caught_up(feed: &ChangeFeed) {
    let now = Instant::now();
    while feed.fresh_as_of().is_none_or(|t| t <= now) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

struct Figures {
    p50: Duration,
    p99: Duration,
    max: Duration,
    lag_p50: Duration,
    lag_p99: Duration,
    lag_max: Duration,
}

async fn propagation(url: &str, backend: Backend, settings: FeedSettings, n: usize) -> Figures {
    let a = SqlKeyStore::with_feed(pool(url, backend).await, settings).unwrap();
    let b = SqlKeyStore::with_feed(pool(url, backend).await, settings).unwrap();
    wait_fresh(a.feed().unwrap()).await;
    wait_fresh(b.feed().unwrap()).await;
    let tenant = TenantId::new(format!("ten_bench_{}", rand_u64() % 1_000_000));
    let now = OffsetDateTime::now_utc();
    let keys: Vec<Credential> = (0..n).map(|_| credential(&tenant, now)).collect();
    let mut tx = a.begin().await.unwrap();
    for c in &keys {
        tx.insert(c.clone(), None).await.unwrap();
    }
    tx.commit().await.unwrap();
    caught_up(b.feed().unwrap()).await;
    let arrivals = Arc::new(Arrivals::default());
    b.feed().unwrap().subscribe(arrivals.clone());

    // Freshness lag of B, sampled every millisecond while A revokes.
    let lags = Arc::new(Mutex::new(Vec::new()));
    let sampler = {
        let feed = b.feed().unwrap().clone();
        let lags = lags.clone();
        tokio::spawn(async move {
            loop {
                lags.lock()
                    .unwrap()
                    .push(feed.lag().unwrap_or(Duration::MAX));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let mut committed = Vec::with_capacity(n);
    for c in &keys {
        let gap = Duration::from_micros(rand_u64() % 20_000);
        tokio::time::sleep(gap).await;
        a.revoke(&tenant, &c.key_id, now).await.unwrap();
        committed.push((c.key_id, Instant::now()));
    }
    caught_up(b.feed().unwrap()).await;
    sampler.abort();
    let arrived = arrivals.0.lock().unwrap().clone();
    let mut delays: Vec<Duration> = committed
        .iter()
        .map(|(id, t)| {
            let at = arrived.get(id).expect("every revoke arrives");
            at.saturating_duration_since(*t)
        })
        .collect();
    delays.sort_unstable();
    let mut lags = lags.lock().unwrap().clone();
    lags.sort_unstable();
    Figures {
        p50: percentile(&delays, 0.50),
        p99: percentile(&delays, 0.99),
        max: *delays.last().unwrap(),
        lag_p50: percentile(&lags, 0.50),
        lag_p99: percentile(&lags, 0.99),
        lag_max: *lags.last().unwrap(),
    }
}

/// This process's CPU time so far (user + system).
fn cpu_time() -> Duration {
    pid_cpu_time("self").unwrap_or_default()
}

fn pid_cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10)) // USER_HZ = 100 on Linux
}

const IDLE_FEEDS: u32 = 10;
const IDLE_FOR: Duration = Duration::from_secs(20);

/// CPU per idle feed per second: (this process, the database's processes for it).
async fn idle_cost(url: &str, backend: Backend, settings: FeedSettings) -> (Duration, Duration) {
    let observer = pool(url, backend).await;
    let stores_pools = {
        let mut v = Vec::new();
        for _ in 0..IDLE_FEEDS {
            v.push(pool(url, backend).await);
        }
        v
    };
    // Baseline: the same pools, no feed.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t0 = cpu_time();
    tokio::time::sleep(IDLE_FOR).await;
    let baseline = cpu_time() - t0;

    let stores: Vec<SqlKeyStore> = stores_pools
        .into_iter()
        .map(|p| SqlKeyStore::with_feed(p, settings).unwrap())
        .collect();
    for s in &stores {
        wait_fresh(s.feed().unwrap()).await;
    }
    let server_pids: Vec<String> = if backend == Backend::Postgres {
        sqlx::query(
            "SELECT CAST(pid AS TEXT) AS pid FROM pg_stat_activity \
             WHERE application_name LIKE 'idunox-keys feed%'",
        )
        .fetch_all(&observer)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("pid").unwrap())
        .collect()
    } else {
        Vec::new()
    };
    let server_cpu = || {
        server_pids
            .iter()
            .filter_map(|p| pid_cpu_time(p))
            .sum::<Duration>()
    };
    let (t0, s0) = (cpu_time(), server_cpu());
    tokio::time::sleep(IDLE_FOR).await;
    let (with, server) = (cpu_time() - t0, server_cpu() - s0);
    drop(stores);
    let per = |d: Duration| d / IDLE_FEEDS / IDLE_FOR.as_secs() as u32;
    (per(with.saturating_sub(baseline)), per(server))
}

fn rand_u64() -> u64 {
    u64::from_le_bytes(KeyId::random().unwrap().as_bytes()[..8].try_into().unwrap())
}

fn print_row(label: &str, f: &Figures) {
    println!(
        "| {label} | {} | {} | {} | {} | {} | {} |",
        ms(f.p50),
        ms(f.p99),
        ms(f.max),
        ms(f.lag_p50),
        ms(f.lag_p99),
        ms(f.lag_max)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("FEED_BENCH_KEYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    println!("{n} revokes per row; milliseconds; lag = how far behind B's feed is confirmed\n");
    println!("| backend, setting | propagation p50 | p99 | max | lag p50 | lag p99 | lag max |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");

    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("bench.sqlite").display());
    if std::env::var("FEED_BENCH_WAL").is_ok() {
        let p = pool(&sqlite_url, Backend::Sqlite).await;
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&p)
            .await
            .unwrap();
        println!("(SQLite in WAL mode)");
    }
    for poll in [5, 10, 20, 50] {
        let settings = FeedSettings::default().poll_interval(Duration::from_millis(poll));
        let f = propagation(&sqlite_url, Backend::Sqlite, settings, n).await;
        print_row(&format!("SQLite, poll every {poll} ms"), &f);
    }

    let cluster = idunox_test_support::postgres::OwnedCluster::start();
    let pg_url = cluster.as_ref().map(|c| {
        let admin = c.admin_url().to_owned();
        idunox_test_support::postgres::fresh_database(&admin)
    });
    if let Some(url) = &pg_url {
        for ping in [50, 200] {
            let settings = FeedSettings::default().ping_interval(Duration::from_millis(ping));
            let f = propagation(url, Backend::Postgres, settings, n).await;
            print_row(&format!("PostgreSQL, ping every {ping} ms"), &f);
        }
    }

    println!(
        "\nIdle cost per feed ({IDLE_FEEDS} idle feeds for {} s, minus the same pools without feeds):\n",
        IDLE_FOR.as_secs()
    );
    println!("| backend, setting | this process, CPU ms/s | database server, CPU ms/s |");
    println!("| --- | ---: | ---: |");
    for poll in [20, 50] {
        let settings = FeedSettings::default().poll_interval(Duration::from_millis(poll));
        let (own, _) = idle_cost(&sqlite_url, Backend::Sqlite, settings).await;
        println!(
            "| SQLite, poll every {poll} ms | {:.2} | (in process) |",
            own.as_secs_f64() * 1000.0
        );
    }
    if let Some(url) = &pg_url {
        let (own, server) = idle_cost(url, Backend::Postgres, FeedSettings::default()).await;
        println!(
            "| PostgreSQL, ping every 200 ms | {:.2} | {:.2} |",
            own.as_secs_f64() * 1000.0,
            server.as_secs_f64() * 1000.0
        );
    }
    drop(cluster);
}
