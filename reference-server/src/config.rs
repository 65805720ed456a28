//! Configuration: Rocket's own figment (`Rocket.toml`, `ROCKET_*`), with this server's defaults
//! underneath so that `cargo run -p reference-server` works with no file and no variable.
//!
//! | key | default | meaning |
//! | --- | --- | --- |
//! | `databases.idunox.url` | `sqlite://idunox.sqlite?mode=rwc` | SQLite file (created) or `postgres://…` |
//! | `databases.idunox.max_connections` / `min_connections` | 4 × `workers` / `0` | pool size (see [`crate::db::pool_settings`]) |
//! | `databases.idunox.connect_timeout` / `idle_timeout` | `5` / none | seconds; a request waits `connect_timeout` before its 503 while the database is down |
//! | `jwt_secret` | random, with a warning | HS256 key for portal sessions, at least 32 bytes |
//! | `jwt_ttl_seconds` | `3600` | session lifetime |
//! | `jwt_issuer` / `jwt_audience` | `idunox-reference-server` / `idunox-partner-portal` | checked on every token |
//! | `jwt_staff_audience` | `idunox-staff-console` | `aud` of staff tokens; must differ from `jwt_audience`, so neither kind of token passes for the other |
//! | `staff_totp_key` | derived from `jwt_secret` | seals staff TOTP secrets at rest (at least 32 bytes); see [`crate::auth::totp_seal`] |
//! | `environment` / `key_prefix` | `test` / `idx` | the key format, `idx_test_…` |
//! | `api_base_url` | `http://<address>:<port>` | shown by `/v1/partner/config` |
//! | `docs_url` | `<api_base_url>/docs` | the API reference, shown by `/v1/partner/config` |
//! | `portal_url` | `<api_base_url>/partner` | shown by `/v1/partner/config` |
//! | `default_validity_days` | `365` | validity of a new key |
//! | `rotation_grace_hours` | `[24, 48, 72]` | allowed rotation overlaps |
//! | `expiring_threshold_days` | `30` | a key reads `expiring` this close to its expiry |
//! | `argon2` | `{m_cost = 19456, t_cost = 2, p_cost = 1}` | cost of new hashes (keys and passwords) |
//! | `argon2_workers` | CPU cores | argon2 runs at once (threads, each holding one `m_cost` buffer): the one budget of key hashing, cold key verification, sign-in and password changes |
//! | `argon2_capacity` | 4 × `argon2_workers` | argon2 runs admitted at once, running plus waiting; past it 503 + `Retry-After` at once |
//! | `argon2_reserved` | `argon2_workers` | of the capacity, runs kept for cold verifications of keys that verified before |
//! | `max_keys_per_tenant` | `1000` | live keys a tenant may hold; a create beyond it is 409 `key_limit_reached` |
//! | `scopes` | `[]` | the scope catalogue, `[{name, description}]` (see [`ScopeConfig`]) |
//! | `max_staleness_ms` | `1000` | how old a cached credential record may be when used; `0` reads the store on every request |
//! | `staff_search_timeout_ms` | `5000` | PostgreSQL: the longest a statement of a staff listing across tenants may run (`statement_timeout`), 1 to 60 000; past it 503 (SQLite has no statement timeout: see [`crate::routes::admin::credentials`]) |
//! | `access_log` | `true` | one line per request in the log (see [`crate::observe::request_log`]) |
//! | `log_format` | `text` | `text`: human lines; `json`: one JSON object per line (both on stderr; `RUST_LOG` filters, default `info`; see [`crate::observe::logging`]) |
//! | `metrics_token` | none | a bearer token (at least 16 bytes) that lets clients on other machines read `/metrics`; without it only this machine may (see [`crate::observe::access`]) |
//! | `trusted_proxies` | `[]` | CIDRs of reverse proxies whose `X-Forwarded-For` is believed (see [`crate::guards::client_ip`]) |
//! | `audit_retention_days` | `365` | audit entries older than this are deleted (at start, then hourly) |
//! | `body_timeout_seconds` | `10` | a JSON body not received whole within this many seconds answers 408 |
//! | `keep_alive` | `0` | Rocket's HTTP/1 keep-alive, off: Rocket 0.5 has no idle timeout, so a kept-alive connection would stay open as long as the client likes (see the README's "Slow clients") |
//! | `limits.json` | `64 KiB` | largest accepted JSON body (413 above) |
//! | `log_level` | `off` | Rocket's own logger (through the `log` crate, not `tracing`): off, so the request log is the one line per request; turning it on prints Rocket's unstructured lines, raw request URIs included, beside the log (see [`crate::observe::logging`]) |
//!
//! ```
//! let figment = reference_server::config::figment()
//!     .merge(("jwt_secret", "0123456789abcdef0123456789abcdef"));
//! let config = reference_server::config::ServerConfig::from_figment(&figment).unwrap();
//! assert_eq!(config.key_prefix, "idx");
//! assert!(!format!("{config:?}").contains("0123456789abcdef"));
//! ```

use core::fmt;

use idunox_keys::restrictions::is_scope_name;
use idunox_keys::{BudgetSettings, HashParams, KeyFormat, KeyId, Policy};
use ipnet::IpNet;
use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::{Figment, Profile};
use serde::Deserialize;
use serde_json::json;

/// The database name under `databases.` in the configuration.
pub const DATABASE_NAME: &str = "idunox";

/// The default database: a SQLite file next to where the server runs, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://idunox.sqlite?mode=rwc";

/// The shortest accepted `jwt_secret`, in bytes.
pub const MIN_JWT_SECRET_LEN: usize = 32;

/// Rocket's configuration figment with this server's defaults underneath: the same sources and
/// precedence as [`rocket::Config::figment`] (`Rocket.toml` or `ROCKET_CONFIG`, then `ROCKET_*`
/// variables, profile from `ROCKET_PROFILE`).
pub fn figment() -> Figment {
    Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(defaults()))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
}

/// This server's defaults, as a figment dictionary.
fn defaults() -> serde_json::Value {
    json!({
        "log_level": "off",
        "limits": { "json": "64 KiB" },
        "databases": { DATABASE_NAME: { "url": DEFAULT_DATABASE_URL } },
        "jwt_ttl_seconds": 3600,
        "jwt_issuer": "idunox-reference-server",
        "jwt_audience": "idunox-partner-portal",
        "jwt_staff_audience": "idunox-staff-console",
        "environment": "test",
        "key_prefix": "idx",
        "default_validity_days": 365,
        "rotation_grace_hours": [24, 48, 72],
        "expiring_threshold_days": 30,
        "argon2": { "m_cost": HashParams::DEFAULT.m_cost, "t_cost": HashParams::DEFAULT.t_cost,
                    "p_cost": HashParams::DEFAULT.p_cost },
        "access_log": true,
        "max_keys_per_tenant": 1000,
        "scopes": [],
        "max_staleness_ms": 1000,
        "staff_search_timeout_ms": 5000,
        "trusted_proxies": [],
        "audit_retention_days": 365,
        "body_timeout_seconds": 10,
        "keep_alive": 0,
    })
}

/// Argon2id cost parameters as configured.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct Argon2Config {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl From<Argon2Config> for HashParams {
    fn from(c: Argon2Config) -> Self {
        HashParams {
            m_cost: c.m_cost,
            t_cost: c.t_cost,
            p_cost: c.p_cost,
        }
    }
}

/// One entry of the scope catalogue (setting `scopes`): `{name = "orders:read", description =
/// "Read orders"}`. Names are 1 to 64 ASCII letters, digits and `: . _ -`
/// ([`is_scope_name`]); a description is 1 to [`MAX_SCOPE_DESCRIPTION_CHARS`] characters without
/// control characters. Both are listed in the public configuration.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScopeConfig {
    /// The scope's name, as keys carry it and routes require it.
    pub name: String,
    /// What it allows, for people choosing scopes.
    pub description: String,
}

/// The longest scope description, in characters.
pub const MAX_SCOPE_DESCRIPTION_CHARS: usize = 200;
/// The most scopes a catalogue may hold.
pub const MAX_SCOPES: usize = 100;
/// The longest `max_staleness_ms`: a minute.
pub const MAX_STALENESS_MS: u64 = 60_000;
/// The longest `staff_search_timeout_ms`: a minute.
pub const MAX_STAFF_SEARCH_TIMEOUT_MS: u64 = 60_000;

/// The raw configuration as read from the figment.
#[derive(Deserialize)]
struct Raw {
    address: std::net::IpAddr,
    port: u16,
    databases: std::collections::BTreeMap<String, DatabaseUrl>,
    jwt_secret: Option<String>,
    jwt_ttl_seconds: u64,
    jwt_issuer: String,
    jwt_audience: String,
    jwt_staff_audience: String,
    staff_totp_key: Option<String>,
    environment: String,
    key_prefix: String,
    api_base_url: Option<String>,
    docs_url: Option<String>,
    portal_url: Option<String>,
    default_validity_days: u32,
    rotation_grace_hours: Vec<u32>,
    expiring_threshold_days: u32,
    argon2: Argon2Config,
    argon2_workers: Option<usize>,
    argon2_capacity: Option<usize>,
    argon2_reserved: Option<usize>,
    access_log: bool,
    max_keys_per_tenant: u32,
    scopes: Vec<ScopeConfig>,
    max_staleness_ms: u64,
    staff_search_timeout_ms: u64,
    trusted_proxies: Vec<String>,
    audit_retention_days: u32,
    body_timeout_seconds: u64,
}

#[derive(Deserialize)]
struct DatabaseUrl {
    url: String,
}

/// Where the JWT secret came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// `jwt_secret` in the configuration.
    Configured,
    /// None configured: random, for this process only.
    Ephemeral,
}

/// Where the key that seals staff TOTP secrets came from (see [`crate::auth::totp_seal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotpKeySource {
    /// `staff_totp_key` in the configuration.
    Configured,
    /// Derived from the configured `jwt_secret` (no `staff_totp_key`): changing `jwt_secret`
    /// then makes every enrolled authenticator unusable.
    JwtSecret,
    /// Neither is configured: random, for this process only. `staff add` refuses to enrol
    /// anyone with it (the server could not read the secret after a restart).
    Ephemeral,
}

/// The validated configuration of the server. `Debug` never shows the JWT secret.
#[derive(Clone)]
pub struct ServerConfig {
    /// `databases.idunox.url`.
    pub database_url: String,
    /// HS256 key for portal sessions.
    pub jwt_secret: Vec<u8>,
    /// Whether `jwt_secret` was configured or drawn at random.
    pub jwt_secret_source: SecretSource,
    /// Session lifetime in seconds.
    pub jwt_ttl_seconds: u64,
    /// `iss` of issued tokens, checked on every token.
    pub jwt_issuer: String,
    /// `aud` of issued partner tokens, checked on every partner token.
    pub jwt_audience: String,
    /// `aud` of issued staff tokens, checked on every staff token (differs from `jwt_audience`).
    pub jwt_staff_audience: String,
    /// The secret that staff TOTP secrets are sealed with (never shown by `Debug`).
    pub staff_totp_key: Vec<u8>,
    /// Where `staff_totp_key` came from.
    pub staff_totp_key_source: TotpKeySource,
    /// Key environment (`test`, `live`).
    pub environment: String,
    /// Key prefix (`idx`).
    pub key_prefix: String,
    /// Base URL of the data API.
    pub api_base_url: String,
    /// Where partners read the integration docs.
    pub docs_url: String,
    /// Where the portal page lives.
    pub portal_url: String,
    /// Validity of a new key, in days.
    pub default_validity_days: u32,
    /// Allowed rotation overlaps, in hours.
    pub rotation_grace_hours: Vec<u32>,
    /// A key reads `expiring` this many days before it expires.
    pub expiring_threshold_days: u32,
    /// Cost of new argon2id hashes.
    pub argon2: Argon2Config,
    /// The size of the process's one argon2 budget (workers, capacity, reserved share).
    pub argon2_budget: BudgetSettings,
    /// The most live keys one tenant may hold.
    pub max_keys_per_tenant: u32,
    /// The scope catalogue, in the configured order.
    pub scopes: Vec<ScopeConfig>,
    /// How stale a cached credential record may be; zero reads the store on every request.
    pub max_staleness: std::time::Duration,
    /// On PostgreSQL, the longest a statement of a staff listing across tenants may run.
    pub staff_search_timeout: std::time::Duration,
    /// One line per request in the log.
    pub access_log: bool,
    /// Reverse proxies whose `X-Forwarded-For` entries are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Audit entries older than this many days are deleted.
    pub audit_retention_days: u32,
    /// How long a JSON request body may take to arrive.
    pub body_timeout: std::time::Duration,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The figment could not be read.
    #[error("cannot read the configuration: {0}")]
    Figment(#[from] Box<rocket::figment::Error>),
    /// `jwt_secret` is too short.
    #[error(
        "jwt_secret must be at least {MIN_JWT_SECRET_LEN} bytes (it has {0}); \
         generate one with e.g. `openssl rand -base64 48`"
    )]
    ShortJwtSecret(usize),
    /// `databases.idunox.url` is missing.
    #[error("databases.{DATABASE_NAME}.url is not set")]
    NoDatabase,
    /// The database URL is neither SQLite nor PostgreSQL.
    #[error("databases.{DATABASE_NAME}.url must start with sqlite: or postgres:")]
    UnsupportedDatabase,
    /// An invalid value.
    #[error("{0}")]
    Invalid(String),
}

impl ServerConfig {
    /// The session-token settings, for [`crate::auth::jwt::JwtKeys::new`].
    pub fn jwt_settings(&self) -> crate::auth::jwt::JwtSettings<'_> {
        crate::auth::jwt::JwtSettings {
            secret: &self.jwt_secret,
            issuer: &self.jwt_issuer,
            audience: &self.jwt_audience,
            staff_audience: &self.jwt_staff_audience,
            ttl_seconds: self.jwt_ttl_seconds,
        }
    }

    /// Read and check the configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the offending key.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let raw: Raw = figment.extract().map_err(Box::new)?;
        let database_url = raw
            .databases
            .get(DATABASE_NAME)
            .map(|d| normalize_database_url(&d.url))
            .ok_or(ConfigError::NoDatabase)?;
        crate::db::Backend::from_url(&database_url).ok_or(ConfigError::UnsupportedDatabase)?;
        let (jwt_secret, jwt_secret_source) = match raw.jwt_secret {
            Some(s) if s.len() < MIN_JWT_SECRET_LEN => {
                return Err(ConfigError::ShortJwtSecret(s.len()));
            }
            Some(s) => (s.into_bytes(), SecretSource::Configured),
            None => (random_secret(), SecretSource::Ephemeral),
        };
        let (staff_totp_key, staff_totp_key_source) = match raw.staff_totp_key {
            Some(s) if s.len() < MIN_JWT_SECRET_LEN => {
                return Err(ConfigError::Invalid(format!(
                    "staff_totp_key must be at least {MIN_JWT_SECRET_LEN} bytes (it has {}); \
                     generate one with e.g. `openssl rand -base64 48`",
                    s.len()
                )));
            }
            Some(s) => (s.into_bytes(), TotpKeySource::Configured),
            None if jwt_secret_source == SecretSource::Configured => {
                (jwt_secret.clone(), TotpKeySource::JwtSecret)
            }
            None => (jwt_secret.clone(), TotpKeySource::Ephemeral),
        };
        if raw.jwt_staff_audience == raw.jwt_audience {
            return Err(ConfigError::Invalid(
                "jwt_staff_audience must differ from jwt_audience, or a partner's token would \
                 pass for a staff token"
                    .into(),
            ));
        }
        KeyFormat::new(&raw.key_prefix, &raw.environment)
            .map_err(|e| ConfigError::Invalid(format!("key_prefix / environment: {e}")))?;
        if !(1..=idunox_keys::lifecycle::MAX_VALIDITY_DAYS).contains(&raw.default_validity_days) {
            return Err(ConfigError::Invalid(
                "default_validity_days must be between 1 and 365".into(),
            ));
        }
        if raw.rotation_grace_hours.is_empty() || raw.rotation_grace_hours.contains(&0) {
            return Err(ConfigError::Invalid(
                "rotation_grace_hours must be a non-empty list of positive hours".into(),
            ));
        }
        let trusted_proxies = raw
            .trusted_proxies
            .iter()
            .map(|c| parse_cidr(c))
            .collect::<Result<Vec<_>, _>>()?;
        if raw.audit_retention_days == 0 {
            return Err(ConfigError::Invalid(
                "audit_retention_days must be at least 1".into(),
            ));
        }
        if raw.body_timeout_seconds == 0 {
            return Err(ConfigError::Invalid(
                "body_timeout_seconds must be at least 1".into(),
            ));
        }
        if raw.jwt_ttl_seconds == 0 {
            return Err(ConfigError::Invalid(
                "jwt_ttl_seconds must be positive".into(),
            ));
        }
        idunox_keys::SecretHasher::new(raw.argon2.into())
            .map_err(|e| ConfigError::Invalid(format!("argon2: {e}")))?;
        let argon2_budget =
            budget_settings(raw.argon2_workers, raw.argon2_capacity, raw.argon2_reserved)?;
        if raw.max_keys_per_tenant == 0 {
            return Err(ConfigError::Invalid(
                "max_keys_per_tenant must be at least 1".into(),
            ));
        }
        check_scopes(&raw.scopes)?;
        if raw.max_staleness_ms > MAX_STALENESS_MS {
            return Err(ConfigError::Invalid(format!(
                "max_staleness_ms must be at most {MAX_STALENESS_MS} (a minute): a change to a \
                 key would take longer than that to reach the other instances"
            )));
        }
        if !(1..=MAX_STAFF_SEARCH_TIMEOUT_MS).contains(&raw.staff_search_timeout_ms) {
            return Err(ConfigError::Invalid(format!(
                "staff_search_timeout_ms must be from 1 to {MAX_STAFF_SEARCH_TIMEOUT_MS} (a \
                 minute): it bounds the database time of one staff search"
            )));
        }
        let host = match raw.address {
            std::net::IpAddr::V6(a) => format!("[{a}]"),
            std::net::IpAddr::V4(a) => a.to_string(),
        };
        let api_base_url = raw
            .api_base_url
            .unwrap_or_else(|| format!("http://{host}:{}", raw.port));
        let api_base = api_base_url.trim_end_matches('/').to_owned();
        Ok(Self {
            database_url,
            jwt_secret,
            jwt_secret_source,
            jwt_ttl_seconds: raw.jwt_ttl_seconds,
            jwt_issuer: raw.jwt_issuer,
            jwt_audience: raw.jwt_audience,
            jwt_staff_audience: raw.jwt_staff_audience,
            staff_totp_key,
            staff_totp_key_source,
            environment: raw.environment,
            key_prefix: raw.key_prefix,
            docs_url: raw.docs_url.unwrap_or_else(|| format!("{api_base}/docs")),
            portal_url: raw
                .portal_url
                .unwrap_or_else(|| format!("{api_base}/partner")),
            api_base_url,
            default_validity_days: raw.default_validity_days,
            rotation_grace_hours: raw.rotation_grace_hours,
            expiring_threshold_days: raw.expiring_threshold_days,
            argon2: raw.argon2,
            argon2_budget,
            max_keys_per_tenant: raw.max_keys_per_tenant,
            scopes: raw.scopes,
            max_staleness: std::time::Duration::from_millis(raw.max_staleness_ms),
            staff_search_timeout: std::time::Duration::from_millis(raw.staff_search_timeout_ms),
            access_log: raw.access_log,
            trusted_proxies,
            audit_retention_days: raw.audit_retention_days,
            body_timeout: std::time::Duration::from_secs(raw.body_timeout_seconds),
        })
    }

    /// The key format (`idx_test_…`).
    pub fn key_format(&self) -> KeyFormat {
        // Checked in `from_figment`.
        KeyFormat::new(&self.key_prefix, &self.environment)
            .unwrap_or_else(|_| KeyFormat::new("idx", "test").expect("a valid default format"))
    }

    /// The lifecycle policy: validity, overlaps, expiring window, the live-key limit and the
    /// scope catalogue's names.
    pub fn policy(&self) -> Policy {
        Policy {
            default_validity_days: self.default_validity_days,
            grace_hours: self.rotation_grace_hours.clone(),
            expiring_window: time::Duration::days(i64::from(self.expiring_threshold_days)),
            max_live_keys: Some(self.max_keys_per_tenant as usize),
            scopes: self.scopes.iter().map(|s| s.name.clone()).collect(),
        }
    }
}

/// The argon2 budget's size: each setting given, or derived from the workers as
/// [`BudgetSettings::default`] derives it from the cores.
fn budget_settings(
    workers: Option<usize>,
    capacity: Option<usize>,
    reserved: Option<usize>,
) -> Result<BudgetSettings, ConfigError> {
    let default = BudgetSettings::default();
    let workers = workers.unwrap_or(default.workers);
    if !(1..=256).contains(&workers) {
        return Err(ConfigError::Invalid(
            "argon2_workers must be between 1 and 256".into(),
        ));
    }
    let capacity = capacity.unwrap_or(workers * 4);
    if !(1..=65_536).contains(&capacity) {
        return Err(ConfigError::Invalid(
            "argon2_capacity must be between 1 and 65536".into(),
        ));
    }
    let reserved = reserved.unwrap_or(workers.min(capacity - 1));
    if reserved >= capacity {
        return Err(ConfigError::Invalid(
            "argon2_reserved must be below argon2_capacity, or nothing but known keys could \
             ever run"
                .into(),
        ));
    }
    Ok(BudgetSettings {
        workers,
        capacity,
        reserved,
    })
}

/// The scope catalogue: well-formed names, none twice, bounded descriptions.
fn check_scopes(scopes: &[ScopeConfig]) -> Result<(), ConfigError> {
    if scopes.len() > MAX_SCOPES {
        return Err(ConfigError::Invalid(format!(
            "scopes: at most {MAX_SCOPES} scopes"
        )));
    }
    for (i, s) in scopes.iter().enumerate() {
        if !is_scope_name(&s.name) {
            return Err(ConfigError::Invalid(format!(
                "scopes: {:?} is not a scope name (1 to 64 ASCII letters, digits and : . _ -, \
                 e.g. orders:read)",
                s.name
            )));
        }
        if scopes[..i].iter().any(|t| t.name == s.name) {
            return Err(ConfigError::Invalid(format!(
                "scopes: {:?} is listed twice",
                s.name
            )));
        }
        let chars = s.description.chars().count();
        if chars == 0
            || chars > MAX_SCOPE_DESCRIPTION_CHARS
            || s.description.chars().any(char::is_control)
        {
            return Err(ConfigError::Invalid(format!(
                "scopes: the description of {:?} must be 1 to {MAX_SCOPE_DESCRIPTION_CHARS} \
                 characters without control characters",
                s.name
            )));
        }
    }
    Ok(())
}

/// One `trusted_proxies` entry: a CIDR (`10.0.0.0/8`, `fd00::/8`) or a bare address (that one
/// host). An IPv4-mapped IPv6 address or network is read as the IPv4 one, as client addresses are;
/// host bits are ignored. A `/0` is refused: trusting every address would let any client write
/// the address it is counted as.
fn parse_cidr(text: &str) -> Result<IpNet, ConfigError> {
    let t = text.trim();
    let net = t
        .parse::<IpNet>()
        .or_else(|_| t.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            ConfigError::Invalid(format!(
                "trusted_proxies: {text:?} is not an IP address or CIDR (e.g. 10.0.0.0/8)"
            ))
        })?;
    if net.prefix_len() == 0 {
        return Err(ConfigError::Invalid(format!(
            "trusted_proxies: {text:?} trusts every address, so any client could choose the \
             address it is counted as; name your proxies' addresses or networks"
        )));
    }
    Ok(match net {
        IpNet::V6(v6) => match v6.addr().to_ipv4_mapped() {
            Some(v4) if v6.prefix_len() >= 96 => IpNet::V4(
                ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).expect("a prefix of at most 32"),
            ),
            _ => net,
        },
        IpNet::V4(_) => net,
    }
    .trunc())
}

/// A random 36-character base62 secret (about 214 bits).
fn random_secret() -> Vec<u8> {
    let mut s = String::with_capacity(36);
    for _ in 0..3 {
        s.push_str(
            KeyId::random()
                .expect("the operating system's random number generator failed")
                .as_str(),
        );
    }
    s.into_bytes()
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field("jwt_secret", &"<redacted>")
            .field("jwt_secret_source", &self.jwt_secret_source)
            .field("jwt_ttl_seconds", &self.jwt_ttl_seconds)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("jwt_staff_audience", &self.jwt_staff_audience)
            .field("staff_totp_key", &"<redacted>")
            .field("staff_totp_key_source", &self.staff_totp_key_source)
            .field("environment", &self.environment)
            .field("key_prefix", &self.key_prefix)
            .field("api_base_url", &self.api_base_url)
            .field("docs_url", &self.docs_url)
            .field("portal_url", &self.portal_url)
            .field("default_validity_days", &self.default_validity_days)
            .field("rotation_grace_hours", &self.rotation_grace_hours)
            .field("expiring_threshold_days", &self.expiring_threshold_days)
            .field("argon2", &self.argon2)
            .field("argon2_budget", &self.argon2_budget)
            .field("max_keys_per_tenant", &self.max_keys_per_tenant)
            .field("scopes", &self.scopes)
            .field("max_staleness", &self.max_staleness)
            .field("staff_search_timeout", &self.staff_search_timeout)
            .field("access_log", &self.access_log)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("audit_retention_days", &self.audit_retention_days)
            .field("body_timeout", &self.body_timeout)
            .finish()
    }
}

/// A SQLite URL without a `mode` gets `mode=rwc`, so the file is created when missing (as with
/// `rocket_db_pools`' own SQLite pool; sqlx's `Any` driver does not do it by itself). Other
/// URLs, and in-memory SQLite, are returned unchanged.
pub fn normalize_database_url(url: &str) -> String {
    idunox_keys_sqlx::normalize_url(url)
}

/// [`normalize_database_url`] applied to `databases.idunox.url` in `figment`.
pub fn normalize_figment(figment: Figment) -> Figment {
    let key = format!("databases.{DATABASE_NAME}.url");
    match figment.extract_inner::<String>(&key) {
        Ok(url) => {
            let normal = normalize_database_url(&url);
            if normal == url {
                figment
            } else {
                figment.merge((key, normal))
            }
        }
        Err(_) => figment,
    }
}

/// A database URL with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    // scheme://user:password@host/...
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_their_file() {
        assert_eq!(
            normalize_database_url("sqlite://idunox.sqlite"),
            "sqlite://idunox.sqlite?mode=rwc"
        );
        assert_eq!(
            normalize_database_url("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        for same in [
            "sqlite://a.db?mode=ro",
            "sqlite::memory:",
            "postgres://u:p@h/db",
            DEFAULT_DATABASE_URL,
        ] {
            assert_eq!(normalize_database_url(same), same);
        }
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn public_urls_follow_the_api_base_url() {
        let base = figment().merge(("jwt_secret", "0123456789abcdef0123456789abcdef"));
        let c = ServerConfig::from_figment(&base).unwrap();
        assert_eq!(c.api_base_url, "http://127.0.0.1:8000");
        assert_eq!(c.docs_url, "http://127.0.0.1:8000/docs");
        assert_eq!(c.portal_url, "http://127.0.0.1:8000/partner");
        let c = ServerConfig::from_figment(
            &base
                .clone()
                .merge(("api_base_url", "https://api.example.com/")),
        )
        .unwrap();
        assert_eq!(c.docs_url, "https://api.example.com/docs");
        let c =
            ServerConfig::from_figment(&base.merge(("docs_url", "https://docs.example.com/keys")))
                .unwrap();
        assert_eq!(c.docs_url, "https://docs.example.com/keys");
    }

    #[test]
    fn trusted_proxies_parse_as_networks() {
        let base = figment().merge(("jwt_secret", "0123456789abcdef0123456789abcdef"));
        let c = ServerConfig::from_figment(&base).unwrap();
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.audit_retention_days, 365);
        assert_eq!(c.body_timeout, std::time::Duration::from_secs(10));
        let with = base.merge((
            "trusted_proxies",
            serde_json::json!([
                "10.0.0.0/8",
                "192.168.1.7",
                "fd00::/8",
                "::ffff:172.16.0.0/108"
            ]),
        ));
        let nets: Vec<String> = ServerConfig::from_figment(&with)
            .unwrap()
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            nets,
            ["10.0.0.0/8", "192.168.1.7/32", "fd00::/8", "172.16.0.0/12"]
        );
    }

    #[test]
    fn keys_scopes_staleness_and_the_budget() {
        let base = figment().merge(("jwt_secret", "0123456789abcdef0123456789abcdef"));
        let c = ServerConfig::from_figment(&base).unwrap();
        assert_eq!(c.max_keys_per_tenant, 1000);
        assert!(c.scopes.is_empty());
        assert_eq!(c.max_staleness, std::time::Duration::from_secs(1));
        assert_eq!(c.staff_search_timeout, std::time::Duration::from_secs(5));
        assert_eq!(c.argon2_budget, BudgetSettings::default());
        assert_eq!(c.policy().max_live_keys, Some(1000));
        let c = ServerConfig::from_figment(
            &base
                .clone()
                .merge(("argon2_workers", 3))
                .merge(("max_staleness_ms", 0))
                .merge((
                    "scopes",
                    serde_json::json!([
                        {"name": "orders:read", "description": "Read orders"},
                        {"name": "orders:write", "description": "Create and cancel orders"}
                    ]),
                )),
        )
        .unwrap();
        assert_eq!(
            c.argon2_budget,
            BudgetSettings {
                workers: 3,
                capacity: 12,
                reserved: 3
            }
        );
        assert!(c.max_staleness.is_zero());
        assert_eq!(c.policy().scopes, ["orders:read", "orders:write"]);
        let c = ServerConfig::from_figment(
            &base
                .clone()
                .merge(("argon2_workers", 1))
                .merge(("argon2_capacity", 1)),
        )
        .unwrap();
        assert_eq!(c.argon2_budget.reserved, 0, "one run, kept for nobody");
        assert!(
            ServerConfig::from_figment(
                &base
                    .merge(("argon2_capacity", 2))
                    .merge(("argon2_reserved", 2))
            )
            .is_err()
        );
    }

    #[test]
    fn defaults_and_checks() {
        let base = figment().merge(("jwt_secret", "0123456789abcdef0123456789abcdef"));
        let c = ServerConfig::from_figment(&base).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.jwt_ttl_seconds, 3600);
        assert_eq!(c.default_validity_days, 365);
        assert_eq!(c.expiring_threshold_days, 30);
        assert_eq!(c.argon2.m_cost, HashParams::DEFAULT.m_cost);
        assert_eq!(c.jwt_secret_source, SecretSource::Configured);
        let short = base.clone().merge(("jwt_secret", "x".repeat(31)));
        assert!(matches!(
            ServerConfig::from_figment(&short),
            Err(ConfigError::ShortJwtSecret(31))
        ));
        let none = figment();
        let c = ServerConfig::from_figment(&none).unwrap();
        assert_eq!(c.jwt_secret_source, SecretSource::Ephemeral);
        assert!(c.jwt_secret.len() >= MIN_JWT_SECRET_LEN);
        for (k, v) in [
            ("default_validity_days", serde_json::json!(0)),
            ("rotation_grace_hours", serde_json::json!([])),
            ("key_prefix", serde_json::json!("i-x")),
            ("databases.idunox.url", serde_json::json!("mysql://x")),
            ("trusted_proxies", serde_json::json!(["10.0.0.0/33"])),
            ("trusted_proxies", serde_json::json!(["proxy.internal"])),
            ("trusted_proxies", serde_json::json!(["0.0.0.0/0"])),
            ("trusted_proxies", serde_json::json!(["::/0"])),
            ("audit_retention_days", serde_json::json!(0)),
            ("body_timeout_seconds", serde_json::json!(0)),
            ("staff_totp_key", serde_json::json!("short")),
            ("max_keys_per_tenant", serde_json::json!(0)),
            ("max_staleness_ms", serde_json::json!(60_001)),
            ("staff_search_timeout_ms", serde_json::json!(0)),
            ("staff_search_timeout_ms", serde_json::json!(60_001)),
            ("argon2_workers", serde_json::json!(0)),
            ("argon2_capacity", serde_json::json!(0)),
            (
                "scopes",
                serde_json::json!([{"name": "orders read", "description": "x"}]),
            ),
            ("scopes", serde_json::json!([{"name": "orders:read"}])),
            (
                "scopes",
                serde_json::json!([{"name": "a", "description": ""}]),
            ),
            (
                "scopes",
                serde_json::json!([{"name": "a", "description": "line\nbreak"}]),
            ),
            (
                "scopes",
                serde_json::json!([{"name": "a", "description": "x", "extra": 1}]),
            ),
            (
                "scopes",
                serde_json::json!([
                    {"name": "orders:read", "description": "Read orders"},
                    {"name": "orders:read", "description": "Again"}
                ]),
            ),
            (
                "jwt_staff_audience",
                serde_json::json!("idunox-partner-portal"),
            ),
        ] {
            assert!(
                ServerConfig::from_figment(&base.clone().merge((k, v))).is_err(),
                "{k}"
            );
        }
    }
}
