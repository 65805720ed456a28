//! Shared by this crate's integration tests: a fresh database per test (a temporary SQLite
//! file, or a fresh database on the test PostgreSQL server), credentials to store, and
//! `on_both_backends!`, which runs a test on each backend.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration as StdDuration, Instant};

use idunox_keys::time::{Duration, OffsetDateTime, macros::datetime};
use idunox_keys::{ChangeFeed, Credential, FeedSubscriber, KeyFormat, KeyId, TenantId};
use idunox_keys_sqlx::sqlx::AnyPool;
use idunox_keys_sqlx::{Backend, PoolSettings, connect, migrate};

pub const NOW: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

/// A cheap but well-formed PHC string (never verified in these tests).
pub const HASH: &str = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA";

pub struct Db {
    pub url: String,
    pub backend: Backend,
    pub dir: Option<tempfile::TempDir>,
}

impl Db {
    /// The SQLite file, if any.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("t.sqlite"))
    }
}

/// A fresh, empty database; `None` when PostgreSQL is not available (outside CI).
pub async fn db(backend: Backend) -> Option<Db> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("t.sqlite").display());
            Some(Db {
                url,
                backend,
                dir: Some(dir),
            })
        }
        _ => {
            let admin = idunox_test_support::postgres::admin_url()?;
            Some(on_server(&admin).await)
        }
    }
}

/// A fresh database on the PostgreSQL server at `admin`.
pub async fn on_server(admin: &str) -> Db {
    let admin = admin.to_owned();
    let url =
        tokio::task::spawn_blocking(move || idunox_test_support::postgres::fresh_database(&admin))
            .await
            .unwrap();
    Db {
        url,
        backend: Backend::Postgres,
        dir: None,
    }
}

/// A pool of 4 on `db`, migrated.
pub async fn pool(db: &Db) -> AnyPool {
    let settings = PoolSettings {
        max_connections: 4,
        connect_timeout: StdDuration::from_secs(5),
        ..PoolSettings::default()
    };
    let pool = connect(&db.url, &settings).await.unwrap();
    migrate(&pool, db.backend).await.unwrap();
    pool
}

/// A new active credential of `tenant`, created at `now`, valid a year.
pub fn credential(tenant: &str, now: OffsetDateTime) -> Credential {
    let key = KeyFormat::new("idx", "test").unwrap().generate().unwrap();
    Credential {
        key_id: key.key_id(),
        tenant_id: TenantId::new(tenant),
        name: None,
        masked_key: key.masked().to_owned(),
        secret_hash: HASH.into(),
        created_at: now,
        expires_at: now + Duration::days(365),
        grace_expires_at: None,
        revoked_at: None,
        replaced_by: None,
        replaces: None,
        last_used_at: None,
        scopes: None,
        allowed_ips: None,
    }
}

/// What a feed told its subscriber, with the instant of each event.
#[derive(Default)]
pub struct Recorder {
    events: std::sync::Mutex<Vec<(Event, Instant)>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Changed(KeyId),
    Reset,
}

impl FeedSubscriber for Recorder {
    fn changed(&self, ids: &[KeyId]) {
        let now = Instant::now();
        let mut e = self.events.lock().unwrap();
        e.extend(ids.iter().map(|id| (Event::Changed(*id), now)));
    }
    fn reset(&self) {
        self.events
            .lock()
            .unwrap()
            .push((Event::Reset, Instant::now()));
    }
}

impl Recorder {
    pub fn subscribe(feed: &ChangeFeed) -> std::sync::Arc<Self> {
        let r = std::sync::Arc::new(Self::default());
        feed.subscribe(r.clone());
        r
    }

    /// The key ids seen changed so far.
    pub fn changed(&self) -> Vec<KeyId> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(e, _)| match e {
                Event::Changed(id) => Some(*id),
                Event::Reset => None,
            })
            .collect()
    }

    pub fn resets(&self) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(e, _)| *e == Event::Reset)
            .count()
    }

    /// When `id` was first seen changed, if it was.
    pub fn seen(&self, id: &KeyId) -> Option<Instant> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .find(|(e, _)| *e == Event::Changed(*id))
            .map(|(_, t)| *t)
    }

    pub fn clear(&self) {
        self.events.lock().unwrap().clear();
    }

    /// Wait (at most 10 s) until every id in `ids` was seen changed.
    pub async fn wait_for(&self, ids: &[KeyId]) {
        self.wait_for_on(ids, None).await;
    }

    /// As [`wait_for`](Self::wait_for), naming `feed`'s state when it fails.
    pub async fn wait_for_on(&self, ids: &[KeyId], feed: Option<&ChangeFeed>) {
        let deadline = Instant::now() + StdDuration::from_secs(10);
        loop {
            let seen = self.changed();
            let missing: Vec<_> = ids.iter().filter(|id| !seen.contains(id)).collect();
            if missing.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "never heard of {missing:?} (feed: {feed:?}, resets: {}, events: {:?})",
                self.resets(),
                self.events
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(e, _)| e.clone())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(StdDuration::from_millis(5)).await;
        }
    }
}

/// Wait (at most `within`) until `feed` is fresh within `bound`.
pub async fn wait_fresh(feed: &ChangeFeed, bound: StdDuration, within: StdDuration) {
    let deadline = Instant::now() + within;
    while !feed.is_fresh(bound) {
        assert!(
            Instant::now() < deadline,
            "the feed did not become fresh: {feed:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
}

/// Each named test twice, on SQLite and PostgreSQL, on a multi-threaded runtime.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(idunox_keys_sqlx::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name(idunox_keys_sqlx::Backend::Postgres).await;
            }
        }
    )*};
}
