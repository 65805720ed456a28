//! Sign-in under abuse: throttling per email and client address, trusted proxies, the audit
//! trail's bounds, refusals before any query, rehashing, bounded password work and atomic audit.
#![allow(missing_docs)]

mod common;

use std::time::Duration as StdDuration;

use common::*;
use idunox_keys::time::Duration;
use reference_server::auth::throttle::Realm;
use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};

const WRONG: &str = "wrong password!";

async fn entries(s: &TestServer, token: &str) -> Vec<Value> {
    let r = s.get("/v1/partner/audit?limit=200", Some(token)).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    r.body["entries"].as_array().unwrap().clone()
}

fn count(entries: &[Value], action: &str) -> usize {
    entries.iter().filter(|e| e["action"] == action).count()
}

// ---------------------------------------------------------------- throttling

async fn one_address_cannot_lock_a_partner_out(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    for _ in 0..10 {
        s.login_from("admin@acme.test", WRONG, "203.0.113.66")
            .await
            .assert_error(Status::Unauthorized, "invalid_credentials");
    }
    // The attacker's address is refused, even with the right password...
    let r = s
        .login_from("admin@acme.test", PASSWORD, "203.0.113.66")
        .await;
    r.assert_error(Status::TooManyRequests, "too_many_requests");
    assert_eq!(r.header("Retry-After"), Some("900"));
    // ...the partner, from their own address, is not.
    let r = s
        .login_from("admin@acme.test", PASSWORD, "192.0.2.10")
        .await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    // An IPv6 client is one /64: stepping through its addresses does not reset the count.
    for i in 0..10 {
        s.login_from("admin@acme.test", WRONG, &format!("2001:db8:7:7::{i:x}"))
            .await
            .assert_error(Status::Unauthorized, "invalid_credentials");
    }
    s.login_from("admin@acme.test", WRONG, "2001:db8:7:7:ffff::1")
        .await
        .assert_error(Status::TooManyRequests, "too_many_requests");
}

async fn many_addresses_lock_the_account_for_everyone(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    // 100 failures from ten addresses, one minute apart per round.
    for round in 0..10 {
        for host in 0..10 {
            s.login_from("admin@acme.test", WRONG, &format!("198.51.100.{host}"))
                .await
                .assert_error(Status::Unauthorized, "invalid_credentials");
        }
        if round < 9 {
            s.clock.advance(Duration::minutes(1));
        }
    }
    // The 101st, from a fresh address and with the right password: locked for everyone.
    let r = s
        .login_from("admin@acme.test", PASSWORD, "192.0.2.10")
        .await;
    r.assert_error(Status::TooManyRequests, "too_many_requests");
    // The oldest ten failures (at 0:00) age out at 0:15; now is 0:09.
    assert_eq!(r.header("Retry-After"), Some("360"));
    // Throttled attempts do not count and are not checked: the count stays at 100.
    for _ in 0..20 {
        s.login_from("admin@acme.test", PASSWORD, "192.0.2.10")
            .await
            .assert_error(Status::TooManyRequests, "too_many_requests");
    }
    let window_start = START.unix_timestamp() - 1;
    assert_eq!(
        s.sql()
            .sign_in_failures(Realm::User, "admin@acme.test", window_start)
            .await
            .unwrap(),
        100
    );
    // When the first round ages out, the partner gets in.
    s.clock.advance(Duration::minutes(6));
    let r = s
        .login_from("admin@acme.test", PASSWORD, "192.0.2.10")
        .await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
}

async fn staff_can_clear_an_email_s_throttling(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    for _ in 0..10 {
        s.login_from("admin@acme.test", WRONG, "203.0.113.66").await;
    }
    s.login_from("admin@acme.test", PASSWORD, "203.0.113.66")
        .await
        .assert_error(Status::TooManyRequests, "too_many_requests");
    s.sql()
        .clear_sign_in_throttle(Realm::User, "admin@acme.test")
        .await
        .unwrap();
    assert_eq!(
        s.login_from("admin@acme.test", PASSWORD, "203.0.113.66")
            .await
            .status,
        Status::Ok
    );
}

async fn success_clears_only_that_address(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    for _ in 0..9 {
        s.login_from("admin@acme.test", WRONG, "192.0.2.1").await;
        s.login_from("admin@acme.test", WRONG, "192.0.2.2").await;
    }
    assert_eq!(
        s.login_from("admin@acme.test", PASSWORD, "192.0.2.1")
            .await
            .status,
        Status::Ok
    );
    // 192.0.2.1 starts again from zero: ten more failures before a refusal.
    for _ in 0..10 {
        s.login_from("admin@acme.test", WRONG, "192.0.2.1")
            .await
            .assert_error(Status::Unauthorized, "invalid_credentials");
    }
    // 192.0.2.2 kept its nine: the tenth fails, the eleventh is refused.
    s.login_from("admin@acme.test", WRONG, "192.0.2.2")
        .await
        .assert_error(Status::Unauthorized, "invalid_credentials");
    s.login_from("admin@acme.test", PASSWORD, "192.0.2.2")
        .await
        .assert_error(Status::TooManyRequests, "too_many_requests");
}

async fn throttled_attempts_write_one_audit_entry_per_window(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    let token = s.token("admin@acme.test", PASSWORD).await;
    for _ in 0..10 {
        s.login_from("admin@acme.test", WRONG, "203.0.113.66").await;
    }
    for _ in 0..60 {
        s.login_from("admin@acme.test", WRONG, "203.0.113.66")
            .await
            .assert_error(Status::TooManyRequests, "too_many_requests");
    }
    let e = entries(&s, &token).await;
    assert_eq!(count(&e, "login.throttled"), 1);
    assert_eq!(count(&e, "login.failed"), 10);
    let throttled = e.iter().find(|x| x["action"] == "login.throttled").unwrap();
    assert!(throttled["actor"].is_null());
    assert_eq!(throttled["detail"]["email"], "admin@acme.test");
    assert_eq!(throttled["detail"]["lock"], "address");
    // A new window, a new lock: one more entry.
    s.clock.advance(Duration::minutes(16));
    for _ in 0..10 {
        s.login_from("admin@acme.test", WRONG, "203.0.113.66").await;
    }
    for _ in 0..30 {
        s.login_from("admin@acme.test", WRONG, "203.0.113.66").await;
    }
    assert_eq!(count(&entries(&s, &token).await, "login.throttled"), 2);
}

async fn unknown_emails_leave_no_audit_rows_and_age_out(b: Backend) {
    let s = server(b).await;
    for i in 0..15 {
        s.login_from(&format!("ghost{i}@nowhere.test"), WRONG, "203.0.113.66")
            .await
            .assert_error(Status::Unauthorized, "invalid_credentials");
    }
    for _ in 0..12 {
        s.login_from("ghost@nowhere.test", WRONG, "203.0.113.66")
            .await;
    }
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM audit_log").await, 0);
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM login_failures").await,
        25,
        "15 + 10 counted, 2 refused"
    );
    // After the window, the upkeep deletes them all.
    s.clock.advance(Duration::minutes(15));
    let upkeep = reference_server::maintenance::Upkeep::of(s.app());
    upkeep.run(false).await.unwrap();
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM login_failures").await, 0);
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM login_throttle_notes")
            .await,
        0
    );
}

async fn behind_a_trusted_proxy_the_forwarded_address_counts(b: Backend) {
    let s = server_with(b, |f| f.merge(("trusted_proxies", vec!["10.0.0.0/8"]))).await;
    s.provision("Acme", "admin@acme.test").await;
    let via_proxy = |xff: &str, password: &str| {
        s.client
            .post("/v1/partner/auth/login")
            .remote(peer("10.0.0.5"))
            .header(ContentType::JSON)
            .header(Header::new("X-Forwarded-For", xff.to_owned()))
            .body(json!({"email": "admin@acme.test", "password": password}).to_string())
    };
    // The attacker writes a fake address on the left; the proxy appends the real one.
    for i in 0..10 {
        let r = s
            .send(via_proxy(&format!("192.0.2.{i}, 203.0.113.66"), WRONG))
            .await;
        r.assert_error(Status::Unauthorized, "invalid_credentials");
    }
    s.send(via_proxy("192.0.2.99, 203.0.113.66", PASSWORD))
        .await
        .assert_error(Status::TooManyRequests, "too_many_requests");
    // Another client behind the same proxy is not affected.
    let r = s.send(via_proxy("198.51.100.4", PASSWORD)).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
}

async fn without_trusted_proxies_forwarded_for_is_ignored(b: Backend) {
    let s = server(b).await;
    s.provision("Acme", "admin@acme.test").await;
    for i in 0..10 {
        let r = s
            .send(
                s.client
                    .post("/v1/partner/auth/login")
                    .remote(peer("203.0.113.66"))
                    .header(ContentType::JSON)
                    .header(Header::new("X-Forwarded-For", format!("192.0.2.{i}")))
                    .body(json!({"email": "admin@acme.test", "password": WRONG}).to_string()),
            )
            .await;
        r.assert_error(Status::Unauthorized, "invalid_credentials");
    }
    s.login_from("admin@acme.test", PASSWORD, "203.0.113.66")
        .await
        .assert_error(Status::TooManyRequests, "too_many_requests");
}

// ---------------------------------------------------------------- fair, bounded sign-in

async fn control_characters_in_emails_are_refused_before_any_query(b: Backend) {
    let s = server(b).await;
    for email in ["admin\u{0}@acme.test", "admin@acme.test\n", "\u{7f}x@y.z"] {
        let r = s.login(email, PASSWORD).await;
        r.assert_error(Status::UnprocessableEntity, "invalid_request");
    }
    s.login(&format!("{}@acme.test", "a".repeat(250)), PASSWORD)
        .await
        .assert_error(Status::UnprocessableEntity, "invalid_request");
    // Nothing reached the database, not even a failure row.
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM login_failures").await, 0);
}

async fn an_outdated_password_hash_is_upgraded_at_sign_in(b: Backend) {
    let s = server_with(b, |f| {
        f.merge(("argon2", json!({"m_cost": 2048, "t_cost": 1, "p_cost": 1})))
    })
    .await;
    let t = s.sql().create_tenant("Acme", 0).await.unwrap();
    let weak = idunox_keys::SecretHasher::new(idunox_keys::HashParams::INSECURE_FAST)
        .unwrap()
        .hash(PASSWORD.as_bytes())
        .unwrap();
    let u = s
        .sql()
        .create_user(&t.id, "admin@acme.test", &weak, 0)
        .await
        .unwrap();
    let stored = || async {
        let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(&u.id)
            .fetch_one(&s.sql().pool)
            .await
            .unwrap();
        sqlx::Row::get::<String, _>(&row, "password_hash")
    };
    // A wrong password changes nothing.
    s.login("admin@acme.test", WRONG).await;
    assert_eq!(stored().await, weak);
    assert_eq!(
        s.login("admin@acme.test", PASSWORD).await.status,
        Status::Ok
    );
    let upgraded = stored().await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=2048,t=1,p=1$"),
        "{upgraded}"
    );
    assert_eq!(
        s.login("admin@acme.test", PASSWORD).await.status,
        Status::Ok
    );
    assert_eq!(stored().await, upgraded, "rehashed once");
}

/// A stored hash far costlier than the server's own (64 MiB, 16 passes: about a second), to
/// occupy the budget's one worker while a test watches what else is admitted.
const SLOW_PHC: &str = "$argon2id$v=19$m=65536,t=16,p=1$c2FsdHNhbHRzYWx0c2FsdA$\
                        AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Start one slow verification on the server's budget and wait until it is admitted.
async fn occupy_budget(s: &TestServer) -> tokio::task::JoinHandle<()> {
    let budget = s.app().budget.clone();
    let before = budget.in_flight();
    let held = tokio::spawn(async move {
        let _ = budget
            .verify(idunox_keys::Priority::Normal, b"x", SLOW_PHC)
            .await;
    });
    for _ in 0..1000 {
        if s.app().budget.in_flight() > before {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(2)).await;
    }
    assert!(
        s.app().budget.in_flight() > before,
        "the slow run was admitted"
    );
    held
}

/// One argon2 worker and room for `capacity` runs.
fn small_budget(
    capacity: usize,
) -> impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment {
    move |f| {
        f.merge(("argon2_workers", 1))
            .merge(("argon2_capacity", capacity))
            .merge(("argon2_reserved", 0))
    }
}

async fn a_full_password_budget_answers_503_at_once(b: Backend) {
    let s = server_with(b, small_budget(1)).await;
    s.provision("Acme", "admin@acme.test").await;
    let held = occupy_budget(&s).await;
    let r = s.login("admin@acme.test", PASSWORD).await;
    r.assert_error(Status::ServiceUnavailable, "service_unavailable");
    let retry: u32 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!(retry >= 1, "{retry}");
    assert!(
        !held.is_finished(),
        "refused while the budget was full, not after a wait"
    );
    // An attempt that was never checked is not a failure.
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM login_failures").await, 0);
    held.await.unwrap();
    assert_eq!(
        s.login("admin@acme.test", PASSWORD).await.status,
        Status::Ok
    );
}

async fn one_client_holds_at_most_two_sign_ins(b: Backend) {
    let s = server_with(b, small_budget(8)).await;
    s.provision("Acme", "admin@acme.test").await;
    let held = occupy_budget(&s).await;
    // Two sign-ins from one address queue behind the slow run; a third is refused at once.
    let waiting = async {
        tokio::join!(
            s.login_from("admin@acme.test", PASSWORD, "203.0.113.66"),
            s.login_from("admin@acme.test", PASSWORD, "203.0.113.66"),
        )
    };
    let third = async {
        // Let the first two enter.
        for _ in 0..500 {
            if s.app().sign_ins.clients() == 1 && s.app().budget.in_flight() == 3 {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(2)).await;
        }
        let r = s
            .login_from("admin@acme.test", PASSWORD, "203.0.113.66")
            .await;
        (r, held.is_finished())
    };
    let ((first, second), (third, late)) =
        tokio::time::timeout(StdDuration::from_secs(60), async {
            tokio::join!(waiting, third)
        })
        .await
        .expect("queued sign-ins finish");
    assert!(!late, "the third came while the first two were queued");
    third.assert_error(Status::TooManyRequests, "too_many_requests");
    assert_eq!(third.header("Retry-After"), Some("1"));
    for r in [first, second] {
        assert_eq!(r.status, Status::Ok, "{}", r.body);
    }
    assert_eq!(s.app().sign_ins.clients(), 0);
    assert_eq!(
        s.login_from("admin@acme.test", PASSWORD, "203.0.113.66")
            .await
            .status,
        Status::Ok
    );
}

// ---------------------------------------------------------------- atomic audit

async fn sign_in_sign_out_and_password_change_commit_with_their_audit_entry(b: Backend) {
    let s = server(b).await;
    let (_, user_id) = s.provision("Acme", "admin@acme.test").await;
    let token = s.token("admin@acme.test", PASSWORD).await;
    s.without_audit_table(async {
        // Sign-in: no audit entry, no session, no last-login time.
        s.login("admin@acme.test", PASSWORD)
            .await
            .assert_error(Status::ServiceUnavailable, "service_unavailable");
        // Sign-out: the session is not ended.
        s.logout(&token)
            .await
            .assert_error(Status::ServiceUnavailable, "service_unavailable");
        // Password change: the password is not changed.
        s.change_password(&token, PASSWORD, "a brand new passphrase")
            .await
            .assert_error(Status::ServiceUnavailable, "service_unavailable");
    })
    .await;
    assert_eq!(
        s.sql_count("SELECT COUNT(*) FROM sessions").await,
        1,
        "only the first sign-in's session"
    );
    assert_eq!(
        s.get("/v1/partner/me", Some(&token)).await.status,
        Status::Ok
    );
    assert_eq!(
        s.login("admin@acme.test", PASSWORD).await.status,
        Status::Ok,
        "the old password still works"
    );
    let e = entries(&s, &token).await;
    assert_eq!(count(&e, "login.succeeded"), 2);
    assert_eq!(count(&e, "user.logged_out"), 0);
    assert_eq!(count(&e, "user.password_changed"), 0);
    let logins = s
        .sql_count(&format!(
            "SELECT COUNT(*) FROM users WHERE id = '{user_id}' AND last_login_at IS NOT NULL"
        ))
        .await;
    assert_eq!(logins, 1);
}

async fn audit_entries_carry_the_actor_shape(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    s.login("admin@acme.test", WRONG).await;
    s.logout(&s.token("admin@acme.test", PASSWORD).await).await;
    let e = entries(&s, &a.token).await;
    let user = json!({"kind": "user", "user_id": a.user_id, "email": "admin@acme.test"});
    for entry in &e {
        match entry["action"].as_str().unwrap() {
            "login.failed" => assert!(entry["actor"].is_null(), "{entry}"),
            _ => assert_eq!(entry["actor"], user, "{entry}"),
        }
    }
    assert_eq!(
        e.iter()
            .map(|x| x["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "user.logged_out",
            "login.succeeded",
            "login.failed",
            "login.succeeded"
        ]
    );
}

async fn old_audit_entries_are_pruned_in_batches(b: Backend) {
    let s = server_with(b, |f| f.merge(("audit_retention_days", 30))).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let now = START.unix_timestamp();
    let old = now - 31 * 86_400;
    // 2 500 old entries (more than two batches) and the sign-in's fresh one.
    let mut tx = s.sql().pool.begin().await.unwrap();
    for i in 0..2500 {
        sqlx::query("INSERT INTO audit_log (at, tenant_id, action) VALUES ($1, $2, 'x.old')")
            .bind(old - i)
            .bind(&a.tenant_id)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // (The server's own upkeep task may get there first: check the outcome, not who did it.)
    let upkeep = reference_server::maintenance::Upkeep::of(s.app());
    upkeep.run(true).await.unwrap();
    assert_eq!(entries(&s, &a.token).await.len(), 1);
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM audit_log").await, 1);
}

async fn the_audit_trail_is_pruned_at_start(b: Backend) {
    let db = test_db(b).await;
    let sql = reference_server::db::SqlDb::connect(&db.url).await.unwrap();
    sql.migrate().await.unwrap();
    let tenant = sql.create_tenant("Acme", 0).await.unwrap();
    let old = START.unix_timestamp() - 400 * 86_400;
    sqlx::query("INSERT INTO audit_log (at, tenant_id, action) VALUES ($1, $2, 'x.old')")
        .bind(old)
        .bind(&tenant.id)
        .execute(&sql.pool)
        .await
        .unwrap();
    let clock = idunox_keys::ManualClock::new(START);
    let rocket = reference_server::build(figment(&db.url), std::sync::Arc::new(clock));
    let _client = rocket::local::asynchronous::Client::tracked(rocket)
        .await
        .unwrap();
    // The upkeep task runs at liftoff; wait for it, boundedly.
    let mut left = -1;
    for _ in 0..100 {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
            .fetch_one(&sql.pool)
            .await
            .unwrap();
        left = sqlx::Row::get::<i64, _>(&row, "n");
        if left == 0 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "the 400-day-old entry was pruned at start");
}

on_both_backends!(
    one_address_cannot_lock_a_partner_out,
    many_addresses_lock_the_account_for_everyone,
    staff_can_clear_an_email_s_throttling,
    success_clears_only_that_address,
    throttled_attempts_write_one_audit_entry_per_window,
    unknown_emails_leave_no_audit_rows_and_age_out,
    behind_a_trusted_proxy_the_forwarded_address_counts,
    without_trusted_proxies_forwarded_for_is_ignored,
    control_characters_in_emails_are_refused_before_any_query,
    an_outdated_password_hash_is_upgraded_at_sign_in,
    a_full_password_budget_answers_503_at_once,
    one_client_holds_at_most_two_sign_ins,
    sign_in_sign_out_and_password_change_commit_with_their_audit_entry,
    audit_entries_carry_the_actor_shape,
    old_audit_entries_are_pruned_in_batches,
    the_audit_trail_is_pruned_at_start,
);
