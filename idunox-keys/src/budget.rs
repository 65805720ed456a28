//! One budget for all argon2 work of a process: key creation and rotation, cold key
//! verification, sign-in, password changes (`docs/verification.md`, "Bounded work").
//!
//! Each argon2 run holds its memory cost (19 MiB at the defaults) for about 15 ms of CPU. Work
//! beyond the budget is **refused at once** ([`BudgetError::Busy`], `503` + `Retry-After` at the
//! HTTP edge) instead of queued, so a burst cannot build up threads, memory or latency. A share
//! of the budget is kept for [`Priority::Known`] work (cold verification of keys that have
//! verified before), so a flood of anything else cannot take the data API down.
//!
//! ```
//! use idunox_keys::budget::{BudgetSettings, HashBudget, Priority};
//! use idunox_keys::HashParams;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let budget = HashBudget::new(HashParams::INSECURE_FAST, BudgetSettings::default())?;
//! let phc = budget.hash(Priority::Normal, b"correct horse battery staple").await?;
//! assert!(budget.verify(Priority::Normal, b"correct horse battery staple", &phc).await?);
//! // An unknown account costs the same as a wrong password:
//! assert!(!budget.verify_or_dummy(Priority::Normal, b"guess", None).await?);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use zeroize::Zeroizing;

use crate::blocking::run_blocking;
use crate::error::{BudgetError, HashError};
use crate::hash::{HashParams, SecretHasher};

/// Who asks for argon2 work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Priority {
    /// Cold verification of a key id that has verified before: may use the reserved share.
    Known,
    /// Everything else: creation, rotation, sign-in, password change, first verifications.
    Normal,
}

/// How big the budget is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetSettings {
    /// argon2 runs at once (each holds its memory cost). Default: the number of cores.
    pub workers: usize,
    /// Runs admitted in all, running plus waiting for a worker; past it work is refused.
    /// Default: 4 per worker (at 15 ms a run, a wait of at most about 60 ms).
    pub capacity: usize,
    /// Of `capacity`, how many only [`Priority::Known`] work may use. Default: a quarter.
    pub reserved: usize,
}

impl Default for BudgetSettings {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            workers,
            capacity: workers * 4,
            reserved: workers,
        }
    }
}

/// The process's argon2 budget (see the [module docs](self)). Cheap to clone; clones share it.
#[derive(Clone)]
pub struct HashBudget {
    inner: Arc<Inner>,
}

struct Inner {
    hasher: SecretHasher,
    settings: BudgetSettings,
    /// A hash of a fixed password at the configured parameters: what an unknown account is
    /// verified against, built once ([`HashBudget::prepare_dummy`], or at first use).
    dummy: OnceLock<String>,
    in_flight: AtomicUsize,
    refused: AtomicU64,
}

/// One admitted run; frees its slot when dropped.
struct Slot(Arc<Inner>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashBudget {
    /// A budget hashing with `params`.
    ///
    /// # Errors
    /// [`HashError::InvalidParams`] when argon2 refuses them.
    pub fn new(params: HashParams, settings: BudgetSettings) -> Result<Self, HashError> {
        let hasher = SecretHasher::new(params)?;
        let settings = BudgetSettings {
            workers: settings.workers.max(1),
            capacity: settings.capacity.max(1),
            reserved: settings.reserved.min(settings.capacity.saturating_sub(1)),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                hasher,
                settings,
                dummy: OnceLock::new(),
                in_flight: AtomicUsize::new(0),
                refused: AtomicU64::new(0),
            }),
        })
    }

    /// Build the dummy hash of [`verify_or_dummy`](Self::verify_or_dummy) now (one hash at the
    /// configured parameters, on this thread), so that the first unknown-account check after
    /// start costs what every later one costs. A server calls it once at start.
    ///
    /// # Errors
    /// [`HashError::Randomness`] when no salt can be drawn.
    pub fn prepare_dummy(&self) -> Result<(), HashError> {
        if self.inner.dummy.get().is_none() {
            let h = self.inner.hasher.hash(b"idunox-dummy-password")?;
            let _ = self.inner.dummy.set(h);
        }
        Ok(())
    }

    /// The hasher (its parameters are those of new hashes).
    pub fn hasher(&self) -> &SecretHasher {
        &self.inner.hasher
    }

    /// The settings in force.
    pub fn settings(&self) -> BudgetSettings {
        self.inner.settings
    }

    /// Runs admitted now (running or waiting).
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// Runs refused since start.
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    fn admit(&self, priority: Priority) -> Result<Slot, BudgetError> {
        let s = self.inner.settings;
        let max = match priority {
            Priority::Known => s.capacity,
            Priority::Normal => s.capacity - s.reserved,
        };
        match self
            .inner
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            }) {
            Ok(_) => Ok(Slot(Arc::clone(&self.inner))),
            Err(_) => {
                self.inner.refused.fetch_add(1, Ordering::Relaxed);
                Err(BudgetError::Busy { retry_after: 1 })
            }
        }
    }

    async fn run<R: Send + 'static>(
        &self,
        priority: Priority,
        job: impl FnOnce(&SecretHasher) -> R + Send + 'static,
    ) -> Result<R, BudgetError> {
        let slot = self.admit(priority)?;
        let hasher = self.inner.hasher.clone();
        run_blocking(move || {
            let _slot = slot;
            job(&hasher)
        })
        .await
        .ok_or(BudgetError::Hash(HashError::Interrupted))
    }

    /// Hash `secret` at the configured parameters.
    ///
    /// # Errors
    /// [`BudgetError::Busy`] past the budget; [`BudgetError::Hash`] when hashing fails.
    pub async fn hash(&self, priority: Priority, secret: &[u8]) -> Result<String, BudgetError> {
        let secret = Zeroizing::new(secret.to_vec());
        Ok(self.run(priority, move |h| h.hash(&secret)).await??)
    }

    /// Whether `secret` matches `phc` (at the parameters written in `phc`).
    ///
    /// # Errors
    /// [`BudgetError::Busy`] past the budget; [`BudgetError::Hash`] for a malformed `phc`.
    pub async fn verify(
        &self,
        priority: Priority,
        secret: &[u8],
        phc: &str,
    ) -> Result<bool, BudgetError> {
        let secret = Zeroizing::new(secret.to_vec());
        let phc = phc.to_owned();
        Ok(self
            .run(priority, move |h| h.verify(&secret, &phc))
            .await??)
    }

    /// Sign-in's check: verify against `phc`, or — for an unknown account (`None`) — against a
    /// dummy hash at the configured parameters, built at start, and answer `false`: the same
    /// cost and the same answer as a wrong password.
    ///
    /// # Errors
    /// [`BudgetError::Busy`] past the budget; [`BudgetError::Hash`] for a malformed `phc`.
    pub async fn verify_or_dummy(
        &self,
        priority: Priority,
        secret: &[u8],
        phc: Option<&str>,
    ) -> Result<bool, BudgetError> {
        match phc {
            Some(phc) => self.verify(priority, secret, phc).await,
            None => {
                if self.inner.dummy.get().is_none() {
                    let hasher = self.inner.hasher.clone();
                    let made = self.run(priority, move |_| hasher.hash(b"idunox-dummy-password"));
                    let _ = self.inner.dummy.set(made.await??);
                }
                let dummy = self.inner.dummy.get().cloned().unwrap_or_default();
                self.verify(priority, secret, &dummy).await.map(|_| false)
            }
        }
    }
}

impl fmt::Debug for HashBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashBudget")
            .field("params", &self.inner.hasher.params())
            .field("settings", &self.inner.settings)
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}
