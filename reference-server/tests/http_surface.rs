//! The HTTP surface around the routes: `Cache-Control: no-store` however the path is spelled,
//! 415 for bodies that are not JSON, 405 with `Allow` for known paths under another method,
//! decided before authentication and from the mounted routes.
#![allow(missing_docs)]

mod common;

use std::sync::Arc;

use common::*;
use rocket::http::{ContentType, Header, Method, Status};
use rocket::local::asynchronous::Client;
use serde_json::json;

fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

async fn no_store_however_the_path_is_spelled(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    for path in [
        "/v1/partner/credentials",
        "//v1/partner/credentials",
        "/%761/partner/credentials",
        "/v1//partner//credentials",
    ] {
        let r = s
            .send(
                s.client
                    .post(path.to_owned())
                    .header(ContentType::JSON)
                    .header(bearer(&a.token))
                    .body("{}"),
            )
            .await;
        assert_eq!(r.status, Status::Created, "{path}: {}", r.body);
        assert!(r.body["api_key"].is_string(), "{path}: a plaintext key");
        assert_eq!(r.header("Cache-Control"), Some("no-store"), "{path}");
        let r = s
            .get(&path.replace("credentials", "me"), Some(&a.token))
            .await;
        assert_eq!(r.header("Cache-Control"), Some("no-store"), "{path}");
    }
    // Unmatched paths too, decided on the decoded segments.
    for path in ["//v1/nope", "/%761/nope", "/v%31/nope"] {
        let r = s.get(path, None).await;
        r.assert_error(Status::NotFound, "not_found");
        assert_eq!(r.header("Cache-Control"), Some("no-store"), "{path}");
    }
    // The portal's pages are not API answers: they carry the CSP instead.
    let page = s.get("/partner", None).await;
    assert!(page.header("Content-Security-Policy").is_some());
}

async fn bodies_must_be_json(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    let login_body = json!({"email": "admin@acme.test", "password": PASSWORD}).to_string();
    // What a cross-site form can send.
    for ct in [
        ContentType::Plain,
        ContentType::Form,
        ContentType::FormData,
        ContentType::new("application", "x-json"),
    ] {
        let r = s
            .send(
                s.client
                    .post("/v1/partner/auth/login")
                    .header(ct.clone())
                    .body(login_body.clone()),
            )
            .await;
        r.assert_error(Status::UnsupportedMediaType, "unsupported_media_type");
    }
    // No Content-Type at all, with and without a body.
    let r = s
        .send(
            s.client
                .post("/v1/partner/auth/login")
                .body(login_body.clone()),
        )
        .await;
    r.assert_error(Status::UnsupportedMediaType, "unsupported_media_type");
    let r = s.send(s.client.post("/v1/partner/auth/login")).await;
    r.assert_error(Status::UnsupportedMediaType, "unsupported_media_type");
    // Nothing was counted against the partner.
    assert_eq!(s.sql_count("SELECT COUNT(*) FROM login_failures").await, 0);
    // JSON with parameters is JSON; an empty JSON body is malformed JSON.
    let r = s
        .send(
            s.client
                .post("/v1/partner/auth/login")
                .header(ContentType::new("application", "json").with_params(("charset", "utf-8")))
                .body(login_body.clone()),
        )
        .await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    s.post("/v1/partner/auth/login", None, "")
        .await
        .assert_error(Status::BadRequest, "invalid_json");

    // A body sent to a route that takes none: refused too, and the route does not run.
    let created = s.create(&a, json!({})).await;
    let id = created.body["credential"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .send(
            s.client
                .post(format!("/v1/partner/credentials/{id}/revoke"))
                .header(ContentType::Plain)
                .header(bearer(&a.token))
                .body("revoke please"),
        )
        .await;
    r.assert_error(Status::UnsupportedMediaType, "unsupported_media_type");
    assert_eq!(s.list(&a).await[0]["status"], "active", "not revoked");
    // Bodyless POSTs need no Content-Type.
    let r = s
        .send(
            s.client
                .post(format!("/v1/partner/credentials/{id}/revoke"))
                .header(bearer(&a.token)),
        )
        .await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    let r = s
        .send(
            s.client
                .post("/v1/partner/credentials")
                .header(bearer(&a.token)),
        )
        .await;
    assert_eq!(r.status, Status::Created, "an empty create needs no body");
    // Before authentication: no token and a text body is a 415 as well.
    let r = s
        .send(
            s.client
                .post("/v1/partner/credentials")
                .header(ContentType::Plain)
                .body("x"),
        )
        .await;
    r.assert_error(Status::UnsupportedMediaType, "unsupported_media_type");
    // A GET with a text body.
    let r = s
        .send(
            s.client
                .get("/v1/partner/config")
                .header(ContentType::Plain)
                .body("x"),
        )
        .await;
    r.assert_error(Status::UnsupportedMediaType, "unsupported_media_type");
}

async fn wrong_methods_answer_405_with_allow_before_authentication(b: Backend) {
    let s = server(b).await;
    for (method, path, allow) in [
        (Method::Get, "/v1/partner/auth/login", "POST"),
        (Method::Delete, "/v1/partner/credentials", "GET, HEAD, POST"),
        (Method::Put, "/v1/partner/credentials", "GET, HEAD, POST"),
        (
            Method::Options,
            "/v1/partner/credentials",
            "GET, HEAD, POST",
        ),
        (Method::Trace, "/v1/partner/me", "GET, HEAD"),
        (
            Method::Delete,
            "/v1/partner/credentials/AAAAAAAAAAAA/revoke",
            "POST",
        ),
        (
            Method::Get,
            "/v1/partner/credentials/AAAAAAAAAAAA/rotate",
            "POST",
        ),
        (Method::Patch, "/v1/partner-auth-probe", "GET, HEAD"),
        (
            Method::Post,
            "/v1/partner/credentials/AAAAAAAAAAAA",
            "PATCH",
        ),
        (Method::Post, "/v1/openapi.json", "GET, HEAD"),
        (Method::Get, "/v1/partner/me/password", "POST"),
        (Method::Get, "/v1/partner/auth/logout", "POST"),
        (Method::Post, "//v1/partner/me", "GET, HEAD"),
    ] {
        // No token, and even a text body: the method is wrong first.
        let r = s
            .send(
                s.client
                    .req(method, path)
                    .header(ContentType::Plain)
                    .body("x"),
            )
            .await;
        r.assert_error(Status::MethodNotAllowed, "method_not_allowed");
        assert_eq!(r.header("Allow"), Some(allow), "{method} {path}");
        assert_eq!(r.header("Cache-Control"), Some("no-store"));
        assert!(r.header("WWW-Authenticate").is_none(), "{method} {path}");
    }
    // An unknown path stays 404, whatever the method.
    for method in [Method::Get, Method::Delete, Method::Options] {
        s.send(s.client.req(method, "/v1/partner/nope"))
            .await
            .assert_error(Status::NotFound, "not_found");
    }
    s.send(
        s.client
            .req(Method::Post, "/v1/partner/credentials/AAAAAAAAAAAA/nope"),
    )
    .await
    .assert_error(Status::NotFound, "not_found");
    // HEAD of a GET path is the GET, without a body.
    let r = s.send(s.client.head("/v1/partner/config")).await;
    assert_eq!(r.status, Status::Ok);
}

#[rocket::get("/v1/admin/ping")]
fn ping() -> &'static str {
    "pong"
}

async fn allow_is_computed_from_the_mounted_routes(b: Backend) {
    let db = test_db(b).await;
    let clock = idunox_keys::ManualClock::new(START);
    // A route added later (as `/v1/admin/*` will be) gets its 405 without any list to update.
    let rocket = reference_server::build(figment(&db.url), Arc::new(clock))
        .mount("/", rocket::routes![ping]);
    let client = Client::tracked(rocket).await.unwrap();
    let r = reply(client.post("/v1/admin/ping").dispatch().await).await;
    r.assert_error(Status::MethodNotAllowed, "method_not_allowed");
    assert_eq!(r.header("Allow"), Some("GET, HEAD"));
    let r = reply(client.get("/v1/admin/ping").dispatch().await).await;
    assert_eq!(r.status, Status::Ok);
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
}

async fn a_repeated_query_parameter_is_refused(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    for query in [
        "limit=5&limit=7",
        "limit=5&lim%69t=5",
        "before=3&limit=2&before=3",
    ] {
        let r = s
            .get(&format!("/v1/partner/audit?{query}"), Some(&a.token))
            .await;
        r.assert_error(Status::UnprocessableEntity, "invalid_request");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("more than once")
        );
        // Before authentication, like the other gates.
        let r = s.get(&format!("/v1/partner/audit?{query}"), None).await;
        r.assert_error(Status::UnprocessableEntity, "invalid_request");
    }
    let r = s.get("/v1/partner/audit?limit=5", Some(&a.token)).await;
    assert_eq!(r.status, Status::Ok);
    // A wrong method stays a 405, an unknown path a 404.
    let r = s
        .send(s.client.delete("/v1/partner/audit?limit=1&limit=2"))
        .await;
    r.assert_error(Status::MethodNotAllowed, "method_not_allowed");
    let r = s.get("/v1/partner/nope?limit=1&limit=2", None).await;
    r.assert_error(Status::NotFound, "not_found");
}

async fn a_body_that_is_not_an_object_is_refused(b: Backend) {
    let s = server(b).await;
    let a = s.account("Acme", "admin@acme.test").await;
    // serde reads a struct from an array of its fields: `[null, null]` used to make a key.
    for body in ["[null, null]", "[]", "null", "\"x\"", "7", " \n[\"a\", 30]"] {
        let r = s
            .post("/v1/partner/credentials", Some(&a.token), body)
            .await;
        r.assert_error(Status::UnprocessableEntity, "invalid_request");
        assert_eq!(
            r.body["error"]["message"],
            "The request body must be a JSON object."
        );
    }
    let r = s
        .post("/v1/partner/credentials", Some(&a.token), "[nul")
        .await;
    r.assert_error(Status::BadRequest, "invalid_json");
    let r = s
        .post("/v1/partner/credentials", Some(&a.token), " {}")
        .await;
    assert_eq!(r.status, Status::Created);
}

on_both_backends!(
    a_repeated_query_parameter_is_refused,
    a_body_that_is_not_an_object_is_refused,
    no_store_however_the_path_is_spelled,
    bodies_must_be_json,
    wrong_methods_answer_405_with_allow_before_authentication,
    allow_is_computed_from_the_mounted_routes,
);
