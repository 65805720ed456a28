//! The managed application state: configuration, the argon2 budget, key manager, verifier,
//! password work, session keys and the clock, built once at ignite from the figment and the
//! database.
//!
//! **One argon2 budget** ([`HashBudget`], sized by `argon2_workers`, `argon2_capacity` and
//! `argon2_reserved`) runs every argon2 computation of the process: key creation and rotation
//! (the [`KeyManager`]), cold key verification (the [`Verifier`]), sign-in and password changes
//! ([`PasswordWork`]). Its dummy hash is made at start, so the first unknown-email sign-in costs
//! what every later one costs.
//!
//! **Cached verification.** With `max_staleness_ms` above zero (default 1000), the key store
//! runs its change feed and the verifier caches whole records, trusting them while the feed is
//! confirmed fresh within that bound (see `docs/verification.md`); a change made through this
//! process reaches its own verifier at once, other instances' within the bound. With `0` the
//! store has no feed and every verification reads the database.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use idunox_keys::{Clock, HashBudget, KeyManager, Verifier};
use idunox_keys_sqlx::FeedSettings;
use rocket::fairing::AdHoc;
use rocket::{Build, Rocket};

use crate::auth::in_flight::InFlight;
use crate::auth::jwt::JwtKeys;
use crate::auth::password_work::PasswordWork;
use crate::auth::totp_seal::TotpSeal;
use crate::config::{SecretSource, ServerConfig};
use crate::db::{SqlDb, SqlKeyStore};

/// The clock the server reads, managed before ignite so tests can inject a `ManualClock`.
#[derive(Clone)]
pub struct ClockHandle(pub Arc<dyn Clock>);

/// Everything a handler needs.
pub struct App {
    /// The configuration.
    pub config: ServerConfig,
    /// The database.
    pub db: SqlDb,
    /// The process's one argon2 budget (also inside `keys`, `verifier` and `passwords`).
    pub budget: HashBudget,
    /// The key rules over the store, for reads; changes go through [`App::keys_as`], which
    /// audits them.
    pub keys: KeyManager<SqlKeyStore>,
    /// The `X-Api-Key` verifier.
    pub verifier: Verifier<SqlKeyStore>,
    /// argon2id for portal passwords, on the budget (and the dummy hash of unknown emails).
    pub passwords: PasswordWork,
    /// Password checks in flight per client address.
    pub sign_ins: InFlight,
    /// Staff listings across tenants in flight per staff member.
    pub staff_searches: InFlight,
    /// Failed sign-ins for unknown emails since the last maintenance round (logged as a count,
    /// never as emails).
    pub unknown_email_failures: Arc<AtomicU64>,
    /// Session tokens (partners' and staff's).
    pub jwt: JwtKeys,
    /// Seals and opens staff TOTP secrets.
    pub totp_seal: TotpSeal,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// Build the state.
    ///
    /// # Errors
    /// When the argon2 parameters are invalid, the dummy password hash cannot be made, or the
    /// change feed cannot start.
    pub fn new(config: ServerConfig, db: SqlDb, clock: Arc<dyn Clock>) -> Result<Self, String> {
        let budget = HashBudget::new(config.argon2.into(), config.argon2_budget)
            .map_err(|e| format!("argon2: {e}"))?;
        budget
            .prepare_dummy()
            .map_err(|e| format!("cannot make the dummy password hash: {e}"))?;
        let store = if config.max_staleness.is_zero() {
            SqlKeyStore::new(db.pool.clone())
        } else {
            SqlKeyStore::with_feed(
                db.pool.clone(),
                FeedSettings::for_max_staleness(config.max_staleness),
            )
            .map_err(|e| format!("the key store's change feed: {e}"))?
        };
        let policy = config.policy();
        let keys = KeyManager::new(store.clone(), config.key_format())
            .with_budget(budget.clone())
            .with_policy(policy.clone())
            .with_clock(clock.clone());
        let verifier = Verifier::builder(store, config.key_format())
            .clock(clock.clone())
            .policy(&policy)
            .budget(budget.clone())
            .max_staleness(config.max_staleness)
            // Raising `argon2` in the configuration upgrades each key at its next cold check.
            .upgrade_hashes(true)
            .try_build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            jwt: JwtKeys::new(config.jwt_settings()),
            totp_seal: TotpSeal::new(&config.staff_totp_key),
            config,
            db,
            passwords: PasswordWork::new(budget.clone()),
            budget,
            keys,
            verifier,
            sign_ins: InFlight::sign_ins(),
            staff_searches: InFlight::staff_searches(),
            unknown_email_failures: Arc::new(AtomicU64::new(0)),
            clock,
        })
    }

    /// The current instant.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }
}

/// Read the configuration, check it, and manage [`App`]. Attach after [`crate::db::stage`].
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Application state", |rocket: Rocket<Build>| async move {
        let config = match ServerConfig::from_figment(rocket.figment()) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("{e}");
                return Err(rocket);
            }
        };
        if config.jwt_secret_source == SecretSource::Ephemeral {
            tracing::warn!(
                "no jwt_secret configured (ROCKET_JWT_SECRET or jwt_secret in \
                 Rocket.toml); using a random one: portal sessions end when the server restarts"
            );
        }
        if config.staff_totp_key_source == crate::config::TotpKeySource::JwtSecret {
            tracing::warn!(
                "no staff_totp_key configured; staff TOTP secrets are sealed with a key \
                 derived from jwt_secret, so changing jwt_secret makes every staff member enrol \
                 again (set staff_totp_key to keep them apart)"
            );
        }
        let Some(db) = rocket.state::<SqlDb>().cloned() else {
            tracing::error!("the application state needs the database (see the error above)");
            return Err(rocket);
        };
        let clock = rocket.state::<ClockHandle>().map_or_else(
            || Arc::new(idunox_keys::SystemClock) as Arc<dyn Clock>,
            |c| c.0.clone(),
        );
        match App::new(config, db, clock) {
            Ok(app) => {
                // Buffered last-used times are written at shutdown (the store writes them within
                // a second otherwise).
                let store = app.keys.store().clone();
                let flush = AdHoc::on_shutdown("Write last-used times", |_| {
                    Box::pin(async move {
                        if let Err(e) = store.flush().await {
                            tracing::warn!(error = %e, "last-used times not written at shutdown");
                        }
                    })
                });
                Ok(rocket.manage(app).attach(flush))
            }
            Err(e) => {
                tracing::error!("{e}");
                Err(rocket)
            }
        }
    })
}
