//! [`ApiKeyLayer`]: the configuration — which verifier, which header, which trusted proxies,
//! which refusal hook — that wraps any service in an [`ApiKeyService`].
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use http::HeaderName;
//! use idunox_keys::restrictions::parse_allow_list;
//! use idunox_keys::{KeyFormat, MemoryStore, Verifier};
//! use idunox_keys_tower::{ApiKeyLayer, JsonRefusal};
//!
//! let verifier = Verifier::new(Arc::new(MemoryStore::new()), KeyFormat::new("idx", "test")?);
//!
//! // The defaults: header `x-api-key`, the JSON error envelope, no trusted proxy.
//! let layer = ApiKeyLayer::new(verifier.clone());
//! assert_eq!(layer.header(), "x-api-key");
//!
//! // Another header (tell the default refusal, so that its answers name it), behind a reverse
//! // proxy on 10.0.0.0/8 that sets `X-Forwarded-For`.
//! let layer = ApiKeyLayer::new(verifier)
//!     .header_name(HeaderName::from_static("x-partner-key"))
//!     .trusted_proxies(parse_allow_list(["10.0.0.0/8"])?)
//!     .on_refusal(JsonRefusal::new().header("X-Partner-Key"));
//! assert_eq!(layer.header(), "x-partner-key");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use std::sync::Arc;

use http::HeaderName;
use idunox_keys::restrictions::IpNet;
use idunox_keys::{KeyStore, Verifier};
use tower_layer::Layer;

use crate::refusal::JsonRefusal;
use crate::service::ApiKeyService;

/// Requires a valid API key on every request; see the [crate docs](crate).
///
/// `K` is the [`KeyStore`] the [`Verifier`] reads; `R` the refusal hook (default
/// [`JsonRefusal`]). Cloning is cheap; each service it makes shares its settings behind one
/// `Arc`, so a service clone (axum clones it per request) costs one reference count.
pub struct ApiKeyLayer<K, R = JsonRefusal> {
    verifier: Verifier<K>,
    config: Config,
    on_refusal: Arc<R>,
}

/// What every [`ApiKeyService`] of one layer shares.
pub(crate) struct Shared<K, R> {
    pub(crate) verifier: Verifier<K>,
    pub(crate) config: Config,
    pub(crate) on_refusal: Arc<R>,
}

/// Where the key and the client address come from, and what every request must carry.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) header: HeaderName,
    pub(crate) trusted_proxies: Vec<IpNet>,
    pub(crate) scopes: Vec<String>,
}

impl<K: KeyStore> ApiKeyLayer<K> {
    /// Verify keys with `verifier`, read them from `x-api-key`, trust no proxy, refuse with
    /// [`JsonRefusal`].
    pub fn new(verifier: Verifier<K>) -> Self {
        Self {
            verifier,
            config: Config {
                // Header names are case-insensitive; `from_static` wants them lower-case.
                header: HeaderName::from_static("x-api-key"),
                trusted_proxies: Vec::new(),
                scopes: Vec::new(),
            },
            on_refusal: Arc::new(JsonRefusal::new()),
        }
    }
}

impl<K, R> ApiKeyLayer<K, R> {
    /// Read the key from this header instead of `x-api-key`.
    ///
    /// The default refusal still names `X-Api-Key` in its answers; pass
    /// `JsonRefusal::new().header(..)` to [`on_refusal`](Self::on_refusal) to change that.
    #[must_use]
    pub fn header_name(mut self, name: HeaderName) -> Self {
        self.config.header = name;
        self
    }

    /// The reverse proxies whose `X-Forwarded-For` is believed (default: none). The client
    /// address checked against a key's allow-list is the TCP peer — axum's
    /// `ConnectInfo<SocketAddr>`, or a [`PeerAddr`](crate::PeerAddr) extension — unless the peer
    /// is one of these; then it is the right-most `X-Forwarded-For` entry that is not (see
    /// [`client_address`](idunox_keys::restrictions::client_address)).
    #[must_use]
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.config.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// Require `scope` of every key this layer accepts (after the status and the allow-list;
    /// 403 `insufficient_scope` otherwise); call it again to require several. For a group of
    /// routes that share a scope this costs nothing beyond the comparison, where a separate
    /// [`RequireScope`](crate::RequireScope) layer costs what axum charges for any layer:
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use axum::{Router, routing::{get, post}};
    /// # use idunox_keys::{KeyFormat, MemoryStore, Verifier};
    /// use idunox_keys_tower::ApiKeyLayer;
    /// # let keys = ApiKeyLayer::new(Verifier::new(Arc::new(MemoryStore::new()), KeyFormat::new("idx", "test").unwrap()));
    /// # async fn list() {} async fn report() {}
    /// let app: Router = Router::new()
    ///     .route("/v1/orders", get(list))
    ///     .route_layer(keys.clone().require_scope("orders:read"))
    ///     .merge(
    ///         Router::new()
    ///             .route("/v1/reports", get(report))
    ///             .route_layer(keys.require_scope("reports:read")),
    ///     );
    /// ```
    #[must_use]
    pub fn require_scope(mut self, scope: impl Into<String>) -> Self {
        self.config.scopes.push(scope.into());
        self
    }

    /// Answer refused requests with this hook instead of the current one: a [`JsonRefusal`]
    /// with other settings, or any `Fn(&Parts, &Refusal) -> Response<B>` closure (see
    /// [`OnRefusal`](crate::OnRefusal)).
    #[must_use]
    pub fn on_refusal<R2>(self, hook: R2) -> ApiKeyLayer<K, R2> {
        ApiKeyLayer {
            verifier: self.verifier,
            config: self.config,
            on_refusal: Arc::new(hook),
        }
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier<K> {
        &self.verifier
    }

    /// The header the key is read from.
    pub fn header(&self) -> &HeaderName {
        &self.config.header
    }

    /// The trusted proxies.
    pub fn proxies(&self) -> &[IpNet] {
        &self.config.trusted_proxies
    }
}

impl<K, R> Clone for ApiKeyLayer<K, R> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            config: self.config.clone(),
            on_refusal: Arc::clone(&self.on_refusal),
        }
    }
}

impl<K, R> fmt::Debug for ApiKeyLayer<K, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyLayer")
            .field("verifier", &self.verifier)
            .field("header", &self.config.header)
            .field("trusted_proxies", &self.config.trusted_proxies)
            .field("scopes", &self.config.scopes)
            .field("on_refusal", &core::any::type_name::<R>())
            .finish()
    }
}

impl<S, K, R> Layer<S> for ApiKeyLayer<K, R> {
    type Service = ApiKeyService<S, K, R>;

    fn layer(&self, inner: S) -> Self::Service {
        let shared = Shared {
            verifier: self.verifier.clone(),
            config: self.config.clone(),
            on_refusal: Arc::clone(&self.on_refusal),
        };
        ApiKeyService::from_shared(inner, Arc::new(shared))
    }
}
