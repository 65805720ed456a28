//! Operating the real `data-api` binary: `/healthz`, `/readyz`, `/metrics` (counters moved by
//! refused keys, who may read it), its log (one line per request with the key id, the reason of
//! each refusal, no secret) and a graceful stop on SIGTERM mid-request that writes the last use.
//! Loopback only; every process is killed when its handle drops.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::{Proc, agent, create, list, login, provision};
use idunox_test_support::process::Spawned;
use idunox_test_support::server::wrong_secret;
use serde_json::Value;

const METRICS_TOKEN: &str = "data-api-metrics-token-0123";

/// A plain GET: status and body text.
fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    match req.call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

fn probe(s: &Spawned, key: Option<&str>) -> u16 {
    let headers: Vec<(&str, &str)> = key.map(|k| ("X-Api-Key", k)).into_iter().collect();
    get(&s.url("/v1/partner-auth-probe"), &headers).0
}

/// The value of one series (0 when absent).
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// The key with its last checksum character changed: refused as `bad_checksum`.
fn bad_checksum(key: &str) -> String {
    let last = if key.ends_with('A') { "B" } else { "A" };
    format!("{}{last}", &key[..59])
}

#[test]
fn the_demo_counts_refusals_by_reason_logs_them_and_stops_on_sigterm() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-api"));
    cmd.args(["--port", "0"]).env("RUST_LOG", "debug");
    let mut server = Spawned::start("data-api", cmd, "data-api listening on ");
    let mut keys = Vec::new();
    while keys.len() < 2 {
        let line = server
            .next_line(Duration::from_secs(60))
            .expect("data-api printed no keys within 60 s");
        let trimmed = line.trim();
        if trimmed.starts_with("idx_test_") && !trimmed.contains(' ') {
            keys.push(trimmed.to_owned());
        }
    }
    let key = keys[0].clone();
    let (wrong, typo) = (wrong_secret(&key), bad_checksum(&key));

    assert_eq!(
        get(&server.url("/healthz"), &[]),
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    assert_eq!(
        get(&server.url("/readyz"), &[]),
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    let (status, before) = get(&server.url("/metrics"), &[]);
    assert_eq!(status, 200, "{before}");
    assert_eq!(probe(&server, Some(&key)), 200);
    for _ in 0..5 {
        assert_eq!(probe(&server, Some(&typo)), 401);
    }
    assert_eq!(probe(&server, Some(&wrong)), 401);
    assert_eq!(probe(&server, None), 401);
    assert_eq!(
        get(&server.url("/nowhere?token=query-secret-text"), &[]).0,
        404
    );
    let (status, after) = get(&server.url("/metrics"), &[]);
    assert_eq!(status, 200, "{after}");
    let moved = |series: &str| metric(&after, series) - metric(&before, series);
    assert_eq!(
        moved(r#"idunox_verifications_total{outcome="ok"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"idunox_verifications_total{outcome="bad_checksum"}"#),
        5.0
    );
    assert_eq!(
        moved(r#"idunox_verifications_total{outcome="wrong_secret"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"idunox_verifications_total{outcome="missing"}"#),
        1.0
    );
    assert_eq!(
        moved(
            r#"data_api_http_request_duration_seconds_count{method="GET",route="/v1/partner-auth-probe",status="401"}"#
        ),
        7.0,
        "{after}"
    );
    assert_eq!(
        moved(
            r#"data_api_http_request_duration_seconds_count{method="GET",route="<unmatched>",status="404"}"#
        ),
        1.0,
        "{after}"
    );
    assert!(metric(&after, "idunox_verifier_warm_keys") >= 1.0);
    for secret in [
        &key,
        &key[22..54],
        &key[9..21],
        &wrong,
        "query-secret-text",
        "nowhere",
    ] {
        assert!(!after.contains(secret), "{secret} in /metrics");
    }
    // Through a proxy (a client elsewhere) without a configured token: 403.
    assert_eq!(
        get(
            &server.url("/metrics"),
            &[("X-Forwarded-For", "203.0.113.9")]
        )
        .0,
        403
    );

    server.signal("TERM");
    let status = server
        .wait_exit(Duration::from_secs(15))
        .expect("data-api did not exit after SIGTERM");
    assert_eq!(status.code(), Some(0), "{:#?}", server.output());
    std::thread::sleep(Duration::from_millis(200));
    let output = server.output();
    // The log: every line but the ones printed on stdout on purpose (the address and the keys).
    let log: Vec<&String> = output.iter().filter(|l| l.starts_with("20")).collect();
    for line in &log {
        for secret in [
            keys[0].as_str(),
            keys[1].as_str(),
            &key[22..54],
            &wrong,
            &typo,
        ] {
            assert!(!line.contains(secret), "a secret in the log: {line}");
        }
        assert!(
            !line.contains("query-secret-text"),
            "a query string in the log: {line}"
        );
    }
    let has = |parts: &[&str]| log.iter().any(|l| parts.iter().all(|p| l.contains(p)));
    let key_id = format!("key_id={}", &key[9..21]);
    assert!(
        has(&[
            "route=/v1/partner-auth-probe",
            "status=200",
            "latency_ms=",
            &key_id
        ]),
        "{log:#?}"
    );
    assert!(
        has(&[
            "idunox_keys_tower",
            "reason=\"wrong_secret\"",
            &format!("key_id=\"{}\"", &key[9..21])
        ]),
        "{log:#?}"
    );
    assert!(
        has(&["idunox_keys_tower", "reason=\"bad_checksum\""]),
        "{log:#?}"
    );
    assert!(has(&["route=<unmatched>", "status=404"]), "{log:#?}");
    assert!(has(&["shutdown requested", "SIGTERM"]), "{log:#?}");
}

#[test]
fn on_the_portal_database_sigterm_finishes_the_request_and_writes_the_last_use() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portal.sqlite").display());
    provision(&url, "Ops Partner");
    let portal = Proc::server("reference-server", &url);
    let http = agent();
    let token = login(&http, &portal);
    let (id, key) = create(&http, &portal, &token, "orders");

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-api"));
    cmd.args([
        "--port",
        "0",
        "--database-url",
        &url,
        "--log-format",
        "json",
    ])
    .env("DATA_API_METRICS_TOKEN", METRICS_TOKEN)
    .env_remove("RUST_LOG");
    let mut api = Spawned::start("data-api", cmd, "data-api listening on ");
    assert_eq!(get(&api.url("/readyz"), &[]).0, 200);
    assert_eq!(probe(&api, Some(&key)), 200);
    // From elsewhere: only with the token.
    let proxied = ("X-Forwarded-For", "203.0.113.9");
    assert_eq!(get(&api.url("/metrics"), &[proxied]).0, 401);
    let wrong = format!("Bearer {METRICS_TOKEN}x");
    assert_eq!(
        get(&api.url("/metrics"), &[proxied, ("Authorization", &wrong)]).0,
        401
    );
    let right = format!("Bearer {METRICS_TOKEN}");
    let (status, text) = get(&api.url("/metrics"), &[proxied, ("Authorization", &right)]);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("idunox_change_feed_lag_seconds"), "{text}");

    // A request in flight: an order whose body has not arrived when SIGTERM does. Its key was
    // verified (and its use buffered: written once a second old, or at shutdown) on the head.
    let body = r#"{"item":"widget","quantity":3}"#;
    let mut conn = TcpStream::connect(api.base.trim_start_matches("http://")).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    conn.write_all(
        format!(
            "POST /v1/orders HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    api.signal("TERM");
    assert!(
        api.wait_for_line("shutdown requested", Duration::from_secs(10))
            .is_some(),
        "{:#?}",
        api.output()
    );
    conn.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = api
        .wait_exit(Duration::from_secs(15))
        .expect("data-api did not exit after SIGTERM");
    assert_eq!(status.code(), Some(0), "{:#?}", api.output());

    // A portal that does not answer: refused at start, saying why.
    let out = Command::new(env!("CARGO_BIN_EXE_data-api"))
        .args(["--port", "0", "--portal-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read the key format from http://127.0.0.1:9/v1/partner/config"),
        "{stderr}"
    );

    let listed = list(&http, &portal, &token);
    let used = listed.iter().find(|c| c["id"] == id.as_str()).unwrap();
    assert!(
        used["last_used_at"].is_string(),
        "last use lost: {listed:#?}"
    );

    // JSON lines on stderr; the order's request line names the key id, never the key.
    std::thread::sleep(Duration::from_millis(200));
    let events: Vec<Value> = api
        .output()
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let order = events
        .iter()
        .find(|e| e["target"] == "data_api::request" && e["route"] == "/v1/orders")
        .unwrap_or_else(|| panic!("{events:#?}"));
    assert_eq!(order["status"], 201);
    assert_eq!(order["key_id"], &key[9..21]);
    assert!(!format!("{events:?}").contains(&key[22..54]));
}
