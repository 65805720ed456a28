//! The HTTP surface through the real binary and raw sockets: a half-sent body is cut off (408,
//! connection closed), connections are not kept alive, an unknown method (`FOO`) gets 405 with
//! `Allow`, odd path spellings still get `Cache-Control: no-store`, and the SQLite file the
//! server or its CLI creates is private (0600).
#![allow(missing_docs)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use idunox_test_support::process::Spawned;
use idunox_test_support::server::ServerCommand;

const BIN: &str = env!("CARGO_BIN_EXE_reference-server");
const PASSWORD: &str = "surface correct horse";

/// The real binary in `dir` on `url`: cheap argon2 (m = 1024 KiB, t = 1), request bodies cut off after one second.
fn setup(dir: &Path, url: &str) -> ServerCommand {
    ServerCommand::new(BIN, dir, url, "surface-jwt-secret-0123456789abcdefghij")
        .argon2("{m_cost=1024,t_cost=1,p_cost=1}")
        .env("ROCKET_BODY_TIMEOUT_SECONDS", "1")
}

/// The server, a tenant and a signed-in user's token.
fn start(dir: &Path, url: &str) -> (Spawned, String) {
    setup(dir, url).provision("Surface", "ops@surface.test", PASSWORD);
    let mut serve = setup(dir, url).command();
    serve.arg("serve");
    let server = Spawned::start("reference-server", serve, "listening on ");
    let answer = idunox_test_support::http::send(
        ureq::post(&server.url("/v1/partner/auth/login")),
        Some(serde_json::json!({"email": "ops@surface.test", "password": PASSWORD})),
    );
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let token = answer.body["token"].as_str().unwrap().to_owned();
    (server, token)
}

/// Send `bytes` on a fresh connection and read until the server closes it or `wait` passes.
/// Returns what was read and whether the server closed the connection.
fn exchange(server: &Spawned, bytes: &[u8], wait: Duration) -> (String, bool) {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(bytes).unwrap();
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (String::from_utf8_lossy(&got).into_owned(), false);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (String::from_utf8_lossy(&got).into_owned(), true);
            }
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    response.split("\r\n\r\n").next()?.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn surface(dir: &Path, url: &str) {
    let (server, token) = start(dir, url);

    // A half-sent body: the server answers 408 once the body deadline (1 s here) passes, and
    // closes the connection.
    let half = b"POST /v1/partner/auth/login HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"email\":\"ops@surface.test\",\"pass";
    let (answer, closed) = exchange(&server, half, Duration::from_secs(15));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert!(closed, "the connection is closed after the 408");

    // A half-sent text body is refused by the media-type gate as soon as its first bytes show
    // (415), without waiting for the rest, and the connection ends.
    let half = b"POST /v1/partner/auth/logout HTTP/1.1\r\nHost: x\r\n\
        Content-Type: text/plain\r\nContent-Length: 200\r\n\r\nsome text, but not all";
    let (answer, closed) = exchange(&server, half, Duration::from_secs(15));
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
    assert!(closed);

    // No keep-alive: a connection ends with its response.
    let (answer, closed) = exchange(
        &server,
        b"GET /v1/partner/config HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(15),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed, "not kept alive");

    // A method Rocket does not know: 405 with Allow on a known path, 404 elsewhere.
    let (answer, _) = exchange(
        &server,
        b"FOO /v1/partner/credentials HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(15),
    );
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert_eq!(
        header(&answer, "allow"),
        Some("GET, HEAD, POST"),
        "{answer}"
    );
    assert_eq!(header(&answer, "cache-control"), Some("no-store"));
    assert!(answer.contains("\"method_not_allowed\""), "{answer}");
    let (answer, _) = exchange(
        &server,
        b"FOO /v1/partner/nope HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(15),
    );
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");

    // A plaintext key under odd spellings of the path still gets no-store.
    for path in ["//v1/partner/credentials", "/%761/partner/credentials"] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        let (answer, _) = exchange(&server, request.as_bytes(), Duration::from_secs(15));
        assert!(answer.starts_with("HTTP/1.1 201"), "{path}: {answer}");
        assert!(answer.contains("\"api_key\""), "{path}");
        assert_eq!(header(&answer, "cache-control"), Some("no-store"), "{path}");
    }

    // A create whose connection breaks before any body byte is not an empty create: no key.
    let addr = server.base.trim_start_matches("http://");
    let mut broken = TcpStream::connect(addr).unwrap();
    let request = format!(
        "POST /v1/partner/credentials HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    broken.write_all(request.as_bytes()).unwrap();
    broken.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    broken
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let _ = broken.read_to_end(&mut rest);
    let list = idunox_test_support::http::send(
        ureq::get(&server.url("/v1/partner/credentials"))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    );
    assert_eq!(
        list.body["credentials"].as_array().map(Vec::len),
        Some(2),
        "only the two keys above: {}",
        list.body
    );
    server.stop();
}

#[test]
fn surface_through_the_real_binary_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("surface.sqlite").display());
    surface(dir.path(), &url);
}

#[test]
fn surface_through_the_real_binary_on_postgres() {
    let Some(admin) = idunox_test_support::postgres::admin_url() else {
        return;
    };
    let url = idunox_test_support::postgres::fresh_database(&admin);
    let dir = tempfile::tempdir().unwrap();
    surface(dir.path(), &url);
}

#[cfg(unix)]
#[test]
fn sqlite_files_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

    // Made by the CLI.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cli.sqlite");
    setup(dir.path(), &format!("sqlite://{}", file.display())).tenant_add("Private");
    assert_eq!(mode(&file), 0o600);

    // Made by the server (the default URL, in its working directory).
    let dir = tempfile::tempdir().unwrap();
    let mut serve = setup(dir.path(), "sqlite://idunox.sqlite").command();
    serve.env_remove("ROCKET_DATABASES").arg("serve");
    let server = Spawned::start("reference-server", serve, "listening on ");
    let answer =
        idunox_test_support::http::send(ureq::get(&server.url("/v1/partner/config")), None);
    assert_eq!(answer.status, 200);
    server.stop();
    let file = dir.path().join("idunox.sqlite");
    assert_eq!(mode(&file), 0o600);
    // Journal files SQLite left behind carry the database's mode.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("idunox.sqlite") {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }

    // An existing file is left alone, with a warning.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shared.sqlite");
    std::fs::write(&file, b"").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, stderr) =
        setup(dir.path(), &format!("sqlite://{}", file.display())).tenant_add("Shared");
    assert_eq!(mode(&file), 0o644);
    assert!(stderr.contains("can be read by other users"), "{stderr}");
}
