//! The create / rotate / revoke rules of `docs/lifecycle.md` and every refusal.

mod common;

use common::{T0, days, manager, tenant};
use idunox_keys::lifecycle::{MAX_NAME_CHARS, MAX_VALIDITY_DAYS};
use idunox_keys::time::Duration;
use idunox_keys::{KeyManager, KeyStore, ManageError, MemoryStore, Policy, Status};

#[tokio::test]
async fn create_defaults_and_bounds() {
    let (keys, _clock) = manager();
    let acme = tenant("acme");
    let c = keys.create(&acme, None, None).await.unwrap().credential;
    assert_eq!((c.created_at, c.expires_at), (T0, T0 + days(365)));
    assert_eq!(c.name, None);
    assert!(c.secret_hash.starts_with("$argon2id$"));
    assert_eq!(keys.status(&c), Status::Active);
    assert_eq!(MAX_VALIDITY_DAYS, 365);

    for ok in [1, 30, 365] {
        let c = keys.create(&acme, None, Some(ok)).await.unwrap().credential;
        assert_eq!(c.expires_at, T0 + days(ok));
    }
    for bad in [0, 366, -1, i64::MIN, i64::MAX] {
        match keys.create(&acme, None, Some(bad)).await {
            Err(ManageError::InvalidValidity { days, max: 365 }) => assert_eq!(days, bad),
            other => panic!("validity {bad}: {other:?}"),
        }
    }
    // Refused creations stored nothing.
    assert_eq!(keys.list(&acme).await.unwrap().len(), 4);
}

#[tokio::test]
async fn names_are_checked_and_stored_verbatim() {
    let (keys, _clock) = manager();
    let acme = tenant("acme");
    assert_eq!(MAX_NAME_CHARS, 100);
    // 100 characters is fine, counted in characters, not bytes.
    for name in [
        "a".repeat(100),
        "é".repeat(100),
        "  billing sync  ".into(),
        String::new(),
    ] {
        let c = keys
            .create(&acme, Some(name.clone()), None)
            .await
            .unwrap()
            .credential;
        assert_eq!(c.name.as_deref(), Some(name.as_str()));
    }
    for name in ["a".repeat(101), "é".repeat(101)] {
        assert!(matches!(
            keys.create(&acme, Some(name), None).await,
            Err(ManageError::NameTooLong { max: 100 })
        ));
    }
    assert!(matches!(
        keys.create(&acme, Some("a\nb".into()), None).await,
        Err(ManageError::InvalidName)
    ));
    assert_eq!(keys.list(&acme).await.unwrap().len(), 4);
}

#[tokio::test]
async fn rotate_makes_a_successor_with_the_old_name_and_a_fresh_validity() {
    let (keys, clock) = manager();
    let acme = tenant("acme");
    let old = keys
        .create(&acme, Some("ci".into()), Some(30))
        .await
        .unwrap();
    clock.advance(days(2));
    let r = keys
        .rotate(&acme, &old.credential.key_id, 48)
        .await
        .unwrap();
    let now = T0 + days(2);
    assert_eq!(r.credential.name.as_deref(), Some("ci"));
    assert_eq!(r.credential.created_at, now);
    assert_eq!(r.credential.expires_at, now + days(365));
    assert_eq!(r.credential.replaces, Some(old.credential.key_id));
    assert_eq!(r.previous.replaced_by, Some(r.credential.key_id));
    assert_eq!(r.previous.grace_expires_at, Some(now + Duration::hours(48)));
    assert_ne!(r.api_key.expose_secret(), old.api_key.expose_secret());
    // The returned `previous` is what the store holds.
    let stored = keys.get(&acme, &old.credential.key_id).await.unwrap();
    assert_eq!(*stored, r.previous);
    assert_eq!(keys.status(&stored), Status::Grace);
    // Newest first.
    let ids: Vec<_> = keys
        .list(&acme)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.key_id)
        .collect();
    assert_eq!(ids, [r.credential.key_id, old.credential.key_id]);
}

#[tokio::test]
async fn grace_end_is_capped_at_the_keys_own_expiry() {
    let (keys, clock) = manager();
    let acme = tenant("acme");
    let old = keys.create(&acme, None, Some(1)).await.unwrap().credential;
    clock.advance(Duration::hours(1));
    // now + 48 h is after expires_at (T0 + 24 h): the overlap stops at expires_at.
    let r = keys.rotate(&acme, &old.key_id, 48).await.unwrap();
    assert_eq!(r.previous.grace_expires_at, Some(old.expires_at));
    assert_eq!(r.previous.grace_expires_at, Some(T0 + Duration::hours(24)));
    clock.set(old.expires_at - Duration::SECOND);
    assert_eq!(keys.status(&r.previous), Status::Grace);
    clock.set(old.expires_at);
    assert_eq!(keys.status(&r.previous), Status::Expired);
}

#[tokio::test]
async fn rotate_from_expiring_is_allowed() {
    let (keys, clock) = manager();
    let acme = tenant("acme");
    let c = keys.create(&acme, None, Some(10)).await.unwrap().credential;
    assert_eq!(keys.status(&c), Status::Expiring);
    clock.advance(days(1));
    let r = keys.rotate(&acme, &c.key_id, 24).await.unwrap();
    assert_eq!(keys.status(&r.previous), Status::Grace);
}

async fn assert_not_rotatable(
    keys: &KeyManager<std::sync::Arc<MemoryStore>>,
    id: &idunox_keys::KeyId,
    want: Status,
) {
    match keys.rotate(&tenant("acme"), id, 24).await {
        Err(ManageError::NotRotatable { status }) => assert_eq!(status, want),
        other => panic!("rotating a {want} key: {other:?}"),
    }
}

#[tokio::test]
async fn rotate_is_refused_from_grace_revoked_and_expired() {
    let (keys, clock) = manager();
    let acme = tenant("acme");

    let a = keys.create(&acme, None, None).await.unwrap().credential;
    keys.rotate(&acme, &a.key_id, 24).await.unwrap();
    assert_not_rotatable(&keys, &a.key_id, Status::Grace).await;

    let b = keys.create(&acme, None, None).await.unwrap().credential;
    keys.revoke(&acme, &b.key_id).await.unwrap();
    assert_not_rotatable(&keys, &b.key_id, Status::Revoked).await;

    let c = keys.create(&acme, None, Some(1)).await.unwrap().credential;
    clock.set(c.expires_at);
    assert_not_rotatable(&keys, &c.key_id, Status::Expired).await;
    // A's grace has ended meanwhile: now it is expired, still not rotatable.
    assert_not_rotatable(&keys, &a.key_id, Status::Expired).await;

    let err = ManageError::NotRotatable {
        status: Status::Grace,
    };
    assert_eq!(err.code(), "conflict");
    // Nothing but the first rotation added a credential.
    assert_eq!(keys.list(&acme).await.unwrap().len(), 4);
}

#[tokio::test]
async fn grace_hours_must_be_configured() {
    let (keys, _clock) = manager();
    let acme = tenant("acme");
    let c = keys.create(&acme, None, None).await.unwrap().credential;
    for bad in [0, 1, 23, 25, 96, -24, i64::MAX] {
        match keys.rotate(&acme, &c.key_id, bad).await {
            Err(ManageError::InvalidGraceHours { hours }) => assert_eq!(hours, bad),
            other => panic!("grace {bad}: {other:?}"),
        }
    }
    assert_eq!(
        keys.status(&keys.get(&acme, &c.key_id).await.unwrap()),
        Status::Active
    );

    // Another policy, other hours.
    let (keys, _clock) = manager();
    let keys = keys.with_policy(Policy {
        grace_hours: vec![1],
        ..Policy::default()
    });
    let c = keys.create(&acme, None, None).await.unwrap().credential;
    assert!(matches!(
        keys.rotate(&acme, &c.key_id, 24).await,
        Err(ManageError::InvalidGraceHours { hours: 24 })
    ));
    keys.rotate(&acme, &c.key_id, 1).await.unwrap();
}

#[tokio::test]
async fn revoke_is_immediate_and_idempotent() {
    let (keys, clock) = manager();
    let acme = tenant("acme");
    let c = keys.create(&acme, None, None).await.unwrap().credential;
    clock.advance(Duration::minutes(5));
    let first = keys.revoke(&acme, &c.key_id).await.unwrap();
    assert_eq!(first.revoked_at, Some(T0 + Duration::minutes(5)));
    assert_eq!(keys.status(&first), Status::Revoked);
    clock.advance(days(3));
    let second = keys.revoke(&acme, &c.key_id).await.unwrap();
    assert_eq!(second.revoked_at, first.revoked_at);
    assert_eq!(second, first);
}

#[tokio::test]
async fn another_tenants_key_is_not_found() {
    let (keys, _clock) = manager();
    let acme = tenant("acme");
    let evil = tenant("evil");
    let c = keys.create(&acme, None, None).await.unwrap().credential;
    assert!(matches!(
        keys.get(&evil, &c.key_id).await,
        Err(ManageError::NotFound)
    ));
    assert!(matches!(
        keys.rotate(&evil, &c.key_id, 24).await,
        Err(ManageError::NotFound)
    ));
    assert!(matches!(
        keys.revoke(&evil, &c.key_id).await,
        Err(ManageError::NotFound)
    ));
    assert!(keys.list(&evil).await.unwrap().is_empty());
    // Exactly like an unknown id.
    let unknown = common::id("ZZZZZZZZZZZZ");
    assert!(matches!(
        keys.rotate(&acme, &unknown, 24).await,
        Err(ManageError::NotFound)
    ));
    assert_eq!(ManageError::NotFound.code(), "not_found");
    // The owner's key is untouched.
    let stored = keys.get(&acme, &c.key_id).await.unwrap();
    assert_eq!(*stored, c);
    assert_eq!(keys.store().len(), 1);
    assert_eq!(
        keys.store().find(&c.key_id).await.unwrap().as_deref(),
        Some(&c)
    );
}
