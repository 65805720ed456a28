//! The audit entries of key changes, one small function per action, each building the
//! [`NewEntry`] to write with [`audit::record`](crate::db::audit::record) on the change's own
//! transaction ([`AuditedStore`](super::AuditedStore) does; so may any other writer).
//!
//! | action | on | `detail` |
//! | --- | --- | --- |
//! | `credential.created` | the new key | `expires_at`, `name`, `scopes`, `allowed_ips` |
//! | `credential.rotated` | the predecessor | `successor`, `grace_expires_at`, the successor's `expires_at` (and the requested `grace_hours`, which the route adds) |
//! | `credential.revoked` | the key | `revoked_at` (and `via: "revoke_all"` from revoke-all) |
//! | `credential.updated` | the key | `fields` (the names of those changed), `before` and `after` (their values) |
//! | `tenant.keys_revoked` | — | `revoked` (how many) |
//!
//! Never a secret: names, scopes and CIDRs are labels and restrictions, not credentials. Times
//! are RFC 3339; the entry's own `at` is the instant of the change.

use idunox_keys::{Credential, KeyId, Rotation, TenantId};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::db::audit::{Action, Actor, NewEntry};
use crate::routes::credentials::view;
use crate::routes::rfc3339;

/// `scopes` as JSON: `null` or the names.
fn scopes(c: &Credential) -> Value {
    json!(c.scopes)
}

/// `allowed_ips` as JSON: `null` or the CIDRs.
fn allowed_ips(c: &Credential) -> Value {
    json!(view::allowed_ips(c))
}

/// `credential.created`, on the new key.
pub fn created<'a>(actor: Actor<'a>, c: &'a Credential) -> NewEntry<'a> {
    NewEntry::new(
        c.created_at.unix_timestamp(),
        c.tenant_id.as_str(),
        Some(actor),
        Action::CredentialCreated,
    )
    .credential(c.key_id.as_str())
    .detail(json!({
        "expires_at": rfc3339(c.expires_at),
        "name": c.name,
        "scopes": scopes(c),
        "allowed_ips": allowed_ips(c),
    }))
}

/// `credential.rotated`, on the predecessor, naming the successor.
pub fn rotated<'a>(actor: Actor<'a>, r: &'a Rotation) -> NewEntry<'a> {
    NewEntry::new(
        r.now.unix_timestamp(),
        r.tenant_id.as_str(),
        Some(actor),
        Action::CredentialRotated,
    )
    .credential(r.predecessor.as_str())
    .detail(json!({
        "successor": r.successor.key_id.as_str(),
        "grace_expires_at": rfc3339(r.grace_expires_at),
        "expires_at": rfc3339(r.successor.expires_at),
    }))
}

/// `credential.revoked`, on the key revoked at `revoked_at` (`via`: what revoked it, when not the
/// key's own revoke route, e.g. `"revoke_all"`).
pub fn revoked<'a>(
    actor: Actor<'a>,
    tenant: &'a TenantId,
    key_id: &'a KeyId,
    revoked_at: OffsetDateTime,
    via: Option<&str>,
) -> NewEntry<'a> {
    let mut detail = json!({ "revoked_at": rfc3339(revoked_at) });
    if let Some(via) = via {
        detail["via"] = json!(via);
    }
    NewEntry::new(
        revoked_at.unix_timestamp(),
        tenant.as_str(),
        Some(actor),
        Action::CredentialRevoked,
    )
    .credential(key_id.as_str())
    .detail(detail)
}

/// The fields a PATCH changed, with their values before and after: `(names, before, after)`.
pub fn changes(before: &Credential, after: &Credential) -> (Vec<&'static str>, Value, Value) {
    let mut fields = Vec::new();
    let (mut old, mut new) = (Map::new(), Map::new());
    let pairs = [
        ("name", json!(before.name), json!(after.name)),
        ("scopes", scopes(before), scopes(after)),
        ("allowed_ips", allowed_ips(before), allowed_ips(after)),
    ];
    for (field, b, a) in pairs {
        if b != a {
            fields.push(field);
            old.insert(field.into(), b);
            new.insert(field.into(), a);
        }
    }
    (fields, Value::Object(old), Value::Object(new))
}

/// `credential.updated` at `at`, or `None` when the PATCH changed nothing.
pub fn updated<'a>(
    actor: Actor<'a>,
    before: &Credential,
    after: &'a Credential,
    at: OffsetDateTime,
) -> Option<NewEntry<'a>> {
    let (fields, old, new) = changes(before, after);
    if fields.is_empty() {
        return None;
    }
    Some(
        NewEntry::new(
            at.unix_timestamp(),
            after.tenant_id.as_str(),
            Some(actor),
            Action::CredentialUpdated,
        )
        .credential(after.key_id.as_str())
        .detail(json!({ "fields": fields, "before": old, "after": new })),
    )
}

/// `tenant.keys_revoked`: revoke-all revoked `count` keys of `tenant` at `at`.
pub fn keys_revoked<'a>(
    actor: Actor<'a>,
    tenant: &'a TenantId,
    count: usize,
    at: OffsetDateTime,
) -> NewEntry<'a> {
    NewEntry::new(
        at.unix_timestamp(),
        tenant.as_str(),
        Some(actor),
        Action::TenantKeysRevoked,
    )
    .detail(json!({ "revoked": count }))
}
