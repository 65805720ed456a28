//! End to end: the real binary on a free loopback port with a temporary SQLite file,
//! provisioned through its CLI, driven with a real HTTP client, restarted, and its database
//! file searched for secrets.
#![allow(missing_docs)]

use std::path::Path;
use std::time::Duration;

use idunox_test_support::process::{Spawned, run_with_stdin};
use idunox_test_support::server::ServerCommand;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_reference-server");
const SECRET: &str = "e2e-jwt-secret-0123456789abcdefghijklmnop";
const PASSWORD: &str = "e2e correct horse battery";

/// As `docs/configuration.md` writes it, without `?mode=rwc`: the server creates the file anyway.
fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("portal.sqlite").display())
}

/// The real binary in `dir` on `url`, cheap argon2 (m = 4096 KiB, t = 1).
fn setup(dir: &Path, url: &str) -> ServerCommand {
    ServerCommand::new(BIN, dir, url, SECRET).argon2("{m_cost=4096,t_cost=1,p_cost=1}")
}

/// The real binary serving on a free port (killed when dropped; `stop` returns its output).
fn start_server(dir: &Path, url: &str) -> Spawned {
    start_server_with(dir, url, &["serve"])
}

fn start_server_with(dir: &Path, url: &str, args: &[&str]) -> Spawned {
    let mut cmd = setup(dir, url).command();
    cmd.args(args);
    Spawned::start("reference-server", cmd, "listening on ")
}

fn send(req: ureq::Request, body: Option<Value>) -> (u16, Value) {
    let answer = idunox_test_support::http::send(req, body);
    (answer.status, answer.body)
}

fn probe(agent: &ureq::Agent, base: &str, key: &str) -> (u16, Value) {
    send(
        agent
            .get(&format!("{base}/v1/partner-auth-probe"))
            .set("X-Api-Key", key),
        None,
    )
}

fn provision(dir: &Path, url: &str) -> String {
    let out = setup(dir, url)
        .command()
        .args(["tenant", "add", "E2E Partner"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "the tenant id is the only stdout line: {stdout:?}"
    );
    let tenant = lines[0].to_owned();
    assert!(tenant.starts_with("ten_") && tenant.len() == 16, "{tenant}");

    let add_user =
        |email: &str, password: &str| setup(dir, url).user_add_output(&tenant, email, password);
    let short = add_user("ops@e2e.test", "short pw");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let ok = add_user("Ops@E2E.test", PASSWORD);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("usr_"));
    let dup = add_user("ops@e2e.test", PASSWORD);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("exists already"));

    // Unknown tenant.
    let out = setup(dir, url)
        .command()
        .args([
            "user",
            "add",
            "--tenant",
            "ten_nosuchtenant",
            "--email",
            "x@e2e.test",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant"));
    assert!(out.stdout.is_empty());

    // Generated password: printed once, and it works (checked after start).
    let out = setup(dir, url)
        .command()
        .args([
            "user",
            "add",
            "--tenant",
            &tenant,
            "--email",
            "gen@e2e.test",
        ])
        .output()
        .unwrap();
    let generated = generated_password(&out);
    std::fs::write(dir.join("generated.txt"), &generated).unwrap();
    tenant
}

#[test]
fn the_real_binary_end_to_end_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    end_to_end(dir.path(), &url, true);
}

#[test]
fn the_real_binary_end_to_end_on_postgres() {
    let Some(admin) = idunox_test_support::postgres::admin_url() else {
        return;
    };
    let url = idunox_test_support::postgres::fresh_database(&admin);
    let dir = tempfile::tempdir().unwrap();
    end_to_end(dir.path(), &url, false);
}

fn end_to_end(dir: &Path, url: &str, sqlite: bool) {
    let tenant = provision(dir, url);
    let generated = std::fs::read_to_string(dir.join("generated.txt")).unwrap();
    std::fs::remove_file(dir.join("generated.txt")).unwrap();

    let server = start_server(dir, url);
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();

    let (status, config) = send(agent.get(&server.url("/v1/partner/config")), None);
    assert_eq!(status, 200);
    assert_eq!(config["key_prefix"], "idx");

    let (status, gen_login) = send(
        agent.post(&server.url("/v1/partner/auth/login")),
        Some(json!({"email": "gen@e2e.test", "password": generated})),
    );
    assert_eq!(status, 200, "{gen_login}");

    let (status, login) = send(
        agent.post(&server.url("/v1/partner/auth/login")),
        Some(json!({"email": "ops@e2e.test", "password": PASSWORD})),
    );
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["tenant"]["id"], tenant.as_str());
    let token = login["token"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {token}");

    let (status, created) = send(
        agent
            .post(&server.url("/v1/partner/credentials"))
            .set("Authorization", &auth),
        Some(json!({"name": "e2e"})),
    );
    assert_eq!(status, 201, "{created}");
    let old_key = created["api_key"].as_str().unwrap().to_owned();
    let old_id = created["credential"]["id"].as_str().unwrap().to_owned();

    let (status, p) = probe(&agent, &server.base, &old_key);
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["credential"]["status"], "active");
    let (status, p) = probe(
        &agent,
        &server.base,
        "idx_test_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM",
    );
    assert_eq!(
        (status, p["error"]["code"].as_str()),
        (401, Some("invalid_api_key"))
    );

    let (status, rotated) = send(
        agent
            .post(&server.url(&format!("/v1/partner/credentials/{old_id}/rotate")))
            .set("Authorization", &auth),
        Some(json!({"grace_hours": 24})),
    );
    assert_eq!(status, 201, "{rotated}");
    let new_key = rotated["api_key"].as_str().unwrap().to_owned();
    let new_id = rotated["credential"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        probe(&agent, &server.base, &old_key).1["credential"]["status"],
        "grace"
    );
    assert_eq!(
        probe(&agent, &server.base, &new_key).1["credential"]["status"],
        "active"
    );

    // A third key, revoked.
    let (_, third) = send(
        agent
            .post(&server.url("/v1/partner/credentials"))
            .set("Authorization", &auth),
        Some(json!({})),
    );
    let third_key = third["api_key"].as_str().unwrap().to_owned();
    let third_id = third["credential"]["id"].as_str().unwrap().to_owned();
    let (status, revoked) = send(
        agent
            .post(&server.url(&format!("/v1/partner/credentials/{third_id}/revoke")))
            .set("Authorization", &auth),
        None,
    );
    assert_eq!(status, 200, "{revoked}");
    let revoked_at = revoked["credential"]["revoked_at"].clone();
    assert_eq!(
        probe(&agent, &server.base, &third_key).1["error"]["code"],
        "api_key_revoked"
    );

    let log = server.stop();
    let log_text = log.join("\n");
    for secret in [
        &old_key,
        &new_key,
        &third_key,
        &token,
        &PASSWORD.to_owned(),
        &generated,
    ] {
        assert!(
            !log_text.contains(secret.as_str()),
            "a secret reached the log"
        );
    }
    assert!(
        log_text.contains("method=POST route=/v1/partner/credentials status=201"),
        "one line per request: {log_text}"
    );

    // Restart: keys, revocations and sessions survive.
    let server = start_server(dir, url);
    let (status, me) = send(
        agent
            .get(&server.url("/v1/partner/me"))
            .set("Authorization", &auth),
        None,
    );
    assert_eq!(status, 200, "the session survived: {me}");
    let (status, list) = send(
        agent
            .get(&server.url("/v1/partner/credentials"))
            .set("Authorization", &auth),
        None,
    );
    assert_eq!(status, 200);
    let list = list["credentials"].as_array().unwrap().clone();
    assert_eq!(list.len(), 3);
    let by_id = |id: &str| list.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(by_id(&old_id)["status"], "grace");
    assert_eq!(by_id(&old_id)["replaced_by"], new_id.as_str());
    assert_eq!(by_id(&new_id)["status"], "active");
    assert_eq!(by_id(&third_id)["status"], "revoked");
    assert_eq!(by_id(&third_id)["revoked_at"], revoked_at);
    assert_eq!(probe(&agent, &server.base, &old_key).0, 200);
    assert_eq!(probe(&agent, &server.base, &new_key).0, 200);
    assert_eq!(
        probe(&agent, &server.base, &third_key).1["error"]["code"],
        "api_key_revoked"
    );
    server.stop();

    if !sqlite {
        return;
    }
    // At rest: no plaintext key, no secret part, no password, in any database file.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("portal.sqlite"))
        {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(!bytes.is_empty());
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for key in [&old_key, &new_key, &third_key] {
        assert!(!contains(key), "plaintext key at rest");
        assert!(!contains(&key[22..54]), "secret part at rest");
    }
    assert!(!contains(PASSWORD), "password at rest");
    assert!(!contains(&generated), "generated password at rest");
    assert!(!contains(&token), "token at rest");
    // What is there: masked keys and argon2id hashes.
    assert!(contains(&format!("idx_test_{old_id}_")));
    assert!(contains("$argon2id$"));
}

#[test]
fn serve_demo_provisions_once_and_resets_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let mut tenants = Vec::new();
    let mut passwords = Vec::new();
    for _ in 0..2 {
        let url = sqlite_url(dir.path());
        let server = start_server_with(dir.path(), &url, &["serve", "--demo"]);
        // The details are printed right after the listening line.
        let mut details = Vec::new();
        while let Some(line) = server.next_line(Duration::from_secs(10)) {
            let done = line.trim_start().starts_with("uri:");
            details.push(line);
            if done {
                break;
            }
        }
        let field = |name: &str| {
            details
                .iter()
                .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
                .unwrap_or_else(|| panic!("{name} in {details:#?}"))
        };
        let email = field("email:");
        let password = field("password:");
        let tenant = field("tenant:");
        let (status, login) = send(
            agent.post(&server.url("/v1/partner/auth/login")),
            Some(json!({"email": email, "password": password})),
        );
        assert_eq!(status, 200, "{login}");
        // The demo staff account: its own email and password, and a TOTP secret.
        let staff_fields = |name: &str| {
            details
                .iter()
                .filter_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
                .nth(1)
                .unwrap_or_else(|| panic!("a second {name} in {details:#?}"))
        };
        let staff_email = staff_fields("email:");
        let staff_password = staff_fields("password:");
        let secret = field("totp:");
        let secret = secret.split_whitespace().next().unwrap();
        let (status, staff) = send(
            agent.post(&server.url("/v1/admin/auth/login")),
            Some(json!({"email": staff_email, "password": staff_password,
                        "totp": code_now(secret)})),
        );
        assert_eq!(status, 200, "{staff}");
        tenants.push(tenant);
        passwords.push(password);
        server.stop();
    }
    assert_eq!(tenants[0], tenants[1], "the demo tenant is reused");
    assert_ne!(passwords[0], passwords[1], "a fresh password each time");
}

/// The password a provisioning command generated and printed once (`password: …`).
fn generated_password(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let generated = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password:"))
        .and_then(|l| l.split_whitespace().next())
        .expect("a generated password")
        .to_owned();
    assert!(generated.len() >= 20);
    generated
}

/// The code an authenticator app shows now for a base32 secret.
fn code_now(base32: &str) -> String {
    let bytes = totp_rs::Secret::try_from_base32(base32).expect("a base32 TOTP secret");
    let secret = reference_server::auth::totp::TotpSecret::from_bytes(bytes.as_bytes())
        .expect("a 20-byte secret");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    secret.code_at(i64::try_from(now).unwrap())
}

#[test]
fn staff_add_prints_an_enrolment_that_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let add = |email: &str, stdin: Option<&str>| {
        let mut cmd = setup(dir.path(), &url).command();
        cmd.args(["staff", "add", "--email", email]);
        match stdin {
            Some(password) => {
                cmd.arg("--password-stdin");
                run_with_stdin(cmd, &format!("{password}\n"))
            }
            None => cmd.output().unwrap(),
        }
    };
    let out = add("Ops@Idunox.test", Some(PASSWORD));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("stf_") && lines[0].len() == 16,
        "{stdout}"
    );
    let uri = stdout
        .split_whitespace()
        .find(|w| w.starts_with("otpauth://totp/"))
        .expect("an otpauth URI");
    assert!(
        uri.starts_with("otpauth://totp/Idunox:ops%40idunox.test?"),
        "{uri}"
    );
    let secret = url::Url::parse(uri)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(stdout.contains(&format!("totp secret: {secret}")));
    assert!(
        !stdout.contains("password:"),
        "a password from stdin is not printed"
    );
    // Not a terminal: no QR code.
    assert!(!stdout.contains('\u{2588}') && !stdout.contains('\u{2580}'));

    // Refusals: a short password, a taken email, a ':' in the email.
    let short = add("short@idunox.test", Some("short"));
    assert!(!short.status.success() && short.stdout.is_empty());
    let dup = add("ops@idunox.test", Some(PASSWORD));
    assert!(String::from_utf8_lossy(&dup.stderr).contains("exists already"));
    let colon = add("a:b@idunox.test", Some(PASSWORD));
    assert!(!colon.status.success());
    // A generated password, printed once.
    let generated = generated_password(&add("gen@idunox.test", None));

    let server = start_server(dir.path(), &url);
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let login = |code: &str| {
        send(
            agent.post(&server.url("/v1/admin/auth/login")),
            Some(json!({"email": "ops@idunox.test", "password": PASSWORD, "totp": code})),
        )
    };
    let code = code_now(&secret);
    let (status, answer) = login(&code);
    assert_eq!(status, 200, "{answer}");
    let token = answer["token"].as_str().unwrap().to_owned();
    let (status, tenants) = send(
        agent
            .get(&server.url("/v1/admin/tenants"))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    );
    assert_eq!(status, 200, "{tenants}");
    // The same code again: refused.
    assert_eq!(login(&code).0, 401);
    // A whole key pasted where a key id belongs: refused, and never in a log line.
    let pasted = "idx_test_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM";
    let (status, refusal) = send(
        agent
            .get(&server.url(&format!("/v1/admin/credentials/{pasted}")))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    );
    assert_eq!(status, 400, "{refusal}");
    assert!(!refusal.to_string().contains(&pasted[22..]));

    // `staff disable` ends the session at once, on the running server.
    let out = setup(dir.path(), &url)
        .command()
        .args(["staff", "disable", "--email", "ops@idunox.test"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, _) = send(
        agent
            .get(&server.url("/v1/admin/tenants"))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    );
    assert_eq!(status, 401);
    let log = server.stop().join("\n");
    assert!(
        log.contains("route=/v1/admin/credentials/<id> status=400"),
        "{log}"
    );
    for secret_text in [
        &pasted[22..],
        secret.as_str(),
        PASSWORD,
        generated.as_str(),
        token.as_str(),
    ] {
        assert!(
            !log.contains(secret_text),
            "a secret in the server's output"
        );
    }
    // Neither the TOTP secret (base32 or raw) nor a password is in the database file.
    let raw = totp_rs::Secret::try_from_base32(&secret).unwrap();
    let hex: String = raw.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("portal.sqlite") {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"stf_"), "the staff rows are there");
    assert!(!contains(secret.as_bytes()), "base32 TOTP secret at rest");
    assert!(!contains(hex.as_bytes()), "hex TOTP secret at rest");
    assert!(!contains(raw.as_bytes()), "raw TOTP secret at rest");
    assert!(!contains(PASSWORD.as_bytes()) && !contains(generated.as_bytes()));
}
