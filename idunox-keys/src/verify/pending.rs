//! [`Pending`]: the part of a verification that waits — a store read, or a cold (argon2) secret
//! check under the budget and the per-key-id fairness rules.

use core::fmt;
use std::sync::Arc;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{Decision, VerifiedKey, Verifier};
use crate::budget::{Kind, Priority};
use crate::credential::Credential;
use crate::error::{BudgetError, HashError, InvalidKey, Overload, Refusal};
use crate::fairness::{Completion, Join, Outcome};
use crate::key::{KeyId, PresentedKey};
use crate::store::KeyStore;

/// A verification that must wait; made by [`Verifier::check`], finished by
/// [`finish`](Self::finish). It owns the parsed key (its secret is zeroed when it is dropped)
/// and a handle on the verifier, so it is `'static` and `Send`: a middleware may box it once.
pub struct Pending<S> {
    verifier: Verifier<S>,
    key: PresentedKey,
    stage: Stage,
}

enum Stage {
    /// The record must be read from the store.
    Store,
    /// The record is known and the secret is not remembered: argon2.
    Cold {
        record: Arc<Credential>,
        digest: [u8; 32],
        now: OffsetDateTime,
    },
}

impl<S> Pending<S> {
    pub(super) fn store(verifier: Verifier<S>, key: PresentedKey) -> Self {
        Self {
            verifier,
            key,
            stage: Stage::Store,
        }
    }

    pub(super) fn cold(
        verifier: Verifier<S>,
        key: PresentedKey,
        record: Arc<Credential>,
        digest: [u8; 32],
        now: OffsetDateTime,
    ) -> Self {
        Self {
            verifier,
            key,
            stage: Stage::Cold {
                record,
                digest,
                now,
            },
        }
    }

    /// The presented key's id (public: fit for logs).
    pub fn key_id(&self) -> KeyId {
        self.key.key_id()
    }

    /// Whether the store has to be read (otherwise the secret is checked with argon2).
    pub fn needs_store(&self) -> bool {
        matches!(self.stage, Stage::Store)
    }
}

impl<S: KeyStore> Pending<S> {
    /// Finish the verification.
    ///
    /// # Errors
    /// As [`Verifier::verify`].
    pub async fn finish(self) -> Result<VerifiedKey, Refusal> {
        let Self {
            verifier,
            key,
            stage,
        } = self;
        let (record, digest, now) = match stage {
            Stage::Cold {
                record,
                digest,
                now,
            } => (record, digest, now),
            Stage::Store => {
                let key_id = key.key_id();
                let record = verifier
                    .read_store(&key_id)
                    .await?
                    .ok_or(Refusal::Invalid(InvalidKey::UnknownKeyId))?;
                let inner = &*verifier.inner;
                let digest = inner.cache.digest(&key_id, key.secret());
                let now = inner.clock.now();
                // Warm after all (or refused without argon2)?
                match verifier.decide(record, &digest, now) {
                    Decision::Answer(answer) => return answer,
                    Decision::Cold(record) => (record, digest, now),
                }
            }
        };
        verifier.cold(&key, record, digest, now).await
    }
}

impl<S: KeyStore> Verifier<S> {
    /// Step 3, cold: one argon2 run per key id at a time, within its failure budget, under the
    /// process's budget.
    async fn cold(
        &self,
        key: &PresentedKey,
        record: Arc<Credential>,
        digest: [u8; 32],
        now: OffsetDateTime,
    ) -> Result<VerifiedKey, Refusal> {
        let inner = &*self.inner;
        let key_id = record.key_id;
        let priority = if record.last_used_at.is_some() || inner.fairness.is_known(&key_id) {
            Priority::Known
        } else {
            Priority::Normal
        };
        let (outcome, leads) = match inner.fairness.join(key_id, digest, now) {
            Join::Lead(rx) => {
                self.submit_cold(key, &record, digest, now, priority)?;
                (rx, true)
            }
            Join::Wait(rx) => (rx, false),
            Join::Busy => return Err(Refusal::Overloaded(Overload::KeyBusy)),
            Join::CoolingDown(retry_after) => {
                return Err(Refusal::Overloaded(Overload::KeyCoolingDown {
                    retry_after,
                }));
            }
        };
        match outcome
            .await
            .unwrap_or(Outcome::Failed(HashError::Interrupted))
        {
            Outcome::Ran(true) => {}
            Outcome::Ran(false) => return Err(Refusal::Invalid(InvalidKey::WrongSecret)),
            // The run was refused or lost (budget full, worker gone): try again shortly.
            Outcome::Failed(HashError::Interrupted) => {
                return Err(Refusal::Overloaded(Overload::Budget { retry_after: 1 }));
            }
            Outcome::Failed(_) => return Err(Refusal::Invalid(InvalidKey::UnusableHash)),
        }
        if leads {
            self.upgrade_hash(key, &record, priority).await;
        }
        let answer = self.accept(record, now);
        if leads && answer.is_ok() {
            inner.store.touch(&[(key_id, now)]);
        }
        answer
    }

    /// Admit the argon2 run of a led verification; its outcome reaches every waiter from the
    /// worker (or, if the run is lost, from the job's drop).
    fn submit_cold(
        &self,
        key: &PresentedKey,
        record: &Credential,
        digest: [u8; 32],
        now: OffsetDateTime,
        priority: Priority,
    ) -> Result<(), Refusal> {
        let inner = &*self.inner;
        let key_id = record.key_id;
        // Refused: release the id (and anyone who joined meanwhile) at once, before anything
        // is allocated for the run.
        let admission = match inner.budget.admit(priority) {
            Ok(a) => a,
            Err(e) => {
                inner
                    .fairness
                    .complete(&key_id, Outcome::Failed(HashError::Interrupted), now);
                return Err(overloaded(e));
            }
        };
        let (fairness, cache) = (Arc::clone(&inner.fairness), Arc::clone(&inner.cache));
        let done = Completion::new(move |outcome| {
            if outcome == Outcome::Ran(true) {
                cache.remember(&key_id, digest, now);
            }
            fairness.complete(&key_id, outcome, now);
        });
        let secret = Zeroizing::new(*key.secret());
        let phc = record.secret_hash.clone();
        let submitted =
            inner
                .budget
                .submit(admission, Kind::Verify, move |memory, engine, finish| {
                    let outcome = match engine.verify(&*secret, &phc, memory) {
                        Ok(matched) => Outcome::Ran(matched),
                        Err(e) => Outcome::Failed(e),
                    };
                    finish.done(true);
                    done.finish(outcome);
                });
        // Not queued (no worker could start): the job and its completion were dropped, which
        // released the waiters.
        submitted.map_err(overloaded)
    }

    /// The secret is at hand only now: an outdated hash is replaced here or not until the next
    /// cold verification. Best effort, like the last-used write.
    async fn upgrade_hash(&self, key: &PresentedKey, record: &Credential, priority: Priority) {
        let inner = &*self.inner;
        if inner.upgrade
            && inner.budget.hasher().needs_rehash(&record.secret_hash)
            && let Ok(new_hash) = inner.budget.hash(priority, key.secret()).await
        {
            let _ = inner
                .store
                .replace_hash(&record.key_id, &record.secret_hash, new_hash)
                .await;
        }
    }
}

/// A budget refusal as the client hears it: try again shortly.
fn overloaded(e: BudgetError) -> Refusal {
    Refusal::Overloaded(Overload::Budget {
        retry_after: match e {
            BudgetError::Busy { retry_after } => retry_after,
            BudgetError::Hash(_) => 1,
        },
    })
}

impl<S> fmt::Debug for Pending<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("key_id", &self.key.key_id())
            .field("needs_store", &self.needs_store())
            .finish_non_exhaustive()
    }
}
