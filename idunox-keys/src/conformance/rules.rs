//! The rules of [`KeyStore`] apart from the change feed, one function each.

use std::collections::HashSet;

use time::{Duration, OffsetDateTime};

use super::{PATIENCE, exists, fresh_id, fresh_tenant, get, now, put, record};
use crate::credential::Credential;
use crate::error::StoreError;
use crate::key::KeyId;
use crate::restrictions::parse_allow_list;
use crate::store::{KeyStore, LiveLimit, Patch, Rotation, is_live};
use crate::tenant::TenantId;

/// `insert` stores the record exactly; a taken key id is [`StoreError::KeyIdTaken`] whatever the
/// tenant, and leaves the first record as it was.
///
/// # Panics
/// When the store breaks the rule.
pub async fn insert_and_key_id_taken<S: KeyStore>(store: &S) {
    const RULE: &str = "insert";
    let t = fresh_tenant(RULE);
    let other = fresh_tenant(RULE);
    let mut c = record(&t, now());
    c.name = Some("Ünïcode name, verbatim  ".into());
    c.scopes = Some(vec!["orders:read".into(), "orders:write".into()]);
    c.allowed_ips = Some(parse_allow_list(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]).unwrap());
    put(store, RULE, &c).await;
    assert_eq!(
        get(store, RULE, &c.key_id).await,
        c,
        "conformance: {RULE}: find must return the inserted record, every field verbatim"
    );
    for tenant in [&t, &other] {
        let mut again = record(tenant, now());
        again.key_id = c.key_id;
        match store.insert(again, None).await {
            Err(StoreError::KeyIdTaken) => {}
            r => panic!("conformance: {RULE}: a taken key id must be KeyIdTaken, got {r:?}"),
        }
    }
    let mut limited = record(&other, now());
    limited.key_id = c.key_id;
    let limit = LiveLimit {
        max: 1000,
        now: now(),
    };
    match store.insert(limited, Some(limit)).await {
        Err(StoreError::KeyIdTaken) => {}
        r => {
            panic!("conformance: {RULE}: a taken key id with a limit must be KeyIdTaken, got {r:?}")
        }
    }
    assert_eq!(
        get(store, RULE, &c.key_id).await,
        c,
        "conformance: {RULE}: a refused insert must leave the first record unchanged"
    );
}

/// Build a tenant holding one key in each state at `t0`: active, expiring soon, grace,
/// superseded after its grace, revoked, expired. Returns the tenant, the live ids and the others.
async fn mixed_tenant<S: KeyStore>(
    store: &S,
    rule: &str,
    t0: OffsetDateTime,
) -> (TenantId, Vec<KeyId>, Vec<KeyId>) {
    let t = fresh_tenant(rule);
    let mut live = Vec::new();
    let mut dead = Vec::new();
    let active = record(&t, t0 - Duration::days(10));
    let mut expiring = record(&t, t0 - Duration::days(360));
    expiring.expires_at = t0 + Duration::days(5);
    let mut grace = record(&t, t0 - Duration::days(20));
    grace.replaced_by = Some(fresh_id());
    grace.grace_expires_at = Some(t0 + Duration::hours(24));
    let mut grace_over = record(&t, t0 - Duration::days(20));
    grace_over.replaced_by = Some(fresh_id());
    grace_over.grace_expires_at = Some(t0 - Duration::hours(1));
    let mut revoked = record(&t, t0 - Duration::days(30));
    revoked.revoked_at = Some(t0 - Duration::days(1));
    let mut expired = record(&t, t0 - Duration::days(400));
    expired.expires_at = t0 - Duration::days(35);
    let mut at_expiry = record(&t, t0 - Duration::days(365));
    at_expiry.expires_at = t0; // `now >= expires_at`: expired at t0
    for c in [&active, &expiring, &grace] {
        put(store, rule, c).await;
        live.push(c.key_id);
    }
    for c in [&grace_over, &revoked, &expired, &at_expiry] {
        put(store, rule, c).await;
        dead.push(c.key_id);
    }
    (t, live, dead)
}

/// `insert` with a [`LiveLimit`]: refused with [`StoreError::LimitReached`] (and nothing stored)
/// once the tenant holds `max` live keys; revoked, expired and ended-grace keys do not count,
/// grace keys do; other tenants are not affected.
///
/// # Panics
/// When the store breaks the rule.
pub async fn live_limit<S: KeyStore>(store: &S) {
    const RULE: &str = "insert with LiveLimit";
    let t0 = now();
    let (t, live, _) = mixed_tenant(store, RULE, t0).await;
    let limit = LiveLimit {
        max: live.len() + 1,
        now: t0,
    };
    let first = record(&t, t0);
    if let Err(e) = store.insert(first.clone(), Some(limit)).await {
        panic!(
            "conformance: {RULE}: {} live keys (plus dead ones) under a limit of {} must accept \
             one more, got {e}",
            live.len(),
            limit.max
        );
    }
    let refused = record(&t, t0);
    match store.insert(refused.clone(), Some(limit)).await {
        Err(StoreError::LimitReached) => {}
        r => panic!("conformance: {RULE}: at the limit an insert must be LimitReached, got {r:?}"),
    }
    assert!(
        !exists(store, RULE, &refused.key_id).await,
        "conformance: {RULE}: a refused insert must store nothing"
    );
    // Judged at the limit's `now`: a year later every key of the tenant has expired.
    let later = LiveLimit {
        max: 1,
        now: t0 + Duration::days(400),
    };
    if let Err(e) = store.insert(record(&t, t0), Some(later)).await {
        panic!("conformance: {RULE}: the limit must be judged at its own `now`, got {e}");
    }
    let other = fresh_tenant(RULE);
    if let Err(e) = store
        .insert(record(&other, t0), Some(LiveLimit { max: 1, now: t0 }))
        .await
    {
        panic!("conformance: {RULE}: another tenant's keys must not count, got {e}");
    }
}

/// Concurrent limited inserts for one tenant: exactly as many succeed as the limit leaves room
/// for (the count and the insert are one atomic step).
///
/// # Panics
/// When the store breaks the rule.
pub async fn live_limit_is_atomic<S: KeyStore + Clone>(store: &S) {
    const RULE: &str = "insert with LiveLimit, concurrently";
    const WRITERS: usize = 12;
    let t0 = now();
    let t = fresh_tenant(RULE);
    put(store, RULE, &record(&t, t0)).await;
    let limit = LiveLimit { max: 4, now: t0 };
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (store, c) = (store.clone(), record(&t, t0));
            tokio::spawn(async move { store.insert(c, Some(limit)).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(())) => ok += 1,
            Ok(Err(StoreError::LimitReached)) => {}
            Ok(Err(e)) => panic!("conformance: {RULE}: unexpected error {e}"),
            Err(e) => panic!("conformance: {RULE}: a writer panicked: {e}"),
        }
    }
    assert_eq!(
        ok, 3,
        "conformance: {RULE}: with 1 live key and a limit of 4, exactly 3 of {WRITERS} \
         concurrent inserts must succeed"
    );
    assert_eq!(
        store.count_live(&t, t0).await.ok(),
        Some(4),
        "conformance: {RULE}: count"
    );
}

/// `find` is by key id whatever the tenant; an unknown id is `Ok(None)`.
///
/// # Panics
/// When the store breaks the rule.
pub async fn find<S: KeyStore>(store: &S) {
    const RULE: &str = "find";
    let a = record(&fresh_tenant(RULE), now());
    let b = record(&fresh_tenant(RULE), now());
    put(store, RULE, &a).await;
    put(store, RULE, &b).await;
    assert_eq!(get(store, RULE, &a.key_id).await, a, "conformance: {RULE}");
    assert_eq!(get(store, RULE, &b.key_id).await, b, "conformance: {RULE}");
    assert!(
        !exists(store, RULE, &fresh_id()).await,
        "conformance: {RULE}: an unknown id must be Ok(None)"
    );
}

/// `list` holds this tenant's records only, newest first, ties broken by insertion order
/// (newest first).
///
/// # Panics
/// When the store breaks the rule.
pub async fn list_order<S: KeyStore>(store: &S) {
    const RULE: &str = "list";
    let t = fresh_tenant(RULE);
    let t0 = now() - Duration::days(3);
    let oldest = record(&t, t0);
    let tie_first = record(&t, t0 + Duration::days(1));
    let tie_second = record(&t, t0 + Duration::days(1));
    let newest = record(&t, t0 + Duration::days(2));
    // Inserted out of order: the order is by `created_at`, not by insertion.
    for c in [&newest, &tie_first, &oldest, &tie_second] {
        put(store, RULE, c).await;
    }
    put(store, RULE, &record(&fresh_tenant(RULE), t0)).await;
    let listed: Vec<KeyId> = match store.list(&t).await {
        Ok(list) => list.iter().map(|c| c.key_id).collect(),
        Err(e) => panic!("conformance: {RULE}: {e}"),
    };
    assert_eq!(
        listed,
        vec![
            newest.key_id,
            tie_second.key_id,
            tie_first.key_id,
            oldest.key_id
        ],
        "conformance: {RULE}: newest first, equal instants newest-inserted first, this tenant only"
    );
    match store.list(&fresh_tenant(RULE)).await {
        Ok(list) => assert!(
            list.is_empty(),
            "conformance: {RULE}: an unknown tenant has none"
        ),
        Err(e) => panic!("conformance: {RULE}: {e}"),
    }
}

/// `count_live` counts active, expiring and grace keys at the given instant, this tenant's only.
///
/// # Panics
/// When the store breaks the rule.
pub async fn count_live<S: KeyStore>(store: &S) {
    const RULE: &str = "count_live";
    let t0 = now();
    let (t, live, _) = mixed_tenant(store, RULE, t0).await;
    let t = &t;
    let count = |at| async move {
        store
            .count_live(t, at)
            .await
            .unwrap_or_else(|e| panic!("conformance: {RULE}: {e}"))
    };
    assert_eq!(count(t0).await, live.len(), "conformance: {RULE}: at t0");
    // A day and a second later the grace window has ended.
    assert_eq!(
        count(t0 + Duration::hours(24)).await,
        live.len() - 1,
        "conformance: {RULE}: the grace key stops counting when its window ends"
    );
    assert_eq!(
        count(t0 + Duration::days(400)).await,
        0,
        "conformance: {RULE}: all expired"
    );
}

/// `rotate`: supersedes a rotatable predecessor and inserts the successor in one step;
/// [`StoreError::NotFound`] for an unknown id or another tenant's; [`StoreError::Conflict`] once
/// revoked, superseded or expired; [`StoreError::KeyIdTaken`] for a taken successor id, with
/// nothing changed.
///
/// # Panics
/// When the store breaks the rule.
pub async fn rotate<S: KeyStore>(store: &S) {
    const RULE: &str = "rotate";
    let t0 = now();
    let t = fresh_tenant(RULE);
    let rotation = |pred: &Credential| {
        let mut successor = record(&t, t0);
        successor.replaces = Some(pred.key_id);
        successor.name = pred.name.clone();
        Rotation {
            tenant_id: t.clone(),
            predecessor: pred.key_id,
            grace_expires_at: t0 + Duration::hours(24),
            now: t0,
            successor,
        }
    };
    let expect = |r: Result<(), StoreError>, want: &str, what: &str| match (&r, want) {
        (Ok(()), "ok")
        | (Err(StoreError::NotFound), "not_found")
        | (Err(StoreError::Conflict), "conflict")
        | (Err(StoreError::KeyIdTaken), "key_id_taken") => {}
        _ => panic!("conformance: {RULE}: {what}: expected {want}, got {r:?}"),
    };

    // Success.
    let mut pred = record(&t, t0 - Duration::days(10));
    pred.name = Some("rotated".into());
    put(store, RULE, &pred).await;
    let r = rotation(&pred);
    let successor = r.successor.clone();
    expect(store.rotate(r).await, "ok", "a live key");
    let after = get(store, RULE, &pred.key_id).await;
    assert_eq!(
        after,
        Credential {
            replaced_by: Some(successor.key_id),
            grace_expires_at: Some(t0 + Duration::hours(24)),
            ..pred.clone()
        },
        "conformance: {RULE}: the predecessor gets replaced_by and grace_expires_at, nothing else"
    );
    assert_eq!(
        get(store, RULE, &successor.key_id).await,
        successor,
        "conformance: {RULE}"
    );

    // Superseded already.
    let again = rotation(&pred);
    let again_id = again.successor.key_id;
    expect(store.rotate(again).await, "conflict", "a superseded key");
    assert!(
        !exists(store, RULE, &again_id).await,
        "conformance: {RULE}: conflict stores nothing"
    );

    // Revoked, expired (at and after expiry).
    let mut revoked = record(&t, t0 - Duration::days(10));
    revoked.revoked_at = Some(t0 - Duration::hours(1));
    let mut expired = record(&t, t0 - Duration::days(400));
    expired.expires_at = t0 - Duration::days(35);
    let mut at_expiry = record(&t, t0 - Duration::days(365));
    at_expiry.expires_at = t0;
    for (c, what) in [
        (&revoked, "a revoked key"),
        (&expired, "an expired key"),
        (&at_expiry, "a key at its expiry"),
    ] {
        put(store, RULE, c).await;
        let r = rotation(c);
        let id = r.successor.key_id;
        expect(store.rotate(r).await, "conflict", what);
        assert!(
            !exists(store, RULE, &id).await,
            "conformance: {RULE}: conflict stores nothing"
        );
        assert_eq!(
            get(store, RULE, &c.key_id).await,
            *c,
            "conformance: {RULE}: {what} unchanged"
        );
    }

    // Unknown, and another tenant's.
    let mut unknown = record(&t, t0);
    unknown.key_id = fresh_id();
    expect(
        store.rotate(rotation(&unknown)).await,
        "not_found",
        "an unknown key",
    );
    let foreign = record(&fresh_tenant(RULE), t0 - Duration::days(1));
    put(store, RULE, &foreign).await;
    expect(
        store.rotate(rotation(&foreign)).await,
        "not_found",
        "another tenant's key",
    );
    assert_eq!(
        get(store, RULE, &foreign.key_id).await,
        foreign,
        "conformance: {RULE}"
    );

    // A taken successor id: nothing changes.
    let live = record(&t, t0 - Duration::days(1));
    put(store, RULE, &live).await;
    let taken = record(&fresh_tenant(RULE), t0);
    put(store, RULE, &taken).await;
    let mut r = rotation(&live);
    r.successor.key_id = taken.key_id;
    expect(
        store.rotate(r).await,
        "key_id_taken",
        "a taken successor id",
    );
    assert_eq!(
        get(store, RULE, &live.key_id).await,
        live,
        "conformance: {RULE}: KeyIdTaken must leave the predecessor unchanged"
    );
    assert_eq!(
        get(store, RULE, &taken.key_id).await,
        taken,
        "conformance: {RULE}"
    );
    // And the same rotation with a fresh id then succeeds.
    expect(
        store.rotate(rotation(&live)).await,
        "ok",
        "a retry after KeyIdTaken",
    );
}

/// Concurrent rotations of one key: exactly one wins, the others are
/// [`StoreError::Conflict`], and only the winner's successor is stored.
///
/// # Panics
/// When the store breaks the rule.
pub async fn rotate_has_one_winner<S: KeyStore + Clone>(store: &S) {
    const RULE: &str = "rotate, concurrently";
    const WRITERS: usize = 16;
    let t0 = now();
    let t = fresh_tenant(RULE);
    let pred = record(&t, t0 - Duration::days(1));
    put(store, RULE, &pred).await;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let mut successor = record(&t, t0);
            successor.replaces = Some(pred.key_id);
            let id = successor.key_id;
            let rotation = Rotation {
                tenant_id: t.clone(),
                predecessor: pred.key_id,
                grace_expires_at: t0 + Duration::hours(48),
                now: t0,
                successor,
            };
            let store = store.clone();
            (
                id,
                tokio::spawn(async move { store.rotate(rotation).await }),
            )
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for (id, task) in tasks {
        match task.await {
            Ok(Ok(())) => winners.push(id),
            Ok(Err(StoreError::Conflict)) => losers.push(id),
            Ok(Err(e)) => panic!("conformance: {RULE}: unexpected error {e}"),
            Err(e) => panic!("conformance: {RULE}: a writer panicked: {e}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "conformance: {RULE}: exactly one rotation must win"
    );
    assert_eq!(
        get(store, RULE, &pred.key_id).await.replaced_by,
        Some(winners[0]),
        "conformance: {RULE}: the predecessor names the winner"
    );
    for id in &losers {
        assert!(
            !exists(store, RULE, id).await,
            "conformance: {RULE}: a loser's successor was stored"
        );
    }
}

/// `revoke`: idempotent (a second revoke keeps the first instant), returns the record as stored,
/// and is [`StoreError::NotFound`] for an unknown id or another tenant's.
///
/// # Panics
/// When the store breaks the rule.
pub async fn revoke<S: KeyStore>(store: &S) {
    const RULE: &str = "revoke";
    let t0 = now();
    let t = fresh_tenant(RULE);
    let c = record(&t, t0 - Duration::days(1));
    put(store, RULE, &c).await;
    let first = store
        .revoke(&t, &c.key_id, t0)
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: {e}"));
    let want = Credential {
        revoked_at: Some(t0),
        ..c.clone()
    };
    assert_eq!(
        *first, want,
        "conformance: {RULE}: the answer is the revoked record"
    );
    let second = store
        .revoke(&t, &c.key_id, t0 + Duration::hours(1))
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: a second revoke failed: {e}"));
    assert_eq!(
        *second, want,
        "conformance: {RULE}: a second revoke keeps the first revoked_at"
    );
    assert_eq!(
        get(store, RULE, &c.key_id).await,
        want,
        "conformance: {RULE}"
    );

    let foreign = record(&fresh_tenant(RULE), t0);
    put(store, RULE, &foreign).await;
    for (id, what) in [
        (foreign.key_id, "another tenant's key"),
        (fresh_id(), "an unknown key"),
    ] {
        match store.revoke(&t, &id, t0).await {
            Err(StoreError::NotFound) => {}
            r => panic!("conformance: {RULE}: {what} must be NotFound, got {r:?}"),
        }
    }
    assert_eq!(
        get(store, RULE, &foreign.key_id).await,
        foreign,
        "conformance: {RULE}: another tenant's key must stay unrevoked"
    );
}

/// `update`: applies a [`Patch`] to a live key (grace included) and returns the record as stored;
/// `Some(None)` clears a field, `None` leaves it; [`StoreError::Conflict`] for a revoked or
/// expired key; [`StoreError::NotFound`] for an unknown id or another tenant's.
///
/// # Panics
/// When the store breaks the rule.
pub async fn update<S: KeyStore>(store: &S) {
    const RULE: &str = "update";
    let t0 = now();
    let t = fresh_tenant(RULE);
    let mut c = record(&t, t0 - Duration::days(1));
    c.name = Some("before".into());
    c.scopes = Some(vec!["orders:read".into()]);
    put(store, RULE, &c).await;
    let ips = parse_allow_list(["198.51.100.0/24", "::1"]).unwrap();
    let patch = Patch {
        name: Some(Some("after".into())),
        scopes: None,
        allowed_ips: Some(Some(ips.clone())),
    };
    let got = store
        .update(&t, &c.key_id, &patch, t0)
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: {e}"));
    let want = Credential {
        name: Some("after".into()),
        allowed_ips: Some(ips),
        ..c.clone()
    };
    assert_eq!(*got, want, "conformance: {RULE}: Some replaces, None keeps");
    assert_eq!(
        get(store, RULE, &c.key_id).await,
        want,
        "conformance: {RULE}"
    );
    let clear = Patch {
        name: Some(None),
        scopes: Some(None),
        allowed_ips: Some(None),
    };
    let got = store
        .update(&t, &c.key_id, &clear, t0)
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: {e}"));
    let cleared = Credential {
        name: None,
        scopes: None,
        allowed_ips: None,
        ..c.clone()
    };
    assert_eq!(*got, cleared, "conformance: {RULE}: Some(None) clears");
    assert_eq!(
        get(store, RULE, &c.key_id).await,
        cleared,
        "conformance: {RULE}"
    );

    let mut grace = record(&t, t0 - Duration::days(1));
    grace.replaced_by = Some(fresh_id());
    grace.grace_expires_at = Some(t0 + Duration::hours(1));
    put(store, RULE, &grace).await;
    let rename = Patch {
        name: Some(Some("grace".into())),
        ..Patch::default()
    };
    match store.update(&t, &grace.key_id, &rename, t0).await {
        Ok(got) => assert_eq!(got.name.as_deref(), Some("grace"), "conformance: {RULE}"),
        Err(e) => panic!("conformance: {RULE}: a key in grace is live and patchable, got {e}"),
    }

    let mut revoked = record(&t, t0 - Duration::days(1));
    revoked.revoked_at = Some(t0 - Duration::hours(1));
    let mut expired = record(&t, t0 - Duration::days(400));
    expired.expires_at = t0 - Duration::days(35);
    let mut grace_over = record(&t, t0 - Duration::days(3));
    grace_over.replaced_by = Some(fresh_id());
    grace_over.grace_expires_at = Some(t0 - Duration::hours(1));
    for (dead, what) in [
        (&revoked, "a revoked key"),
        (&expired, "an expired key"),
        (&grace_over, "a key whose grace ended"),
    ] {
        put(store, RULE, dead).await;
        match store.update(&t, &dead.key_id, &rename, t0).await {
            Err(StoreError::Conflict) => {}
            r => panic!("conformance: {RULE}: {what} must be Conflict, got {r:?}"),
        }
        assert_eq!(
            get(store, RULE, &dead.key_id).await,
            *dead,
            "conformance: {RULE}: {what} unchanged"
        );
    }

    let foreign = record(&fresh_tenant(RULE), t0);
    put(store, RULE, &foreign).await;
    for (id, what) in [
        (foreign.key_id, "another tenant's key"),
        (fresh_id(), "an unknown key"),
    ] {
        match store.update(&t, &id, &rename, t0).await {
            Err(StoreError::NotFound) => {}
            r => panic!("conformance: {RULE}: {what} must be NotFound, got {r:?}"),
        }
    }
    assert_eq!(
        get(store, RULE, &foreign.key_id).await,
        foreign,
        "conformance: {RULE}"
    );
}

/// `revoke_all`: revokes, at the given instant, exactly the tenant's live keys and returns their
/// ids; dead keys and other tenants' keys are unchanged; a second call returns none.
///
/// # Panics
/// When the store breaks the rule.
pub async fn revoke_all<S: KeyStore>(store: &S) {
    const RULE: &str = "revoke_all";
    let t0 = now();
    let (t, live, dead) = mixed_tenant(store, RULE, t0).await;
    let mut before = Vec::new();
    for id in &dead {
        before.push(get(store, RULE, id).await);
    }
    let foreign = record(&fresh_tenant(RULE), t0);
    put(store, RULE, &foreign).await;
    let revoked: HashSet<KeyId> = store
        .revoke_all(&t, t0)
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: {e}"))
        .into_iter()
        .collect();
    assert_eq!(
        revoked,
        live.iter().copied().collect::<HashSet<_>>(),
        "conformance: {RULE}: exactly the live keys (active, expiring, grace)"
    );
    for id in &live {
        let c = get(store, RULE, id).await;
        assert_eq!(
            c.revoked_at,
            Some(t0),
            "conformance: {RULE}: revoked at the given instant"
        );
        assert!(!is_live(&c, t0), "conformance: {RULE}");
    }
    for c in &before {
        assert_eq!(
            get(store, RULE, &c.key_id).await,
            *c,
            "conformance: {RULE}: dead keys unchanged"
        );
    }
    assert_eq!(
        get(store, RULE, &foreign.key_id).await,
        foreign,
        "conformance: {RULE}: other tenants untouched"
    );
    match store.revoke_all(&t, t0 + Duration::seconds(1)).await {
        Ok(ids) => assert!(
            ids.is_empty(),
            "conformance: {RULE}: a second call revokes nothing, got {ids:?}"
        ),
        Err(e) => panic!("conformance: {RULE}: {e}"),
    }
}

/// `replace_hash` is a compare-and-set: it replaces the hash only while it is still the old one.
///
/// # Panics
/// When the store breaks the rule (the trait's default, which never replaces, breaks it).
pub async fn replace_hash<S: KeyStore>(store: &S) {
    const RULE: &str = "replace_hash";
    let c = record(&fresh_tenant(RULE), now());
    put(store, RULE, &c).await;
    let cas = |old: String, new: &str| {
        let new = new.to_owned();
        async move {
            store
                .replace_hash(&c.key_id, &old, new)
                .await
                .unwrap_or_else(|e| panic!("conformance: {RULE}: {e}"))
        }
    };
    assert!(
        cas(c.secret_hash.clone(), "$argon2id$new").await,
        "conformance: {RULE}: the current hash must be replaced"
    );
    assert_eq!(
        get(store, RULE, &c.key_id).await.secret_hash,
        "$argon2id$new",
        "conformance: {RULE}"
    );
    assert!(
        !cas(c.secret_hash.clone(), "$argon2id$stale").await,
        "conformance: {RULE}: a stale old hash must not replace"
    );
    assert_eq!(
        get(store, RULE, &c.key_id).await.secret_hash,
        "$argon2id$new",
        "conformance: {RULE}"
    );
    let unknown = store
        .replace_hash(&fresh_id(), "$argon2id$new", "x".into())
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: {e}"));
    assert!(
        !unknown,
        "conformance: {RULE}: an unknown id replaces nothing"
    );
}

/// `touch` records last use and only ever moves it forward; unknown ids are ignored. Stores that
/// buffer are given [`PATIENCE`] to write.
///
/// # Panics
/// When the store breaks the rule.
pub async fn touch<S: KeyStore>(store: &S) {
    const RULE: &str = "touch";
    let t0 = now();
    let t = fresh_tenant(RULE);
    let a = record(&t, t0 - Duration::days(1));
    let b = record(&t, t0 - Duration::days(1));
    put(store, RULE, &a).await;
    put(store, RULE, &b).await;
    let later = t0 + Duration::minutes(5);
    store.touch(&[(a.key_id, later), (fresh_id(), later)]);
    wait_for_last_use(store, &a.key_id, later).await;
    // An earlier instant in the same batch as a sentinel: once the sentinel is written, the
    // earlier instant has been dealt with, and must not have moved `a` back.
    store.touch(&[(a.key_id, t0), (b.key_id, t0)]);
    wait_for_last_use(store, &b.key_id, t0).await;
    assert_eq!(
        get(store, RULE, &a.key_id).await.last_used_at,
        Some(later),
        "conformance: {RULE}: last_used_at must never move backwards"
    );
    let last = later + Duration::minutes(1);
    store.touch(&[(a.key_id, last)]);
    wait_for_last_use(store, &a.key_id, last).await;
    let mut rest = get(store, RULE, &a.key_id).await;
    rest.last_used_at = None;
    assert_eq!(
        rest, a,
        "conformance: {RULE}: touch changes last_used_at only"
    );
}

async fn wait_for_last_use<S: KeyStore>(store: &S, id: &KeyId, at: OffsetDateTime) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if get(store, "touch", id).await.last_used_at == Some(at) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "conformance: touch: last_used_at of {id} did not become {at} within {PATIENCE:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
