//! One budget for all argon2 work of a process: key creation and rotation, cold key
//! verification, sign-in, password changes (`docs/verification.md`, "Bounded work").
//!
//! The work runs on the budget's own named threads (`idunox-argon2-N`, by default one per core,
//! started on demand), never on an async executor. Each worker hashes into one block buffer of
//! its own, allocated at its first run and reused by every later one, so **argon2's memory is
//! bounded by `workers × m_cost`** (38 MiB on two cores at the default 19 MiB), whatever the burst:
//! a stored hash that asks for more memory than the configured cost gets a temporary buffer for
//! its run only, and one that asks for more than 256 MiB, 16 passes or 16 lanes (or the
//! configured cost, when higher) is refused unread ([`HashError::ExcessiveParams`]).
//!
//! Admission never waits: work beyond `capacity` (running plus queued) is **refused at once**
//! ([`BudgetError::Busy`], `503` + `Retry-After` at the HTTP edge), so a burst cannot build up
//! threads, memory or latency; queued work waits at most `capacity / workers` runs. A share of
//! the capacity, `reserved`, is kept for [`Priority::Known`] work (cold verification of keys
//! that have verified before), which is also taken from its queue first, so a flood of anything
//! else cannot take the data API down. Completion is an ordinary future (no runtime needed);
//! a caller that gives up frees its place (the job is skipped, or its result dropped). A job
//! that panics is caught and counted; the worker goes on. The workers stop when the last handle
//! is dropped.
//!
//! ```
//! use idunox_keys::budget::{BudgetSettings, HashBudget, Priority};
//! use idunox_keys::HashParams;
//! # futures_lite_block_on(async {
//! let budget = HashBudget::new(HashParams::INSECURE_FAST, BudgetSettings::default())?;
//! let phc = budget.hash(Priority::Normal, b"correct horse battery staple").await?;
//! assert!(budget.verify(Priority::Normal, b"correct horse battery staple", &phc).await?);
//! // An unknown account costs the same as a wrong password:
//! budget.prepare_dummy()?;
//! assert!(!budget.verify_or_dummy(Priority::Normal, b"guess", None).await?);
//! assert_eq!(budget.stats().verifications, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) }
//! ```

mod argon;
mod pool;

use core::fmt;
use std::sync::{Arc, OnceLock};

use futures_channel::oneshot;
use zeroize::Zeroizing;

pub use argon::{MAX_STORED_M_COST, MAX_STORED_P_COST, MAX_STORED_T_COST};
pub(crate) use pool::{Admission, Finish, Kind};

use self::argon::{Engine, Memory};
use self::pool::Pool;
use crate::error::{BudgetError, HashError};
use crate::hash::{HashParams, SecretHasher};

/// Who asks for argon2 work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Priority {
    /// Cold verification of a key id that has verified before: may use the reserved share, and
    /// is run before queued [`Normal`](Self::Normal) work.
    Known,
    /// Everything else: creation, rotation, sign-in, password change, first verifications.
    Normal,
}

/// How big the budget is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetSettings {
    /// argon2 runs at once: worker threads, each holding one buffer of the configured memory
    /// cost. Default: the number of cores.
    pub workers: usize,
    /// Runs admitted in all, running plus waiting for a worker; past it work is refused.
    /// Default: 4 per worker (at 15 ms a run, a wait of at most about 60 ms).
    pub capacity: usize,
    /// Of `capacity`, how many only [`Priority::Known`] work may use. Default: one per worker.
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

/// Counters of a [`HashBudget`], for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BudgetStats {
    /// Runs admitted now (running or queued).
    pub in_flight: usize,
    /// Of those, runs waiting for a worker.
    pub queued: usize,
    /// Runs refused since start ([`BudgetError::Busy`]).
    pub refused: u64,
    /// Hashes made since start.
    pub hashes: u64,
    /// Verifications run since start (whatever their answer).
    pub verifications: u64,
    /// Admitted runs that did not complete: their caller had gone, they panicked, or the budget
    /// was dropped with them queued.
    pub interrupted: u64,
}

/// The process's argon2 budget (see the [module docs](self)). Cheap to clone; clones share it.
#[derive(Clone)]
pub struct HashBudget {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    hasher: SecretHasher,
    settings: BudgetSettings,
    /// A hash of a fixed password at the configured parameters: what an unknown account is
    /// verified against ([`HashBudget::prepare_dummy`], or at first use). Shared with the job
    /// that may build it, which must not hold the budget itself.
    dummy: Arc<OnceLock<String>>,
}

/// The fixed password of the dummy hash.
const DUMMY: &[u8] = b"idunox-dummy-password";

impl HashBudget {
    /// A budget hashing with `params`. Settings are normalised: at least one worker and a
    /// capacity of at least one; `reserved` below `capacity`.
    ///
    /// # Errors
    /// [`HashError::InvalidParams`] when argon2 refuses the parameters.
    pub fn new(params: HashParams, settings: BudgetSettings) -> Result<Self, HashError> {
        let hasher = SecretHasher::new(params)?;
        let engine = Engine::new(params)?;
        let capacity = settings.capacity.max(1);
        let settings = BudgetSettings {
            workers: settings.workers.max(1),
            capacity,
            reserved: settings.reserved.min(capacity - 1),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                pool: Pool::new(engine, settings),
                hasher,
                settings,
                dummy: Arc::new(OnceLock::new()),
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
            let engine = &self.inner.pool.shared.engine;
            let mut memory = Memory::sized(engine.block_count());
            let h = engine.hash(DUMMY, &mut memory)?;
            let _ = self.inner.dummy.set(h);
        }
        Ok(())
    }

    /// A hasher with the budget's parameters (those of new hashes), for
    /// [`needs_rehash`](SecretHasher::needs_rehash).
    pub fn hasher(&self) -> &SecretHasher {
        &self.inner.hasher
    }

    /// The parameters of new hashes.
    pub fn params(&self) -> HashParams {
        self.inner.hasher.params()
    }

    /// The settings in force.
    pub fn settings(&self) -> BudgetSettings {
        self.inner.settings
    }

    /// Runs admitted now (running or queued).
    pub fn in_flight(&self) -> usize {
        self.stats().in_flight
    }

    /// Runs refused since start.
    pub fn refused(&self) -> u64 {
        self.stats().refused
    }

    /// Every counter at once.
    pub fn stats(&self) -> BudgetStats {
        self.inner.pool.stats()
    }

    /// Take a place in the budget or be refused at once (nothing is allocated before the
    /// answer).
    pub(crate) fn admit(&self, priority: Priority) -> Result<Admission, BudgetError> {
        self.inner.pool.admit(priority)
    }

    /// Queue an admitted job; it runs on a worker (crate-internal: the verifier's cold path
    /// completes its waiters from there).
    pub(crate) fn submit(
        &self,
        admission: Admission,
        kind: Kind,
        job: impl FnOnce(&mut Memory, &Engine, Finish) + Send + 'static,
    ) -> Result<(), BudgetError> {
        self.inner.pool.enqueue(admission, kind, Box::new(job))
    }

    /// Run `work` on a worker and wait for its answer; skipped if the caller has gone by then.
    async fn run<R: Send + 'static>(
        &self,
        admission: Admission,
        kind: Kind,
        work: impl FnOnce(&mut Memory, &Engine) -> R + Send + 'static,
    ) -> Result<R, BudgetError> {
        let (tx, rx) = oneshot::channel();
        self.submit(admission, kind, move |memory, engine, finish| {
            if tx.is_canceled() {
                return finish.done(false);
            }
            let result = work(memory, engine);
            finish.done(true);
            let _ = tx.send(result);
        })?;
        rx.await
            .map_err(|_| BudgetError::Hash(HashError::Interrupted))
    }

    /// Hash `secret` at the configured parameters (argon2id, a fresh 16-byte salt): a PHC
    /// string.
    ///
    /// # Errors
    /// [`BudgetError::Busy`] past the budget; [`BudgetError::Hash`] when hashing fails.
    pub async fn hash(&self, priority: Priority, secret: &[u8]) -> Result<String, BudgetError> {
        let admission = self.admit(priority)?;
        let secret = Zeroizing::new(secret.to_vec());
        Ok(self
            .run(admission, Kind::Hash, move |memory, engine| {
                engine.hash(&secret, memory)
            })
            .await??)
    }

    /// Whether `secret` matches `phc`, at the parameters written in `phc`.
    ///
    /// # Errors
    /// [`BudgetError::Busy`] past the budget; [`BudgetError::Hash`] for a malformed `phc`
    /// ([`HashError::MalformedHash`]) or one beyond the bounds ([`HashError::ExcessiveParams`]).
    pub async fn verify(
        &self,
        priority: Priority,
        secret: &[u8],
        phc: &str,
    ) -> Result<bool, BudgetError> {
        let admission = self.admit(priority)?;
        let secret = Zeroizing::new(secret.to_vec());
        let phc = phc.to_owned();
        Ok(self
            .run(admission, Kind::Verify, move |memory, engine| {
                engine.verify(&secret, &phc, memory)
            })
            .await??)
    }

    /// Sign-in's check: verify against `phc`, or — for an unknown account (`None`) — against a
    /// dummy hash at the configured parameters ([`prepare_dummy`](Self::prepare_dummy), else
    /// built by the first such check) and answer `false`: the same cost and the same answer as
    /// a wrong password at the current parameters.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub async fn verify_or_dummy(
        &self,
        priority: Priority,
        secret: &[u8],
        phc: Option<&str>,
    ) -> Result<bool, BudgetError> {
        if let Some(phc) = phc {
            return self.verify(priority, secret, phc).await;
        }
        let admission = self.admit(priority)?;
        let secret = Zeroizing::new(secret.to_vec());
        let dummy = Arc::clone(&self.inner.dummy);
        self.run(admission, Kind::Verify, move |memory, engine| {
            let dummy = match dummy.get() {
                Some(d) => d,
                None => {
                    let made = engine.hash(DUMMY, memory)?;
                    dummy.get_or_init(|| made)
                }
            };
            engine.verify(&secret, dummy, memory).map(|_| false)
        })
        .await?
        .map_err(BudgetError::Hash)
    }

    /// Test gate: while paused, admitted work waits in the queues.
    #[cfg(test)]
    pub(crate) fn set_paused(&self, paused: bool) {
        self.inner.pool.set_paused(paused);
    }

    #[cfg(test)]
    pub(crate) fn take_threads(&self) -> Vec<std::thread::JoinHandle<()>> {
        self.inner.pool.take_threads()
    }
}

impl fmt::Debug for HashBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashBudget")
            .field("params", &self.params())
            .field("settings", &self.inner.settings)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
