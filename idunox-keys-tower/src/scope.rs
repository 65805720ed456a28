//! [`RequireScope`]: a route states the scope it needs.
//!
//! Behind [`ApiKeyLayer`](crate::ApiKeyLayer), `RequireScope::new("orders:read")` lets a
//! request through only when its verified key carries that scope (an unrestricted key carries
//! every scope; names match exactly). Otherwise it answers `403 insufficient_scope` through its
//! refusal hook — by default the JSON envelope with
//! `WWW-Authenticate: ApiKey realm="idunox", header="X-Api-Key", error="insufficient_scope",
//! scope="orders:read"` — and emits the refusal's `tracing` event. The order of the rules holds:
//! a wrong key is `401` and a key from a forbidden address `403 ip_not_allowed` before any scope
//! is looked at.
//!
//! With axum, put it on the handler — `get(list_orders.layer(RequireScope::new("orders:read")))`,
//! the cheapest form: axum adds no boxing per request — or on every method of a route with
//! `route_layer` (a method router's `route_layer` wraps the methods added to it so far, and
//! axum boxes the service once more per request). Stack several to require all of them. On a
//! route the key layer does not guard it answers `500 internal_error` (a server bug: nothing
//! was verified). Routes grouped by scope can instead have the key layer itself require it
//! ([`ApiKeyLayer::require_scope`](crate::ApiKeyLayer::require_scope)), which costs no layer
//! of its own.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, body::Body, handler::Handler, routing::get};
//! use http::{Request, StatusCode};
//! use idunox_keys::{HashParams, KeyFormat, KeyManager, MemoryStore, NewKey, Policy,
//!                   SecretHasher, TenantId, Verifier};
//! use idunox_keys_tower::{ApiKeyLayer, RequireScope};
//! use tower::ServiceExt;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let format = KeyFormat::new("idx", "test")?;
//! let keys = KeyManager::new(store.clone(), format.clone())
//!     .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST)?)
//!     .with_policy(Policy { scopes: vec!["orders:read".into(), "orders:write".into()], ..Policy::default() });
//! let read_only = NewKey { scopes: Some(vec!["orders:read".into()]), ..NewKey::default() };
//! let key = keys.create_with(&TenantId::new("acme"), read_only).await?.api_key;
//!
//! async fn list() -> &'static str { "orders" }
//! async fn create() -> &'static str { "created" }
//!
//! let app = Router::new()
//!     .route(
//!         "/v1/orders",
//!         get(list.layer(RequireScope::new("orders:read")))
//!             .post(create.layer(RequireScope::new("orders:write"))),
//!     )
//!     .layer(ApiKeyLayer::new(Verifier::new(store, format)));
//!
//! let get = Request::get("/v1/orders").header("x-api-key", key.expose_secret()).body(Body::empty())?;
//! assert_eq!(app.clone().oneshot(get).await?.status(), StatusCode::OK);
//! let post = Request::post("/v1/orders").header("x-api-key", key.expose_secret()).body(Body::empty())?;
//! let res = app.oneshot(post).await?;
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert!(res.headers()["www-authenticate"].to_str()?.ends_with(r#"scope="orders:write""#));
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use idunox_keys::{Refusal, VerifiedKey};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::refusal::{JsonRefusal, OnRefusal, error_response};
use crate::service::refuse;

/// Requires the verified key to carry one scope; see the [module docs](self). Cheap to clone
/// (one `Arc`).
pub struct RequireScope<R = JsonRefusal> {
    inner: Arc<Requirement<R>>,
}

struct Requirement<R> {
    scope: String,
    on_refusal: R,
}

impl RequireScope {
    /// Require `scope` (matched exactly), refusing with [`JsonRefusal`].
    pub fn new(scope: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Requirement {
                scope: scope.into(),
                on_refusal: JsonRefusal::new(),
            }),
        }
    }
}

impl<R> RequireScope<R> {
    /// Answer with this hook instead (e.g. the same [`JsonRefusal`] as the key layer's, when
    /// that one names another header or realm).
    #[must_use]
    pub fn on_refusal<R2>(self, hook: R2) -> RequireScope<R2> {
        RequireScope {
            inner: Arc::new(Requirement {
                scope: self.inner.scope.clone(),
                on_refusal: hook,
            }),
        }
    }

    /// The scope required.
    pub fn scope(&self) -> &str {
        &self.inner.scope
    }
}

impl<R> Clone for RequireScope<R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<R> fmt::Debug for RequireScope<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireScope")
            .field("scope", &self.inner.scope)
            .field("on_refusal", &core::any::type_name::<R>())
            .finish()
    }
}

impl<S, R> Layer<S> for RequireScope<R> {
    type Service = RequireScopeService<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopeService {
            inner,
            require: self.clone(),
        }
    }
}

/// The service of [`RequireScope`].
pub struct RequireScopeService<S, R> {
    inner: S,
    require: RequireScope<R>,
}

impl<S: Clone, R> Clone for RequireScopeService<S, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            require: self.require.clone(),
        }
    }
}

impl<S: fmt::Debug, R> fmt::Debug for RequireScopeService<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireScopeService")
            .field("inner", &self.inner)
            .field("require", &self.require)
            .finish()
    }
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for RequireScopeService<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: OnRefusal<ResBody>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ScopeFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let scope = self.require.inner.scope.as_str();
        let key_id = match req.extensions().get::<VerifiedKey>() {
            Some(key) if key.has_scope(scope) => {
                return ScopeFuture::calling(self.inner.call(req));
            }
            Some(key) => key.key_id,
            None => {
                // Nothing was verified for this route: the application forgot the key layer.
                let res = error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "The server could not process the request.",
                );
                return ScopeFuture::refused(res);
            }
        };
        let refusal = Refusal::InsufficientScope {
            scope: scope.to_owned(),
        };
        ScopeFuture::refused(refuse(
            &self.require.inner.on_refusal,
            req,
            &refusal,
            Some(key_id),
        ))
    }
}

pin_project! {
    /// The response future of [`RequireScopeService`]: the inner service's, or a refusal.
    pub struct ScopeFuture<F, B> {
        #[pin]
        state: ScopeState<F, B>,
    }
}

pin_project! {
    #[project = ScopeProj]
    enum ScopeState<F, B> {
        Calling { #[pin] future: F },
        Refused { response: Option<Response<B>> },
    }
}

impl<F, B> ScopeFuture<F, B> {
    fn calling(future: F) -> Self {
        Self {
            state: ScopeState::Calling { future },
        }
    }

    fn refused(response: Response<B>) -> Self {
        Self {
            state: ScopeState::Refused {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ScopeFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    /// # Panics
    /// When polled again after it returned `Ready`.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            ScopeProj::Calling { future } => future.poll(cx),
            ScopeProj::Refused { response } => Poll::Ready(Ok(response
                .take()
                .expect("ScopeFuture polled after completion"))),
        }
    }
}

impl<F, B> fmt::Debug for ScopeFuture<F, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.state {
            ScopeState::Calling { .. } => "ScopeFuture::Calling",
            ScopeState::Refused { .. } => "ScopeFuture::Refused",
        })
    }
}
