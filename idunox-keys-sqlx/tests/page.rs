//! `SqlKeyStore::page` against a brute-force model: random credentials (seeded, so a failure
//! reproduces) over several tenants with every status, names holding LIKE wildcards, mixed
//! case and non-ASCII letters; random queries (tenant or all, status sets, searches, both
//! orders, small pages) walked page by page and compared with filtering and sorting in Rust
//! using the core's `Status::of`. Plus: paging stays exact while keys are created, rotated and
//! revoked between pages, and malformed or foreign cursors are refused. Both backends.
#![allow(missing_docs)]

mod common;

use std::sync::Arc;

use common::{NOW, credential, db, pool};
use idunox_keys::time::Duration;
use idunox_keys::{Credential, KeyStore, Status, TenantId};
use idunox_keys_sqlx::{Backend, ListQuery, PageError, Sort, SqlKeyStore, StatusCounts, sqlx};

const WINDOW: Duration = Duration::days(30);

/// xorshift64*: a small seeded generator, enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const TENANTS: [&str; 3] = ["ten_a", "ten_b", "ten_c"];
const NAMES: [&str; 10] = [
    "billing-sync",
    "Billing Export",
    "100% uptime",
    "under_score",
    "back\\slash",
    "nightly ETL",
    "ünïcode ✓ feed",
    "ETL_v2 (100%)",
    "",
    "orders",
];

/// A random credential of `tenant` whose status at `NOW` may be any of the five.
fn random_credential(r: &mut Rng, tenant: &str) -> Credential {
    // Few distinct creation instants, so ties are common.
    let created = NOW - Duration::hours(r.below(48) as i64 * 6);
    let mut c = credential(tenant, created);
    // Exact boundaries of the statuses, one second either side.
    let edges = [
        NOW,
        NOW + Duration::seconds(1),
        NOW + WINDOW,
        NOW + WINDOW - Duration::seconds(1),
        NOW + WINDOW + Duration::seconds(1),
    ];
    c.expires_at = match r.below(5) {
        0 => NOW - Duration::days(r.below(10) as i64 + 1), // expired
        1 => NOW + Duration::days(r.below(30) as i64),     // expiring (or due now)
        2 => *r.pick(&edges),
        _ => NOW + Duration::days(r.below(300) as i64 + 31),
    };
    if r.chance(12) {
        c.revoked_at = Some(NOW - Duration::hours(1));
    }
    if r.chance(15) {
        c.replaced_by = Some(idunox_keys::KeyId::random().unwrap());
        c.grace_expires_at = match r.below(4) {
            0 => None,
            1 => Some(NOW - Duration::hours(1)),
            2 => Some(*r.pick(&[NOW, NOW + Duration::seconds(1)])),
            _ => Some(NOW + Duration::hours(r.below(72) as i64 + 1)),
        };
    }
    if r.chance(85) {
        c.name = Some((*r.pick(&NAMES)).to_owned());
    }
    c
}

/// ASCII letters of `s` in random case.
fn scramble(r: &mut Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if r.chance(50) {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// A random search string: parts of names, key ids and masked keys, wildcards, misses.
fn random_search(r: &mut Rng, stored: &[Arc<Credential>]) -> Option<String> {
    let c = r.pick(stored);
    let sub = |r: &mut Rng, s: &str| -> String {
        let chars: Vec<char> = s.chars().collect();
        if chars.is_empty() {
            return String::new();
        }
        let a = r.below(chars.len() as u64) as usize;
        let b = a + 1 + r.below((chars.len() - a) as u64) as usize;
        chars[a..b].iter().collect()
    };
    Some(match r.below(9) {
        0 => return None,
        1 => {
            let s = sub(r, c.name.as_deref().unwrap_or("orders"));
            scramble(r, &s)
        }
        2 => {
            let s = sub(r, c.key_id.as_str());
            scramble(r, &s)
        }
        3 => c.key_id.as_str().to_owned(),
        4 => "idx_test_".into(),
        5 => (*r.pick(&["%", "_", "\\", "100%", "_v", "%u", "\\s"])).to_owned(),
        6 => "ünï".into(),
        7 => "••••".into(),
        _ => "no such thing".into(),
    })
}

/// The model's answer.
fn expected(stored: &[Arc<Credential>], q: &Model) -> Vec<Arc<Credential>> {
    let fold = |s: &str| s.to_ascii_lowercase();
    let mut out: Vec<(usize, Arc<Credential>)> = stored
        .iter()
        .enumerate()
        .filter(|(_, c)| q.tenant.as_ref().is_none_or(|t| &c.tenant_id == t))
        .filter(|(_, c)| q.statuses.is_empty() || q.statuses.contains(&c.status_at(NOW, WINDOW)))
        .filter(|(_, c)| {
            q.search.as_deref().is_none_or(|s| {
                let s = fold(s);
                let masked = if q.masked { c.masked_key.as_str() } else { "" };
                [
                    c.name.as_deref().unwrap_or_default(),
                    c.key_id.as_str(),
                    masked,
                ]
                .iter()
                .any(|field| fold(field).contains(&s))
            })
        })
        .map(|(i, c)| (i, c.clone()))
        .collect();
    match q.sort {
        Sort::Created => {
            out.sort_by(|(i, a), (j, b)| b.created_at.cmp(&a.created_at).then(j.cmp(i)))
        }
        _ => out.sort_by(|(i, a), (j, b)| ends(a).cmp(&ends(b)).then(i.cmp(j))),
    }
    out.into_iter().map(|(_, c)| c).collect()
}

/// When a key stops verifying: the earliest of its expiry, grace end and revocation.
fn ends(c: &Credential) -> idunox_keys::time::OffsetDateTime {
    [c.grace_expires_at, c.revoked_at]
        .into_iter()
        .flatten()
        .fold(c.expires_at, |end, t| end.min(t))
}

fn expected_counts(stored: &[Arc<Credential>], tenant: &TenantId) -> StatusCounts {
    let mut counts = StatusCounts::default();
    for c in stored.iter().filter(|c| &c.tenant_id == tenant) {
        match c.status_at(NOW, WINDOW) {
            Status::Active => counts.active += 1,
            Status::Expiring => counts.expiring += 1,
            Status::Grace => counts.grace += 1,
            Status::Revoked => counts.revoked += 1,
            Status::Expired => counts.expired += 1,
        }
    }
    counts
}

#[derive(Debug)]
struct Model {
    tenant: Option<TenantId>,
    statuses: Vec<Status>,
    search: Option<String>,
    /// Whether the search also looks in the masked key.
    masked: bool,
    sort: Sort,
    limit: u32,
}

impl Model {
    fn query(&self) -> ListQuery {
        let base = match &self.tenant {
            Some(t) => ListQuery::for_tenant(t.clone(), NOW),
            None => ListQuery::across_tenants(NOW),
        };
        let q = base
            .statuses(self.statuses.iter().copied())
            .search_masked_key(self.masked)
            .sort(self.sort)
            .limit(self.limit)
            .unwrap();
        match &self.search {
            Some(s) => q.search(s.clone()),
            None => q,
        }
    }
}

/// Walk every page of `model`'s listing.
async fn walk(store: &SqlKeyStore, model: &Model) -> (Vec<Arc<Credential>>, usize) {
    let mut all = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store.page(&model.query().after(cursor)).await.unwrap();
        pages += 1;
        assert!(page.credentials.len() <= model.limit as usize);
        if let Some(t) = &model.tenant {
            assert!(page.counts.is_some(), "a tenant's listing has counts");
            let _ = t;
        } else {
            assert!(page.counts.is_none());
        }
        all.extend(page.credentials.iter().cloned());
        match page.next_cursor {
            Some(c) => {
                assert_eq!(
                    page.credentials.len(),
                    model.limit as usize,
                    "only full pages go on"
                );
                cursor = Some(c);
            }
            None => return (all, pages),
        }
        assert!(pages < 10_000, "paging does not end");
    }
}

async fn random_listings_match_the_model(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let seed = std::env::var("IDUNOX_PAGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1d0c_u64);
    let mut r = Rng(seed);
    let mut stored = Vec::new();
    let mut tx = store.begin().await.unwrap();
    for _ in 0..400 {
        let tenant = *r.pick(&TENANTS);
        let c = random_credential(&mut r, tenant);
        tx.insert(c.clone(), None).await.unwrap();
        stored.push(Arc::new(c));
    }
    tx.commit().await.unwrap();
    for t in TENANTS {
        let t = TenantId::new(t);
        let page = store
            .page(&ListQuery::for_tenant(t.clone(), NOW))
            .await
            .unwrap();
        assert_eq!(
            page.counts.unwrap(),
            expected_counts(&stored, &t),
            "counts of {t}"
        );
    }
    for round in 0..80 {
        let statuses: Vec<Status> = Status::ALL.into_iter().filter(|_| r.chance(30)).collect();
        let model = Model {
            tenant: r.chance(75).then(|| TenantId::new(*r.pick(&TENANTS))),
            statuses,
            search: random_search(&mut r, &stored),
            masked: r.chance(70),
            sort: if r.chance(50) {
                Sort::Created
            } else {
                Sort::Expires
            },
            limit: *r.pick(&[1, 2, 3, 7, 50, 1000]),
        };
        let want = expected(&stored, &model);
        let (got, _) = walk(&store, &model).await;
        let ids = |v: &[Arc<Credential>]| v.iter().map(|c| c.key_id).collect::<Vec<_>>();
        assert_eq!(
            ids(&got),
            ids(&want),
            "seed {seed:#x}, round {round}: {model:?}"
        );
        assert_eq!(got, want, "records round-trip");
        if let Some(t) = &model.tenant {
            let page = store.page(&model.query()).await.unwrap();
            assert_eq!(page.counts.unwrap(), expected_counts(&stored, t));
        }
    }
}

/// Keys created between two pages neither shift nor repeat what the walk returns: newest
/// first, the walk returns exactly the listing as it stood; soonest-to-expire first, it
/// returns every key that stood, once, in order (new keys may join further on).
async fn paging_is_stable_while_keys_are_created(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let tenant = TenantId::new("ten_a");
    let mut r = Rng(7);
    let mut stored = Vec::new();
    for i in 0..60 {
        let mut c = credential("ten_a", NOW - Duration::hours(i % 5));
        c.expires_at = NOW + Duration::days(r.below(100) as i64 + 1);
        store.insert(c.clone(), None).await.unwrap();
        stored.push(Arc::new(c));
    }
    for sort in [Sort::Created, Sort::Expires] {
        let model = Model {
            tenant: Some(tenant.clone()),
            statuses: Vec::new(),
            search: None,
            masked: true,
            sort,
            limit: 7,
        };
        let want = expected(&stored, &model);
        let mut got = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.page(&model.query().after(cursor)).await.unwrap();
            got.extend(page.credentials.iter().map(|c| c.key_id));
            // Someone creates two keys between pages (one that expires very soon).
            for days in [1, 400] {
                let mut c = credential("ten_a", NOW + Duration::minutes(1));
                c.expires_at = NOW + Duration::days(days);
                store.insert(c, None).await.unwrap();
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let want: Vec<_> = want.iter().map(|c| c.key_id).collect();
        let mut deduped = got.clone();
        deduped.sort_unstable();
        deduped.dedup();
        assert_eq!(deduped.len(), got.len(), "{sort:?}: no key twice");
        match sort {
            Sort::Created => assert_eq!(got, want, "newest first: exactly the listing"),
            _ => {
                let old: Vec<_> = got.iter().filter(|id| want.contains(id)).copied().collect();
                assert_eq!(old, want, "every standing key once, in order");
            }
        }
    }
}

/// In expiry order, a key revoked after its page was read moves to the front of the order
/// (it stopped verifying then): the walk goes on where the page ended, so every other key is
/// still returned once, in order, and the revoked one is not returned again.
async fn expiry_paging_goes_on_where_the_page_ended(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let tenant = TenantId::new("ten_a");
    let mut stored = Vec::new();
    for i in 0..30 {
        let mut c = credential("ten_a", NOW - Duration::hours(i));
        c.expires_at = NOW + Duration::days(i + 1);
        store.insert(c.clone(), None).await.unwrap();
        stored.push(c.key_id);
    }
    let query = || {
        ListQuery::for_tenant(tenant.clone(), NOW)
            .sort(Sort::Expires)
            .limit(4)
            .unwrap()
    };
    let mut got = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.page(&query().after(cursor)).await.unwrap();
        got.extend(page.credentials.iter().map(|c| c.key_id));
        if let Some(last) = page.credentials.last() {
            store
                .revoke(&tenant, &last.key_id, NOW - Duration::days(1))
                .await
                .unwrap();
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(got, stored, "every key once, soonest end first");
    // The revoked keys now come first, by when they stopped verifying.
    let first = store.page(&query()).await.unwrap();
    assert!(first.credentials.iter().all(|c| c.revoked_at.is_some()));
}

async fn bad_cursors_and_searches_are_refused(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    let a = credential("ten_a", NOW);
    let other = credential("ten_b", NOW);
    for c in [&a, &other] {
        store.insert(c.clone(), None).await.unwrap();
    }
    let q = || ListQuery::for_tenant(TenantId::new("ten_a"), NOW);
    let page = store.page(&q().limit(1).unwrap()).await.unwrap();
    assert_eq!(page.next_cursor, None, "one key, one page");
    let good = format!("c{}", a.key_id.as_str());
    assert!(store.page(&q().after(Some(good.clone()))).await.is_ok());
    let expires = |cursor: String| q().sort(Sort::Expires).after(Some(cursor));
    let good_e = format!("e{}.{}", a.expires_at.unix_timestamp(), a.key_id.as_str());
    assert!(store.page(&expires(good_e.clone())).await.is_ok());
    assert!(
        store
            .page(&expires(format!("e-5.{}", a.key_id.as_str())))
            .await
            .is_ok()
    );
    for bad in [
        format!("e{}", a.key_id.as_str()),
        format!("e.{}", a.key_id.as_str()),
        format!("e+5.{}", a.key_id.as_str()),
        format!("e5x.{}", a.key_id.as_str()),
        format!("e99999999999999999999.{}", a.key_id.as_str()),
        format!("e5.{}", other.key_id.as_str()),
        good.clone(),
        format!("{good_e} "),
    ] {
        let err = store.page(&expires(bad.clone())).await.unwrap_err();
        assert!(matches!(err, PageError::InvalidCursor), "{bad:?}: {err}");
    }
    for bad in [
        String::new(),
        "c".into(),
        "x".repeat(13),
        format!("c{}", &a.key_id.as_str()[..11]),
        format!("e{}", a.key_id.as_str()), // made for the other order
        format!("c{}", other.key_id.as_str()), // another tenant's key
        format!("c{}", idunox_keys::KeyId::random().unwrap().as_str()), // no such key
        format!("{good} "),
        "c'; DROP TABLE credentials; --".into(),
    ] {
        let err = store.page(&q().after(Some(bad.clone()))).await.unwrap_err();
        assert!(matches!(err, PageError::InvalidCursor), "{bad:?}: {err}");
        assert_eq!(err.code(), "invalid_cursor");
    }
    // Across tenants, any key is a valid position.
    let all = ListQuery::across_tenants(NOW).after(Some(format!("c{}", other.key_id.as_str())));
    assert!(store.page(&all).await.is_ok());
    let long = "x".repeat(idunox_keys_sqlx::page::MAX_SEARCH_CHARS + 1);
    assert!(matches!(
        store.page(&q().search(long)).await,
        Err(PageError::SearchTooLong)
    ));
    store.pool().close().await;
    assert!(matches!(store.page(&q()).await, Err(PageError::Store(_))));
    let _ = store.list(&TenantId::new("ten_a")).await.unwrap_err();
}

on_both_backends!(
    random_listings_match_the_model,
    paging_is_stable_while_keys_are_created,
    expiry_paging_goes_on_where_the_page_ended,
    bad_cursors_and_searches_are_refused,
);

/// PostgreSQL: a listing with a time limit is cancelled by the server once a statement has run
/// (here: waited for a lock) that long, and answers a store error; the same listing without one
/// waits until the lock goes, then answers. (A lock, not a slow plan: the wait is certain.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_time_limit_cancels_a_listing_that_runs_too_long() {
    let Some(db) = db(Backend::Postgres).await else {
        return;
    };
    let store = SqlKeyStore::new(pool(&db).await);
    let c = credential("ten_a", NOW);
    store.insert(c.clone(), None).await.unwrap();
    let query = ListQuery::across_tenants(NOW).search(c.key_id.as_str());
    let limited = query
        .clone()
        .time_limit(std::time::Duration::from_millis(200));
    assert_eq!(
        limited.statement_time_limit(),
        Some(std::time::Duration::from_millis(200))
    );
    assert_eq!(store.page(&limited).await.unwrap().credentials.len(), 1);

    let mut lock = store.pool().begin().await.unwrap();
    sqlx::query("LOCK TABLE credentials IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    // Bounded: without the limit this would wait for the lock, and the test fails here.
    let cancelled = tokio::time::timeout(std::time::Duration::from_secs(20), store.page(&limited))
        .await
        .expect("the server cancels the listing after its time limit");
    let err = cancelled.unwrap_err();
    assert!(matches!(err, PageError::Store(_)), "{err}");
    let mut why = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        why.push_str(&format!(": {s}"));
        source = s.source();
    }
    assert!(
        why.contains("statement timeout"),
        "PostgreSQL says why: {why}"
    );
    // Without a limit the listing waits for the lock (still held after 300 ms)...
    let unlimited = store.page(&query);
    tokio::pin!(unlimited);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), &mut unlimited)
            .await
            .is_err()
    );
    // ...and answers once it goes. The connection the cancelled listing used is fine again.
    lock.rollback().await.unwrap();
    assert_eq!(unlimited.await.unwrap().credentials.len(), 1);
    for _ in 0..4 {
        assert_eq!(store.page(&limited).await.unwrap().credentials.len(), 1);
    }
}
