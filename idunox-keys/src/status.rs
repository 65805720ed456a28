//! The status of a credential at an instant (`docs/lifecycle.md`).
//!
//! ```
//! use idunox_keys::Status;
//! assert_eq!(Status::Grace.as_str(), "grace");
//! assert!(Status::Expiring.is_accepted());
//! assert!(!Status::Revoked.is_accepted());
//! ```

use core::fmt;
use core::str::FromStr;

use time::{Duration, OffsetDateTime};

use crate::credential::Credential;

/// Where a credential stands at a given instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Not revoked, not superseded, `now < expires_at - expiring_window`.
    Active,
    /// Not revoked, not superseded, within the expiring window of `expires_at`.
    Expiring,
    /// Superseded by a rotation and `now < grace_expires_at`: still accepted.
    Grace,
    /// Revoked: refused at once.
    Revoked,
    /// `now >= expires_at`, or a grace window that has ended: refused.
    Expired,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::Expiring,
        Self::Grace,
        Self::Revoked,
        Self::Expired,
    ];

    /// The lowercase name used in the HTTP API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expiring => "expiring",
            Self::Grace => "grace",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    /// Whether a key in this status is accepted (active, expiring, grace).
    pub const fn is_accepted(self) -> bool {
        matches!(self, Self::Active | Self::Expiring | Self::Grace)
    }

    /// Whether a key in this status may be rotated (active, expiring).
    pub const fn is_rotatable(self) -> bool {
        matches!(self, Self::Active | Self::Expiring)
    }

    /// The status of `cred` at `now`, with this expiring window.
    ///
    /// Precedence: revoked, then superseded (grace or expired), then expired, expiring, active.
    pub fn of(cred: &Credential, now: OffsetDateTime, expiring_window: Duration) -> Self {
        if cred.revoked_at.is_some() {
            return Self::Revoked;
        }
        if cred.replaced_by.is_some() {
            // A superseded credential without a grace end is treated as ended.
            return match cred.grace_expires_at {
                Some(end) if now < end && now < cred.expires_at => Self::Grace,
                _ => Self::Expired,
            };
        }
        if now >= cred.expires_at {
            Self::Expired
        } else if now >= cred.expires_at - expiring_window {
            Self::Expiring
        } else {
            Self::Active
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownStatus;

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not one of active, expiring, grace, revoked, expired")
    }
}

impl std::error::Error for UnknownStatus {}

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or(UnknownStatus)
    }
}
