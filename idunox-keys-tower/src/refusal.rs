//! What a refused request gets back: the [`OnRefusal`] hook and its default, [`JsonRefusal`].
//!
//! The default answers as `docs/http-api.md` and `docs/verification.md` say:
//!
//! | refusal | status | body `error.code` | extra header |
//! | --- | --- | --- | --- |
//! | no key | 401 | `missing_api_key` | `WWW-Authenticate` |
//! | malformed, other environment, unknown, wrong secret, several headers, non-ASCII, over-long | 401 | `invalid_api_key` | `WWW-Authenticate` |
//! | revoked (secret matched) | 401 | `api_key_revoked` | `WWW-Authenticate` |
//! | expired or grace ended (secret matched) | 401 | `api_key_expired` | `WWW-Authenticate` |
//! | cold verifications saturated, or the store failed | 503 | `service_unavailable` | `Retry-After` |
//!
//! The body is always `{"error":{"code":"…","message":"…"}}` with `Content-Type:
//! application/json` and `Cache-Control: no-store`. It never echoes the presented key.
//!
//! A service that wants another answer (a problem+json body, an HTML page, a different realm)
//! passes its own hook to [`ApiKeyLayer::on_refusal`](crate::ApiKeyLayer::on_refusal): any
//! `Fn(&Refusal) -> Response<B>` closure is one, and may start from [`JsonRefusal`]'s answer.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use http::{Response, StatusCode, header::HeaderValue};
//! use idunox_keys::Refusal;
//! use idunox_keys_tower::{JsonRefusal, OnRefusal};
//!
//! // The default answer.
//! let res: Response<Bytes> = JsonRefusal::default().on_refusal(&Refusal::Revoked);
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(
//!     res.body().as_ref(),
//!     br#"{"error":{"code":"api_key_revoked","message":"The API key has been revoked."}}"#
//! );
//! assert_eq!(res.headers()["www-authenticate"], r#"ApiKey realm="idunox", header="X-Api-Key""#);
//!
//! // A hook is any closure from `&Refusal` to a response; this one adds a header to the default.
//! let json = JsonRefusal::new().realm("data-api");
//! let hook = move |refusal: &Refusal| -> Response<Bytes> {
//!     let mut res = json.on_refusal(refusal);
//!     res.headers_mut().insert("x-docs", HeaderValue::from_static("https://example.invalid/keys"));
//!     res
//! };
//! let res = hook.on_refusal(&Refusal::Missing);
//! assert_eq!(res.headers()["x-docs"], "https://example.invalid/keys");
//! assert_eq!(res.headers()["www-authenticate"], r#"ApiKey realm="data-api", header="X-Api-Key""#);
//! ```

use core::fmt;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Response, StatusCode};
use idunox_keys::Refusal;

/// Turns a [`Refusal`] into the response a refused request gets.
///
/// Implemented by [`JsonRefusal`] (the default) and by every `Fn(&Refusal) -> Response<B>`
/// closure. It is called on the request's task, so it must not block; it should not log the
/// presented key (it is never given it).
pub trait OnRefusal<B> {
    /// The response for this refusal.
    fn on_refusal(&self, refusal: &Refusal) -> Response<B>;
}

impl<B, F> OnRefusal<B> for F
where
    F: Fn(&Refusal) -> Response<B>,
{
    fn on_refusal(&self, refusal: &Refusal) -> Response<B> {
        self(refusal)
    }
}

/// The default refusal: the JSON envelope of `docs/http-api.md`, 401 with `WWW-Authenticate` or
/// 503 with `Retry-After` (see the [module docs](self)).
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
        self.realm = quotable(realm);
        self.rebuild();
        self
    }

    /// The header name shown in `WWW-Authenticate` (default `X-Api-Key`); set it when the layer
    /// reads another header (see [`ApiKeyLayer::header_name`](crate::ApiKeyLayer::header_name)).
    #[must_use]
    pub fn header(mut self, display_name: &str) -> Self {
        self.header = quotable(display_name);
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
    /// The core's one HTTP face of a refusal ([`Refusal::http_status`], [`Refusal::code`], its
    /// sentence, [`Refusal::challenge`]) with this hook's realm, header name and `Retry-After`.
    fn on_refusal(&self, refusal: &Refusal) -> Response<B> {
        let status = StatusCode::from_u16(refusal.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match refusal {
            // The one sentence that names the header: say the one this layer reads.
            Refusal::Missing => format!("An API key is required in the {} header.", self.header),
            other => other.to_string(),
        };
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

/// A response with the error envelope of `docs/http-api.md`,
/// `{"error":{"code":…,"message":…}}`, `Content-Type: application/json` and
/// `Cache-Control: no-store`.
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

/// Keep what may stand inside a quoted-string of a header value without escaping.
fn quotable(s: &str) -> String {
    s.chars()
        .filter(|c| (c.is_ascii_graphic() || *c == ' ') && *c != '"' && *c != '\\')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_json_and_cleans_quoted_strings() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\nd é");
        assert_eq!(s, r#"a\"b\\c\u000ad é"#);
        assert_eq!(quotable("a\"b\\c\r\né d"), "abc d");
        let r = JsonRefusal::new().realm("x\"y").header("X-Key");
        let res: Response<Bytes> =
            r.on_refusal(&Refusal::Invalid(idunox_keys::InvalidKey::WrongSecret));
        assert_eq!(
            res.headers()[WWW_AUTHENTICATE],
            r#"ApiKey realm="xy", header="X-Key""#
        );
    }

    #[test]
    fn unavailable_is_503_with_retry_after() {
        let res: Response<Bytes> = JsonRefusal::new()
            .retry_after(5)
            .on_refusal(&Refusal::Overloaded(idunox_keys::Overload::KeyBusy));
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[RETRY_AFTER], "5");
        assert!(res.headers().get(WWW_AUTHENTICATE).is_none());
        assert!(
            res.body()
                .starts_with(br#"{"error":{"code":"service_unavailable""#)
        );
    }
}
