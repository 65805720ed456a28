//! The JSON request body: [`Body<T>`] reads it within a deadline and a size limit and decodes it,
//! and [`require_json`] is the media-type rule every `/v1` request with a body follows.
//!
//! | what | answer |
//! | --- | --- |
//! | a body without `Content-Type: application/json` (any parameters, e.g. `charset`) | 415 `unsupported_media_type` |
//! | no body and no `Content-Type`, on a route whose body is required (sign-in) | 415 `unsupported_media_type` |
//! | not received whole within `body_timeout_seconds` (default 10) | 408 `request_timeout`, connection closed |
//! | larger than `limits.json` (64 KiB by default) | 413 `payload_too_large` |
//! | not JSON | 400 `invalid_json` |
//! | JSON that is not an object (`[…]`, `"…"`, `null`) | 422 `invalid_request` |
//! | JSON with missing, unknown or mistyped fields | 422 `invalid_request` |
//!
//! The media-type rule keeps a plain cross-site HTML form (which can only send
//! `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`) away from the API:
//! such a request is refused before anything reads its fields. The routing layer applies the
//! same rule to bodies sent to routes that take none ([`crate::routing::media_type`]).
//!
//! Failures stash their [`ApiError`] for the `/v1` catcher, as every guard here does.

use std::time::Duration;

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::http::Status;
use rocket::request::Request;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::bodies::shape::is_object;
use crate::error::ApiError;

/// A JSON request body type.
pub trait Payload: DeserializeOwned + Send + 'static {
    /// Whether an empty body reads as `{}` (then no `Content-Type` is needed either).
    const EMPTY_IS_OBJECT: bool = false;
    /// Whether the body holds a secret, so errors must not quote it.
    const SENSITIVE: bool = false;
}

/// A decoded JSON body; see the [module docs](self) for every refusal.
#[derive(Debug)]
pub struct Body<T>(pub T);

/// The body deadline when no [`App`](crate::state::App) is managed (never in the server).
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the request says `Content-Type: application/json`.
pub fn is_json(req: &Request<'_>) -> bool {
    req.content_type().is_some_and(|ct| ct.is_json())
}

/// 415 unless the request says `Content-Type: application/json`.
///
/// # Errors
/// The 415 `unsupported_media_type` answer.
pub fn require_json(req: &Request<'_>) -> Result<(), ApiError> {
    if is_json(req) {
        Ok(())
    } else {
        Err(unsupported_media_type())
    }
}

/// 415 `unsupported_media_type`.
pub fn unsupported_media_type() -> ApiError {
    ApiError::new(
        Status::UnsupportedMediaType,
        "unsupported_media_type",
        "A request body must be JSON, sent with Content-Type: application/json.",
    )
}

/// When the body must have arrived: `body_timeout_seconds` after the first look at it, one
/// deadline for the whole request (the media-type gate's look and the read together).
pub fn deadline(req: &Request<'_>) -> Instant {
    req.local_cache(|| {
        let timeout = req
            .rocket()
            .state::<crate::state::App>()
            .map_or(FALLBACK_TIMEOUT, |app| app.config.body_timeout);
        BodyDeadline(Instant::now() + timeout)
    })
    .0
}

/// The request-local deadline of [`deadline`].
struct BodyDeadline(Instant);

/// 408 `request_timeout`, closing the connection (the rest of the body is not read).
pub fn timed_out() -> ApiError {
    ApiError {
        close_connection: true,
        ..ApiError::new(
            Status::RequestTimeout,
            "request_timeout",
            "The request body did not arrive in time.",
        )
    }
}

/// Whether the request carries a body: one is announced (`Content-Length` above 0), or its
/// first byte arrives before the [`deadline`].
///
/// A body announced but never delivered (the connection broke) counts as a body, which then
/// fails to read, so a broken request is never taken for an empty one (an empty create would
/// make a key).
///
/// # Errors
/// 408 when nothing arrives in time; 400 when the body cannot be read.
pub async fn carries_body(req: &Request<'_>, data: &mut Data<'_>) -> Result<bool, ApiError> {
    let announced = req
        .headers()
        .get_one("Content-Length")
        .and_then(|n| n.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0);
    if announced {
        return Ok(true);
    }
    let first_empty = tokio::time::timeout_at(deadline(req), data.peek(1))
        .await
        .map_err(|_| timed_out())?
        .is_empty();
    match (first_empty, data.peek_complete()) {
        (true, true) => Ok(false),
        (true, false) => Err(unreadable()),
        (false, _) => Ok(true),
    }
}

fn unreadable() -> ApiError {
    ApiError::new(
        Status::BadRequest,
        "invalid_json",
        "The request body could not be read.",
    )
}

#[rocket::async_trait]
impl<'r, T: Payload> FromData<'r> for Body<T> {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match read::<T>(req, data).await {
            Ok(v) => data::Outcome::Success(Body(v)),
            Err(e) => data::Outcome::Error((e.stash(req), ())),
        }
    }
}

async fn read<T: Payload>(req: &Request<'_>, mut data: Data<'_>) -> Result<T, ApiError> {
    if !carries_body(req, &mut data).await? {
        if T::EMPTY_IS_OBJECT {
            return serde_json::from_str::<T>("{}")
                .map_err(|_| ApiError::for_status(Status::UnprocessableEntity));
        }
        // No body: a required one is missing. Without a Content-Type this is what a bodyless
        // cross-site form post looks like (415); with one, it is empty JSON (400).
        require_json(req)?;
        return Err(invalid_json());
    }
    require_json(req)?;
    let limit = req.limits().get("json").unwrap_or_else(|| 64.kibibytes());
    let bytes = tokio::time::timeout_at(deadline(req), data.open(limit).into_bytes())
        .await
        .map_err(|_| timed_out())?
        .map_err(|_| unreadable())?;
    if !bytes.is_complete() {
        return Err(ApiError::new(
            Status::PayloadTooLarge,
            "payload_too_large",
            format!("The request body is larger than the {limit} limit."),
        ));
    }
    let bytes = bytes.into_inner();
    if !is_object(&bytes) {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                Ok(_) => ApiError::new(
                    Status::UnprocessableEntity,
                    "invalid_request",
                    "The request body must be a JSON object.",
                ),
                Err(_) => invalid_json(),
            },
        );
    }
    serde_json::from_slice::<T>(&bytes).map_err(|e| {
        if !e.is_data() {
            return invalid_json();
        }
        let message = if T::SENSITIVE {
            "The request body does not have the expected fields.".to_owned()
        } else {
            format!(
                "The request body does not have the expected fields: {}.",
                strip_position(&e)
            )
        };
        ApiError::new(Status::UnprocessableEntity, "invalid_request", message)
    })
}

fn invalid_json() -> ApiError {
    ApiError::new(
        Status::BadRequest,
        "invalid_json",
        "The request body is not valid JSON.",
    )
}

/// serde_json's message without its " at line 1 column 9" suffix.
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}
