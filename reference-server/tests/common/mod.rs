//! Test harness: a server on a fresh database per test, a manual clock, cheap argon2.
//!
//! Every test runs twice: on a temporary SQLite file, and on a fresh PostgreSQL database
//! created for it on the server named by `IDUNOX_TEST_POSTGRES_URL` (an admin URL such as
//! `postgres://postgres@127.0.0.1:55432/postgres`) or, when that is unset, on a throwaway
//! cluster that `idunox-test-support` starts for the test process. Without PostgreSQL installed
//! the PostgreSQL half is skipped, except under `CI=true` where it fails. One suite, two backends.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;

use idunox_keys::time::OffsetDateTime;
use idunox_keys::time::macros::datetime;
use idunox_keys::{Clock, ManualClock};
use reference_server::db::SqlDb;
use reference_server::state::App;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalRequest, LocalResponse};
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
pub const PASSWORD: &str = "correct horse battery staple";
pub const START: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// Where a test's database lives; dropping it removes the SQLite file (PostgreSQL test
/// databases go with the throwaway cluster).
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL admin URL for tests: `IDUNOX_TEST_POSTGRES_URL`, or a throwaway cluster
/// started for this test process; `None` (a skip) when PostgreSQL is not installed, except
/// under `CI=true` where that panics.
pub fn postgres_admin() -> Option<String> {
    idunox_test_support::postgres::admin_url()
}

pub async fn test_db(backend: Backend) -> TestDb {
    match backend {
        Backend::Postgres => {
            let admin = postgres_admin().expect("PostgreSQL for this test");
            let url = tokio::task::spawn_blocking(move || {
                idunox_test_support::postgres::fresh_database(&admin)
            })
            .await
            .unwrap();
            TestDb { url, _dir: None }
        }
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("test.sqlite").display()
            );
            TestDb {
                url,
                _dir: Some(dir),
            }
        }
    }
}

/// Run each named `async fn(Backend)` as two tests, `<name>::sqlite` and `<name>::postgres`
/// (the latter skips when PostgreSQL is unavailable outside CI).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[rocket::async_test]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await;
            }
            #[rocket::async_test]
            async fn postgres() {
                if $crate::common::postgres_admin().is_some() {
                    super::$name($crate::common::Backend::Postgres).await;
                }
            }
        }
    )*};
}

/// The figment of a test server on `url`.
pub fn figment(url: &str) -> Figment {
    reference_server::config::figment()
        .merge(("databases.idunox.url", url))
        .merge(("databases.idunox.max_connections", 8))
        .merge(("jwt_secret", JWT_SECRET))
        // Long sessions, so tests can move the clock by months; one test sets an hour.
        .merge(("jwt_ttl_seconds", 10 * 366 * 24 * 3600))
        .merge(("argon2", json!({"m_cost": 1024, "t_cost": 1, "p_cost": 1})))
        .merge(("access_log", false))
        .merge(("log_level", "off"))
}

pub struct TestServer {
    pub client: Client,
    pub clock: ManualClock,
    pub db: TestDb,
}

pub async fn server(backend: Backend) -> TestServer {
    server_with(backend, |f| f).await
}

pub async fn server_with(backend: Backend, tweak: impl FnOnce(Figment) -> Figment) -> TestServer {
    let db = test_db(backend).await;
    let clock = ManualClock::new(START);
    let rocket = reference_server::build(tweak(figment(&db.url)), Arc::new(clock.clone()));
    let client = Client::tracked(rocket).await.expect("valid rocket");
    TestServer { client, clock, db }
}

/// A signed-in user of a fresh tenant.
#[derive(Clone, Debug)]
pub struct Account {
    pub tenant_id: String,
    pub user_id: String,
    pub email: String,
    pub token: String,
}

pub struct Reply {
    pub status: Status,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Assert an error envelope with exactly `code` and `message`.
    pub fn assert_error(&self, status: Status, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.code(), code, "body: {}", self.body);
        let obj = self.body.as_object().unwrap();
        assert_eq!(obj.len(), 1, "only `error`: {}", self.body);
        let err = self.body["error"].as_object().unwrap();
        assert_eq!(err.len(), 2, "code and message: {}", self.body);
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// A client address for [`TestServer::login_from`] and friends (the TCP peer Rocket sees).
pub fn peer(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 40_000)
}

pub async fn reply(res: LocalResponse<'_>) -> Reply {
    let status = res.status();
    let headers = res
        .headers()
        .iter()
        .map(|h| (h.name().to_string(), h.value().to_string()))
        .collect();
    let text = res.into_string().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        body,
        headers,
    }
}

impl TestServer {
    pub fn app(&self) -> &App {
        self.client.rocket().state::<App>().unwrap()
    }

    pub fn sql(&self) -> &SqlDb {
        &self.app().db
    }

    /// A tenant and a user in it (not signed in).
    pub async fn provision(&self, tenant: &str, email: &str) -> (String, String) {
        let app = self.app();
        let t = app.db.create_tenant(tenant, 0).await.unwrap();
        let hash = reference_server::cli::hash_password(&app.config, PASSWORD)
            .await
            .unwrap();
        let u = app.db.create_user(&t.id, email, &hash, 0).await.unwrap();
        (t.id, u.id)
    }

    /// A tenant, a user, signed in.
    pub async fn account(&self, tenant: &str, email: &str) -> Account {
        let (tenant_id, user_id) = self.provision(tenant, email).await;
        let r = self.login(email, PASSWORD).await;
        assert_eq!(r.status, Status::Ok, "{}", r.body);
        Account {
            tenant_id,
            user_id,
            email: email.to_owned(),
            token: r.body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Send any request and read the answer.
    pub async fn send(&self, req: LocalRequest<'_>) -> Reply {
        reply(req.dispatch().await).await
    }

    /// Sign in from this client address.
    pub async fn login_from(&self, email: &str, password: &str, ip: &str) -> Reply {
        self.send(
            self.client
                .post("/v1/partner/auth/login")
                .remote(peer(ip))
                .header(ContentType::JSON)
                .body(json!({"email": email, "password": password}).to_string()),
        )
        .await
    }

    /// Sign in and return the token.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let r = self.login(email, password).await;
        assert_eq!(r.status, Status::Ok, "{}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// `POST /v1/partner/auth/logout`, bodyless.
    pub async fn logout(&self, token: &str) -> Reply {
        self.send(
            self.client
                .post("/v1/partner/auth/logout")
                .header(Header::new("Authorization", format!("Bearer {token}"))),
        )
        .await
    }

    /// `POST /v1/partner/me/password` from this client address.
    pub async fn change_password_from(
        &self,
        token: &str,
        current: &str,
        new: &str,
        ip: &str,
    ) -> Reply {
        self.send(
            self.client
                .post("/v1/partner/me/password")
                .remote(peer(ip))
                .header(ContentType::JSON)
                .header(Header::new("Authorization", format!("Bearer {token}")))
                .body(json!({"current_password": current, "new_password": new}).to_string()),
        )
        .await
    }

    /// `POST /v1/partner/me/password`.
    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Reply {
        self.change_password_from(token, current, new, "192.0.2.1")
            .await
    }

    /// The actions of this tenant's audit trail, newest first.
    pub async fn audit_actions(&self, token: &str) -> Vec<String> {
        let r = self.get("/v1/partner/audit?limit=200", Some(token)).await;
        assert_eq!(r.status, Status::Ok, "{}", r.body);
        r.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Run a SQL statement on the test database.
    pub async fn sql_exec(&self, sql: &str) {
        sqlx::query(sql).execute(&self.sql().pool).await.unwrap();
    }

    /// Make every audit insert fail (the table is renamed away), run `f`, put the table back.
    pub async fn without_audit_table<F: std::future::Future<Output = ()>>(&self, f: F) {
        self.sql_exec("ALTER TABLE audit_log RENAME TO audit_log_away")
            .await;
        f.await;
        self.sql_exec("ALTER TABLE audit_log_away RENAME TO audit_log")
            .await;
    }

    /// A single integer from the test database.
    pub async fn sql_count(&self, sql: &str) -> i64 {
        let row = sqlx::query(sql).fetch_one(&self.sql().pool).await.unwrap();
        sqlx::Row::try_get::<i64, _>(&row, 0).unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/v1/partner/auth/login",
            None,
            &json!({"email": email, "password": password}).to_string(),
        )
        .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.client.get(path.to_owned());
        if let Some(t) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {t}")));
        }
        reply(req.dispatch().await).await
    }

    pub async fn get_with(&self, path: &str, headers: Vec<Header<'static>>) -> Reply {
        let mut req = self.client.get(path.to_owned());
        for h in headers {
            req = req.header(h);
        }
        reply(req.dispatch().await).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &str) -> Reply {
        let mut req = self
            .client
            .post(path.to_owned())
            .header(ContentType::JSON)
            .body(body);
        if let Some(t) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {t}")));
        }
        reply(req.dispatch().await).await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> Reply {
        self.post(path, Some(token), &body.to_string()).await
    }

    pub async fn create(&self, a: &Account, body: Value) -> Reply {
        self.post_json("/v1/partner/credentials", &a.token, body)
            .await
    }

    pub async fn rotate(&self, a: &Account, id: &str, hours: i64) -> Reply {
        self.post_json(
            &format!("/v1/partner/credentials/{id}/rotate"),
            &a.token,
            json!({"grace_hours": hours}),
        )
        .await
    }

    pub async fn revoke(&self, a: &Account, id: &str) -> Reply {
        self.post(
            &format!("/v1/partner/credentials/{id}/revoke"),
            Some(&a.token),
            "",
        )
        .await
    }

    pub async fn list(&self, a: &Account) -> Vec<Value> {
        let r = self.get("/v1/partner/credentials", Some(&a.token)).await;
        assert_eq!(r.status, Status::Ok, "{}", r.body);
        r.body["credentials"].as_array().unwrap().clone()
    }

    pub async fn probe(&self, key: Option<&str>) -> Reply {
        let headers = key
            .map(|k| vec![Header::new("X-Api-Key", k.to_owned())])
            .unwrap_or_default();
        self.get_with("/v1/partner-auth-probe", headers).await
    }
}

/// The password of every staff account the tests make.
pub const STAFF_PASSWORD: &str = "staff password of the tests";

/// A staff account with its TOTP secret (to compute codes as an authenticator app would).
pub struct StaffAccount {
    pub id: String,
    pub email: String,
    pub secret: reference_server::auth::totp::TotpSecret,
}

impl StaffAccount {
    /// The code of the step `offset` steps from the server clock's current one.
    pub fn code(&self, s: &TestServer, offset: i64) -> String {
        let now = s.clock.now().unix_timestamp();
        self.secret
            .code_at(now + offset * reference_server::auth::totp::STEP_SECS)
    }
}

impl TestServer {
    /// A staff account made as `staff add` makes one (sealed with the server's key).
    pub async fn add_staff(&self, email: &str) -> StaffAccount {
        let app = self.app();
        let id = reference_server::db::staff::new_staff_id();
        let secret = reference_server::auth::totp::TotpSecret::generate().unwrap();
        let sealed = app.totp_seal.seal(&id, &secret).unwrap();
        let hash = reference_server::cli::hash_password(&app.config, STAFF_PASSWORD)
            .await
            .unwrap();
        let staff = app
            .db
            .create_staff(&id, email, &hash, &sealed, 0)
            .await
            .unwrap();
        StaffAccount {
            id: staff.id,
            email: staff.email,
            secret,
        }
    }

    /// `POST /v1/admin/auth/login` from this client address with this body.
    pub async fn staff_login_body(&self, body: Value, ip: &str) -> Reply {
        self.send(
            self.client
                .post("/v1/admin/auth/login")
                .remote(peer(ip))
                .header(ContentType::JSON)
                .body(body.to_string()),
        )
        .await
    }

    /// Staff sign-in with the password and this code.
    pub async fn staff_login(&self, staff: &StaffAccount, code: &str) -> Reply {
        self.staff_login_body(
            json!({"email": staff.email, "password": STAFF_PASSWORD, "totp": code}),
            "198.51.100.7",
        )
        .await
    }

    /// A staff token, signed in with the code of the next step (so a test may sign the same
    /// account in once per step it moves the clock).
    pub async fn staff_token(&self, staff: &StaffAccount) -> String {
        self.clock.advance(idunox_keys::time::Duration::seconds(
            reference_server::auth::totp::STEP_SECS,
        ));
        let r = self.staff_login(staff, &staff.code(self, 0)).await;
        assert_eq!(r.status, Status::Ok, "{}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// A bodyless `POST` with a bearer token.
    pub async fn post_empty(&self, path: &str, token: &str) -> Reply {
        self.send(
            self.client
                .post(path.to_owned())
                .header(Header::new("Authorization", format!("Bearer {token}"))),
        )
        .await
    }
}
