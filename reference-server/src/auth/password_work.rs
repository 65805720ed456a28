//! Password work for sign-in and password changes, on the process's one argon2 budget
//! ([`HashBudget`]), which key creation, rotation and cold key verification share.
//!
//! - The work runs on the budget's own threads, never on the async executor; past the budget's
//!   capacity a check is **refused at once** with 503 `service_unavailable` and `Retry-After`
//!   ([`busy`]), never queued behind a flood. (How many checks one client address may have in
//!   flight is bounded apart, in [`crate::auth::in_flight`].)
//! - An unknown email is checked against a dummy hash made at start with the configured
//!   parameters ([`HashBudget::prepare_dummy`]), so it costs what a real user's check costs at
//!   those parameters, from the first attempt on.
//! - A correct password whose stored hash has weaker parameters than the configured ones is
//!   rehashed ([`Checked::Matched::rehash`]); the caller stores the new hash in the sign-in's
//!   transaction. So raising `argon2` moves every active user to the new cost, and real users and
//!   unknown emails cost the same again. When the budget is full at that moment the rehash is
//!   left for the next sign-in: the sign-in itself succeeds.

use idunox_keys::{BudgetError, HashBudget, Priority, SecretHasher};
use rocket::http::Status;
use zeroize::Zeroizing;

use crate::error::ApiError;

/// The password checks and hashes of the server, on its argon2 budget; see the
/// [module docs](self).
#[derive(Clone)]
pub struct PasswordWork {
    budget: HashBudget,
}

impl core::fmt::Debug for PasswordWork {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PasswordWork")
            .field("budget", &self.budget)
            .finish()
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

/// 503 `service_unavailable` with `Retry-After`: the argon2 budget is spent.
pub fn busy(retry_after: u32) -> ApiError {
    ApiError::new(
        Status::ServiceUnavailable,
        "service_unavailable",
        "Too many passwords and keys are being hashed right now; retry in a moment.",
    )
    .retry_after(i64::from(retry_after))
}

/// A budget refusal as the HTTP answer: 503 when busy, 500 (logged) when hashing failed.
fn answer(e: BudgetError) -> ApiError {
    match e {
        BudgetError::Busy { retry_after } => busy(retry_after),
        other => {
            tracing::error!(error = %other, "password hashing failed");
            ApiError::internal()
        }
    }
}

impl PasswordWork {
    /// Password work on `budget` (whose dummy hash the server prepares at start).
    pub fn new(budget: HashBudget) -> Self {
        Self { budget }
    }

    /// The budget.
    pub fn budget(&self) -> &HashBudget {
        &self.budget
    }

    /// The hasher of new hashes (its parameters are the configured ones).
    pub fn hasher(&self) -> &SecretHasher {
        self.budget.hasher()
    }

    /// Check `password` against the stored hash, or against the dummy for an unknown user
    /// (`None`).
    ///
    /// # Errors
    /// 503 at once when the budget is full; 500 when hashing fails.
    pub async fn check(
        &self,
        password: &Zeroizing<String>,
        stored: Option<&str>,
    ) -> Result<Checked, ApiError> {
        let matched = match self
            .budget
            .verify_or_dummy(Priority::Normal, password.as_bytes(), stored)
            .await
        {
            Ok(matched) => matched,
            // A stored hash this process cannot read (malformed, or beyond the bounds of the
            // budget) matches nothing, like a wrong password.
            Err(BudgetError::Hash(_)) => false,
            Err(e) => return Err(answer(e)),
        };
        let Some(phc) = stored.filter(|_| matched) else {
            return Ok(Checked::Wrong);
        };
        let rehash = if self.hasher().needs_rehash(phc) {
            self.budget
                .hash(Priority::Normal, password.as_bytes())
                .await
                .ok()
        } else {
            None
        };
        Ok(Checked::Matched { rehash })
    }

    /// Hash a new password at the configured parameters.
    ///
    /// # Errors
    /// 503 at once when the budget is full; 500 when hashing fails.
    pub async fn hash(&self, password: &Zeroizing<String>) -> Result<String, ApiError> {
        self.budget
            .hash(Priority::Normal, password.as_bytes())
            .await
            .map_err(answer)
    }
}
