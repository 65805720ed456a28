//! Runs the `data-api` binary on a free loopback port and asks it what a newcomer's curl asks.

use std::process::Command;
use std::time::Duration;

use idunox_test_support::process::Spawned;
use serde_json::Value;

/// Start `data-api --port 0` and read its address and demo key from what it prints. The process
/// is killed when the returned handle drops, passed or not.
fn start() -> (Spawned, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-api"));
    cmd.args(["--port", "0"]);
    let server = Spawned::start("data-api", cmd, "data-api listening on ");
    let url = server.base.clone();
    let key = loop {
        let line = server
            .next_line(Duration::from_secs(60))
            .expect("data-api printed no key within 60 s");
        let trimmed = line.trim();
        if trimmed.starts_with("idx_test_") && !trimmed.contains(' ') {
            break trimmed.to_owned();
        }
    };
    (server, url, key)
}

fn get(url: &str, key: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = ureq::get(url).timeout(Duration::from_secs(30));
    if let Some(k) = key {
        req = req.set("X-Api-Key", k);
    }
    let res = match req.call() {
        Ok(res) => res,
        Err(ureq::Error::Status(_, res)) => res,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = res.status();
    let www = res.header("www-authenticate").map(str::to_owned);
    (status, www, res.into_json().unwrap())
}

#[test]
fn data_api_answers_the_probe_as_the_readme_says() {
    let (_server, url, key) = start();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(key.len(), 60);
    let probe = format!("{url}/v1/partner-auth-probe");

    let (status, www, body) = get(&probe, Some(&key));
    assert_eq!(status, 200, "{body}");
    assert_eq!(www, None);
    assert_eq!(body["ok"], true);
    assert_eq!(body["tenant"]["id"], "tnt_demo");
    assert_eq!(body["tenant"]["name"], "Demo Partner");
    let id = &key[9..21];
    assert_eq!(body["credential"]["id"], id);
    assert_eq!(
        body["credential"]["masked_key"],
        format!("idx_test_{id}_••••")
    );
    assert_eq!(body["credential"]["status"], "active");

    let (status, www, body) = get(&probe, None);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "missing_api_key");
    assert_eq!(
        www.as_deref(),
        Some(r#"ApiKey realm="idunox", header="X-Api-Key""#)
    );

    let mut typo = key.clone().into_bytes();
    typo[30] = if typo[30] == b'a' { b'b' } else { b'a' };
    let (status, _, body) = get(&probe, Some(std::str::from_utf8(&typo).unwrap()));
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_api_key");
}
