//! The staff admin API (`/v1/admin`): staff sign-in with TOTP, the isolation of staff and
//! partner tokens, tenants, users, the audit trail with staff actors. Every test runs on SQLite
//! and PostgreSQL.
#![allow(missing_docs)]

mod common;

use common::*;
use idunox_keys::time::Duration;
use reference_server::auth::throttle::Realm;
use reference_server::auth::totp::STEP_SECS;
use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};

const STAFF_EMAIL: &str = "ops@idunox.test";

/// Sign in with the code of the step `offset` steps away.
async fn login_at_offset(s: &TestServer, staff: &StaffAccount, offset: i64) -> Reply {
    s.staff_login(staff, &staff.code(s, offset)).await
}

async fn staff_sign_in_answers_a_staff_token(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff(" Ops@Idunox.test ").await;
    assert_eq!(staff.email, STAFF_EMAIL);
    let r = login_at_offset(&s, &staff, 0).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["expires_in", "staff", "token", "token_type"]);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 10 * 366 * 24 * 3600);
    assert_eq!(
        r.body["staff"],
        json!({"id": staff.id, "email": STAFF_EMAIL})
    );
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    let token = r.body["token"].as_str().unwrap();
    let t = s.get("/v1/admin/tenants", Some(token)).await;
    assert_eq!(t.status, Status::Ok, "{}", t.body);
    assert_eq!(t.body, json!({"tenants": [], "next_cursor": null}));

    // Sign-out: that token is refused from then on.
    let out = s.post_empty("/v1/admin/auth/logout", token).await;
    assert_eq!(out.status, Status::NoContent, "{}", out.body);
    s.get("/v1/admin/tenants", Some(token))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    s.post_empty("/v1/admin/auth/logout", token)
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
}

async fn totp_codes_work_once_within_one_step_of_drift(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff(STAFF_EMAIL).await;
    // Two steps away, either way: refused.
    for offset in [-2, 2] {
        login_at_offset(&s, &staff, offset)
            .await
            .assert_error(Status::Unauthorized, "invalid_credentials");
    }
    // The previous step's code works...
    let r = login_at_offset(&s, &staff, -1).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    // ...once.
    login_at_offset(&s, &staff, -1)
        .await
        .assert_error(Status::Unauthorized, "invalid_credentials");
    // The next step's code works, and then the current one (earlier) no longer does.
    let r = login_at_offset(&s, &staff, 1).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    login_at_offset(&s, &staff, 0)
        .await
        .assert_error(Status::Unauthorized, "invalid_credentials");
    login_at_offset(&s, &staff, 1)
        .await
        .assert_error(Status::Unauthorized, "invalid_credentials");
    // Two steps later, a fresh code works again.
    s.clock.advance(Duration::seconds(2 * STEP_SECS));
    let r = login_at_offset(&s, &staff, 0).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    // The staff trail says why each failure failed.
    let token = r.body["token"].as_str().unwrap();
    let audit = s.get("/v1/admin/audit", Some(token)).await;
    let reasons: Vec<&str> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login.failed")
        .map(|e| e["detail"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["wrong_code"; 5]);
}

async fn every_wrong_sign_in_reads_the_same(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff(STAFF_EMAIL).await;
    let disabled = s.add_staff("gone@idunox.test").await;
    s.sql()
        .set_staff_disabled("gone@idunox.test", true, 0)
        .await
        .unwrap();
    let code = staff.code(&s, 0);
    let attempts = [
        json!({"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "totp": "000000x"}),
        json!({"email": STAFF_EMAIL, "password": STAFF_PASSWORD}),
        json!({"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "totp": null}),
        json!({"email": STAFF_EMAIL, "password": "wrong password!", "totp": code}),
        json!({"email": "nobody@idunox.test", "password": STAFF_PASSWORD, "totp": code}),
        json!({"email": "gone@idunox.test", "password": STAFF_PASSWORD,
               "totp": disabled.code(&s, 0)}),
    ];
    let mut bodies = Vec::new();
    for (i, body) in attempts.into_iter().enumerate() {
        let r = s
            .staff_login_body(body, &format!("198.51.100.{}", 20 + i))
            .await;
        r.assert_error(Status::Unauthorized, "invalid_credentials");
        assert_eq!(r.header("WWW-Authenticate"), None);
        bodies.push(r.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    // The code was never used: it still works.
    assert_eq!(s.staff_login(&staff, &code).await.status, Status::Ok);
    // A partner's credentials are not a staff account.
    s.provision("Acme", "admin@acme.test").await;
    s.staff_login_body(
        json!({"email": "admin@acme.test", "password": PASSWORD, "totp": code}),
        "198.51.100.40",
    )
    .await
    .assert_error(Status::Unauthorized, "invalid_credentials");
    // Malformed bodies are refused before any check.
    s.staff_login_body(json!({"email": STAFF_EMAIL}), "198.51.100.41")
        .await
        .assert_error(Status::UnprocessableEntity, "invalid_request");
    s.staff_login_body(
        json!({"email": STAFF_EMAIL, "password": "x", "totp": "1", "extra": 1}),
        "198.51.100.41",
    )
    .await
    .assert_error(Status::UnprocessableEntity, "invalid_request");
}

async fn staff_and_partner_tokens_never_cross(b: Backend) {
    let s = server(b).await;
    let partner = s.account("Acme", "admin@acme.test").await;
    let staff = s.add_staff(STAFF_EMAIL).await;
    let staff_token = s.staff_token(&staff).await;
    let tid = &partner.tenant_id;
    let uid = &partner.user_id;
    // A partner token on every admin route: 401, nothing done.
    let admin_routes: Vec<(&str, String)> = vec![
        ("GET", "/v1/admin/tenants".into()),
        ("POST", "/v1/admin/tenants".into()),
        ("GET", format!("/v1/admin/tenants/{tid}")),
        ("POST", format!("/v1/admin/tenants/{tid}/users")),
        ("POST", format!("/v1/admin/users/{uid}/reset-password")),
        ("POST", format!("/v1/admin/users/{uid}/disable")),
        ("POST", format!("/v1/admin/users/{uid}/enable")),
        ("POST", format!("/v1/admin/users/{uid}/unlock")),
        ("GET", "/v1/admin/audit".into()),
        ("POST", "/v1/admin/auth/logout".into()),
        ("GET", "/v1/admin/credentials/AAAAAAAAAAAA".into()),
        ("POST", "/v1/admin/credentials/AAAAAAAAAAAA/revoke".into()),
        ("POST", format!("/v1/admin/tenants/{tid}/revoke-all")),
    ];
    for (method, path) in &admin_routes {
        let r = call(&s, method, path, &partner.token).await;
        r.assert_error(Status::Unauthorized, "unauthorized");
        assert_eq!(
            r.header("WWW-Authenticate"),
            Some("Bearer realm=\"idunox-staff\""),
            "{method} {path}"
        );
    }
    // A staff token on every partner route: 401.
    for (method, path) in [
        ("GET", "/v1/partner/me"),
        ("POST", "/v1/partner/me/password"),
        ("GET", "/v1/partner/credentials"),
        ("POST", "/v1/partner/credentials"),
        ("GET", "/v1/partner/audit"),
        ("POST", "/v1/partner/auth/logout"),
    ] {
        call(&s, method, path, &staff_token)
            .await
            .assert_error(Status::Unauthorized, "unauthorized");
    }
    // Nothing changed: the partner still works, and so does the staff member.
    assert_eq!(s.list(&partner).await.len(), 0);
    let r = s.get("/v1/admin/tenants", Some(&staff_token)).await;
    assert_eq!(r.body["tenants"][0]["users"], 1);
    // A staff token whose staff member is disabled is refused at once.
    s.sql()
        .set_staff_disabled(STAFF_EMAIL, true, 0)
        .await
        .unwrap();
    s.get("/v1/admin/tenants", Some(&staff_token))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    s.sql()
        .set_staff_disabled(STAFF_EMAIL, false, 0)
        .await
        .unwrap();
    s.get("/v1/admin/tenants", Some(&staff_token))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
}

/// A request with a token and, for POST, an empty JSON object.
async fn call(s: &TestServer, method: &str, path: &str, token: &str) -> Reply {
    let auth = Header::new("Authorization", format!("Bearer {token}"));
    let req = match method {
        "GET" => s.client.get(path.to_owned()),
        _ => s
            .client
            .post(path.to_owned())
            .header(ContentType::JSON)
            .body("{}"),
    };
    s.send(req.header(auth)).await
}

async fn staff_sign_in_is_throttled_apart_from_partners(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff("shared@idunox.test").await;
    // A partner user with the same email.
    let (tenant, _) = s.provision("Acme", "shared@idunox.test").await;
    let wrong =
        json!({"email": "shared@idunox.test", "password": "wrong password!", "totp": "123456"});
    for _ in 0..10 {
        s.staff_login_body(wrong.clone(), "203.0.113.9")
            .await
            .assert_error(Status::Unauthorized, "invalid_credentials");
    }
    // The 11th from that address is refused even with everything right, without a check.
    let r = s
        .staff_login_body(
            json!({"email": "shared@idunox.test", "password": STAFF_PASSWORD,
                   "totp": staff.code(&s, 0)}),
            "203.0.113.9",
        )
        .await;
    r.assert_error(Status::TooManyRequests, "too_many_requests");
    assert!(r.header("Retry-After").is_some());
    // The partner with that email is not affected, from that very address.
    assert_eq!(
        s.login_from("shared@idunox.test", PASSWORD, "203.0.113.9")
            .await
            .status,
        Status::Ok
    );
    // Another address signs the staff member in.
    let r = s
        .staff_login_body(
            json!({"email": "shared@idunox.test", "password": STAFF_PASSWORD,
                   "totp": staff.code(&s, 0)}),
            "203.0.113.10",
        )
        .await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    let since = START.unix_timestamp() - 1;
    assert_eq!(
        s.sql()
            .sign_in_failures(Realm::Staff, "shared@idunox.test", since)
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        s.sql()
            .sign_in_failures(Realm::User, "shared@idunox.test", since)
            .await
            .unwrap(),
        0
    );
    // Staff sign-ins never reach a partner's trail.
    let partner = s.token("shared@idunox.test", PASSWORD).await;
    let actions = s.audit_actions(&partner).await;
    assert!(
        actions.iter().all(|a| a == "login.succeeded"),
        "{actions:?} in {tenant}"
    );
}

async fn tenants_are_listed_made_and_shown(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff(STAFF_EMAIL).await;
    let token = s.staff_token(&staff).await;
    let acme = s.account("Acme", "admin@acme.test").await;
    for name in ["one", "two", "three"] {
        let r = s.create(&acme, json!({"name": name})).await;
        assert_eq!(r.status, Status::Created);
    }
    let revoked = s.create(&acme, json!({})).await;
    s.revoke(&acme, revoked.body["credential"]["id"].as_str().unwrap())
        .await;

    let r = s
        .post_json("/v1/admin/tenants", &token, json!({"name": "  Beta GmbH "}))
        .await;
    assert_eq!(r.status, Status::Created, "{}", r.body);
    let beta = r.body["tenant"].clone();
    assert_eq!(beta["name"], "Beta GmbH");
    assert_eq!(beta["users"], 0);
    assert_eq!(beta["live_keys"], 0);
    assert_eq!(beta["created_at"], "2026-01-01T00:00:30Z");
    let beta_id = beta["id"].as_str().unwrap();
    assert!(beta_id.starts_with("ten_") && beta_id.len() == 16);
    for bad in [
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "a\u{7}b"}),
    ] {
        s.post_json("/v1/admin/tenants", &token, bad)
            .await
            .assert_error(Status::UnprocessableEntity, "invalid_name");
    }
    s.post_json("/v1/admin/tenants", &token, json!({"name": 5}))
        .await
        .assert_error(Status::UnprocessableEntity, "invalid_request");
    let r = s
        .post_json(
            "/v1/admin/tenants",
            &token,
            json!({"name": "é".repeat(100)}),
        )
        .await;
    assert_eq!(r.status, Status::Created, "{}", r.body);

    let list = s.get("/v1/admin/tenants", Some(&token)).await;
    assert_eq!(list.status, Status::Ok, "{}", list.body);
    let tenants = list.body["tenants"].as_array().unwrap();
    let names: Vec<&str> = tenants
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme", "Beta GmbH", &"é".repeat(100)]);
    assert_eq!(tenants[0]["users"], 1);
    assert_eq!(tenants[0]["live_keys"], 3);
    assert_eq!(tenants[0]["id"], acme.tenant_id.as_str());
    // A page at a time.
    let p1 = s.get("/v1/admin/tenants?limit=2", Some(&token)).await;
    assert_eq!(p1.body["tenants"].as_array().unwrap().len(), 2);
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = s
        .get(
            &format!("/v1/admin/tenants?limit=2&cursor={cursor}"),
            Some(&token),
        )
        .await;
    assert_eq!(p2.body["tenants"][0]["name"], "é".repeat(100));
    assert_eq!(p2.body["next_cursor"], Value::Null);
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "cursor=nope",
        "cursor=ten_AAAAAAAAAAAA",
    ] {
        s.get(&format!("/v1/admin/tenants?{bad}"), Some(&token))
            .await
            .assert_error(Status::UnprocessableEntity, "invalid_request");
    }

    let d = s
        .get(
            &format!("/v1/admin/tenants/{}", acme.tenant_id),
            Some(&token),
        )
        .await;
    assert_eq!(d.status, Status::Ok, "{}", d.body);
    assert_eq!(d.body["tenant"]["live_keys"], 3);
    let users = d.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0],
        json!({"id": acme.user_id, "email": "admin@acme.test", "created_at": "1970-01-01T00:00:00Z",
               "disabled": false, "must_change_password": false,
               "last_login_at": "2026-01-01T00:00:30Z"})
    );
    // Unknown ids, ids of another kind, malformed ids: 404.
    for bad in [
        "ten_AAAAAAAAAAAA",
        acme.user_id.as_str(),
        "nope",
        "ten_",
        "ten_AAAAAAAAAAA!",
    ] {
        s.get(&format!("/v1/admin/tenants/{bad}"), Some(&token))
            .await
            .assert_error(Status::NotFound, "not_found");
    }
}

async fn staff_provision_users_who_change_the_one_time_password(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff(STAFF_EMAIL).await;
    let token = s.staff_token(&staff).await;
    let (tenant, _) = s.provision("Acme", "admin@acme.test").await;
    let path = format!("/v1/admin/tenants/{tenant}/users");
    let r = s
        .post_json(&path, &token, json!({"email": " New@Acme.test "}))
        .await;
    assert_eq!(r.status, Status::Created, "{}", r.body);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["initial_password", "user"]);
    let user = &r.body["user"];
    assert_eq!(user["email"], "new@acme.test");
    assert_eq!(user["must_change_password"], true);
    assert_eq!(user["disabled"], false);
    assert_eq!(user["last_login_at"], Value::Null);
    let once = r.body["initial_password"].as_str().unwrap().to_owned();
    assert!(once.len() >= 24, "a strong one-time password");

    // The one-time password signs in but is no working credential until it is changed.
    let t = s.token("new@acme.test", &once).await;
    s.get("/v1/partner/credentials", Some(&t))
        .await
        .assert_error(Status::Forbidden, "password_change_required");
    let me = s.get("/v1/partner/me", Some(&t)).await;
    assert_eq!(me.body["user"]["must_change_password"], true);
    assert_eq!(
        s.change_password(&t, &once, "a new password of mine")
            .await
            .status,
        Status::NoContent
    );
    assert_eq!(
        s.get("/v1/partner/credentials", Some(&t)).await.status,
        Status::Ok
    );

    // Refusals.
    s.post_json(&path, &token, json!({"email": "new@acme.test"}))
        .await
        .assert_error(Status::Conflict, "conflict");
    s.post_json(&path, &token, json!({"email": "admin@acme.test"}))
        .await
        .assert_error(Status::Conflict, "conflict");
    for bad in ["", "no-at-sign", "a b@c.test", "a@b@c"] {
        s.post_json(&path, &token, json!({"email": bad}))
            .await
            .assert_error(Status::UnprocessableEntity, "invalid_request");
    }
    s.post_json(
        &path,
        &token,
        json!({"email": "x@y.test", "password": "mine"}),
    )
    .await
    .assert_error(Status::UnprocessableEntity, "invalid_request");
    s.post_json(
        "/v1/admin/tenants/ten_AAAAAAAAAAAA/users",
        &token,
        json!({"email": "x@y.test"}),
    )
    .await
    .assert_error(Status::NotFound, "not_found");
    // The one-time password is in no audit entry and not in the database in clear.
    let audit = s.get("/v1/admin/audit?limit=200", Some(&token)).await;
    assert!(!audit.body.to_string().contains(&once));
    let hits = s
        .sql_count(&format!(
            "SELECT COUNT(*) FROM users WHERE password_hash LIKE '%{once}%'"
        ))
        .await;
    assert_eq!(hits, 0);
}

async fn reset_disable_enable_and_unlock_end_sessions_at_once(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff(STAFF_EMAIL).await;
    let token = s.staff_token(&staff).await;
    let partner = s.account("Acme", "admin@acme.test").await;
    let second = s.token("admin@acme.test", PASSWORD).await;
    let user_path = |action: &str| format!("/v1/admin/users/{}/{action}", partner.user_id);

    // Disable: every live token refused at once, sign-in refused like a wrong password.
    let r = s.post_empty(&user_path("disable"), &token).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.body["user"]["disabled"], true);
    for t in [&partner.token, &second] {
        s.get("/v1/partner/me", Some(t))
            .await
            .assert_error(Status::Unauthorized, "unauthorized");
    }
    s.login("admin@acme.test", PASSWORD)
        .await
        .assert_error(Status::Unauthorized, "invalid_credentials");
    // Twice: the same answer.
    assert_eq!(
        s.post_empty(&user_path("disable"), &token).await.status,
        Status::Ok
    );
    let r = s.post_empty(&user_path("enable"), &token).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.body["user"]["disabled"], false);
    let fresh = s.token("admin@acme.test", PASSWORD).await;
    // The tokens from before the disable stay refused.
    s.get("/v1/partner/me", Some(&partner.token))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");

    // Reset: the old password and every token refused; the one-time one must be changed.
    let r = s.post_empty(&user_path("reset-password"), &token).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.body["user"]["must_change_password"], true);
    let once = r.body["initial_password"].as_str().unwrap().to_owned();
    s.get("/v1/partner/me", Some(&fresh))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    s.login("admin@acme.test", PASSWORD)
        .await
        .assert_error(Status::Unauthorized, "invalid_credentials");
    let t = s.token("admin@acme.test", &once).await;
    s.get("/v1/partner/credentials", Some(&t))
        .await
        .assert_error(Status::Forbidden, "password_change_required");

    // Unlock: an email throttled from an address (and locked for everyone) signs in again.
    for _ in 0..10 {
        s.login_from("admin@acme.test", "wrong password!", "192.0.2.99")
            .await;
    }
    s.login_from("admin@acme.test", &once, "192.0.2.99")
        .await
        .assert_error(Status::TooManyRequests, "too_many_requests");
    let r = s.post_empty(&user_path("unlock"), &token).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.body["user"]["email"], "admin@acme.test");
    assert_eq!(
        s.login_from("admin@acme.test", &once, "192.0.2.99")
            .await
            .status,
        Status::Ok
    );

    // Unknown users, ids of another kind: 404, whatever the action.
    for action in ["disable", "enable", "unlock", "reset-password"] {
        for bad in ["usr_AAAAAAAAAAAA", partner.tenant_id.as_str(), "x"] {
            s.post_empty(&format!("/v1/admin/users/{bad}/{action}"), &token)
                .await
                .assert_error(Status::NotFound, "not_found");
        }
    }
}

async fn staff_actions_show_in_the_partner_s_own_trail(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff(STAFF_EMAIL).await;
    let token = s.staff_token(&staff).await;
    let acme = s.account("Acme", "admin@acme.test").await;
    let beta = s.account("Beta", "ops@beta.test").await;
    let provisioned = s
        .post_json(
            &format!("/v1/admin/tenants/{}/users", acme.tenant_id),
            &token,
            json!({"email": "second@acme.test"}),
        )
        .await;
    let second = provisioned.body["user"]["id"].as_str().unwrap().to_owned();
    for action in ["disable", "enable", "unlock", "reset-password"] {
        let r = s
            .post_empty(&format!("/v1/admin/users/{second}/{action}"), &token)
            .await;
        assert_eq!(r.status, Status::Ok, "{action}: {}", r.body);
    }

    // The partner sees every staff action, with the staff actor.
    let r = s.get("/v1/partner/audit", Some(&acme.token)).await;
    let entries = r.body["entries"].as_array().unwrap();
    let staff_entries: Vec<&Value> = entries
        .iter()
        .filter(|e| e["actor"]["kind"] == "staff")
        .collect();
    let actions: Vec<&str> = staff_entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.password_reset",
            "user.unlocked",
            "user.enabled",
            "user.disabled",
            "user.provisioned"
        ]
    );
    for e in &staff_entries {
        assert_eq!(
            e["actor"],
            json!({"kind": "staff", "staff_id": staff.id, "email": STAFF_EMAIL})
        );
        assert_eq!(e["detail"]["user_id"], second.as_str());
        assert_eq!(e["detail"]["email"], "second@acme.test");
    }
    // Beta's trail has none of it; staff sign-ins are in no partner's trail.
    let r = s.get("/v1/partner/audit", Some(&beta.token)).await;
    assert!(
        r.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"]["kind"] == "user")
    );

    // Across tenants: every trail and the staff trail, each entry with its tenant.
    let all = s.get("/v1/admin/audit?limit=200", Some(&token)).await;
    assert_eq!(all.status, Status::Ok, "{}", all.body);
    let entries = all.body["entries"].as_array().unwrap();
    let staff_sign_in = entries
        .iter()
        .find(|e| e["action"] == "login.succeeded" && e["actor"]["kind"] == "staff")
        .expect("the staff sign-in is in the staff trail");
    assert_eq!(staff_sign_in["tenant"], Value::Null);
    assert!(
        entries
            .iter()
            .any(|e| e["tenant"]["id"] == beta.tenant_id.as_str() && e["tenant"]["name"] == "Beta")
    );
    let keys: Vec<&String> = entries[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "action",
            "actor",
            "at",
            "credential_id",
            "detail",
            "id",
            "tenant"
        ]
    );
    // One tenant's only (no staff trail), a page at a time, newest first.
    let only = s
        .get(
            &format!("/v1/admin/audit?tenant={}&limit=2", acme.tenant_id),
            Some(&token),
        )
        .await;
    let page = only.body["entries"].as_array().unwrap();
    assert_eq!(page.len(), 2);
    assert!(
        page.iter()
            .all(|e| e["tenant"]["id"] == acme.tenant_id.as_str())
    );
    assert_eq!(page[0]["action"], "user.password_reset");
    let before = only.body["next_cursor"].as_str().unwrap();
    let next = s
        .get(
            &format!(
                "/v1/admin/audit?tenant={}&limit=2&before={before}",
                acme.tenant_id
            ),
            Some(&token),
        )
        .await;
    assert_eq!(next.body["entries"][0]["action"], "user.enabled");
    for bad in ["limit=0", "limit=201", "before=x", "before=0"] {
        s.get(&format!("/v1/admin/audit?{bad}"), Some(&token))
            .await
            .assert_error(Status::UnprocessableEntity, "invalid_request");
    }
    let none = s
        .get("/v1/admin/audit?tenant=ten_AAAAAAAAAAAA", Some(&token))
        .await;
    assert_eq!(none.body, json!({"entries": [], "next_cursor": null}));
}

async fn a_disabled_staff_member_cannot_sign_in(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff(STAFF_EMAIL).await;
    let token = s.staff_token(&staff).await;
    let other = s.staff_token(&staff).await;
    s.sql()
        .set_staff_disabled(STAFF_EMAIL, true, 0)
        .await
        .unwrap();
    for t in [&token, &other] {
        s.get("/v1/admin/audit", Some(t))
            .await
            .assert_error(Status::Unauthorized, "unauthorized");
    }
    s.clock.advance(Duration::seconds(STEP_SECS));
    login_at_offset(&s, &staff, 0)
        .await
        .assert_error(Status::Unauthorized, "invalid_credentials");
    s.sql()
        .set_staff_disabled(STAFF_EMAIL, false, 0)
        .await
        .unwrap();
    // The code refused while disabled was not used up.
    assert_eq!(login_at_offset(&s, &staff, 0).await.status, Status::Ok);
}

async fn staff_revoke_keys_and_the_probe_refuses_them(b: Backend) {
    let s = server(b).await;
    let staff = s.add_staff(STAFF_EMAIL).await;
    let token = s.staff_token(&staff).await;
    let acme = s.account("Acme", "admin@acme.test").await;
    let beta = s.account("Beta", "ops@beta.test").await;
    let mut keys = Vec::new();
    for name in ["one", "two", "three"] {
        let r = s.create(&acme, json!({"name": name})).await;
        keys.push((
            r.body["credential"]["id"].as_str().unwrap().to_owned(),
            r.body["api_key"].as_str().unwrap().to_owned(),
        ));
    }
    let beta_key = s.create(&beta, json!({})).await.body["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (id, key) = &keys[0];

    // One key by id or by masked key, with its tenant; a whole key is refused unseen.
    let d = s
        .get(&format!("/v1/admin/credentials/{id}"), Some(&token))
        .await;
    assert_eq!(d.status, Status::Ok, "{}", d.body);
    assert_eq!(d.body["credential"]["id"], id.as_str());
    assert_eq!(d.body["credential"]["name"], "one");
    assert_eq!(
        d.body["tenant"],
        json!({"id": acme.tenant_id, "name": "Acme"})
    );
    let masked = d.body["credential"]["masked_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_masked = s
        .get(
            &format!(
                "/v1/admin/credentials/{}",
                masked.replace('\u{2022}', "%E2%80%A2")
            ),
            Some(&token),
        )
        .await;
    assert_eq!(by_masked.body, d.body);
    let pasted = s
        .get(&format!("/v1/admin/credentials/{key}"), Some(&token))
        .await;
    pasted.assert_error(Status::BadRequest, "invalid_request");
    assert!(pasted.body.to_string().contains("never handle secrets"));
    assert!(!pasted.body.to_string().contains(&key[22..]));
    for bad in ["AAAAAAAAAAAA", "nope", acme.tenant_id.as_str()] {
        s.get(&format!("/v1/admin/credentials/{bad}"), Some(&token))
            .await
            .assert_error(Status::NotFound, "not_found");
        s.post_empty(&format!("/v1/admin/credentials/{bad}/revoke"), &token)
            .await
            .assert_error(Status::NotFound, "not_found");
    }
    // Staff cannot create or rotate: the key list takes GET only, and there is no rotate.
    s.post_json("/v1/admin/credentials", &token, json!({}))
        .await
        .assert_error(Status::MethodNotAllowed, "method_not_allowed");
    assert_eq!(
        s.post_json(
            &format!("/v1/admin/credentials/{id}/rotate"),
            &token,
            json!({"grace_hours": 24})
        )
        .await
        .status,
        Status::NotFound
    );

    // Revoke on the tenant's behalf: the partner's probe refuses the key at once.
    assert_eq!(s.probe(Some(key)).await.status, Status::Ok);
    let r = s
        .post_empty(&format!("/v1/admin/credentials/{id}/revoke"), &token)
        .await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.body["credential"]["status"], "revoked");
    let revoked_at = r.body["credential"]["revoked_at"].clone();
    s.probe(Some(key))
        .await
        .assert_error(Status::Unauthorized, "api_key_revoked");
    let again = s
        .post_empty(&format!("/v1/admin/credentials/{id}/revoke"), &token)
        .await;
    assert_eq!(again.body["credential"]["revoked_at"], revoked_at);

    // Revoke-all: the other two, then none; Beta's key is untouched.
    let path = format!("/v1/admin/tenants/{}/revoke-all", acme.tenant_id);
    let r = s.post_empty(&path, &token).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.body, json!({"revoked": 2}));
    assert_eq!(
        s.post_empty(&path, &token).await.body,
        json!({"revoked": 0})
    );
    for (_, key) in &keys {
        s.probe(Some(key))
            .await
            .assert_error(Status::Unauthorized, "api_key_revoked");
    }
    assert_eq!(s.probe(Some(&beta_key)).await.status, Status::Ok);
    let t = s
        .get(
            &format!("/v1/admin/tenants/{}", acme.tenant_id),
            Some(&token),
        )
        .await;
    assert_eq!(t.body["tenant"]["live_keys"], 0);
    s.post_empty("/v1/admin/tenants/ten_AAAAAAAAAAAA/revoke-all", &token)
        .await
        .assert_error(Status::NotFound, "not_found");

    // The partner sees what staff did to its keys.
    let audit = s.get("/v1/partner/audit", Some(&acme.token)).await;
    let by_staff: Vec<(String, Value)> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["kind"] == "staff")
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["credential_id"].clone(),
            )
        })
        .collect();
    assert_eq!(by_staff.len(), 4, "{by_staff:?}");
    assert_eq!(by_staff[0], ("tenant.keys_revoked".to_owned(), Value::Null));
    assert!(by_staff[1..].iter().all(|(a, _)| a == "credential.revoked"));
    assert_eq!(by_staff[3].1, id.as_str());
}

on_both_backends!(
    staff_revoke_keys_and_the_probe_refuses_them,
    staff_sign_in_answers_a_staff_token,
    totp_codes_work_once_within_one_step_of_drift,
    every_wrong_sign_in_reads_the_same,
    staff_and_partner_tokens_never_cross,
    staff_sign_in_is_throttled_apart_from_partners,
    tenants_are_listed_made_and_shown,
    staff_provision_users_who_change_the_one_time_password,
    reset_disable_enable_and_unlock_end_sessions_at_once,
    staff_actions_show_in_the_partner_s_own_trail,
    a_disabled_staff_member_cannot_sign_in,
);
