//! Bounded cold work, observed without timing: the budget is paused, so admitted argon2 runs
//! wait in its queue while the test looks at what was admitted, refused or left waiting.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::sync::Arc;

use time::Duration;
use time::macros::datetime;

use super::*;
use crate::budget::BudgetSettings;
use crate::clock::ManualClock;
use crate::error::Overload;
use crate::hash::SecretHasher;
use crate::key::ApiKey;
use crate::store::MemoryStore;
use crate::tenant::TenantId;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

type Answer = Result<VerifiedKey, Refusal>;
type Boxed = Pin<Box<dyn Future<Output = Answer> + Send>>;

struct Fixture {
    store: Arc<MemoryStore>,
    clock: ManualClock,
    verifier: Verifier<Arc<MemoryStore>>,
    budget: HashBudget,
    rt: tokio::runtime::Runtime,
}

fn fixture(capacity: usize, reserved: usize, failures: u32) -> Fixture {
    let budget = HashBudget::new(
        HashParams::INSECURE_FAST,
        BudgetSettings {
            workers: 1,
            capacity,
            reserved,
        },
    )
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(T0);
    let verifier = Verifier::builder(store.clone(), format())
        .clock(clock.clone())
        .budget(budget.clone())
        .failure_budget(failures, Duration::minutes(1))
        .build();
    Fixture {
        store,
        clock,
        verifier,
        budget,
        rt: tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
    }
}

fn format() -> KeyFormat {
    KeyFormat::new("idx", "test").unwrap()
}

/// A stored key (cheap argon2), optionally with a last use.
fn key(f: &Fixture, used_before: bool) -> ApiKey {
    let key = format().generate().unwrap();
    let hash = SecretHasher::new(HashParams::INSECURE_FAST)
        .unwrap()
        .hash(key.secret_bytes())
        .unwrap();
    let c = Credential {
        key_id: key.key_id(),
        tenant_id: TenantId::new("acme"),
        name: None,
        masked_key: key.masked().to_owned(),
        secret_hash: hash,
        created_at: T0 - Duration::days(1),
        expires_at: T0 + Duration::days(300),
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: used_before.then_some(T0 - Duration::hours(1)),
        scopes: None,
        allowed_ips: None,
    };
    f.rt.block_on(f.store.insert(c, None)).unwrap();
    key
}

/// `key` with its secret replaced by variant `n` (well-formed, checksummed, wrong).
fn wrong(key: &ApiKey, n: usize) -> String {
    let secret = format!("{n:0>32}");
    let body = format!("idx_test_{}_{secret}", key.key_id());
    let sum = crate::base62::checksum(body.as_bytes());
    format!("{body}{}", core::str::from_utf8(&sum).unwrap())
}

fn verify(f: &Fixture, text: &str) -> Boxed {
    let v = f.verifier.clone();
    let text = text.to_owned();
    Box::pin(async move { v.verify_str(&text).await })
}

fn poll(fut: &mut Boxed) -> Poll<Answer> {
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

/// Start it: it must be waiting (on the paused budget) after its first poll.
fn started(mut fut: Boxed) -> Boxed {
    assert!(
        poll(&mut fut).is_pending(),
        "answered while the budget is paused"
    );
    fut
}

/// It must be answered at its first poll.
fn at_once(mut fut: Boxed) -> Answer {
    match poll(&mut fut) {
        Poll::Ready(a) => a,
        Poll::Pending => panic!("not answered at once"),
    }
}

fn reason(a: &Answer) -> &'static str {
    match a {
        Ok(_) => "ok",
        Err(r) => r.reason(),
    }
}

#[test]
fn a_flood_of_wrong_secrets_for_one_id_takes_one_slot_and_n_runs_per_window() {
    let f = fixture(8, 2, 3);
    let victim = key(&f, false);
    let others: Vec<ApiKey> = (0..3).map(|_| key(&f, false)).collect();
    f.budget.set_paused(true);

    // The first wrong secret for the victim takes one slot…
    let lead = started(verify(&f, &wrong(&victim, 0)));
    assert_eq!(f.budget.in_flight(), 1);
    // …the same secret again waits for that outcome, without a slot of its own…
    let same = started(verify(&f, &wrong(&victim, 0)));
    // …and every other secret for the same id meanwhile is refused at once, without a slot.
    for n in 1..=50 {
        let a = at_once(verify(&f, &wrong(&victim, n)));
        assert_eq!(reason(&a), "key_busy");
        assert_eq!(a.unwrap_err().http_status(), 503);
    }
    // The victim's own (right) secret is another secret too: busy while the flood's runs.
    assert_eq!(
        reason(&at_once(verify(&f, victim.expose_secret()))),
        "key_busy"
    );
    assert_eq!(f.budget.in_flight(), 1, "one slot for the whole flood");
    // First-time verifications of other keys are admitted meanwhile.
    let firsts: Vec<Boxed> = others
        .iter()
        .map(|k| started(verify(&f, k.expose_secret())))
        .collect();
    assert_eq!(f.budget.in_flight(), 4);

    f.budget.set_paused(false);
    assert_eq!(reason(&f.rt.block_on(lead)), "wrong_secret");
    assert_eq!(reason(&f.rt.block_on(same)), "wrong_secret");
    for first in firsts {
        assert_eq!(reason(&f.rt.block_on(first)), "ok");
    }
    assert_eq!(f.budget.stats().verifications, 4);

    // Sequential wrong secrets: argon2 runs until the failure budget (3) is spent…
    let mut runs = 1;
    let mut answers = Vec::new();
    for n in 100..120 {
        let before = f.budget.stats().verifications;
        let a = f.rt.block_on(verify(&f, &wrong(&victim, n)));
        runs += f.budget.stats().verifications - before;
        answers.push(reason(&a));
    }
    assert_eq!(runs, 3, "at most 3 argon2 runs for one id in a window");
    assert_eq!(answers[..2], ["wrong_secret", "wrong_secret"]);
    assert!(
        answers[2..].iter().all(|r| *r == "key_cooling_down"),
        "{answers:?}"
    );
    // …also for the right secret while it is not remembered (decided in `check`, no future).
    let Check::Done(Err(Refusal::Overloaded(Overload::KeyCoolingDown { retry_after }))) =
        f.verifier.check(Some(victim.expose_secret().as_bytes()))
    else {
        panic!("the right but cold secret must cool down too")
    };
    assert_eq!(retry_after, 60);
    // Other keys, warm now, are not affected; nor are new ones.
    for k in &others {
        assert!(matches!(
            f.verifier.check(Some(k.expose_secret().as_bytes())),
            Check::Done(Ok(_))
        ));
    }
    let fresh = key(&f, false);
    assert_eq!(
        reason(&f.rt.block_on(verify(&f, fresh.expose_secret()))),
        "ok"
    );

    // When the window has passed, the right secret verifies, and from then on it is warm: the
    // flood is refused without argon2 and the key keeps working.
    f.clock.advance(Duration::minutes(1));
    assert_eq!(
        reason(&f.rt.block_on(verify(&f, victim.expose_secret()))),
        "ok"
    );
    let runs_before = f.budget.stats().verifications;
    for n in 200..300 {
        assert_eq!(
            reason(&at_once(verify(&f, &wrong(&victim, n)))),
            "wrong_secret"
        );
    }
    assert_eq!(reason(&at_once(verify(&f, victim.expose_secret()))), "ok");
    assert_eq!(f.budget.stats().verifications, runs_before);
    let stats = f.verifier.stats();
    assert_eq!((stats.cold_in_flight, stats.warm_keys), (0, 5));
}

#[test]
fn keys_that_verified_before_use_the_reserved_share() {
    // Normal work may use 1 slot of 2; the other is kept for known keys.
    let f = fixture(2, 1, 3);
    let known = key(&f, true);
    let new_a = key(&f, false);
    let new_b = key(&f, false);
    f.budget.set_paused(true);
    let a = started(verify(&f, new_a.expose_secret()));
    let refused = at_once(verify(&f, new_b.expose_secret()));
    assert_eq!(reason(&refused), "budget_exhausted");
    assert_eq!(refused.unwrap_err().retry_after(), Some(1));
    let k = started(verify(&f, known.expose_secret()));
    f.budget.set_paused(false);
    assert_eq!(reason(&f.rt.block_on(k)), "ok");
    assert_eq!(reason(&f.rt.block_on(a)), "ok");
    // A key verified in this process counts as known even before its last use is written.
    assert!(f.verifier.inner.fairness.is_known(&new_a.key_id()));
}

#[test]
fn a_caller_that_gives_up_frees_the_slot_and_waiters_still_get_the_answer() {
    let f = fixture(4, 0, 3);
    let k = key(&f, false);
    f.budget.set_paused(true);
    let lead = started(verify(&f, k.expose_secret()));
    let waiter = started(verify(&f, k.expose_secret()));
    drop(lead);
    assert_eq!(
        f.budget.in_flight(),
        1,
        "the run stays admitted for its waiters"
    );
    f.budget.set_paused(false);
    assert_eq!(reason(&f.rt.block_on(waiter)), "ok");
    assert_eq!(f.budget.in_flight(), 0);
    assert_eq!(f.verifier.stats().cold_in_flight, 0);
    // The run's success was remembered even though its leader had gone.
    assert!(matches!(
        f.verifier.check(Some(k.expose_secret().as_bytes())),
        Check::Done(Ok(_))
    ));
}

#[test]
fn a_refused_run_releases_the_id_and_its_waiters() {
    let f = fixture(1, 0, 3);
    let busy = key(&f, false);
    let k = key(&f, false);
    f.budget.set_paused(true);
    let holder = started(verify(&f, busy.expose_secret()));
    // The budget is full: refused at once, and the id is free again right after.
    assert_eq!(
        reason(&at_once(verify(&f, k.expose_secret()))),
        "budget_exhausted"
    );
    assert_eq!(f.verifier.stats().cold_in_flight, 1);
    f.budget.set_paused(false);
    assert_eq!(reason(&f.rt.block_on(holder)), "ok");
    assert_eq!(reason(&f.rt.block_on(verify(&f, k.expose_secret()))), "ok");
    // A refusal by the budget is no failure of the key.
    assert_eq!(f.verifier.stats().failing_ids, 0);
}

#[test]
fn an_unusable_stored_hash_is_invalid_and_counts_no_failure() {
    let f = fixture(4, 0, 1);
    let k = format().generate().unwrap();
    let c = Credential {
        key_id: k.key_id(),
        tenant_id: TenantId::new("acme"),
        name: None,
        masked_key: k.masked().to_owned(),
        secret_hash: "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        created_at: T0,
        expires_at: T0 + Duration::days(1),
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: None,
        scopes: None,
        allowed_ips: None,
    };
    f.rt.block_on(f.store.insert(c, None)).unwrap();
    for _ in 0..3 {
        let a = f.rt.block_on(verify(&f, k.expose_secret()));
        assert_eq!(reason(&a), "unusable_hash");
        assert_eq!(a.unwrap_err().code(), "invalid_api_key");
    }
    assert_eq!(f.verifier.stats().failing_ids, 0);
}
