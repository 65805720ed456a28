//! Sessions that can end: sign-out, password change, disabled users, the per-user cap, the forced
//! password change, and two server instances on one database agreeing at once.
#![allow(missing_docs)]

mod common;

use std::sync::Arc;

use common::*;
use idunox_keys::time::Duration;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::json;

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn sign_out_ends_that_session_only(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    let first = s.token("admin@acme.test", PASSWORD).await;
    let second = s.token("admin@acme.test", PASSWORD).await;

    // Bodyless, no Content-Type needed.
    let r = s.logout(&first).await;
    assert_eq!(r.status, Status::NoContent, "{}", r.body);
    assert_eq!(r.body, json!(""), "204 has no body");
    assert_eq!(r.header("Cache-Control"), Some("no-store"));

    s.get("/v1/partner/me", Some(&first))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    s.get("/v1/partner/credentials", Some(&first))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    s.logout(&first)
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    // The other session goes on.
    assert_eq!(
        s.get("/v1/partner/me", Some(&second)).await.status,
        Status::Ok
    );
    let actions = s.audit_actions(&second).await;
    assert_eq!(
        actions,
        ["user.logged_out", "login.succeeded", "login.succeeded"]
    );
    // Without a token: 401, not 204.
    let r = s.send(s.client.post("/v1/partner/auth/logout")).await;
    r.assert_error(Status::Unauthorized, "unauthorized");
}

async fn sign_out_is_seen_by_every_instance_at_once(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    let token = s.token("admin@acme.test", PASSWORD).await;
    // A second server on the same database, as a second instance behind a load balancer.
    let other = Client::tracked(reference_server::build(
        figment(&s.db.url),
        Arc::new(s.clock.clone()),
    ))
    .await
    .unwrap();
    let me_on_other = || async {
        other
            .get("/v1/partner/me")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await
            .status()
    };
    assert_eq!(me_on_other().await, Status::Ok);
    assert_eq!(s.logout(&token).await.status, Status::NoContent);
    assert_eq!(me_on_other().await, Status::Unauthorized);
}

async fn a_password_change_ends_every_other_session(b: Backend) {
    let s = server(b).await;
    let (_, user_id) = s.provision("Acme", "admin@acme.test").await;
    let changer = s.token("admin@acme.test", PASSWORD).await;
    let elsewhere = s.token("admin@acme.test", PASSWORD).await;

    let r = s.change_password(&changer, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(r.status, Status::NoContent, "{}", r.body);
    // The session that made the change stays valid; the other one ends.
    assert_eq!(
        s.get("/v1/partner/me", Some(&changer)).await.status,
        Status::Ok
    );
    s.get("/v1/partner/me", Some(&elsewhere))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    // The new password works, the old one no longer.
    s.login("admin@acme.test", PASSWORD)
        .await
        .assert_error(Status::Unauthorized, "invalid_credentials");
    assert_eq!(
        s.login("admin@acme.test", NEW_PASSWORD).await.status,
        Status::Ok
    );
    // Stored at the configured argon2 parameters.
    let hash: String = sqlx::Row::get(
        &sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(&user_id)
            .fetch_one(&s.sql().pool)
            .await
            .unwrap(),
        "password_hash",
    );
    assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
    assert!(
        s.audit_actions(&changer)
            .await
            .contains(&"user.password_changed".to_owned())
    );
}

async fn password_change_refusals(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    let token = s.token("admin@acme.test", PASSWORD).await;

    let r = s
        .change_password(&token, "not the password", NEW_PASSWORD)
        .await;
    r.assert_error(Status::Forbidden, "wrong_password");
    assert!(!r.body.to_string().contains("not the password"));
    s.change_password(&token, PASSWORD, "elevenchars")
        .await
        .assert_error(Status::UnprocessableEntity, "weak_password");
    // The one-time password again is no change.
    s.change_password(&token, PASSWORD, PASSWORD)
        .await
        .assert_error(Status::UnprocessableEntity, "weak_password");
    s.change_password(&token, PASSWORD, &"x".repeat(1025))
        .await
        .assert_error(Status::UnprocessableEntity, "invalid_request");
    // Exactly 12 and exactly 1024 characters are fine.
    assert_eq!(
        s.change_password(&token, PASSWORD, "twelve chars")
            .await
            .status,
        Status::NoContent
    );
    assert_eq!(
        s.change_password(&token, "twelve chars", &"y".repeat(1024))
            .await
            .status,
        Status::NoContent
    );
    // Shape errors say nothing about the passwords.
    let r = s
        .post_json(
            "/v1/partner/me/password",
            &token,
            json!({"current_password": "secret-current-value", "new_password": 5}),
        )
        .await;
    r.assert_error(Status::UnprocessableEntity, "invalid_request");
    assert!(!r.body.to_string().contains("secret-current-value"));
    s.post("/v1/partner/me/password", None, "{}")
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
}

async fn wrong_current_passwords_count_as_sign_in_failures(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    let token = s.token("admin@acme.test", PASSWORD).await;
    for _ in 0..10 {
        s.change_password_from(&token, "guess guess guess", NEW_PASSWORD, "198.51.100.9")
            .await
            .assert_error(Status::Forbidden, "wrong_password");
    }
    // The 11th guess from that address is throttled without checking it, the right one too.
    let r = s
        .change_password_from(&token, PASSWORD, NEW_PASSWORD, "198.51.100.9")
        .await;
    r.assert_error(Status::TooManyRequests, "too_many_requests");
    assert_eq!(r.header("Retry-After"), Some("900"));
    // And sign-in from that address is throttled too: one budget.
    s.login_from("admin@acme.test", PASSWORD, "198.51.100.9")
        .await
        .assert_error(Status::TooManyRequests, "too_many_requests");
    // Each guess is in the audit trail, with the signed-in user as actor.
    let page = s.get("/v1/partner/audit?limit=200", Some(&token)).await;
    let failed: Vec<_> = page.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login.failed")
        .collect();
    assert_eq!(failed.len(), 10);
    assert_eq!(failed[0]["actor"]["kind"], "user");
    assert_eq!(failed[0]["detail"]["via"], "password_change");
}

async fn a_disabled_user_is_refused_at_once(b: Backend) {
    let s = server(b).await;
    let (_, user_id) = s.provision("Acme", "admin@acme.test").await;
    let token = s.token("admin@acme.test", PASSWORD).await;
    s.sql_exec(&format!(
        "UPDATE users SET disabled = 1 WHERE id = '{user_id}'"
    ))
    .await;
    s.get("/v1/partner/me", Some(&token))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
    // Signing in reads exactly like a wrong password.
    let disabled = s.login("admin@acme.test", PASSWORD).await;
    let wrong = s.login("admin@acme.test", "wrong password!").await;
    disabled.assert_error(Status::Unauthorized, "invalid_credentials");
    assert_eq!(disabled.body, wrong.body);
    s.sql_exec(&format!(
        "UPDATE users SET disabled = 0 WHERE id = '{user_id}'"
    ))
    .await;
    assert_eq!(
        s.login("admin@acme.test", PASSWORD).await.status,
        Status::Ok
    );
}

async fn live_sessions_are_capped_per_user(b: Backend) {
    let s = server(b).await;
    let (_, user_id) = s.provision("Acme", "admin@acme.test").await;
    let mut tokens = Vec::new();
    for _ in 0..22 {
        tokens.push(s.token("admin@acme.test", PASSWORD).await);
        s.clock.advance(Duration::seconds(1));
    }
    let live = s
        .sql_count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE subject_id = '{user_id}'"
        ))
        .await;
    assert_eq!(live, reference_server::auth::session::MAX_PER_USER);
    // The two oldest ended; the 20 newest work.
    for (i, t) in tokens.iter().enumerate() {
        let status = s.get("/v1/partner/me", Some(t)).await.status;
        let expected = if i < 2 {
            Status::Unauthorized
        } else {
            Status::Ok
        };
        assert_eq!(status, expected, "session {i}");
    }
}

async fn expired_and_ended_sessions_are_pruned(b: Backend) {
    let s = server_with(b, |f| f.merge(("jwt_ttl_seconds", 60))).await;
    // Three users (a user's own sign-in already drops its dead sessions).
    for email in ["a@acme.test", "b@acme.test", "c@acme.test"] {
        s.provision(email, email).await;
    }
    let ended = s.token("a@acme.test", PASSWORD).await;
    let _expiring = s.token("b@acme.test", PASSWORD).await;
    s.logout(&ended).await;
    s.clock.advance(Duration::seconds(30));
    let live = s.token("c@acme.test", PASSWORD).await;
    s.clock.advance(Duration::seconds(31));
    let upkeep = reference_server::maintenance::Upkeep::of(s.app());
    upkeep.run(false).await.unwrap();
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM sessions").await,
        1,
        "the ended one and the expired one went"
    );
    assert_eq!(
        s.get("/v1/partner/me", Some(&live)).await.status,
        Status::Ok
    );
    s.get("/v1/partner/me", Some(&ended))
        .await
        .assert_error(Status::Unauthorized, "unauthorized");
}

async fn a_one_time_password_must_be_changed_first(b: Backend) {
    let s = server(b).await;
    let (_, user_id) = s.provision("Acme", "admin@acme.test").await;
    s.sql_exec(&format!(
        "UPDATE users SET must_change_password = 1 WHERE id = '{user_id}'"
    ))
    .await;
    let r = s.login("admin@acme.test", PASSWORD).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.body["user"]["must_change_password"], true);
    let token = r.body["token"].as_str().unwrap().to_owned();

    let me = s.get("/v1/partner/me", Some(&token)).await;
    assert_eq!(me.status, Status::Ok);
    assert_eq!(me.body["user"]["must_change_password"], true);
    assert_eq!(s.get("/v1/partner/config", None).await.status, Status::Ok);
    // Everything else is refused until the password changes.
    for r in [
        s.get("/v1/partner/credentials", Some(&token)).await,
        s.post_json("/v1/partner/credentials", &token, json!({}))
            .await,
        s.get("/v1/partner/audit", Some(&token)).await,
        s.post(
            "/v1/partner/credentials/AAAAAAAAAAAA/revoke",
            Some(&token),
            "",
        )
        .await,
    ] {
        r.assert_error(Status::Forbidden, "password_change_required");
    }
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM credentials").await,
        0,
        "nothing was created"
    );
    let r = s.change_password(&token, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(r.status, Status::NoContent, "{}", r.body);
    let me = s.get("/v1/partner/me", Some(&token)).await;
    assert_eq!(me.body["user"]["must_change_password"], false);
    assert_eq!(
        s.get("/v1/partner/credentials", Some(&token)).await.status,
        Status::Ok
    );

    // Sign-out also works while the change is due.
    s.sql_exec(&format!(
        "UPDATE users SET must_change_password = 1 WHERE id = '{user_id}'"
    ))
    .await;
    assert_eq!(s.logout(&token).await.status, Status::NoContent);
}

async fn sign_in_answers_carry_the_session_id(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    let token = s.token("admin@acme.test", PASSWORD).await;
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL")
            .await,
        1
    );
    // A tampered body is still refused before the session is read.
    let r = s
        .send(
            s.client
                .get("/v1/partner/me")
                .header(ContentType::JSON)
                .header(Header::new("Authorization", format!("Bearer {token}x"))),
        )
        .await;
    r.assert_error(Status::Unauthorized, "unauthorized");
}

on_both_backends!(
    sign_out_ends_that_session_only,
    sign_out_is_seen_by_every_instance_at_once,
    a_password_change_ends_every_other_session,
    password_change_refusals,
    wrong_current_passwords_count_as_sign_in_failures,
    a_disabled_user_is_refused_at_once,
    live_sessions_are_capped_per_user,
    expired_and_ended_sessions_are_pruned,
    a_one_time_password_must_be_changed_first,
    sign_in_answers_carry_the_session_id,
);
