//! The PostgreSQL change feed: `LISTEN` for changes, pings for freshness.
//!
//! Two tasks, each with a connection of its own (so a busy pool never delays them):
//!
//! - the **listener** `LISTEN`s on [`CHANNEL`] (where the trigger of migration
//!   `20261201000003_feed` announces each changed key id; `*` after a `TRUNCATE`) and on this
//!   instance's ping channel, and hands what arrives to the feed in arrival order;
//! - the **pinger** notes the instant `t`, then runs `SELECT pg_notify(<ping channel>, n)`
//!   every [`FeedSettings::ping_interval`] (with `synchronous_commit = off`: a ping writes
//!   nothing durable, so it need not wait for a disk flush). The payload also carries a random
//!   secret of this feed, so a ping sent by anyone else on the channel counts for nothing.
//!
//! PostgreSQL delivers notifications in the order their transactions committed, so by the time
//! the listener receives ping `n`, it has received every change committed before `t`: the feed
//! is confirmed fresh as of `t`.
//!
//! Notifications sent while no connection listens are lost. So when the listener's connection
//! fails (an error, the end of the stream, or a ping not back within
//! [`FeedSettings::ping_timeout`]), the feed is reset — every subscriber drops what it cached —
//! and a new connection is opened (at once, then with pauses doubling from 50 ms up to
//! [`FeedSettings::max_reconnect_delay`]). Once it listens, the feed is reset again (whatever
//! was cached while nobody listened is dropped) and the next ping confirms it. Dropping
//! everything is the catch-up: it cannot miss a change, and the records are read again on
//! demand.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use idunox_keys::{ChangeFeed, KeyId};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPoolOptions};
use tokio::sync::{Notify, mpsc};
use tokio::task::AbortHandle;
use tokio::time::MissedTickBehavior;

use super::{AbortOnDrop, Backoff, CHANNEL, FeedError, FeedSettings};

/// At most this many pings wait for their return (older ones are forgotten).
const MAX_OUTSTANDING: usize = 1024;

pub(crate) fn start(
    handle: &tokio::runtime::Handle,
    url: &str,
    feed: ChangeFeed,
    settings: FeedSettings,
) -> Result<Vec<AbortHandle>, FeedError> {
    let options = url.parse::<PgConnectOptions>().map_err(FeedError::Url)?;
    let shared = Arc::new(Shared {
        ping_channel: ping_channel(),
        ping_secret: unique(),
        pings: Mutex::new(Pings::default()),
        ping_now: Notify::new(),
    });
    let listener = handle.spawn(listen_loop(
        options
            .clone()
            .application_name("idunox-keys feed listener"),
        feed,
        settings,
        Arc::clone(&shared),
    ));
    let pinger = handle.spawn(ping_loop(
        options.application_name("idunox-keys feed pinger"),
        settings,
        shared,
    ));
    Ok(vec![listener.abort_handle(), pinger.abort_handle()])
}

/// This instance's own ping channel, so no instance hears another's pings.
fn ping_channel() -> String {
    format!("idunox_feed_{}", unique())
}

/// 71 random bits as text (from the OS; the process id and the time if it has none).
fn unique() -> String {
    KeyId::random().map_or_else(
        |_| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            format!("{}{nanos}", std::process::id())
        },
        |id| id.as_str().to_owned(),
    )
}

/// State the listener and the pinger share.
struct Shared {
    ping_channel: String,
    /// Sent with every ping (as a bind parameter, never in a query's text): the channel's name
    /// shows in `pg_stat_activity`, and a ping anyone could send would confirm freshness.
    ping_secret: String,
    pings: Mutex<Pings>,
    /// The listener asks for a ping at once when it starts listening.
    ping_now: Notify,
}

impl Shared {
    /// The payload of ping `n`.
    fn ping_payload(&self, n: u64) -> String {
        format!("{n}:{}", self.ping_secret)
    }

    /// The number of a ping this instance sent, if `payload` is one.
    fn ping_number(&self, payload: &str) -> Option<u64> {
        let (n, secret) = payload.split_once(':')?;
        (secret == self.ping_secret)
            .then(|| n.parse().ok())
            .flatten()
    }

    fn pings(&self) -> std::sync::MutexGuard<'_, Pings> {
        self.pings.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Pings sent and not yet received, oldest first.
#[derive(Debug, Default)]
struct Pings {
    next: u64,
    outstanding: VecDeque<(u64, Instant)>,
}

impl Pings {
    /// A new ping, sent from now.
    fn send(&mut self) -> u64 {
        self.next += 1;
        if self.outstanding.len() >= MAX_OUTSTANDING {
            self.outstanding.pop_front();
        }
        self.outstanding.push_back((self.next, Instant::now()));
        self.next
    }

    /// Ping `n` could not be sent.
    fn forget(&mut self, n: u64) {
        self.outstanding.retain(|(m, _)| *m != n);
    }

    /// Ping `n` came back: the instant it was sent (and older ones are done with).
    fn received(&mut self, n: u64) -> Option<Instant> {
        let mut sent = None;
        while let Some(&(m, t)) = self.outstanding.front() {
            if m > n {
                break;
            }
            self.outstanding.pop_front();
            if m == n {
                sent = Some(t);
            }
        }
        sent
    }

    /// When the oldest ping still out was sent.
    fn oldest(&self) -> Option<Instant> {
        self.outstanding.front().map(|&(_, t)| t)
    }

    fn clear(&mut self) {
        self.outstanding.clear();
    }
}

/// What the reading task passes on.
enum Msg {
    Change(String),
    Ping(String),
    Lost(String),
}

async fn listen_loop(
    options: PgConnectOptions,
    feed: ChangeFeed,
    settings: FeedSettings,
    shared: Arc<Shared>,
) {
    let mut backoff = Backoff::new(settings.max_reconnect_delay);
    let mut lost_since: Option<Instant> = None;
    loop {
        let opened = tokio::time::timeout(
            settings.connect_timeout,
            listen(&options, &shared, settings),
        )
        .await;
        let listener = match opened {
            Ok(Ok(l)) => l,
            Ok(Err(e)) => {
                if lost_since.is_none() {
                    tracing::warn!(error = %e, "change feed: cannot LISTEN on PostgreSQL; retrying");
                    lost_since = Some(Instant::now());
                }
                tokio::time::sleep(backoff.pause()).await;
                continue;
            }
            Err(_) => {
                lost_since.get_or_insert_with(Instant::now);
                tokio::time::sleep(backoff.pause()).await;
                continue;
            }
        };
        // Listening from here on. Pings sent before may never come back; whatever was cached
        // while nobody listened may have missed a change.
        shared.pings().clear();
        feed.reset();
        shared.ping_now.notify_one();
        backoff.reset();
        match lost_since.take() {
            Some(since) => tracing::info!(
                after_ms = since.elapsed().as_millis() as u64,
                "change feed: listening on PostgreSQL again"
            ),
            None => tracing::debug!("change feed: listening on PostgreSQL"),
        }
        let why = receive(listener, &feed, &shared, settings).await;
        feed.reset();
        lost_since = Some(Instant::now());
        tracing::warn!(
            reason = %why,
            "change feed: lost the PostgreSQL listener; cached records dropped, reconnecting"
        );
    }
}

/// A listener on the change channel and this instance's ping channel.
async fn listen(
    options: &PgConnectOptions,
    shared: &Shared,
    settings: FeedSettings,
) -> Result<PgListener, sqlx::Error> {
    // A pool of one, only so that `PgListener` can hold its connection.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(settings.connect_timeout)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.ignore_pool_close_event(true);
    listener
        .listen_all([CHANNEL, shared.ping_channel.as_str()])
        .await?;
    Ok(listener)
}

/// Hand notifications to the feed until the connection is lost; why it was.
async fn receive(
    mut listener: PgListener,
    feed: &ChangeFeed,
    shared: &Shared,
    settings: FeedSettings,
) -> String {
    // `PgListener::try_recv` must not be cancelled half-way through a message, so it runs in a
    // task of its own and passes what it reads through a channel, which can be waited on
    // beside a timer.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _reader = AbortOnDrop(tokio::spawn(async move {
        loop {
            let msg = match listener.try_recv().await {
                Ok(Some(n)) if n.channel() == CHANNEL => Msg::Change(n.payload().to_owned()),
                Ok(Some(n)) => Msg::Ping(n.payload().to_owned()),
                Ok(None) => Msg::Lost("the connection closed".into()),
                Err(e) => Msg::Lost(e.to_string()),
            };
            let lost = matches!(msg, Msg::Lost(_));
            if tx.send(msg).is_err() || lost {
                return;
            }
        }
    }));
    let mut watchdog = tokio::time::interval((settings.ping_timeout / 4).max(MIN_WATCH));
    watchdog.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut ids: Vec<KeyId> = Vec::new();
    loop {
        tokio::select! {
            msg = rx.recv() => {
                let mut next = msg;
                // Everything already waiting, in order: changes are batched, and handed on
                // before any ping that follows them is confirmed.
                loop {
                    match next {
                        Some(Msg::Change(payload)) => match KeyId::parse(&payload) {
                            Ok(id) => ids.push(id),
                            // `*` (a TRUNCATE) or a payload this crate did not send.
                            Err(_) => {
                                ids.clear();
                                feed.reset();
                            }
                        },
                        Some(Msg::Ping(payload)) => {
                            feed.changed(&ids);
                            ids.clear();
                            let sent = shared
                                .ping_number(&payload)
                                .and_then(|n| shared.pings().received(n));
                            if let Some(t) = sent {
                                feed.confirm(t);
                            }
                        }
                        Some(Msg::Lost(why)) => return why,
                        None => return "the reading task ended".into(),
                    }
                    match rx.try_recv() {
                        Ok(m) => next = Some(m),
                        Err(_) => break,
                    }
                }
                feed.changed(&ids);
                ids.clear();
            }
            _ = watchdog.tick() => {
                let overdue = shared
                    .pings()
                    .oldest()
                    .is_some_and(|t| t.elapsed() > settings.ping_timeout);
                if overdue {
                    return format!(
                        "no ping came back within {} ms",
                        settings.ping_timeout.as_millis()
                    );
                }
            }
        }
    }
}

/// The watchdog looks at least this rarely.
const MIN_WATCH: std::time::Duration = std::time::Duration::from_millis(10);

async fn ping_loop(options: PgConnectOptions, settings: FeedSettings, shared: Arc<Shared>) {
    let mut conn: Option<PgConnection> = None;
    let mut warned = false;
    let mut ticker = tokio::time::interval(settings.ping_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = shared.ping_now.notified() => ticker.reset(),
        }
        if conn.is_none() {
            match tokio::time::timeout(settings.connect_timeout, pinger(&options)).await {
                Ok(Ok(c)) => {
                    conn = Some(c);
                    warned = false;
                }
                Ok(Err(sqlx::Error::Configuration(why))) => {
                    if !warned {
                        tracing::error!("change feed: {why}");
                        warned = true;
                    }
                    tokio::time::sleep(settings.max_reconnect_delay).await;
                    continue;
                }
                _ => continue,
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let n = shared.pings().send();
        let sent = tokio::time::timeout(
            settings.ping_timeout,
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(shared.ping_channel.as_str())
                .bind(shared.ping_payload(n))
                .execute(&mut *c),
        )
        .await;
        if !matches!(sent, Ok(Ok(_))) {
            shared.pings().forget(n);
            conn = None;
        }
    }
}

/// The pinger's connection: a ping need not wait for a disk flush. It refuses to ping (so the
/// feed is never confirmed fresh) while the table lacks its enabled feed triggers: pings alone
/// would then confirm a feed that hears of no change.
async fn pinger(options: &PgConnectOptions) -> Result<PgConnection, sqlx::Error> {
    let mut c = options.connect().await?;
    sqlx::query("SET synchronous_commit = off")
        .execute(&mut c)
        .await?;
    let (n,): (i64,) = sqlx::query_as(TRIGGERS_IN_PLACE).fetch_one(&mut c).await?;
    if n != 2 {
        return Err(sqlx::Error::Configuration(MISSING_TRIGGERS.into()));
    }
    Ok(c)
}

/// How many of the two feed triggers are on `credentials` and fire in normal sessions.
const TRIGGERS_IN_PLACE: &str = "SELECT COUNT(*) FROM pg_trigger \
     WHERE tgrelid = to_regclass('credentials') \
     AND tgname IN ('credentials_feed', 'credentials_feed_truncate') AND tgenabled IN ('O', 'A')";

/// Why a feed without its triggers never confirms.
pub(crate) const MISSING_TRIGGERS: &str = "the credentials table lacks its enabled change-feed \
     triggers (migration 20261201000003_feed): the feed stays unconfirmed, so verifiers do not \
     trust cached records; run the key store's migrations";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_ping_gives_its_instant_and_retires_older_ones() {
        let mut p = Pings::default();
        let a = p.send();
        let b = p.send();
        let c = p.send();
        p.forget(b);
        assert!(p.oldest().is_some());
        let t = p.received(c).unwrap();
        assert!(t <= Instant::now());
        assert!(p.oldest().is_none(), "a is retired by c");
        assert_eq!(p.received(a), None, "already retired");
        for _ in 0..MAX_OUTSTANDING + 5 {
            p.send();
        }
        assert_eq!(p.outstanding.len(), MAX_OUTSTANDING);
        p.clear();
        assert!(p.oldest().is_none());
    }

    #[test]
    fn only_pings_with_the_secret_count() {
        let shared = Shared {
            ping_channel: ping_channel(),
            ping_secret: unique(),
            pings: Mutex::new(Pings::default()),
            ping_now: Notify::new(),
        };
        assert_eq!(shared.ping_number(&shared.ping_payload(7)), Some(7));
        for forged in ["7", "7:", "7:guess", ":", "", "x:y"] {
            assert_eq!(shared.ping_number(forged), None, "{forged:?}");
        }
    }

    #[test]
    fn ping_channels_differ_per_instance() {
        let (a, b) = (ping_channel(), ping_channel());
        assert_ne!(a, b);
        assert!(a.starts_with("idunox_feed_") && a.len() < 64);
    }
}
