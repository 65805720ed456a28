//! The command line of `docs/configuration.md`.
//!
//! ```text
//! reference-server                      # = serve
//! reference-server serve [--demo]
//! reference-server tenant add <NAME>    # prints the new tenant id, its only stdout line
//! reference-server user add --tenant <TENANT_ID> --email <EMAIL> [--password-stdin]
//! reference-server staff add --email <EMAIL> [--password-stdin]   # prints the staff id first
//! reference-server staff disable --email <EMAIL>                  # its sessions end at once
//! reference-server staff enable --email <EMAIL>
//! ```
//!
//! Provisioning reads the same configuration as the server (`Rocket.toml`, `ROCKET_*`), opens
//! the database and applies the migrations itself, so it works before the first `serve`.
//! Errors go to stderr with a non-zero exit status.

use std::io::Read;

use clap::{Parser, Subcommand};
use idunox_keys::{BudgetSettings, HashBudget, KeyId, Priority};
use rocket::figment::Figment;
use zeroize::Zeroizing;

use crate::config::ServerConfig;
use crate::db::SqlDb;
use crate::db::accounts::{AccountError, Tenant, User};
use crate::db::staff::StaffError;

pub mod staff;

pub use crate::auth::password_rules::{
    MAX_CHARS as MAX_PASSWORD_CHARS, MIN_CHARS as MIN_PASSWORD_CHARS,
};

/// The Idunox partner-portal reference server.
#[derive(Debug, Parser)]
#[command(name = "reference-server", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve {
        /// Also provision a demo tenant and user and print the sign-in details once.
        #[arg(long)]
        demo: bool,
    },
    /// Manage tenants.
    Tenant {
        /// What to do with tenants.
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage portal users.
    User {
        /// What to do with users.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage Idunox staff accounts (the admin console).
    Staff {
        /// What to do with staff accounts.
        #[command(subcommand)]
        command: StaffCommand,
    },
}

/// Staff commands.
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account; prints its id, then its TOTP secret and otpauth:// URI once.
    Add {
        /// The staff member's email (stored trimmed and lower-case).
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a staff account: it cannot sign in, and its sessions end at once.
    Disable {
        /// The staff member's email.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// Enable a disabled staff account again.
    Enable {
        /// The staff member's email.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
}

/// Tenant commands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; prints its id.
    Add {
        /// The tenant's display name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a portal user in a tenant.
    Add {
        /// The tenant id (`ten_…`), as printed by `tenant add`.
        #[arg(long, value_name = "TENANT_ID")]
        tenant: String,
        /// The user's email (stored trimmed and lower-case).
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A provisioning failure, shown on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Database.
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations.
    #[error("database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Accounts.
    #[error("{0}")]
    Account(#[from] AccountError),
    /// Staff accounts.
    #[error("{0}")]
    Staff(#[from] StaffError),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
}

/// Open the configured database and migrate it.
///
/// # Errors
/// Configuration or database errors.
pub async fn open(figment: &Figment) -> Result<(ServerConfig, SqlDb), CliError> {
    let config = ServerConfig::from_figment(figment)?;
    let db = SqlDb::connect_with(&config.database_url, &crate::db::pool_settings(figment)).await?;
    db.migrate().await?;
    Ok((config, db))
}

pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `tenant add`: create a tenant.
///
/// # Errors
/// Configuration, database or input errors.
pub async fn tenant_add(figment: &Figment, name: &str) -> Result<Tenant, CliError> {
    let name = crate::routes::admin::tenants::check_name(name).map_err(CliError::Invalid)?;
    let (_, db) = open(figment).await?;
    Ok(db.create_tenant(name, now()).await?)
}

/// Check a new password.
///
/// # Errors
/// When it is shorter than [`MIN_PASSWORD_CHARS`] or longer than [`MAX_PASSWORD_CHARS`].
pub fn check_password(password: &str) -> Result<(), CliError> {
    crate::auth::password_rules::check(password).map_err(|p| CliError::Invalid(p.to_string()))
}

/// A strong random password: 24 base62 characters (about 142 bits).
///
/// # Panics
/// When the operating system's random number generator fails.
pub fn generate_password() -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::with_capacity(24));
    for _ in 0..2 {
        s.push_str(
            KeyId::random()
                .expect("the operating system's random number generator failed")
                .as_str(),
        );
    }
    s
}

/// Read a password from stdin: everything, minus one trailing line break.
///
/// # Errors
/// When stdin cannot be read or is not UTF-8.
pub fn read_password_stdin() -> Result<Zeroizing<String>, CliError> {
    let mut s = Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| CliError::Invalid(format!("cannot read the password from stdin: {e}")))?;
    let trimmed = s.strip_suffix('\n').unwrap_or(&s);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Ok(Zeroizing::new(trimmed.to_owned()))
}

/// Check an email well enough to catch typos: one `@`, something on both sides, no spaces.
///
/// # Errors
/// When it does not look like an email.
pub fn check_email(email: &str) -> Result<String, CliError> {
    crate::bodies::email::plausible_email(email)
        .ok_or_else(|| CliError::Invalid(format!("{email:?} is not an email address")))
}

/// `user add`: create a user with this password (already checked).
///
/// # Errors
/// Unknown tenant, duplicate email, configuration or database errors.
pub async fn user_add(
    figment: &Figment,
    tenant: &str,
    email: &str,
    password: &str,
) -> Result<User, CliError> {
    let email = check_email(email)?;
    check_password(password)?;
    let (config, db) = open(figment).await?;
    let hash = hash_password(&config, password).await?;
    Ok(db.create_user(tenant, &email, &hash, now()).await?)
}

/// Hash a portal password with the configured argon2id parameters, on an argon2 budget of the
/// command's own (one worker: the command hashes one password), never on the async executor.
///
/// # Errors
/// When hashing fails.
pub async fn hash_password(config: &ServerConfig, password: &str) -> Result<String, CliError> {
    let budget = HashBudget::new(
        config.argon2.into(),
        BudgetSettings {
            workers: 1,
            capacity: 1,
            reserved: 0,
        },
    )
    .map_err(|e| CliError::Invalid(format!("argon2: {e}")))?;
    budget
        .hash(Priority::Normal, password.as_bytes())
        .await
        .map_err(|e| CliError::Invalid(format!("hashing failed: {e}")))
}

/// The demo account of `serve --demo`.
pub const DEMO_TENANT: &str = "Demo Partner";
/// The demo user's email.
pub const DEMO_EMAIL: &str = "demo@example.com";

/// Provision (or reuse) the demo tenant and user, with a fresh password.
///
/// # Errors
/// Database or hashing errors.
pub async fn provision_demo(
    config: &ServerConfig,
    db: &SqlDb,
) -> Result<(Tenant, User, Zeroizing<String>), CliError> {
    let password = generate_password();
    let hash = hash_password(config, &password).await?;
    let (tenant, user) = match db.user_by_email(DEMO_EMAIL).await? {
        Some(user) => {
            db.set_password(&user.id, &hash).await?;
            let tenant = db
                .tenant(&user.tenant_id)
                .await?
                .ok_or_else(|| CliError::Invalid("the demo user's tenant is missing".into()))?;
            (tenant, user)
        }
        None => {
            let tenant = match db.tenant_by_name(DEMO_TENANT).await? {
                Some(t) => t,
                None => db.create_tenant(DEMO_TENANT, now()).await?,
            };
            let user = db.create_user(&tenant.id, DEMO_EMAIL, &hash, now()).await?;
            (tenant, user)
        }
    };
    db.clear_sign_in_throttle(crate::auth::throttle::Realm::User, DEMO_EMAIL)
        .await?;
    Ok((tenant, user, password))
}

/// `serve --demo`: provision the demo partner account and the demo staff account at ignite and
/// print their sign-in details once the server is listening. Attach after [`crate::build`]'s
/// stages.
pub fn demo_stage() -> rocket::fairing::AdHoc {
    use rocket::fairing::AdHoc;
    AdHoc::try_on_ignite("Demo account", |rocket| async move {
        let Some(app) = rocket.state::<crate::state::App>() else {
            return Err(rocket);
        };
        let demo = async {
            let partner = provision_demo(&app.config, &app.db).await?;
            let staff = staff::provision_demo_staff(&app.config, &app.db, &app.totp_seal).await?;
            Ok::<_, CliError>((partner, staff))
        };
        match demo.await {
            Ok(((tenant, user, password), (staff, staff_password))) => {
                let portal = app.config.portal_url.clone();
                let admin = format!("{}/admin", app.config.api_base_url.trim_end_matches('/'));
                let message = format!(
                    "\nDemo account (password shown once; a new one is set at every `serve --demo`):\n  \
                     portal:   {portal}\n  tenant:   {} ({})\n  email:    {}\n  password: {}\n\n\
                     Demo staff account (password and TOTP secret shown once; new ones at every \
                     `serve --demo`):\n  console:  {admin}\n  email:    {}\n  password: {}\n  \
                     totp:     {} (base32; add it to an authenticator app)\n  uri:      {}\n",
                    tenant.name,
                    tenant.id,
                    user.email,
                    password.as_str(),
                    staff.staff.email,
                    staff_password.as_str(),
                    staff.secret.base32().as_str(),
                    staff.secret.uri(&staff.staff.email).as_str(),
                );
                let message = std::sync::Mutex::new(Some(Zeroizing::new(message)));
                Ok(
                    rocket.attach(AdHoc::on_liftoff("Demo sign-in details", move |_| {
                        Box::pin(async move {
                            let taken = message
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .take();
                            if let Some(m) = taken {
                                // On stdout on purpose: the person who started the demo reads it.
                                println!("{}", m.as_str());
                            }
                        })
                    })),
                )
            }
            Err(e) => {
                tracing::error!("cannot provision the demo accounts: {e}");
                Err(rocket)
            }
        }
    })
}

#[cfg(test)]
mod email_tests {
    use super::check_email;

    #[test]
    fn emails_are_judged_as_sent() {
        assert_eq!(check_email(" Ops@Acme.Test ").unwrap(), "ops@acme.test");
        // 254 characters, not bytes: 201 two-byte characters pass.
        let wide = format!("{}@{}", "é".repeat(100), "é".repeat(100));
        assert!(check_email(&wide).is_ok());
        // Control characters anywhere, even where trimming would drop them.
        assert!(check_email("\tops@acme.test").is_err());
        assert!(check_email("ops@acme.test\n").is_err());
        // The length as sent, surrounding spaces included.
        let long = format!("{}@acme.test", "a".repeat(244));
        assert!(check_email(&long).is_ok());
        assert!(check_email(&format!(" {long}")).is_err());
        for bad in ["", "@", "a@", "@b", "a@b@c", "a b@c"] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
    }
}
