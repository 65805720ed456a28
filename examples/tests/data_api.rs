//! Runs the `data-api` binary on a free loopback port and asks it what a newcomer's curl asks.

use std::process::Command;
use std::time::Duration;

use idunox_test_support::process::Spawned;
use serde_json::{Value, json};

/// Start `data-api --port 0` and read its address and demo keys from what it prints: the
/// read-write key, then the read-only one. The process is killed when the returned handle drops,
/// passed or not.
fn start() -> (Spawned, String, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-api"));
    cmd.args(["--port", "0"]);
    let server = Spawned::start("data-api", cmd, "data-api listening on ");
    let url = server.base.clone();
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
    let ro = keys.pop().unwrap();
    let rw = keys.pop().unwrap();
    (server, url, rw, ro)
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
    let (_server, url, key, _) = start();
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
    assert_eq!(
        body["credential"]["scopes"],
        json!(["orders:read", "orders:write"])
    );
    assert_eq!(body["credential"]["allowed_ips"], Value::Null);

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

/// A JSON POST; status, `WWW-Authenticate` and body.
fn post(url: &str, key: &str, body: &Value) -> (u16, Option<String>, Value) {
    let res = match ureq::post(url)
        .timeout(Duration::from_secs(30))
        .set("X-Api-Key", key)
        .send_json(body.clone())
    {
        Ok(res) => res,
        Err(ureq::Error::Status(_, res)) => res,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = res.status();
    let www = res.header("www-authenticate").map(str::to_owned);
    (status, www, res.into_json().unwrap())
}

#[test]
fn the_read_and_the_write_route_need_their_own_scopes() {
    let (_server, url, rw, ro) = start();
    let orders = format!("{url}/v1/orders");
    // The read-only key, from this machine (it is restricted to loopback): reads…
    let (status, _, body) = get(&orders, Some(&ro));
    assert_eq!((status, body), (200, json!({"orders": []})));
    let (_, _, probe) = get(&format!("{url}/v1/partner-auth-probe"), Some(&ro));
    assert_eq!(
        probe["credential"]["allowed_ips"],
        json!(["127.0.0.0/8", "::1/128"])
    );
    // …but may not write.
    let order = json!({"item": "widget", "quantity": 3});
    let (status, www, body) = post(&orders, &ro, &order);
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_scope");
    assert_eq!(
        www.as_deref(),
        Some(
            r#"ApiKey realm="idunox", header="X-Api-Key", error="insufficient_scope", scope="orders:write""#
        )
    );
    // The read-write key writes, and both read it back.
    let (status, _, body) = post(&orders, &rw, &order);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["item"], "widget");
    for key in [&rw, &ro] {
        let (_, _, body) = get(&orders, Some(key));
        assert_eq!(body["orders"][0]["quantity"], 3);
    }
    // A bad order is refused with the envelope; an unknown path is a 404, no key needed.
    let (status, _, body) = post(&orders, &rw, &json!({"item": "", "quantity": 0}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_request"))
    );
    let res = ureq::get(&format!("{url}/v1/nope")).call();
    assert!(matches!(res, Err(ureq::Error::Status(404, _))));
}
