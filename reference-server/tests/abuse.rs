//! The real binary under abuse, at the default argon2 cost (m = 19456 KiB, t = 2): a burst of
//! key creations from one user, a flood of wrong secrets for one key id, a flood of sign-ins
//! for unknown emails. Each asserts on outcomes (status codes, `Retry-After`, audit counts) and
//! on the server's peak RSS (`VmHWM` in `/proc/<pid>/status`), never on wall-clock speed, and
//! prints the figures the README's "Measured" section quotes. Bounded loops, loopback only;
//! SQLite and PostgreSQL; the server is killed when its handle drops.
#![allow(missing_docs)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use idunox_test_support::http::{Answer, send, try_send};
use idunox_test_support::process::Spawned;
use idunox_test_support::server::{ServerCommand, wrong_secret};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_reference-server");
const SECRET: &str = "abuse-jwt-secret-0123456789abcdefghijklmnop";
const PASSWORD: &str = "abuse correct horse battery";
/// argon2 threads of the server; fixed so the RSS bound does not depend on the machine.
const WORKERS: u64 = 2;
/// The default `m_cost` (KiB) — the server runs with its default argon2 parameters.
const DEFAULT_M_COST_KIB: u64 = 19_456;
/// What a process of this size may add besides argon2's buffers under 200 open connections:
/// Rocket's per-request buffers and futures, sqlx's statement caches, allocator slack.
const MARGIN_KIB: u64 = 32 * 1024;

/// The two databases of a run.
enum Db {
    Sqlite,
    Postgres,
}

/// A database URL for `db` (`None`: PostgreSQL is not installed outside CI).
fn database(db: &Db, dir: &Path) -> Option<String> {
    match db {
        Db::Sqlite => Some(format!("sqlite://{}", dir.join("portal.sqlite").display())),
        Db::Postgres => idunox_test_support::postgres::admin_url()
            .map(|admin| idunox_test_support::postgres::fresh_database(&admin)),
    }
}

/// The server in `dir` on `url`, at the default argon2 parameters (`ROCKET_ARGON2` not set, nor
/// its capacity or reserve); loopback peers are a trusted proxy so each simulated client can have
/// its own address in `X-Forwarded-For`.
fn setup(dir: &Path, url: &str) -> ServerCommand {
    ServerCommand::new(BIN, dir, url, SECRET)
        .env("ROCKET_ARGON2_WORKERS", WORKERS.to_string())
        .env("ROCKET_TRUSTED_PROXIES", "[\"127.0.0.0/8\"]")
        .env("ROCKET_ACCESS_LOG", "false")
        .env_remove("ROCKET_ARGON2_CAPACITY")
        .env_remove("ROCKET_ARGON2_RESERVED")
}

fn agent() -> ureq::Agent {
    // The time-out only turns a hang into a failure; nothing here asserts on speed.
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}

/// A client address of its own for the `n`th simulated client.
fn address(n: usize) -> String {
    format!("198.51.{}.{}", n / 250, n % 250 + 1)
}

fn sign_in(http: &ureq::Agent, s: &Spawned, email: &str, from: &str) -> Answer {
    send(
        http.post(&s.url("/v1/partner/auth/login"))
            .set("X-Forwarded-For", from),
        Some(json!({"email": email, "password": PASSWORD})),
    )
}

/// Sign in (retrying a budget refusal a few times); the bearer token.
fn sign_in_token(http: &ureq::Agent, s: &Spawned, email: &str) -> String {
    for _ in 0..10 {
        let a = sign_in(http, s, email, "192.0.2.10");
        if a.status == 200 {
            return a.body["token"].as_str().unwrap().to_owned();
        }
        assert_eq!(a.status, 503, "{}", a.body);
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("no sign-in for {email}");
}

fn create(http: &ureq::Agent, s: &Spawned, token: &str, name: &str) -> Answer {
    send(
        http.post(&s.url("/v1/partner/credentials"))
            .set("Authorization", &format!("Bearer {token}")),
        Some(json!({"name": name})),
    )
}

fn probe(http: &ureq::Agent, s: &Spawned, key: &str, from: &str) -> Answer {
    send(
        http.get(&s.url("/v1/partner-auth-probe"))
            .set("X-Api-Key", key)
            .set("X-Forwarded-For", from),
        None,
    )
}

/// `VmHWM` (peak resident set) or `VmRSS` of process `pid`, in KiB.
fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// Whether `a` is a budget refusal done right: 503 `service_unavailable` with `Retry-After`.
fn is_refusal(a: &Answer) -> bool {
    a.status == 503 && a.retry_after.is_some() && a.is_envelope("service_unavailable")
}

/// Every `action` entry of the signed-in user's audit trail, all pages read.
fn audit_count(http: &ureq::Agent, s: &Spawned, token: &str, action: &str) -> usize {
    let mut count = 0;
    let mut before: Option<String> = None;
    for _ in 0..100 {
        let mut path = "/v1/partner/audit?limit=50".to_owned();
        if let Some(b) = &before {
            path.push_str(&format!("&before={b}"));
        }
        let a = send(
            http.get(&s.url(&path))
                .set("Authorization", &format!("Bearer {token}")),
            None,
        );
        assert_eq!(a.status, 200, "{}", a.body);
        count += a.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action)
            .count();
        match a.body["next_cursor"].as_str() {
            Some(c) => before = Some(c.to_owned()),
            None => return count,
        }
    }
    panic!("more than 100 audit pages");
}

/// A server on `db` with the tenants `emails` provisioned; `None` when the database is missing.
fn start(db: &Db, dir: &Path, emails: &[&str]) -> Option<Spawned> {
    let url = database(db, dir)?;
    let setup = setup(dir, &url);
    for (n, email) in emails.iter().enumerate() {
        setup.provision(&format!("Tenant {n}"), email, PASSWORD);
    }
    // No subcommand: `serve`.
    Some(Spawned::start(
        "reference-server",
        setup.command(),
        "listening on ",
    ))
}

// ------------------------------------------------------------- 1. a burst of creations

const BURST: usize = 200;

fn creation_burst(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let Some(s) = start(db, dir.path(), &["burst@a.test", "other@b.test"]) else {
        return;
    };
    let http = agent();
    let token = sign_in_token(&http, &s, "burst@a.test");
    let other = sign_in_token(&http, &s, "other@b.test");
    // Warm: one creation, so the baseline holds a worker's first argon2 buffer and the pools.
    assert_eq!(create(&http, &s, &token, "warm").status, 201);
    let baseline_rss = memory_kib(s.pid(), "VmRSS");
    let baseline_hwm = memory_kib(s.pid(), "VmHWM");

    let start = Barrier::new(BURST + 1);
    let answers = Mutex::new(Vec::with_capacity(BURST));
    let done = AtomicBool::new(false);
    let (mut other_lists, mut other_sign_ins) = (Vec::new(), Vec::new());
    std::thread::scope(|scope| {
        for n in 0..BURST {
            let (start, answers, http, s, token) = (&start, &answers, &http, &s, &token);
            scope.spawn(move || {
                start.wait();
                let a = create(http, s, token, &format!("burst-{n}"));
                answers.lock().unwrap().push(a);
            });
        }
        start.wait();
        // Meanwhile another tenant reads its list and signs in (bounded: 20 rounds at most).
        for _ in 0..20 {
            if done.load(Ordering::Relaxed) {
                break;
            }
            let list = send(
                http.get(&s.url("/v1/partner/credentials"))
                    .set("Authorization", &format!("Bearer {other}")),
                None,
            );
            other_lists.push(list);
            other_sign_ins.push(sign_in(&http, &s, "other@b.test", "192.0.2.20"));
            if answers.lock().unwrap().len() == BURST {
                done.store(true, Ordering::Relaxed);
            }
        }
    });
    let answers = answers.into_inner().unwrap();
    let created = answers.iter().filter(|a| a.status == 201).count();
    let refused = answers.iter().filter(|a| is_refusal(a)).count();
    let peak = memory_kib(s.pid(), "VmHWM");

    for a in &answers {
        assert!(
            a.status == 201 || is_refusal(a),
            "201 or 503 with Retry-After: {} {:?} {}",
            a.status,
            a.retry_after,
            a.body
        );
    }
    assert!(created > 0, "some creations get through");
    for a in &other_lists {
        assert!(a.status == 200 || is_refusal(a), "{} {}", a.status, a.body);
    }
    for a in &other_sign_ins {
        assert!(
            a.status == 200 || (a.status == 503 || a.status == 429) && a.retry_after.is_some(),
            "{} {}",
            a.status,
            a.body
        );
    }
    assert!(
        other_lists.iter().any(|a| a.status == 200),
        "the other tenant's list is served during the burst"
    );
    // Exactly one audit entry per key made: the warm-up plus every 201, none for a 503.
    assert_eq!(
        audit_count(&http, &s, &token, "credential.created"),
        created + 1,
        "one credential.created per 201"
    );

    let argon2 = WORKERS * DEFAULT_M_COST_KIB;
    let bound = baseline_hwm + argon2 + MARGIN_KIB;
    eprintln!(
        "creation burst ({}): {BURST} requests: {created} × 201, {refused} × 503; \
         other tenant: lists {}/{} × 200, sign-ins {}/{} × 200; \
         RSS before {baseline_rss} KiB (peak {baseline_hwm} KiB), peak after {peak} KiB, \
         bound {bound} KiB = baseline peak + {WORKERS} × {DEFAULT_M_COST_KIB} KiB + {MARGIN_KIB} KiB",
        name(db),
        other_lists.iter().filter(|a| a.status == 200).count(),
        other_lists.len(),
        other_sign_ins.iter().filter(|a| a.status == 200).count(),
        other_sign_ins.len(),
    );
    assert!(peak < bound, "peak RSS {peak} KiB over {bound} KiB");
    assert!(peak < 1024 * 1024, "peak RSS {peak} KiB over 1 GiB");
}

// ------------------------------------------------------------- 2. wrong secrets, one key id

const FLOODERS: usize = 48;
/// Requests per flooding thread at most (the flood stops earlier once the five are served).
const FLOOD_ROUNDS: usize = 40;
/// Attempts of each legitimate first-time verification: one, no retry. With per-key-id
/// fairness the flooded id holds at most one argon2 slot, so the five fit in the capacity left
/// for unknown keys (8 − 2 reserved − 1) at once. Retrying a 503 after 250 ms let a broken
/// server (every wrong secret queued for its own argon2 run) pass in a trial; without retries
/// that server failed six runs out of six.
const ATTEMPTS: usize = 1;

fn wrong_secret_flood(db: &Db) {
    let emails = [
        "victim@a.test",
        "one@b.test",
        "two@c.test",
        "three@d.test",
        "four@e.test",
        "five@f.test",
    ];
    let dir = tempfile::tempdir().unwrap();
    let Some(s) = start(db, dir.path(), &emails) else {
        return;
    };
    let http = agent();
    let keys: Vec<String> = emails
        .iter()
        .map(|email| {
            let token = sign_in_token(&http, &s, email);
            let a = create(&http, &s, &token, "flood");
            assert_eq!(a.status, 201, "{}", a.body);
            a.body["api_key"].as_str().unwrap().to_owned()
        })
        .collect();
    // The victim's key is never used rightly: every flood request is a cold wrong secret.
    let flood_keys: Vec<String> = (0..FLOODERS).map(|_| wrong_secret(&keys[0])).collect();
    let baseline_hwm = memory_kib(s.pid(), "VmHWM");

    let stop = AtomicBool::new(false);
    let sent = AtomicUsize::new(0);
    let outcomes = Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let mut served = Vec::new();
    std::thread::scope(|scope| {
        for (n, bad) in flood_keys.iter().enumerate() {
            let (stop, sent, outcomes, http, s) = (&stop, &sent, &outcomes, &http, &s);
            scope.spawn(move || {
                let from = address(n);
                for _ in 0..FLOOD_ROUNDS {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                    let a = probe(http, s, bad, &from);
                    assert!(a.status == 401 || is_refusal(&a), "{} {}", a.status, a.body);
                    *outcomes.lock().unwrap().entry(a.status).or_default() += 1;
                }
            });
        }
        // The flood is on before the five legitimate verifications start.
        while sent.load(Ordering::Relaxed) < FLOODERS
            && outcomes.lock().unwrap().values().sum::<usize>() < FLOODERS
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let handles: Vec<_> = keys[1..]
            .iter()
            .enumerate()
            .map(|(n, key)| {
                let (http, s) = (&http, &s);
                scope.spawn(move || {
                    let from = format!("203.0.113.{}", n + 1);
                    for attempt in 1..=ATTEMPTS {
                        let a = probe(http, s, key, &from);
                        if !is_refusal(&a) {
                            return (attempt, a.status);
                        }
                        std::thread::sleep(Duration::from_millis(250));
                    }
                    (ATTEMPTS, 503)
                })
            })
            .collect();
        served = handles.into_iter().map(|h| h.join().unwrap()).collect();
        stop.store(true, Ordering::Relaxed);
    });
    let peak = memory_kib(s.pid(), "VmHWM");
    let outcomes = outcomes.into_inner().unwrap();
    eprintln!(
        "wrong-secret flood ({}): {FLOODERS} threads, outcomes {outcomes:?}; \
         five first-time verifications (attempts, status): {served:?}; \
         peak RSS {baseline_hwm} KiB before, {peak} KiB after",
        name(db)
    );
    for (attempts, status) in &served {
        assert_eq!(
            *status, 200,
            "a legitimate first-time verification during the flood ({attempts} attempts)"
        );
    }
    assert!(
        outcomes.values().sum::<usize>() >= FLOODERS,
        "the flood ran alongside"
    );
    let bound = baseline_hwm + WORKERS * DEFAULT_M_COST_KIB + MARGIN_KIB;
    assert!(peak < bound, "peak RSS {peak} KiB over {bound} KiB");
}

// ------------------------------------------------------------- 3. sign-ins for unknown emails

const SIGNERS: usize = 40;
const SIGN_IN_ROUNDS: usize = 10;

fn sign_in_flood(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let Some(s) = start(db, dir.path(), &["real@a.test"]) else {
        return;
    };
    let http = agent();
    let baseline_hwm = memory_kib(s.pid(), "VmHWM");

    let stop = AtomicBool::new(false);
    let sent = AtomicUsize::new(0);
    let outcomes = Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let mut real = Vec::new();
    std::thread::scope(|scope| {
        for n in 0..SIGNERS {
            let (stop, sent, outcomes, http, s) = (&stop, &sent, &outcomes, &http, &s);
            scope.spawn(move || {
                let from = address(n);
                for round in 0..SIGN_IN_ROUNDS {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                    let email = format!("nobody-{n}-{round}-{}@flood.test", std::process::id());
                    let a = sign_in(http, s, &email, &from);
                    assert!(
                        a.status == 401
                            || (a.status == 503 || a.status == 429) && a.retry_after.is_some(),
                        "{} {}",
                        a.status,
                        a.body
                    );
                    *outcomes.lock().unwrap().entry(a.status).or_default() += 1;
                }
            });
        }
        while sent.load(Ordering::Relaxed) < SIGNERS {
            std::thread::sleep(Duration::from_millis(5));
        }
        // The real user signs in three times during the flood, from its own address.
        for _ in 0..3 {
            let began = Instant::now();
            let a = try_send(
                http.post(&s.url("/v1/partner/auth/login"))
                    .set("X-Forwarded-For", "192.0.2.99"),
                Some(json!({"email": "real@a.test", "password": PASSWORD})),
            );
            real.push((a, began.elapsed()));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let peak = memory_kib(s.pid(), "VmHWM");
    let outcomes = outcomes.into_inner().unwrap();
    let summary: Vec<(Option<u16>, u128)> = real
        .iter()
        .map(|(a, t)| (a.as_ref().map(|a| a.status), t.as_millis()))
        .collect();
    eprintln!(
        "sign-in flood ({}): {SIGNERS} threads, outcomes {outcomes:?}; \
         real user (status, ms): {summary:?}; peak RSS {baseline_hwm} KiB before, {peak} KiB after",
        name(db)
    );
    for (a, _) in &real {
        let a = a
            .as_ref()
            .expect("the real user's sign-in is answered, not hung");
        assert!(
            a.status == 200 || (a.status == 503 || a.status == 429) && a.retry_after.is_some(),
            "{} {:?} {}",
            a.status,
            a.retry_after,
            a.body
        );
    }
    let bound = baseline_hwm + WORKERS * DEFAULT_M_COST_KIB + MARGIN_KIB;
    assert!(peak < bound, "peak RSS {peak} KiB over {bound} KiB");
}

fn name(db: &Db) -> &'static str {
    match db {
        Db::Sqlite => "SQLite",
        Db::Postgres => "PostgreSQL",
    }
}

#[test]
fn a_burst_of_creations_stays_bounded_on_sqlite() {
    creation_burst(&Db::Sqlite);
}

#[test]
fn a_burst_of_creations_stays_bounded_on_postgres() {
    creation_burst(&Db::Postgres);
}

#[test]
fn first_verifications_are_served_during_a_wrong_secret_flood_on_sqlite() {
    wrong_secret_flood(&Db::Sqlite);
}

#[test]
fn first_verifications_are_served_during_a_wrong_secret_flood_on_postgres() {
    wrong_secret_flood(&Db::Postgres);
}

#[test]
fn a_real_user_is_answered_during_a_sign_in_flood_on_sqlite() {
    sign_in_flood(&Db::Sqlite);
}

#[test]
fn a_real_user_is_answered_during_a_sign_in_flood_on_postgres() {
    sign_in_flood(&Db::Postgres);
}
