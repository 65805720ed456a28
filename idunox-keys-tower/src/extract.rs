//! Reading the verified key in a handler.
//!
//! After [`ApiKeyService`](crate::ApiKeyService) accepted a key it inserts the
//! [`VerifiedKey`] — tenant, key id, status, expiry, masked key, name — into the request's
//! extensions. Any tower service reads it with `req.extensions().get::<VerifiedKey>()`; axum
//! handlers (feature `axum`, on by default) take [`Verified`] as an extractor, or
//! `Option<Verified>` on routes that work with and without a key.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use std::sync::Arc;
//! use axum::{Router, body::Body, routing::get};
//! use http::{Request, StatusCode};
//! use idunox_keys::{HashParams, KeyFormat, KeyManager, MemoryStore, SecretHasher, TenantId, Verifier};
//! use idunox_keys_tower::{ApiKeyLayer, Verified};
//! use tower::ServiceExt;
//!
//! async fn whoami(Verified(key): Verified) -> String {
//!     format!("{} {} {}", key.tenant_id, key.masked_key(), key.status)
//! }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let format = KeyFormat::new("idx", "test")?;
//! let keys = KeyManager::new(store.clone(), format.clone())
//!     .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST)?);
//! let issued = keys.create(&TenantId::new("acme"), None, None).await?;
//!
//! let app = Router::new()
//!     .route("/whoami", get(whoami))
//!     .layer(ApiKeyLayer::new(Verifier::new(store, format)));
//!
//! let req = Request::get("/whoami")
//!     .header("x-api-key", issued.api_key.expose_secret())
//!     .body(Body::empty())?;
//! let res = app.oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! let body = axum::body::to_bytes(res.into_body(), 1024).await?;
//! assert_eq!(body, format!("acme {} active", issued.credential.masked_key));
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! # }
//! ```

use core::fmt;
use core::ops::Deref;

use idunox_keys::VerifiedKey;

/// The key [`ApiKeyService`](crate::ApiKeyService) accepted for this request; an axum extractor
/// (feature `axum`).
///
/// Extracting it on a route that the layer does not guard is a server bug: the extractor then
/// answers 500 with `{"error":{"code":"internal_error",…}}` (see [`MissingVerifiedKey`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified(pub VerifiedKey);

impl Verified {
    /// The verified key from these request extensions, if the layer put one there.
    pub fn from_extensions(extensions: &http::Extensions) -> Option<&VerifiedKey> {
        extensions.get::<VerifiedKey>()
    }

    /// The verified key.
    pub fn into_inner(self) -> VerifiedKey {
        self.0
    }
}

impl Deref for Verified {
    type Target = VerifiedKey;

    fn deref(&self) -> &VerifiedKey {
        &self.0
    }
}

/// The rejection of [`Verified`] on a route without [`ApiKeyLayer`](crate::ApiKeyLayer): the
/// application forgot to guard it. Answers 500 `internal_error` (not 401: the client did nothing
/// wrong, and the route must not look like it takes keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MissingVerifiedKey;

impl fmt::Display for MissingVerifiedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no verified API key in the request extensions: is ApiKeyLayer applied to this route?",
        )
    }
}

impl std::error::Error for MissingVerifiedKey {}

#[cfg(feature = "axum")]
mod axum_impl {
    use core::convert::Infallible;

    use axum::extract::{FromRequestParts, OptionalFromRequestParts};
    use axum::response::{IntoResponse, Response};
    use http::StatusCode;
    use http::request::Parts;
    use idunox_keys::VerifiedKey;

    use super::{MissingVerifiedKey, Verified};
    use crate::refusal::error_response;

    impl<S: Send + Sync> FromRequestParts<S> for Verified {
        type Rejection = MissingVerifiedKey;

        async fn from_request_parts(
            parts: &mut Parts,
            _state: &S,
        ) -> Result<Self, Self::Rejection> {
            parts
                .extensions
                .get::<VerifiedKey>()
                .cloned()
                .map(Verified)
                .ok_or(MissingVerifiedKey)
        }
    }

    impl<S: Send + Sync> OptionalFromRequestParts<S> for Verified {
        type Rejection = Infallible;

        async fn from_request_parts(
            parts: &mut Parts,
            _state: &S,
        ) -> Result<Option<Self>, Self::Rejection> {
            Ok(parts.extensions.get::<VerifiedKey>().cloned().map(Verified))
        }
    }

    impl IntoResponse for MissingVerifiedKey {
        fn into_response(self) -> Response {
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "The server could not process the request.",
            )
        }
    }
}
