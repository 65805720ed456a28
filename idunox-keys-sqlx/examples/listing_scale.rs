//! Measures `SqlKeyStore::page` at 1 000 000 stored keys, with and without the listing indexes
//! of migrations `20261201000004_listing` and `20261201000005_ends`.
//!
//! ```sh
//! cargo run --release -p idunox-keys-sqlx --example listing_scale
//! ```
//!
//! The keys: 900 tenants of 1 000 keys and one tenant of 100 000 (revoked and expired keys pile
//! up), created in time order over two years and valid one (so half have expired), a tenth
//! revoked, a twentieth rotated.
//! Each query runs 15 times; the table shows the median in milliseconds, on a temporary SQLite
//! file and on a throwaway PostgreSQL cluster (`idunox-test-support`). `LISTING_KEYS` changes the
//! total (default 1 000 000).
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use idunox_keys::time::OffsetDateTime;
use idunox_keys::{Status, TenantId};
use idunox_keys_sqlx::sqlx::{self, AnyPool};
use idunox_keys_sqlx::{Backend, ListQuery, PoolSettings, Sort, SqlKeyStore, connect, migrate};

/// 2025-12-01: the data spans the two years before `NOW`.
const BASE: i64 = 1_764_547_200;
const NOW: i64 = BASE + 2 * 365 * 86_400;

fn load_sql(backend: Backend, total: u64) -> String {
    let span = 2 * 365 * 86_400;
    // Columns from the row number i. Keys are created in time order (as a store inserts them),
    // evenly over the two years; valid a year, so the older half has expired.
    let exprs = |i: &str, text: &str, concat: &dyn Fn(&[&str]) -> String| {
        let key_id = concat(&["'k'", text]);
        let created = format!("({BASE} + {i} * {span} / {total})");
        format!(
            "{key_id}, \
             CASE WHEN {i} % 10 = 3 THEN 'ten_big' ELSE {t} END, \
             CASE WHEN {i} % 5 = 0 THEN NULL ELSE {name} END, \
             {masked}, 'h', {created}, {created} + 31536000, \
             CASE WHEN {i} % 20 = 1 THEN {created} + 86400 * ({i} % 3) END, \
             CASE WHEN {i} % 10 = 0 THEN {created} + 3600 END, \
             CASE WHEN {i} % 20 = 1 THEN 'k00000000000' END",
            t = concat(&["'ten_'", &format!("({i} % 900)")]),
            name = concat(&["'key '", &format!("({i} % 7919)")]),
            masked = concat(&["'idx_test_'", &key_id, "'_••••'"]),
        )
    };
    let cols = "key_id, tenant_id, name, masked_key, secret_hash, created_at, expires_at, \
                grace_expires_at, revoked_at, replaced_by";
    match backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total}) \
             INSERT INTO credentials ({cols}) SELECT {} FROM n",
            exprs("i", "printf('%011d', i)", &|parts| parts.join(" || "))
        ),
        _ => format!(
            "INSERT INTO credentials ({cols}) SELECT {} FROM generate_series(1, {total}) AS n(i)",
            exprs(
                "CAST(i AS BIGINT)",
                "lpad(CAST(i AS TEXT), 11, '0')",
                &|parts| format!("({})", parts.join(" || "))
            )
        ),
    }
}

async fn load(pool: &AnyPool, backend: Backend, total: u64) {
    let t0 = Instant::now();
    let mut conn = pool.acquire().await.unwrap();
    if backend == Backend::Postgres {
        // Bulk load without the feed's per-row NOTIFY (nobody listens here).
        sqlx::query("SET session_replication_role = replica")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    sqlx::query(&load_sql(backend, total))
        .execute(&mut *conn)
        .await
        .unwrap();
    if backend == Backend::Postgres {
        sqlx::query("SET session_replication_role = origin")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    sqlx::query("ANALYZE").execute(&mut *conn).await.unwrap();
    eprintln!("loaded {total} keys in {:.1} s", t0.elapsed().as_secs_f64());
}

fn queries() -> Vec<(&'static str, ListQuery)> {
    let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    let tenant = |t: &str| ListQuery::for_tenant(TenantId::new(t), now);
    let all = || ListQuery::across_tenants(now);
    vec![
        (
            "tenant of 1 000, first page of 50, newest first, + counts",
            tenant("ten_17").limit(50).unwrap(),
        ),
        (
            "tenant of 1 000, soonest to expire first",
            tenant("ten_17").sort(Sort::Expires).limit(50).unwrap(),
        ),
        (
            "tenant of 1 000, status=active,expiring",
            tenant("ten_17")
                .statuses([Status::Active, Status::Expiring])
                .limit(50)
                .unwrap(),
        ),
        (
            "tenant of 1 000, q=\"key 12\"",
            tenant("ten_17").search("key 12").limit(50).unwrap(),
        ),
        (
            "tenant of 100 000, first page of 50, + counts",
            tenant("ten_big").limit(50).unwrap(),
        ),
        (
            "tenant of 100 000, status=grace",
            tenant("ten_big")
                .statuses([Status::Grace])
                .limit(50)
                .unwrap(),
        ),
        (
            "tenant of 100 000, page of 1 000, soonest to expire first",
            tenant("ten_big").sort(Sort::Expires),
        ),
        ("all tenants, first page of 50", all().limit(50).unwrap()),
        (
            "all tenants, soonest to expire first",
            all().sort(Sort::Expires).limit(50).unwrap(),
        ),
        (
            "all tenants, status=expiring",
            all().statuses([Status::Expiring]).limit(50).unwrap(),
        ),
        (
            "all tenants, q=one key id (every row read)",
            all().search("k00000123457").limit(50).unwrap(),
        ),
        (
            "all tenants, q=\"key 12\"",
            all().search("key 12").limit(50).unwrap(),
        ),
    ]
}

/// Median of 15 runs of `q` (after one warm-up), and of the same query after a cursor taken
/// 20 pages in.
async fn measure(store: &SqlKeyStore, q: &ListQuery) -> Duration {
    let _ = store.page(q).await.unwrap();
    let mut times = Vec::new();
    for _ in 0..15 {
        let t0 = Instant::now();
        let page = store.page(q).await.unwrap();
        times.push(t0.elapsed());
        std::hint::black_box(page);
    }
    times.sort_unstable();
    times[times.len() / 2]
}

async fn deep_page(store: &SqlKeyStore, q: &ListQuery) -> Duration {
    let mut cursor = None;
    for _ in 0..20 {
        let page = store.page(&q.clone().after(cursor.clone())).await.unwrap();
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    measure(store, &q.clone().after(cursor)).await
}

async fn run(store: &SqlKeyStore) -> Vec<Duration> {
    let mut out = Vec::new();
    for (_, q) in queries() {
        out.push(measure(store, &q).await);
    }
    let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    out.push(deep_page(store, &ListQuery::across_tenants(now).limit(50).unwrap()).await);
    out
}

async fn drop_listing_indexes(pool: &AnyPool) {
    for ix in [
        "credentials_tenant_expires",
        "credentials_created",
        "credentials_tenant_ends",
        "credentials_ends",
    ] {
        sqlx::query(&format!("DROP INDEX {ix}"))
            .execute(pool)
            .await
            .unwrap();
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.0}")
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: u64 = std::env::var("LISTING_KEYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let settings = PoolSettings {
        max_connections: 2,
        connect_timeout: Duration::from_secs(60),
        ..PoolSettings::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut targets = vec![(
        "SQLite",
        Backend::Sqlite,
        format!("sqlite://{}", dir.path().join("scale.sqlite").display()),
    )];
    let cluster = idunox_test_support::postgres::OwnedCluster::start();
    if let Some(c) = &cluster {
        targets.push((
            "PostgreSQL",
            Backend::Postgres,
            idunox_test_support::postgres::fresh_database(c.admin_url()),
        ));
    }
    let mut columns = Vec::new();
    for (name, backend, url) in &targets {
        let pool = connect(url, &settings).await.unwrap();
        migrate(&pool, *backend).await.unwrap();
        load(&pool, *backend, total).await;
        let store = SqlKeyStore::new(pool.clone());
        let with = run(&store).await;
        drop_listing_indexes(&pool).await;
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
        let without = run(&store).await;
        columns.push((*name, with, without));
    }
    let mut labels: Vec<&str> = queries().iter().map(|(l, _)| *l).collect();
    labels.push("all tenants, page 21 of 50 (keyset cursor)");
    print!("| query ({total} keys; median ms) |");
    for (name, _, _) in &columns {
        print!(" {name} | {name}, without listing indexes |");
    }
    println!();
    print!("| --- |");
    for _ in &columns {
        print!(" ---: | ---: |");
    }
    println!();
    for (i, label) in labels.iter().enumerate() {
        print!("| {label} |");
        for (_, with, without) in &columns {
            print!(" {} | {} |", ms(with[i]), ms(without[i]));
        }
        println!();
    }
    drop(cluster);
}
