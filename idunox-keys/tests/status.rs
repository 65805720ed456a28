//! Status at every boundary instant (`docs/lifecycle.md`), directly through `Status::of` and end
//! to end through `KeyManager` and `Verifier` on a `ManualClock`.

mod common;

use std::sync::Arc;

use common::{T0, credential, days, format, manager, tenant};
use idunox_keys::time::{Duration, OffsetDateTime};
use idunox_keys::{Credential, MemoryStore, Refusal, Status, Verifier};

const WINDOW: Duration = Duration::days(30);
const S: Duration = Duration::SECOND;

fn at(c: &Credential, now: OffsetDateTime) -> Status {
    Status::of(c, now, WINDOW)
}

#[test]
fn expiring_window_and_expiry_boundaries() {
    let exp = T0 + days(365);
    let c = credential(exp);
    assert_eq!(at(&c, T0), Status::Active);
    assert_eq!(at(&c, exp - WINDOW - S), Status::Active);
    assert_eq!(at(&c, exp - WINDOW), Status::Expiring);
    assert_eq!(at(&c, exp - WINDOW + S), Status::Expiring);
    assert_eq!(at(&c, exp - S), Status::Expiring);
    assert_eq!(at(&c, exp), Status::Expired);
    assert_eq!(at(&c, exp + S), Status::Expired);
    // The window is configurable.
    assert_eq!(Status::of(&c, exp - days(8), days(7)), Status::Active);
    assert_eq!(Status::of(&c, exp - days(7), days(7)), Status::Expiring);
    // A window longer than the validity: expiring from the start.
    assert_eq!(Status::of(&c, T0, days(400)), Status::Expiring);
    assert_eq!(c.status_at(exp - WINDOW, WINDOW), Status::Expiring);
}

#[test]
fn grace_boundaries() {
    let exp = T0 + days(365);
    let end = T0 + days(10) + Duration::hours(24);
    let c = Credential {
        replaced_by: Some(common::id("BBBBBBBBBBBB")),
        grace_expires_at: Some(end),
        ..credential(exp)
    };
    assert_eq!(at(&c, T0 + days(10)), Status::Grace);
    assert_eq!(at(&c, end - S), Status::Grace);
    assert_eq!(at(&c, end), Status::Expired);
    assert_eq!(at(&c, end + S), Status::Expired);
    // Grace never outlives the key itself, even if a store wrote a later grace end.
    let late = Credential {
        grace_expires_at: Some(exp + days(3)),
        ..c.clone()
    };
    assert_eq!(at(&late, exp - S), Status::Grace);
    assert_eq!(at(&late, exp), Status::Expired);
    // Grace wins over the expiring window.
    assert_eq!(at(&late, exp - days(1)), Status::Grace);
}

#[test]
fn superseded_without_grace_end_is_expired() {
    let c = Credential {
        replaced_by: Some(common::id("BBBBBBBBBBBB")),
        grace_expires_at: None,
        ..credential(T0 + days(365))
    };
    assert_eq!(at(&c, T0), Status::Expired);
    assert_eq!(at(&c, T0 + days(100)), Status::Expired);
}

#[test]
fn revoked_wins_over_everything() {
    let exp = T0 + days(365);
    let revoked = |c: Credential| Credential {
        revoked_at: Some(T0 + S),
        ..c
    };
    let plain = revoked(credential(exp));
    let in_grace = revoked(Credential {
        replaced_by: Some(common::id("BBBBBBBBBBBB")),
        grace_expires_at: Some(T0 + days(1)),
        ..credential(exp)
    });
    for now in [
        T0,
        T0 + S,
        exp - WINDOW - S,
        exp - WINDOW,
        exp - S,
        exp,
        exp + days(1000),
    ] {
        assert_eq!(at(&plain, now), Status::Revoked, "{now}");
        assert_eq!(at(&in_grace, now), Status::Revoked, "{now}");
    }
    assert_eq!(plain.expires_in_days(T0, WINDOW), None);
}

#[test]
fn expires_in_days_rounds_up_and_stops_at_the_end() {
    let exp = T0 + days(365);
    let c = credential(exp);
    assert_eq!(c.expires_in_days(T0, WINDOW), Some(365));
    assert_eq!(c.expires_in_days(T0 + S, WINDOW), Some(365));
    assert_eq!(c.expires_in_days(exp - S, WINDOW), Some(1));
    assert_eq!(c.expires_in_days(exp, WINDOW), None);
}

#[test]
fn status_names_round_trip() {
    for s in Status::ALL {
        assert_eq!(s.as_str().parse::<Status>().unwrap(), s);
        assert_eq!(s.to_string(), s.as_str());
    }
    assert!("Active".parse::<Status>().is_err());
    let accepted: Vec<_> = Status::ALL
        .into_iter()
        .filter(|s| s.is_accepted())
        .collect();
    assert_eq!(accepted, [Status::Active, Status::Expiring, Status::Grace]);
    let rotatable: Vec<_> = Status::ALL
        .into_iter()
        .filter(|s| s.is_rotatable())
        .collect();
    assert_eq!(rotatable, [Status::Active, Status::Expiring]);
}

/// Verify `key` now and map the answer to a status (refusals to the status they stand for).
async fn verified_status(v: &Verifier<Arc<MemoryStore>>, key: &str) -> Status {
    match v.verify_str(key).await {
        Ok(k) => k.status,
        Err(Refusal::Expired) => Status::Expired,
        Err(Refusal::Revoked) => Status::Revoked,
        Err(other) => panic!("unexpected refusal {other:?}"),
    }
}

#[tokio::test]
async fn boundaries_through_manager_and_verifier() {
    let (keys, clock) = manager();
    let verifier = Verifier::builder(keys.store().clone(), format())
        .clock(clock.clone())
        .build();
    let acme = tenant("acme");
    let issued = keys.create(&acme, None, None).await.unwrap();
    let key = issued.api_key.expose_secret().to_owned();
    let id = issued.credential.key_id;
    let exp = issued.credential.expires_at;
    assert_eq!(exp, T0 + days(365));

    let expect = |now: OffsetDateTime, want: Status| {
        let keys = &keys;
        let verifier = &verifier;
        let clock = clock.clone();
        let key = key.clone();
        async move {
            clock.set(now);
            let c = keys.get(&tenant("acme"), &id).await.unwrap();
            assert_eq!(keys.status(&c), want, "manager at {now}");
            assert_eq!(
                verified_status(verifier, &key).await,
                want,
                "verifier at {now}"
            );
        }
    };
    expect(T0, Status::Active).await;
    expect(exp - WINDOW - S, Status::Active).await;
    expect(exp - WINDOW, Status::Expiring).await;
    expect(exp - WINDOW + S, Status::Expiring).await;
    expect(exp - S, Status::Expiring).await;
    expect(exp, Status::Expired).await;
    expect(exp + S, Status::Expired).await;

    // Rotate in the middle of its life: grace for exactly 24 hours.
    let mid = T0 + days(100);
    clock.set(mid);
    let rotated = keys.rotate(&acme, &id, 24).await.unwrap();
    let end = mid + Duration::hours(24);
    assert_eq!(rotated.previous.grace_expires_at, Some(end));
    expect(mid, Status::Grace).await;
    expect(end - S, Status::Grace).await;
    expect(end, Status::Expired).await;
    expect(end + S, Status::Expired).await;

    // Revoked wins: the predecessor, back inside its grace window, reads revoked once revoked.
    clock.set(mid + Duration::hours(1));
    keys.revoke(&acme, &id).await.unwrap();
    expect(mid + Duration::hours(1), Status::Revoked).await;
    expect(end, Status::Revoked).await;
    expect(exp + days(1), Status::Revoked).await;

    // The successor is untouched by all this.
    clock.set(mid + Duration::hours(2));
    assert_eq!(
        verified_status(&verifier, rotated.api_key.expose_secret()).await,
        Status::Active
    );
}
