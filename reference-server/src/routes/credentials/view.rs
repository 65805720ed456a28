//! [`CredentialView`]: a credential as the API shows it, the Credential object of
//! `docs/http-api.md`.

use idunox_keys::Credential;
use serde::Serialize;

use crate::routes::rfc3339;
use crate::state::App;

/// The Credential object: every fact of the record but its hash, at the server's current time.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CredentialView {
    id: String,
    name: Option<String>,
    masked_key: String,
    status: &'static str,
    created_at: String,
    expires_at: String,
    expires_in_days: Option<i64>,
    grace_expires_at: Option<String>,
    revoked_at: Option<String>,
    replaced_by: Option<String>,
    replaces: Option<String>,
    last_used_at: Option<String>,
    scopes: Option<Vec<String>>,
    allowed_ips: Option<Vec<String>>,
}

impl CredentialView {
    /// `revoked_at`, as shown.
    pub fn revoked_at(&self) -> Option<&str> {
        self.revoked_at.as_deref()
    }

    /// `grace_expires_at`, as shown.
    pub fn grace_expires_at(&self) -> Option<&str> {
        self.grace_expires_at.as_deref()
    }

    /// The view of `c` at the server's current time.
    pub fn new(app: &App, c: &Credential) -> Self {
        let now = app.now();
        let window = app.keys.policy().expiring_window;
        Self {
            id: c.key_id.to_string(),
            name: c.name.clone(),
            masked_key: c.masked_key.clone(),
            status: c.status_at(now, window).as_str(),
            created_at: rfc3339(c.created_at),
            expires_at: rfc3339(c.expires_at),
            expires_in_days: c.expires_in_days(now, window),
            grace_expires_at: c.grace_expires_at.map(rfc3339),
            revoked_at: c.revoked_at.map(rfc3339),
            replaced_by: c.replaced_by.map(|k| k.to_string()),
            replaces: c.replaces.map(|k| k.to_string()),
            last_used_at: c.last_used_at.map(rfc3339),
            scopes: c.scopes.clone(),
            allowed_ips: allowed_ips(c),
        }
    }
}

/// A key's allow-list as the API shows it: CIDR text (`203.0.113.7/32` for one host), or `None`
/// for any address.
pub fn allowed_ips(c: &Credential) -> Option<Vec<String>> {
    c.allowed_ips
        .as_ref()
        .map(|l| l.iter().map(ToString::to_string).collect())
}
