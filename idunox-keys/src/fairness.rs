//! Per-key-id fairness of cold (argon2) verification (`docs/verification.md`, "Bounded work").
//!
//! Someone who knows one key id must not be able to spend the process's argon2 budget on it:
//!
//! - **one cold verification per key id at a time**: a request presenting the secret already
//!   being verified waits for that outcome instead of running argon2 again; another secret
//!   meanwhile is refused at once ([`Overload::KeyBusy`](crate::Overload::KeyBusy), `503`);
//! - **a failure budget per key id**: after `failures` argon2 runs that did not match within
//!   `window`, that id's non-remembered secrets are refused without argon2 until the window
//!   passes ([`Overload::KeyCoolingDown`](crate::Overload::KeyCoolingDown), `503` with
//!   `Retry-After`), while a remembered (warm) secret still verifies;
//! - **priority for ids that verified before** (`last_used_at` set, or verified in this
//!   process), which may use the budget's reserved share.
//!
//! Everything here is bounded: one entry per key id in flight (at most the budget's capacity
//! plus the requests about to be refused), at most [`MAX_WAITERS`] waiters on one, and at most
//! [`MAX_TRACKED`] ids with failures and [`MAX_TRACKED`] ids known to have verified (an
//! arbitrary one is forgotten past that).

use std::sync::{Mutex, MutexGuard, PoisonError};

use futures_channel::oneshot;
use time::{Duration, OffsetDateTime};

use crate::error::HashError;
use crate::key::{KeyId, KeyIdMap};

/// Waiters one in-flight verification serves at most; more callers with the same secret are told
/// busy (`503`).
pub const MAX_WAITERS: usize = 1024;
/// Ids with recent failures, and ids known to have verified, remembered at most.
pub const MAX_TRACKED: usize = 65_536;

/// How a cold verification ended, as every caller waiting on it learns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// argon2 ran: whether the secret matched.
    Ran(bool),
    /// The stored hash could not be used, or the run did not complete (refused by the budget,
    /// dropped, panicked).
    Failed(HashError),
}

/// What a caller about to verify cold is told.
pub(crate) enum Join {
    /// Run it: the caller submits the work; its outcome arrives on the receiver.
    Lead(oneshot::Receiver<Outcome>),
    /// The same secret is being verified: wait for that outcome.
    Wait(oneshot::Receiver<Outcome>),
    /// Another secret for this id is being verified.
    Busy,
    /// This id's failure budget is spent: retry after these seconds.
    CoolingDown(u32),
}

struct InFlight {
    digest: [u8; 32],
    waiters: Vec<oneshot::Sender<Outcome>>,
}

/// Failures of one id within its current window.
#[derive(Clone, Copy)]
struct Failures {
    since: OffsetDateTime,
    count: u32,
}

#[derive(Default)]
struct State {
    in_flight: KeyIdMap<InFlight>,
    failures: KeyIdMap<Failures>,
    known: KeyIdMap<()>,
}

/// The fairness state of one verifier.
pub(crate) struct Fairness {
    state: Mutex<State>,
    /// argon2 failures allowed per id and window (0: no budget).
    max_failures: u32,
    window: Duration,
}

impl Fairness {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            state: Mutex::default(),
            max_failures,
            window,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seconds until `key_id` may be verified cold again, if its failure budget is spent at `now`.
    pub(crate) fn cooling(&self, key_id: &KeyId, now: OffsetDateTime) -> Option<u32> {
        if self.max_failures == 0 {
            return None;
        }
        let state = self.lock();
        self.cooling_in(&state, key_id, now)
    }

    fn cooling_in(&self, state: &State, key_id: &KeyId, now: OffsetDateTime) -> Option<u32> {
        let f = state.failures.get(key_id)?;
        let end = f.since + self.window;
        (f.count >= self.max_failures && now < end)
            .then(|| u32::try_from((end - now).whole_seconds().max(1)).unwrap_or(u32::MAX))
    }

    /// Whether `key_id` verified in this process.
    pub(crate) fn is_known(&self, key_id: &KeyId) -> bool {
        self.lock().known.contains_key(key_id)
    }

    /// Ask to verify `digest` (a keyed digest of the presented secret) for `key_id` at `now`.
    pub(crate) fn join(&self, key_id: KeyId, digest: [u8; 32], now: OffsetDateTime) -> Join {
        let mut state = self.lock();
        if let Some(f) = state.in_flight.get_mut(&key_id) {
            // The same secret is compared as a digest, in constant time: whether two requests
            // carry the same secret must not leak through timing either.
            let same = bool::from(subtle::ConstantTimeEq::ct_eq(&f.digest[..], &digest[..]));
            if !same || f.waiters.len() >= MAX_WAITERS {
                return Join::Busy;
            }
            let (tx, rx) = oneshot::channel();
            f.waiters.push(tx);
            return Join::Wait(rx);
        }
        if self.max_failures > 0
            && let Some(secs) = self.cooling_in(&state, &key_id, now)
        {
            return Join::CoolingDown(secs);
        }
        let (tx, rx) = oneshot::channel();
        state.in_flight.insert(
            key_id,
            InFlight {
                digest,
                waiters: vec![tx],
            },
        );
        Join::Lead(rx)
    }

    /// The verification led for `key_id` ended: tell every waiter, and count a failure or
    /// remember a success (at `now`, the instant the verification started).
    pub(crate) fn complete(&self, key_id: &KeyId, outcome: Outcome, now: OffsetDateTime) {
        let waiters = {
            let mut state = self.lock();
            match outcome {
                Outcome::Ran(true) => {
                    state.failures.remove(key_id);
                    if state.known.len() >= MAX_TRACKED
                        && !state.known.contains_key(key_id)
                        && let Some(victim) = state.known.keys().next().copied()
                    {
                        state.known.remove(&victim);
                    }
                    state.known.insert(*key_id, ());
                }
                Outcome::Ran(false) if self.max_failures > 0 => {
                    let window = self.window;
                    let failures = &mut state.failures;
                    if failures.len() >= MAX_TRACKED && !failures.contains_key(key_id) {
                        // Forget a window that has passed, else any one.
                        let victim = failures
                            .iter()
                            .find(|(_, f)| now >= f.since + window)
                            .or_else(|| failures.iter().next())
                            .map(|(id, _)| *id);
                        if let Some(victim) = victim {
                            failures.remove(&victim);
                        }
                    }
                    let f = failures.entry(*key_id).or_insert(Failures {
                        since: now,
                        count: 0,
                    });
                    if now >= f.since + window {
                        *f = Failures {
                            since: now,
                            count: 0,
                        };
                    }
                    f.count = f.count.saturating_add(1);
                }
                _ => {}
            }
            state
                .in_flight
                .remove(key_id)
                .map(|f| f.waiters)
                .unwrap_or_default()
        };
        for w in waiters {
            let _ = w.send(outcome);
        }
    }

    /// Entries held: (in flight, ids with failures, known ids).
    pub(crate) fn sizes(&self) -> (usize, usize, usize) {
        let s = self.lock();
        (s.in_flight.len(), s.failures.len(), s.known.len())
    }
}

/// Completes a led verification exactly once: by [`finish`](Self::finish) on the worker, or,
/// if the job is dropped unrun or unwinds, on drop (as [`HashError::Interrupted`]), so that no
/// waiter ever waits forever.
pub(crate) struct Completion<F: FnOnce(Outcome) + Send> {
    done: Option<F>,
}

impl<F: FnOnce(Outcome) + Send> Completion<F> {
    pub(crate) fn new(done: F) -> Self {
        Self { done: Some(done) }
    }

    pub(crate) fn finish(mut self, outcome: Outcome) {
        if let Some(done) = self.done.take() {
            done(outcome);
        }
    }
}

impl<F: FnOnce(Outcome) + Send> Drop for Completion<F> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            done(Outcome::Failed(HashError::Interrupted));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    fn id(s: &str) -> KeyId {
        KeyId::parse(s).unwrap()
    }

    fn recv(rx: oneshot::Receiver<Outcome>) -> Outcome {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(rx)
            .unwrap()
    }

    #[test]
    fn one_verification_per_id_same_secret_waits_other_secret_is_busy() {
        let f = Fairness::new(3, Duration::minutes(1));
        let a = id("AAAAAAAAAAAA");
        let Join::Lead(lead) = f.join(a, [1; 32], T0) else {
            panic!("the first caller leads")
        };
        let Join::Wait(wait) = f.join(a, [1; 32], T0) else {
            panic!("the same secret waits")
        };
        assert!(matches!(f.join(a, [2; 32], T0), Join::Busy));
        // Another id is independent.
        assert!(matches!(
            f.join(id("BBBBBBBBBBBB"), [2; 32], T0),
            Join::Lead(_)
        ));
        f.complete(&a, Outcome::Ran(true), T0);
        assert_eq!(recv(lead), Outcome::Ran(true));
        assert_eq!(recv(wait), Outcome::Ran(true));
        assert!(f.is_known(&a));
        assert!(
            matches!(f.join(a, [2; 32], T0), Join::Lead(_)),
            "free again"
        );
    }

    #[test]
    fn failures_cool_an_id_down_for_the_rest_of_its_window() {
        let f = Fairness::new(2, Duration::minutes(1));
        let a = id("AAAAAAAAAAAA");
        for _ in 0..2 {
            assert!(matches!(f.join(a, [9; 32], T0), Join::Lead(_)));
            f.complete(&a, Outcome::Ran(false), T0);
        }
        assert_eq!(f.cooling(&a, T0 + Duration::seconds(15)), Some(45));
        assert!(matches!(
            f.join(a, [1; 32], T0 + Duration::seconds(15)),
            Join::CoolingDown(45)
        ));
        // Runs that did not complete count nothing.
        let b = id("BBBBBBBBBBBB");
        for o in [
            Outcome::Failed(HashError::ExcessiveParams),
            Outcome::Failed(HashError::Interrupted),
        ] {
            assert!(matches!(f.join(b, [1; 32], T0), Join::Lead(_)));
            f.complete(&b, o, T0);
        }
        assert_eq!(f.cooling(&b, T0), None);
        // When the window has passed, the id starts over.
        let later = T0 + Duration::minutes(1);
        assert_eq!(f.cooling(&a, later), None);
        assert!(matches!(f.join(a, [1; 32], later), Join::Lead(_)));
        f.complete(&a, Outcome::Ran(false), later);
        assert_eq!(f.cooling(&a, later), None, "one failure in the new window");
    }

    #[test]
    fn a_dropped_completion_tells_the_waiters() {
        let f = std::sync::Arc::new(Fairness::new(3, Duration::minutes(1)));
        let a = id("AAAAAAAAAAAA");
        let Join::Lead(lead) = f.join(a, [1; 32], T0) else {
            panic!()
        };
        let f2 = f.clone();
        drop(Completion::new(move |o| f2.complete(&a, o, T0)));
        assert_eq!(recv(lead), Outcome::Failed(HashError::Interrupted));
        assert_eq!(f.sizes().0, 0);
    }

    #[test]
    fn tracking_is_bounded() {
        let f = Fairness::new(1, Duration::minutes(1));
        for i in 0..(MAX_TRACKED + 10) {
            let a = id(&format!("{i:0>12}"));
            assert!(matches!(f.join(a, [0; 32], T0), Join::Lead(_)));
            f.complete(&a, Outcome::Ran(false), T0);
        }
        assert_eq!(f.sizes(), (0, MAX_TRACKED, 0));
    }
}
