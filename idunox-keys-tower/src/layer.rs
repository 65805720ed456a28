//! [`ApiKeyLayer`]: the configuration — which verifier, which header, which refusal hook — that
//! wraps any service in an [`ApiKeyService`].
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use http::HeaderName;
//! use idunox_keys::{KeyFormat, MemoryStore, Verifier};
//! use idunox_keys_tower::{ApiKeyLayer, JsonRefusal};
//!
//! let verifier = Verifier::new(Arc::new(MemoryStore::new()), KeyFormat::new("idx", "test")?);
//!
//! // The defaults: header `x-api-key`, the JSON refusals of `docs/http-api.md`.
//! let layer = ApiKeyLayer::new(verifier.clone());
//! assert_eq!(layer.header(), "x-api-key");
//!
//! // Another header; tell the default refusal so `WWW-Authenticate` names it.
//! let layer = ApiKeyLayer::new(verifier)
//!     .header_name(HeaderName::from_static("x-partner-key"))
//!     .on_refusal(JsonRefusal::new().header("X-Partner-Key"));
//! assert_eq!(layer.header(), "x-partner-key");
//! # Ok::<(), idunox_keys::FormatError>(())
//! ```

use core::fmt;
use std::sync::Arc;

use http::HeaderName;
use idunox_keys::{KeyStore, Verifier};
use tower_layer::Layer;

use crate::refusal::JsonRefusal;
use crate::service::ApiKeyService;

/// Requires a valid API key on every request; see the [crate docs](crate).
///
/// `K` is the [`KeyStore`] the [`Verifier`] reads; `R` the refusal hook (default
/// [`JsonRefusal`]). Cloning is cheap (two `Arc`s and a header name).
pub struct ApiKeyLayer<K, R = JsonRefusal> {
    pub(crate) verifier: Verifier<K>,
    pub(crate) header: HeaderName,
    pub(crate) on_refusal: Arc<R>,
}

impl<K: KeyStore> ApiKeyLayer<K> {
    /// Verify keys with `verifier`, read them from `x-api-key`, refuse with [`JsonRefusal`].
    pub fn new(verifier: Verifier<K>) -> Self {
        Self {
            verifier,
            // Header names are case-insensitive; `from_static` wants them lower-case.
            header: HeaderName::from_static("x-api-key"),
            on_refusal: Arc::new(JsonRefusal::new()),
        }
    }
}

impl<K, R> ApiKeyLayer<K, R> {
    /// Read the key from this header instead of `x-api-key`.
    ///
    /// The default refusal still names `X-Api-Key` in `WWW-Authenticate`; pass
    /// `JsonRefusal::new().header(..)` to [`on_refusal`](Self::on_refusal) to change that.
    #[must_use]
    pub fn header_name(mut self, name: HeaderName) -> Self {
        self.header = name;
        self
    }

    /// Answer refused requests with this hook instead of the current one: a [`JsonRefusal`]
    /// with other settings, or any `Fn(&Refusal) -> Response<B>` closure (see
    /// [`OnRefusal`](crate::OnRefusal)).
    #[must_use]
    pub fn on_refusal<R2>(self, hook: R2) -> ApiKeyLayer<K, R2> {
        ApiKeyLayer {
            verifier: self.verifier,
            header: self.header,
            on_refusal: Arc::new(hook),
        }
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier<K> {
        &self.verifier
    }

    /// The header the key is read from.
    pub fn header(&self) -> &HeaderName {
        &self.header
    }
}

impl<K, R> Clone for ApiKeyLayer<K, R> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            header: self.header.clone(),
            on_refusal: Arc::clone(&self.on_refusal),
        }
    }
}

impl<K, R> fmt::Debug for ApiKeyLayer<K, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyLayer")
            .field("verifier", &self.verifier)
            .field("header", &self.header)
            .field("on_refusal", &core::any::type_name::<R>())
            .finish()
    }
}

impl<S, K, R> Layer<S> for ApiKeyLayer<K, R> {
    type Service = ApiKeyService<S, K, R>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiKeyService::from_layer(inner, self.clone())
    }
}
