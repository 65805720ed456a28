//! The budget's promises, observed without timing anything: a paused pool holds admitted work
//! in its queues, so admission, priorities and slots can be checked exactly.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::sync::{Arc, Mutex};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use super::*;

fn budget(workers: usize, capacity: usize, reserved: usize) -> HashBudget {
    HashBudget::new(
        HashParams::INSECURE_FAST,
        BudgetSettings {
            workers,
            capacity,
            reserved,
        },
    )
    .unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Poll once (admission happens at the first poll); the future must still be pending.
fn started<T>(mut f: Boxed<T>) -> Boxed<T> {
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        f.as_mut().poll(&mut cx).is_pending(),
        "finished while paused"
    );
    f
}

/// Poll once, expecting an immediate answer.
fn immediate<T>(mut f: Boxed<T>) -> T {
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("not answered at once"),
    }
}

fn hash_fut(b: &HashBudget, p: Priority) -> Boxed<Result<String, BudgetError>> {
    let b = b.clone();
    Box::pin(async move { b.hash(p, b"secret").await })
}

#[test]
fn admission_is_bounded_with_a_reserved_share_and_refuses_at_once() {
    let b = budget(1, 3, 1);
    b.set_paused(true);
    let n1 = started(hash_fut(&b, Priority::Normal));
    let n2 = started(hash_fut(&b, Priority::Normal));
    // The normal share (capacity - reserved = 2) is full: refused at once, not queued.
    assert_eq!(
        immediate(hash_fut(&b, Priority::Normal)),
        Err(BudgetError::Busy { retry_after: 1 })
    );
    // Known work may still use the reserved slot…
    let k1 = started(hash_fut(&b, Priority::Known));
    // …and then nothing more gets in.
    assert!(matches!(
        immediate(hash_fut(&b, Priority::Known)),
        Err(BudgetError::Busy { .. })
    ));
    let s = b.stats();
    assert_eq!((s.in_flight, s.queued, s.refused), (3, 3, 2));
    b.set_paused(false);
    let rt = rt();
    for f in [n1, n2, k1] {
        assert!(rt.block_on(f).unwrap().starts_with("$argon2id$"));
    }
    let s = b.stats();
    assert_eq!((s.in_flight, s.queued, s.hashes), (0, 0, 3));
}

#[test]
fn settings_are_normalised() {
    let s = budget(0, 0, 5).settings();
    assert_eq!((s.workers, s.capacity, s.reserved), (1, 1, 0));
    let s = budget(2, 4, 9).settings();
    assert_eq!(s.reserved, 3, "at least one slot stays open to normal work");
}

#[test]
fn known_work_runs_before_queued_normal_work() {
    let b = budget(1, 8, 1);
    let order = Arc::new(Mutex::new(Vec::new()));
    b.set_paused(true);
    for (p, tag) in [
        (Priority::Normal, "n1"),
        (Priority::Normal, "n2"),
        (Priority::Known, "k1"),
    ] {
        let order = order.clone();
        b.submit(b.admit(p).unwrap(), Kind::Verify, move |_, _, finish| {
            order.lock().unwrap().push(tag);
            finish.done(true);
        })
        .unwrap();
    }
    let last = hash_fut(&b, Priority::Normal);
    let last = started(last);
    b.set_paused(false);
    rt().block_on(last).unwrap();
    assert_eq!(*order.lock().unwrap(), ["k1", "n1", "n2"]);
}

#[test]
fn a_panicking_job_is_caught_and_the_worker_goes_on() {
    let b = budget(1, 4, 0);
    let rt = rt();
    let boom = {
        let b = b.clone();
        async move {
            b.run(b.admit(Priority::Normal)?, Kind::Verify, |_, _| -> u8 {
                panic!("a job panicked (on purpose, in a test)")
            })
            .await
        }
    };
    assert_eq!(
        rt.block_on(boom),
        Err(BudgetError::Hash(HashError::Interrupted))
    );
    // The one worker survived and serves the next job.
    let phc = rt.block_on(b.hash(Priority::Normal, b"after")).unwrap();
    assert!(
        rt.block_on(b.verify(Priority::Normal, b"after", &phc))
            .unwrap()
    );
    let s = b.stats();
    assert_eq!(
        (s.in_flight, s.interrupted, s.hashes, s.verifications),
        (0, 1, 1, 1)
    );
}

#[test]
fn a_caller_that_gives_up_frees_its_slot_and_costs_no_run() {
    let b = budget(1, 1, 0);
    b.set_paused(true);
    let gone = started(hash_fut(&b, Priority::Normal));
    assert_eq!(b.in_flight(), 1);
    drop(gone);
    b.set_paused(false);
    // With one worker taking jobs in order, once this one is admitted and done, the abandoned
    // one has been dealt with. Admission may have to wait for its slot: retry until admitted.
    let rt = rt();
    let mut tries = 0u32;
    let phc = loop {
        match rt.block_on(b.hash(Priority::Normal, b"next")) {
            Err(BudgetError::Busy { .. }) if tries < 1_000_000 => {
                tries += 1;
                std::thread::yield_now();
            }
            other => break other.unwrap(),
        }
    };
    assert!(phc.starts_with("$argon2id$"));
    let s = b.stats();
    assert_eq!((s.in_flight, s.hashes, s.interrupted), (0, 1, 1));
}

#[test]
fn hashes_interoperate_with_the_argon2_crate_and_parameters_come_from_the_string() {
    let b = budget(2, 8, 2);
    let rt = rt();
    let ours = rt.block_on(b.hash(Priority::Normal, b"pw")).unwrap();
    assert!(ours.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
    let parsed = argon2::PasswordHash::new(&ours).unwrap();
    assert!(Argon2::default().verify_password(b"pw", &parsed).is_ok());
    // A hash made elsewhere with stronger parameters verifies at those parameters.
    let theirs = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(2048, 2, 1, None).unwrap(),
    )
    .hash_password(b"pw")
    .unwrap()
    .to_string();
    assert!(
        rt.block_on(b.verify(Priority::Known, b"pw", &theirs))
            .unwrap()
    );
    assert!(
        !rt.block_on(b.verify(Priority::Known, b"pW", &theirs))
            .unwrap()
    );
    assert_eq!(
        rt.block_on(b.verify(
            Priority::Normal,
            b"pw",
            "$argon2id$v=19$m=8388608,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
        )),
        Err(BudgetError::Hash(HashError::ExcessiveParams))
    );
    assert!(
        b.hasher()
            .needs_rehash("$argon2id$v=19$m=512,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")
    );
}

#[test]
fn unknown_accounts_cost_one_verification_at_the_configured_parameters() {
    let b = budget(1, 4, 0);
    let rt = rt();
    b.prepare_dummy().unwrap();
    let dummy = b.inner.dummy.get().cloned().unwrap();
    assert!(dummy.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
    assert!(
        !rt.block_on(b.verify_or_dummy(Priority::Normal, b"x", None))
            .unwrap()
    );
    b.prepare_dummy().unwrap();
    assert_eq!(b.inner.dummy.get(), Some(&dummy), "built once");
    assert_eq!(b.stats().verifications, 1);
    // Without prepare_dummy the first check builds it.
    let fresh = budget(1, 4, 0);
    assert!(
        !rt.block_on(fresh.verify_or_dummy(Priority::Normal, DUMMY, None))
            .unwrap()
    );
    assert!(fresh.inner.dummy.get().is_some());
}

#[test]
fn workers_start_on_demand_and_stop_with_the_last_handle() {
    let b = budget(2, 8, 0);
    assert!(b.take_threads().is_empty(), "no thread before any work");
    let rt = rt();
    let clone = b.clone();
    rt.block_on(clone.hash(Priority::Normal, b"x")).unwrap();
    let threads = b.take_threads();
    assert_eq!(threads.len(), 1, "one job needed one worker");
    for t in &threads {
        assert!(t.thread().name().unwrap().starts_with("idunox-argon2-"));
    }
    drop(b);
    // A clone is still alive: the worker must keep serving.
    rt.block_on(clone.hash(Priority::Normal, b"y")).unwrap();
    drop(clone);
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn queued_work_is_interrupted_when_the_budget_is_dropped() {
    let b = budget(1, 4, 0);
    b.set_paused(true);
    let pending = started(hash_fut(&b, Priority::Normal));
    // `hash_fut` holds a clone of the budget; a plain future holding only the answer's
    // receiver shows what happens to callers when the budget goes away.
    drop(pending);
    let (tx, rx) = futures_channel::oneshot::channel::<()>();
    b.submit(
        b.admit(Priority::Normal).unwrap(),
        Kind::Hash,
        move |_, _, finish| {
            finish.done(true);
            let _ = tx.send(());
        },
    )
    .unwrap();
    drop(b);
    assert!(
        rt().block_on(rx).is_err(),
        "the queued job was dropped unrun"
    );
}
