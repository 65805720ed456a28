//! Password work for sign-in and password changes: argon2id off the async executor, at most
//! [`PasswordWork::slots`] runs at once (each default run holds 19 MiB), and a bounded wait for a
//! slot.
//!
//! - [`PasswordWork::slot`] is the one place that decides whether password work may start: it
//!   waits at most [`SLOT_WAIT`] for a slot, then refuses with 503 `service_unavailable` and
//!   `Retry-After: 1` instead of queueing without end.
//! - An unknown email is checked against a dummy hash made at start with the configured
//!   parameters, so it costs what a real user's check costs at those parameters, from the first
//!   attempt on.
//! - A correct password whose stored hash has weaker parameters than the configured ones is
//!   rehashed in the same slot ([`Checked::Matched::rehash`]); the caller stores the new hash in
//!   the sign-in's transaction. So raising `argon2` moves every active user to the new cost, and
//!   real users and unknown emails cost the same again.

use std::time::Duration;

use idunox_keys::SecretHasher;
use rocket::http::Status;
use tokio::sync::{Semaphore, SemaphorePermit};
use zeroize::Zeroizing;

use crate::error::ApiError;

/// The longest a password check waits for a slot before 503.
pub const SLOT_WAIT: Duration = Duration::from_secs(1);

/// The password hasher with its bound; see the [module docs](self).
pub struct PasswordWork {
    hasher: SecretHasher,
    dummy: String,
    slots: Semaphore,
    size: usize,
}

impl core::fmt::Debug for PasswordWork {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PasswordWork")
            .field("hasher", &self.hasher)
            .field("slots", &self.size)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`PasswordWork::check`].
#[derive(Clone, PartialEq, Eq)]
pub enum Checked {
    /// The password is right.
    Matched {
        /// A fresh hash at the configured parameters, when the stored one is weaker.
        rehash: Option<String>,
    },
    /// Wrong password, or no such user.
    Wrong,
}

impl core::fmt::Debug for Checked {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Matched { rehash } => f
                .debug_struct("Matched")
                .field("rehash", &rehash.is_some())
                .finish(),
            Self::Wrong => f.write_str("Wrong"),
        }
    }
}

impl PasswordWork {
    /// Password work with this hasher and `slots` concurrent runs; makes the dummy hash now.
    ///
    /// # Errors
    /// When the dummy hash cannot be made (no randomness).
    pub fn new(hasher: SecretHasher, slots: usize) -> Result<Self, String> {
        let dummy = hasher
            .hash(b"idunox-dummy-password")
            .map_err(|e| format!("cannot make the dummy password hash: {e}"))?;
        let size = slots.max(1);
        Ok(Self {
            hasher,
            dummy,
            slots: Semaphore::new(size),
            size,
        })
    }

    /// How many checks may run at once.
    pub fn slots(&self) -> usize {
        self.size
    }

    /// The hasher (its parameters are those of new hashes).
    pub fn hasher(&self) -> &SecretHasher {
        &self.hasher
    }

    /// Wait at most [`SLOT_WAIT`] for a slot.
    ///
    /// # Errors
    /// 503 `service_unavailable` with `Retry-After: 1` when none frees in time.
    pub async fn slot(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(SLOT_WAIT, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::new(
                Status::ServiceUnavailable,
                "service_unavailable",
                "Too many passwords are being checked right now; retry in a second.",
            )
            .retry_after(1)),
        }
    }

    /// Check `password` against the stored hash, or against the dummy for an unknown user
    /// (`None`), in one slot.
    ///
    /// # Errors
    /// 503 when no slot frees in time; 500 when the blocking task fails.
    pub async fn check(
        &self,
        password: &Zeroizing<String>,
        stored: Option<&str>,
    ) -> Result<Checked, ApiError> {
        let _slot = self.slot().await?;
        let hasher = self.hasher.clone();
        let pw = password.clone();
        let known = stored.is_some();
        let phc = stored.map_or_else(|| self.dummy.clone(), str::to_owned);
        tokio::task::spawn_blocking(move || {
            let matched = hasher.verify(pw.as_bytes(), &phc).unwrap_or(false);
            if !(matched && known) {
                return Checked::Wrong;
            }
            let rehash = hasher
                .needs_rehash(&phc)
                .then(|| hasher.hash(pw.as_bytes()).ok())
                .flatten();
            Checked::Matched { rehash }
        })
        .await
        .map_err(|_| ApiError::internal())
    }

    /// Hash a new password at the configured parameters, in one slot.
    ///
    /// # Errors
    /// 503 when no slot frees in time; 500 when hashing fails.
    pub async fn hash(&self, password: &Zeroizing<String>) -> Result<String, ApiError> {
        let _slot = self.slot().await?;
        let hasher = self.hasher.clone();
        let pw = password.clone();
        tokio::task::spawn_blocking(move || hasher.hash(pw.as_bytes()))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|_| ApiError::internal())
    }
}
