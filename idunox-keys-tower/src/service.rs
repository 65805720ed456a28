//! [`ApiKeyService`]: the middleware itself.
//!
//! For each request it
//! 1. marks every value of the key header [sensitive](http::HeaderValue::set_sensitive), so
//!    `Debug` output, tracing and HTTP/2 header compression never show or index it;
//! 2. screens the header: absent or empty → `missing_api_key`; several values or a value that
//!    is not the format's exact length (over-long included) → `invalid_api_key`, at once,
//!    without touching the store;
//! 3. runs [`Verifier::check`](idunox_keys::Verifier::check) — parse, checksum, environment,
//!    record, secret, status — which answers a warm key (and most refusals) right here in
//!    `call`, with no future of its own; otherwise (a store read, a cold argon2 check) it boxes
//!    [`Pending::finish`](idunox_keys::Pending::finish), the one boxed future of the request;
//! 4. once the key is accepted, checks the client address against the key's allow-list (only
//!    for a key that has one; see [`client`](crate::client)) — so a wrong secret reads
//!    `invalid_api_key` and a revoked key `api_key_revoked` from any address — then the scopes
//!    the layer requires ([`ApiKeyLayer::require_scope`](crate::ApiKeyLayer::require_scope));
//! 5. on success inserts the [`VerifiedKey`] into the request extensions and calls the inner
//!    service; on refusal emits a `tracing` event (see the [crate docs](crate)) and answers with the
//!    [`OnRefusal`] hook, given the request's parts, and never calls the inner service.
//!
//! Last use is recorded by the verifier, not here: it writes `last_used_at` at most once per key
//! per interval per process ([`VerifierBuilder::touch_every`](idunox_keys::VerifierBuilder::touch_every),
//! default one minute), synchronously into the store's buffer.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use idunox_keys::{HashParams, KeyFormat, KeyManager, MemoryStore, SecretHasher, TenantId,
//!                   VerifiedKey, Verifier};
//! use idunox_keys_tower::ApiKeyLayer;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let format = KeyFormat::new("idx", "test")?;
//! let keys = KeyManager::new(store.clone(), format.clone())
//!     .with_hasher(SecretHasher::new(HashParams::INSECURE_FAST)?);
//! let key = keys.create(&TenantId::new("acme"), None, None).await?.api_key;
//!
//! let svc = ServiceBuilder::new()
//!     .layer(ApiKeyLayer::new(Verifier::new(store, format)))
//!     .service_fn(|req: Request<()>| async move {
//!         let tenant = req.extensions().get::<VerifiedKey>().unwrap().tenant_id.clone();
//!         Ok::<_, Infallible>(Response::new(Bytes::from(format!("hello {tenant}"))))
//!     });
//!
//! let req = Request::get("/").header("x-api-key", key.expose_secret()).body(())?;
//! let res = svc.clone().oneshot(req).await?;
//! assert_eq!(res.body(), "hello acme");
//!
//! let res = svc.oneshot(Request::get("/").body(())?).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

use core::fmt;
use core::future::Future;
use core::mem;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use http::header::{Entry, HeaderMap, HeaderName};
use http::{Request, Response};
use idunox_keys::key::MAX_KEY_LEN;
use idunox_keys::{Check, InvalidKey, KeyId, KeyStore, ParseError, Pending, Refusal, VerifiedKey};
use tower_service::Service;

use crate::client::client_addr;
use crate::event;
use crate::future::ResponseFuture;
use crate::layer::{Config, Shared};
use crate::refusal::OnRefusal;

/// Requires a valid API key; made by [`ApiKeyLayer`](crate::ApiKeyLayer). See the
/// [module docs](self).
pub struct ApiKeyService<S, K, R> {
    inner: S,
    shared: Arc<Shared<K, R>>,
}

impl<S, K, R> ApiKeyService<S, K, R> {
    pub(crate) fn from_shared(inner: S, shared: Arc<Shared<K, R>>) -> Self {
        Self { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, K, R> Clone for ApiKeyService<S, K, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, K, R> fmt::Debug for ApiKeyService<S, K, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyService")
            .field("inner", &self.inner)
            .field("verifier", &self.shared.verifier)
            .field("header", &self.shared.config.header)
            .field("trusted_proxies", &self.shared.config.trusted_proxies)
            .finish_non_exhaustive()
    }
}

/// The boxed verification a [`ResponseFuture`] waits on.
pub(crate) type Verifying =
    Pin<Box<dyn Future<Output = Result<VerifiedKey, Refusal>> + Send + 'static>>;

impl<S, K, R, ReqBody, ResBody> Service<Request<ReqBody>> for ApiKeyService<S, K, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    K: KeyStore,
    R: OnRefusal<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, K, ReqBody, ResBody, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // Decide first, then build the answer once, at the tail: built inside the match that
        // decides, the inner service's future (300-odd bytes under axum) was copied twice.
        match screen(&self.shared, &mut req) {
            Screened::Admitted => ResponseFuture::calling(self.inner.call(req)),
            Screened::Refused(refusal, key_id) => {
                ResponseFuture::refused(refuse(&*self.shared.on_refusal, req, &refusal, key_id))
            }
            Screened::Pending(pending) => {
                let key_id = pending.key_id();
                // Call the clone that was made ready, keep the fresh clone for the next
                // request (see "Be careful when cloning inner services" in tower-service).
                let clone = self.inner.clone();
                let inner = mem::replace(&mut self.inner, clone);
                let verifying: Verifying = Box::pin(pending.finish());
                ResponseFuture::verifying(verifying, inner, req, key_id, Arc::clone(&self.shared))
            }
        }
    }
}

/// What [`screen`] decided without waiting.
enum Screened<K> {
    /// The key is accepted and the request carries its [`VerifiedKey`].
    Admitted,
    /// Refused, with the key id when the refusal event wants it.
    Refused(Refusal, Option<KeyId>),
    /// The store must be read or the secret checked with argon2.
    Pending(Pending<K>),
}

/// Steps 1 to 5 of the [module docs](self) as far as they go without waiting.
fn screen<K: KeyStore, R, B>(shared: &Shared<K, R>, req: &mut Request<B>) -> Screened<K> {
    let verifier = &shared.verifier;
    // Parse once, straight from the header (no copy); a pending check owns its own copy of
    // the key.
    let key_len = verifier.format().key_len();
    let bytes = match presented_key(req.headers_mut(), &shared.config.header, key_len) {
        Ok(bytes) => bytes,
        Err(refusal) => return Screened::Refused(refusal, None),
    };
    match verifier.check(Some(bytes)) {
        Check::Done(Ok(key)) => match admit(&shared.config, req, key) {
            Ok(()) => Screened::Admitted,
            Err((refusal, key_id)) => Screened::Refused(refusal, Some(key_id)),
        },
        Check::Done(Err(refusal)) => {
            // The key id, for the refusal event only (a warm refusal has no pending check to
            // ask).
            let key_id = if event::enabled(&refusal) {
                verifier.key_id_of(bytes)
            } else {
                None
            };
            Screened::Refused(refusal, key_id)
        }
        Check::Pending(pending) => Screened::Pending(pending),
    }
}

/// The last steps once the key is accepted: its allow-list against the client address, then
/// the scopes this layer requires. On success the request carries the [`VerifiedKey`].
pub(crate) fn admit<B>(
    config: &Config,
    req: &mut Request<B>,
    key: VerifiedKey,
) -> Result<(), (Refusal, KeyId)> {
    if key.allowed_ips().is_some()
        && let Err(refusal) = key.check_ip(client_addr(req, &config.trusted_proxies))
    {
        return Err((refusal, key.key_id));
    }
    for scope in &config.scopes {
        if let Err(refusal) = key.require_scope(scope) {
            return Err((refusal, key.key_id));
        }
    }
    req.extensions_mut().insert::<VerifiedKey>(key);
    Ok(())
}

/// A refused request's answer: the event, then the hook, given the request's parts.
pub(crate) fn refuse<B, ResBody, R: OnRefusal<ResBody> + ?Sized>(
    on_refusal: &R,
    req: Request<B>,
    refusal: &Refusal,
    key_id: Option<KeyId>,
) -> Response<ResBody> {
    let (parts, _body) = req.into_parts();
    event::refused(&parts, refusal, key_id);
    on_refusal.on_refusal(&parts, refusal)
}

/// The one key value of this request, marked sensitive, or why there is none worth verifying.
///
/// Everything refused here is refused without touching the store.
fn presented_key<'h>(
    headers: &'h mut HeaderMap,
    name: &HeaderName,
    key_len: usize,
) -> Result<&'h [u8], Refusal> {
    // When no header name repeats (`len` counts values, `keys_len` names) — nearly every
    // request — one lookup finds the only value; otherwise the entry walks them all.
    let value = if headers.len() == headers.keys_len() {
        let Some(value) = headers.get_mut(name) else {
            return Err(Refusal::Missing);
        };
        // Mark it sensitive before anything else looks at it.
        value.set_sensitive(true);
        value
    } else {
        let Entry::Occupied(mut entry) = headers.entry(name) else {
            return Err(Refusal::Missing);
        };
        // Mark every value sensitive before anything else looks at it.
        let mut several = false;
        for (i, value) in entry.iter_mut().enumerate() {
            value.set_sensitive(true);
            several |= i > 0;
        }
        if several {
            // Which one would we pick? Neither: a client sending two keys is confused or
            // probing.
            return Err(Refusal::Invalid(InvalidKey::SeveralValues));
        }
        entry.into_mut()
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Err(Refusal::Missing);
    }
    if bytes.len() != key_len || bytes.len() > MAX_KEY_LEN {
        return Err(Refusal::Invalid(InvalidKey::Malformed(
            ParseError::BadLength,
        )));
    }
    // Anything but base62 (non-ASCII included) is refused by the parser, offline.
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn refusal(headers: &mut HeaderMap) -> Option<&'static str> {
        presented_key(headers, &HeaderName::from_static("x-api-key"), 5)
            .err()
            .map(|r| r.code())
    }

    #[test]
    fn header_screening() {
        let mut h = HeaderMap::new();
        assert_eq!(refusal(&mut h), Some("missing_api_key"));
        h.insert("x-api-key", HeaderValue::from_static(""));
        assert_eq!(refusal(&mut h), Some("missing_api_key"));
        h.insert("x-api-key", HeaderValue::from_static("abcdef"));
        assert_eq!(refusal(&mut h), Some("invalid_api_key"));
        // Non-ASCII of the right length reaches the parser, which refuses it (tests/).
        h.insert("x-api-key", HeaderValue::from_bytes(b"ab\xe9de").unwrap());
        assert_eq!(refusal(&mut h), None);
        h.insert("x-api-key", HeaderValue::from_static("abcde"));
        assert_eq!(refusal(&mut h), None);
        assert!(h["x-api-key"].is_sensitive());
        h.append("x-api-key", HeaderValue::from_static("abcde"));
        assert_eq!(refusal(&mut h), Some("invalid_api_key"));
        assert!(h.get_all("x-api-key").iter().all(HeaderValue::is_sensitive));
    }

    #[test]
    fn another_repeated_header_takes_the_long_way_to_the_same_answers() {
        // `accept` twice: `len() != keys_len()`, so the key is found through the entry.
        let mut h = HeaderMap::new();
        h.append("accept", HeaderValue::from_static("text/html"));
        h.append("accept", HeaderValue::from_static("application/json"));
        assert_eq!(refusal(&mut h), Some("missing_api_key"));
        h.insert("x-api-key", HeaderValue::from_static("abcde"));
        assert_ne!(h.len(), h.keys_len());
        assert_eq!(refusal(&mut h), None);
        assert!(h["x-api-key"].is_sensitive());
        h.insert("x-api-key", HeaderValue::from_static(""));
        assert_eq!(refusal(&mut h), Some("missing_api_key"));
        h.insert("x-api-key", HeaderValue::from_static("abcdef"));
        assert_eq!(refusal(&mut h), Some("invalid_api_key"));
        h.append("x-api-key", HeaderValue::from_static("abcde"));
        assert_eq!(refusal(&mut h), Some("invalid_api_key"));
        assert!(h.get_all("x-api-key").iter().all(HeaderValue::is_sensitive));
    }
}
