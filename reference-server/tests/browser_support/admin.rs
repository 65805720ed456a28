//! Staff accounts and the staff console at `/admin`: accounts made with the server's own
//! `staff add`, signed in with TOTP codes computed like an authenticator app's ([`super::totp`]),
//! and the JSON calls the console's tests use to set up and check what the page shows.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Api, Page, Server, lock, totp};

/// The password of every staff account the tests make.
pub(crate) const STAFF_PASSWORD: &str = "staff password of the test";

/// A staff account made with `reference-server staff add`: its email, password and TOTP secret,
/// and the last code step it used (the server accepts each code once).
#[derive(Debug)]
pub(crate) struct Staff {
    /// Its email.
    pub(crate) email: String,
    /// Its password.
    pub(crate) password: String,
    secret: String,
    last_step: Mutex<Option<u64>>,
}

impl Staff {
    /// A code the server accepts now and this account has not used: the current step's, or the
    /// next step's (the server takes one step of drift either way) once the current one was
    /// used. Waits for the clock when both were.
    pub(crate) async fn next_code(&self) -> String {
        loop {
            {
                let mut last = lock(&self.last_step);
                let now = totp::current_step();
                let step = match *last {
                    Some(used) if used >= now => used + 1,
                    _ => now,
                };
                if step <= now + 1 {
                    *last = Some(step);
                    return totp::code_at(&self.secret, step);
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The code this account used last (the server refuses it a second time).
    pub(crate) fn used_code(&self) -> String {
        let step = lock(&self.last_step).expect("a code was used");
        totp::code_at(&self.secret, step)
    }

    /// A code of two steps ago, outside the drift the server accepts.
    pub(crate) fn stale_code(&self) -> String {
        totp::code_at(&self.secret, totp::current_step().saturating_sub(2))
    }
}

impl Server {
    /// Makes a staff account with `reference-server staff add --email … --password-stdin` and
    /// reads its TOTP secret from the `otpauth://` URI the command prints once.
    pub(crate) fn add_staff(&self, email: &str) -> Staff {
        let out = self.cli(
            &["staff", "add", "--email", email, "--password-stdin"],
            &format!("{STAFF_PASSWORD}\n"),
        );
        assert!(
            out.status.success(),
            "staff add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        let uri = printed
            .split_whitespace()
            .find(|word| word.starts_with("otpauth://totp/"))
            .unwrap_or_else(|| panic!("`staff add` printed no otpauth:// URI:\n{printed}"));
        let secret = url::Url::parse(uri)
            .expect("an otpauth URI")
            .query_pairs()
            .find(|(name, _)| name == "secret")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("no secret in {uri}"));
        Staff {
            email: email.to_owned(),
            password: STAFF_PASSWORD.to_owned(),
            secret,
            last_step: Mutex::new(None),
        }
    }
}

impl Api {
    /// One JSON call with an optional bearer token and body: the status and the answer's JSON
    /// (`null` when it has none).
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = ureq::request(method, &format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let answer = match body {
            Some(body) => request.send_json(body.clone()),
            None => request.call(),
        };
        match answer {
            Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    /// Signs a partner user in through the API; returns the session token.
    pub(crate) fn token_as(&self, email: &str, password: &str) -> String {
        let (status, answer) = self.call(
            "POST",
            "/v1/partner/auth/login",
            None,
            Some(&json!({ "email": email, "password": password })),
        );
        assert_eq!(status, 200, "partner sign-in of {email}: {answer}");
        answer["token"].as_str().expect("token").to_owned()
    }

    /// Signs a staff member in through the API with a code; returns the staff token.
    pub(crate) fn staff_token(&self, staff: &Staff, code: &str) -> String {
        let (status, answer) = self.call(
            "POST",
            "/v1/admin/auth/login",
            None,
            Some(&json!({ "email": staff.email, "password": staff.password, "totp": code })),
        );
        assert_eq!(status, 200, "staff sign-in: {answer}");
        answer["token"].as_str().expect("staff token").to_owned()
    }

    /// The tenants as the admin API lists them.
    pub(crate) fn tenants(&self, staff_token: &str) -> Vec<Value> {
        let (status, answer) = self.call("GET", "/v1/admin/tenants", Some(staff_token), None);
        assert_eq!(status, 200, "tenants: {answer}");
        answer["tenants"].as_array().cloned().unwrap_or_default()
    }
}

impl Page {
    /// Makes a staff account (see [`Server::add_staff`]).
    pub(crate) fn add_staff(&self, email: &str) -> Staff {
        lock(&self.server).add_staff(email)
    }

    /// Signs in on `/admin` through the form with the next code and waits for the tenant list.
    pub(crate) async fn sign_in_staff(&self, staff: &Staff) {
        self.goto("/admin").await;
        self.wait_visible("#signin-form").await;
        self.fill("#signin-email", &staff.email).await;
        self.fill("#signin-password", &staff.password).await;
        self.fill("#signin-totp", &staff.next_code().await).await;
        self.click("#signin-submit").await;
        self.wait_visible("#tenants-view").await;
        self.wait_until(
            "the tenant list has loaded",
            "return document.getElementById('tenants-loading').hidden;",
            vec![],
        )
        .await;
    }

    /// The staff token the console keeps in this tab.
    pub(crate) async fn stored_staff_token(&self) -> String {
        self.js_string(
            "return JSON.parse(sessionStorage.getItem('idunox.admin.session')).token;",
            vec![],
        )
        .await
    }

    /// Replaces the console's stored staff token with one the server refuses.
    pub(crate) async fn tamper_staff_token(&self) {
        self.tamper_stored_token("idunox.admin.session").await;
    }
}
