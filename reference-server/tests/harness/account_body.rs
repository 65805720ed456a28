//! The checks of the `account_body` fuzz target, shared with `tests/fuzz_corpus.rs` (which
//! replays `fuzz/corpus/account_body/` under plain `cargo test`). The including crate provides
//! the server's modules as `crate::sign_in_bodies`, `crate::admin_bodies`, `crate::email`,
//! `crate::password_rules` and `crate::shape` (the fuzz target compiles them by path; the replay
//! test imports them from `reference_server`).
//!
//! The first input byte picks the body (`% 5`: 0 partner sign-in, 1 staff sign-in, 2 password
//! change, 3 tenant create, 4 user provision); the rest is the request body, read as the body
//! guard reads it (a JSON object, then the type) and judged by the route's rule. Never a panic;
//! `Debug` of a body with a password shows no password or code (only the email, where there is
//! one); an accepted new password has 12 to 1024 characters; an accepted tenant name is the name
//! trimmed, not blank, at most 100 characters as sent, without control characters; an accepted
//! provisioned email is the email trimmed and lower-cased, with one `@` between two non-empty
//! parts, no whitespace, no control characters and at most 254 characters as sent.

use serde::de::DeserializeOwned;

use crate::admin_bodies::{NewTenant, NewUserRequest, check_name};
use crate::email::plausible_email;
use crate::password_rules;
use crate::shape::is_object;
use crate::sign_in_bodies::{LoginRequest, PasswordChange, StaffLoginRequest};

/// Check one input; panics when an invariant breaks.
pub(crate) fn check(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 5 {
        0 => {
            if let Some(r) = decode::<LoginRequest>(body) {
                let shown = format!("{r:?}");
                assert_eq!(
                    shown,
                    format!("LoginRequest {{ email: {:?}, .. }}", r.email)
                );
            }
        }
        1 => {
            if let Some(r) = decode::<StaffLoginRequest>(body) {
                let shown = format!("{r:?}");
                assert_eq!(
                    shown,
                    format!("StaffLoginRequest {{ email: {:?}, .. }}", r.email)
                );
            }
        }
        2 => {
            if let Some(r) = decode::<PasswordChange>(body) {
                assert_eq!(format!("{r:?}"), "PasswordChange { .. }");
                new_password_ok(&r.new_password);
            }
        }
        3 => {
            if let Some(r) = decode::<NewTenant>(body) {
                tenant_name_ok(&r.name);
            }
        }
        _ => {
            if let Some(r) = decode::<NewUserRequest>(body) {
                email_ok(&r.email);
            }
        }
    }
}

/// Whether the body is accepted by the parser and the route's rule (for the named seeds).
pub(crate) fn accepted(data: &[u8]) -> bool {
    let Some((&selector, body)) = data.split_first() else {
        return false;
    };
    match selector % 5 {
        0 => decode::<LoginRequest>(body).is_some(),
        1 => decode::<StaffLoginRequest>(body).is_some(),
        2 => decode::<PasswordChange>(body).is_some_and(|r| new_password_ok(&r.new_password)),
        3 => decode::<NewTenant>(body).is_some_and(|r| tenant_name_ok(&r.name)),
        _ => decode::<NewUserRequest>(body).is_some_and(|r| email_ok(&r.email)),
    }
}

/// The body as the guard reads it.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    if !is_object(body) {
        return None;
    }
    let typed = serde_json::from_slice::<T>(body).ok()?;
    assert!(
        serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.is_object()),
        "a body read as a type is not a JSON object"
    );
    Some(typed)
}

fn new_password_ok(password: &str) -> bool {
    let ok = password_rules::check(password).is_ok();
    if ok {
        assert!((12..=1024).contains(&password.chars().count()));
    }
    ok
}

fn tenant_name_ok(name: &str) -> bool {
    let Ok(kept) = check_name(name) else {
        return false;
    };
    assert_eq!(kept, name.trim());
    assert!(!kept.is_empty());
    assert!(name.chars().count() <= 100);
    assert!(!name.chars().any(char::is_control));
    true
}

fn email_ok(raw: &str) -> bool {
    let Some(email) = plausible_email(raw) else {
        return false;
    };
    assert_eq!(email, raw.trim().to_lowercase());
    assert_eq!(email.matches('@').count(), 1);
    let (local, domain) = email.split_once('@').expect("one @");
    assert!(!local.is_empty() && !domain.is_empty());
    assert!(!email.chars().any(char::is_whitespace));
    assert!(!raw.chars().any(char::is_control));
    assert!(raw.chars().count() <= 254);
    true
}
