//! End-to-end tests of the partner portal page in a real headless Chromium, against the real
//! server binary (see `browser_support` for the harness).
//!
//! Without ChromeDriver these tests print why and pass, except under `CI=true`, where they fail:
//! install it with `apt-get update && apt-get install -y chromium chromium-driver`.
//! Screenshots of the key list land in `test-artifacts/`; with `UPDATE_SCREENSHOTS=1` they are
//! also copied to `docs/screenshots/`.

mod browser_support;

use std::path::Path;
use std::time::Duration;

use browser_support::{
    BrowserOptions, EMAIL, PASSWORD, Page, ServerOptions, TENANT, artifacts_dir, browser_test,
};
use fantoccini::key::Key;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A key name that would run script if it were ever inserted as HTML.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// Session lifetime of the expiry test.
const SHORT_TTL_SECONDS: u64 = 5;

const SESSION_EXPIRED: &str = "Your session has expired. Please sign in again.";

fn escape() -> char {
    Key::Escape.into()
}

/// `idx_test_<12>_<38>`: the documented key shape.
fn assert_key_shape(key: &str) {
    let parts: Vec<&str> = key.splitn(4, '_').collect();
    assert_eq!(key.len(), 60, "a key is 60 characters: {key}");
    assert_eq!(&parts[..2], ["idx", "test"], "prefix of {key}");
    assert_eq!(parts[2].len(), 12, "key id of {key}");
    assert!(
        parts[3].chars().all(|c| c.is_ascii_alphanumeric()),
        "secret of {key}"
    );
}

/// The masked form the list shows for a plaintext key.
fn masked(key: &str) -> String {
    format!("{}_••••", &key[..21])
}

/// Opens the create dialog, fills it in and submits; returns the plaintext the panel shows.
async fn create_through_ui(page: &Page, name: &str, days: Option<&str>) -> String {
    page.click("#create-open").await;
    page.wait_visible("#create-dialog").await;
    page.fill("#create-name", name).await;
    if let Some(days) = days {
        page.fill("#create-validity", days).await;
    }
    page.click("#create-submit").await;
    page.wait_visible("#secret-dialog").await;
    let key = page.text("#secret-value").await;
    assert_key_shape(&key);
    key
}

/// Closes the one-time panel with its button and waits until it has left the DOM.
async fn close_secret_panel(page: &Page) {
    page.click("#secret-close").await;
    page.wait_until(
        "the one-time panel has left the page",
        "return document.getElementById('secret-dialog') === null;",
        vec![],
    )
    .await;
}

// ------------------------------------------------------------------ without a browser

#[test]
fn portal_is_served_with_strict_headers_and_no_inline_code() {
    let server = browser_support::Server::start(ServerOptions::default());
    let base = &server.api.base;
    let agent = ureq::AgentBuilder::new().redirects(0).build();

    let root = agent.get(&format!("{base}/")).call().expect("GET /");
    assert_eq!(root.status(), 303);
    assert_eq!(root.header("Location"), Some("/partner"));

    let page = agent
        .get(&format!("{base}/partner"))
        .call()
        .expect("GET /partner");
    assert_eq!(page.status(), 200);
    assert_eq!(page.header("Cache-Control"), Some("no-store"));
    assert!(
        page.header("Content-Type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    let csp = page
        .header("Content-Security-Policy")
        .expect("a CSP on the page")
        .to_owned();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe"), "CSP allows unsafe code: {csp}");
    let html = page.into_string().expect("page body");
    let lower = html.to_lowercase();
    assert!(
        !lower.contains("style="),
        "inline style attribute in the page"
    );
    assert!(!lower.contains("<style"), "inline <style> in the page");
    assert!(
        !lower.contains("javascript:"),
        "javascript: URL in the page"
    );
    for (i, _) in lower.match_indices(" on") {
        let rest = &lower[i + 3..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        assert!(
            name.is_empty() || !rest[name.len()..].starts_with('='),
            "inline event handler on{name}= in the page"
        );
    }
    let scripts: Vec<&str> = lower.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "the page loads its module");
    for script in scripts {
        let (tag, body) = script.split_once('>').expect("a closed script tag");
        assert!(
            tag.contains("type=\"module\"") && tag.contains("src=\"/partner/assets/"),
            "a script that is not an external module: <script{tag}>"
        );
        assert!(body.starts_with("</script"), "an inline script body");
    }

    for (file, content_type) in [
        ("app.css", "text/css"),
        ("app.js", "text/javascript"),
        ("api.js", "text/javascript"),
        ("dom.js", "text/javascript"),
        ("format.js", "text/javascript"),
        ("logo.svg", "image/svg+xml"),
    ] {
        let asset = agent
            .get(&format!("{base}/partner/assets/{file}"))
            .call()
            .unwrap_or_else(|e| panic!("GET {file}: {e}"));
        assert!(
            asset
                .header("Content-Type")
                .is_some_and(|t| t.starts_with(content_type)),
            "{file} served as {:?}",
            asset.header("Content-Type")
        );
        assert_eq!(asset.header("Cache-Control"), Some("no-store"), "{file}");
        let body = asset.into_string().expect("asset body");
        if file.ends_with(".js") {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ] {
                assert!(!body.contains(sink), "{file} uses {sink}");
            }
        }
    }

    match agent.get(&format!("{base}/partner/assets/nope.js")).call() {
        Err(ureq::Error::Status(404, r)) => {
            assert!(
                r.header("Content-Type")
                    .is_some_and(|t| t.starts_with("text/html"))
            );
        }
        other => panic!("an unknown asset answered {other:?}"),
    }
    match agent.get(&format!("{base}/v1/nope")).call() {
        Err(ureq::Error::Status(404, r)) => {
            let body: Value = r.into_json().expect("a JSON error under /v1");
            assert!(body["error"]["code"].is_string());
        }
        other => panic!("an unknown API route answered {other:?}"),
    }
}

// ------------------------------------------------------------------ sign in

#[test]
fn sign_in_wrong_password_tampered_session_and_sign_out() {
    browser_test(
        "sign_in",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let config = page.api.config();

            page.goto("/").await;
            let url = page.client.current_url().await.expect("current URL");
            assert_eq!(url.path(), "/partner", "/ leads to the portal");
            page.wait_visible("#signin-form").await;
            assert_eq!(
                page.focused_id().await,
                "signin-email",
                "focus starts on email"
            );

            // Environment and docs link come from /v1/partner/config.
            page.wait_visible("#env-badge").await;
            let badge = page.text("#env-badge").await.to_lowercase();
            assert!(badge.contains("test"), "environment badge: {badge}");
            assert!(page.text("#env-banner").await.contains("idx_test_"));
            page.wait_visible("#docs-link").await;
            let docs = page
                .js_string("return document.getElementById('docs-link').href;", vec![])
                .await;
            assert_eq!(docs, config["docs_url"].as_str().expect("docs_url"));

            // Labelled inputs.
            for id in ["signin-email", "signin-password"] {
                let label = page
                    .js_string(
                        "const l = document.querySelector(`label[for=\"${arguments[0]}\"]`); \
                         return l ? l.textContent : null;",
                        vec![json!(id)],
                    )
                    .await;
                assert!(!label.is_empty(), "#{id} has a label");
            }

            page.screenshot("portal-sign-in").await;

            // Wrong password: a clear message, still on sign-in, nothing stored.
            page.fill("#signin-email", EMAIL).await;
            page.fill("#signin-password", "not the right password")
                .await;
            page.click("#signin-submit").await;
            page.wait_text("#signin-message", "The email or password is incorrect.")
                .await;
            assert_eq!(
                page.js_string(
                    "return document.getElementById('signin-message').getAttribute('role');",
                    vec![]
                )
                .await,
                "alert"
            );
            assert!(!page.visible("#keys-view").await);
            assert_eq!(
                page.js("return sessionStorage.length;", vec![]).await,
                json!(0)
            );

            // Right password: the (empty) key list of this tenant.
            page.fill("#signin-password", PASSWORD).await;
            page.click("#signin-submit").await;
            page.wait_visible("#keys-view").await;
            page.wait_visible("#keys-empty").await;
            assert!(page.text("#keys-empty").await.contains("No API keys yet"));
            assert!(page.text("#keys-empty").await.contains("Create key"));
            assert_eq!(page.text("#account-email").await, EMAIL);
            page.wait_text("#tenant-line", TENANT).await;
            page.wait_text("#status", "Signed in as").await;
            assert_eq!(
                page.js_string(
                    "return document.getElementById('status').getAttribute('aria-live');",
                    vec![]
                )
                .await,
                "polite",
                "status messages are announced"
            );
            assert!(!page.visible("#signin-view").await);

            // The token lives in sessionStorage only: no cookie, not in the URL.
            let token = page
                .js_string(
                    "return JSON.parse(sessionStorage.getItem('idunox.portal.session')).token;",
                    vec![],
                )
                .await;
            assert!(token.len() > 20, "a session token is stored");
            assert_eq!(page.js_string("return document.cookie;", vec![]).await, "");
            let url = page.client.current_url().await.expect("current URL");
            assert!(!url.as_str().contains(&token));
            assert_eq!(
                page.js("return localStorage.length;", vec![]).await,
                json!(0),
                "nothing of the session in localStorage"
            );

            // Every control is reachable with Tab.
            page.js(
                "document.activeElement.blur(); document.getElementById('main').focus();",
                vec![],
            )
            .await;
            let mut reached = Vec::new();
            for _ in 0..20 {
                page.press(Key::Tab.into()).await;
                reached.push(page.focused_id().await);
            }
            for id in ["refresh", "create-open", "create-first"] {
                assert!(
                    reached.iter().any(|r| r == id),
                    "#{id} is not reachable by Tab: {reached:?}"
                );
            }
            page.js("document.getElementById('main').focus();", vec![])
                .await;
            let mut backwards = Vec::new();
            let shift: char = Key::Shift.into();
            for _ in 0..8 {
                let tab: char = Key::Tab.into();
                let actions = fantoccini::actions::KeyActions::new("kb".into());
                use fantoccini::actions::{InputSource, KeyAction};
                let actions = actions
                    .then(KeyAction::Down { value: shift })
                    .then(KeyAction::Down { value: tab })
                    .then(KeyAction::Up { value: tab })
                    .then(KeyAction::Up { value: shift });
                page.client
                    .perform_actions(actions)
                    .await
                    .expect("shift+tab");
                backwards.push(page.focused_id().await);
            }
            for id in ["sign-out", "theme-toggle", "docs-link"] {
                assert!(
                    backwards.iter().any(|r| r == id),
                    "#{id} is not reachable by Tab: {backwards:?}"
                );
            }

            // A token the server refuses (tampered) on any authenticated call: back to sign-in.
            page.js(
                "const s = JSON.parse(sessionStorage.getItem('idunox.portal.session')); \
                 const parts = s.token.split('.'); \
                 parts[2] = parts[2].split('').reverse().join(''); \
                 s.token = parts.join('.'); \
                 sessionStorage.setItem('idunox.portal.session', JSON.stringify(s));",
                vec![],
            )
            .await;
            page.click("#refresh").await;
            page.wait_visible("#signin-form").await;
            page.wait_text("#signin-message", SESSION_EXPIRED).await;
            assert!(!page.visible("#keys-view").await);
            assert_eq!(
                page.js(
                    "return sessionStorage.getItem('idunox.portal.session');",
                    vec![]
                )
                .await,
                Value::Null
            );

            // Sign in again, then sign out.
            page.sign_in().await;
            page.click("#sign-out").await;
            page.wait_visible("#signin-form").await;
            page.wait_text("#signin-message", "You have signed out.")
                .await;
            assert_eq!(
                page.js(
                    "return sessionStorage.getItem('idunox.portal.session');",
                    vec![]
                )
                .await,
                Value::Null
            );
            page.client.refresh().await.expect("reload");
            page.wait_visible("#signin-form").await;
            assert!(
                !page.visible("#keys-view").await,
                "still signed out after a reload"
            );
        },
    );
}

#[test]
fn throttled_sign_in_says_when_to_retry() {
    browser_test(
        "throttled",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            // Fail through the API until the account is locked.
            let mut locked = false;
            for _ in 0..12 {
                if page.api.failed_login() == 429 {
                    locked = true;
                    break;
                }
            }
            assert!(locked, "ten failures lock the account");

            // While locked, even the right password gets 429: the page says when to retry.
            page.goto("/partner").await;
            page.wait_visible("#signin-form").await;
            page.fill("#signin-email", EMAIL).await;
            page.fill("#signin-password", PASSWORD).await;
            page.click("#signin-submit").await;
            page.wait_text("#signin-message", "Too many failed sign-in attempts")
                .await;
            let message = page.text("#signin-message").await;
            assert!(
                message.contains("Try again in") && message.contains("minute"),
                "the message names the wait from Retry-After: {message}"
            );
            assert!(!page.visible("#keys-view").await);
            assert_eq!(
                page.js(
                    "return document.getElementById('signin-submit').disabled;",
                    vec![]
                )
                .await,
                json!(true),
                "the button waits for Retry-After"
            );
        },
    );
}

// ------------------------------------------------------------------ create

#[test]
fn create_key_shows_the_plaintext_once_and_copies_it() {
    browser_test(
        "create",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            page.sign_in().await;
            page.wait_visible("#keys-empty").await;

            // The empty state leads to the create dialog; focus moves in.
            page.click("#create-first").await;
            page.wait_visible("#create-dialog").await;
            assert_eq!(page.focused_id().await, "create-name");
            let default_days = page
                .js_string(
                    "return document.getElementById('create-validity').value;",
                    vec![],
                )
                .await;
            assert_eq!(default_days, "365", "default validity from the config");

            // Validity outside 1..=365 is refused before any request.
            for bad in ["0", "366"] {
                page.fill("#create-validity", bad).await;
                page.click("#create-submit").await;
                page.wait_text("#create-error", "between 1 and 365").await;
                assert!(page.visible("#create-dialog").await);
            }

            page.fill("#create-name", "Billing export (prod)").await;
            page.fill("#create-validity", "45").await;
            page.click("#create-submit").await;
            page.wait_visible("#secret-dialog").await;
            let key = page.text("#secret-value").await;
            assert_key_shape(&key);
            assert_eq!(
                page.focused_id().await,
                "secret-copy",
                "focus on the copy button"
            );
            page.screenshot("portal-new-key").await;
            assert!(
                page.text("#secret-warning")
                    .await
                    .contains("It will not be shown again"),
                "a plain warning"
            );
            assert_eq!(
                page.js(
                    "return document.getElementById('create-dialog').open;",
                    vec![]
                )
                .await,
                json!(false)
            );

            // The list updated at once, masked.
            let id = page.row_id("Billing export (prod)", "active").await;
            assert!(!id.is_empty(), "the new key is listed");
            let row = Page::row(&id);
            assert_eq!(page.text(&format!("{row} code.masked")).await, masked(&key));
            let expiry = page.text(&format!("{row} .expiry")).await;
            assert!(
                expiry.contains("Expires in 45 days") || expiry.contains("Expires in 44 days"),
                "expiry: {expiry}"
            );
            assert!(!page.visible("#keys-empty").await);

            // Copy, then close: the plaintext is gone from the page for good.
            page.click("#secret-copy").await;
            page.wait_text(".copy-status", "Copied").await;
            close_secret_panel(&page).await;
            assert_eq!(page.focused_id().await, "create-open", "focus restored");
            assert!(!page.holds_text(&key).await, "the plaintext left the page");
            assert!(
                !page.holds_text(&key[22..]).await,
                "the secret left the page"
            );

            // The clipboard holds the key: paste it into a field.
            page.click("#create-open").await;
            page.wait_visible("#create-dialog").await;
            page.press_with_control('v').await;
            let pasted = page
                .js_string(
                    "return document.getElementById('create-name').value;",
                    vec![],
                )
                .await;
            assert_eq!(pasted, key, "the copy button put the key on the clipboard");
            page.js("document.getElementById('create-name').value = '';", vec![])
                .await;
            page.press(escape()).await;
            page.wait_until(
                "the create dialog closed",
                "return !document.getElementById('create-dialog').open;",
                vec![],
            )
            .await;
            assert!(!page.holds_text(&key).await);

            // The key works, and after a reload the page still never shows it.
            assert_eq!(page.api.probe(&key).0, 200);
            page.reload_list().await;
            assert_eq!(page.row_status(&id).await, "active");
            assert!(!page.holds_text(&key[22..]).await);

            // Escape closes the panel too, removing it the same way.
            let second = create_through_ui(&page, "Second", None).await;
            page.press(escape()).await;
            page.wait_until(
                "the one-time panel has left the page",
                "return document.getElementById('secret-dialog') === null;",
                vec![],
            )
            .await;
            assert!(!page.holds_text(&second[22..]).await);
        },
    );
}

// ------------------------------------------------------------------ rotate

#[test]
fn rotate_with_each_configured_overlap() {
    browser_test(
        "rotate",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let config = page.api.config();
            let overlaps: Vec<u64> = config["rotation_grace_hours"]
                .as_array()
                .expect("rotation_grace_hours")
                .iter()
                .map(|h| h.as_u64().expect("hours"))
                .collect();
            assert_eq!(overlaps, [24, 48, 72]);

            let token = page.api.token();
            let mut old_keys = Vec::new();
            for hours in &overlaps {
                let (_, key) = page
                    .api
                    .create_key(&token, &format!("Overlap {hours} h"), 365);
                old_keys.push(key);
            }
            page.sign_in().await;

            for (hours, old_key) in overlaps.iter().zip(&old_keys) {
                let name = format!("Overlap {hours} h");
                let old_id = page.row_id(&name, "active").await;
                assert!(!old_id.is_empty(), "{name} is listed as active");
                let old_row = Page::row(&old_id);

                page.click(&format!("{old_row} button[data-action=rotate]"))
                    .await;
                page.wait_visible("#rotate-dialog").await;
                assert!(page.text("#rotate-title").await.contains(&name));
                assert!(page.text("#rotate-text").await.contains(&masked(old_key)));
                let offered = page
                    .js(
                        "return [...document.querySelectorAll('#rotate-choices input')] \
                           .map(i => Number(i.value));",
                        vec![],
                    )
                    .await;
                assert_eq!(offered, json!(overlaps), "choices come from the config");
                assert_eq!(page.focused_id().await, "rotate-hours-24", "focus moved in");

                page.click(&format!("label[for=rotate-hours-{hours}]"))
                    .await;
                page.click("#rotate-submit").await;
                page.wait_visible("#secret-dialog").await;
                let new_key = page.text("#secret-value").await;
                assert_key_shape(&new_key);
                assert_ne!(&new_key, old_key);
                assert!(
                    page.text("#secret-dialog")
                        .await
                        .contains("stays valid until")
                );
                close_secret_panel(&page).await;
                assert!(!page.holds_text(&new_key[22..]).await);

                // The old key is visibly in grace until now + overlap, and cannot be rotated again.
                assert_eq!(page.row_status(&old_id).await, "grace");
                assert!(
                    page.text(&format!("{old_row} .expiry"))
                        .await
                        .contains("Grace ends")
                );
                let grace_end = page
                    .js_string(
                        "return document.querySelector(arguments[0] + ' .expiry.grace time') \
                           .getAttribute('datetime');",
                        vec![json!(old_row)],
                    )
                    .await;
                let grace_end = OffsetDateTime::parse(&grace_end, &Rfc3339).expect("RFC 3339");
                let expected = OffsetDateTime::now_utc()
                    + time::Duration::hours(i64::try_from(*hours).expect("hours"));
                assert!(
                    (grace_end - expected).abs() < time::Duration::minutes(5),
                    "grace ends {grace_end}, expected about {expected}"
                );
                assert!(
                    !page
                        .visible(&format!("{old_row} button[data-action=rotate]"))
                        .await
                );
                assert!(
                    page.visible(&format!("{old_row} button[data-action=revoke]"))
                        .await
                );

                // The successor is active under the same name; both keys work during the overlap.
                let new_id = page.row_id(&name, "active").await;
                assert!(!new_id.is_empty() && new_id != old_id, "a new active key");
                assert_eq!(
                    page.text(&format!("{} code.masked", Page::row(&new_id)))
                        .await,
                    masked(&new_key)
                );
                assert_eq!(page.api.probe(old_key).0, 200, "old key accepted in grace");
                assert_eq!(page.api.probe(&new_key).0, 200, "new key accepted");
            }

            // The same after a reload, from the server's own answer.
            page.reload_list().await;
            let in_grace = page
                .js(
                    "return document.querySelectorAll('#keys-body tr[data-status=grace]').length;",
                    vec![],
                )
                .await;
            assert_eq!(in_grace, json!(3));
        },
    );
}

// ------------------------------------------------------------------ revoke

#[test]
fn revoke_asks_for_confirmation_naming_the_key() {
    browser_test(
        "revoke",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let token = page.api.token();
            let (_, key) = page.api.create_key(&token, "Warehouse scanner", 365);
            page.sign_in().await;
            let id = page.row_id("Warehouse scanner", "active").await;
            let row = Page::row(&id);
            let revoke_button = format!("{row} button[data-action=revoke]");

            // Cancel: nothing happens, focus returns to the button.
            page.click(&revoke_button).await;
            page.wait_visible("#revoke-dialog").await;
            assert_eq!(
                page.text("#revoke-title").await,
                "Revoke “Warehouse scanner”?"
            );
            assert!(page.text("#revoke-text").await.contains(&masked(&key)));
            assert_eq!(
                page.focused_id().await,
                "revoke-cancel",
                "the safe choice has focus"
            );
            page.click("#revoke-cancel").await;
            page.wait_until(
                "the revoke dialog closed",
                "return !document.getElementById('revoke-dialog').open;",
                vec![],
            )
            .await;
            assert_eq!(page.row_status(&id).await, "active");
            assert_eq!(
                page.js(
                    "return document.activeElement === document.querySelector(arguments[0]);",
                    vec![json!(revoke_button)],
                )
                .await,
                json!(true),
                "focus back on the Revoke button"
            );
            assert_eq!(page.api.probe(&key).0, 200);

            // Escape cancels as well.
            page.click(&revoke_button).await;
            page.wait_visible("#revoke-dialog").await;
            page.press(escape()).await;
            page.wait_until(
                "the revoke dialog closed",
                "return !document.getElementById('revoke-dialog').open;",
                vec![],
            )
            .await;
            assert_eq!(page.row_status(&id).await, "active");

            // Confirm: the list shows it revoked at once, without actions; the key is refused.
            page.click(&revoke_button).await;
            page.wait_visible("#revoke-dialog").await;
            page.click("#revoke-submit").await;
            page.wait_until(
                "the row reads revoked",
                "const tr = document.querySelector(arguments[0]); \
                 return !!tr && tr.dataset.status === 'revoked';",
                vec![json!(row)],
            )
            .await;
            assert!(!page.visible("#revoke-dialog").await);
            page.wait_text("#status", "revoked").await;
            assert!(
                page.text(&format!("{row} .badge"))
                    .await
                    .contains("Revoked")
            );
            assert!(
                page.text(&format!("{row} .expiry"))
                    .await
                    .contains("Revoked")
            );
            assert!(!page.visible(&revoke_button).await);
            assert!(
                !page
                    .visible(&format!("{row} button[data-action=rotate]"))
                    .await
            );
            assert_eq!(
                page.api.probe(&key),
                (401, Some("api_key_revoked".to_owned()))
            );
            page.reload_list().await;
            assert_eq!(page.row_status(&id).await, "revoked");
        },
    );
}

// ------------------------------------------------------------------ theme and screenshots

/// Keys in every status a fresh server can show, for the screenshots.
fn seed_showcase(page: &Page) {
    let api = &page.api;
    let token = api.token();
    let (staging, _) = api.create_key(&token, "Staging smoke tests", 90);
    api.revoke_key(&token, staging["id"].as_str().expect("id"));
    api.create_key(&token, "Nightly BI sync", 21);
    api.create_key(&token, "Warehouse scanner", 180);
    let (billing, _) = api.create_key(&token, "Billing export (prod)", 365);
    api.rotate_key(&token, billing["id"].as_str().expect("id"), 48);
}

fn publish_screenshot(path: &Path, name: &str) {
    if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&docs).expect("docs/screenshots");
        std::fs::copy(path, docs.join(name)).expect("copy the screenshot");
    }
}

async fn theme(page: &Page) -> String {
    page.js_string("return document.documentElement.dataset.theme;", vec![])
        .await
}

#[test]
fn theme_toggle_is_remembered_across_reloads() {
    browser_test(
        "theme",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            seed_showcase(&page);
            page.sign_in().await;
            assert_eq!(
                theme(&page).await,
                "light",
                "follows the (light) system theme"
            );
            assert_eq!(
                page.js(
                    "return localStorage.getItem('idunox.portal.theme');",
                    vec![]
                )
                .await,
                Value::Null
            );
            assert_eq!(
                page.js(
                    "return document.querySelectorAll('#keys-body tr').length;",
                    vec![]
                )
                .await,
                json!(5)
            );
            for status in ["active", "expiring", "grace", "revoked"] {
                assert!(
                    page.visible(&format!("#keys-body .badge-{status}")).await,
                    "a {status} badge"
                );
            }
            let light_bg = page
                .js_string(
                    "return getComputedStyle(document.body).backgroundColor;",
                    vec![],
                )
                .await;

            page.reload_list().await;
            let light = page.screenshot("portal-light").await;
            publish_screenshot(&light, "portal-light.png");

            page.click("#theme-toggle").await;
            assert_eq!(theme(&page).await, "dark");
            assert_eq!(
                page.js_string(
                    "return document.getElementById('theme-toggle').getAttribute('aria-pressed');",
                    vec![]
                )
                .await,
                "true"
            );
            assert_eq!(
                page.js_string(
                    "return localStorage.getItem('idunox.portal.theme');",
                    vec![]
                )
                .await,
                "dark"
            );
            let dark_bg = page
                .js_string(
                    "return getComputedStyle(document.body).backgroundColor;",
                    vec![],
                )
                .await;
            assert_ne!(light_bg, dark_bg, "the page really changes colour");

            // Remembered across a reload (and the session survives it too).
            page.reload_list().await;
            assert_eq!(theme(&page).await, "dark");
            page.js("document.activeElement.blur();", vec![]).await;
            let dark = page.screenshot("portal-dark").await;
            publish_screenshot(&dark, "portal-dark.png");

            page.click("#theme-toggle").await;
            page.reload_list().await;
            assert_eq!(theme(&page).await, "light");
            println!("screenshots in {}", artifacts_dir().display());
        },
    );
}

#[test]
fn theme_follows_a_dark_system_until_chosen() {
    browser_test(
        "theme_system",
        ServerOptions::default(),
        BrowserOptions {
            dark_system_theme: true,
        },
        |page| async move {
            page.goto("/partner").await;
            page.wait_visible("#signin-form").await;
            assert_eq!(theme(&page).await, "dark", "follows the dark system theme");
            page.click("#theme-toggle").await;
            assert_eq!(theme(&page).await, "light");
            page.client.refresh().await.expect("reload");
            page.wait_visible("#signin-form").await;
            assert_eq!(theme(&page).await, "light", "the choice beats the system");
        },
    );
}

// ------------------------------------------------------------------ hostile names

#[test]
fn hostile_key_names_are_shown_as_text() {
    browser_test(
        "hostile",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let others = [
                "\"><svg onload=alert(2)>",
                "<script>window.__pwned = 1</script>",
                "<b onmouseover=alert(3)>bold</b> & &amp;",
            ];
            let token = page.api.token();
            for name in others {
                page.api.create_key(&token, name, 365);
            }
            page.sign_in().await;

            // Through the form, as a person would type it.
            create_through_ui(&page, HOSTILE, None).await;
            assert_eq!(page.text(".secret-for strong").await, HOSTILE);
            close_secret_panel(&page).await;

            for name in std::iter::once(HOSTILE).chain(others) {
                let id = page.row_id(name, "active").await;
                assert!(!id.is_empty(), "{name} is listed literally");
                let shown = page
                    .find(&format!("{} .key-name", Page::row(&id)))
                    .await
                    .text()
                    .await
                    .expect("rendered text");
                assert_eq!(shown, name.trim(), "rendered as the characters typed");
            }
            let injected = page
                .js(
                    "return document.querySelectorAll('#keys-body img, #keys-body svg, \
                       #keys-body script, #keys-body b').length;",
                    vec![],
                )
                .await;
            assert_eq!(injected, json!(0), "no element came from a key name");

            // In the dialogs too.
            let id = page.row_id(HOSTILE, "active").await;
            let row = Page::row(&id);
            page.click(&format!("{row} button[data-action=revoke]"))
                .await;
            page.wait_visible("#revoke-dialog").await;
            assert_eq!(
                page.text("#revoke-title").await,
                format!("Revoke “{HOSTILE}”?")
            );
            page.click("#revoke-cancel").await;
            page.click(&format!("{row} button[data-action=rotate]"))
                .await;
            page.wait_visible("#rotate-dialog").await;
            assert_eq!(
                page.text("#rotate-title").await,
                format!("Rotate “{HOSTILE}”")
            );
            page.press(escape()).await;

            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(
                page.client.get_alert_text().await.is_err(),
                "no alert was raised"
            );
            assert_eq!(
                page.js("return typeof window.__pwned;", vec![]).await,
                json!("undefined")
            );
            assert_eq!(
                page.js(
                    "return [...document.images].filter(i => !i.src.endsWith('/logo.svg')).length;",
                    vec![]
                )
                .await,
                json!(0)
            );
        },
    );
}

// ------------------------------------------------------------------ session expiry

#[test]
fn expired_session_returns_to_sign_in_with_a_message() {
    browser_test(
        "session_expiry",
        ServerOptions {
            jwt_ttl_seconds: SHORT_TTL_SECONDS,
        },
        BrowserOptions::default(),
        |page| async move {
            // The server refuses an expired token even if the page thinks it is still valid:
            // the next authenticated call (here, creating a key) leads back to sign-in.
            page.sign_in().await;
            let signed_in = std::time::Instant::now();
            page.js(
                "const s = JSON.parse(sessionStorage.getItem('idunox.portal.session')); \
                 s.expiresAt = Date.now() + 3600 * 1000; \
                 sessionStorage.setItem('idunox.portal.session', JSON.stringify(s));",
                vec![],
            )
            .await;
            page.reload_list().await;
            page.click("#create-open").await;
            page.wait_visible("#create-dialog").await;
            page.fill("#create-name", "Too late").await;
            let expired = signed_in + Duration::from_secs(SHORT_TTL_SECONDS + 1);
            tokio::time::sleep_until(expired.into()).await;
            page.click("#create-submit").await;
            page.wait_visible("#signin-form").await;
            page.wait_text("#signin-message", SESSION_EXPIRED).await;
            assert!(!page.visible("#keys-view").await);
            assert!(!page.visible("#create-dialog").await, "dialogs closed");
            assert_eq!(
                page.js(
                    "return sessionStorage.getItem('idunox.portal.session');",
                    vec![]
                )
                .await,
                Value::Null
            );

            // Left alone, the page notices the end of the session by itself.
            page.fill("#signin-email", EMAIL).await;
            page.fill("#signin-password", PASSWORD).await;
            page.click("#signin-submit").await;
            page.wait_visible("#keys-view").await;
            page.wait_visible("#signin-form").await;
            page.wait_text("#signin-message", SESSION_EXPIRED).await;
            assert!(!page.visible("#keys-view").await);
        },
    );
}
