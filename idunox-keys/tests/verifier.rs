//! The verification pipeline of `docs/verification.md` from the outside: cold then warm, refusals
//! that say nothing before the secret matched, bounded cold work, coalesced last-used writes.
//!
//! Which path a verification took is observed without timing anything: a [`ProbeStore`] can make
//! the stored hash unreadable (a warm verification never reads it), and a held cold permit turns
//! any cold verification into `Overloaded` (so an `Invalid` while it is held was decided without
//! argon2).

#[path = "support/key_parser_checks.rs"]
#[allow(dead_code)]
mod checks;
mod common;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration as StdDuration, Instant};

use common::{ProbeStore, T0, days, fast_hasher, format, tenant};
use idunox_keys::time::{Duration, OffsetDateTime};
use idunox_keys::{
    ApiKey, BudgetSettings, Credential, HashBudget, HashParams, KeyId, KeyManager, KeyStore,
    LiveLimit, ManualClock, MemoryStore, Patch, Refusal, Rotation, SecretHasher, Status,
    StoreError, TenantId, Verifier,
};

struct Setup {
    keys: KeyManager<Arc<MemoryStore>>,
    probe: ProbeStore,
    clock: ManualClock,
    verifier: Verifier<ProbeStore>,
}

fn setup(cold_limit: usize) -> Setup {
    let (keys, clock) = common::manager();
    let probe = ProbeStore::over(keys.store().clone());
    let verifier = Verifier::builder(probe.clone(), format())
        .clock(clock.clone())
        .cold_limit(cold_limit)
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
    let s = setup(4);
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
    let s = setup(4);
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
    let s = setup(4);
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
    let s = setup(4);
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
    let s = setup(4);
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

/// A wrong-secret verification against an expensive hash holds the only cold permit for a while
/// (wrong, so it is never cached and can be repeated). While it is held, any verification that
/// needs argon2 answers `Overloaded`; one answered without argon2 answers at once.
#[test]
fn wrong_secret_and_unknown_id_are_refused_without_argon2() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = setup(1);
    let acme = tenant("acme");
    let (warm, probe_key, slow_key) = rt.block_on(async {
        let warm = s.keys.create(&acme, None, None).await.unwrap();
        s.verifier
            .verify_str(warm.api_key.expose_secret())
            .await
            .unwrap();
        // A probe key whose stored hash is unreadable: a cold verification of it takes the
        // permit for microseconds only (it fails parsing the hash), so probing does not starve
        // the holder below.
        let probe_key = format().generate().unwrap();
        let mut c = common::credential(T0 + days(365));
        c.key_id = probe_key.key_id();
        c.secret_hash = "unreadable".into();
        s.keys.store().insert(c, None).await.unwrap();
        // A key whose hash takes a long time to check.
        let slow = format().generate().unwrap();
        let slow_hasher = SecretHasher::new(HashParams {
            m_cost: 8 * 1024,
            t_cost: 40,
            p_cost: 1,
        })
        .unwrap();
        let mut c = common::credential(T0 + days(365));
        c.key_id = slow.key_id();
        c.secret_hash = slow_hasher.hash(slow.secret_bytes()).unwrap();
        s.keys.store().insert(c, None).await.unwrap();
        (warm, probe_key, slow)
    });
    let warm_wrong = wrong_secret(&warm.api_key);
    let probe_wrong = wrong_secret(&probe_key);
    let slow_wrong = wrong_secret(&slow_key);
    let unknown = checks::build_key("idx", "test", "ZZZZZZZZZZZZ", &warm_wrong[22..54]);

    // Is the cold permit held right now? (A wrong secret for an uncached key needs argon2.)
    let permit_held = || rt.block_on(s.verifier.verify_str(&probe_wrong)).map(|_| ());
    let mut bracketed = 0;
    for _attempt in 0..50 {
        let v = s.verifier.clone();
        let slow_wrong = slow_wrong.clone();
        let holder = rt.spawn(async move { v.verify_str(&slow_wrong).await.map(|_| ()) });
        let deadline = Instant::now() + StdDuration::from_secs(10);
        let mut held = false;
        // Either the holder takes the permit (and the probe sees it) or, having raced with the
        // probe and lost, it finishes at once: then try again.
        while !holder.is_finished() {
            if matches!(permit_held(), Err(Refusal::Overloaded(_))) {
                held = true;
                break;
            }
            assert!(Instant::now() < deadline, "the slow verification never ran");
            std::thread::sleep(StdDuration::from_millis(1));
        }
        if !held {
            let _ = rt.block_on(holder);
            continue;
        }
        let warm_wrong_answer = code(rt.block_on(s.verifier.verify_str(&warm_wrong)));
        let unknown_answer = code(rt.block_on(s.verifier.verify_str(&unknown)));
        let warm_right_answer =
            code(rt.block_on(s.verifier.verify_str(warm.api_key.expose_secret())));
        let still_held = matches!(permit_held(), Err(Refusal::Overloaded(_)));
        assert!(matches!(
            rt.block_on(holder).unwrap(),
            Err(Refusal::Invalid(_))
        ));
        if still_held {
            // The permit was held throughout: none of these could have run argon2.
            assert_eq!(warm_wrong_answer, "invalid_api_key");
            assert_eq!(unknown_answer, "invalid_api_key");
            assert_eq!(warm_right_answer, "ok");
            bracketed += 1;
            if bracketed == 2 {
                break;
            }
        }
    }
    assert_eq!(
        bracketed, 2,
        "could not hold the permit long enough to observe"
    );
    // The wrong secret never entered the cache.
    assert_eq!(s.verifier.cached_keys(), 1);
}

/// A store that makes every `find` wait until `n` callers are inside it, so that the cold
/// verifications after it start together.
#[derive(Clone)]
struct GateStore {
    inner: Arc<MemoryStore>,
    gate: Arc<std::sync::Barrier>,
}

impl KeyStore for GateStore {
    async fn insert(&self, c: Credential, limit: Option<LiveLimit>) -> Result<(), StoreError> {
        self.inner.insert(c, limit).await
    }
    async fn find(&self, id: &KeyId) -> Result<Option<Arc<Credential>>, StoreError> {
        self.gate.wait();
        self.inner.find(id).await
    }
    async fn list(&self, t: &TenantId) -> Result<Vec<Arc<Credential>>, StoreError> {
        self.inner.list(t).await
    }
    async fn count_live(&self, t: &TenantId, now: OffsetDateTime) -> Result<usize, StoreError> {
        self.inner.count_live(t, now).await
    }
    async fn rotate(&self, r: Rotation) -> Result<(), StoreError> {
        self.inner.rotate(r).await
    }
    async fn revoke(
        &self,
        t: &TenantId,
        id: &KeyId,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        self.inner.revoke(t, id, now).await
    }
    async fn update(
        &self,
        t: &TenantId,
        id: &KeyId,
        patch: &Patch,
        now: OffsetDateTime,
    ) -> Result<Arc<Credential>, StoreError> {
        self.inner.update(t, id, patch, now).await
    }
    async fn revoke_all(
        &self,
        t: &TenantId,
        now: OffsetDateTime,
    ) -> Result<Vec<KeyId>, StoreError> {
        self.inner.revoke_all(t, now).await
    }
    fn touch(&self, used: &[(KeyId, OffsetDateTime)]) {
        self.inner.touch(used);
    }
}

#[test]
fn cold_work_is_bounded_and_overload_is_refused_not_queued() {
    const N: usize = 8;
    let store = Arc::new(MemoryStore::new());
    // Default (slow, production) parameters: the point is that they are slow.
    let hasher = SecretHasher::new(HashParams::DEFAULT).unwrap();
    let key = format().generate().unwrap();
    let mut c = common::credential(T0 + days(365));
    c.key_id = key.key_id();
    c.secret_hash = hasher.hash(key.secret_bytes()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(store.insert(c, None)).unwrap();

    let verifier = Verifier::builder(
        GateStore {
            inner: store.clone(),
            gate: Arc::new(std::sync::Barrier::new(N)),
        },
        format(),
    )
    .clock(ManualClock::new(T0))
    .cold_limit(1)
    .build();
    assert_eq!(verifier.cold_limit(), 1);

    let (tx, rx) = mpsc::channel();
    for _ in 0..N {
        let (verifier, tx, text) = (verifier.clone(), tx.clone(), key.expose_secret().to_owned());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let r = rt.block_on(verifier.verify_str(&text));
            tx.send(r.map(|k| k.status)).unwrap();
        });
    }
    drop(tx);
    let (mut ok, mut overloaded) = (0, 0);
    for _ in 0..N {
        match rx.recv_timeout(StdDuration::from_secs(30)) {
            Ok(Ok(Status::Active)) => ok += 1,
            Ok(Err(Refusal::Overloaded(_))) => overloaded += 1,
            Ok(other) => panic!("unexpected answer {other:?}"),
            Err(e) => panic!("a verification hung: {e}"),
        }
    }
    assert!(ok >= 1, "no verification succeeded");
    assert!(overloaded >= 1, "the cold limit never refused anything");
    let overload = Refusal::Overloaded(idunox_keys::Overload::KeyBusy);
    assert!(overload.is_unavailable());
    assert_eq!(overload.code(), "service_unavailable");
    // The permit is free again: the (now warm) key verifies, every time.
    let v = verifier.clone();
    let text = key.expose_secret().to_owned();
    let gate_free = std::thread::spawn(move || {
        // Each find waits for N callers; feed the gate from N threads.
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let (v, text) = (v.clone(), text.clone());
                std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap()
                        .block_on(v.verify_str(&text))
                        .map(|k| k.status)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    let after = gate_free.join().unwrap();
    assert!(
        after.iter().all(|r| matches!(r, Ok(Status::Active))),
        "{after:?}"
    );
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_per_interval() {
    let s = setup(4);
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

/// The synchronous warm path answers only what needs no waiting, and agrees with `verify`.
#[tokio::test]
async fn verify_now_answers_only_without_waiting_and_sees_a_revoke_at_once() {
    let (keys, clock) = common::manager();
    let verifier = Verifier::builder(keys.store().clone(), format())
        .clock(clock.clone())
        .build();
    // A store that must be asked asynchronously never gets a synchronous answer.
    let probe_verifier = Verifier::builder(ProbeStore::over(keys.store().clone()), format())
        .clock(clock.clone())
        .build();
    let issued = keys.create(&tenant("acme"), None, None).await.unwrap();
    let key = issued.api_key.expose_secret().as_bytes();

    // Missing, malformed and unknown are decided at once.
    assert_eq!(verifier.verify_now(None).map(code), Some("missing_api_key"));
    assert_eq!(
        verifier.verify_now(Some(b"nope")).map(code),
        Some("invalid_api_key")
    );
    let unknown = checks::build_key(
        "idx",
        "test",
        "AAAAAAAAAAAA",
        "WrongWrongWrongWrongWrongWrong00",
    );
    assert_eq!(
        verifier.verify_now(Some(unknown.as_bytes())).map(code),
        Some("invalid_api_key")
    );
    // Cold: argon2 is needed, so no synchronous answer.
    assert!(verifier.verify_now(Some(key)).is_none());
    assert_eq!(code(verifier.verify(Some(key)).await), "ok");
    // Warm: answered at once, the same as `verify`.
    let now = verifier.verify_now(Some(key)).unwrap().unwrap();
    assert_eq!(now, verifier.verify(Some(key)).await.unwrap());
    assert_eq!(now.status, Status::Active);
    assert!(probe_verifier.verify_now(Some(key)).is_none());
    // A wrong secret for a warm key is refused at once.
    let wrong = wrong_secret(&issued.api_key);
    assert_eq!(
        verifier.verify_now(Some(wrong.as_bytes())).map(code),
        Some("invalid_api_key")
    );
    // A last-used write due sends the caller to the asynchronous path, which records it.
    clock.advance(Duration::minutes(2));
    assert!(verifier.verify_now(Some(key)).is_none());
    assert_eq!(code(verifier.verify(Some(key)).await), "ok");
    assert!(verifier.verify_now(Some(key)).is_some());
    // Status is read fresh: a revoke is seen by the very next synchronous verification.
    keys.revoke(&tenant("acme"), &issued.credential.key_id)
        .await
        .unwrap();
    assert_eq!(
        verifier.verify_now(Some(key)).map(code),
        Some("api_key_revoked")
    );
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
