//! Graceful shutdown, on `SIGTERM` as on `SIGINT` (Ctrl-C): Rocket's own `shutdown` settings,
//! whose defaults this server keeps (`ctrlc = true`, `signals = ["term"]`, `grace = 2`,
//! `mercy = 3`): it stops accepting connections at once, lets requests in flight finish for
//! `grace` seconds, then closes connections within `mercy` more.
//!
//! Rocket runs its shutdown fairings as soon as shutdown is requested, *while* requests are
//! still in flight, so a flush there would miss the last-used times those requests record (and
//! `rocket_db_pools`' own fairing, which closed the pool right then, is not used: see
//! [`crate::db::pool`]). [`finish`] therefore writes them once more after the server has
//! stopped, when nothing can record any more, closes the pool, and turns the outcome into the
//! exit code: 0 for a clean stop.

use std::process::ExitCode;

use rocket::{Ignite, Orbit, Rocket};

use crate::state::App;

/// Log that shutdown began (attached by [`crate::observe::stage`]).
pub fn announce() -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_shutdown("Shutdown announced", |_| {
        Box::pin(async {
            tracing::info!("shutdown requested: no new connections; finishing requests in flight");
        })
    })
}

/// After `launch` returned: write buffered last-used times, log the end, and give the exit code.
pub async fn finish(launched: Result<Rocket<Ignite>, rocket::Error>) -> ExitCode {
    match launched {
        Ok(rocket) => {
            flush(rocket.state::<App>()).await;
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let stopped: Option<&Rocket<Orbit>> = match e.kind() {
                rocket::error::ErrorKind::Shutdown(rocket, _) => Some(rocket),
                _ => None,
            };
            match stopped {
                Some(rocket) => {
                    // It served, and stopped with connections left over after `grace` + `mercy`.
                    flush(rocket.state::<App>()).await;
                    tracing::warn!(error = %e, "stopped with connections still open");
                    ExitCode::SUCCESS
                }
                None => {
                    tracing::error!(error = %e, "the server could not start");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Write buffered last-used times, then close the pool.
async fn flush(app: Option<&App>) {
    let Some(app) = app else { return };
    match app.keys.store().flush().await {
        Ok(()) => tracing::debug!("last-used times written"),
        Err(e) => tracing::warn!(error = %e, "last-used times not written at shutdown"),
    }
    app.db.pool.close().await;
}
