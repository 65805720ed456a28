//! Operating the real binary: its logs (one line per request, no secret, the key id, JSON when
//! configured), `/healthz`, `/readyz` (PostgreSQL stopped and started again), `/metrics`
//! (counters moved by traffic, who may read it) and a graceful stop on SIGTERM mid-request.
//! Loopback only; every process is killed when its handle drops.
#![allow(missing_docs)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use idunox_test_support::http::{Answer, send};
use idunox_test_support::process::Spawned;
use idunox_test_support::server::{ServerCommand, wrong_secret};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_reference-server");
const SECRET: &str = "ops-jwt-secret-0123456789abcdefghijklmnop";
const PASSWORD: &str = "ops correct horse battery";
const EMAIL: &str = "operator@ops.test";
const METRICS_TOKEN: &str = "ops-metrics-token-0123456789";

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("portal.sqlite").display())
}

/// The real binary in `dir` on `url`: cheap argon2 (m = 4096 KiB, t = 1), a one-second database
/// connect timeout (so `/readyz` answers while PostgreSQL is down), and no inherited log format,
/// metrics token or `RUST_LOG`.
fn setup(dir: &Path, url: &str) -> ServerCommand {
    ServerCommand::new(BIN, dir, url, SECRET)
        .database_settings("connect_timeout=1")
        .argon2("{m_cost=4096,t_cost=1,p_cost=1}")
        .env_remove("ROCKET_LOG_FORMAT")
        .env_remove("ROCKET_METRICS_TOKEN")
        .env_remove("RUST_LOG")
}

/// A tenant and a user, through the CLI.
fn provision(dir: &Path, url: &str) {
    setup(dir, url).provision("Ops Partner", EMAIL, PASSWORD);
}

fn start(cmd: Command) -> Spawned {
    Spawned::start("reference-server", cmd, "listening on ")
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

fn login(http: &ureq::Agent, s: &Spawned, password: &str) -> Answer {
    send(
        http.post(&s.url("/v1/partner/auth/login")),
        Some(json!({"email": EMAIL, "password": password})),
    )
}

/// Sign in, create a key; the token and the plaintext key.
fn token_and_key(http: &ureq::Agent, s: &Spawned) -> (String, String) {
    let a = login(http, s, PASSWORD);
    assert_eq!(a.status, 200, "{}", a.body);
    let token = a.body["token"].as_str().unwrap().to_owned();
    let a = send(
        http.post(&s.url("/v1/partner/credentials"))
            .set("Authorization", &format!("Bearer {token}")),
        Some(json!({"name": "ops"})),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    (token, a.body["api_key"].as_str().unwrap().to_owned())
}

fn probe(http: &ureq::Agent, s: &Spawned, key: &str) -> Answer {
    send(
        http.get(&s.url("/v1/partner-auth-probe"))
            .set("X-Api-Key", key),
        None,
    )
}

/// A plain GET; status and body text.
fn get_text(http: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = http.get(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    match req.call() {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// The traffic whose log is searched: a failed and a good sign-in, a key used, a wrong key, a
/// signed-in read. Returns (token, key).
fn traffic(http: &ureq::Agent, s: &Spawned) -> (String, String) {
    assert_eq!(login(http, s, "a wrong password entirely").status, 401);
    let (token, key) = token_and_key(http, s);
    assert_eq!(probe(http, s, &key).status, 200);
    assert_eq!(probe(http, s, &wrong_secret(&key)).status, 401);
    let me = send(
        http.get(&s.url("/v1/partner/me"))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    );
    assert_eq!(me.status, 200, "{}", me.body);
    (token, key)
}

fn assert_no_secret(lines: &[String], secrets: &[&str]) {
    for line in lines {
        for secret in secrets {
            assert!(!line.contains(secret), "a secret in the log: {line}");
        }
    }
}

#[test]
fn the_log_has_one_line_per_request_with_the_key_id_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    provision(dir.path(), &url);
    // Everything the subscriber can see, at the most verbose level.
    let mut cmd = setup(dir.path(), &url).command();
    cmd.arg("serve").env("RUST_LOG", "trace");
    let server = start(cmd);
    let http = agent();
    let (token, key) = traffic(&http, &server);
    let lines = server.stop();
    let key_id = &key[9..21];
    assert_no_secret(
        &lines,
        &[
            PASSWORD,
            "a wrong password entirely",
            &token,
            &key,
            &key[22..54],
        ],
    );
    let probe_line = lines
        .iter()
        .find(|l| l.contains("route=/v1/partner-auth-probe") && l.contains("status=200"))
        .unwrap_or_else(|| panic!("no request line for the probe: {lines:#?}"));
    assert!(
        probe_line.contains(&format!("key_id={key_id}")),
        "{probe_line}"
    );
    assert!(probe_line.contains("method=GET") && probe_line.contains("latency_ms="));
    let me_line = lines
        .iter()
        .find(|l| l.contains("route=/v1/partner/me ") || l.ends_with("route=/v1/partner/me"))
        .or_else(|| {
            lines
                .iter()
                .find(|l| l.contains("route=/v1/partner/me status"))
        })
        .unwrap_or_else(|| panic!("no request line for /me: {lines:#?}"));
    assert!(me_line.contains("user_id=usr_"), "{me_line}");
    assert!(!me_line.contains(EMAIL), "{me_line}");
    // A route template, never the raw path of a key route.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=/v1/partner/credentials ") && l.contains("status=201")),
        "{lines:#?}"
    );
}

#[test]
fn json_lines_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    provision(dir.path(), &url);
    let mut cmd = setup(dir.path(), &url).command();
    cmd.arg("serve").env("ROCKET_LOG_FORMAT", "json");
    let server = start(cmd);
    let http = agent();
    let (token, key) = traffic(&http, &server);
    let lines = server.stop();
    assert_no_secret(&lines, &[PASSWORD, &token, &key, &key[22..54]]);
    let events: Vec<Value> = lines
        .iter()
        .filter(|l| !l.starts_with("idunox reference server listening on"))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = events
        .iter()
        .filter(|e| e["target"] == "reference_server::request")
        .collect();
    assert_eq!(requests.len(), 6, "{events:#?}");
    let probe = requests
        .iter()
        .find(|e| e["route"] == "/v1/partner-auth-probe" && e["status"] == 200)
        .unwrap();
    assert_eq!(probe["key_id"], &key[9..21]);
    assert_eq!(probe["method"], "GET");
    assert!(
        probe["latency_ms"].is_number() && probe["level"] == "INFO",
        "{probe}"
    );
    // A bad setting is refused, saying which.
    let out = setup(dir.path(), &url)
        .command()
        .arg("serve")
        .env("ROCKET_LOG_FORMAT", "yaml")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("log_format"));
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn metrics_count_what_happened_and_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    provision(dir.path(), &url);
    let mut cmd = setup(dir.path(), &url).command();
    cmd.arg("serve").env("ROCKET_METRICS_TOKEN", METRICS_TOKEN);
    let server = start(cmd);
    let http = agent();
    let metrics = server.url("/metrics");
    let (status, before) = get_text(&http, &metrics, &[]);
    assert_eq!(status, 200);
    let (token, key) = traffic(&http, &server);
    // A load of wrong keys: a typo (bad checksum) and an unknown id, 20 each.
    let mut typo = key.clone();
    typo.replace_range(59..60, if key.ends_with('A') { "B" } else { "A" });
    let unknown = {
        let formats = idunox_keys::KeyFormat::new("idx", "test").unwrap();
        formats.generate().unwrap().expose_secret().to_owned()
    };
    for _ in 0..20 {
        assert_eq!(probe(&http, &server, &typo).status, 401);
        assert_eq!(probe(&http, &server, &unknown).status, 401);
    }
    let (status, after) = get_text(&http, &metrics, &[]);
    assert_eq!(status, 200, "{after}");
    let moved = |series: &str| metric(&after, series) - metric(&before, series);
    assert_eq!(
        moved(r#"idunox_verifications_total{outcome="ok"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(
        moved(r#"idunox_verifications_total{outcome="bad_checksum"}"#),
        20.0
    );
    assert_eq!(
        moved(r#"idunox_verifications_total{outcome="unknown_key_id"}"#),
        20.0
    );
    assert_eq!(
        moved(r#"idunox_verifications_total{outcome="wrong_secret"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"idunox_sign_ins_total{realm="partner",outcome="failed"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"idunox_sign_ins_total{realm="partner",outcome="succeeded"}"#),
        1.0
    );
    assert_eq!(metric(&after, r#"idunox_sessions{kind="user"}"#), 1.0);
    assert_eq!(metric(&after, "idunox_verifier_warm_keys"), 1.0);
    assert!(
        metric(&after, "idunox_argon2_runs_total{kind=\"verify\"}") >= 1.0,
        "{after}"
    );
    assert_eq!(
        moved(
            r#"idunox_http_request_duration_seconds_count{method="GET",route="/v1/partner-auth-probe",status="401"}"#
        ),
        41.0,
        "{after}"
    );
    assert!(after.contains("# TYPE idunox_http_request_duration_seconds histogram"));
    for secret in [
        &key,
        &key[22..54],
        &key[9..21],
        &token,
        EMAIL,
        PASSWORD,
        &unknown,
    ] {
        assert!(!after.contains(secret), "{secret} in /metrics");
    }

    // From elsewhere (here: through a proxy on this machine) only with the token.
    let via_proxy = [("X-Forwarded-For", "203.0.113.7")];
    let (status, body) = get_text(&http, &metrics, &via_proxy);
    assert_eq!(status, 401, "{body}");
    let wrong = [
        ("X-Forwarded-For", "203.0.113.7"),
        ("Authorization", "Bearer ops-metrics-token-0123456780"),
    ];
    assert_eq!(get_text(&http, &metrics, &wrong).0, 401);
    let right = format!("Bearer {METRICS_TOKEN}");
    let good = [
        ("X-Forwarded-For", "203.0.113.7"),
        ("Authorization", right.as_str()),
    ];
    let (status, body) = get_text(&http, &metrics, &good);
    assert_eq!(status, 200);
    assert!(body.contains("idunox_verifications_total"));
    drop(server);

    // Without a token: 403 from elsewhere, still 200 here.
    let mut cmd = setup(dir.path(), &url).command();
    cmd.arg("serve");
    let server = start(cmd);
    let metrics = server.url("/metrics");
    assert_eq!(get_text(&http, &metrics, &via_proxy).0, 403);
    assert_eq!(get_text(&http, &metrics, &[]).0, 200);
    // A token too short to be one refuses to start, saying why.
    let out = setup(dir.path(), &url)
        .command()
        .arg("serve")
        .env("ROCKET_METRICS_TOKEN", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("metrics_token"));
}

#[test]
fn healthz_always_readyz_while_the_database_answers() {
    let Some(cluster) = idunox_test_support::postgres::OwnedCluster::start() else {
        return;
    };
    let url = idunox_test_support::postgres::fresh_database(cluster.admin_url());
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path(), &url);
    let mut cmd = setup(dir.path(), &url).command();
    cmd.arg("serve");
    let server = start(cmd);
    let http = agent();
    let ready = |expected: u16| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (status, body) = get_text(&http, &server.url("/readyz"), &[]);
            if status == expected {
                return body;
            }
            assert!(Instant::now() < deadline, "/readyz stayed {status}: {body}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    assert_eq!(
        get_text(&http, &server.url("/healthz"), &[]),
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    assert_eq!(ready(200), r#"{"status":"ok"}"#);
    cluster.stop();
    assert_eq!(ready(503), r#"{"status":"unavailable"}"#);
    assert_eq!(get_text(&http, &server.url("/healthz"), &[]).0, 200);
    cluster.start_again();
    assert_eq!(ready(200), r#"{"status":"ok"}"#);
}

/// Open a raw connection and send a request's head (`Content-Length: body_len`) and nothing of
/// its body: the server has dispatched the request and its handler waits for the body.
fn request_waiting_for_its_body(s: &Spawned, head: &str) -> TcpStream {
    let addr = s.base.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    conn.write_all(head.as_bytes()).unwrap();
    conn
}

#[test]
fn sigterm_finishes_the_request_in_flight_writes_last_use_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    provision(dir.path(), &url);
    let mut cmd = setup(dir.path(), &url).command();
    cmd.arg("serve");
    let mut server = start(cmd);
    let http = agent();
    let (token, key) = token_and_key(&http, &server);

    // A request in flight: a key creation whose body has not arrived when SIGTERM does.
    let body = r#"{"name":"created during shutdown"}"#;
    let mut conn = request_waiting_for_its_body(
        &server,
        &format!(
            "POST /v1/partner/credentials HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        ),
    );
    // The key's last use, buffered (written once it is a second old, or at shutdown: all that
    // follows takes well under a second, so only the shutdown's flush can write it).
    assert_eq!(probe(&http, &server, &key).status, 200);
    server.signal("TERM");
    assert!(
        server
            .wait_for_line("shutdown requested", Duration::from_secs(10))
            .is_some(),
        "{:#?}",
        server.output()
    );
    // New connections are not served from now on.
    let addr = server.base.trim_start_matches("http://").to_owned();
    let refused = TcpStream::connect(&addr).and_then(|mut c| {
        c.set_read_timeout(Some(Duration::from_millis(300)))?;
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")?;
        let mut buf = Vec::new();
        c.read_to_end(&mut buf)?;
        Ok(buf)
    });
    assert!(
        refused
            .as_ref()
            .map_or(true, |b| !String::from_utf8_lossy(b).contains("200 OK")),
        "a new connection was served after SIGTERM"
    );
    // The request in flight completes.
    conn.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = server
        .wait_exit(Duration::from_secs(15))
        .expect("the server did not exit after SIGTERM");
    assert_eq!(status.code(), Some(0), "{:#?}", server.output());

    // The key made during shutdown exists, and the probed key's last use was written.
    let mut cmd = setup(dir.path(), &url).command();
    cmd.arg("serve");
    let server = start(cmd);
    let token = login(&http, &server, PASSWORD).body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = send(
        http.get(&server.url("/v1/partner/credentials"))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    );
    let creds = list.body["credentials"].as_array().unwrap();
    assert!(
        creds.iter().any(|c| c["name"] == "created during shutdown"),
        "{}",
        list.body
    );
    let probed = creds.iter().find(|c| c["name"] == "ops").unwrap();
    assert!(
        probed["last_used_at"].is_string(),
        "last use lost at shutdown: {}",
        list.body
    );
}
