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
    /// A stored hash asks for more memory, passes or lanes than this process allows (see
    /// [`budget`](crate::budget)): it is refused unread.
    ExcessiveParams,
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidParams => "the argon2 parameters are out of range",
            Self::MalformedHash => "the stored hash is not an argon2 PHC string",
            Self::Randomness => "no randomness was available for the salt",
            Self::Interrupted => "the hashing task did not run to completion",
            Self::ExcessiveParams => {
                "the stored hash asks for more argon2 memory or time than this process allows"
            }
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
    /// (rotate: revoked, superseded or expired meanwhile; update: revoked or expired).
    Conflict,
    /// `insert` with a [`LiveLimit`](crate::store::LiveLimit): the tenant holds that many live
    /// keys already.
    LimitReached,
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
            Self::LimitReached => f.write_str("the tenant holds its most live keys already"),
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
    /// A scope that is not in the catalogue (or an empty scope list).
    InvalidScope {
        /// The offending scope (shortened), or what is wrong with the list.
        scope: String,
    },
    /// A malformed allow-list entry, one with host bits set, an empty list or too many entries.
    InvalidCidr {
        /// The offending entry (shortened), or what is wrong with the list.
        entry: String,
    },
    /// The tenant holds `max` live keys already; revoke one first (rotation stays allowed).
    KeyLimitReached {
        /// The limit.
        max: usize,
    },
    /// Only live keys (active, expiring, grace) can be changed; this one is `status`.
    NotPatchable {
        /// The credential's status.
        status: Status,
    },
    /// Another rotation of this key is in progress in this process; at most one succeeds.
    RotationInProgress,
    /// The argon2 budget is exhausted: retry after the given seconds (`503`).
    Busy {
        /// Seconds to wait before retrying.
        retry_after: u32,
    },
    /// Hashing the new secret failed.
    Hash(HashError),
    /// The random number generator failed.
    Randomness,
    /// The store failed.
    Store(StoreError),
}

impl ManageError {
    /// A stable snake_case code: `not_found`, `conflict`, `invalid_grace_hours`,
    /// `invalid_validity_days`, `invalid_name`, `invalid_scope`, `invalid_cidr`,
    /// `key_limit_reached`, or `internal_error` / `service_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::NotRotatable { .. } | Self::NotPatchable { .. } | Self::RotationInProgress => {
                "conflict"
            }
            Self::InvalidGraceHours { .. } => "invalid_grace_hours",
            Self::InvalidValidity { .. } => "invalid_validity_days",
            Self::NameTooLong { .. } | Self::InvalidName => "invalid_name",
            Self::InvalidScope { .. } => "invalid_scope",
            Self::InvalidCidr { .. } => "invalid_cidr",
            Self::KeyLimitReached { .. } => "key_limit_reached",
            Self::Hash(_) | Self::Randomness => "internal_error",
            Self::Busy { .. } | Self::Store(_) => "service_unavailable",
        }
    }

    /// The HTTP status of this refusal: 404, 409, 422, 500 or 503.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::NotRotatable { .. }
            | Self::NotPatchable { .. }
            | Self::RotationInProgress
            | Self::KeyLimitReached { .. } => 409,
            Self::InvalidGraceHours { .. }
            | Self::InvalidValidity { .. }
            | Self::NameTooLong { .. }
            | Self::InvalidName
            | Self::InvalidScope { .. }
            | Self::InvalidCidr { .. } => 422,
            Self::Hash(_) | Self::Randomness => 500,
            Self::Busy { .. } | Self::Store(_) => 503,
        }
    }

    /// `Retry-After` seconds for a `503`.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::Busy { retry_after } => Some(*retry_after),
            Self::Store(_) => Some(1),
            _ => None,
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
            Self::InvalidScope { scope } => write!(
                f,
                "scopes must be a non-empty list of names from the scope catalogue; not {scope:?}"
            ),
            Self::InvalidCidr { entry } => write!(
                f,
                "allowed_ips must hold 1 to 50 IPv4/IPv6 networks in CIDR notation (or bare \
                 addresses) without host bits set; not {entry:?}"
            ),
            Self::KeyLimitReached { max } => write!(
                f,
                "this tenant already has {max} live keys, the most allowed; revoke one first"
            ),
            Self::NotPatchable { status } => write!(
                f,
                "only active, expiring or grace credentials can be changed; this one is {status}"
            ),
            Self::RotationInProgress => {
                f.write_str("another rotation of this credential is in progress")
            }
            Self::Busy { retry_after } => write!(
                f,
                "too much key hashing is in progress; retry in {retry_after} s"
            ),
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

impl From<BudgetError> for ManageError {
    fn from(e: BudgetError) -> Self {
        match e {
            BudgetError::Busy { retry_after } => Self::Busy { retry_after },
            BudgetError::Hash(h) => Self::Hash(h),
        }
    }
}

/// Argon2 work refused or failed under the [`HashBudget`](crate::budget::HashBudget).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetError {
    /// Every slot of the budget is taken: refused at once rather than queued. Retry after the
    /// given seconds.
    Busy {
        /// Seconds to wait before retrying.
        retry_after: u32,
    },
    /// Hashing or verifying failed (malformed stored hash, no randomness, worker lost).
    Hash(HashError),
}

impl fmt::Display for BudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy { retry_after } => write!(
                f,
                "the argon2 budget is exhausted; retry in {retry_after} s"
            ),
            Self::Hash(e) => e.fmt(f),
        }
    }
}

impl StdError for BudgetError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Hash(e) => Some(e),
            Self::Busy { .. } => None,
        }
    }
}

impl From<HashError> for BudgetError {
    fn from(e: HashError) -> Self {
        Self::Hash(e)
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

/// Why a presented key was not accepted (`docs/verification.md`, `docs/http-api.md`), with the one HTTP face every edge uses (the tower
/// layer and the reference server): [`http_status`](Self::http_status), [`code`](Self::code),
/// a sentence ([`Display`](fmt::Display)), [`retry_after`](Self::retry_after) and
/// [`challenge`](Self::challenge) (`WWW-Authenticate`).
///
/// Only after the secret matched does a refusal say more than
/// [`Invalid`](Refusal::Invalid): unknown id, wrong secret, bad checksum and malformed input all
/// read `invalid_api_key`; [`InvalidKey`] keeps the detail for logs, never for the answer.
///
/// | refusal | status | code |
/// | --- | --- | --- |
/// | `Missing` | 401 | `missing_api_key` |
/// | `Invalid(_)` | 401 | `invalid_api_key` |
/// | `Revoked` | 401 | `api_key_revoked` |
/// | `Expired` | 401 | `api_key_expired` |
/// | `IpNotAllowed` | 403 | `ip_not_allowed` |
/// | `InsufficientScope { .. }` | 403 | `insufficient_scope` |
/// | `Overloaded(_)`, `Unavailable(_)` | 503 | `service_unavailable` |
///
/// ```
/// use idunox_keys::{InvalidKey, ParseError, Refusal};
/// let r = Refusal::Invalid(InvalidKey::Malformed(ParseError::WrongEnvironment));
/// assert_eq!((r.http_status(), r.code()), (401, "invalid_api_key"));
/// assert_eq!(r.to_string(), "The API key is not valid.");
/// assert_eq!(r.reason(), "wrong_environment");
/// assert_eq!(
///     r.challenge("idunox", "X-Api-Key").as_deref(),
///     Some(r#"ApiKey realm="idunox", header="X-Api-Key""#)
/// );
/// let s = Refusal::InsufficientScope { scope: "orders:write".into() };
/// assert_eq!((s.http_status(), s.code()), (403, "insufficient_scope"));
/// assert_eq!(
///     s.challenge("idunox", "X-Api-Key").as_deref(),
///     Some(r#"ApiKey realm="idunox", header="X-Api-Key", error="insufficient_scope", scope="orders:write""#)
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Refusal {
    /// No key was presented.
    Missing,
    /// Not a valid key: malformed, wrong environment, unknown id or wrong secret (the detail is
    /// for logs only).
    Invalid(InvalidKey),
    /// The key was revoked.
    Revoked,
    /// The key expired, or its rotation overlap ended.
    Expired,
    /// The key has an IP allow-list and the client's address is not in it.
    IpNotAllowed,
    /// The route needs a scope the key does not carry.
    InsufficientScope {
        /// The scope the route needs.
        scope: String,
    },
    /// Cold verification is refused for now (budget exhausted, or this key id's failure budget
    /// spent); try again shortly.
    Overloaded(Overload),
    /// The key store could not be read (or its change feed could not be confirmed fresh).
    Unavailable(StoreError),
}

/// The detail behind [`Refusal::Invalid`], for logs and metrics (never sent to the client).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidKey {
    /// The value is not a well-formed key of the configured format.
    Malformed(ParseError),
    /// The request carried several key values.
    SeveralValues,
    /// Well-formed, but no key has this id.
    UnknownKeyId,
    /// The key id exists, the secret does not match.
    WrongSecret,
    /// The key id exists but its stored hash cannot be used (malformed, or beyond the argon2
    /// bounds of this process): no secret can match it.
    UnusableHash,
}

impl InvalidKey {
    /// A stable snake_case name: the parse error's [`code`](ParseError::code),
    /// `several_values`, `unknown_key_id`, `wrong_secret` or `unusable_hash`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Malformed(e) => e.code(),
            Self::SeveralValues => "several_values",
            Self::UnknownKeyId => "unknown_key_id",
            Self::WrongSecret => "wrong_secret",
            Self::UnusableHash => "unusable_hash",
        }
    }
}

/// The detail behind [`Refusal::Overloaded`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Overload {
    /// The process-wide argon2 budget is exhausted.
    Budget {
        /// Seconds to wait before retrying.
        retry_after: u32,
    },
    /// A cold verification of this key id with another secret is running.
    KeyBusy,
    /// This key id failed argon2 too often lately: its cold verifications are refused until
    /// the window passes (a remembered secret still verifies).
    KeyCoolingDown {
        /// Seconds until the window passes.
        retry_after: u32,
    },
}

impl Overload {
    /// A stable snake_case name: `budget_exhausted`, `key_busy` or `key_cooling_down`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Budget { .. } => "budget_exhausted",
            Self::KeyBusy => "key_busy",
            Self::KeyCoolingDown { .. } => "key_cooling_down",
        }
    }

    /// Seconds to wait before retrying (at least 1).
    pub const fn retry_after(self) -> u32 {
        match self {
            Self::Budget { retry_after } | Self::KeyCoolingDown { retry_after } => {
                if retry_after == 0 { 1 } else { retry_after }
            }
            Self::KeyBusy => 1,
        }
    }
}

impl Refusal {
    /// The stable error code (`docs/http-api.md`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing_api_key",
            Self::Invalid(_) => "invalid_api_key",
            Self::Revoked => "api_key_revoked",
            Self::Expired => "api_key_expired",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::Overloaded(_) | Self::Unavailable(_) => "service_unavailable",
        }
    }

    /// The HTTP status: 401, 403 or 503.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Missing | Self::Invalid(_) | Self::Revoked | Self::Expired => 401,
            Self::IpNotAllowed | Self::InsufficientScope { .. } => 403,
            Self::Overloaded(_) | Self::Unavailable(_) => 503,
        }
    }

    /// Whether the caller should answer 503 (try again later).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Overloaded(_) | Self::Unavailable(_))
    }

    /// `Retry-After` seconds for a 503.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::Overloaded(o) => Some(o.retry_after()),
            Self::Unavailable(_) => Some(1),
            _ => None,
        }
    }

    /// The sentence of the answer's `message`: the [`Display`](fmt::Display) text, except that
    /// a missing key names the `header` it is read from.
    pub fn message(&self, header: &str) -> String {
        match self {
            Self::Missing => format!("An API key is required in the {} header.", quotable(header)),
            other => other.to_string(),
        }
    }

    /// The detail for logs: `missing`, [`InvalidKey::code`], `revoked`, `expired`,
    /// `ip_not_allowed`, `insufficient_scope`, [`Overload::code`] or `store_unavailable`. Never
    /// key material.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Invalid(i) => i.code(),
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::Overloaded(o) => o.code(),
            Self::Unavailable(_) => "store_unavailable",
        }
    }

    /// The `WWW-Authenticate` value for a 401 or 403 (`None` for a 503): the `ApiKey` scheme
    /// with `realm` and the `header` the key is read from, plus RFC 6750-style `error` and
    /// `scope` for an insufficient scope. Characters that cannot stand in a quoted string
    /// (`"`, `\`, controls, non-ASCII) are dropped from `realm` and `header`.
    pub fn challenge(&self, realm: &str, header: &str) -> Option<String> {
        let base = format!(
            "ApiKey realm=\"{}\", header=\"{}\"",
            quotable(realm),
            quotable(header)
        );
        match self {
            Self::Missing | Self::Invalid(_) | Self::Revoked | Self::Expired => Some(base),
            Self::IpNotAllowed => Some(format!("{base}, error=\"ip_not_allowed\"")),
            Self::InsufficientScope { scope } => Some(format!(
                "{base}, error=\"insufficient_scope\", scope=\"{}\"",
                quotable(scope)
            )),
            Self::Overloaded(_) | Self::Unavailable(_) => None,
        }
    }
}

/// Keep what may stand inside a quoted-string of a header value without escaping.
fn quotable(s: &str) -> String {
    s.chars()
        .filter(|c| (c.is_ascii_graphic() || *c == ' ') && *c != '"' && *c != '\\')
        .collect()
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("An API key is required."),
            Self::Invalid(_) => f.write_str("The API key is not valid."),
            Self::Revoked => f.write_str("The API key has been revoked."),
            Self::Expired => f.write_str("The API key has expired."),
            Self::IpNotAllowed => {
                f.write_str("The API key may not be used from this client's address.")
            }
            Self::InsufficientScope { scope } => write!(
                f,
                "The API key does not carry the scope this route needs: {}.",
                quotable(scope)
            ),
            Self::Overloaded(_) => {
                f.write_str("Too many key verifications are in progress; retry shortly.")
            }
            Self::Unavailable(_) => f.write_str("The key store is unavailable; retry shortly."),
        }
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
