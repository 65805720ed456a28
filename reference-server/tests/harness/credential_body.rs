//! The checks of the `credential_body` fuzz target, shared with `tests/fuzz_corpus.rs` (which
//! replays `fuzz/corpus/credential_body/` under plain `cargo test`). The including crate provides
//! the server's body module as `crate::credential_bodies` and the object rule as `crate::shape`
//! (the fuzz target compiles `src/bodies/{credentials,shape}.rs` by path; the replay test imports
//! `reference_server::bodies`).
//!
//! The first input byte picks the body (`% 3`: 0 create, 1 rotate, 2 PATCH); the rest is the
//! request body. It is read as the body guard reads it (a JSON object, then the type), then
//! judged by the rules the key manager applies before it touches the store (the core's
//! `check_name`, `check_scopes` over [`CATALOGUE`], `parse_allow_list`, validity `1..=365`
//! days, grace hours from the default policy). Never a panic; and whatever is accepted holds,
//! checked apart from those rules: a name of at most 100 characters without control characters,
//! validity days within `1..=365` and written as a whole number, grace hours among the policy's,
//! 1 to 50 allow-list entries that are networks without host bits, 1 or more scopes from the
//! catalogue without repeats.

use idunox_keys::lifecycle::{MAX_NAME_CHARS, MAX_VALIDITY_DAYS};
use idunox_keys::restrictions::{self, MAX_ALLOWED_IPS};
use idunox_keys::{KeyManager, MemoryStore, Policy};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::credential_bodies::{CreateRequest, PatchRequest, RotateRequest};
use crate::shape::is_object;

/// The scope catalogue of every check.
pub(crate) const CATALOGUE: &[&str] = &["orders:read", "orders:write", "reports:read"];

/// Check one input; panics when an invariant breaks.
pub(crate) fn check(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => create(body),
        1 => rotate(body),
        _ => patch(body),
    }
}

/// Whether the body is accepted by the parser and the rules (for the replay test's named seeds).
pub(crate) fn accepted(data: &[u8]) -> bool {
    let Some((&selector, body)) = data.split_first() else {
        return false;
    };
    match selector % 3 {
        0 => decode::<CreateRequest>(body).is_some_and(|(r, _)| create_ok(r)),
        1 => decode::<RotateRequest>(body).is_some_and(|(r, _)| rotate_ok(&r)),
        _ => decode::<PatchRequest>(body).is_some_and(|(r, _)| patch_ok(r)),
    }
}

/// The body as the guard reads it, with the same text as a JSON value to check it against.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Option<(T, serde_json::Map<String, Value>)> {
    if !is_object(body) {
        return None;
    }
    let typed = serde_json::from_slice::<T>(body).ok()?;
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some((typed, map)),
        other => panic!("a body read as a type is not a JSON object: {other:?}"),
    }
}

/// What an accepted whole-number field must read as: its JSON number, whole, saturated to i64.
fn assert_whole(field: Option<&Value>, read: Option<i64>) {
    let expected = match field {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(if let Some(i) = n.as_i64() {
            i
        } else if n.as_u64().is_some() {
            i64::MAX
        } else {
            let f = n.as_f64().expect("a JSON number");
            assert!(
                f.is_finite() && f.fract() == 0.0,
                "a fraction was read: {f}"
            );
            #[allow(clippy::cast_possible_truncation)]
            let i = f as i64;
            i
        }),
        Some(other) => panic!("a whole number was read from {other}"),
    };
    assert_eq!(read, expected);
}

fn catalogue() -> Vec<String> {
    CATALOGUE.iter().map(|&s| s.to_owned()).collect()
}

fn name_ok(name: &str) -> bool {
    let ok = KeyManager::<MemoryStore>::check_name(name).is_ok();
    if ok {
        assert!(name.chars().count() <= MAX_NAME_CHARS);
        assert!(!name.chars().any(char::is_control));
    }
    ok
}

fn scopes_ok(scopes: &[String]) -> bool {
    let Ok(kept) = restrictions::check_scopes(scopes, &catalogue()) else {
        return false;
    };
    assert!(!kept.is_empty());
    for (i, s) in kept.iter().enumerate() {
        assert!(
            CATALOGUE.contains(&s.as_str()),
            "{s:?} is not in the catalogue"
        );
        assert!(!kept[..i].contains(s), "{s:?} kept twice");
    }
    true
}

fn ips_ok(entries: &[String]) -> bool {
    let Ok(nets) = restrictions::parse_allow_list(entries.iter().map(String::as_str)) else {
        return false;
    };
    assert!((1..=MAX_ALLOWED_IPS).contains(&entries.len()));
    assert!((1..=MAX_ALLOWED_IPS).contains(&nets.len()));
    for net in &nets {
        assert_eq!(net.network(), net.addr(), "{net} has host bits");
    }
    true
}

fn validity_ok(days: Option<i64>) -> bool {
    let days = days.unwrap_or(i64::from(Policy::default().default_validity_days));
    let ok = (1..=i64::from(MAX_VALIDITY_DAYS)).contains(&days);
    if ok {
        assert!((1..=365).contains(&days));
    }
    ok
}

fn create_ok(r: CreateRequest) -> bool {
    let new = r.into_new_key();
    validity_ok(new.validity_days)
        && new.name.as_deref().is_none_or(name_ok)
        && new.scopes.as_deref().is_none_or(scopes_ok)
        && new.allowed_ips.as_deref().is_none_or(ips_ok)
}

fn rotate_ok(r: &RotateRequest) -> bool {
    let policy = Policy::default();
    let grace = policy
        .grace_hours
        .iter()
        .any(|&h| i64::from(h) == r.grace_hours);
    if grace {
        assert!([24, 48, 72].contains(&r.grace_hours));
    }
    grace && validity_ok(r.validity_days)
}

fn patch_ok(r: PatchRequest) -> bool {
    let c = r.into_changes();
    c.name
        .as_ref()
        .is_none_or(|n| n.as_deref().is_none_or(name_ok))
        && c.scopes
            .as_ref()
            .is_none_or(|s| s.as_deref().is_none_or(scopes_ok))
        && c.allowed_ips
            .as_ref()
            .is_none_or(|s| s.as_deref().is_none_or(ips_ok))
}

fn create(body: &[u8]) {
    let Some((r, map)) = decode::<CreateRequest>(body) else {
        return;
    };
    let _ = format!("{r:?}");
    let new_days = serde_json::from_slice::<CreateRequest>(body)
        .map(|r| r.into_new_key().validity_days)
        .ok()
        .flatten();
    assert_whole(map.get("validity_days"), new_days);
    create_ok(r);
}

fn rotate(body: &[u8]) {
    let Some((r, map)) = decode::<RotateRequest>(body) else {
        return;
    };
    assert_whole(map.get("grace_hours"), Some(r.grace_hours));
    assert_whole(map.get("validity_days"), r.validity_days);
    rotate_ok(&r);
}

fn patch(body: &[u8]) {
    let Some((r, map)) = decode::<PatchRequest>(body) else {
        return;
    };
    let _ = format!("{r:?}");
    let c = serde_json::from_slice::<PatchRequest>(body)
        .expect("read once already")
        .into_changes();
    // Absent leaves a field alone; `null` clears it.
    for (field, present, cleared) in [
        ("name", c.name.is_some(), matches!(c.name, Some(None))),
        ("scopes", c.scopes.is_some(), matches!(c.scopes, Some(None))),
        (
            "allowed_ips",
            c.allowed_ips.is_some(),
            matches!(c.allowed_ips, Some(None)),
        ),
    ] {
        assert_eq!(present, map.contains_key(field), "{field}");
        assert_eq!(cleared, map.get(field) == Some(&Value::Null), "{field}");
    }
    patch_ok(r);
}
