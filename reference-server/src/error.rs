//! The error envelope of every non-2xx `/v1` answer (`docs/http-api.md`), `{"error": {"code": "…", "message": "…"}}`,
//! with its headers (`Retry-After`, `WWW-Authenticate`, `Allow`).
//!
//! Request guards that fail store their [`ApiError`] in the request-local cache before
//! answering with a status; the `/v1` catcher (see [`crate::catchers`]) then renders exactly
//! that error, headers included.

use std::io::Cursor;

use idunox_keys::{ManageError, Refusal};
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

/// An error answer under `/v1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: Status,
    /// Stable snake_case code.
    pub code: &'static str,
    /// A sentence for humans.
    pub message: String,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<i64>,
    /// `WWW-Authenticate`.
    pub www_authenticate: Option<&'static str>,
    /// `Allow` (a 405).
    pub allow: Option<String>,
    /// Close the connection after this answer (`Connection: close`), e.g. when the rest of the
    /// request body was not read.
    pub close_connection: bool,
}

/// `WWW-Authenticate` of the key probe.
pub const API_KEY_CHALLENGE: &str = "ApiKey realm=\"idunox\", header=\"X-Api-Key\"";
/// `WWW-Authenticate` of the portal API.
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"idunox-partner\"";
/// `WWW-Authenticate` of the admin API.
pub const STAFF_BEARER_CHALLENGE: &str = "Bearer realm=\"idunox-staff\"";

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: Status, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            www_authenticate: None,
            allow: None,
            close_connection: false,
        }
    }

    /// Add a `Retry-After`.
    #[must_use]
    pub fn retry_after(mut self, secs: i64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self::new(Status::NotFound, "not_found", "No credential with this id.")
    }

    /// 401 `unauthorized` with a Bearer challenge.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            www_authenticate: Some(BEARER_CHALLENGE),
            ..Self::new(Status::Unauthorized, "unauthorized", message)
        }
    }

    /// The same error with this `WWW-Authenticate` challenge.
    #[must_use]
    pub fn challenge(mut self, challenge: &'static str) -> Self {
        self.www_authenticate = Some(challenge);
        self
    }

    /// 503 `service_unavailable` with `Retry-After`.
    pub fn unavailable() -> Self {
        Self::new(
            Status::ServiceUnavailable,
            "service_unavailable",
            "The service is temporarily unavailable; retry shortly.",
        )
        .retry_after(5)
    }

    /// 500 `internal_error`.
    pub fn internal() -> Self {
        Self::new(
            Status::InternalServerError,
            "internal_error",
            "An internal error occurred.",
        )
    }

    /// A database failure: logged (without parameters), answered 503.
    pub fn database(e: &dyn std::error::Error) -> Self {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %text, "database unavailable");
        Self::unavailable()
    }

    /// The generic error for a status with no more specific one.
    pub fn for_status(status: Status) -> Self {
        let (code, message) = match status.code {
            400 => ("bad_request", "The request is malformed."),
            401 => ("unauthorized", "Authentication is required."),
            403 => ("forbidden", "This is not allowed."),
            404 => ("not_found", "No such resource."),
            405 => (
                "method_not_allowed",
                "This method is not allowed on this resource.",
            ),
            406 => ("not_acceptable", "No acceptable representation."),
            408 => ("request_timeout", "The request took too long."),
            409 => ("conflict", "The resource changed state."),
            413 => (
                "payload_too_large",
                "The request body is larger than allowed.",
            ),
            415 => ("unsupported_media_type", "The body must be JSON."),
            422 => (
                "invalid_request",
                "The request body does not have the expected fields.",
            ),
            429 => ("too_many_requests", "Too many requests; retry later."),
            503 => (
                "service_unavailable",
                "The service is temporarily unavailable; retry shortly.",
            ),
            500..=599 => ("internal_error", "An internal error occurred."),
            _ => ("error", "The request failed."),
        };
        let e = Self::new(status, code, message);
        match status.code {
            401 => Self {
                www_authenticate: Some(BEARER_CHALLENGE),
                ..e
            },
            503 => e.retry_after(5),
            _ => e,
        }
    }

    /// Remember this error for the `/v1` catcher and give back its status (for guards).
    pub fn stash(self, req: &Request<'_>) -> Status {
        let status = self.status;
        let _ = req.local_cache(|| Stashed(Some(self.clone())));
        status
    }

    /// The error a guard stashed on this request, if any.
    pub fn stashed(req: &Request<'_>) -> Option<Self> {
        req.local_cache(|| Stashed(None)).0.clone()
    }
}

/// Request-local slot of a guard's error.
struct Stashed(Option<ApiError>);

/// A database failure: logged, answered 503 (see [`ApiError::database`]).
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::database(&e)
    }
}

impl From<ManageError> for ApiError {
    /// The core's HTTP face of a lifecycle refusal (`ManageError::http_status`, `code`, its
    /// sentence); store failures are logged and answered 503, internal failures 500.
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::NotFound => Self::not_found(),
            ManageError::Store(ref s) => Self::database(s),
            ManageError::Hash(_) | ManageError::Randomness => {
                tracing::error!(error = %e, "key management failed");
                Self::internal()
            }
            _ => {
                let status =
                    Status::from_code(e.http_status()).unwrap_or(Status::InternalServerError);
                let err = Self::new(status, e.code(), format!("{}.", capitalise(&e)));
                match e.retry_after() {
                    Some(secs) => err.retry_after(i64::from(secs)),
                    None => err,
                }
            }
        }
    }
}

impl From<&Refusal> for ApiError {
    /// The core's HTTP face of a key refusal (`Refusal::http_status`, `code`, sentence,
    /// `retry_after`); the 401 challenge names the `X-Api-Key` header.
    fn from(r: &Refusal) -> Self {
        if let Refusal::Unavailable(e) = r {
            let _ = Self::database(e);
        }
        let status = Status::from_code(r.http_status()).unwrap_or(Status::InternalServerError);
        let err = Self::new(status, r.code(), r.to_string());
        match (r.retry_after(), r.http_status()) {
            (Some(secs), _) => err.retry_after(i64::from(secs)),
            (None, 401) => Self {
                www_authenticate: Some(API_KEY_CHALLENGE),
                ..err
            },
            _ => err,
        }
    }
}

fn capitalise(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message }
        })
        .to_string();
        let mut res = Response::build();
        // The security headers are also set here, not only by the response fairing: a request
        // Rocket cannot parse (an unknown method) is answered without running fairings.
        res.status(self.status)
            .header(ContentType::JSON)
            .header(Header::new("Cache-Control", "no-store"))
            .header(Header::new("X-Content-Type-Options", "nosniff"))
            .header(Header::new("Referrer-Policy", "no-referrer"))
            .sized_body(body.len(), Cursor::new(body));
        if let Some(allow) = self.allow {
            res.header(Header::new("Allow", allow));
        }
        if self.close_connection {
            res.header(Header::new("Connection", "close"));
        }
        if let Some(secs) = self.retry_after {
            res.header(Header::new("Retry-After", secs.to_string()));
        }
        if let Some(challenge) = self.www_authenticate {
            res.header(Header::new("WWW-Authenticate", challenge));
        }
        Ok(res.finalize())
    }
}
