//! [`VerifiedKey`]: what a successful verification hands to the application.

use core::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::credential::Credential;
use crate::error::Refusal;
use crate::key::KeyId;
use crate::restrictions::IpNet;
use crate::status::Status;
use crate::tenant::TenantId;

/// A key that passed verification: who it belongs to, where it stands, what it may do.
///
/// Cheap to clone: the masked key, name, scopes and allow-list are read from the shared record
/// ([`masked_key`](Self::masked_key), [`name`](Self::name), [`scopes`](Self::scopes),
/// [`allowed_ips`](Self::allowed_ips)), not copied per request. Two are equal when every fact
/// they expose is.
#[derive(Clone)]
#[non_exhaustive]
pub struct VerifiedKey {
    /// The owning tenant.
    pub tenant_id: TenantId,
    /// The key id (also the credential id).
    pub key_id: KeyId,
    /// `active`, `expiring` or `grace`.
    pub status: Status,
    /// When the key stops being accepted.
    pub expires_at: OffsetDateTime,
    /// End of the rotation overlap, for a key in grace.
    pub grace_expires_at: Option<OffsetDateTime>,
    record: Arc<Credential>,
}

impl VerifiedKey {
    /// The verified key of `record` in `status` (an accepted one).
    pub(crate) fn new(record: Arc<Credential>, status: Status) -> Self {
        Self {
            tenant_id: record.tenant_id.clone(),
            key_id: record.key_id,
            status,
            expires_at: record.expires_at,
            grace_expires_at: record.grace_expires_at,
            record,
        }
    }

    /// `idx_test_<key_id>_••••`.
    pub fn masked_key(&self) -> &str {
        &self.record.masked_key
    }

    /// The key's name, if any.
    pub fn name(&self) -> Option<&str> {
        self.record.name.as_deref()
    }

    /// The scopes the key carries, or `None` for an unrestricted key.
    pub fn scopes(&self) -> Option<&[String]> {
        self.record.scopes.as_deref()
    }

    /// The networks the key may be used from, or `None` for any address.
    pub fn allowed_ips(&self) -> Option<&[IpNet]> {
        self.record.allowed_ips.as_deref()
    }

    /// Whether the key carries `scope` (an unrestricted key carries every scope; names match
    /// exactly).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.record.has_scope(scope)
    }

    /// Whether the key may be used from `addr` (no allow-list, or inside it; IPv4-mapped IPv6
    /// addresses count as IPv4).
    pub fn allows_ip(&self, addr: IpAddr) -> bool {
        self.record.allows_ip(addr)
    }

    /// [`Refusal::IpNotAllowed`] unless the key may be used from `addr`; a key with an
    /// allow-list is refused when the address is unknown (`None`).
    ///
    /// # Errors
    /// [`Refusal::IpNotAllowed`].
    pub fn check_ip(&self, addr: Option<IpAddr>) -> Result<(), Refusal> {
        let allowed = match addr {
            Some(addr) => self.allows_ip(addr),
            None => self.record.allowed_ips.is_none(),
        };
        if allowed {
            Ok(())
        } else {
            Err(Refusal::IpNotAllowed)
        }
    }

    /// [`Refusal::InsufficientScope`] unless the key carries `scope`.
    ///
    /// # Errors
    /// [`Refusal::InsufficientScope`] naming `scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), Refusal> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(Refusal::InsufficientScope {
                scope: scope.to_owned(),
            })
        }
    }
}

impl PartialEq for VerifiedKey {
    fn eq(&self, other: &Self) -> bool {
        self.tenant_id == other.tenant_id
            && self.key_id == other.key_id
            && self.status == other.status
            && self.expires_at == other.expires_at
            && self.grace_expires_at == other.grace_expires_at
            && self.masked_key() == other.masked_key()
            && self.name() == other.name()
            && self.scopes() == other.scopes()
            && self.allowed_ips() == other.allowed_ips()
    }
}

impl Eq for VerifiedKey {}

impl fmt::Debug for VerifiedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedKey")
            .field("tenant_id", &self.tenant_id)
            .field("key_id", &self.key_id)
            .field("status", &self.status)
            .field("expires_at", &self.expires_at)
            .field("grace_expires_at", &self.grace_expires_at)
            .field("masked_key", &self.masked_key())
            .field("name", &self.name())
            .field("scopes", &self.scopes())
            .field("allowed_ips", &self.allowed_ips())
            .finish()
    }
}
