//! Key changes with their audit entries, atomically: the server's key manager acting for
//! someone.
//!
//! Every change to a key — create, rotate, revoke, PATCH, revoke-all — goes through
//! [`AuditedStore`], a [`KeyStore`](idunox_keys::KeyStore) over the server's
//! [`SqlKeyStore`](crate::db::SqlKeyStore) that runs each write in one
//! [`KeyTx`](idunox_keys_sqlx::KeyTx) and writes its audit entry ([`entries`]) in the same
//! transaction: the change and its entry commit together, or the request fails (503) and
//! nothing changed. The lifecycle rules stay the core's: a route takes [`App::keys_as`] — the
//! server's [`KeyManager`] (format, budget, policy, clock, rotations in progress) re-targeted at
//! an audited store for the request's actor — and calls its methods.
//!
//! ```ignore
//! // A partner's route:
//! let keys = app.keys_as(session.actor());
//! let revoked = keys.revoke(&tenant, &key_id).await?;
//! // A staff route: the same, with the staff actor; the entry joins the key's tenant's trail.
//! let keys = app.keys_as(staff.actor());
//! ```
//!
//! Reads (lists, one key) need no audit and use [`App::keys`] or the store directly.

pub mod audited;
pub mod entries;

use idunox_keys::KeyManager;

pub use audited::AuditedStore;

use crate::db::audit::Actor;
use crate::state::App;

impl App {
    /// The key manager acting for `actor`: every change it makes commits with its audit entry
    /// in the trail of the key's tenant.
    pub fn keys_as(&self, actor: Actor<'_>) -> KeyManager<AuditedStore> {
        self.keys
            .with_store(AuditedStore::new(self.keys.store().clone(), actor))
    }
}
