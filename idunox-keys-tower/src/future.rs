//! [`ResponseFuture`]: what [`ApiKeyService::call`](crate::ApiKeyService) returns.
//!
//! It is in one of three states: refused at once (the response is ready), verifying (the boxed
//! [`Verifier::verify`](idunox_keys::Verifier::verify) future; on success the inner service is
//! called with the [`VerifiedKey`] in the request extensions, on refusal the hook answers), or
//! calling (the inner service's own future, polled in place). It is `Send` whenever the inner
//! service, its future and the request and response bodies are.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use idunox_keys::{KeyFormat, MemoryStore, Verifier};
//! use idunox_keys_tower::{ApiKeyLayer, ResponseFuture};
//! use tower::{Layer, Service, service_fn};
//!
//! fn assert_send<T: Send>(_: &T) {}
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let verifier = Verifier::new(Arc::new(MemoryStore::new()), KeyFormat::new("idx", "test")?);
//! let mut svc = ApiKeyLayer::new(verifier).layer(service_fn(|_req: Request<()>| async {
//!     Ok::<_, Infallible>(Response::new(Bytes::new()))
//! }));
//! let future = svc.call(Request::new(()));
//! assert_send(&future);
//! assert_eq!(future.await?.status(), 401);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::sync::Arc;

use http::{Request, Response};
use idunox_keys::VerifiedKey;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::refusal::OnRefusal;
use crate::service::Verifying;

pin_project! {
    /// The response future of [`ApiKeyService`](crate::ApiKeyService).
    pub struct ResponseFuture<S, ReqBody, ResBody, R>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S::Future, ResBody>,
        // The service made ready and the request, until verification ends. Boxed: only the
        // slow path (which boxes its verification anyway) needs them, and a small future is
        // cheaper to move on the fast path.
        pending: Option<Box<(S, Request<ReqBody>)>>,
        on_refusal: Option<Arc<R>>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Refused { response: Option<Response<B>> },
        Verifying { verifying: Verifying },
        Calling { #[pin] future: F },
    }
}

impl<S, ReqBody, ResBody, R> ResponseFuture<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn refused(response: Response<ResBody>) -> Self {
        Self {
            state: State::Refused {
                response: Some(response),
            },
            pending: None,
            on_refusal: None,
        }
    }

    pub(crate) fn calling(future: S::Future) -> Self {
        Self {
            state: State::Calling { future },
            pending: None,
            on_refusal: None,
        }
    }

    pub(crate) fn verifying(
        verifying: Verifying,
        inner: S,
        req: Request<ReqBody>,
        on_refusal: Arc<R>,
    ) -> Self {
        Self {
            state: State::Verifying { verifying },
            pending: Some(Box::new((inner, req))),
            on_refusal: Some(on_refusal),
        }
    }
}

impl<S, ReqBody, ResBody, R> Future for ResponseFuture<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: OnRefusal<ResBody>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    /// # Panics
    /// When polled again after it returned `Ready`.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Refused { response } => {
                    let response = response
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(response));
                }
                StateProj::Verifying { verifying } => {
                    let outcome = ready!(verifying.as_mut().poll(cx));
                    let on_refusal = this.on_refusal.take();
                    let (mut inner, mut req) = *this
                        .pending
                        .take()
                        .expect("ResponseFuture polled after completion");
                    match outcome {
                        Ok(key) => {
                            req.extensions_mut().insert::<VerifiedKey>(key);
                            let future = inner.call(req);
                            this.state.set(State::Calling { future });
                        }
                        Err(refusal) => {
                            let hook = on_refusal.expect("ResponseFuture polled after completion");
                            let response = hook.on_refusal(&refusal);
                            this.state.set(State::Refused { response: None });
                            return Poll::Ready(Ok(response));
                        }
                    }
                }
                StateProj::Calling { future } => return future.poll(cx),
            }
        }
    }
}

impl<S, ReqBody, ResBody, R> fmt::Debug for ResponseFuture<S, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Refused { .. } => "refused",
            State::Verifying { .. } => "verifying",
            State::Calling { .. } => "calling",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
