//! What a refused request gets back: the [`OnRefusal`] hook and its default, [`JsonRefusal`].
//!
//! The default is the core's one HTTP face of a [`Refusal`] ([`Refusal::http_status`],
//! [`Refusal::code`], [`Refusal::message`], [`Refusal::retry_after`], [`Refusal::challenge`])
//! in the JSON error envelope:
//!
//! | refusal | status | body `error.code` | extra header |
//! | --- | --- | --- | --- |
//! | no key | 401 | `missing_api_key` | `WWW-Authenticate` |
//! | malformed, other environment, unknown, wrong secret, several headers, non-ASCII, over-long | 401 | `invalid_api_key` | `WWW-Authenticate` |
//! | revoked (secret matched) | 401 | `api_key_revoked` | `WWW-Authenticate` |
//! | expired or grace ended (secret matched) | 401 | `api_key_expired` | `WWW-Authenticate` |
//! | client address outside the key's allow-list | 403 | `ip_not_allowed` | `WWW-Authenticate` with `error="ip_not_allowed"` |
//! | the route needs a scope the key lacks ([`RequireScope`](crate::RequireScope)) | 403 | `insufficient_scope` | `WWW-Authenticate` with `error="insufficient_scope", scope="…"` |
//! | argon2 budget full, the key id busy or cooling down, or the store failed | 503 | `service_unavailable` | `Retry-After` |
//!
//! The body is always `{"error":{"code":"…","message":"…"}}` with `Content-Type:
//! application/json` and `Cache-Control: no-store`. It never echoes the presented key.
//!
//! A service that wants another answer (a problem+json body, an HTML page, a different realm)
//! passes its own hook to [`ApiKeyLayer::on_refusal`](crate::ApiKeyLayer::on_refusal): any
//! `Fn(&Parts, &Refusal) -> Response<B>` closure is one — it sees the request's method, URI,
//! headers and extensions (never the body) — and may start from [`JsonRefusal`]'s answer. Every
//! refusal is also a `tracing` event (see the [crate docs](crate)), whatever the hook.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode, header::HeaderValue, request::Parts};
//! use idunox_keys::Refusal;
//! use idunox_keys_tower::{JsonRefusal, OnRefusal};
//!
//! let (parts, ()) = Request::get("/v1/orders").body(())?.into_parts();
//! // The default answer.
//! let res: Response<Bytes> = JsonRefusal::default().on_refusal(&parts, &Refusal::Revoked);
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(
//!     res.body().as_ref(),
//!     br#"{"error":{"code":"api_key_revoked","message":"The API key has been revoked."}}"#
//! );
//! assert_eq!(res.headers()["www-authenticate"], r#"ApiKey realm="idunox", header="X-Api-Key""#);
//!
//! // A hook is any closure from the request's parts and the refusal to a response; this one
//! // adds a header to the default answer on some routes.
//! let json = JsonRefusal::new().realm("data-api");
//! let hook = move |parts: &Parts, refusal: &Refusal| -> Response<Bytes> {
//!     let mut res = json.on_refusal(parts, refusal);
//!     if parts.uri.path().starts_with("/v1/") {
//!         res.headers_mut().insert("x-docs", HeaderValue::from_static("https://example.invalid/keys"));
//!     }
//!     res
//! };
//! let res = hook.on_refusal(&parts, &Refusal::Missing);
//! assert_eq!(res.headers()["x-docs"], "https://example.invalid/keys");
//! assert_eq!(res.headers()["www-authenticate"], r#"ApiKey realm="data-api", header="X-Api-Key""#);
//! # Ok::<(), http::Error>(())
//! ```

use core::fmt;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{Response, StatusCode};
use idunox_keys::Refusal;

/// Turns a [`Refusal`] into the response a refused request gets.
///
/// Implemented by [`JsonRefusal`] (the default) and by every
/// `Fn(&Parts, &Refusal) -> Response<B>` closure. It is given the request's parts (method, URI,
/// headers — the key header marked sensitive — and extensions), never its body. It is called
/// on the request's task, so it must not block; it should not log the key header.
pub trait OnRefusal<B> {
    /// The response for this refusal of this request.
    fn on_refusal(&self, parts: &Parts, refusal: &Refusal) -> Response<B>;
}

impl<B, F> OnRefusal<B> for F
where
    F: Fn(&Parts, &Refusal) -> Response<B>,
{
    fn on_refusal(&self, parts: &Parts, refusal: &Refusal) -> Response<B> {
        self(parts, refusal)
    }
}

/// The default refusal: the JSON error envelope, 401 or 403 with `WWW-Authenticate`, or 503
/// with `Retry-After` (see the [module docs](self)).
///
/// Works with any response body that can be made from [`Bytes`] (`axum::body::Body`,
/// `http_body_util::Full<Bytes>`, `Bytes`, `Vec<u8>`, …).
#[derive(Clone)]
pub struct JsonRefusal {
    realm: String,
    header: String,
    www_authenticate: HeaderValue,
    retry_after: HeaderValue,
}

impl JsonRefusal {
    /// Realm `idunox`, header `X-Api-Key`, `Retry-After: 1`.
    pub fn new() -> Self {
        let mut this = Self {
            realm: "idunox".to_owned(),
            header: "X-Api-Key".to_owned(),
            www_authenticate: HeaderValue::from_static(""),
            retry_after: HeaderValue::from_static("1"),
        };
        this.rebuild();
        this
    }

    /// The realm named in `WWW-Authenticate` (default `idunox`). Characters other than
    /// printable ASCII, `"` and `\` are dropped.
    #[must_use]
    pub fn realm(mut self, realm: &str) -> Self {
        self.realm = realm.to_owned();
        self.rebuild();
        self
    }

    /// The header name shown in `WWW-Authenticate` (default `X-Api-Key`); set it when the layer
    /// reads another header (see [`ApiKeyLayer::header_name`](crate::ApiKeyLayer::header_name)).
    #[must_use]
    pub fn header(mut self, display_name: &str) -> Self {
        self.header = display_name.to_owned();
        self.rebuild();
        self
    }

    /// The `Retry-After` seconds sent with a 503 (default 1).
    #[must_use]
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = HeaderValue::from(seconds);
        self
    }

    fn rebuild(&mut self) {
        let text = Refusal::Missing
            .challenge(&self.realm, &self.header)
            .unwrap_or_default();
        // The challenge keeps only visible ASCII and spaces, which a header value accepts.
        self.www_authenticate =
            HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static("ApiKey"));
    }
}

impl Default for JsonRefusal {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for JsonRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonRefusal")
            .field("realm", &self.realm)
            .field("header", &self.header)
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

impl<B: From<Bytes>> OnRefusal<B> for JsonRefusal {
    /// The core's one HTTP face of a refusal ([`Refusal::http_status`], [`Refusal::code`],
    /// [`Refusal::message`], [`Refusal::retry_after`], [`Refusal::challenge`]) with this hook's
    /// realm, header name and smallest `Retry-After`.
    fn on_refusal(&self, _parts: &Parts, refusal: &Refusal) -> Response<B> {
        let status = StatusCode::from_u16(refusal.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = refusal.message(&self.header);
        let mut res = error_response(status, refusal.code(), &message);
        if refusal.is_unavailable() {
            let retry = match refusal.retry_after() {
                Some(secs) if secs > 1 => HeaderValue::from(secs),
                _ => self.retry_after.clone(),
            };
            res.headers_mut().insert(RETRY_AFTER, retry);
        } else if let Some(value) = match refusal {
            // The common challenges are built once.
            Refusal::Missing | Refusal::Invalid(_) | Refusal::Revoked | Refusal::Expired => {
                Some(self.www_authenticate.clone())
            }
            other => other
                .challenge(&self.realm, &self.header)
                .and_then(|c| HeaderValue::try_from(c).ok()),
        } {
            res.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        res
    }
}

/// A response with the error envelope: `{"error":{"code":…,"message":…}}`,
/// `Content-Type: application/json` and `Cache-Control: no-store`.
///
/// Useful to hooks that answer some refusals themselves.
///
/// ```
/// use bytes::Bytes;
/// use http::StatusCode;
/// let res: http::Response<Bytes> =
///     idunox_keys_tower::error_response(StatusCode::FORBIDDEN, "forbidden", "Say \"please\".");
/// assert_eq!(
///     res.body().as_ref(),
///     br#"{"error":{"code":"forbidden","message":"Say \"please\"."}}"#
/// );
/// ```
pub fn error_response<B: From<Bytes>>(
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response<B> {
    let mut body = String::with_capacity(40 + code.len() + message.len());
    body.push_str(r#"{"error":{"code":""#);
    push_json_str(&mut body, code);
    body.push_str(r#"","message":""#);
    push_json_str(&mut body, message);
    body.push_str(r#""}}"#);
    let mut res = Response::new(B::from(Bytes::from(body)));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Append `s` to `out` escaped for the inside of a JSON string.
fn push_json_str(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> Parts {
        http::Request::new(()).into_parts().0
    }

    #[test]
    fn escapes_json_and_cleans_quoted_strings() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\nd é");
        assert_eq!(s, r#"a\"b\\c\u000ad é"#);
        let r = JsonRefusal::new().realm("x\"y").header("X-Key");
        let res: Response<Bytes> = r.on_refusal(
            &parts(),
            &Refusal::Invalid(idunox_keys::InvalidKey::WrongSecret),
        );
        assert_eq!(
            res.headers()[WWW_AUTHENTICATE],
            r#"ApiKey realm="xy", header="X-Key""#
        );
    }

    #[test]
    fn unavailable_is_503_with_retry_after() {
        let res: Response<Bytes> = JsonRefusal::new().retry_after(5).on_refusal(
            &parts(),
            &Refusal::Overloaded(idunox_keys::Overload::KeyBusy),
        );
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[RETRY_AFTER], "5");
        assert!(res.headers().get(WWW_AUTHENTICATE).is_none());
        assert!(
            res.body()
                .starts_with(br#"{"error":{"code":"service_unavailable""#)
        );
    }
}
