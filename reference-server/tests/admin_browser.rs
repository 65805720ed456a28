//! End-to-end tests of the staff console at `/admin` in a real headless Chromium, against the
//! real server binary (harness: `browser_support`, shared with the partner portal's tests).
//!
//! Staff accounts are made with the server's own `reference-server staff add` and sign in with
//! TOTP codes computed the way an authenticator app computes them (`browser_support::totp`,
//! checked against the RFC's vectors). Without ChromeDriver these tests print why and pass,
//! except under `CI=true`. Screenshots land in `test-artifacts/`; with `UPDATE_SCREENSHOTS=1`
//! they are also copied to `docs/screenshots/admin-*.png`.

// The harness serves the portal's tests too: not every helper is used here.
#[allow(dead_code, unreachable_pub)]
mod browser_support;

use browser_support::admin::Staff;
use browser_support::{
    BrowserOptions, EMAIL, PASSWORD, Page, Server, ServerOptions, TENANT, assert_strict_page,
    browser_test, publish_screenshot,
};
use fantoccini::key::Key;
use serde_json::{Value, json};

/// A name that would run script if it were ever inserted as HTML.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

fn escape() -> char {
    Key::Escape.into()
}

/// Opens the tenant named `name` from the tenant list; returns its id.
async fn open_tenant(page: &Page, name: &str) -> String {
    page.goto("/admin#/tenants").await;
    page.wait_until(
        &format!("the tenant list shows {name}"),
        "return [...document.querySelectorAll('#tenants-body a')].some(a => a.textContent === arguments[0]);",
        vec![json!(name)],
    )
    .await;
    let id = page
        .js_string(
            "return [...document.querySelectorAll('#tenants-body tr')] \
               .find(r => r.querySelector('a').textContent === arguments[0]).dataset.id;",
            vec![json!(name)],
        )
        .await;
    page.click(&format!("#tenants-body tr[data-id=\"{id}\"] a"))
        .await;
    page.wait_visible("#tenant-body").await;
    page.wait_text("#tenant-title", name).await;
    id
}

/// A CSS selector for the row of a user, by email (on the tenant view).
async fn user_row(page: &Page, email: &str) -> String {
    page.wait_until(
        &format!("the user {email} is listed"),
        "return [...document.querySelectorAll('#users-body tr')] \
           .some(r => r.querySelector('.user-email').textContent === arguments[0]);",
        vec![json!(email)],
    )
    .await;
    let id = page
        .js_string(
            "return [...document.querySelectorAll('#users-body tr')] \
               .find(r => r.querySelector('.user-email').textContent === arguments[0]).dataset.id;",
            vec![json!(email)],
        )
        .await;
    format!("#users-body tr[data-id=\"{id}\"]")
}

/// The state a user's row shows (`active`, `one-time`, `disabled`).
async fn user_state(page: &Page, row: &str) -> String {
    page.js_string(
        "const r = document.querySelector(arguments[0]); \
         return r ? r.querySelector('.badge').dataset.state : null;",
        vec![json!(row)],
    )
    .await
}

/// Waits until the key search shows exactly these key ids.
async fn wait_key_rows(page: &Page, ids: &[&str]) {
    page.wait_until(
        &format!("the key search shows {ids:?}"),
        "const rows = [...document.querySelectorAll('#keys-body tr')].map(r => r.dataset.id); \
         return !document.getElementById('keys-panel').hidden \
           && rows.length === arguments[0].length && rows.every(id => arguments[0].includes(id));",
        vec![json!(ids)],
    )
    .await;
}

/// Types into the key search as a paste does: the whole text in one input event.
async fn paste_into_search(page: &Page, text: &str) {
    page.js(
        "const i = document.getElementById('key-search'); i.focus(); i.value = arguments[0]; \
         i.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![json!(text)],
    )
    .await;
}

/// Copies the one-time secret with the dialog's button, closes the dialog and waits until it
/// has left the page; returns the secret it showed.
async fn copy_and_close_secret(page: &Page) -> String {
    page.wait_visible("#secret-dialog").await;
    let secret = page.value("#secret-value").await;
    page.click("#secret-copy").await;
    page.wait_text("#secret-copy-status", "Copied").await;
    page.click("#secret-close").await;
    page.wait_until(
        "the one-time dialog has left the page",
        "return document.getElementById('secret-dialog') === null;",
        vec![],
    )
    .await;
    secret
}

/// The portal Activity row of the newest entry with `action`: `[actor kind, who, key]`.
async fn activity_row(page: &Page, action: &str) -> Value {
    page.wait_until(
        &format!("Activity lists {action}"),
        "return [...document.querySelectorAll('#activity-body tr')] \
           .some(r => r.dataset.action === arguments[0]);",
        vec![json!(action)],
    )
    .await;
    page.js(
        "const r = [...document.querySelectorAll('#activity-body tr')] \
           .find(r => r.dataset.action === arguments[0]); \
         return [r.querySelector('.actor').dataset.actor, r.querySelector('.actor').textContent, \
                 r.querySelector('.col-key').textContent];",
        vec![json!(action)],
    )
    .await
}

/// Waits until a token is refused by `path` (sign-out ends it on the server).
async fn wait_refused(page: &Page, path: &str, token: &str) {
    // The page has sent its sign-out once it has no call on its way.
    page.wait_idle().await;
    assert_eq!(
        page.api.call("GET", path, Some(token), None).0,
        401,
        "{path} still takes the token"
    );
}

/// A tenant with one user (`ops@<slug>.example`, the portal password of the tests) and `keys`
/// keys made through the partner API; returns the tenant id and the user's token.
fn seed_tenant(page: &Page, name: &str, slug: &str, keys: usize) -> (String, String) {
    let out = page.cli(&["tenant", "add", name], "");
    assert!(out.status.success(), "tenant add: {out:?}");
    let id = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let email = format!("ops@{slug}.example");
    let out = page.cli(
        &[
            "user",
            "add",
            "--tenant",
            &id,
            "--email",
            &email,
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "user add: {out:?}");
    let token = page.api.token_as(&email, PASSWORD);
    for i in 0..keys {
        let service = [
            "Billing export",
            "Warehouse scanner",
            "Nightly sync",
            "Webhook relay",
        ][i % 4];
        page.api.create_key(
            &token,
            &format!("{service} ({slug}) #{}", i + 1),
            365 - u32::try_from(i).expect("small"),
        );
    }
    (id, token)
}

// ------------------------------------------------------------------ without a browser

#[test]
fn console_is_served_with_strict_headers_and_no_inline_code() {
    let server = Server::start(ServerOptions::default());
    let assets: Vec<&str> = reference_server::admin_page::asset_names().collect();
    assert_strict_page(&server.api.base, "/admin", &assets);
}

// ------------------------------------------------------------------ sign-in, search, revoke

#[test]
fn sign_in_with_totp_find_a_key_by_id_revoke_it_and_the_probe_refuses_it() {
    browser_test(
        "admin_revoke",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let token = page.api.token();
            let (target, key) = page.api.create_key(&token, "Billing export (prod)", 365);
            let (_, other) = page.api.create_key(&token, "Warehouse scanner", 365);
            let id = target["id"].as_str().expect("id").to_owned();
            let staff = page.add_staff("ops@idunox.example");

            // The code field is what authenticator apps and phones fill in.
            page.goto("/admin").await;
            page.wait_visible("#signin-form").await;
            assert_eq!(page.focused_id().await, "signin-email");
            let field = page
                .js(
                    "const i = document.getElementById('signin-totp'); \
                     return [i.getAttribute('autocomplete'), i.getAttribute('inputmode')];",
                    vec![],
                )
                .await;
            assert_eq!(field, json!(["one-time-code", "numeric"]));

            // A code that is not 6 digits is refused on its field without asking the server;
            // an old code is refused by the server like a wrong password.
            page.fill("#signin-email", &staff.email).await;
            page.fill("#signin-password", &staff.password).await;
            page.fill("#signin-totp", "12345").await;
            page.click("#signin-submit").await;
            assert!(page.field_marked_invalid("signin-totp", "6 digits").await);
            page.fill("#signin-totp", &staff.stale_code()).await;
            page.click("#signin-submit").await;
            page.wait_text("#signin-message", "not correct").await;
            assert!(page.visible("#signin-view").await);

            page.sign_in_staff(&staff).await;
            assert_eq!(page.focused_id().await, "tenants-title");
            page.wait_text("#status", "Signed in as ops@idunox.example")
                .await;

            // The search answers as it is typed: the key id finds that key alone, with its tenant.
            page.click("#nav-keys").await;
            page.wait_visible("#keys-view").await;
            page.fill("#key-search", &id).await;
            wait_key_rows(&page, &[&id]).await;
            let row = format!("#keys-body tr[data-id=\"{id}\"]");
            assert_eq!(page.text(&format!("{row} .col-tenant")).await, TENANT);
            assert_eq!(
                page.js_string("return location.hash;", vec![]).await,
                format!("#/keys?q={id}")
            );

            // A whole key pasted in is cut down to its key id before anything leaves the page.
            page.fill("#key-search", "").await;
            paste_into_search(&page, &key).await;
            page.wait_visible("#key-search-note").await;
            assert_eq!(page.value("#key-search").await, id);
            wait_key_rows(&page, &[&id]).await;
            let secret = &key[22..];
            assert!(
                !page.holds_text(secret).await,
                "the secret stayed on the page"
            );
            assert!(
                !page
                    .js_string("return location.href;", vec![])
                    .await
                    .contains(secret),
                "the secret reached the address"
            );
            assert!(!page.holds_text(&key).await);

            // So is one in an address someone built: the address is rewritten without it.
            page.goto("/admin#/tenants").await;
            page.goto(&format!("/admin#/keys?q={key}")).await;
            page.wait_visible("#key-search-note").await;
            assert_eq!(page.value("#key-search").await, id);
            wait_key_rows(&page, &[&id]).await;
            assert!(
                !page
                    .js_string("return location.href;", vec![])
                    .await
                    .contains(secret),
                "the secret stayed in the address"
            );

            // Revoke asks first, naming the key and its tenant; focus starts on Cancel.
            page.click(&format!("{row} button[data-action=revoke]"))
                .await;
            page.wait_visible("#revoke-dialog").await;
            assert_eq!(page.focused_id().await, "revoke-cancel");
            let text = page.text("#revoke-text").await;
            assert!(
                text.contains(target["masked_key"].as_str().expect("masked")),
                "{text}"
            );
            assert!(text.contains(TENANT), "{text}");
            page.click("#revoke-submit").await;
            page.wait_dialog_closed("revoke-dialog").await;
            page.wait_until(
                "the row reads revoked",
                "const r = document.querySelector(arguments[0]); \
                 return !!r && r.dataset.status === 'revoked' && !r.querySelector('button');",
                vec![json!(row)],
            )
            .await;
            assert!(page.has_focus(&row).await, "focus on the revoked key's row");
            page.wait_text("#status", "revoked").await;

            // The partner's probe refuses it at once; the other key goes on working.
            assert_eq!(
                page.api.probe(&key),
                (401, Some("api_key_revoked".to_owned()))
            );
            assert_eq!(page.api.probe(&other).0, 200);

            // The partner sees it in Activity, done by "Idunox staff".
            page.sign_out().await;
            page.sign_in().await;
            page.click("#nav-activity").await;
            page.wait_visible("#activity-panel").await;
            let revoked = activity_row(&page, "credential.revoked").await;
            assert_eq!(revoked[0], json!("staff"), "{revoked}");
            assert!(
                revoked[1]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Idunox staff")),
                "{revoked}"
            );
            assert_eq!(revoked[2], json!(id));
        },
    );
}

#[test]
fn restrict_a_key_name_scopes_and_allowed_addresses_on_the_partners_behalf() {
    browser_test(
        "admin_edit",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let token = page.api.token();
            let (credential, key) = page.api.create_key(&token, "Old name", 365);
            let id = credential["id"].as_str().expect("id").to_owned();
            let staff = page.add_staff("ops@idunox.example");
            page.sign_in_staff(&staff).await;
            page.goto(&format!("/admin#/keys?q={id}")).await;
            wait_key_rows(&page, &[&id]).await;
            let row = format!("#keys-body tr[data-id=\"{id}\"]");

            page.click(&format!("{row} button[data-action=edit]")).await;
            page.wait_visible("#edit-dialog").await;
            assert_eq!(page.focused_id().await, "edit-name");
            assert_eq!(page.value("#edit-name").await, "Old name");
            page.fill("#edit-name", "Warehouse scanner (dock 4)").await;
            // Scopes from the server's catalogue, with their descriptions.
            page.wait_text("#edit-scopes-list", "Read orders").await;
            page.click("#edit-scopes-only").await;
            page.click("#edit-scopes-list input[value='orders:read']")
                .await;
            page.click("#edit-ips-only").await;
            // A malformed block is refused by the server, on its field.
            page.fill("#edit-ips", "10.0.0.1/33").await;
            page.click("#edit-submit").await;
            page.wait_until(
                "the address field is marked invalid",
                "return document.getElementById('edit-ips').getAttribute('aria-invalid') === 'true';",
                vec![],
            )
            .await;
            page.fill("#edit-ips", "203.0.113.0/24").await;
            page.click("#edit-submit").await;
            page.wait_dialog_closed("edit-dialog").await;
            page.wait_text(&format!("{row} .key-name"), "Warehouse scanner (dock 4)")
                .await;
            page.wait_text(&format!("{row} .col-limits"), "1 address block")
                .await;
            assert!(
                page.text(&format!("{row} .col-limits"))
                    .await
                    .contains("1 scope")
            );
            assert!(page.has_focus(&row).await);
            page.wait_text("#status", "updated").await;
            assert_eq!(
                page.api.probe(&key),
                (403, Some("ip_not_allowed".to_owned())),
                "the loopback client is outside the allow-list now"
            );

            // Any address again: the key works from here.
            page.click(&format!("{row} button[data-action=edit]")).await;
            page.click("#edit-scopes-any").await;
            page.click("#edit-ips-any").await;
            page.click("#edit-submit").await;
            page.wait_dialog_closed("edit-dialog").await;
            page.wait_text(&format!("{row} .col-limits"), "None").await;
            assert_eq!(page.api.probe(&key).0, 200);
        },
    );
}

// ------------------------------------------------------------------ provisioning

#[test]
fn a_provisioned_user_signs_in_on_the_portal_with_the_one_time_password() {
    browser_test(
        "admin_provision",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let staff = page.add_staff("ops@idunox.example");
            page.sign_in_staff(&staff).await;
            let tenant_id = open_tenant(&page, TENANT).await;
            assert_eq!(
                page.js_string("return location.hash;", vec![]).await,
                format!("#/tenants/{tenant_id}")
            );

            // Provision a user: the one-time password is shown once, and closing without a
            // copy asks first.
            page.click("#user-new").await;
            page.wait_visible("#user-dialog").await;
            assert_eq!(page.focused_id().await, "user-email");
            page.fill("#user-email", "not an email").await;
            page.click("#user-submit").await;
            assert!(page.field_marked_invalid("user-email", "email").await);
            let email = "new-admin@acme.example";
            page.fill("#user-email", email).await;
            page.click("#user-submit").await;
            page.wait_visible("#secret-dialog").await;
            page.wait_text("#secret-title", "One-time password").await;
            assert!(page.text("#secret-dialog").await.contains(email));
            page.click("#secret-close").await;
            page.wait_text("#secret-unsaved", "You have not copied the password")
                .await;
            assert!(
                page.dialog_open("secret-dialog").await,
                "the first close only asks"
            );
            let initial = copy_and_close_secret(&page).await;
            assert!(
                initial.len() >= 12,
                "a strong one-time password: {initial:?}"
            );
            assert!(
                !page.holds_text(&initial).await,
                "the password left the page"
            );
            let row = user_row(&page, email).await;
            assert_eq!(user_state(&page, &row).await, "one-time");
            assert!(
                page.has_focus(&format!("{row} button[data-action=reset-password]"))
                    .await,
                "focus back on the new user's row"
            );

            // Sign-out ends the staff token on the server too.
            let staff_token = page.stored_staff_token().await;
            page.sign_out().await;
            assert_eq!(page.focused_id().await, "signin-email");
            wait_refused(&page, "/v1/admin/tenants", &staff_token).await;

            // The new user signs in on the portal with it and must choose a password first.
            page.goto("/partner").await;
            page.wait_visible("#signin-form").await;
            page.fill("#signin-email", email).await;
            page.fill("#signin-password", &initial).await;
            page.click("#signin-submit").await;
            page.wait_visible("#forced-view").await;
            let own = "granite kettle over amber fields";
            page.fill("#forced-new", own).await;
            page.fill("#forced-confirm", own).await;
            page.click("#forced-submit").await;
            page.wait_visible("#keys-view").await;
            page.wait_text("#status", "password is saved").await;

            // The portal's Activity names what staff did "Idunox staff".
            page.click("#nav-activity").await;
            page.wait_visible("#activity-panel").await;
            let provisioned = activity_row(&page, "user.provisioned").await;
            assert_eq!(provisioned[0], json!("staff"), "{provisioned}");
            assert!(
                provisioned[1]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Idunox staff") && t.contains(&staff.email)),
                "{provisioned}"
            );
            let own_actions = page
                .js(
                    "return [...document.querySelectorAll('#activity-body tr')] \
                       .filter(r => r.querySelector('.actor').dataset.actor === 'user') \
                       .map(r => r.querySelector('.actor').textContent);",
                    vec![],
                )
                .await;
            assert!(
                own_actions
                    .as_array()
                    .is_some_and(|a| !a.is_empty() && a.iter().all(|t| t == email)),
                "the new user's own sign-in and password change name them: {own_actions}"
            );
            page.assert_accessible("the portal's Activity").await;
        },
    );
}

// ------------------------------------------------------------------ user actions

#[test]
fn disable_enable_unlock_and_reset_a_users_password() {
    browser_test(
        "admin_users",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let user_token = page.api.token();
            let staff = page.add_staff("ops@idunox.example");
            page.sign_in_staff(&staff).await;
            open_tenant(&page, TENANT).await;
            let row = user_row(&page, EMAIL).await;
            assert_eq!(user_state(&page, &row).await, "active");

            // Disable asks first; the user's live token is refused at once.
            page.click(&format!("{row} button[data-action=disable]"))
                .await;
            page.wait_visible("#confirm-dialog").await;
            assert_eq!(page.focused_id().await, "confirm-cancel");
            assert!(page.text("#confirm-text").await.contains("session"));
            page.click("#confirm-submit").await;
            page.wait_dialog_closed("confirm-dialog").await;
            page.wait_until(
                "the row reads disabled",
                "const r = document.querySelector(arguments[0]); \
                 return !!r && r.querySelector('.badge').dataset.state === 'disabled';",
                vec![json!(row)],
            )
            .await;
            assert!(
                page.has_focus(&format!("{row} button[data-action=enable]"))
                    .await
            );
            assert_eq!(
                page.api
                    .call("GET", "/v1/partner/me", Some(&user_token), None)
                    .0,
                401
            );
            assert_eq!(page.api.failed_login(), 401);

            // Enable: signing in works again.
            page.click(&format!("{row} button[data-action=enable]"))
                .await;
            page.wait_until(
                "the row reads active",
                "const r = document.querySelector(arguments[0]); \
                 return !!r && r.querySelector('.badge').dataset.state === 'active';",
                vec![json!(row)],
            )
            .await;
            page.wait_text("#status", "enabled").await;
            page.api.token();

            // Unlock clears the throttling of the account.
            let mut last = 0;
            for _ in 0..11 {
                last = page.api.failed_login();
            }
            assert_eq!(last, 429, "the 11th failure from one address is throttled");
            let (status, _) = page.api.call(
                "POST",
                "/v1/partner/auth/login",
                None,
                Some(&json!({ "email": EMAIL, "password": PASSWORD })),
            );
            assert_eq!(status, 429, "throttled even with the right password");
            page.click(&format!("{row} button[data-action=unlock]"))
                .await;
            page.wait_text("#status", "unlocked").await;
            page.api.token();

            // Reset: asks first, shows a one-time password once; the old password is refused,
            // the one-time password signs in and must be changed.
            page.click(&format!("{row} button[data-action=reset-password]"))
                .await;
            page.wait_visible("#confirm-dialog").await;
            page.click("#confirm-submit").await;
            let initial = copy_and_close_secret(&page).await;
            assert_eq!(user_state(&page, &row).await, "one-time");
            assert_eq!(page.api.failed_login(), 401);
            let (status, _) = page.api.call(
                "POST",
                "/v1/partner/auth/login",
                None,
                Some(&json!({ "email": EMAIL, "password": PASSWORD })),
            );
            assert_eq!(status, 401, "the old password no longer works");
            let (status, answer) = page.api.call(
                "POST",
                "/v1/partner/auth/login",
                None,
                Some(&json!({ "email": EMAIL, "password": initial })),
            );
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer["user"]["must_change_password"], json!(true));
        },
    );
}

// ------------------------------------------------------------------ incident response

#[test]
fn revoke_all_keys_asks_for_the_tenant_name_to_be_typed() {
    browser_test(
        "admin_revoke_all",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let token = page.api.token();
            let keys: Vec<String> = (1..=3)
                .map(|i| page.api.create_key(&token, &format!("Service {i}"), 365).1)
                .collect();
            let (gone, _) = page.api.create_key(&token, "Already revoked", 365);
            page.api
                .revoke_key(&token, gone["id"].as_str().expect("id"));
            let staff = page.add_staff("ops@idunox.example");
            page.sign_in_staff(&staff).await;
            open_tenant(&page, TENANT).await;
            page.wait_text("#incident-text", "3 live keys").await;

            page.click("#revoke-all-open").await;
            page.wait_visible("#revoke-all-dialog").await;
            assert_eq!(page.focused_id().await, "revoke-all-confirm");
            assert!(page.text("#revoke-all-label").await.contains(TENANT));

            // Anything but the name revokes nothing.
            page.click("#revoke-all-submit").await;
            assert!(
                page.field_marked_invalid("revoke-all-confirm", "Type the tenant")
                    .await
            );
            page.fill("#revoke-all-confirm", "Acme").await;
            page.click("#revoke-all-submit").await;
            assert!(
                page.field_marked_invalid("revoke-all-confirm", "nothing was revoked")
                    .await
            );
            assert!(page.dialog_open("revoke-all-dialog").await);
            for key in &keys {
                assert_eq!(page.api.probe(key).0, 200);
            }

            page.fill("#revoke-all-confirm", TENANT).await;
            page.click("#revoke-all-submit").await;
            page.wait_dialog_closed("revoke-all-dialog").await;
            page.wait_text("#status", &format!("3 keys of {TENANT} revoked."))
                .await;
            for key in &keys {
                assert_eq!(
                    page.api.probe(key),
                    (401, Some("api_key_revoked".to_owned()))
                );
            }
            page.wait_text("#incident-text", "0 live keys").await;

            // A second time there is nothing left to revoke, and it says so.
            page.click("#revoke-all-open").await;
            page.fill("#revoke-all-confirm", TENANT).await;
            page.click("#revoke-all-submit").await;
            page.wait_dialog_closed("revoke-all-dialog").await;
            page.wait_text("#status", "nothing to revoke").await;
        },
    );
}

// ------------------------------------------------------------------ session end

#[test]
fn session_end_keeps_the_form_and_asks_for_a_fresh_code() {
    browser_test(
        "admin_session",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let staff = page.add_staff("ops@idunox.example");
            page.sign_in_staff(&staff).await;
            open_tenant(&page, TENANT).await;
            page.click("#user-new").await;
            page.fill("#user-email", "later@acme.example").await;

            // The call meets an ended session: the sign-in dialog opens over the form.
            page.tamper_staff_token().await;
            page.click("#user-submit").await;
            page.wait_visible("#session-dialog").await;
            assert!(
                page.dialog_open("user-dialog").await,
                "the form stays open underneath"
            );
            assert_eq!(page.value("#user-email").await, "later@acme.example");
            assert_eq!(page.focused_id().await, "session-password");
            page.press(escape()).await;
            assert!(
                page.dialog_open("session-dialog").await,
                "Escape does not dismiss it"
            );

            // The code used to sign in is refused a second time; a fresh one goes through and
            // the waiting call is sent again.
            page.fill("#session-password", &staff.password).await;
            page.fill("#session-totp", &staff.used_code()).await;
            page.click("#session-submit").await;
            page.wait_text("#session-error", "works once").await;
            page.fill("#session-password", &staff.password).await;
            page.fill("#session-totp", &staff.next_code().await).await;
            page.click("#session-submit").await;
            page.wait_dialog_closed("session-dialog").await;
            page.wait_visible("#secret-dialog").await;
            assert!(
                page.text("#secret-dialog")
                    .await
                    .contains("later@acme.example")
            );
            copy_and_close_secret(&page).await;
            user_row(&page, "later@acme.example").await;
        },
    );
}

// ------------------------------------------------------------------ tenants

#[test]
fn tenants_are_listed_created_and_named_as_text() {
    browser_test(
        "admin_tenants",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let token = page.api.token();
            for i in 0..2 {
                page.api.create_key(&token, &format!("Key {i}"), 365);
            }
            let staff = page.add_staff("ops@idunox.example");
            page.sign_in_staff(&staff).await;
            let cells = page
                .js(
                    "const r = [...document.querySelectorAll('#tenants-body tr')] \
                       .find(r => r.querySelector('a').textContent === arguments[0]); \
                     return [...r.querySelectorAll('.col-count')].map(c => c.textContent);",
                    vec![json!(TENANT)],
                )
                .await;
            assert_eq!(cells, json!(["1", "2"]), "users and live keys");

            // A new tenant: the name is required, and may be anything (shown as text).
            page.click("#tenant-new").await;
            page.wait_visible("#tenant-dialog").await;
            page.click("#tenant-submit").await;
            assert!(page.field_marked_invalid("tenant-name", "name").await);
            page.fill("#tenant-name", HOSTILE).await;
            page.click("#tenant-submit").await;
            page.wait_visible("#tenant-body").await;
            page.wait_text("#tenant-title", HOSTILE).await;
            assert_eq!(page.focused_id().await, "tenant-title");
            page.wait_visible("#users-empty").await;
            assert_eq!(
                page.js(
                    "return document.querySelectorAll('img[src=x]').length;",
                    vec![]
                )
                .await,
                json!(0)
            );

            // The list holds both, sorted by name, and filters as it is typed.
            page.click("#nav-tenants").await;
            page.wait_until(
                "both tenants are listed",
                "return document.querySelectorAll('#tenants-body tr').length === 2;",
                vec![],
            )
            .await;
            page.fill("#tenant-filter", "acme").await;
            page.wait_until(
                "the filter keeps Acme",
                "const rows = document.querySelectorAll('#tenants-body tr'); \
                 return rows.length === 1 && rows[0].querySelector('a').textContent === arguments[0];",
                vec![json!(TENANT)],
            )
            .await;
            page.fill("#tenant-filter", "nothing like it").await;
            page.wait_visible("#tenants-nomatch").await;

            // Both are in the pickers of the key search, as text.
            page.click("#nav-keys").await;
            let options = page
                .js(
                    "return [...document.querySelectorAll('#key-tenant option')].map(o => o.textContent);",
                    vec![],
                )
                .await;
            assert_eq!(options, json!(["All tenants", HOSTILE, TENANT]));
        },
    );
}

// ------------------------------------------------------------------ audit

#[test]
fn audit_trail_across_tenants_names_actor_kinds_filters_and_pages() {
    browser_test(
        "admin_audit",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            // Partner actions (user), a failed sign-in (anonymous) and, below, staff actions.
            let (other_id, _) = seed_tenant(&page, "Borealis Freight", "borealis", 2);
            let token = page.api.token();
            for i in 0..52 {
                page.api.create_key(&token, &format!("Acme key {i}"), 365);
            }
            page.api.failed_login();
            let staff = page.add_staff("ops@idunox.example");
            let staff_token = page.api.staff_token(&staff, &staff.next_code().await);
            let acme = page
                .api
                .tenants(&staff_token)
                .into_iter()
                .find(|t| t["name"] == TENANT)
                .expect("the test tenant");
            let (status, _) = page.api.call(
                "POST",
                &format!(
                    "/v1/admin/tenants/{}/users",
                    acme["id"].as_str().expect("id")
                ),
                Some(&staff_token),
                Some(&json!({ "email": "second@acme.example" })),
            );
            assert_eq!(status, 201);

            page.sign_in_staff(&staff).await;
            page.click("#nav-audit").await;
            page.wait_visible("#audit-panel").await;
            let kinds = page
                .js(
                    "return [...new Set([...document.querySelectorAll('#audit-body .actor')] \
                       .map(a => a.dataset.actor))].sort();",
                    vec![],
                )
                .await;
            assert_eq!(kinds, json!(["anonymous", "staff", "user"]), "actor kinds");
            let staff_row = page
                .js(
                    "const r = [...document.querySelectorAll('#audit-body tr')] \
                       .find(r => r.dataset.action === 'user.provisioned'); \
                     return [r.querySelector('.actor').textContent, r.querySelector('.col-tenant').textContent];",
                    vec![],
                )
                .await;
            assert_eq!(staff_row, json!([format!("Staff{}", staff.email), TENANT]));

            // Paging: more than a page of entries, older ones on the next page.
            page.wait_visible("#audit-pager").await;
            page.click("#audit-older").await;
            page.wait_text("#audit-pager-text", "Entries 51").await;
            page.click("#audit-newer").await;
            page.wait_text("#audit-pager-text", "Entries 1–").await;

            // The tenant filter: only that tenant's entries, and the address says so.
            page.find("#audit-tenant")
                .await
                .select_by_value(&other_id)
                .await
                .expect("choose a tenant");
            page.wait_until(
                "only Borealis entries are listed",
                "const rows = [...document.querySelectorAll('#audit-body tr')]; \
                 return rows.length > 0 && rows.every(r => \
                   r.querySelector('.col-tenant').textContent === 'Borealis Freight');",
                vec![],
            )
            .await;
            assert!(
                page.js_string("return location.hash;", vec![])
                    .await
                    .ends_with(&format!("tenant={other_id}"))
            );
            assert!(!page.visible("#audit-pager").await);
        },
    );
}

// ------------------------------------------------------------------ accessibility

/// Runs axe-core on the page as it is, naming the view and the pass; on a small screen, also
/// checks that every control is at least 44 × 44 px.
async fn check(page: &Page, view: &str, label: &str) {
    page.assert_accessible(&format!("{view} ({label})")).await;
    if page.js("return window.innerWidth <= 480;", vec![]).await == json!(true) {
        assert_eq!(
            page.small_targets().await,
            Vec::<Value>::new(),
            "targets under 44 px on {view} ({label})"
        );
    }
}

/// Opens every view and dialog of the console but the key search in turn and runs axe-core on
/// each; ends signed out. `staff` signs in (a fresh account per pass, so that no code is needed
/// twice).
async fn check_every_view(page: &Page, staff: &Staff, label: &str) {
    page.goto("/admin").await;
    page.wait_visible("#signin-form").await;
    page.click("#signin-submit").await;
    page.wait_visible("#signin-totp-error").await;
    check(page, "sign-in", label).await;

    page.sign_in_staff(staff).await;
    check(page, "tenants", label).await;
    page.click("#tenant-new").await;
    page.wait_visible("#tenant-dialog").await;
    page.click("#tenant-submit").await;
    page.wait_visible("#tenant-name-error").await;
    check(page, "new tenant dialog", label).await;
    page.press(escape()).await;
    page.wait_dialog_closed("tenant-dialog").await;

    open_tenant(page, TENANT).await;
    check(page, "tenant", label).await;
    let row = user_row(page, EMAIL).await;
    page.click(&format!("{row} button[data-action=disable]"))
        .await;
    page.wait_visible("#confirm-dialog").await;
    check(page, "confirmation dialog", label).await;
    page.press(escape()).await;
    page.wait_dialog_closed("confirm-dialog").await;
    page.click("#revoke-all-open").await;
    page.wait_visible("#revoke-all-dialog").await;
    page.click("#revoke-all-submit").await;
    page.wait_visible("#revoke-all-confirm-error").await;
    check(page, "revoke-all dialog", label).await;
    page.press(escape()).await;
    page.wait_dialog_closed("revoke-all-dialog").await;
    page.click("#user-new").await;
    page.wait_visible("#user-dialog").await;
    check(page, "provision dialog", label).await;
    let email = format!(
        "axe-{}@acme.example",
        label.replace(", ", "-").replace(' ', "")
    );
    page.fill("#user-email", &email).await;
    page.click("#user-submit").await;
    page.wait_visible("#secret-dialog").await;
    page.click("#secret-close").await;
    page.wait_visible("#secret-unsaved").await;
    check(page, "one-time password dialog", label).await;
    page.click("#secret-close").await;

    page.click("#nav-audit").await;
    page.wait_visible("#audit-panel").await;
    check(page, "audit trail", label).await;
    page.click("#account-button").await;
    page.wait_visible("#account-menu").await;
    check(page, "account menu", label).await;
    page.press(escape()).await;

    page.tamper_staff_token().await;
    page.click("#audit-refresh").await;
    page.wait_visible("#session-dialog").await;
    page.fill("#session-totp", "1").await;
    page.click("#session-submit").await;
    page.wait_visible("#session-password-error").await;
    check(page, "session dialog", label).await;
    page.click("#session-signout").await;
    page.wait_visible("#signin-form").await;
}

/// The key search (finding `key_id`) and its dialogs, signed in, through axe-core.
async fn check_key_views(page: &Page, label: &str, key_id: &str) {
    page.click("#nav-keys").await;
    page.wait_visible("#keys-view").await;
    page.fill("#key-search", key_id).await;
    wait_key_rows(page, &[key_id]).await;
    check(page, "keys", label).await;
    page.click("#keys-body tr[data-status=active] button[data-action=edit]")
        .await;
    page.wait_visible("#edit-dialog").await;
    page.click("#edit-ips-only").await;
    page.click("#edit-submit").await;
    page.wait_visible("#edit-ips-error").await;
    check(page, "edit dialog", label).await;
    page.press(escape()).await;
    page.wait_dialog_closed("edit-dialog").await;
    page.click("#keys-body tr[data-status=active] button[data-action=revoke]")
        .await;
    page.wait_visible("#revoke-dialog").await;
    check(page, "revoke dialog", label).await;
    page.press(escape()).await;
    page.wait_dialog_closed("revoke-dialog").await;
    paste_into_search(
        page,
        "idx_test_AAAAAAAAAAAA_notasecretbutlookslikeone1234567890",
    )
    .await;
    page.wait_visible("#key-search-note").await;
    page.wait_visible("#keys-nomatch").await;
    check(page, "key search, no match, pasted key", label).await;
}

/// Every view but the key search in light and dark at one width, with a fresh staff account per
/// theme.
fn axe_at(width: u32) {
    browser_test(
        &format!("admin_axe_{width}"),
        ServerOptions::default(),
        BrowserOptions::default(),
        move |page| async move {
            if page.axe().await.is_none() {
                return;
            }
            seed_tenant(&page, "Borealis Freight", "borealis", 3);
            let token = page.api.token();
            for i in 0..8 {
                page.api
                    .create_key(&token, &format!("Acme service {i}"), 365);
            }
            for theme_choice in ["light", "dark"] {
                let staff = page.add_staff(&format!("{theme_choice}@idunox.example"));
                page.goto("/admin").await;
                page.set_viewport_width(width).await;
                page.wait_visible("#signin-form").await;
                page.choose_theme(theme_choice).await;
                check_every_view(&page, &staff, &format!("{theme_choice}, {width} px")).await;
            }
        },
    );
}

#[test]
fn axe_finds_no_violation_on_any_view_in_both_themes_at_1440_px() {
    axe_at(1440);
}

#[test]
fn axe_finds_no_violation_on_any_view_in_both_themes_at_375_px() {
    axe_at(375);
}

#[test]
fn axe_finds_no_violation_on_the_key_search_in_both_themes_and_widths() {
    browser_test(
        "admin_axe_keys",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            if page.axe().await.is_none() {
                return;
            }
            let token = page.api.token();
            let (credential, _) = page.api.create_key(&token, "Acme service", 365);
            let key_id = credential["id"].as_str().expect("id").to_owned();
            let staff = page.add_staff("ops@idunox.example");
            page.sign_in_staff(&staff).await;
            for width in [1440, 375] {
                for theme_choice in ["light", "dark"] {
                    page.set_viewport_width(width).await;
                    page.choose_theme(theme_choice).await;
                    page.goto("/admin#/tenants").await;
                    check_key_views(&page, &format!("{theme_choice}, {width} px"), &key_id).await;
                }
            }
        },
    );
}

// ------------------------------------------------------------------ screenshots

/// A few tenants with users and keys, and a staff account signed in at 1440 px.
async fn seeded_console(page: &Page) -> Staff {
    let fleet = [
        ("Borealis Freight", "borealis", 7),
        ("Cobalt Analytics", "cobalt", 5),
        ("Delta Pharma", "delta", 6),
        ("Fjord Energy AS", "fjord", 4),
    ];
    for (name, slug, keys) in fleet {
        seed_tenant(page, name, slug, keys);
    }
    let token = page.api.token();
    for i in 0..6 {
        page.api.create_key(
            &token,
            &format!("Billing export (acme) #{}", i + 1),
            300 - i,
        );
    }
    page.api.failed_login();
    let staff = page.add_staff("ops@idunox.example");
    page.set_viewport_width(1440).await;
    page.sign_in_staff(&staff).await;
    staff
}

/// Saves a screenshot of the page as it is, without a focus ring, as `admin-<name>.png`.
async fn shoot(page: &Page, name: &str) {
    page.js("document.activeElement.blur();", vec![]).await;
    let file = format!("admin-{name}");
    let path = page.screenshot(&file).await;
    publish_screenshot(&path, &format!("{file}.png"));
}

#[test]
fn screenshots_of_tenants_a_tenant_and_the_audit_trail_in_both_themes() {
    browser_test(
        "admin_screenshots",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let _staff = seeded_console(&page).await;
            // A user provisioned from the console, so that the tenant shows one waiting for
            // their first sign-in.
            open_tenant(&page, TENANT).await;
            page.click("#user-new").await;
            page.fill("#user-email", "new-admin@acme.example").await;
            page.click("#user-submit").await;
            copy_and_close_secret(&page).await;
            for theme_choice in ["light", "dark"] {
                page.choose_theme(theme_choice).await;
                page.goto("/admin#/tenants").await;
                page.wait_until(
                    "the tenants are listed",
                    "return document.querySelectorAll('#tenants-body tr').length === 5 \
                       && !document.getElementById('tenants-view').hidden;",
                    vec![],
                )
                .await;
                shoot(&page, &format!("tenants-{theme_choice}")).await;
                open_tenant(&page, TENANT).await;
                user_row(&page, "new-admin@acme.example").await;
                shoot(&page, &format!("tenant-{theme_choice}")).await;
                page.goto("/admin#/audit").await;
                page.wait_visible("#audit-panel").await;
                shoot(&page, &format!("audit-{theme_choice}")).await;
            }
        },
    );
}

#[test]
fn screenshots_of_the_key_search_in_both_themes() {
    browser_test(
        "admin_screenshots_keys",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let _staff = seeded_console(&page).await;
            for theme_choice in ["light", "dark"] {
                page.choose_theme(theme_choice).await;
                page.goto("/admin#/keys?q=Billing").await;
                page.wait_until(
                    "the search has answered",
                    "return !document.getElementById('keys-view').hidden \
                       && document.querySelectorAll('#keys-body tr').length > 0;",
                    vec![],
                )
                .await;
                shoot(&page, &format!("keys-{theme_choice}")).await;
            }
        },
    );
}
