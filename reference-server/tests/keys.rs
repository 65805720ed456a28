//! The key routes on the new core: restricted keys, numbers written as floats, the live-key
//! limit, PATCH, the paged list, the probe's allow-list, the staff key list and PATCH, and every
//! change committed with its audit entry (or neither).
#![allow(missing_docs)]

mod common;

use common::*;
use idunox_keys::time::Duration;
use idunox_keys::{KeyStore, TenantId};
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};

fn catalogue(f: Figment) -> Figment {
    f.merge((
        "scopes",
        json!([
            {"name": "orders:read", "description": "Read orders"},
            {"name": "orders:write", "description": "Create and cancel orders"}
        ]),
    ))
    .merge(("trusted_proxies", json!(["10.0.0.0/8"])))
}

fn id(r: &Reply) -> String {
    r.body["credential"]["id"].as_str().unwrap().to_owned()
}

fn key(r: &Reply) -> String {
    r.body["api_key"].as_str().unwrap().to_owned()
}

async fn patch(s: &TestServer, path: &str, token: &str, body: Value) -> Reply {
    s.send(
        s.client
            .patch(path.to_owned())
            .header(ContentType::JSON)
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .body(body.to_string()),
    )
    .await
}

async fn probe_from(s: &TestServer, key: &str, ip: &str, xff: Option<&str>) -> Reply {
    let mut req = s
        .client
        .get("/v1/partner-auth-probe")
        .remote(peer(ip))
        .header(Header::new("X-Api-Key", key.to_owned()));
    if let Some(x) = xff {
        req = req.header(Header::new("X-Forwarded-For", x.to_owned()));
    }
    s.send(req).await
}

async fn entries(s: &TestServer, token: &str) -> Vec<Value> {
    let r = s.get("/v1/partner/audit?limit=200", Some(token)).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    r.body["entries"].as_array().unwrap().clone()
}

fn of<'a>(entries: &'a [Value], action: &str) -> Vec<&'a Value> {
    entries.iter().filter(|e| e["action"] == action).collect()
}

async fn credentials(s: &TestServer) -> i64 {
    s.sql_count("SELECT COUNT(*) FROM credentials").await
}

async fn audit_rows(s: &TestServer) -> i64 {
    s.sql_count("SELECT COUNT(*) FROM audit_log").await
}

// ---------------------------------------------------------------- create and rotate

async fn restricted_keys_and_whole_numbers(b: Backend) {
    let s = server_with(b, catalogue).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let config = s.get("/v1/partner/config", None).await;
    assert_eq!(config.body["scopes"][1]["name"], "orders:write");
    assert_eq!(config.body["scopes"][0]["description"], "Read orders");

    let r = s
        .create(
            &a,
            json!({"name": "billing", "validity_days": 150.0, "scopes": ["orders:read"],
                   "allowed_ips": ["203.0.113.0/24", "2001:db8::1"]}),
        )
        .await;
    assert_eq!(r.status, Status::Created, "{}", r.body);
    let c = &r.body["credential"];
    assert_eq!(c["scopes"], json!(["orders:read"]));
    assert_eq!(
        c["allowed_ips"],
        json!(["203.0.113.0/24", "2001:db8::1/128"])
    );
    assert_eq!(c["expires_at"], "2026-05-31T00:00:00Z", "150 days");
    let plain = s.create(&a, json!({})).await;
    assert_eq!(plain.body["credential"]["scopes"], Value::Null);
    assert_eq!(plain.body["credential"]["allowed_ips"], Value::Null);

    for (body, code) in [
        (json!({"validity_days": 1.5}), "invalid_request"),
        (json!({"validity_days": "90"}), "invalid_request"),
        (json!({"validity_days": 366}), "invalid_validity_days"),
        (json!({"validity_days": 0.0}), "invalid_validity_days"),
        (json!({"validity_days": 1e300}), "invalid_validity_days"),
        (json!({"scopes": []}), "invalid_scope"),
        (json!({"scopes": ["orders:delete"]}), "invalid_scope"),
        (json!({"allowed_ips": []}), "invalid_cidr"),
        (json!({"allowed_ips": ["10.0.0.1/8"]}), "invalid_cidr"),
        (json!({"allowed_ips": ["not an address"]}), "invalid_cidr"),
        (json!({"scope": ["orders:read"]}), "invalid_request"),
    ] {
        s.create(&a, body.clone())
            .await
            .assert_error(Status::UnprocessableEntity, code);
    }
    assert_eq!(credentials(&s).await, 2, "refusals store nothing");

    // Rotation: whole numbers as floats, one of the configured overlaps, the successor's
    // validity, restrictions inherited.
    let old = id(&r);
    let path = format!("/v1/partner/credentials/{old}/rotate");
    for (body, code) in [
        (json!({"grace_hours": 25}), "invalid_grace_hours"),
        (json!({"grace_hours": 24.5}), "invalid_request"),
        (json!({}), "invalid_request"),
        (
            json!({"grace_hours": 24, "validity_days": 400}),
            "invalid_validity_days",
        ),
    ] {
        s.post_json(&path, &a.token, body)
            .await
            .assert_error(Status::UnprocessableEntity, code);
    }
    let rotated = s
        .post_json(
            &path,
            &a.token,
            json!({"grace_hours": 24.0, "validity_days": 30}),
        )
        .await;
    assert_eq!(rotated.status, Status::Created, "{}", rotated.body);
    let succ = &rotated.body["credential"];
    assert_eq!(succ["expires_at"], "2026-01-31T00:00:00Z");
    assert_eq!(succ["scopes"], c["scopes"]);
    assert_eq!(succ["allowed_ips"], c["allowed_ips"]);
    assert_eq!(succ["name"], "billing");
    assert_eq!(rotated.body["previous"]["status"], "grace");
    // A second rotation of the same key: 409.
    s.post_json(&path, &a.token, json!({"grace_hours": 24}))
        .await
        .assert_error(Status::Conflict, "conflict");

    let e = entries(&s, &a.token).await;
    let created = of(&e, "credential.created");
    assert_eq!(created.len(), 2);
    let detail = &created[1]["detail"];
    assert_eq!(detail["scopes"], json!(["orders:read"]));
    assert_eq!(detail["name"], "billing");
    assert_eq!(
        created[0]["actor"],
        json!({"kind": "user", "user_id": a.user_id, "email": a.email})
    );
    let rot = of(&e, "credential.rotated");
    assert_eq!(rot.len(), 1);
    assert_eq!(rot[0]["credential_id"], old.as_str());
    assert_eq!(rot[0]["detail"]["successor"], succ["id"]);
    assert_eq!(rot[0]["detail"]["grace_hours"], 24);
    assert!(!e.iter().any(|x| x.to_string().contains(&key(&r)[22..])));
}

async fn the_live_key_limit(b: Backend) {
    let s = server_with(b, |f| f.merge(("max_keys_per_tenant", 3))).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let other = s.account("Other", "admin@other.test").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = s.create(&a, json!({})).await;
        assert_eq!(r.status, Status::Created, "{}", r.body);
        ids.push(id(&r));
    }
    let audit = audit_rows(&s).await;
    s.create(&a, json!({}))
        .await
        .assert_error(Status::Conflict, "key_limit_reached");
    assert_eq!(
        audit_rows(&s).await,
        audit,
        "a refused create writes no entry"
    );
    // Rotation stays allowed at the limit (the key in grace still counts as live).
    assert_eq!(s.rotate(&a, &ids[0], 24).await.status, Status::Created);
    s.create(&a, json!({}))
        .await
        .assert_error(Status::Conflict, "key_limit_reached");
    // Another tenant has its own count.
    assert_eq!(s.create(&other, json!({})).await.status, Status::Created);
    // Revoked and expired keys do not count.
    s.revoke(&a, &ids[1]).await;
    s.revoke(&a, &ids[2]).await;
    assert_eq!(s.create(&a, json!({})).await.status, Status::Created);
    s.create(&a, json!({}))
        .await
        .assert_error(Status::Conflict, "key_limit_reached");
    s.clock.advance(Duration::hours(25));
    assert_eq!(s.create(&a, json!({})).await.status, Status::Created);
}

async fn the_default_limit_is_a_thousand(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let tenant = TenantId::new(a.tenant_id.clone());
    for _ in 0..999 {
        s.app().keys.create(&tenant, None, None).await.unwrap();
    }
    assert_eq!(s.create(&a, json!({})).await.status, Status::Created);
    s.create(&a, json!({}))
        .await
        .assert_error(Status::Conflict, "key_limit_reached");
    assert_eq!(credentials(&s).await, 1000);
}

// ---------------------------------------------------------------- PATCH

async fn patch_changes_and_bites_at_once(b: Backend) {
    let s = server_with(b, catalogue).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let other = s.account("Other", "admin@other.test").await;
    let r = s.create(&a, json!({"name": "ci"})).await;
    let (kid, k) = (id(&r), key(&r));
    let path = format!("/v1/partner/credentials/{kid}");
    assert_eq!(
        probe_from(&s, &k, "198.51.100.9", None).await.status,
        Status::Ok
    );

    // Restrict: the next request on this instance is refused.
    let p = patch(
        &s,
        &path,
        &a.token,
        json!({"allowed_ips": ["203.0.113.0/24"], "scopes": ["orders:read"]}),
    )
    .await;
    assert_eq!(p.status, Status::Ok, "{}", p.body);
    assert_eq!(p.body["credential"]["name"], "ci", "absent: unchanged");
    assert_eq!(
        p.body["credential"]["allowed_ips"],
        json!(["203.0.113.0/24"])
    );
    probe_from(&s, &k, "198.51.100.9", None)
        .await
        .assert_error(Status::Forbidden, "ip_not_allowed");
    let ok = probe_from(&s, &k, "203.0.113.5", None).await;
    assert_eq!(ok.status, Status::Ok);
    assert_eq!(ok.body["credential"]["scopes"], json!(["orders:read"]));

    // Refusals change nothing.
    for (body, status, code) in [
        (
            json!({"scopes": ["orders:delete"]}),
            Status::UnprocessableEntity,
            "invalid_scope",
        ),
        (
            json!({"allowed_ips": []}),
            Status::UnprocessableEntity,
            "invalid_cidr",
        ),
        (
            json!({"name": "x".repeat(101)}),
            Status::UnprocessableEntity,
            "invalid_name",
        ),
        (
            json!({"nmae": "typo"}),
            Status::UnprocessableEntity,
            "invalid_request",
        ),
        (
            json!({"scopes": "orders:read"}),
            Status::UnprocessableEntity,
            "invalid_request",
        ),
    ] {
        patch(&s, &path, &a.token, body)
            .await
            .assert_error(status, code);
    }
    patch(&s, &path, &other.token, json!({"name": "mine"}))
        .await
        .assert_error(Status::NotFound, "not_found");
    patch(&s, "/v1/partner/credentials/nope", &a.token, json!({}))
        .await
        .assert_error(Status::NotFound, "not_found");

    // null lifts a restriction and removes the name.
    let p = patch(
        &s,
        &path,
        &a.token,
        json!({"allowed_ips": null, "name": null}),
    )
    .await;
    assert_eq!(p.body["credential"]["allowed_ips"], Value::Null);
    assert_eq!(p.body["credential"]["name"], Value::Null);
    assert_eq!(p.body["credential"]["scopes"], json!(["orders:read"]));
    assert_eq!(
        probe_from(&s, &k, "198.51.100.9", None).await.status,
        Status::Ok
    );

    // The same values again: no entry.
    let before = audit_rows(&s).await;
    let same = patch(&s, &path, &a.token, json!({"scopes": ["orders:read"]})).await;
    assert_eq!(same.status, Status::Ok);
    assert_eq!(audit_rows(&s).await, before);

    let e = entries(&s, &a.token).await;
    let updated = of(&e, "credential.updated");
    assert_eq!(updated.len(), 2);
    assert_eq!(
        updated[0]["detail"]["fields"],
        json!(["name", "allowed_ips"])
    );
    assert_eq!(updated[0]["detail"]["before"]["name"], "ci");
    assert_eq!(
        updated[1]["detail"]["fields"],
        json!(["scopes", "allowed_ips"])
    );
    assert_eq!(updated[0]["credential_id"], kid.as_str());

    // A revoked key, and an expired one: 409.
    s.revoke(&a, &kid).await;
    patch(&s, &path, &a.token, json!({"name": "late"}))
        .await
        .assert_error(Status::Conflict, "conflict");
    let r = s.create(&a, json!({"validity_days": 1})).await;
    s.clock.advance(Duration::days(2));
    patch(
        &s,
        &format!("/v1/partner/credentials/{}", id(&r)),
        &a.token,
        json!({"name": "late"}),
    )
    .await
    .assert_error(Status::Conflict, "conflict");
}

async fn without_a_cache_every_request_reads_the_store(b: Backend) {
    let s = server_with(b, |f| f.merge(("max_staleness_ms", 0))).await;
    assert!(s.app().keys.store().feed().is_none(), "no change feed");
    let a = s.account("Acme", "admin@acme.test").await;
    let r = s.create(&a, json!({})).await;
    let (kid, k) = (id(&r), key(&r));
    for _ in 0..2 {
        assert_eq!(
            probe_from(&s, &k, "198.51.100.9", None).await.status,
            Status::Ok
        );
    }
    // A change made behind the server's back (another writer, no feed) is seen at once.
    s.sql_exec(&format!(
        "UPDATE credentials SET allowed_ips = '203.0.113.0/24' WHERE key_id = '{kid}'"
    ))
    .await;
    probe_from(&s, &k, "198.51.100.9", None)
        .await
        .assert_error(Status::Forbidden, "ip_not_allowed");
}

// ---------------------------------------------------------------- the list

async fn list_pages_filters_and_refusals(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let other = s.account("Other", "admin@other.test").await;
    s.create(&other, json!({"name": "Billing elsewhere"})).await;
    let mut ids = Vec::new();
    for (name, days) in [
        ("Billing-sync", 300),
        ("ci", 10),
        ("nightly", 200),
        ("billing backup", 100),
        ("spare", 50),
    ] {
        let r = s
            .create(&a, json!({"name": name, "validity_days": days}))
            .await;
        ids.push(id(&r));
        s.clock.advance(Duration::seconds(1));
    }
    s.revoke(&a, &ids[4]).await; // revoked now: stops verifying first
    let rotated = s.rotate(&a, &ids[2], 24).await; // "nightly" in grace: its grace end counts
    let successor = id(&rotated);

    let get = |q: &str| {
        let path = format!("/v1/partner/credentials{q}");
        let token = a.token.clone();
        let s = &s;
        async move { s.get(&path, Some(&token)).await }
    };
    let names = |r: &Reply| -> Vec<String> {
        r.body["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };

    // Counts: the whole tenant, whatever the filters.
    let all = get("").await;
    assert_eq!(all.status, Status::Ok, "{}", all.body);
    assert_eq!(names(&all).len(), 6);
    assert_eq!(all.body["next_cursor"], Value::Null);
    let counts = json!({"active": 3, "expiring": 1, "grace": 1, "revoked": 1, "expired": 0});
    assert_eq!(all.body["counts"], counts);
    assert_eq!(names(&all)[0], successor, "newest first");

    // Paging: every key once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = match &cursor {
            Some(c) => format!("?limit=4&cursor={}", urlencoding(c)),
            None => "?limit=4".to_owned(),
        };
        let page = get(&q).await;
        assert_eq!(page.status, Status::Ok, "{}", page.body);
        assert_eq!(page.body["counts"], counts);
        seen.extend(names(&page));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, names(&all));

    // Filters.
    let r = get("?status=revoked,grace").await;
    let mut got = names(&r);
    got.sort();
    let mut want = vec![ids[4].clone(), ids[2].clone()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(r.body["counts"], counts);
    let r = get("?q=BILLING").await;
    assert_eq!(
        names(&r),
        [ids[3].clone(), ids[0].clone()],
        "case-insensitive, own tenant"
    );
    let r = get(&format!("?q={}", &ids[1][2..8])).await;
    assert_eq!(names(&r), [ids[1].clone()], "by key id");
    assert!(
        names(&get("?q=idx_test").await).is_empty(),
        "not the masked key's prefix"
    );
    assert_eq!(names(&get("?q=").await).len(), 6, "empty q: no filter");

    // Soonest to stop verifying first: revoked now, the grace end (24 h), then by expiry.
    let r = get("?sort=expires").await;
    assert_eq!(
        names(&r),
        [
            ids[4].clone(),
            ids[2].clone(),
            ids[1].clone(),
            ids[3].clone(),
            ids[0].clone(),
            successor.clone()
        ]
    );
    // A cursor of one order is refused in the other.
    let c = get("?sort=expires&limit=1").await.body["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    for q in [
        format!("?cursor={}", urlencoding(&c)),
        "?cursor=garbage".to_owned(),
        "?cursor=".to_owned(),
        "?status=live".to_owned(),
        "?status=active,".to_owned(),
        "?sort=name".to_owned(),
        "?limit=0".to_owned(),
        "?limit=1001".to_owned(),
        "?limit=ten".to_owned(),
        "?limit=2&limit=3".to_owned(),
        "?status=active&status=revoked".to_owned(),
        format!("?q={}", "x".repeat(201)),
    ] {
        get(&q)
            .await
            .assert_error(Status::UnprocessableEntity, "invalid_request");
    }
    // Another tenant's cursor names nothing of this listing.
    let theirs = s
        .get("/v1/partner/credentials?limit=1", Some(&other.token))
        .await;
    assert_eq!(theirs.body["next_cursor"], Value::Null);
}

/// Percent-encode a cursor for a query string.
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------- atomic audit

async fn every_change_commits_with_its_audit_entry_or_not_at_all(b: Backend) {
    let s = server_with(b, catalogue).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let r = s.create(&a, json!({"name": "kept"})).await;
    let (kid, k) = (id(&r), key(&r));
    let keys_before = credentials(&s).await;
    let audit_before = audit_rows(&s).await;
    s.without_audit_table(async {
        s.create(&a, json!({}))
            .await
            .assert_error(Status::ServiceUnavailable, "service_unavailable");
        s.rotate(&a, &kid, 24)
            .await
            .assert_error(Status::ServiceUnavailable, "service_unavailable");
        s.revoke(&a, &kid)
            .await
            .assert_error(Status::ServiceUnavailable, "service_unavailable");
        patch(
            &s,
            &format!("/v1/partner/credentials/{kid}"),
            &a.token,
            json!({"name": "changed", "allowed_ips": ["192.0.2.0/24"]}),
        )
        .await
        .assert_error(Status::ServiceUnavailable, "service_unavailable");
    })
    .await;
    assert_eq!(
        credentials(&s).await,
        keys_before,
        "no key created, no successor"
    );
    assert_eq!(audit_rows(&s).await, audit_before);
    // Nothing changed, also for this instance's verifier (whose cache the feed would have told).
    let probe = probe_from(&s, &k, "198.51.100.9", None).await;
    assert_eq!(probe.status, Status::Ok, "{}", probe.body);
    assert_eq!(probe.body["credential"]["status"], "active");
    let list = s.list(&a).await;
    assert_eq!(list[0]["name"], "kept");
    assert_eq!(list[0]["replaced_by"], Value::Null);
    // And the same changes succeed, each with one entry.
    assert_eq!(s.rotate(&a, &kid, 24).await.status, Status::Created);
    assert_eq!(s.revoke(&a, &kid).await.status, Status::Ok);
    let e = entries(&s, &a.token).await;
    assert_eq!(of(&e, "credential.rotated").len(), 1);
    assert_eq!(of(&e, "credential.revoked").len(), 1);
    // A second revoke changes nothing and writes nothing.
    let n = audit_rows(&s).await;
    assert_eq!(s.revoke(&a, &kid).await.status, Status::Ok);
    assert_eq!(audit_rows(&s).await, n);
}

// ---------------------------------------------------------------- the probe's allow-list

async fn restricted_keys_through_the_probe(b: Backend) {
    let s = server_with(b, catalogue).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let r = s
        .create(
            &a,
            json!({"scopes": ["orders:write"], "allowed_ips": ["203.0.113.0/24", "2001:db8:1::/48"]}),
        )
        .await;
    let (kid, k) = (id(&r), key(&r));

    let ok = probe_from(&s, &k, "203.0.113.7", None).await;
    assert_eq!(ok.status, Status::Ok, "{}", ok.body);
    assert_eq!(
        ok.body["credential"],
        json!({"id": kid, "masked_key": r.body["credential"]["masked_key"], "status": "active",
               "scopes": ["orders:write"], "allowed_ips": ["203.0.113.0/24", "2001:db8:1::/48"]})
    );
    for (peer_ip, xff, want) in [
        ("198.51.100.1", None, Status::Forbidden),
        ("::ffff:203.0.113.7", None, Status::Ok),
        ("2001:db8:1:2::9", None, Status::Ok),
        ("2001:db8:2::9", None, Status::Forbidden),
        // X-Forwarded-For counts only from a trusted proxy.
        ("198.51.100.1", Some("203.0.113.7"), Status::Forbidden),
        ("10.0.0.2", Some("203.0.113.7"), Status::Ok),
        ("10.0.0.2", Some("203.0.113.7, 10.1.1.1"), Status::Ok),
        (
            "10.0.0.2",
            Some("203.0.113.7, 198.51.100.1"),
            Status::Forbidden,
        ),
        ("10.0.0.2", Some("::ffff:203.0.113.7"), Status::Ok),
        // A trusted proxy that names nobody: the client is unknown, the key refused.
        ("10.0.0.2", None, Status::Forbidden),
        ("10.0.0.2", Some("unknown"), Status::Forbidden),
    ] {
        let r = probe_from(&s, &k, peer_ip, xff).await;
        assert_eq!(r.status, want, "{peer_ip} {xff:?}: {}", r.body);
        if want == Status::Forbidden {
            r.assert_error(Status::Forbidden, "ip_not_allowed");
        }
    }
    // The secret and the status come first.
    let mut wrong = k.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    probe_from(&s, &wrong, "198.51.100.1", None)
        .await
        .assert_error(Status::Unauthorized, "invalid_api_key");
    s.revoke(&a, &kid).await;
    probe_from(&s, &k, "198.51.100.1", None)
        .await
        .assert_error(Status::Unauthorized, "api_key_revoked");
}

// ---------------------------------------------------------------- staff

async fn staff_list_and_restrict_keys_across_tenants(b: Backend) {
    let s = server_with(b, catalogue).await;
    let acme = s.account("Acme", "admin@acme.test").await;
    let other = s.account("Other", "admin@other.test").await;
    let r1 = s.create(&acme, json!({"name": "billing"})).await;
    let r2 = s.create(&other, json!({"name": "Billing too"})).await;
    let r3 = s.create(&other, json!({"name": "ci"})).await;
    let staff = s.add_staff("ops@idunox.test").await;
    let token = s.staff_token(&staff).await;

    let r = s.get("/v1/admin/credentials", Some(&token)).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    let items = r.body["credentials"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["id"], r3.body["credential"]["id"]);
    assert_eq!(
        items[0]["tenant"],
        json!({"id": other.tenant_id, "name": "Other"})
    );
    assert_eq!(items[0]["masked_key"], r3.body["credential"]["masked_key"]);
    assert!(r.body.get("counts").is_none(), "no counts across tenants");

    let r = s.get("/v1/admin/credentials?q=billing", Some(&token)).await;
    assert_eq!(r.body["credentials"].as_array().unwrap().len(), 2);
    let masked = r1.body["credential"]["masked_key"].as_str().unwrap();
    let r = s
        .get(
            &format!("/v1/admin/credentials?q={}", &masked[..20]),
            Some(&token),
        )
        .await;
    assert_eq!(r.body["credentials"][0]["id"], r1.body["credential"]["id"]);
    assert_eq!(r.body["credentials"].as_array().unwrap().len(), 1);
    let r = s
        .get(
            &format!("/v1/admin/credentials?tenant={}&limit=1", other.tenant_id),
            Some(&token),
        )
        .await;
    assert_eq!(r.body["credentials"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["counts"]["active"], 2);
    assert!(r.body["next_cursor"].is_string());
    let r = s
        .get("/v1/admin/credentials?tenant=ten_nobody", Some(&token))
        .await;
    assert_eq!(r.body["credentials"], json!([]));
    for q in [
        format!("?q={}", "x".repeat(201)),
        "?tenant=acme".to_owned(),
        "?status=gone".to_owned(),
        "?q=a&q=b".to_owned(),
    ] {
        s.get(&format!("/v1/admin/credentials{q}"), Some(&token))
            .await
            .assert_error(Status::UnprocessableEntity, "invalid_request");
    }
    // A partner's token is not a staff token.
    s.get("/v1/admin/credentials", Some(&acme.token))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");

    // PATCH on the tenant's behalf, by id or masked key; a whole key is refused unread.
    let kid = id(&r1);
    let k = key(&r1);
    let p = patch(
        &s,
        &format!("/v1/admin/credentials/{kid}"),
        &token,
        json!({"allowed_ips": ["203.0.113.0/24"]}),
    )
    .await;
    assert_eq!(p.status, Status::Ok, "{}", p.body);
    assert_eq!(
        p.body["credential"]["allowed_ips"],
        json!(["203.0.113.0/24"])
    );
    probe_from(&s, &k, "198.51.100.1", None)
        .await
        .assert_error(Status::Forbidden, "ip_not_allowed");
    patch(
        &s,
        &format!("/v1/admin/credentials/{k}"),
        &token,
        json!({"name": "x"}),
    )
    .await
    .assert_error(Status::BadRequest, "invalid_request");
    patch(
        &s,
        "/v1/admin/credentials/AAAAAAAAAAAA",
        &token,
        json!({"name": "x"}),
    )
    .await
    .assert_error(Status::NotFound, "not_found");
    patch(
        &s,
        &format!("/v1/admin/credentials/{kid}"),
        &acme.token,
        json!({"name": "x"}),
    )
    .await
    .assert_error(Status::Unauthorized, "unauthorized");

    // Revoke and revoke-all commit with their entries, or not at all.
    let other_ids = [id(&r2), id(&r3)];
    s.without_audit_table(async {
        s.post_empty(&format!("/v1/admin/credentials/{kid}/revoke"), &token)
            .await
            .assert_error(Status::ServiceUnavailable, "service_unavailable");
        s.post_empty(
            &format!("/v1/admin/tenants/{}/revoke-all", other.tenant_id),
            &token,
        )
        .await
        .assert_error(Status::ServiceUnavailable, "service_unavailable");
    })
    .await;
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL")
            .await,
        0
    );
    let r = s
        .post_empty(&format!("/v1/admin/credentials/{kid}/revoke"), &token)
        .await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    let r = s
        .post_empty(
            &format!("/v1/admin/tenants/{}/revoke-all", other.tenant_id),
            &token,
        )
        .await;
    assert_eq!(r.body["revoked"], 2);

    let staff_actor = json!({"kind": "staff", "staff_id": staff.id, "email": staff.email});
    let e = entries(&s, &acme.token).await;
    let updated = of(&e, "credential.updated");
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["actor"], staff_actor);
    let revoked = of(&e, "credential.revoked");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["actor"], staff_actor);
    let e = entries(&s, &other.token).await;
    let revoked = of(&e, "credential.revoked");
    assert_eq!(revoked.len(), 2);
    for r in &revoked {
        assert_eq!(r["actor"], staff_actor);
        assert_eq!(r["detail"]["via"], "revoke_all");
        assert!(other_ids.iter().any(|i| r["credential_id"] == i.as_str()));
    }
    assert_eq!(of(&e, "tenant.keys_revoked")[0]["detail"]["revoked"], 2);
}

on_both_backends!(
    restricted_keys_and_whole_numbers,
    the_live_key_limit,
    the_default_limit_is_a_thousand,
    patch_changes_and_bites_at_once,
    without_a_cache_every_request_reads_the_store,
    list_pages_filters_and_refusals,
    every_change_commits_with_its_audit_entry_or_not_at_all,
    restricted_keys_through_the_probe,
    staff_list_and_restrict_keys_across_tenants,
);
