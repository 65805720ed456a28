//! Opening the pool: `rocket_db_pools`' own settings and defaults (`databases.idunox`:
//! `max_connections` 4 × workers, `connect_timeout` 5 s, …), without its fairing.
//!
//! `Db::init()`, the fairing `rocket_db_pools` 0.2 offers, closes the pool as soon as shutdown
//! is *requested*: every request still in flight then fails with 503, and the last-used times
//! buffered until then can no longer be written. This stage opens the same pool and manages it
//! as [`Db`] (so `Db::fetch` and `Connection<Db>` work as before), and leaves closing it to the
//! binary once the server has stopped (see [`crate::observe::shutdown`]). A pool that cannot be
//! opened stops the start with an error saying why.

use rocket::fairing::AdHoc;
use rocket::figment::providers::Serialized;
use rocket::{Build, Rocket};
use rocket_db_pools::{Database, Pool};

use super::Db;

/// Open the pool and manage it as [`Db`]; attach where `Db::init()` would go.
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Database pool", |rocket: Rocket<Build>| async move {
        let workers: usize = rocket
            .figment()
            .extract_inner(rocket::Config::WORKERS)
            .unwrap_or_else(|_| rocket::Config::default().workers);
        let figment = rocket
            .figment()
            .focus(&format!("databases.{}", Db::NAME))
            .join(Serialized::default("max_connections", workers * 4))
            .join(Serialized::default("connect_timeout", 5));
        match <sqlx::AnyPool as Pool>::init(&figment).await {
            Ok(pool) => Ok(rocket.manage(Db(pool))),
            Err(e) => {
                tracing::error!("cannot open the database (databases.{}): {e}", Db::NAME);
                Err(rocket)
            }
        }
    })
}
