//! Cached records with a change feed: a warm key costs no store read while the feed is fresh;
//! every change reaches the cache; a feed that is not fresh is not trusted (the store is read,
//! and a store that cannot be read answers 503: fail closed); recovery needs no restart.
//!
//! The store here is [`FeedStore`]: a memory store that behaves like a database one (no
//! `find_now`, counted reads, can be taken down) and publishes its changes to every feed on its
//! bus; the tests confirm freshness by hand.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use common::{Bus, FeedStore, T0, fast_hasher, format, tenant};
use idunox_keys::time::Duration;
use idunox_keys::{
    Check, KeyManager, ManualClock, MemoryStore, Refusal, TenantId, VerifiedKey, Verifier,
};

struct Setup {
    /// Writes go through another store on the same backing: another instance of the portal.
    keys: KeyManager<FeedStore>,
    store: FeedStore,
    bus: Bus,
    verifier: Verifier<FeedStore>,
    clock: ManualClock,
}

fn setup(max_staleness: StdDuration) -> Setup {
    let backing = Arc::new(MemoryStore::new());
    let bus = Bus::default();
    let clock = ManualClock::new(T0);
    let writer = FeedStore::on(backing.clone(), &bus);
    let keys = KeyManager::new(writer, format())
        .with_hasher(fast_hasher())
        .with_clock(clock.clone());
    let store = FeedStore::on(backing, &bus);
    let verifier = Verifier::builder(store.clone(), format())
        .clock(clock.clone())
        .max_staleness(max_staleness)
        .build();
    Setup {
        keys,
        store,
        bus,
        verifier,
        clock,
    }
}

fn acme() -> TenantId {
    tenant("acme")
}

async fn issue(s: &Setup) -> (String, idunox_keys::Credential) {
    let issued = s.keys.create(&acme(), None, None).await.unwrap();
    (issued.api_key.expose_secret().to_owned(), issued.credential)
}

fn code(r: &Result<VerifiedKey, Refusal>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

/// The answer of `check` when it needs no waiting.
fn at_once(v: &Verifier<FeedStore>, key: &str) -> Option<&'static str> {
    match v.check(Some(key.as_bytes())) {
        Check::Done(r) => Some(code(&r)),
        Check::Pending(_) => None,
    }
}

#[tokio::test]
async fn a_fresh_feed_serves_warm_keys_without_store_reads_and_every_change_reaches_the_cache() {
    let s = setup(StdDuration::from_secs(1));
    let (key, cred) = issue(&s).await;
    s.bus.confirm_all();
    // Cold once: one store read, one argon2 run; the record is cached.
    assert_eq!(code(&s.verifier.verify_str(&key).await), "ok");
    assert_eq!(s.store.finds(), 1);
    assert_eq!(s.verifier.stats().cached_records, 1);
    // Warm: answered in `check`, no read, as long as the feed stays fresh.
    for _ in 0..10 {
        assert_eq!(at_once(&s.verifier, &key), Some("ok"));
    }
    assert_eq!(s.store.finds(), 1);

    // PATCH elsewhere: the next request reads the new record.
    let patch = idunox_keys::KeyChanges {
        scopes: Some(Some(vec!["orders:read".into()])),
        ..Default::default()
    };
    let keys = s.keys.clone().with_policy(idunox_keys::Policy {
        scopes: vec!["orders:read".into()],
        ..Default::default()
    });
    keys.update(&acme(), &cred.key_id, patch).await.unwrap();
    s.bus.confirm_all();
    let v = s.verifier.verify_str(&key).await.unwrap();
    assert_eq!(v.scopes(), Some(&["orders:read".to_owned()][..]));
    assert_eq!(s.store.finds(), 2);
    assert_eq!(at_once(&s.verifier, &key), Some("ok"));

    // Revoke elsewhere: refused on the next request.
    s.keys.revoke(&acme(), &cred.key_id).await.unwrap();
    s.bus.confirm_all();
    assert_eq!(code(&s.verifier.verify_str(&key).await), "api_key_revoked");
    assert_eq!(at_once(&s.verifier, &key), Some("api_key_revoked"));
    assert_eq!(s.store.finds(), 3);

    // Expiry needs no feed: status is computed from the cached record at `now`.
    let (other, _) = issue(&s).await;
    s.bus.confirm_all();
    s.verifier.verify_str(&other).await.unwrap();
    let reads = s.store.finds();
    s.clock.advance(Duration::days(365));
    assert_eq!(at_once(&s.verifier, &other), Some("api_key_expired"));
    assert_eq!(s.store.finds(), reads);
}

#[tokio::test]
async fn rotation_reaches_the_cache_and_unknown_ids_are_cached_until_created() {
    let s = setup(StdDuration::from_secs(1));
    let (key, cred) = issue(&s).await;
    s.bus.confirm_all();
    s.verifier.verify_str(&key).await.unwrap();
    let rotated = s.keys.rotate(&acme(), &cred.key_id, 24).await.unwrap();
    s.bus.confirm_all();
    assert_eq!(
        s.verifier.verify_str(&key).await.unwrap().status.as_str(),
        "grace"
    );

    // An unknown id: one read, then answered from the cache.
    let unknown = format().generate().unwrap();
    let reads = s.store.finds();
    for _ in 0..5 {
        assert_eq!(
            code(&s.verifier.verify_str(unknown.expose_secret()).await),
            "invalid_api_key"
        );
    }
    assert_eq!(s.store.finds(), reads + 1);
    assert_eq!(s.verifier.stats().unknown_ids, 1);
    // The successor: read once, then cached too.
    let id = rotated.credential.key_id;
    assert!(matches!(
        s.verifier
            .check(Some(rotated.api_key.expose_secret().as_bytes())),
        Check::Pending(_)
    ));
    s.verifier
        .verify_str(rotated.api_key.expose_secret())
        .await
        .unwrap();
    assert_eq!(s.verifier.stats().cached_records, 2, "{id}");
}

#[tokio::test]
async fn a_created_key_whose_id_was_cached_as_unknown_verifies() {
    let s = setup(StdDuration::from_secs(1));
    s.bus.confirm_all();
    // A key presented before it exists (a client racing its own creation)…
    let key = format().generate().unwrap();
    assert_eq!(
        code(&s.verifier.verify_str(key.expose_secret()).await),
        "invalid_api_key"
    );
    assert_eq!(s.verifier.stats().unknown_ids, 1);
    // …then created elsewhere with exactly this id and secret.
    let hash = fast_hasher().hash(key.secret_bytes()).unwrap();
    let mut c = common::credential(T0 + Duration::days(30));
    c.key_id = key.key_id();
    c.masked_key = key.masked().to_owned();
    c.secret_hash = hash;
    idunox_keys::KeyStore::insert(s.keys.store(), c, None)
        .await
        .unwrap();
    s.bus.confirm_all();
    assert_eq!(
        code(&s.verifier.verify_str(key.expose_secret()).await),
        "ok"
    );
}

#[tokio::test]
async fn a_feed_that_is_not_fresh_is_not_trusted_and_the_verifier_fails_closed() {
    let s = setup(StdDuration::from_millis(200));
    let (key, cred) = issue(&s).await;
    // Never confirmed: every request reads the store, even for a warm key.
    s.verifier.verify_str(&key).await.unwrap();
    s.verifier.verify_str(&key).await.unwrap();
    assert_eq!(s.store.finds(), 2);
    assert_eq!(
        s.verifier.stats().cached_records,
        0,
        "nothing cached while not fresh"
    );
    assert_eq!(at_once(&s.verifier, &key), None);

    // Fresh: cached.
    s.bus.confirm_all();
    s.verifier.verify_str(&key).await.unwrap();
    let reads = s.store.finds();
    assert_eq!(at_once(&s.verifier, &key), Some("ok"));

    // The database goes away: the live verifier's cached record still answers while the feed
    // is fresh; a reset (the notification connection was lost) drops everything, and with the
    // store down that is a 503.
    s.store.set_down(true);
    assert_eq!(at_once(&s.verifier, &key), Some("ok"));
    s.store.feed.reset();
    assert_eq!(s.verifier.stats().cached_records, 0);
    let r = s.verifier.verify_str(&key).await;
    assert!(matches!(r, Err(Refusal::Unavailable(_))));
    assert_eq!(r.unwrap_err().http_status(), 503);
    assert_eq!(s.store.finds(), reads + 1);

    // Recovery without restart: the database is back, the feed confirms again.
    s.store.set_down(false);
    assert_eq!(code(&s.verifier.verify_str(&key).await), "ok");
    s.bus.confirm_all();
    s.keys.revoke(&acme(), &cred.key_id).await.unwrap();
    s.bus.confirm_all();
    assert_eq!(code(&s.verifier.verify_str(&key).await), "api_key_revoked");
}

#[tokio::test]
async fn a_change_during_the_read_is_not_cached_over() {
    let s = setup(StdDuration::from_secs(1));
    let (key, _) = issue(&s).await;
    s.bus.confirm_all();
    s.store.race_finds.store(true, Ordering::SeqCst);
    s.verifier.verify_str(&key).await.unwrap();
    s.verifier.verify_str(&key).await.unwrap();
    // Each read saw a change published while it ran: neither answer was cached.
    assert_eq!(s.store.finds(), 2);
    assert_eq!(s.verifier.stats().cached_records, 0);
    s.store.race_finds.store(false, Ordering::SeqCst);
    s.verifier.verify_str(&key).await.unwrap();
    assert_eq!(at_once(&s.verifier, &key), Some("ok"));
    assert_eq!(s.store.finds(), 3);
}

#[tokio::test]
async fn zero_staleness_reads_the_store_every_time() {
    let s = setup(StdDuration::ZERO);
    let (key, _) = issue(&s).await;
    s.bus.confirm_all();
    for _ in 0..4 {
        s.verifier.verify_str(&key).await.unwrap();
    }
    assert_eq!(s.store.finds(), 4);
    assert_eq!(s.verifier.stats().cached_records, 0);
    assert_eq!(s.verifier.stats().feed_lag, None);
}

#[tokio::test]
async fn a_feed_that_goes_quiet_is_not_trusted_once_older_than_max_staleness() {
    let s = setup(StdDuration::from_millis(50));
    let (key, _) = issue(&s).await;
    // Cache the record (the read must start within 50 ms of a confirmation: retry if the
    // machine was too slow for that).
    for _ in 0..100 {
        s.bus.confirm_all();
        s.verifier.verify_str(&key).await.unwrap();
        if s.verifier.stats().cached_records == 1 {
            break;
        }
    }
    assert_eq!(s.verifier.stats().cached_records, 1);
    s.bus.confirm_all();
    // The feed goes quiet (no more confirmations) and the database goes away.
    s.store.set_down(true);
    std::thread::sleep(StdDuration::from_millis(100));
    assert!(s.verifier.stats().feed_lag.unwrap() > StdDuration::from_millis(50));
    // The cached record is still there but no longer trusted: the store is asked, and fails.
    assert_eq!(s.verifier.stats().cached_records, 1);
    assert_eq!(at_once(&s.verifier, &key), None);
    assert_eq!(
        code(&s.verifier.verify_str(&key).await),
        "service_unavailable"
    );
    // Recovery: confirmed again, the cached record answers at once.
    s.store.set_down(false);
    s.bus.confirm_all();
    assert_eq!(at_once(&s.verifier, &key), Some("ok"));
}
