//! Browser tests of the portal pieces that waited for server routes (issue 14,
//! phase 2): rename (`PATCH /v1/partner/credentials/<id>`), change password
//! (`POST /v1/partner/me/password`), the forced change after a one-time password
//! (`must_change_password` on `/v1/partner/me`, a user created through the staff API) and
//! sign-out ending the token on the server (`POST /v1/partner/auth/logout`).
//!
//! They waited for the server's routes and now run (the `#[ignore]`s are gone). Same harness and
//! rules as `browser.rs`.

#[allow(dead_code, unreachable_pub)]
mod browser_support;

use browser_support::{BrowserOptions, EMAIL, PASSWORD, Page, ServerOptions, TENANT, browser_test};
use serde_json::{Value, json};

const PHASE_2: &str = "needs the server API of issue 14 phase 2";

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
            assert_eq!(page.api.probe(&key).0, 200, "{PHASE_2}");
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
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while page.api.call("GET", "/v1/partner/me", Some(&token), None).0 != 401 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the token still works"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
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
