//! The managed application state: configuration, key manager, verifier, password work, session
//! keys and the clock, built once at ignite from the figment and the database.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use idunox_keys::{BudgetSettings, Clock, HashBudget, KeyManager, SecretHasher, Verifier};
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
    /// Create, rotate, revoke, list.
    pub keys: KeyManager<SqlKeyStore>,
    /// The `X-Api-Key` verifier.
    pub verifier: Verifier<SqlKeyStore>,
    /// argon2id for portal passwords, bounded (and the dummy hash of unknown emails).
    pub passwords: PasswordWork,
    /// Password checks in flight per client address.
    pub sign_ins: InFlight,
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
    /// When the argon2 parameters are invalid or the dummy password hash cannot be made.
    pub fn new(config: ServerConfig, db: SqlDb, clock: Arc<dyn Clock>) -> Result<Self, String> {
        let hasher = SecretHasher::new(config.argon2.into()).map_err(|e| format!("argon2: {e}"))?;
        // One argon2 budget for key hashing and cold verification.
        let budget = HashBudget::new(config.argon2.into(), BudgetSettings::default())
            .map_err(|e| format!("argon2: {e}"))?;
        let store = SqlKeyStore::new(db.pool.clone());
        let policy = config.policy();
        let keys = KeyManager::new(store.clone(), config.key_format())
            .with_budget(budget.clone())
            .with_policy(policy.clone())
            .with_clock(clock.clone());
        let verifier = Verifier::builder(store, config.key_format())
            .clock(clock.clone())
            .policy(&policy)
            .budget(budget)
            // Raising `argon2` in the configuration upgrades each key at its next cold check.
            .upgrade_hashes(true)
            .try_build()
            .map_err(|e| e.to_string())?;
        let slots = std::thread::available_parallelism().map_or(2, usize::from) * 2;
        Ok(Self {
            jwt: JwtKeys::new(config.jwt_settings()),
            totp_seal: TotpSeal::new(&config.staff_totp_key),
            config,
            db,
            keys,
            verifier,
            passwords: PasswordWork::new(hasher, slots)?,
            sign_ins: InFlight::default(),
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
                eprintln!("error: {e}");
                return Err(rocket);
            }
        };
        if config.jwt_secret_source == SecretSource::Ephemeral {
            eprintln!(
                "warning: no jwt_secret configured (ROCKET_JWT_SECRET or jwt_secret in \
                 Rocket.toml); using a random one: portal sessions end when the server restarts"
            );
        }
        if config.staff_totp_key_source == crate::config::TotpKeySource::JwtSecret {
            eprintln!(
                "warning: no staff_totp_key configured; staff TOTP secrets are sealed with a key \
                 derived from jwt_secret, so changing jwt_secret makes every staff member enrol \
                 again (set staff_totp_key to keep them apart)"
            );
        }
        let Some(db) = rocket.state::<SqlDb>().cloned() else {
            eprintln!("error: the application state needs the database (see the error above)");
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
                            eprintln!("warning: last-used times not written at shutdown: {e}");
                        }
                    })
                });
                Ok(rocket.manage(app).attach(flush))
            }
            Err(e) => {
                eprintln!("error: {e}");
                Err(rocket)
            }
        }
    })
}
