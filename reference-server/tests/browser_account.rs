//! Browser tests of the portal's phase-2 features (issues 14 and 12): edit a key in place
//! (`PATCH /v1/partner/credentials/<id>`), restricted keys (scopes and allowed addresses on
//! create and edit), the rotate dialog's validity and the link between rotated keys, change
//! password, the forced change after a one-time password (a user created through the staff API)
//! and sign-out ending the token on the server. Same harness and rules as `browser.rs`.

#[allow(dead_code, unreachable_pub)]
mod browser_support;

use browser_support::{
    BrowserOptions, EMAIL, PASSWORD, Page, ServerOptions, TENANT, browser_test, publish_screenshot,
};
use serde_json::{Value, json};

async fn stored_token(page: &Page) -> String {
    page.js_string(
        "return JSON.parse(sessionStorage.getItem('idunox.portal.session')).token;",
        vec![],
    )
    .await
}

#[test]
fn rename_a_key_in_place() {
    browser_test(
        "pending_rename",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let token = page.api.token();
            let (credential, key) = page.api.create_key(&token, "Old name", 365);
            let id = credential["id"].as_str().expect("id").to_owned();
            page.sign_in().await;
            let row = Page::row(&id);
            page.click(&format!("{row} button[data-action=edit]")).await;
            page.wait_visible("#edit-dialog").await;
            assert_eq!(page.value("#edit-name").await, "Old name");
            assert_eq!(page.focused_id().await, "edit-name");
            page.fill("#edit-name", "Warehouse scanner (dock 4)").await;
            page.click("#edit-submit").await;
            page.wait_dialog_closed("edit-dialog").await;
            page.wait_text(&format!("{row} .key-name"), "Warehouse scanner (dock 4)")
                .await;
            page.wait_text("#status", "renamed").await;
            assert!(
                page.js(
                    "return document.activeElement === document.querySelector(arguments[0]);",
                    vec![json!(row)],
                )
                .await
                    == json!(true),
                "focus on the renamed row"
            );
            // The server has it, and the key itself did not change.
            page.reload_list().await;
            page.wait_text(&format!("{row} .key-name"), "Warehouse scanner (dock 4)")
                .await;
            assert_eq!(page.api.probe(&key).0, 200, "the same key works");
        },
    );
}

#[test]
fn change_password_with_strength_feedback() {
    browser_test(
        "pending_password",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let other_session = page.api.token();
            page.sign_in().await;
            page.click("#account-button").await;
            page.click("#password-open").await;
            page.wait_visible("#password-dialog").await;
            assert_eq!(page.focused_id().await, "password-current");

            // Strength feedback while typing; too short is refused on the field.
            page.fill("#password-new", "short").await;
            page.wait_text("#password-new-strength", "Too short").await;
            page.fill("#password-new", "password1234").await;
            page.wait_text("#password-new-strength", "Weak").await;
            let strong = "violet tram under quiet harbour lights";
            page.fill("#password-new", strong).await;
            page.wait_text("#password-new-strength", "Strong").await;

            // A wrong current password is said on its field (403 wrong_password).
            page.fill("#password-current", "not my password at all")
                .await;
            page.fill("#password-confirm", strong).await;
            page.click("#password-submit").await;
            page.wait_text("#password-current-error", "not correct")
                .await;
            assert!(page.field_marked_invalid("password-current", "").await);

            page.fill("#password-current", PASSWORD).await;
            page.click("#password-submit").await;
            page.wait_dialog_closed("password-dialog").await;
            page.wait_text("#status", "password was changed").await;

            // The other session is refused, this one goes on.
            assert_eq!(
                page.api
                    .call("GET", "/v1/partner/me", Some(&other_session), None)
                    .0,
                401
            );
            page.click("#refresh").await;
            page.wait_text("#status", "Key list updated.").await;
            assert!(!page.visible("#session-dialog").await);

            // The new password signs in.
            page.sign_out().await;
            page.fill("#signin-email", EMAIL).await;
            page.fill("#signin-password", strong).await;
            page.click("#signin-submit").await;
            page.wait_visible("#keys-view").await;
        },
    );
}

#[test]
fn sign_out_ends_the_token_on_the_server() {
    browser_test(
        "pending_logout",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            page.sign_in().await;
            let token = stored_token(&page).await;
            assert_eq!(
                page.api.call("GET", "/v1/partner/me", Some(&token), None).0,
                200
            );
            page.sign_out().await;
            // The page has sent its sign-out once it has no call on its way.
            page.wait_idle().await;
            assert_eq!(
                page.api.call("GET", "/v1/partner/me", Some(&token), None).0,
                401,
                "the token still works"
            );
        },
    );
}

// ------------------------------------------------------------------ forced change (staff API)

/// A partner user created by staff, with a one-time password: `(email, initial_password)`.
async fn user_with_one_time_password(page: &Page) -> (String, String) {
    let staff = page.add_staff("staff@idunox.example");
    let staff_token = page.api.staff_token(&staff, &staff.next_code().await);
    let tenant = page
        .api
        .tenants(&staff_token)
        .into_iter()
        .find(|t| t["name"] == TENANT)
        .expect("the test tenant");
    let email = "new-admin@acme.example".to_owned();
    let (status, created) = page.api.call(
        "POST",
        &format!(
            "/v1/admin/tenants/{}/users",
            tenant["id"].as_str().expect("id")
        ),
        Some(&staff_token),
        Some(&json!({ "email": email })),
    );
    assert_eq!(status, 201, "{created}");
    let initial = created["initial_password"]
        .as_str()
        .expect("initial_password")
        .to_owned();
    (email, initial)
}

#[test]
fn forced_password_change_after_a_one_time_password() {
    browser_test(
        "pending_forced",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let (email, initial) = user_with_one_time_password(&page).await;
            page.goto("/partner").await;
            page.wait_visible("#signin-form").await;
            page.fill("#signin-email", &email).await;
            page.fill("#signin-password", &initial).await;
            page.click("#signin-submit").await;

            // The forced change comes first: no key list until a password of one's own.
            page.wait_visible("#forced-view").await;
            assert!(!page.visible("#keys-view").await);
            assert_eq!(page.focused_id().await, "forced-title");
            page.assert_accessible("the forced password change").await;
            assert!(
                !page.visible("#forced-current-field").await,
                "the one-time password just typed is not asked again"
            );
            page.fill("#forced-new", "short").await;
            page.wait_text("#forced-new-strength", "Too short").await;
            page.click("#forced-submit").await;
            page.wait_text("#forced-new-error", "at least 12").await;
            assert!(page.field_marked_invalid("forced-new", "").await);

            let own = "granite kettle over amber fields";
            page.fill("#forced-new", own).await;
            page.wait_text("#forced-new-strength", "Strong").await;
            page.fill("#forced-confirm", "something else entirely")
                .await;
            page.click("#forced-submit").await;
            page.wait_text("#forced-confirm-error", "differ").await;
            page.fill("#forced-confirm", own).await;
            page.click("#forced-submit").await;
            page.wait_visible("#keys-view").await;
            page.wait_text("#status", "password is saved").await;

            let token = stored_token(&page).await;
            let me: Value = ureq::get(&format!("{}/v1/partner/me", page.base))
                .set("Authorization", &format!("Bearer {token}"))
                .call()
                .expect("me")
                .into_json()
                .expect("me JSON");
            assert_eq!(me["user"]["must_change_password"], json!(false));

            // The one-time password is spent; the new one goes straight to the keys.
            page.sign_out().await;
            page.fill("#signin-email", &email).await;
            page.fill("#signin-password", &initial).await;
            page.click("#signin-submit").await;
            page.wait_text("#signin-message", "incorrect").await;
            page.fill("#signin-password", own).await;
            page.click("#signin-submit").await;
            page.wait_visible("#keys-view").await;
            assert!(!page.visible("#forced-view").await);
        },
    );
}

/// Closes the one-time dialog without copying (it asks once) and waits until it has gone.
async fn dismiss_secret(page: &Page) {
    page.click("#secret-close").await;
    page.wait_visible("#secret-unsaved").await;
    page.click("#secret-close").await;
    page.wait_until(
        "the one-time dialog has left the page",
        "return document.getElementById('secret-dialog') === null;",
        vec![],
    )
    .await;
}

/// The restriction marker of a row: `[accessible name, expanded, detail text, detail shown]`.
async fn restriction_marker(page: &Page, id: &str) -> Value {
    page.js(
        "const row = document.querySelector(arguments[0]); \
         const b = row && row.querySelector('.restricted-badge'); \
         if (!b) return null; \
         const d = document.getElementById(b.getAttribute('aria-controls')); \
         return [b.textContent, b.getAttribute('aria-expanded'), d.textContent, !d.hidden];",
        vec![json!(Page::row(id))],
    )
    .await
}

#[test]
fn create_a_restricted_key_see_it_marked_and_edit_its_allow_list() {
    browser_test(
        "pending_restricted",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            page.sign_in().await;
            page.click("#create-open").await;
            page.wait_visible("#create-dialog").await;
            // The catalogue of the server's configuration, with its descriptions.
            page.wait_text("#create-scopes-list", "Read orders").await;
            assert!(
                !page.visible("#create-scopes-list").await,
                "any scope by default"
            );
            page.fill("#create-name", "Contractor, read-only").await;
            page.click("#create-scopes-only").await;
            page.click("#create-scopes-list input[value='orders:read']")
                .await;
            page.click("#create-ips-only").await;

            // A block with host bits set: the server's `invalid_cidr` lands on the field.
            page.fill("#create-ips", "203.0.113.7/24").await;
            page.click("#create-submit").await;
            page.wait_visible("#create-ips-error").await;
            assert!(
                page.field_marked_invalid("create-ips", "").await,
                "the server said why, on the field"
            );
            assert!(page.dialog_open("create-dialog").await);

            page.fill("#create-ips", "203.0.113.0/24").await;
            page.click("#create-submit").await;
            page.wait_visible("#secret-dialog").await;
            let key = page.value("#secret-value").await;
            dismiss_secret(&page).await;

            // The list marks it, with details on demand.
            let id = page.row_id("Contractor, read-only", "active").await;
            let marker = restriction_marker(&page, &id).await;
            assert!(
                marker[0].as_str().unwrap_or("").starts_with("Restricted"),
                "{marker}"
            );
            assert_eq!(marker[1], json!("false"));
            assert_eq!(marker[3], json!(false));
            page.click(&format!("{} .restricted-badge", Page::row(&id)))
                .await;
            let marker = restriction_marker(&page, &id).await;
            assert_eq!(marker[1], json!("true"));
            assert_eq!(marker[3], json!(true));
            let detail = marker[2].as_str().unwrap_or("");
            assert!(
                detail.contains("orders:read") && detail.contains("203.0.113.0/24"),
                "{detail}"
            );
            page.js("document.activeElement.blur();", vec![]).await;
            let shot = page.screenshot("portal-restricted").await;
            publish_screenshot(&shot, "portal-restricted.png");

            // From loopback, outside its allow-list, the key is refused.
            assert_ne!(
                page.api.probe(&key).0,
                200,
                "refused outside its allow-list"
            );

            // Edit the allow-list: add loopback; the next request is accepted.
            page.click(&format!("{} button[data-action=edit]", Page::row(&id)))
                .await;
            page.wait_visible("#edit-dialog").await;
            assert_eq!(page.value("#edit-ips").await, "203.0.113.0/24");
            assert!(
                page.js(
                    "return document.getElementById('edit-ips-only').checked;",
                    vec![]
                )
                .await
                    == json!(true)
            );
            page.fill("#edit-ips", "203.0.113.0/24\n127.0.0.1/32").await;
            page.click("#edit-submit").await;
            page.wait_dialog_closed("edit-dialog").await;
            page.wait_text("#status", "updated").await;
            let credential = page
                .api
                .call(
                    "GET",
                    &format!("/v1/partner/credentials?q={id}"),
                    Some(&page.api.token()),
                    None,
                )
                .1;
            assert_eq!(
                credential["credentials"][0]["allowed_ips"],
                json!(["203.0.113.0/24", "127.0.0.1/32"])
            );
            assert_eq!(page.api.probe(&key).0, 200, "accepted from loopback now");
        },
    );
}

#[test]
fn rotation_chooses_the_new_validity_and_links_both_keys() {
    browser_test(
        "pending_rotation",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let token = page.api.token();
            let (old, _) = page.api.create_key(&token, "Billing export", 365);
            let old_id = old["id"].as_str().expect("id").to_owned();
            let old_masked = old["masked_key"].as_str().expect("masked").to_owned();
            page.sign_in().await;
            let row = Page::row(&old_id);
            page.click(&format!("{row} button[data-action=rotate]"))
                .await;
            page.wait_visible("#rotate-dialog").await;

            // The new key's validity, with the expiry it gives.
            page.fill("#rotate-validity", "30").await;
            page.wait_until(
                "the hint names the new expiry",
                "const t = document.querySelector('#rotate-validity-hint time'); \
                 return !!t && Math.abs(new Date(t.dateTime) - (Date.now() + 30 * 86400000)) < 120000;",
                vec![],
            )
            .await;
            page.fill("#rotate-validity", "400").await;
            page.click("#rotate-submit").await;
            assert!(
                page.field_marked_invalid("rotate-validity", "between 1 and 365")
                    .await
            );
            page.fill("#rotate-validity", "30").await;
            page.click("#rotate-submit").await;
            page.wait_visible("#secret-dialog").await;
            assert!(
                page.text("#secret-dialog").await.contains(&old_masked),
                "the key dialog names the key it replaces"
            );
            dismiss_secret(&page).await;

            let listed = page
                .api
                .call("GET", "/v1/partner/credentials", Some(&token), None)
                .1;
            let new = listed["credentials"]
                .as_array()
                .expect("credentials")
                .iter()
                .find(|c| c["replaces"] == json!(old_id))
                .cloned()
                .expect("the successor");
            let new_id = new["id"].as_str().expect("id").to_owned();
            let new_masked = new["masked_key"].as_str().expect("masked").to_owned();
            assert_eq!(new["expires_in_days"], json!(30), "{new}");

            // Both rows name the other by masked key.
            page.wait_text(
                &format!("{row} .lineage"),
                &format!("Replaced by {new_masked}"),
            )
            .await;
            page.wait_text(
                &format!("{} .lineage", Page::row(&new_id)),
                &format!("Replaces {old_masked}"),
            )
            .await;

            // Still there once the old key is revoked (revoked keys shown).
            page.api.revoke_key(&token, &old_id);
            page.click("#status-filters button[data-status=revoked]")
                .await;
            page.wait_until(
                "the old key is listed as revoked",
                "const r = document.querySelector(arguments[0]); \
                 return !!r && r.dataset.status === 'revoked';",
                vec![json!(row)],
            )
            .await;
            assert_eq!(
                page.text(&format!("{row} .lineage")).await,
                format!("Replaced by {new_masked}")
            );
        },
    );
}
