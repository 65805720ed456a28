//! [`ResponseFuture`]: what [`ApiKeyService::call`](crate::ApiKeyService) returns.
//!
//! It is in one of three states: refused at once (the response is ready), verifying (the boxed
//! [`Pending::finish`](idunox_keys::Pending::finish) future; on success the client address is
//! checked against the key's allow-list and the inner service is called with the
//! [`VerifiedKey`](idunox_keys::VerifiedKey) in the request extensions, on refusal the hook
//! answers), or calling (the inner service's own future, polled in place). It is `Send`
//! whenever the inner service, its future and the request and response bodies are.
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
use idunox_keys::KeyId;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::layer::Shared;
use crate::refusal::OnRefusal;
use crate::service::{Verifying, admit, refuse};

pin_project! {
    /// The response future of [`ApiKeyService`](crate::ApiKeyService).
    pub struct ResponseFuture<S, K, ReqBody, ResBody, R>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S::Future, ResBody>,
        // The service made ready and the request, until verification ends. Boxed: only the
        // slow path (which boxes its verification anyway) needs them, and a small future is
        // cheaper to move on the fast path.
        pending: Option<Box<Waiting<S, K, ReqBody, R>>>,
    }
}

/// What the slow path keeps until the verification ends.
struct Waiting<S, K, ReqBody, R> {
    inner: S,
    req: Request<ReqBody>,
    key_id: KeyId,
    shared: Arc<Shared<K, R>>,
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Refused { response: Option<Response<B>> },
        Verifying { verifying: Verifying },
        Calling { #[pin] future: F },
    }
}

impl<S, K, ReqBody, ResBody, R> ResponseFuture<S, K, ReqBody, ResBody, R>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn refused(response: Response<ResBody>) -> Self {
        Self {
            state: State::Refused {
                response: Some(response),
            },
            pending: None,
        }
    }

    pub(crate) fn calling(future: S::Future) -> Self {
        Self {
            state: State::Calling { future },
            pending: None,
        }
    }

    pub(crate) fn verifying(
        verifying: Verifying,
        inner: S,
        req: Request<ReqBody>,
        key_id: KeyId,
        shared: Arc<Shared<K, R>>,
    ) -> Self {
        Self {
            state: State::Verifying { verifying },
            pending: Some(Box::new(Waiting {
                inner,
                req,
                key_id,
                shared,
            })),
        }
    }
}

impl<S, K, ReqBody, ResBody, R> Future for ResponseFuture<S, K, ReqBody, ResBody, R>
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
                    let Waiting {
                        mut inner,
                        mut req,
                        key_id,
                        shared,
                    } = *this
                        .pending
                        .take()
                        .expect("ResponseFuture polled after completion");
                    let admitted = match outcome {
                        Ok(key) => admit(&shared.config, &mut req, key),
                        Err(refusal) => Err((refusal, key_id)),
                    };
                    match admitted {
                        Ok(()) => {
                            let future = inner.call(req);
                            this.state.set(State::Calling { future });
                        }
                        Err((refusal, key_id)) => {
                            let response = refuse(&*shared.on_refusal, req, &refusal, Some(key_id));
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

impl<S, K, ReqBody, ResBody, R> fmt::Debug for ResponseFuture<S, K, ReqBody, ResBody, R>
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
