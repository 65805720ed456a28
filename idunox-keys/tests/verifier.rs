//! The verification pipeline from the outside: cold then warm, refusals that say nothing before
//! the secret matched, `check` answering at once only what needs no waiting, coalesced
//! last-used writes. (Bounded cold work — budget, one run per key id, failure budget — is
//! tested inside the crate, where the budget can be paused: `src/verify/tests.rs`.)
//!
//! Which path a verification took is observed without timing anything: a [`ProbeStore`] can make
//! the stored hash unreadable (a warm verification never reads it).

#[path = "support/key_parser_checks.rs"]
#[allow(dead_code)]
mod checks;
mod common;

use std::sync::Arc;

use common::{ProbeStore, T0, days, fast_hasher, format, tenant};
use idunox_keys::time::Duration;
use idunox_keys::{
    ApiKey, BudgetSettings, Check, HashBudget, HashParams, KeyManager, KeyStore, ManualClock,
    MemoryStore, Refusal, SecretHasher, Status, Verifier,
};

struct Setup {
    keys: KeyManager<Arc<MemoryStore>>,
    probe: ProbeStore,
    clock: ManualClock,
    verifier: Verifier<ProbeStore>,
}

fn setup() -> Setup {
    let (keys, clock) = common::manager();
    let probe = ProbeStore::over(keys.store().clone());
    let verifier = Verifier::builder(probe.clone(), format())
        .clock(clock.clone())
        .build();
    Setup {
        keys,
        probe,
        clock,
        verifier,
    }
}

/// The same key id with another (well-formed, checksummed) secret.
fn wrong_secret(key: &ApiKey) -> String {
    checks::build_key(
        "idx",
        "test",
        key.key_id().as_str(),
        "WrongWrongWrongWrongWrongWrong00",
    )
}

fn code(r: Result<idunox_keys::VerifiedKey, Refusal>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[tokio::test]
async fn cold_then_warm_and_the_warm_path_never_reads_the_hash() {
    let s = setup();
    let acme = tenant("acme");
    let issued = s
        .keys
        .create(&acme, Some("etl".into()), Some(100))
        .await
        .unwrap();
    let key = issued.api_key.expose_secret();
    assert_eq!(s.verifier.cached_keys(), 0);

    let cold = s.verifier.verify_str(key).await.unwrap();
    assert_eq!(s.verifier.cached_keys(), 1);
    assert_eq!(cold.tenant_id, acme);
    assert_eq!(cold.key_id, issued.credential.key_id);
    assert_eq!(cold.status, Status::Active);
    assert_eq!(cold.expires_at, T0 + days(100));
    assert_eq!(cold.grace_expires_at, None);
    assert_eq!(cold.masked_key(), issued.api_key.masked());
    assert_eq!(cold.name(), Some("etl"));

    // Make the stored hash unreadable: only a warm verification can still succeed.
    s.probe.override_hash(Some("not a PHC string"));
    let warm = s.verifier.verify_str(key).await.unwrap();
    assert_eq!(warm, cold);
    assert_eq!(
        code(s.verifier.verify_str(&wrong_secret(&issued.api_key)).await),
        "invalid_api_key"
    );
    // A key the cache does not know goes cold, meets the unreadable hash and is refused.
    let other = s.keys.create(&acme, None, None).await.unwrap();
    assert_eq!(
        code(s.verifier.verify_str(other.api_key.expose_secret()).await),
        "invalid_api_key"
    );
    assert_eq!(s.verifier.cached_keys(), 1);
    s.probe.override_hash(None);
    s.verifier
        .verify_str(other.api_key.expose_secret())
        .await
        .unwrap();
    assert_eq!(s.verifier.cached_keys(), 2);
    // Every verification read the store (the status is never cached).
    assert_eq!(s.probe.finds.load(std::sync::atomic::Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_revoke_takes_effect_on_the_next_warm_verification() {
    let s = setup();
    let acme = tenant("acme");
    let issued = s.keys.create(&acme, None, None).await.unwrap();
    let key = issued.api_key.expose_secret();
    s.verifier.verify_str(key).await.unwrap();
    s.verifier.verify_str(key).await.unwrap();
    s.keys
        .revoke(&acme, &issued.credential.key_id)
        .await
        .unwrap();
    assert_eq!(code(s.verifier.verify_str(key).await), "api_key_revoked");
}

#[tokio::test]
async fn malformed_missing_and_unknown_read_invalid_or_missing() {
    let s = setup();
    let issued = s.keys.create(&tenant("acme"), None, None).await.unwrap();
    let key = issued.api_key.expose_secret().to_owned();
    assert_eq!(code(s.verifier.verify(None).await), "missing_api_key");
    assert_eq!(code(s.verifier.verify(Some(b"")).await), "missing_api_key");
    let live = key.replacen("_test_", "_live_", 1);
    // One secret character changed (to one it is not already).
    let c = if &key[30..31] == "x" { "y" } else { "x" };
    let typo = format!("{}{c}{}", &key[..30], &key[31..]);
    let unknown = checks::build_key("idx", "test", "ZZZZZZZZZZZZ", &key[22..54]);
    for bad in [
        "x",
        "Bearer abc",
        live.as_str(),
        typo.as_str(),
        &key[..59],
        unknown.as_str(),
    ] {
        assert_eq!(
            code(s.verifier.verify_str(bad).await),
            "invalid_api_key",
            "{bad}"
        );
    }
    assert_eq!(
        code(s.verifier.verify(Some(&[0xff, 0xfe, 0x00])).await),
        "invalid_api_key"
    );
    // Only the unknown id reached the store; nothing was cached or touched.
    assert_eq!(s.probe.finds.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(s.verifier.cached_keys(), 0);
    assert_eq!(s.probe.touches(), 0);
}

#[tokio::test]
async fn revoked_and_expired_are_only_told_after_the_secret_matched() {
    let s = setup();
    let acme = tenant("acme");
    let revoked = s.keys.create(&acme, None, None).await.unwrap();
    let expired = s.keys.create(&acme, None, Some(1)).await.unwrap();
    let warm_revoked = s.keys.create(&acme, None, None).await.unwrap();
    let warm_expired = s.keys.create(&acme, None, Some(1)).await.unwrap();
    for k in [&warm_revoked, &warm_expired] {
        s.verifier
            .verify_str(k.api_key.expose_secret())
            .await
            .unwrap();
    }
    s.keys
        .revoke(&acme, &revoked.credential.key_id)
        .await
        .unwrap();
    s.keys
        .revoke(&acme, &warm_revoked.credential.key_id)
        .await
        .unwrap();
    s.clock.advance(days(1));

    for (k, told) in [
        (&revoked, "api_key_revoked"),
        (&expired, "api_key_expired"),
        (&warm_revoked, "api_key_revoked"),
        (&warm_expired, "api_key_expired"),
    ] {
        // Wrong secret first (cold for the first two, warm mismatch for the others).
        assert_eq!(
            code(s.verifier.verify_str(&wrong_secret(&k.api_key)).await),
            "invalid_api_key"
        );
        assert_eq!(
            code(s.verifier.verify_str(k.api_key.expose_secret()).await),
            told
        );
        // And still invalid afterwards, now that the key is warm.
        assert_eq!(
            code(s.verifier.verify_str(&wrong_secret(&k.api_key)).await),
            "invalid_api_key"
        );
    }
    // Refused keys are never recorded as used.
    assert_eq!(s.probe.touches(), 2);
}

#[tokio::test]
async fn grace_keys_verify_with_their_grace_end() {
    let s = setup();
    let acme = tenant("acme");
    let old = s.keys.create(&acme, None, None).await.unwrap();
    let r = s
        .keys
        .rotate(&acme, &old.credential.key_id, 72)
        .await
        .unwrap();
    let v = s
        .verifier
        .verify_str(old.api_key.expose_secret())
        .await
        .unwrap();
    assert_eq!(v.status, Status::Grace);
    assert_eq!(v.grace_expires_at, Some(T0 + Duration::hours(72)));
    let v = s
        .verifier
        .verify_str(r.api_key.expose_secret())
        .await
        .unwrap();
    assert_eq!(v.status, Status::Active);
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_per_interval() {
    let s = setup();
    let acme = tenant("acme");
    let issued = s.keys.create(&acme, None, None).await.unwrap();
    let key = issued.api_key.expose_secret();
    let id = issued.credential.key_id;
    let last_used = || async {
        s.keys
            .store()
            .find(&id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };
    assert_eq!(last_used().await, None);

    s.verifier.verify_str(key).await.unwrap(); // cold: recorded
    assert_eq!((s.probe.touches(), last_used().await), (1, Some(T0)));
    for _ in 0..5 {
        s.verifier.verify_str(key).await.unwrap();
    }
    s.clock.advance(Duration::seconds(59));
    s.verifier.verify_str(key).await.unwrap();
    assert_eq!((s.probe.touches(), last_used().await), (1, Some(T0)));

    s.clock.advance(Duration::seconds(1));
    s.verifier.verify_str(key).await.unwrap();
    s.verifier.verify_str(key).await.unwrap();
    let t1 = T0 + Duration::minutes(1);
    assert_eq!((s.probe.touches(), last_used().await), (2, Some(t1)));

    // Refusals never count as use.
    s.clock.advance(Duration::minutes(5));
    for _ in 0..3 {
        assert!(
            s.verifier
                .verify_str(&wrong_secret(&issued.api_key))
                .await
                .is_err()
        );
    }
    assert_eq!((s.probe.touches(), last_used().await), (2, Some(t1)));
    s.verifier.verify_str(key).await.unwrap();
    assert_eq!(
        (s.probe.touches(), last_used().await),
        (3, Some(t1 + Duration::minutes(5)))
    );
}

#[tokio::test]
async fn a_disabled_cache_verifies_cold_every_time() {
    let (keys, clock) = common::manager();
    let probe = ProbeStore::over(keys.store().clone());
    let verifier = Verifier::builder(probe.clone(), format())
        .clock(clock)
        .cache_capacity(0)
        .build();
    let issued = keys.create(&tenant("acme"), None, None).await.unwrap();
    let key = issued.api_key.expose_secret();
    verifier.verify_str(key).await.unwrap();
    assert_eq!(verifier.cached_keys(), 0);
    // Cold every time: an unreadable hash now refuses even the right key.
    probe.override_hash(Some("garbage"));
    assert_eq!(code(verifier.verify_str(key).await), "invalid_api_key");
    probe.override_hash(Some(&fast_hasher().hash(b"something else").unwrap()));
    assert_eq!(code(verifier.verify_str(key).await), "invalid_api_key");
    probe.override_hash(None);
    verifier.verify_str(key).await.unwrap();
}

#[tokio::test]
async fn the_cache_stays_bounded() {
    let (keys, clock) = common::manager();
    let verifier = Verifier::builder(keys.store().clone(), format())
        .clock(clock)
        .cache_capacity(16)
        .build();
    let mut issued = Vec::new();
    for _ in 0..64 {
        let k = keys.create(&tenant("acme"), None, None).await.unwrap();
        verifier
            .verify_str(k.api_key.expose_secret())
            .await
            .unwrap();
        issued.push(k);
    }
    assert!(verifier.cached_keys() <= 16, "{}", verifier.cached_keys());
    assert!(verifier.cached_keys() >= 1);
    // Evicted keys still verify (cold again).
    for k in &issued {
        verifier
            .verify_str(k.api_key.expose_secret())
            .await
            .unwrap();
    }
}

fn answer<S>(c: Check<S>) -> Option<&'static str> {
    match c {
        Check::Done(r) => Some(code(r)),
        Check::Pending(_) => None,
    }
}

/// `check` answers at once only what needs no waiting, and agrees with `verify`.
#[tokio::test]
async fn check_answers_at_once_only_what_needs_no_waiting_and_sees_a_revoke_at_once() {
    let (keys, clock) = common::manager();
    let verifier = Verifier::builder(keys.store().clone(), format())
        .clock(clock.clone())
        .build();
    // A store that must be asked asynchronously never gets a synchronous answer for a key.
    let probe = ProbeStore::over(keys.store().clone());
    let probe_verifier = Verifier::builder(probe.clone(), format())
        .clock(clock.clone())
        .build();
    let issued = keys.create(&tenant("acme"), None, None).await.unwrap();
    let key = issued.api_key.expose_secret().as_bytes();

    // Missing, malformed and unknown are decided at once.
    assert_eq!(answer(verifier.check(None)), Some("missing_api_key"));
    assert_eq!(
        answer(verifier.check(Some(b"nope"))),
        Some("invalid_api_key")
    );
    assert_eq!(
        answer(probe_verifier.check(Some(b"nope"))),
        Some("invalid_api_key")
    );
    let unknown = checks::build_key(
        "idx",
        "test",
        "AAAAAAAAAAAA",
        "WrongWrongWrongWrongWrongWrong00",
    );
    assert_eq!(
        answer(verifier.check(Some(unknown.as_bytes()))),
        Some("invalid_api_key")
    );
    // Cold: argon2 is needed, so the check is pending, and its key id is known.
    let Check::Pending(pending) = verifier.check(Some(key)) else {
        panic!("a cold key needs argon2")
    };
    assert_eq!(pending.key_id(), issued.credential.key_id);
    assert!(!pending.needs_store());
    assert!(!format!("{pending:?}").contains(&issued.api_key.expose_secret()[22..54]));
    assert_eq!(code(pending.finish().await), "ok");
    // Warm: answered at once, the same as `verify`.
    let Check::Done(Ok(now)) = verifier.check(Some(key)) else {
        panic!("a warm key is answered at once")
    };
    assert_eq!(now, verifier.verify(Some(key)).await.unwrap());
    assert_eq!(now.status, Status::Active);
    // A store without `find_now` must be read first.
    let Check::Pending(p) = probe_verifier.check(Some(key)) else {
        panic!("the probe store cannot answer at once")
    };
    assert!(p.needs_store());
    drop(p);
    // A wrong secret for a warm key is refused at once.
    let wrong = wrong_secret(&issued.api_key);
    assert_eq!(
        answer(verifier.check(Some(wrong.as_bytes()))),
        Some("invalid_api_key")
    );
    // A last-used write due no longer needs the asynchronous path: it is written at once.
    clock.advance(Duration::minutes(2));
    assert_eq!(answer(verifier.check(Some(key))), Some("ok"));
    let stored = keys
        .get(&tenant("acme"), &issued.credential.key_id)
        .await
        .unwrap();
    assert_eq!(stored.last_used_at, Some(T0 + Duration::minutes(2)));
    // Status is read fresh: a revoke is seen by the very next synchronous verification.
    keys.revoke(&tenant("acme"), &issued.credential.key_id)
        .await
        .unwrap();
    assert_eq!(answer(verifier.check(Some(key))), Some("api_key_revoked"));
}

/// Opt-in hash upgrade: a weaker stored hash is replaced at the next cold verification.
#[tokio::test]
async fn outdated_hashes_are_upgraded_only_when_asked() {
    let (keys, clock) = common::manager();
    let stronger = SecretHasher::new(HashParams {
        m_cost: 2048,
        ..HashParams::INSECURE_FAST
    })
    .unwrap();
    let plain = Verifier::builder(keys.store().clone(), format())
        .clock(clock.clone())
        .cache_capacity(0)
        .build();
    let upgrading = Verifier::builder(keys.store().clone(), format())
        .clock(clock.clone())
        .cache_capacity(0)
        .budget(HashBudget::new(stronger.params(), BudgetSettings::default()).unwrap())
        .upgrade_hashes(true)
        .build();
    let issued = keys.create(&tenant("acme"), None, None).await.unwrap();
    let key = issued.api_key.expose_secret();
    let hash = |keys: &KeyManager<Arc<MemoryStore>>| {
        keys.store().find_now(&issued.credential.key_id).clone()
    };
    let stored = || match hash(&keys) {
        idunox_keys::Immediate::Found(c) => c.secret_hash.clone(),
        other => panic!("{other:?}"),
    };
    let before = stored();
    plain.verify_str(key).await.unwrap();
    assert_eq!(stored(), before, "no upgrade unless asked");
    upgrading.verify_str(key).await.unwrap();
    let after = stored();
    assert_ne!(after, before);
    assert!(!stronger.needs_rehash(&after) && stronger.needs_rehash(&before));
    // Both verifiers still accept the key against the new hash; a wrong secret is still refused.
    plain.verify_str(key).await.unwrap();
    upgrading.verify_str(key).await.unwrap();
    assert_eq!(
        code(upgrading.verify_str(&wrong_secret(&issued.api_key)).await),
        "invalid_api_key"
    );
}
