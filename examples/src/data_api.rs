//! `data-api`: a partner-facing data API, written with axum, that accepts only requests carrying
//! a valid `X-Api-Key`, enforces each key's IP allow-list and lets each route state the scope it
//! needs.
//!
//! The whole integration is in [`router`]: `.route_layer(ApiKeyLayer::new(verifier))` in front
//! of the routes, `RequireScope::new("orders:read")` / `RequireScope::new("orders:write")` on
//! the read and the write route, and serving with `ConnectInfo` so the layer knows the client's
//! address. Handlers behind it take the [`Verified`] key (tenant, key id, status, scopes) as an
//! extractor, and refusals answer the JSON error envelope without reaching them.
//!
//! Keys are issued elsewhere — by the partner portal — and this service only reads them: it needs
//! a [`KeyStore`] (to look keys up) and a [`TenantDirectory`] (to name tenants), both generic.
//!
//! - With `--database-url` (or `IDUNOX_DATABASE_URL`) it reads the portal's own database,
//!   SQLite or PostgreSQL, through [`SqlKeyStore`]. It never creates a database (a mistyped
//!   SQLite path is an error naming it; `--read-only` opens SQLite read-only), refuses to start
//!   on one without the portal's schema, saying why, and follows the database's change feed: warm
//!   keys need no database round trip, and a revoke in the portal is refused here within
//!   `--max-staleness-ms` (in milliseconds, in practice). The portal's scope catalogue must name
//!   `orders:read` and `orders:write` for keys restricted to them.
//! - Without it, it runs on a [`MemoryStore`] and, at start, issues two demo keys and prints them
//!   once — one that may read and write orders from anywhere, one that may only read them and
//!   only from this machine — so you can try it:
//!
//! ```sh
//! cargo run -p idunox-examples --bin data-api -- --port 8081
//! curl -i -H "X-Api-Key: <a printed key>" http://127.0.0.1:8081/v1/orders
//! curl -i -H "X-Api-Key: <a printed key>" -H 'Content-Type: application/json' \
//!      -d '{"item":"widget","quantity":3}' http://127.0.0.1:8081/v1/orders
//! cargo run -p idunox-examples --bin data-api -- --database-url sqlite://idunox.sqlite
//! ```
//!
//! It listens on 127.0.0.1 only. `--help` lists the options.
//!
//! For operators (see [`observe`]): `GET /healthz`, `GET /readyz` (the database answers) and
//! `GET /metrics` (Prometheus text; this machine, or `--metrics-token` from elsewhere) need no
//! key; logs go to stderr through `tracing` (`RUST_LOG`, default `info`; `--log-format json`),
//! one line per request and one per refused key with the reason; SIGTERM or Ctrl-C stops it
//! gracefully: requests in flight finish, last-used times are written, exit code 0.

mod observe;
mod portal_config;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use idunox_keys::restrictions::{IpNet, parse_allow_list};
use idunox_keys::{
    KeyFormat, KeyManager, KeyStore, MemoryStore, NewKey, Policy, Refusal, TenantId, VerifiedKey,
    Verifier,
};
use idunox_keys_sqlx::{PoolSettings, SqlKeyStore};
use idunox_keys_tower::{
    ApiKeyLayer, JsonRefusal, OnRefusal, RequireScope, Verified, error_response,
};
use serde_json::{Value, json};

use observe::health::{MetricsToken, Ops, Readiness};
use observe::logging::LogFormat;
use observe::metrics::Metrics;
use observe::request_log::{RequestLog, log_request};

/// The scope the read route needs.
const READ: &str = "orders:read";
/// The scope the write route needs.
const WRITE: &str = "orders:write";

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
    /// The portal's base URL (`http://127.0.0.1:8000`): read the key format (`key_prefix`,
    /// `environment`) from its `GET /v1/partner/config` at start instead of the two flags below.
    #[arg(long, env = "IDUNOX_PORTAL_URL")]
    portal_url: Option<String>,
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
    /// Open a SQLite database read-only: keys are verified, last use is not recorded.
    #[arg(long, env = "IDUNOX_DB_READ_ONLY")]
    read_only: bool,
    /// Serve the same routes with no key check (a benchmark baseline for `/v1/ping`; routes
    /// that read the verified key answer 500 then; never in production).
    #[arg(long)]
    no_auth: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed for IP allow-lists (comma-separated
    /// CIDRs; none by default: the TCP peer is the client).
    #[arg(long, env = "IDUNOX_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<String>,
    /// How stale a cached credential record may be, in milliseconds, when the store has a
    /// change feed (`0`: read the store on every request).
    #[arg(long, env = "IDUNOX_MAX_STALENESS_MS", default_value_t = 1000)]
    max_staleness_ms: u64,
    /// Log lines on stderr: `text` (human) or `json` (one object per line). `RUST_LOG` filters
    /// (default `info`).
    #[arg(long, env = "DATA_API_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// A bearer token (at least 16 bytes) that lets clients on other machines read `/metrics`;
    /// without it only this machine may.
    #[arg(long, env = "DATA_API_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
}

/// The layer's settings from the command line.
#[derive(Debug)]
struct Guard {
    trusted_proxies: Vec<IpNet>,
    max_staleness: Duration,
}

impl Guard {
    fn from_args(args: &Args) -> Result<Self, String> {
        let entries = args
            .trusted_proxies
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        let trusted_proxies = if entries.clone().next().is_none() {
            Vec::new()
        } else {
            parse_allow_list(entries).map_err(|e| format!("--trusted-proxies: {e}"))?
        };
        Ok(Self {
            trusted_proxies,
            max_staleness: Duration::from_millis(args.max_staleness_ms),
        })
    }

    fn verifier<K: KeyStore>(&self, store: K, format: KeyFormat) -> Verifier<K> {
        Verifier::builder(store, format)
            .max_staleness(self.max_staleness)
            .build()
    }
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

/// One order of the demo data (kept in memory).
#[derive(Clone, Debug)]
struct Order {
    id: u64,
    item: String,
    quantity: u32,
}

/// Each tenant's latest orders, in memory: at most [`Orders::KEEP`] per tenant (older ones are
/// dropped), so the write route cannot grow the process without bound.
#[derive(Default)]
struct Orders {
    next: AtomicU64,
    by_tenant: Mutex<HashMap<TenantId, VecDeque<Order>>>,
}

impl Orders {
    const KEEP: usize = 100;

    fn list(&self, tenant: &TenantId) -> Vec<Order> {
        let map = self
            .by_tenant
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.get(tenant)
            .map(|o| o.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    fn add(&self, tenant: &TenantId, item: String, quantity: u32) -> Order {
        let order = Order {
            id: self.next.fetch_add(1, Ordering::Relaxed) + 1,
            item,
            quantity,
        };
        let mut map = self
            .by_tenant
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let list = map.entry(tenant.clone()).or_default();
        if list.len() >= Self::KEEP {
            list.pop_front();
        }
        list.push_back(order.clone());
        order
    }
}

/// What the handlers share.
struct App<T> {
    tenants: T,
    orders: Orders,
}

/// The routes, without the key check. The read and the write route each state their scope.
fn routes<T: TenantDirectory>(tenants: T) -> Router {
    Router::new()
        .route("/v1/partner-auth-probe", get(probe::<T>))
        .route("/v1/ping", get(ping))
        // Each handler states the scope it needs (`Handler::layer`: no extra boxing per request).
        .route(
            "/v1/orders",
            get(list_orders::<T>.layer(RequireScope::new(READ)))
                .post(create_order::<T>.layer(RequireScope::new(WRITE))),
        )
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(Arc::new(App {
            tenants,
            orders: Orders::default(),
        }))
}

/// The API: every route is behind the key layer, over any key store and tenant directory.
/// Refusals are the JSON error envelope, counted in `metrics` by reason (the layer itself logs
/// each one with its reason); a store failure (503) is also logged with its cause, at most once
/// a second. `route_layer`: a path that no route matches answers 404 without a key check.
fn router<K: KeyStore, T: TenantDirectory>(
    verifier: Verifier<K>,
    tenants: T,
    guard: &Guard,
    metrics: &Arc<Metrics>,
) -> Router {
    let json = JsonRefusal::new();
    let last_logged = Arc::new(AtomicI64::new(0));
    let counted = Arc::clone(metrics);
    let on_refusal = move |parts: &Parts, refusal: &Refusal| -> Response {
        if let Some(v) = &counted.verifications {
            v.refused(refusal);
        }
        if let Refusal::Unavailable(e) = refusal {
            let now = idunox_keys::time::OffsetDateTime::now_utc().unix_timestamp();
            if last_logged.swap(now, Ordering::Relaxed) != now {
                tracing::error!(error = %error_chain(e), "key store unavailable, answering 503");
            }
        }
        json.on_refusal(parts, refusal)
    };
    routes(tenants)
        // Inside the key layer: reached only with an accepted key.
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(metrics),
            count_accepted,
        ))
        .route_layer(
            ApiKeyLayer::new(verifier)
                .trusted_proxies(guard.trusted_proxies.iter().copied())
                .on_refusal(on_refusal),
        )
}

/// Count an accepted key (the middleware runs behind the key layer only).
async fn count_accepted(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(v) = &metrics.verifications {
        v.ok();
    }
    next.run(req).await
}

/// The whole service: `app`, the operations routes beside it (no key needed), and the request
/// log around everything.
fn service(app: Router, ops: Ops, format: &KeyFormat) -> Router {
    let log = RequestLog {
        metrics: Arc::clone(&ops.metrics),
        format: format.clone(),
    };
    app.merge(observe::health::routes(Arc::new(ops)))
        .layer(axum::middleware::from_fn_with_state(log, log_request))
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
    State(app): State<Arc<App<T>>>,
    Verified(key): Verified,
) -> Response {
    let name = match app.tenants.name(&key.tenant_id).await {
        Ok(name) => name,
        Err(e) => {
            tracing::error!(error = %e, "tenant directory unavailable, answering 503");
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
            "scopes": key.scopes(),
            "allowed_ips": key.allowed_ips().map(|l| l.iter().map(ToString::to_string).collect::<Vec<_>>()),
        },
    }))
    .into_response()
}

fn order_json(o: &Order) -> Value {
    json!({ "id": o.id, "item": o.item, "quantity": o.quantity })
}

/// `GET /v1/orders` (scope `orders:read`): this tenant's latest orders, newest first.
async fn list_orders<T: TenantDirectory>(
    State(app): State<Arc<App<T>>>,
    Verified(key): Verified,
) -> Json<Value> {
    let orders: Vec<Value> = app
        .orders
        .list(&key.tenant_id)
        .iter()
        .map(order_json)
        .collect();
    Json(json!({ "orders": orders }))
}

/// `POST /v1/orders` (scope `orders:write`): `{"item": "…" (1 to 100 characters),
/// "quantity": 1..=1000}` → 201 `{"order": {…}}`.
async fn create_order<T: TenantDirectory>(
    State(app): State<Arc<App<T>>>,
    Verified(key): Verified,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => {
            let status = rejection.status();
            let code = match status {
                StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                StatusCode::BAD_REQUEST => "invalid_json",
                _ => "invalid_request",
            };
            return error_response(status, code, "The body must be a JSON object.");
        }
    };
    let item = body["item"]
        .as_str()
        .filter(|s| (1..=100).contains(&s.chars().count()) && !s.chars().any(char::is_control));
    let quantity = body["quantity"]
        .as_u64()
        .filter(|q| (1..=1000).contains(q))
        .and_then(|q| u32::try_from(q).ok());
    let (Some(item), Some(quantity)) = (item, quantity) else {
        return error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "An order needs an item of 1 to 100 characters and a quantity from 1 to 1000.",
        );
    };
    let order = app.orders.add(&key.tenant_id, item.to_owned(), quantity);
    (
        StatusCode::CREATED,
        Json(json!({ "order": order_json(&order) })),
    )
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

/// Serve with `ConnectInfo`, so the key layer knows each client's address, until SIGTERM or
/// Ctrl-C; then stop accepting and let requests in flight finish, for up to
/// [`observe::shutdown::GRACE`].
async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    let stop = Arc::new(tokio::sync::Notify::new());
    let requested = Arc::clone(&stop);
    let serving = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        observe::shutdown::requested().await;
        requested.notify_one();
    });
    let served = tokio::select! {
        served = serving => served,
        () = async {
            stop.notified().await;
            tokio::time::sleep(observe::shutdown::GRACE).await;
        } => {
            tracing::warn!("requests still in flight after the grace period; stopping anyway");
            Ok(())
        }
    };
    tracing::info!("stopped");
    served
}

/// Print in one go; a closed stdout (`data-api | head -3`) must not take the server down.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// On the portal's database: verify what the portal issued.
async fn run_on_database(
    args: &Args,
    guard: &Guard,
    url: &str,
    format: KeyFormat,
) -> Result<(), String> {
    let backend = idunox_keys_sqlx::Backend::from_url(url)
        .ok_or("the database URL must start with sqlite: or postgres:")?;
    let defaults = PoolSettings::default();
    let settings = PoolSettings {
        max_connections: args.max_connections.unwrap_or(defaults.max_connections),
        connect_timeout: Duration::from_secs(args.connect_timeout),
        ..defaults
    };
    // A SQLite file must exist already: a mistyped path is an error naming it, never a new
    // empty database. `--read-only` opens it read-only (and records no last use).
    let pool = if args.read_only {
        idunox_keys_sqlx::connect_read_only(url, &settings).await
    } else {
        idunox_keys_sqlx::connect_existing(url, &settings).await
    }
    .map_err(|e| format!("cannot open the database: {}", error_chain(&e)))?;
    // The key store's schema, checked with a sentence that says what is wrong.
    idunox_keys_sqlx::check_schema(&pool)
        .await
        .map_err(|e| error_chain(&e))?;
    // The portal's own table this service reads.
    idunox_keys_sqlx::sqlx::query("SELECT name FROM tenants WHERE 1 = 0")
        .fetch_optional(&pool)
        .await
        .map_err(|e| {
            format!(
                "no tenants table ({}): is this the portal's database? start the \
                 reference-server on it once, which applies its migrations",
                error_chain(&e)
            )
        })?;
    let tenants = PortalTenants(pool.clone());
    let readiness = Readiness::database(pool.clone());
    // With a change feed the verifier caches whole records, trusted for --max-staleness-ms.
    let store = if guard.max_staleness.is_zero() {
        SqlKeyStore::new(pool)
    } else {
        let feed = idunox_keys_sqlx::FeedSettings::for_max_staleness(guard.max_staleness);
        SqlKeyStore::with_feed(pool, feed).map_err(|e| e.to_string())?
    };
    let (app, metrics) = if args.no_auth {
        (routes(tenants), Metrics::new::<SqlKeyStore>(None))
    } else {
        let verifier = guard.verifier(store.clone(), format.clone());
        let metrics = Metrics::new(Some(&verifier));
        (router(verifier, tenants, guard, &metrics), metrics)
    };
    let ops = Ops {
        metrics,
        readiness,
        token: metrics_token(args)?,
    };
    let app = service(app, ops, &format);
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
    match store.flush().await {
        Ok(()) => tracing::debug!("last-used times written"),
        Err(e) => tracing::warn!(error = %e, "last-used times not written at shutdown"),
    }
    served.map_err(|e| e.to_string())
}

/// The demo: an in-memory store with two keys, printed once.
async fn run_demo(args: &Args, guard: &Guard, format: KeyFormat) -> Result<(), String> {
    let store = Arc::new(MemoryStore::new());
    let tenant = TenantId::new("tnt_demo");
    let tenants = HashMap::from([(tenant.clone(), "Demo Partner".to_owned())]);
    // Production argon2 settings, and the scope catalogue, as the portal would have them.
    let keys = KeyManager::new(store.clone(), format.clone()).with_policy(Policy {
        scopes: vec![READ.into(), WRITE.into()],
        ..Policy::default()
    });
    let read_write = NewKey {
        name: Some("data-api demo, read and write".into()),
        scopes: Some(vec![READ.into(), WRITE.into()]),
        ..NewKey::default()
    };
    let read_only = NewKey {
        name: Some("data-api demo, read only, this machine".into()),
        scopes: Some(vec![READ.into()]),
        allowed_ips: Some(vec!["127.0.0.0/8".into(), "::1".into()]),
        ..NewKey::default()
    };
    let rw = keys
        .create_with(&tenant, read_write)
        .await
        .map_err(|e| e.to_string())?;
    let ro = keys
        .create_with(&tenant, read_only)
        .await
        .map_err(|e| e.to_string())?;
    let (app, metrics) = if args.no_auth {
        (routes(tenants), Metrics::new::<Arc<MemoryStore>>(None))
    } else {
        let verifier = guard.verifier(store, format.clone());
        let metrics = Metrics::new(Some(&verifier));
        (router(verifier, tenants, guard, &metrics), metrics)
    };
    let ops = Ops {
        metrics,
        readiness: Readiness::Always,
        token: metrics_token(args)?,
    };
    let app = service(app, ops, &format);
    let (listener, url) = listen(args.port).await?;
    // The plaintexts exist only here: shown once, never logged again.
    let (rw_key, ro_key) = (rw.api_key.expose_secret(), ro.api_key.expose_secret());
    say(&format!(
        "data-api listening on {url}\n\
         demo API keys for tenant \"Demo Partner\" (tnt_demo), each shown once:\n\
         read and write orders (orders:read, orders:write), from any address:\n\
         \x20 {rw_key}\n\
         read orders only (orders:read), from this machine only (127.0.0.0/8, ::1):\n\
         \x20 {ro_key}\n\
         try:\n\
         \x20 curl -i -H 'X-Api-Key: {ro_key}' {url}/v1/orders\n\
         \x20 curl -i -H 'X-Api-Key: {rw_key}' -H 'Content-Type: application/json' -d '{{\"item\":\"widget\",\"quantity\":3}}' {url}/v1/orders\n"
    ));
    drop((rw, ro));
    serve(listener, app).await.map_err(|e| e.to_string())
}

/// `--metrics-token`, checked.
fn metrics_token(args: &Args) -> Result<Option<MetricsToken>, String> {
    args.metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(MetricsToken::new)
        .transpose()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    observe::logging::init(args.log_format);
    let format = match args.portal_url.as_deref().filter(|u| !u.is_empty()) {
        Some(portal) => match portal_config::fetch_key_format(portal).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("--portal-url: {e}");
                return std::process::ExitCode::FAILURE;
            }
        },
        None => match KeyFormat::new(&args.key_prefix, &args.environment) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("--key-prefix / --environment: {e}");
                return std::process::ExitCode::from(2);
            }
        },
    };
    let guard = match Guard::from_args(&args).and_then(|g| metrics_token(&args).map(|_| g)) {
        Ok(g) => g,
        Err(e) => {
            tracing::error!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match args.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => run_on_database(&args, &guard, url, format).await,
        None => run_demo(&args, &guard, format).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
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
        let a = Args::try_parse_from(["data-api", "--trusted-proxies", "10.0.0.0/8,::1"]).unwrap();
        let g = Guard::from_args(&a).unwrap();
        assert_eq!(g.trusted_proxies.len(), 2);
        assert_eq!(g.max_staleness, Duration::from_secs(1));
        let a = Args::try_parse_from(["data-api", "--trusted-proxies", "10.0.0.1/8"]).unwrap();
        assert!(
            Guard::from_args(&a)
                .unwrap_err()
                .contains("--trusted-proxies")
        );
        assert!(Args::try_parse_from(["data-api", "--what"]).is_err());
    }
}
