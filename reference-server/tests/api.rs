//! The HTTP contract of `docs/http-api.md` through Rocket's local client, a fresh database per
//! test.
#![allow(missing_docs)]

mod common;

use common::*;
use idunox_keys::time::Duration;
use idunox_keys::{KeyFormat, KeyId};
use jsonwebtoken::{Algorithm, EncodingKey, Header as JwtHeader};
use rocket::http::{Header, Status};
use serde_json::{Value, json};

const CREDENTIAL_FIELDS: [&str; 14] = [
    "id",
    "name",
    "masked_key",
    "status",
    "created_at",
    "expires_at",
    "expires_in_days",
    "grace_expires_at",
    "revoked_at",
    "replaced_by",
    "replaces",
    "last_used_at",
    "scopes",
    "allowed_ips",
];

fn assert_credential_shape(c: &Value) {
    let obj = c.as_object().expect("credential object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = CREDENTIAL_FIELDS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "exactly the 14 credential fields");
}

fn id(r: &Reply) -> String {
    r.body["credential"]["id"].as_str().unwrap().to_owned()
}

fn key(r: &Reply) -> String {
    r.body["api_key"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------- config, openapi, catchers

async fn config_has_exactly_the_documented_fields(b: Backend) {
    let s = server(b).await;
    let r = s.get("/v1/partner/config", None).await;
    assert_eq!(r.status, Status::Ok);
    let mut keys: Vec<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "api_base_url",
            "default_validity_days",
            "docs_url",
            "environment",
            "expiring_threshold_days",
            "key_prefix",
            "portal_url",
            "rotation_grace_hours",
            "scopes",
        ]
    );
    assert_eq!(r.body["scopes"], json!([]));
    assert_eq!(r.body["environment"], "test");
    assert_eq!(r.body["key_prefix"], "idx");
    assert_eq!(r.body["default_validity_days"], 365);
    assert_eq!(r.body["rotation_grace_hours"], json!([24, 48, 72]));
    assert_eq!(r.body["expiring_threshold_days"], 30);
    assert!(!r.body.to_string().contains(JWT_SECRET));
}

async fn openapi_lists_every_path(b: Backend) {
    let s = server(b).await;
    let r = s.get("/v1/openapi.json", None).await;
    assert_eq!(r.status, Status::Ok);
    let paths = r.body["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/v1/partner/auth/login", "post"),
        ("/v1/partner/auth/logout", "post"),
        ("/v1/partner/me", "get"),
        ("/v1/partner/me/password", "post"),
        ("/v1/partner/config", "get"),
        ("/v1/partner/credentials", "get"),
        ("/v1/partner/credentials", "post"),
        ("/v1/partner/credentials/{id}", "patch"),
        ("/v1/partner/credentials/{id}/rotate", "post"),
        ("/v1/partner/credentials/{id}/revoke", "post"),
        ("/v1/partner-auth-probe", "get"),
        ("/v1/partner/audit", "get"),
        ("/v1/openapi.json", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} documented"
        );
    }
    // Every operation may answer 415 (a body that is not JSON); 405 has its shared response.
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["responses"].get("415").is_some(), "{method} {path}: 415");
        }
    }
    assert!(r.body["components"]["responses"]["MethodNotAllowed"]["headers"]["Allow"].is_object());
    // And the other way round: every mounted /v1 route is documented.
    for route in s.client.rocket().routes() {
        let path = route.uri.path().to_string();
        if !path.starts_with("/v1/") || path.contains("..>") {
            continue;
        }
        let path = path.replace('<', "{").replace('>', "}");
        let method = route.method.as_str().to_ascii_lowercase();
        assert!(
            paths.get(&path).and_then(|p| p.get(&method)).is_some(),
            "{method} {path} is mounted but not documented"
        );
    }
}

async fn every_v1_error_is_the_json_envelope(b: Backend) {
    let s = server(b).await;
    s.get("/v1/nope", None)
        .await
        .assert_error(Status::NotFound, "not_found");
    s.get("/v1/partner/credentials/abc/nope", None)
        .await
        .assert_error(Status::NotFound, "not_found");
    // A known path under another method: 405 with Allow (see tests/http_surface.rs).
    let r = s.get("/v1/partner/credentials/abc/rotate", None).await;
    r.assert_error(Status::MethodNotAllowed, "method_not_allowed");
    assert_eq!(r.header("Allow"), Some("POST"));
    let r = s.post("/v1/partner/auth/login", None, "{not json").await;
    r.assert_error(Status::BadRequest, "invalid_json");
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(r.header("Referrer-Policy"), Some("no-referrer"));
}

async fn pages_outside_v1_get_a_strict_csp(b: Backend) {
    let s = server(b).await;
    let r = s.get("/no-such-page", None).await;
    let csp = r.header("Content-Security-Policy").expect("CSP");
    assert!(csp.contains("default-src 'self'"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
}

// ---------------------------------------------------------------- login, me, tokens

async fn login_returns_a_bearer_token_and_me_reads_it(b: Backend) {
    let s = server_with(b, |f| f.merge(("jwt_ttl_seconds", 3600))).await;
    let (tenant_id, user_id) = s.provision("Acme", "admin@acme.test").await;
    // The email is normalised: trimmed and lower-cased.
    let r = s.login("  Admin@ACME.test ", PASSWORD).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    assert_eq!(
        r.body["user"],
        json!({"id": user_id, "email": "admin@acme.test", "must_change_password": false})
    );
    assert_eq!(r.body["tenant"], json!({"id": tenant_id, "name": "Acme"}));
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    let token = r.body["token"].as_str().unwrap();
    let me = s.get("/v1/partner/me", Some(token)).await;
    assert_eq!(me.status, Status::Ok);
    assert_eq!(
        me.body,
        json!({"user": {"id": user_id, "email": "admin@acme.test", "must_change_password": false},
               "tenant": {"id": tenant_id, "name": "Acme"}})
    );
}

async fn wrong_password_and_unknown_email_read_the_same(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    let wrong = s.login("admin@acme.test", "not the password").await;
    let unknown = s.login("nobody@acme.test", PASSWORD).await;
    wrong.assert_error(Status::Unauthorized, "invalid_credentials");
    unknown.assert_error(Status::Unauthorized, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
}

async fn login_bad_bodies(b: Backend) {
    let s = server(b).await;
    s.post("/v1/partner/auth/login", None, "{\"email\":")
        .await
        .assert_error(Status::BadRequest, "invalid_json");
    let r = s
        .post(
            "/v1/partner/auth/login",
            None,
            r#"{"email":"a@b.c","password":123456789012345}"#,
        )
        .await;
    r.assert_error(Status::UnprocessableEntity, "invalid_request");
    assert!(!r.body.to_string().contains("123456789012345"), "no echo");
    s.post("/v1/partner/auth/login", None, r#"{"email":"a@b.c"}"#)
        .await
        .assert_error(Status::UnprocessableEntity, "invalid_request");
}

async fn throttling_locks_after_ten_failures_and_unlocks_after_fifteen_minutes(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    for i in 0..10 {
        s.login("admin@acme.test", "wrong password!")
            .await
            .assert_error(Status::Unauthorized, "invalid_credentials");
        if i == 4 {
            s.clock.advance(Duration::minutes(5));
        }
    }
    // The 11th attempt, even with the right password, is refused.
    let r = s.login("ADMIN@acme.test", PASSWORD).await;
    r.assert_error(Status::TooManyRequests, "too_many_requests");
    // The oldest failure (at 0:00) ages out at 0:15; now is 0:05.
    assert_eq!(r.header("Retry-After"), Some("600"));
    s.clock
        .advance(Duration::minutes(10) - Duration::seconds(1));
    let r = s.login("admin@acme.test", PASSWORD).await;
    r.assert_error(Status::TooManyRequests, "too_many_requests");
    assert_eq!(r.header("Retry-After"), Some("1"));
    s.clock.advance(Duration::seconds(1));
    let r = s.login("admin@acme.test", PASSWORD).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    // Success cleared the failures: ten more are allowed again.
    for _ in 0..10 {
        s.login("admin@acme.test", "wrong password!")
            .await
            .assert_error(Status::Unauthorized, "invalid_credentials");
    }
    s.login("admin@acme.test", PASSWORD)
        .await
        .assert_error(Status::TooManyRequests, "too_many_requests");
    // Other emails are not affected.
    s.provision("Beta", "ops@beta.test").await;
    assert_eq!(s.login("ops@beta.test", PASSWORD).await.status, Status::Ok);
}

async fn unknown_emails_are_throttled_too(b: Backend) {
    let s = server(b).await;
    for _ in 0..10 {
        s.login("ghost@acme.test", "whatever password")
            .await
            .assert_error(Status::Unauthorized, "invalid_credentials");
    }
    let r = s.login("ghost@acme.test", "whatever password").await;
    r.assert_error(Status::TooManyRequests, "too_many_requests");
    assert_eq!(r.header("Retry-After"), Some("900"));
}

fn sign(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &JwtHeader::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The claims of a token we issued (signature checked with the test secret).
fn claims_of(token: &str) -> Value {
    let mut v = jsonwebtoken::Validation::new(Algorithm::HS256);
    v.validate_aud = false;
    v.validate_exp = false;
    v.set_required_spec_claims::<&str>(&[]);
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes()),
        &v,
    )
    .unwrap()
    .claims
}

fn b64(v: &Value) -> String {
    // Unpadded base64url, enough for a forged header/payload.
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = v.to_string().into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

async fn bad_tokens_are_401(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let other = s.account("Beta", "ops@beta.test").await;
    let now = START.unix_timestamp();
    let sid = claims_of(&a.token)["sid"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("ses_"), "{sid}");
    let good = json!({"sub": a.user_id, "tid": a.tenant_id, "sid": sid, "iat": now,
                      "exp": now + 3600, "iss": "idunox-reference-server",
                      "aud": "idunox-partner-portal"});
    // Sanity: a hand-made token with the right claims works.
    assert_eq!(
        s.get("/v1/partner/me", Some(&sign(good.clone(), JWT_SECRET)))
            .await
            .status,
        Status::Ok
    );

    let mut cases: Vec<(&str, String)> = Vec::new();
    let mut tampered = a.token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    cases.push(("tampered signature", tampered));
    let parts: Vec<&str> = a.token.split('.').collect();
    let mut forged = good.clone();
    forged["tid"] = json!("ten_someoneelse");
    cases.push((
        "tampered payload",
        format!("{}.{}.{}", parts[0], b64(&forged), parts[2]),
    ));
    cases.push((
        "alg none",
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&good)
        ),
    ));
    cases.push((
        "other secret",
        sign(good.clone(), "another-secret-0123456789-0123456789"),
    ));
    for (field, value) in [
        ("aud", json!("someone-else")),
        ("iss", json!("evil")),
        ("sub", json!("usr_nobody")),
        ("tid", json!("ten_nobody")),
        ("sid", json!("ses_nosuchsession")),
        // Another user's live session: the token must name its own.
        ("sid", claims_of(&other.token)["sid"].clone()),
    ] {
        let mut c = good.clone();
        c[field] = value;
        cases.push((field, sign(c, JWT_SECRET)));
    }
    for field in ["exp", "iat", "iss", "aud", "sub", "tid", "sid"] {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(field);
        cases.push(("missing claim", sign(c, JWT_SECRET)));
    }
    cases.push(("garbage", "not-a-token".into()));
    for (what, token) in cases {
        let r = s.get("/v1/partner/me", Some(&token)).await;
        assert_eq!(r.status, Status::Unauthorized, "{what}: {}", r.body);
        r.assert_error(Status::Unauthorized, "unauthorized");
        assert!(r.header("WWW-Authenticate").unwrap().starts_with("Bearer"));
    }
    // Missing header, wrong scheme.
    s.get("/v1/partner/me", None)
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    s.get_with(
        "/v1/partner/credentials",
        vec![Header::new("Authorization", format!("Basic {}", a.token))],
    )
    .await
    .assert_error(Status::Unauthorized, "unauthorized");
}

async fn tokens_expire_by_the_clock(b: Backend) {
    let s = server_with(b, |f| f.merge(("jwt_ttl_seconds", 3600))).await;
    let a = s.account("Acme", "admin@acme.test").await;
    s.clock.advance(Duration::seconds(3599));
    assert_eq!(
        s.get("/v1/partner/me", Some(&a.token)).await.status,
        Status::Ok
    );
    s.clock.advance(Duration::seconds(1));
    s.get("/v1/partner/me", Some(&a.token))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
}

async fn a_deleted_user_loses_the_session(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(&a.user_id)
        .execute(&s.sql().pool)
        .await
        .unwrap();
    s.get("/v1/partner/me", Some(&a.token))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
}

// ---------------------------------------------------------------- credentials

async fn create_list_and_the_credential_shape(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let r = s
        .create(&a, json!({"name": "billing-sync", "validity_days": 90}))
        .await;
    assert_eq!(r.status, Status::Created, "{}", r.body);
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    let mut top: Vec<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    top.sort_unstable();
    assert_eq!(top, ["api_key", "credential"]);
    let c = &r.body["credential"];
    assert_credential_shape(c);
    let api_key = key(&r);
    let first_id = id(&r);
    let id_ = first_id.as_str();
    assert_eq!(api_key.len(), 60);
    assert!(api_key.starts_with(&format!("idx_test_{id_}_")));
    assert_eq!(c["masked_key"], format!("idx_test_{id_}_••••"));
    assert_eq!(c["name"], "billing-sync");
    assert_eq!(c["status"], "active");
    assert_eq!(c["created_at"], "2026-01-01T00:00:00Z");
    assert_eq!(c["expires_at"], "2026-04-01T00:00:00Z");
    assert_eq!(c["expires_in_days"], 90);
    for f in [
        "grace_expires_at",
        "revoked_at",
        "replaced_by",
        "replaces",
        "last_used_at",
    ] {
        assert!(c[f].is_null(), "{f}");
    }
    KeyFormat::new("idx", "test")
        .unwrap()
        .parse(&api_key)
        .expect("checksum holds");

    // Empty body: defaults (365 days, no name).
    s.clock.advance(Duration::seconds(1));
    let r2 = s.post("/v1/partner/credentials", Some(&a.token), "").await;
    assert_eq!(r2.status, Status::Created, "{}", r2.body);
    assert_eq!(r2.body["credential"]["expires_in_days"], 365);
    assert!(r2.body["credential"]["name"].is_null());
    // Same second: insertion order breaks the tie.
    let r3 = s.create(&a, json!({})).await;
    assert_eq!(r3.status, Status::Created);

    let list = s.list(&a).await;
    let ids: Vec<String> = list
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [id(&r3), id(&r2), first_id.clone()], "newest first");
    for c in &list {
        assert_credential_shape(c);
        assert!(
            !c.to_string().contains(&api_key[22..]),
            "no plaintext in lists"
        );
    }
    // The plaintext is never shown again.
    let listing = s.get("/v1/partner/credentials", Some(&a.token)).await;
    assert!(!listing.body.to_string().contains(&api_key));
}

async fn create_refuses_bad_input(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    for days in [0, 366, -1] {
        s.create(&a, json!({"validity_days": days}))
            .await
            .assert_error(Status::UnprocessableEntity, "invalid_validity_days");
    }
    for days in [1, 365] {
        assert_eq!(
            s.create(&a, json!({"validity_days": days})).await.status,
            Status::Created
        );
    }
    s.create(&a, json!({"name": "x".repeat(101)}))
        .await
        .assert_error(Status::UnprocessableEntity, "invalid_name");
    let ok = s.create(&a, json!({"name": "é".repeat(100)})).await;
    assert_eq!(ok.status, Status::Created);
    assert_eq!(
        ok.body["credential"]["name"],
        "é".repeat(100),
        "stored verbatim"
    );
    s.create(&a, json!({"name": "tab\there"}))
        .await
        .assert_error(Status::UnprocessableEntity, "invalid_name");
    // Wrong types and unknown fields: 422.
    for body in [
        json!({"validity_days": "ten"}),
        json!({"validity_days": 1.5}),
        json!({"name": 42}),
        json!({"nmae": "typo"}),
        json!([1, 2]),
    ] {
        s.create(&a, body.clone())
            .await
            .assert_error(Status::UnprocessableEntity, "invalid_request");
    }
    // Malformed JSON: 400; too large: 413.
    s.post(
        "/v1/partner/credentials",
        Some(&a.token),
        "{\"name\": \"x\"",
    )
    .await
    .assert_error(Status::BadRequest, "invalid_json");
    let huge = json!({"name": "x".repeat(70 * 1024)}).to_string();
    s.post("/v1/partner/credentials", Some(&a.token), &huge)
        .await
        .assert_error(Status::PayloadTooLarge, "payload_too_large");
    // Without a session the body is never looked at.
    s.post("/v1/partner/credentials", None, "{bad")
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    assert_eq!(s.list(&a).await.len(), 3);
}

async fn rotate_and_revoke_lifecycle(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let created = s.create(&a, json!({"name": "ci"})).await;
    let old_id = id(&created);
    let old_key = key(&created);

    s.clock.advance(Duration::hours(1));
    s.rotate(&a, &old_id, 12)
        .await
        .assert_error(Status::UnprocessableEntity, "invalid_grace_hours");
    s.post_json(
        &format!("/v1/partner/credentials/{old_id}/rotate"),
        &a.token,
        json!({"grace_hours": "24"}),
    )
    .await
    .assert_error(Status::UnprocessableEntity, "invalid_request");
    s.post(
        &format!("/v1/partner/credentials/{old_id}/rotate"),
        Some(&a.token),
        "{",
    )
    .await
    .assert_error(Status::BadRequest, "invalid_json");

    let r = s.rotate(&a, &old_id, 48).await;
    assert_eq!(r.status, Status::Created, "{}", r.body);
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    let mut top: Vec<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    top.sort_unstable();
    assert_eq!(top, ["api_key", "credential", "previous"]);
    let new_id = id(&r);
    let new_key = key(&r);
    assert_credential_shape(&r.body["credential"]);
    assert_credential_shape(&r.body["previous"]);
    assert_eq!(r.body["credential"]["replaces"], old_id);
    assert_eq!(r.body["credential"]["name"], "ci");
    assert_eq!(r.body["credential"]["status"], "active");
    assert_eq!(r.body["credential"]["expires_at"], "2027-01-01T01:00:00Z");
    assert_eq!(r.body["previous"]["id"], old_id);
    assert_eq!(r.body["previous"]["status"], "grace");
    assert_eq!(r.body["previous"]["replaced_by"], new_id);
    assert_eq!(
        r.body["previous"]["grace_expires_at"],
        "2026-01-03T01:00:00Z"
    );
    assert_eq!(r.body["previous"]["expires_in_days"], 2);

    // Both keys work during the overlap.
    assert_eq!(
        s.probe(Some(&old_key)).await.body["credential"]["status"],
        "grace"
    );
    assert_eq!(
        s.probe(Some(&new_key)).await.body["credential"]["status"],
        "active"
    );
    // A superseded key cannot be rotated again.
    s.rotate(&a, &old_id, 24)
        .await
        .assert_error(Status::Conflict, "conflict");

    // Revoke: immediate and idempotent.
    s.clock.advance(Duration::minutes(5));
    let rv = s.revoke(&a, &new_id).await;
    assert_eq!(rv.status, Status::Ok, "{}", rv.body);
    let mut top: Vec<&str> = rv
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    top.sort_unstable();
    assert_eq!(top, ["credential"]);
    assert_credential_shape(&rv.body["credential"]);
    assert_eq!(rv.body["credential"]["status"], "revoked");
    assert_eq!(rv.body["credential"]["revoked_at"], "2026-01-01T01:05:00Z");
    assert!(rv.body["credential"]["expires_in_days"].is_null());
    s.clock.advance(Duration::minutes(5));
    let again = s.revoke(&a, &new_id).await;
    assert_eq!(again.status, Status::Ok);
    assert_eq!(
        again.body["credential"]["revoked_at"],
        "2026-01-01T01:05:00Z"
    );
    s.probe(Some(&new_key))
        .await
        .assert_error(Status::Unauthorized, "api_key_revoked");
    s.rotate(&a, &new_id, 24)
        .await
        .assert_error(Status::Conflict, "conflict");

    // Unknown and malformed ids: 404.
    let unknown = KeyId::random().unwrap().to_string();
    for bad in [
        unknown.as_str(),
        "nope",
        "AAAAAAAAAAA!",
        "x".repeat(200).as_str(),
    ] {
        s.rotate(&a, bad, 24)
            .await
            .assert_error(Status::NotFound, "not_found");
        s.revoke(&a, bad)
            .await
            .assert_error(Status::NotFound, "not_found");
    }
}

async fn tenants_are_isolated(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let b = s.account("Beta", "ops@beta.test").await;
    let mine = s.create(&a, json!({"name": "acme key"})).await;
    let a_id = id(&mine);
    assert!(s.list(&b).await.is_empty());
    let unknown = KeyId::random().unwrap().to_string();
    let foreign_rotate = s.rotate(&b, &a_id, 24).await;
    let unknown_rotate = s.rotate(&b, &unknown, 24).await;
    foreign_rotate.assert_error(Status::NotFound, "not_found");
    assert_eq!(foreign_rotate.body, unknown_rotate.body);
    let foreign_revoke = s.revoke(&b, &a_id).await;
    foreign_revoke.assert_error(Status::NotFound, "not_found");
    assert_eq!(foreign_revoke.body, s.revoke(&b, &unknown).await.body);
    // Nothing changed for the owner.
    let list = s.list(&a).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "active");
    // The probe tells the key's own tenant.
    let p = s.probe(Some(&key(&mine))).await;
    assert_eq!(p.body["tenant"], json!({"id": a.tenant_id, "name": "Acme"}));
}

async fn status_transitions_follow_the_clock(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let c = s.create(&a, json!({"validity_days": 60})).await;
    let k = key(&c);
    let status = |list: Vec<Value>| list[0]["status"].as_str().unwrap().to_owned();

    // expires 2026-03-02; expiring from 2026-01-31.
    s.clock
        .set(idunox_keys::time::macros::datetime!(2026-01-30 23:59:59 UTC));
    assert_eq!(status(s.list(&a).await), "active");
    s.clock.advance(Duration::seconds(1));
    assert_eq!(status(s.list(&a).await), "expiring");
    assert_eq!(s.list(&a).await[0]["expires_in_days"], 30);
    assert_eq!(
        s.probe(Some(&k)).await.body["credential"]["status"],
        "expiring"
    );
    // Rotation is allowed from expiring; the grace is capped at the old expiry.
    s.clock
        .set(idunox_keys::time::macros::datetime!(2026-03-01 12:00 UTC));
    let r = s.rotate(&a, &id(&c), 72).await;
    assert_eq!(r.status, Status::Created, "{}", r.body);
    assert_eq!(
        r.body["previous"]["grace_expires_at"],
        "2026-03-02T00:00:00Z"
    );
    let new_key = key(&r);
    s.clock
        .set(idunox_keys::time::macros::datetime!(2026-03-01 23:59:59 UTC));
    assert_eq!(
        s.probe(Some(&k)).await.body["credential"]["status"],
        "grace"
    );
    s.clock.advance(Duration::seconds(1));
    s.probe(Some(&k))
        .await
        .assert_error(Status::Unauthorized, "api_key_expired");
    let list = s.list(&a).await;
    assert_eq!(list[1]["status"], "expired");
    assert!(list[1]["expires_in_days"].is_null());
    s.rotate(&a, &id(&c), 24)
        .await
        .assert_error(Status::Conflict, "conflict");

    // The successor: 365 days from the rotation.
    assert_eq!(list[0]["expires_at"], "2027-03-01T12:00:00Z");
    s.clock
        .set(idunox_keys::time::macros::datetime!(2027-03-01 12:00 UTC));
    s.probe(Some(&new_key))
        .await
        .assert_error(Status::Unauthorized, "api_key_expired");
    assert_eq!(status(s.list(&a).await), "expired");
}

async fn grace_ends_by_the_clock(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let c = s.create(&a, json!({})).await;
    let r = s.rotate(&a, &id(&c), 24).await;
    assert_eq!(r.status, Status::Created);
    s.clock.advance(Duration::hours(24) - Duration::seconds(1));
    assert_eq!(s.probe(Some(&key(&c))).await.status, Status::Ok);
    s.clock.advance(Duration::seconds(1));
    s.probe(Some(&key(&c)))
        .await
        .assert_error(Status::Unauthorized, "api_key_expired");
    let list = s.list(&a).await;
    assert_eq!(list[1]["status"], "expired");
    assert_eq!(list[0]["status"], "active");
}

async fn thirty_two_concurrent_rotations_leave_one_successor(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let c = s.create(&a, json!({})).await;
    let old = id(&c);
    let replies = rocket::futures::future::join_all((0..32).map(|_| s.rotate(&a, &old, 24))).await;
    let created = replies
        .iter()
        .filter(|r| r.status == Status::Created)
        .count();
    let conflicts = replies
        .iter()
        .filter(|r| r.status == Status::Conflict)
        .count();
    assert_eq!((created, conflicts), (1, 31));
    for r in replies.iter().filter(|r| r.status == Status::Conflict) {
        r.assert_error(Status::Conflict, "conflict");
    }
    let list = s.list(&a).await;
    assert_eq!(list.len(), 2);
    let successors: Vec<&Value> = list
        .iter()
        .filter(|c| c["replaces"] == old.as_str())
        .collect();
    assert_eq!(successors.len(), 1);
}

// ---------------------------------------------------------------- probe

async fn probe_answers(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let c = s.create(&a, json!({"name": "probe me"})).await;
    let k = key(&c);
    let r = s.probe(Some(&k)).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"ok": true, "tenant": {"id": a.tenant_id, "name": "Acme"},
               "credential": {"id": id(&c), "masked_key": format!("idx_test_{}_••••", id(&c)),
                              "status": "active", "scopes": null, "allowed_ips": null}})
    );
    // Warm path too.
    assert_eq!(s.probe(Some(&k)).await.status, Status::Ok);
    // last_used_at was recorded.
    assert_eq!(s.list(&a).await[0]["last_used_at"], "2026-01-01T00:00:00Z");

    let m = s.probe(None).await;
    m.assert_error(Status::Unauthorized, "missing_api_key");
    assert!(m.header("WWW-Authenticate").is_some());
    s.probe(Some(""))
        .await
        .assert_error(Status::Unauthorized, "missing_api_key");
    for bad in [
        "garbage",
        "idx_test_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM", // valid, unknown id
        "idx_live_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM", // other environment
        &k[..59],                                                       // truncated
        &format!("{}x", &k[..59]),                                      // bad checksum
    ] {
        let r = s.probe(Some(bad)).await;
        r.assert_error(Status::Unauthorized, "invalid_api_key");
        assert!(r.header("WWW-Authenticate").is_some());
    }
    // Right id, wrong secret (with a valid checksum): invalid, even after a warm hit.
    let kid = KeyId::parse(&id(&c)).unwrap();
    let forged = KeyFormat::new("idx", "test")
        .unwrap()
        .generate_with_id(kid)
        .unwrap();
    s.probe(Some(forged.expose_secret()))
        .await
        .assert_error(Status::Unauthorized, "invalid_api_key");
    // Two keys at once: refused.
    s.get_with(
        "/v1/partner-auth-probe",
        vec![
            Header::new("X-Api-Key", k.clone()),
            Header::new("X-Api-Key", k.clone()),
        ],
    )
    .await
    .assert_error(Status::Unauthorized, "invalid_api_key");
    // Revocation is seen by the very next request.
    assert_eq!(s.revoke(&a, &id(&c)).await.status, Status::Ok);
    s.probe(Some(&k))
        .await
        .assert_error(Status::Unauthorized, "api_key_revoked");
    // A revoked key with a wrong secret still reads invalid.
    s.probe(Some(forged.expose_secret()))
        .await
        .assert_error(Status::Unauthorized, "invalid_api_key");
}

// ---------------------------------------------------------------- audit

async fn audit_trail_records_and_paginates_per_tenant(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let b = s.account("Beta", "ops@beta.test").await;
    s.login("admin@acme.test", "wrong password!").await;
    let c = s.create(&a, json!({"name": "audited"})).await;
    let r = s.rotate(&a, &id(&c), 24).await;
    s.revoke(&a, &id(&r)).await;
    s.create(&b, json!({})).await;

    let page = s.get("/v1/partner/audit", Some(&a.token)).await;
    assert_eq!(page.status, Status::Ok, "{}", page.body);
    let entries = page.body["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "credential.revoked",
            "credential.rotated",
            "credential.created",
            "login.failed",
            "login.succeeded"
        ]
    );
    assert!(page.body["next_cursor"].is_null());
    assert_eq!(entries[0]["credential_id"], id(&r));
    assert_eq!(entries[1]["credential_id"], id(&c));
    assert_eq!(entries[1]["detail"]["successor"], id(&r));
    assert_eq!(
        entries[0]["actor"],
        json!({"kind": "user", "user_id": a.user_id, "email": "admin@acme.test"})
    );
    // A failed sign-in is anonymous: nobody was signed in. The email tried is in `detail`.
    assert!(entries[3]["actor"].is_null(), "{}", entries[3]);
    assert_eq!(
        entries[3]["detail"],
        json!({"email": "admin@acme.test", "user_id": a.user_id})
    );
    assert_eq!(
        entries[4]["actor"],
        json!({"kind": "user", "user_id": a.user_id, "email": "admin@acme.test"})
    );
    assert_eq!(entries[0]["at"], "2026-01-01T00:00:00Z");
    let text = page.body.to_string();
    assert!(!text.contains(&key(&c)) && !text.contains(&key(&r)));
    assert!(!text.contains(PASSWORD) && !text.contains("wrong password"));

    // Pagination.
    let p1 = s.get("/v1/partner/audit?limit=2", Some(&a.token)).await;
    assert_eq!(p1.body["entries"].as_array().unwrap().len(), 2);
    let cursor = p1.body["next_cursor"].as_str().unwrap().to_owned();
    let p2 = s
        .get(
            &format!("/v1/partner/audit?limit=2&before={cursor}"),
            Some(&a.token),
        )
        .await;
    let p2_actions: Vec<&str> = p2.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(p2_actions, ["credential.created", "login.failed"]);
    let p3 = s
        .get(
            &format!(
                "/v1/partner/audit?limit=2&before={}",
                p2.body["next_cursor"].as_str().unwrap()
            ),
            Some(&a.token),
        )
        .await;
    assert_eq!(p3.body["entries"].as_array().unwrap().len(), 1);
    assert!(p3.body["next_cursor"].is_null());
    for bad in ["limit=0", "limit=201", "limit=x", "before=x", "before=-1"] {
        s.get(&format!("/v1/partner/audit?{bad}"), Some(&a.token))
            .await
            .assert_error(Status::UnprocessableEntity, "invalid_request");
    }
    s.get("/v1/partner/audit", None)
        .await
        .assert_error(Status::Unauthorized, "unauthorized");

    // Tenant B sees only its own.
    let pb = s.get("/v1/partner/audit", Some(&b.token)).await;
    let b_actions: Vec<&str> = pb.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(b_actions, ["credential.created", "login.succeeded"]);

    // Nothing secret at rest in the audit table.
    let rows =
        sqlx::query("SELECT COALESCE(detail, '') || COALESCE(actor_email, '') AS t FROM audit_log")
            .fetch_all(&s.sql().pool)
            .await
            .unwrap();
    for row in rows {
        let t: String = sqlx::Row::get(&row, "t");
        assert!(!t.contains(&key(&c)[22..]) && !t.contains(PASSWORD));
    }
}

// ---------------------------------------------------------------- failures and configuration

async fn database_down_is_503_with_the_envelope(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let c = s.create(&a, json!({})).await;
    s.sql().pool.close().await;
    let r = s.get("/v1/partner/credentials", Some(&a.token)).await;
    r.assert_error(Status::ServiceUnavailable, "service_unavailable");
    assert!(r.header("Retry-After").is_some());
    s.probe(Some(&key(&c)))
        .await
        .assert_error(Status::ServiceUnavailable, "service_unavailable");
    s.login("admin@acme.test", PASSWORD)
        .await
        .assert_error(Status::ServiceUnavailable, "service_unavailable");
}

async fn a_short_jwt_secret_refuses_to_start(b: Backend) {
    let db = test_db(b).await;
    let figment = figment(&db.url).merge(("jwt_secret", "too-short"));
    let rocket = reference_server::build(figment, std::sync::Arc::new(idunox_keys::SystemClock));
    match rocket::local::asynchronous::Client::tracked(rocket).await {
        Ok(_) => panic!("a 9-byte jwt_secret must refuse to start"),
        Err(e) => assert!(matches!(
            e.kind(),
            rocket::error::ErrorKind::FailedFairings(_)
        )),
    }
}

async fn config_debug_redacts_the_secret(b: Backend) {
    let db = test_db(b).await;
    let config = reference_server::config::ServerConfig::from_figment(&figment(&db.url)).unwrap();
    assert!(!format!("{config:?}").contains(JWT_SECRET));
    assert_eq!(config.rotation_grace_hours, [24, 48, 72]);
}

on_both_backends!(
    config_has_exactly_the_documented_fields,
    openapi_lists_every_path,
    every_v1_error_is_the_json_envelope,
    pages_outside_v1_get_a_strict_csp,
    login_returns_a_bearer_token_and_me_reads_it,
    wrong_password_and_unknown_email_read_the_same,
    login_bad_bodies,
    throttling_locks_after_ten_failures_and_unlocks_after_fifteen_minutes,
    unknown_emails_are_throttled_too,
    bad_tokens_are_401,
    tokens_expire_by_the_clock,
    a_deleted_user_loses_the_session,
    create_list_and_the_credential_shape,
    create_refuses_bad_input,
    rotate_and_revoke_lifecycle,
    tenants_are_isolated,
    status_transitions_follow_the_clock,
    grace_ends_by_the_clock,
    thirty_two_concurrent_rotations_leave_one_successor,
    probe_answers,
    audit_trail_records_and_paginates_per_tenant,
    database_down_is_503_with_the_envelope,
    a_short_jwt_secret_refuses_to_start,
    config_debug_redacts_the_secret,
);
