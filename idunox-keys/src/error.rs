//! Every error the crate returns: small hand-written enums, each with a stable
//! snake_case [`code`](Refusal::code) where it crosses an API boundary, a human
//! sentence from `Display`, and never any key material.

use core::fmt;
use std::error::Error as StdError;

use crate::status::Status;

/// Why a presented string is not a well-formed key of the configured format.
///
/// Parsing never touches a store and never panics; every variant reads
/// `invalid_api_key` to the outside world (`docs/verification.md`), the detail is for logs and
/// tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseError {
    /// The input is empty.
    Empty,
    /// The input is longer than any key could be.
    TooLong,
    /// The input does not have the `prefix_environment_keyid_secret` shape.
    Malformed,
    /// The prefix is not the configured one.
    WrongPrefix,
    /// The key belongs to another environment (for example a `live` key in `test`).
    WrongEnvironment,
    /// The key id or the secret-and-checksum part has the wrong length.
    BadLength,
    /// A character outside the base62 alphabet.
    BadCharacter,
    /// The checksum does not match: a typo, a truncated copy, or not a key at all.
    BadChecksum,
}

impl ParseError {
    /// A stable snake_case name for this variant, for logs and metrics.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong => "too_long",
            Self::Malformed => "malformed",
            Self::WrongPrefix => "wrong_prefix",
            Self::WrongEnvironment => "wrong_environment",
            Self::BadLength => "bad_length",
            Self::BadCharacter => "bad_character",
            Self::BadChecksum => "bad_checksum",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "the API key is empty",
            Self::TooLong => "the API key is longer than any valid key",
            Self::Malformed => "the API key does not have the prefix_environment_id_secret shape",
            Self::WrongPrefix => "the API key does not start with the expected prefix",
            Self::WrongEnvironment => "the API key belongs to another environment",
            Self::BadLength => "a part of the API key has the wrong length",
            Self::BadCharacter => "the API key contains a character outside 0-9, A-Z, a-z",
            Self::BadChecksum => "the API key's checksum does not match (mistyped or truncated?)",
        })
    }
}

impl StdError for ParseError {}

/// A key format that cannot be used: prefix or environment empty, too long, or
/// not made of ASCII letters and digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// The prefix must be 1 to 16 ASCII letters or digits.
    InvalidPrefix,
    /// The environment must be 1 to 16 ASCII letters or digits.
    InvalidEnvironment,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidPrefix => "the key prefix must be 1 to 16 ASCII letters or digits",
            Self::InvalidEnvironment => {
                "the key environment must be 1 to 16 ASCII letters or digits"
            }
        })
    }
}

impl StdError for FormatError {}

/// The operating system's random number generator failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomnessError;

impl fmt::Display for RandomnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operating system's random number generator failed")
    }
}

impl StdError for RandomnessError {}

/// Hashing or reading a stored hash failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashError {
    /// Argon2 parameters out of range.
    InvalidParams,
    /// A stored value is not an argon2 PHC string this crate can read.
    MalformedHash,
    /// No randomness for the salt.
    Randomness,
    /// The hashing task could not run to completion (its worker thread panicked or was cancelled).
    Interrupted,
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidParams => "the argon2 parameters are out of range",
            Self::MalformedHash => "the stored hash is not an argon2 PHC string",
            Self::Randomness => "no randomness was available for the salt",
            Self::Interrupted => "the hashing task did not run to completion",
        })
    }
}

impl StdError for HashError {}

/// A [`KeyStore`](crate::KeyStore) operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// `insert`: a credential with this key id exists already (the caller draws a new id).
    KeyIdTaken,
    /// No credential with this id for this tenant (another tenant's looks the same).
    NotFound,
    /// The credential is no longer in a state that allows the operation
    /// (rotate: revoked, superseded or expired meanwhile).
    Conflict,
    /// The backend failed (connection lost, pool timed out, I/O error, …).
    Backend(Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    /// Wrap a backend error.
    pub fn backend(err: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Backend(err.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyIdTaken => f.write_str("a credential with this key id exists already"),
            Self::NotFound => f.write_str("no such credential"),
            Self::Conflict => f.write_str("the credential changed state meanwhile"),
            Self::Backend(_) => f.write_str("the key store is unavailable"),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Backend(e) => Some(&**e),
            _ => None,
        }
    }
}

/// Why a lifecycle operation (create, rotate, revoke) was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum ManageError {
    /// No such credential for this tenant.
    NotFound,
    /// Rotation is allowed from `active` or `expiring` only; this credential is in `status`.
    NotRotatable {
        /// The credential's status when the rotation was asked for.
        status: Status,
    },
    /// The overlap is not one of the configured hours.
    InvalidGraceHours {
        /// What was asked for.
        hours: i64,
    },
    /// Validity must be within `1..=max` days.
    InvalidValidity {
        /// What was asked for.
        days: i64,
        /// The largest allowed value.
        max: u32,
    },
    /// The name is longer than allowed.
    NameTooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// The name holds control characters.
    InvalidName,
    /// Hashing the new secret failed.
    Hash(HashError),
    /// The random number generator failed.
    Randomness,
    /// The store failed.
    Store(StoreError),
}

impl ManageError {
    /// A stable snake_case code: `not_found`, `conflict`, `invalid_grace_hours`,
    /// `invalid_validity_days`, `invalid_name`, or `internal_error` / `service_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::NotRotatable { .. } => "conflict",
            Self::InvalidGraceHours { .. } => "invalid_grace_hours",
            Self::InvalidValidity { .. } => "invalid_validity_days",
            Self::NameTooLong { .. } | Self::InvalidName => "invalid_name",
            Self::Hash(_) | Self::Randomness => "internal_error",
            Self::Store(_) => "service_unavailable",
        }
    }
}

impl fmt::Display for ManageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("no credential with this id"),
            Self::NotRotatable { status } => write!(
                f,
                "only active or expiring credentials can be rotated; this one is {status}"
            ),
            Self::InvalidGraceHours { hours } => write!(
                f,
                "{hours} is not one of the allowed rotation overlaps (see rotation_grace_hours)"
            ),
            Self::InvalidValidity { days, max } => {
                write!(
                    f,
                    "the validity must be between 1 and {max} days, not {days}"
                )
            }
            Self::NameTooLong { max } => write!(f, "name must be at most {max} characters"),
            Self::InvalidName => f.write_str("name must not contain control characters"),
            Self::Hash(e) => write!(f, "hashing failed: {e}"),
            Self::Randomness => RandomnessError.fmt(f),
            Self::Store(e) => e.fmt(f),
        }
    }
}

impl StdError for ManageError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Hash(e) => Some(e),
            Self::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for ManageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

impl From<HashError> for ManageError {
    fn from(e: HashError) -> Self {
        Self::Hash(e)
    }
}

impl From<RandomnessError> for ManageError {
    fn from(_: RandomnessError) -> Self {
        Self::Randomness
    }
}

/// Why a presented key was not accepted (`docs/verification.md`, `docs/http-api.md`).
///
/// Only after the secret matched does a refusal say more than
/// [`Invalid`](Refusal::Invalid): unknown id, wrong secret, bad checksum and
/// malformed input all read `invalid_api_key`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Refusal {
    /// No key was presented.
    Missing,
    /// Not a valid key: malformed, wrong environment, unknown id or wrong secret.
    Invalid,
    /// The key was revoked.
    Revoked,
    /// The key expired, or its rotation overlap ended.
    Expired,
    /// Too many cold verifications are running; try again shortly.
    Overloaded,
    /// The key store could not be read.
    Unavailable(StoreError),
}

impl Refusal {
    /// The stable error code of `docs/http-api.md`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing_api_key",
            Self::Invalid => "invalid_api_key",
            Self::Revoked => "api_key_revoked",
            Self::Expired => "api_key_expired",
            Self::Overloaded | Self::Unavailable(_) => "service_unavailable",
        }
    }

    /// Whether the caller should answer 503 (try again later) rather than 401.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Overloaded | Self::Unavailable(_))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "An API key is required in the X-Api-Key header.",
            Self::Invalid => "The API key is not valid.",
            Self::Revoked => "The API key has been revoked.",
            Self::Expired => "The API key has expired.",
            Self::Overloaded => "Too many key verifications are in progress; retry shortly.",
            Self::Unavailable(_) => "The key store is unavailable; retry shortly.",
        })
    }
}

impl StdError for Refusal {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Unavailable(e) => Some(e),
            _ => None,
        }
    }
}
