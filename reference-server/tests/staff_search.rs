//! What one signed-in staff member can make the database spend with key listings across tenants
//! (`GET /v1/admin/credentials` without `tenant`): one in flight per staff member, the rest 429
//! `too_many_requests` with `Retry-After: 1` at once, while other staff members and partners are
//! served; the place is freed however the request ends (answer, database error, the request's
//! future dropped). On PostgreSQL each statement also runs under `staff_search_timeout_ms`.
//!
//! A search "in flight" is held without relying on timing: either the request's future is polled
//! until the handler holds its place and then left pending (as a slow database leaves it; a
//! search that a fast database answers within one poll is simply asked again), or, on
//! PostgreSQL, the search waits on a table lock another connection holds.
#![allow(missing_docs)]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration as StdDuration;

use common::*;
use reference_server::auth::in_flight::MAX_SEARCHES_PER_STAFF;
use rocket::http::Status;
use serde_json::json;

/// Poll `f` once; `Some(output)` when it finished.
async fn poll_once<T>(f: &mut Pin<Box<dyn Future<Output = T> + '_>>) -> Option<T> {
    match std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// Poll the request `f` until the server holds `n` search places (the handler has entered and is
/// waiting for the database), then leave it pending; `Err` with its answer when it finished first
/// (the database answered every statement within one poll, which a fast local database can do).
/// Bounded: 10 s.
async fn until_held(
    s: &TestServer,
    f: &mut Pin<Box<dyn Future<Output = Reply> + '_>>,
    n: usize,
) -> Result<(), Reply> {
    for _ in 0..10_000 {
        if let Some(r) = poll_once(f).await {
            return Err(r);
        }
        if s.app().staff_searches.clients() == n {
            return Ok(());
        }
        tokio::time::sleep(StdDuration::from_millis(1)).await;
    }
    panic!("the search never took its place");
}

/// A request for `path` held in flight by the handler (see [`until_held`]): asked again while
/// it finishes before it is seen holding its place (each such answer must be a 200), up to 200
/// times.
async fn held<'a>(
    s: &'a TestServer,
    path: &'a str,
    token: &'a str,
) -> Pin<Box<dyn Future<Output = Reply> + 'a>> {
    for _ in 0..200 {
        let mut f: Pin<Box<dyn Future<Output = Reply> + 'a>> = Box::pin(s.get(path, Some(token)));
        match until_held(s, &mut f, 1).await {
            Ok(()) => return f,
            Err(r) => assert_eq!(r.status, Status::Ok, "{}", r.body),
        }
    }
    panic!("200 searches all answered before they were seen in flight");
}

fn assert_refused(r: &Reply) {
    r.assert_error(Status::TooManyRequests, "too_many_requests");
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("search"),
        "{}",
        r.body
    );
}

/// A tenant with `n` keys named `billing-<i>`, and the secret of the first.
async fn keys(s: &TestServer, tenant: &str, email: &str, n: usize) -> (Account, String) {
    let a = s.account(tenant, email).await;
    let mut first = None;
    for i in 0..n {
        let r = s.create(&a, json!({"name": format!("billing-{i}")})).await;
        assert_eq!(r.status, Status::Created, "{}", r.body);
        first.get_or_insert_with(|| r.body["api_key"].as_str().unwrap().to_owned());
    }
    (a, first.unwrap())
}

async fn one_search_at_a_time_per_staff_member(b: Backend) {
    assert_eq!(MAX_SEARCHES_PER_STAFF, 1);
    let s = server(b).await;
    let ana = s.add_staff("ana@idunox.test").await;
    let bo = s.add_staff("bo@idunox.test").await;
    let (ana_token, bo_token) = (s.staff_token(&ana).await, s.staff_token(&bo).await);
    let (acme, key) = keys(&s, "Acme", "admin@acme.test", 3).await;
    let search = "/v1/admin/credentials?q=billing";

    // Ana's first search is in flight (its handler holds the place, the database has not answered
    // yet): her next ones are refused at once, however many.
    let first = held(&s, search, &ana_token).await;
    for path in [
        search,
        "/v1/admin/credentials",
        "/v1/admin/credentials?status=grace&sort=expires",
        "/v1/admin/credentials?q=nothing-matches-this",
    ] {
        assert_refused(&s.get(path, Some(&ana_token)).await);
    }
    // Meanwhile another staff member searches, a partner lists its keys and uses one, and Ana's
    // listing of one tenant (bounded like a partner's) is served.
    let other = s.get(search, Some(&bo_token)).await;
    assert_eq!(other.status, Status::Ok, "{}", other.body);
    assert_eq!(other.body["credentials"].as_array().unwrap().len(), 3);
    assert_eq!(s.list(&acme).await.len(), 3);
    assert_eq!(s.probe(Some(&key)).await.status, Status::Ok);
    let scoped = s
        .get(
            &format!("/v1/admin/credentials?tenant={}&q=billing", acme.tenant_id),
            Some(&ana_token),
        )
        .await;
    assert_eq!(scoped.status, Status::Ok, "{}", scoped.body);
    assert_eq!(
        s.app().staff_searches.clients(),
        1,
        "only Ana's first search"
    );

    // The first search finishes: it answers in full, and the next one is served.
    let done = first.await;
    assert_eq!(done.status, Status::Ok, "{}", done.body);
    assert_eq!(done.body["credentials"].as_array().unwrap().len(), 3);
    assert_eq!(s.app().staff_searches.clients(), 0);
    let next = s.get(search, Some(&ana_token)).await;
    assert_eq!(next.status, Status::Ok, "{}", next.body);

    // A search whose request goes away half-way (client gone, server stopping: its future is
    // dropped) frees the place too.
    let gone = held(&s, search, &ana_token).await;
    assert_refused(&s.get(search, Some(&ana_token)).await);
    drop(gone);
    assert_eq!(s.app().staff_searches.clients(), 0);
    let after = s.get(search, Some(&ana_token)).await;
    assert_eq!(after.status, Status::Ok, "{}", after.body);

    // A refused parameter answers 422 and frees the place as well.
    s.get("/v1/admin/credentials?limit=0", Some(&ana_token))
        .await
        .assert_error(Status::UnprocessableEntity, "invalid_request");
    assert_eq!(s.app().staff_searches.clients(), 0);
}

on_both_backends!(one_search_at_a_time_per_staff_member);

/// PostgreSQL, end to end: a search that waits on the database (a lock another connection
/// holds) holds Ana's place, so her next search is refused; the server cancels it after
/// `staff_search_timeout_ms` and it answers 503 `service_unavailable`, as any database failure
/// does; its place is free again, and once the lock goes her search is served.
#[rocket::async_test]
async fn postgres_a_search_past_its_time_limit_answers_503_and_frees_its_place() {
    if postgres_admin().is_none() {
        return;
    }
    let s = server_with(Backend::Postgres, |f| {
        f.merge(("staff_search_timeout_ms", 300))
    })
    .await;
    assert_eq!(
        s.app().config.staff_search_timeout,
        StdDuration::from_millis(300)
    );
    let ana = s.add_staff("ana@idunox.test").await;
    let token = s.staff_token(&ana).await;
    keys(&s, "Acme", "admin@acme.test", 1).await;
    let search = "/v1/admin/credentials?q=billing";

    let mut lock = s.sql().pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE credentials IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let mut waiting: Pin<Box<dyn Future<Output = Reply> + '_>> =
        Box::pin(s.get(search, Some(&token)));
    // Waiting on the lock, it cannot answer before it is seen in flight.
    if let Err(r) = until_held(&s, &mut waiting, 1).await {
        panic!("the search answered through the lock: {:?}", r.status);
    }
    // (The first search, not polled meanwhile, keeps its place whatever the database does.)
    assert_refused(&s.get(search, Some(&token)).await);
    // Bounded: without the time limit the search waits for the lock, and this fails.
    let cancelled = tokio::time::timeout(StdDuration::from_secs(20), waiting)
        .await
        .expect("the database cancels the search after 300 ms");
    cancelled.assert_error(Status::ServiceUnavailable, "service_unavailable");
    assert_eq!(cancelled.header("Retry-After"), Some("5"));
    assert_eq!(s.app().staff_searches.clients(), 0);

    lock.rollback().await.unwrap();
    let served = s.get(search, Some(&token)).await;
    assert_eq!(served.status, Status::Ok, "{}", served.body);
    assert_eq!(served.body["credentials"].as_array().unwrap().len(), 1);
}
