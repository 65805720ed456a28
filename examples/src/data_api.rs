//! `data-api`: a partner-facing data API, written with axum, that accepts only requests carrying
//! a valid `X-Api-Key`.
//!
//! The whole integration is the one `.layer(ApiKeyLayer::new(verifier))` line in [`router`]:
//! handlers behind it take the [`Verified`] key (tenant, key id, status) as an extractor, and
//! refusals answer the JSON envelope of `docs/http-api.md` without reaching them.
//!
//! Keys are issued elsewhere — by the partner portal — and this service only reads them: it needs
//! a [`KeyStore`] (to look keys up) and a [`TenantDirectory`] (to name tenants), both generic.
//!
//! - With `--database-url` (or `IDUNOX_DATABASE_URL`) it reads the portal's own database,
//!   SQLite or PostgreSQL, through [`SqlKeyStore`]: each verification is one indexed lookup by
//!   key id plus the verifier's warm cache; the status is read fresh every time, so a revoke in
//!   the portal is refused here on the very next request.
//! - Without it, it runs on a [`MemoryStore`] and, at start, issues one demo key and prints it
//!   once, so you can try it:
//!
//! ```sh
//! cargo run -p idunox-examples --bin data-api -- --port 8081
//! curl -i -H "X-Api-Key: <the printed key>" http://127.0.0.1:8081/v1/partner-auth-probe
//! cargo run -p idunox-examples --bin data-api -- --database-url sqlite://idunox.sqlite
//! ```
//!
//! It listens on 127.0.0.1 only. `--help` lists the options.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use idunox_keys::{
    KeyFormat, KeyManager, KeyStore, MemoryStore, Refusal, TenantId, VerifiedKey, Verifier,
};
use idunox_keys_sqlx::{PoolSettings, SqlKeyStore};
use idunox_keys_tower::{ApiKeyLayer, JsonRefusal, OnRefusal, Verified};
use serde_json::{Value, json};

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "data-api",
    about = "An axum data API guarded by X-Api-Key (127.0.0.1 only)."
)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, env = "DATA_API_PORT", default_value_t = 8081)]
    port: u16,
    /// The portal's database (`sqlite://idunox.sqlite`, `postgres://…`); without it, an
    /// in-memory demo store with one printed key.
    #[arg(long, env = "IDUNOX_DATABASE_URL")]
    database_url: Option<String>,
    /// Key prefix, as the portal's `key_prefix`.
    #[arg(long, env = "IDUNOX_KEY_PREFIX", default_value = "idx")]
    key_prefix: String,
    /// Key environment, as the portal's `environment`.
    #[arg(long, env = "IDUNOX_ENVIRONMENT", default_value = "test")]
    environment: String,
    /// Database pool size (default: 4 per core).
    #[arg(long, env = "IDUNOX_DB_MAX_CONNECTIONS")]
    max_connections: Option<u32>,
    /// Seconds a request waits for a database connection before answering 503.
    #[arg(long, env = "IDUNOX_DB_CONNECT_TIMEOUT", default_value_t = 5)]
    connect_timeout: u64,
    /// Serve the same routes with no key check (a benchmark baseline; never in production).
    #[arg(long)]
    no_auth: bool,
}

/// Where tenant names come from: the portal's `tenants` table, or a map in the demo.
trait TenantDirectory: Send + Sync + 'static {
    /// The display name of tenant `id`, if it is known; `Err` when it cannot be read now.
    fn name(&self, id: &TenantId) -> impl Future<Output = Result<Option<String>, String>> + Send;
}

impl TenantDirectory for HashMap<TenantId, String> {
    async fn name(&self, id: &TenantId) -> Result<Option<String>, String> {
        Ok(self.get(id).cloned())
    }
}

/// The portal's `tenants` table. It belongs to the portal (the reference server), not to the key
/// store, so this service reads it with its own query.
#[derive(Clone)]
struct PortalTenants(idunox_keys_sqlx::sqlx::AnyPool);

impl TenantDirectory for PortalTenants {
    async fn name(&self, id: &TenantId) -> Result<Option<String>, String> {
        use idunox_keys_sqlx::sqlx::{self, Row};
        let row = sqlx::query("SELECT name FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.0)
            .await
            .map_err(|e| error_chain(&e))?;
        row.map(|r| r.try_get::<String, _>("name").map_err(|e| error_chain(&e)))
            .transpose()
    }
}

/// The routes, without the key check.
fn routes<T: TenantDirectory>(tenants: T) -> Router {
    Router::new()
        .route("/v1/partner-auth-probe", get(probe::<T>))
        .route("/v1/ping", get(ping))
        .with_state(Arc::new(tenants))
}

/// The API: every route is behind the key layer, over any key store and tenant directory.
/// Refusals are the JSON answers of `docs/http-api.md`; a store failure (503) is also logged, at
/// most once a second.
fn router<K: KeyStore, T: TenantDirectory>(verifier: Verifier<K>, tenants: T) -> Router {
    let json = JsonRefusal::new();
    let last_logged = Arc::new(AtomicI64::new(0));
    let on_refusal = move |refusal: &Refusal| -> Response {
        if let Refusal::Unavailable(e) = refusal {
            let now = idunox_keys::time::OffsetDateTime::now_utc().unix_timestamp();
            if last_logged.swap(now, Ordering::Relaxed) != now {
                eprintln!(
                    "error: key store unavailable, answering 503: {}",
                    error_chain(e)
                );
            }
        }
        json.on_refusal(refusal)
    };
    routes(tenants).layer(ApiKeyLayer::new(verifier).on_refusal(on_refusal))
}

/// An error and its sources, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `GET /v1/partner-auth-probe`: who am I, as `docs/http-api.md` says.
async fn probe<T: TenantDirectory>(
    State(tenants): State<Arc<T>>,
    Verified(key): Verified,
) -> Response {
    let name = match tenants.name(&key.tenant_id).await {
        Ok(name) => name,
        Err(e) => {
            eprintln!("error: tenant directory unavailable, answering 503: {e}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::RETRY_AFTER, "1"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                Json(json!({"error": {"code": "service_unavailable",
                    "message": "The service is temporarily unavailable; retry shortly."}})),
            )
                .into_response();
        }
    };
    Json(json!({
        "ok": true,
        "tenant": { "id": key.tenant_id.as_str(), "name": name },
        "credential": {
            "id": key.key_id.as_str(),
            "masked_key": key.masked_key(),
            "status": key.status.as_str(),
        },
    }))
    .into_response()
}

/// `GET /v1/ping`: the smallest data route — `{"ok":true,"tenant":<id or null>}`. Behind the
/// layer the tenant is the key's; with `--no-auth` it is null.
async fn ping(req: Request) -> Json<Value> {
    let tenant = req
        .extensions()
        .get::<VerifiedKey>()
        .map(|k| k.tenant_id.as_str().to_owned());
    Json(json!({ "ok": true, "tenant": tenant }))
}

/// Bind 127.0.0.1:`port` and print the address.
async fn listen(port: u16) -> Result<(tokio::net::TcpListener, String), String> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    Ok((listener, format!("http://{addr}")))
}

async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Print in one go; a closed stdout (`data-api | head -3`) must not take the server down.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// On the portal's database: verify what the portal issued.
async fn run_on_database(args: &Args, url: &str, format: KeyFormat) -> Result<(), String> {
    let backend = idunox_keys_sqlx::Backend::from_url(url)
        .ok_or("the database URL must start with sqlite: or postgres:")?;
    let defaults = PoolSettings::default();
    let settings = PoolSettings {
        max_connections: args.max_connections.unwrap_or(defaults.max_connections),
        connect_timeout: Duration::from_secs(args.connect_timeout),
        ..defaults
    };
    let pool = idunox_keys_sqlx::connect(url, &settings)
        .await
        .map_err(|e| format!("cannot open the database: {}", error_chain(&e)))?;
    // The portal owns the schema; refuse to start on a database it has never set up.
    idunox_keys_sqlx::sqlx::query(
        "SELECT c.key_id, t.name FROM credentials c, tenants t WHERE 1 = 0",
    )
    .fetch_optional(&pool)
    .await
    .map_err(|e| {
        format!(
            "the database has no portal schema ({}): start the reference-server on it once \
                 (or run `reference-server tenant add …`), which applies it",
            error_chain(&e)
        )
    })?;
    let tenants = PortalTenants(pool.clone());
    let store = SqlKeyStore::new(pool);
    let app = if args.no_auth {
        routes(tenants)
    } else {
        router(Verifier::new(store.clone(), format.clone()), tenants)
    };
    let (listener, url) = listen(args.port).await?;
    say(&format!(
        "data-api listening on {url}\n\
         verifying {}_{}_… keys from the portal's {} database{}\n",
        format.prefix(),
        format.environment(),
        backend.as_str(),
        if args.no_auth {
            " (--no-auth: NO KEY CHECK)"
        } else {
            ""
        },
    ));
    let served = serve(listener, app).await;
    if let Err(e) = store.flush().await {
        eprintln!("warning: last-used times not written at shutdown: {e}");
    }
    served.map_err(|e| e.to_string())
}

/// The demo: an in-memory store with one key, printed once.
async fn run_demo(args: &Args, format: KeyFormat) -> Result<(), String> {
    let store = Arc::new(MemoryStore::new());
    let tenant = TenantId::new("tnt_demo");
    let tenants = HashMap::from([(tenant.clone(), "Demo Partner".to_owned())]);
    // Production argon2 settings, as the portal would use.
    let issued = KeyManager::new(store.clone(), format.clone())
        .create(&tenant, Some("data-api demo".into()), None)
        .await
        .map_err(|e| e.to_string())?;
    let app = if args.no_auth {
        routes(tenants)
    } else {
        router(Verifier::new(store, format), tenants)
    };
    let (listener, url) = listen(args.port).await?;
    // The plaintext exists only here: shown once, never logged again.
    let key = issued.api_key.expose_secret();
    say(&format!(
        "data-api listening on {url}\n\
         demo API key for tenant \"Demo Partner\" (tnt_demo), shown once:\n\
         \x20 {key}\n\
         try:\n\
         \x20 curl -i -H 'X-Api-Key: {key}' {url}/v1/partner-auth-probe\n"
    ));
    drop(issued);
    serve(listener, app).await.map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let format = match KeyFormat::new(&args.key_prefix, &args.environment) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --key-prefix / --environment: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match args.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => run_on_database(&args, url, format).await,
        None => run_demo(&args, format).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_env_and_defaults() {
        let a = Args::try_parse_from(["data-api"]).unwrap();
        assert_eq!(
            (a.port, a.key_prefix.as_str(), a.environment.as_str()),
            (8081, "idx", "test")
        );
        assert!(a.database_url.is_none() && !a.no_auth);
        let a = Args::try_parse_from([
            "data-api",
            "--port",
            "0",
            "--database-url",
            "sqlite://x.db",
            "--no-auth",
        ])
        .unwrap();
        assert_eq!(a.port, 0);
        assert_eq!(a.database_url.as_deref(), Some("sqlite://x.db"));
        assert!(a.no_auth);
        assert!(Args::try_parse_from(["data-api", "--port", "x"]).is_err());
        assert!(Args::try_parse_from(["data-api", "--what"]).is_err());
    }
}
