//! `data-api`: a partner-facing data API, written with axum, that accepts only requests carrying
//! a valid `X-Api-Key`.
//!
//! The whole integration is the one `.layer(ApiKeyLayer::new(verifier))` line in [`router`]:
//! handlers behind it take the [`Verified`] key (tenant, key id, status) as an extractor, and
//! refusals answer DESIGN §5's JSON envelope without reaching them.
//!
//! Keys are issued elsewhere — by the partner portal — and this service only reads them: it needs
//! a [`KeyStore`] (to look keys up) and a [`TenantDirectory`] (to name tenants), both generic.
//! Until it reads the portal's database, it runs on a [`MemoryStore`] and, at start, issues one
//! demo key and prints it once, so you can try it:
//!
//! ```sh
//! cargo run -p idunox-examples --bin data-api -- --port 8081
//! curl -i -H "X-Api-Key: <the printed key>" http://127.0.0.1:8081/v1/partner-auth-probe
//! ```
//!
//! Options: `--port N` (or `DATA_API_PORT`; default 8081, 0 picks a free port). It listens on
//! 127.0.0.1 only.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use idunox_keys::{KeyFormat, KeyManager, KeyStore, MemoryStore, TenantId, Verifier};
use idunox_keys_tower::{ApiKeyLayer, Verified};
use serde_json::{Value, json};

/// The port used when neither `--port` nor `DATA_API_PORT` says otherwise.
const DEFAULT_PORT: u16 = 8081;

/// Where tenant names come from: the portal's `tenants` table in real life, a map in the demo.
trait TenantDirectory: Send + Sync + 'static {
    /// The display name of tenant `id`, if it is known.
    fn name(&self, id: &TenantId) -> impl Future<Output = Option<String>> + Send;
}

impl TenantDirectory for HashMap<TenantId, String> {
    async fn name(&self, id: &TenantId) -> Option<String> {
        self.get(id).cloned()
    }
}

/// The API: every route is behind the key layer, over any key store and tenant directory.
fn router<K: KeyStore, T: TenantDirectory>(verifier: Verifier<K>, tenants: T) -> Router {
    Router::new()
        .route("/v1/partner-auth-probe", get(probe::<T>))
        .with_state(Arc::new(tenants))
        .layer(ApiKeyLayer::new(verifier))
}

/// `GET /v1/partner-auth-probe`: who am I, as DESIGN §5 says.
async fn probe<T: TenantDirectory>(
    State(tenants): State<Arc<T>>,
    Verified(key): Verified,
) -> Json<Value> {
    let name = tenants.name(&key.tenant_id).await;
    Json(json!({
        "ok": true,
        "tenant": { "id": key.tenant_id.as_str(), "name": name },
        "credential": {
            "id": key.key_id.as_str(),
            "masked_key": key.masked_key,
            "status": key.status.as_str(),
        },
    }))
}

/// `--port N`, `--port=N` or `DATA_API_PORT`, else [`DEFAULT_PORT`].
fn port_from(args: &[String], env: Option<String>) -> Result<u16, String> {
    let mut port = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.as_str() {
            "--port" => it.next().ok_or("--port needs a value")?.clone(),
            a if a.starts_with("--port=") => a["--port=".len()..].to_owned(),
            "-h" | "--help" => {
                return Err(
                    "usage: data-api [--port N]   (or DATA_API_PORT=N; default 8081)".to_owned(),
                );
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        };
        port = Some(value);
    }
    match port.or(env) {
        None => Ok(DEFAULT_PORT),
        Some(p) => p
            .parse()
            .map_err(|_| format!("the port must be a number from 0 to 65535, not {p:?}")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match port_from(&args, std::env::var("DATA_API_PORT").ok()) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };

    // The store the portal would fill; the demo fills it itself, with production argon2 settings.
    let store = Arc::new(MemoryStore::new());
    let format = KeyFormat::new("idx", "test")?;
    let tenant = TenantId::new("tnt_demo");
    let tenants = HashMap::from([(tenant.clone(), "Demo Partner".to_owned())]);
    let issued = KeyManager::new(store.clone(), format.clone())
        .create(&tenant, Some("data-api demo".into()), None)
        .await?;

    let app = router(Verifier::new(store, format), tenants);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let url = format!("http://{}", listener.local_addr()?);

    // The plaintext exists only here: shown once, never logged again. Written in one go, and a
    // closed stdout (`data-api | head -3`) must not take the server down.
    let key = issued.api_key.expose_secret();
    let _ = write!(
        std::io::stdout().lock(),
        "data-api listening on {url}\n\
         demo API key for tenant \"Demo Partner\" (tnt_demo), shown once:\n\
         \x20 {key}\n\
         try:\n\
         \x20 curl -i -H 'X-Api-Key: {key}' {url}/v1/partner-auth-probe\n"
    );
    let _ = std::io::stdout().flush();
    drop(issued);

    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn port_from_flag_env_or_default() {
        assert_eq!(port_from(&args(&[]), None), Ok(8081));
        assert_eq!(port_from(&args(&[]), Some("9000".into())), Ok(9000));
        assert_eq!(
            port_from(&args(&["--port", "0"]), Some("9000".into())),
            Ok(0)
        );
        assert_eq!(port_from(&args(&["--port=7"]), None), Ok(7));
        assert!(port_from(&args(&["--port"]), None).is_err());
        assert!(port_from(&args(&["--port", "x"]), None).is_err());
        assert!(port_from(&args(&["--what"]), None).is_err());
    }
}
