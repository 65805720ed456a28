//! The budget's workers: named threads, each with its own argon2 memory, fed from two queues
//! (work for keys that verified before first), with admission that never waits.
//!
//! A job is admitted only while fewer than `capacity` jobs are admitted (running or queued) —
//! `capacity - reserved` for [`Priority::Normal`] — and refused at once otherwise. It holds its
//! slot until it has run, been dropped unrun (its caller gave up), or panicked: a panic is
//! caught, counted, and the worker goes on. Workers start on demand, up to `workers`, and stop
//! when the last [`HashBudget`](super::HashBudget) handle is dropped.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::argon::{Engine, Memory};
use super::{BudgetSettings, BudgetStats, Priority};
use crate::error::{BudgetError, HashError};

/// What a worker runs, given the worker's memory, the engine and its [`Finish`], which it must
/// call before it hands its result over (so that a caller holding the result sees the budget's
/// counters and slots already updated).
pub(crate) type Job = Box<dyn FnOnce(&mut Memory, &Engine, Finish) + Send>;

/// Which counter a finished job adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Hash,
    Verify,
}

struct Queued {
    job: Job,
    kind: Kind,
    slot: Slot,
}

/// A running job's end: counts it and gives its slot back, once. Dropped without
/// [`done`](Self::done) (the job panicked, or returned without calling it), it counts the run
/// as interrupted.
pub(crate) struct Finish {
    shared: Arc<Shared>,
    kind: Kind,
    slot: Option<Slot>,
}

impl Finish {
    /// The job ran (`true`) or found nothing to do because its caller had gone (`false`).
    pub(crate) fn done(mut self, ran: bool) {
        self.count(ran);
    }

    fn count(&mut self, ran: bool) {
        if let Some(slot) = self.slot.take() {
            let counter = match (ran, self.kind) {
                (true, Kind::Hash) => &self.shared.hashes,
                (true, Kind::Verify) => &self.shared.verifications,
                (false, _) => &self.shared.interrupted,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            drop(slot);
        }
    }
}

impl Drop for Finish {
    fn drop(&mut self) {
        self.count(false);
    }
}

#[derive(Default)]
struct Queues {
    known: VecDeque<Queued>,
    normal: VecDeque<Queued>,
    /// Threads started (alive or about to be).
    started: usize,
    /// Threads waiting for work.
    idle: usize,
    closed: bool,
    #[cfg(test)]
    paused: bool,
}

impl Queues {
    fn pop(&mut self) -> Option<Queued> {
        #[cfg(test)]
        if self.paused {
            return None;
        }
        self.known.pop_front().or_else(|| self.normal.pop_front())
    }
}

pub(crate) struct Shared {
    settings: BudgetSettings,
    pub(crate) engine: Engine,
    queues: Mutex<Queues>,
    work: Condvar,
    admitted: AtomicUsize,
    queued: AtomicUsize,
    refused: AtomicU64,
    hashes: AtomicU64,
    verifications: AtomicU64,
    interrupted: AtomicU64,
    #[cfg(test)]
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// One admitted job's place in the budget; given back when dropped.
struct Slot(Arc<Shared>);

/// A place taken in the budget, for a job not queued yet; given back if dropped unused.
pub(crate) struct Admission {
    slot: Slot,
    priority: Priority,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The owning side: dropping the last one stops the workers.
pub(crate) struct Pool {
    pub(crate) shared: Arc<Shared>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        let mut q = self.shared.lock();
        q.closed = true;
        // Jobs never run are dropped here: their callers learn it at once.
        let mut unrun: Vec<Queued> = q.known.drain(..).collect();
        unrun.extend(q.normal.drain(..));
        let dropped = unrun.len();
        drop(q);
        self.shared.queued.fetch_sub(dropped, Ordering::AcqRel);
        self.shared
            .interrupted
            .fetch_add(dropped as u64, Ordering::Relaxed);
        drop(unrun);
        self.shared.work.notify_all();
    }
}

impl Pool {
    pub(crate) fn new(engine: Engine, settings: BudgetSettings) -> Self {
        Self {
            shared: Arc::new(Shared {
                settings,
                engine,
                queues: Mutex::default(),
                work: Condvar::new(),
                admitted: AtomicUsize::new(0),
                queued: AtomicUsize::new(0),
                refused: AtomicU64::new(0),
                hashes: AtomicU64::new(0),
                verifications: AtomicU64::new(0),
                interrupted: AtomicU64::new(0),
                #[cfg(test)]
                threads: Mutex::default(),
            }),
        }
    }

    /// Take a place in the budget, or be refused at once: one compare-and-swap, nothing
    /// allocated, so that refusing is as cheap as it can be.
    ///
    /// # Errors
    /// [`BudgetError::Busy`] past the budget.
    pub(crate) fn admit(&self, priority: Priority) -> Result<Admission, BudgetError> {
        let shared = &self.shared;
        let s = shared.settings;
        let max = match priority {
            Priority::Known => s.capacity,
            Priority::Normal => s.capacity - s.reserved,
        };
        if shared
            .admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_err()
        {
            shared.refused.fetch_add(1, Ordering::Relaxed);
            return Err(BudgetError::Busy { retry_after: 1 });
        }
        Ok(Admission {
            slot: Slot(Arc::clone(shared)),
            priority,
        })
    }

    /// Queue an admitted job for a worker (starting one if none is idle and fewer than
    /// `workers` run).
    ///
    /// # Errors
    /// [`HashError::Interrupted`] when no worker thread can be started at all (the job is
    /// dropped and its place given back).
    pub(crate) fn enqueue(
        &self,
        admission: Admission,
        kind: Kind,
        job: Job,
    ) -> Result<(), BudgetError> {
        let shared = &self.shared;
        let Admission { slot, priority } = admission;
        let queued = Queued { job, kind, slot };
        let mut q = shared.lock();
        if q.idle == 0 && q.started < shared.settings.workers {
            let n = q.started;
            let worker = Arc::clone(shared);
            let spawned = std::thread::Builder::new()
                .name(format!("idunox-argon2-{n}"))
                .spawn(move || worker.run());
            match spawned {
                Ok(_handle) => {
                    q.started += 1;
                    #[cfg(test)]
                    shared
                        .threads
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(_handle);
                }
                Err(_) if q.started == 0 => {
                    // Nobody could run it; the slot is given back with `queued`.
                    return Err(BudgetError::Hash(HashError::Interrupted));
                }
                Err(_) => {}
            }
        }
        match priority {
            Priority::Known => q.known.push_back(queued),
            Priority::Normal => q.normal.push_back(queued),
        }
        shared.queued.fetch_add(1, Ordering::AcqRel);
        drop(q);
        shared.work.notify_one();
        Ok(())
    }

    pub(crate) fn stats(&self) -> BudgetStats {
        let s = &self.shared;
        BudgetStats {
            in_flight: s.admitted.load(Ordering::Acquire),
            queued: s.queued.load(Ordering::Acquire),
            refused: s.refused.load(Ordering::Relaxed),
            hashes: s.hashes.load(Ordering::Relaxed),
            verifications: s.verifications.load(Ordering::Relaxed),
            interrupted: s.interrupted.load(Ordering::Relaxed),
        }
    }

    /// Test gate: while paused, workers take nothing from the queues.
    #[cfg(test)]
    pub(crate) fn set_paused(&self, paused: bool) {
        self.shared.lock().paused = paused;
        self.shared.work.notify_all();
    }

    /// The worker threads started so far (to join them after the last handle is dropped).
    #[cfg(test)]
    pub(crate) fn take_threads(&self) -> Vec<std::thread::JoinHandle<()>> {
        std::mem::take(
            &mut *self
                .shared
                .threads
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A worker's life: take a job, run it in this thread's memory, repeat; return once closed.
    fn run(self: Arc<Self>) {
        let mut memory = Memory::sized(self.engine.block_count());
        loop {
            let next = {
                let mut q = self.lock();
                loop {
                    if let Some(job) = q.pop() {
                        break Some(job);
                    }
                    if q.closed {
                        break None;
                    }
                    q.idle += 1;
                    q = self.work.wait(q).unwrap_or_else(PoisonError::into_inner);
                    q.idle -= 1;
                }
            };
            let Some(Queued { job, kind, slot }) = next else {
                return;
            };
            self.queued.fetch_sub(1, Ordering::AcqRel);
            let finish = Finish {
                shared: Arc::clone(&self),
                kind,
                slot: Some(slot),
            };
            let engine = &self.engine;
            // A panic is caught here (its `Finish` counts it as interrupted); the worker goes on.
            let _ = catch_unwind(AssertUnwindSafe(|| job(&mut memory, engine, finish)));
            memory.release_temporary();
        }
    }
}
