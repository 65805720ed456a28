//! The change-feed rule: every committed change reaches every store's feed, and a feed never
//! confirms an instant before it has published the changes committed until then.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use time::Duration;

use super::{PATIENCE, fresh_tenant, get, now, put, record};
use crate::feed::{ChangeFeed, FeedSubscriber};
use crate::key::KeyId;
use crate::restrictions::parse_allow_list;
use crate::store::{KeyStore, Patch, Rotation};

const RULE: &str = "feed";

/// Records what a feed published.
#[derive(Default)]
struct Recorder {
    seen: Mutex<HashSet<KeyId>>,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<KeyId>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn has_all(&self, ids: &[KeyId]) -> bool {
        let seen = self.lock();
        ids.iter().all(|id| seen.contains(id))
    }
}

impl FeedSubscriber for Recorder {
    fn changed(&self, ids: &[KeyId]) {
        self.lock().extend(ids.iter().copied());
    }
    // A reset means "changes may have been missed": a rule that then finds its change unseen
    // fails with a message saying so.
    fn reset(&self) {}
}

/// One subscribed feed.
struct Watch<'a> {
    feed: &'a ChangeFeed,
    seen: Arc<Recorder>,
}

impl<'a> Watch<'a> {
    fn new(feed: &'a ChangeFeed) -> Self {
        let seen = Arc::new(Recorder::default());
        feed.subscribe(seen.clone());
        Self { feed, seen }
    }

    /// Wait until the feed is confirmed fresh as of an instant after `after`, then check that it
    /// published every id in `ids` (a feed confirming an instant promises every change
    /// committed before it was published).
    async fn confirms(&self, what: &str, after: Instant, ids: &[KeyId]) {
        let deadline = Instant::now() + PATIENCE;
        while self.feed.fresh_as_of().is_none_or(|t| t <= after) {
            assert!(
                Instant::now() < deadline,
                "conformance: {RULE}: {what}: the reader's feed was not confirmed fresh after \
                 the change within {PATIENCE:?} (fresh as of {:?})",
                self.feed.lag()
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(
            self.seen.has_all(ids),
            "conformance: {RULE}: {what}: the reader's feed confirmed an instant after the change \
             without publishing it ({ids:?})"
        );
    }
}

/// Forget what both watches saw, before the next kind of change.
fn forget(remote: &Watch<'_>, local: Option<&Watch<'_>>) {
    remote.seen.lock().clear();
    if let Some(local) = local {
        local.seen.lock().clear();
    }
}

/// The change feed: `writer` and `reader` are two stores on the same backing (for a database,
/// two pools as two processes would have). `reader.feed()` must be `Some`.
///
/// For every kind of committed change — insert, rotate (predecessor and successor), revoke,
/// update, revoke-all, hash replacement — made through `writer`:
/// - if `writer` has a feed, it published the change by the time the write returned (the
///   instance that made a change sees it at once);
/// - the reader's feed is confirmed fresh as of an instant after the write returned, within
///   [`PATIENCE`], and by then it has published the change (freshness advances, and never
///   ahead of the changes).
///
/// # Panics
/// When a store breaks the rule.
pub async fn feed<S: KeyStore>(writer: &S, reader: &S) {
    let reader_feed = reader
        .feed()
        .unwrap_or_else(|| panic!("conformance: {RULE}: the reader store has no change feed"));
    let remote = Watch::new(reader_feed);
    let local = writer.feed().map(Watch::new);
    let own = |what: &str, ids: &[KeyId]| {
        if let Some(local) = &local {
            assert!(
                local.seen.has_all(ids),
                "conformance: {RULE}: {what}: the writer's own feed must publish its change by \
                 the time the write returns ({ids:?})"
            );
        }
    };

    let t0 = now();
    let t = fresh_tenant(RULE);

    let c = record(&t, t0 - Duration::days(1));
    put(writer, RULE, &c).await;
    let done = Instant::now();
    own("insert", &[c.key_id]);
    remote.confirms("insert", done, &[c.key_id]).await;
    // Once published, the reader reads the change.
    assert_eq!(
        get(reader, RULE, &c.key_id).await,
        c,
        "conformance: {RULE}: insert"
    );

    let mut successor = record(&t, t0);
    successor.replaces = Some(c.key_id);
    let succ_id = successor.key_id;
    let rotation = Rotation {
        tenant_id: t.clone(),
        predecessor: c.key_id,
        grace_expires_at: t0 + Duration::hours(24),
        now: t0,
        successor,
    };
    writer
        .rotate(rotation)
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: rotate: {e}"));
    let done = Instant::now();
    own("rotate", &[c.key_id, succ_id]);
    remote.confirms("rotate", done, &[c.key_id, succ_id]).await;
    assert_eq!(
        get(reader, RULE, &c.key_id).await.replaced_by,
        Some(succ_id),
        "conformance: {RULE}: rotate"
    );

    let patched = record(&t, t0 - Duration::days(1));
    put(writer, RULE, &patched).await;
    let done = Instant::now();
    remote.confirms("insert", done, &[patched.key_id]).await;
    forget(&remote, local.as_ref());
    let patch = Patch {
        name: Some(Some("patched".into())),
        scopes: Some(Some(vec!["orders:read".into()])),
        allowed_ips: Some(Some(parse_allow_list(["203.0.113.0/24"]).unwrap())),
    };
    writer
        .update(&t, &patched.key_id, &patch, t0)
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: update: {e}"));
    let done = Instant::now();
    own("update", &[patched.key_id]);
    remote.confirms("update", done, &[patched.key_id]).await;
    assert_eq!(
        get(reader, RULE, &patched.key_id).await.name.as_deref(),
        Some("patched"),
        "conformance: {RULE}: update"
    );

    let hashed = get(writer, RULE, &patched.key_id).await.secret_hash;
    forget(&remote, local.as_ref());
    let replaced = writer
        .replace_hash(&patched.key_id, &hashed, "$argon2id$upgraded".into())
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: replace_hash: {e}"));
    assert!(
        replaced,
        "conformance: {RULE}: replace_hash must replace the current hash"
    );
    let done = Instant::now();
    own("replace_hash", &[patched.key_id]);
    remote
        .confirms("replace_hash", done, &[patched.key_id])
        .await;

    forget(&remote, local.as_ref());
    writer
        .revoke(&t, &patched.key_id, t0)
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: revoke: {e}"));
    let done = Instant::now();
    own("revoke", &[patched.key_id]);
    remote.confirms("revoke", done, &[patched.key_id]).await;
    assert_eq!(
        get(reader, RULE, &patched.key_id).await.revoked_at,
        Some(t0),
        "conformance: {RULE}: revoke"
    );

    // revoke_all: the successor (active) and the predecessor (grace) are live.
    forget(&remote, local.as_ref());
    let revoked = writer
        .revoke_all(&t, t0)
        .await
        .unwrap_or_else(|e| panic!("conformance: {RULE}: revoke_all: {e}"));
    let done = Instant::now();
    let mut want = vec![c.key_id, succ_id];
    want.sort();
    let mut got = revoked.clone();
    got.sort();
    assert_eq!(
        got, want,
        "conformance: {RULE}: revoke_all revokes the live keys"
    );
    own("revoke_all", &revoked);
    remote.confirms("revoke_all", done, &revoked).await;
}
