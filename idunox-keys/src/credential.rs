//! The stored record of one API key: everything but its secret.

use core::fmt;
use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use crate::key::KeyId;
use crate::restrictions::{self, IpNet};
use crate::status::Status;
use crate::tenant::TenantId;

/// One API key as a store keeps it: public facts and the argon2id PHC string of its secret.
///
/// `Debug` leaves the hash out. Fields are public so that store implementations can build and
/// read it; the lifecycle rules live in [`KeyManager`](crate::KeyManager) and [`Status::of`].
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// Public id, also the credential id in URLs.
    pub key_id: KeyId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Optional name, at most 100 characters, stored verbatim.
    pub name: Option<String>,
    /// `idx_test_<key_id>_••••`.
    pub masked_key: String,
    /// argon2id PHC string of the secret.
    pub secret_hash: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
    /// End of the rotation overlap, once superseded.
    pub grace_expires_at: Option<OffsetDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// The successor, once rotated.
    pub replaced_by: Option<KeyId>,
    /// The predecessor, for a key made by rotation.
    pub replaces: Option<KeyId>,
    /// Last accepted use (coalesced: updated at most once per interval).
    pub last_used_at: Option<OffsetDateTime>,
    /// The scopes this key carries (a non-empty subset of the catalogue), or `None` for an
    /// unrestricted key (see [`restrictions`](crate::restrictions)).
    pub scopes: Option<Vec<String>>,
    /// The networks this key may be used from (1 to 50), or `None` for any address.
    pub allowed_ips: Option<Vec<IpNet>>,
}

impl Credential {
    /// The status at `now` (see [`Status::of`]).
    pub fn status_at(&self, now: OffsetDateTime, expiring_window: Duration) -> Status {
        Status::of(self, now, expiring_window)
    }

    /// Whether the key may be used from `addr`: no allow-list, or `addr` inside one of its
    /// networks (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn allows_ip(&self, addr: IpAddr) -> bool {
        self.allowed_ips
            .as_deref()
            .is_none_or(|list| restrictions::allows(list, addr))
    }

    /// Whether the key carries `scope`: an unrestricted key carries every scope; a restricted
    /// one only those it lists (exact match).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes
            .as_deref()
            .is_none_or(|list| list.iter().any(|s| s == scope))
    }

    /// Whether the key is restricted at all (scopes or an allow-list).
    pub fn is_restricted(&self) -> bool {
        self.scopes.is_some() || self.allowed_ips.is_some()
    }

    /// Whole days until `expires_at` (rounded up), or `None` once revoked or expired.
    pub fn expires_in_days(&self, now: OffsetDateTime, expiring_window: Duration) -> Option<i64> {
        match self.status_at(now, expiring_window) {
            Status::Revoked | Status::Expired => None,
            _ => {
                let end = match self.grace_expires_at {
                    Some(g) if self.replaced_by.is_some() => g.min(self.expires_at),
                    _ => self.expires_at,
                };
                let secs = (end - now).whole_seconds().max(0);
                Some((secs + 86_399) / 86_400)
            }
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("key_id", &self.key_id)
            .field("tenant_id", &self.tenant_id)
            .field("name", &self.name)
            .field("masked_key", &self.masked_key)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("grace_expires_at", &self.grace_expires_at)
            .field("revoked_at", &self.revoked_at)
            .field("replaced_by", &self.replaced_by)
            .field("replaces", &self.replaces)
            .field("last_used_at", &self.last_used_at)
            .field("scopes", &self.scopes)
            .field("allowed_ips", &self.allowed_ips)
            .finish_non_exhaustive()
    }
}
