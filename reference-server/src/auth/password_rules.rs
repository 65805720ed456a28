//! What a new portal password must be: at least [`MIN_CHARS`] characters (a passphrase of a few
//! words passes; composition rules are not required, as NIST SP 800-63B advises) and at most
//! [`MAX_CHARS`] (argon2 would take any length; the cap keeps request bodies and the work they
//! cause small). The CLI (`user add`) and the API (`POST /v1/partner/me/password`) apply the same
//! rule.
//!
//! ```
//! use reference_server::auth::password_rules::{check, Problem};
//! assert_eq!(check("correct horse battery"), Ok(()));
//! assert_eq!(check("short"), Err(Problem::TooShort));
//! assert_eq!(check(&"x".repeat(1025)), Err(Problem::TooLong));
//! ```

/// Shortest accepted password, in characters.
pub const MIN_CHARS: usize = 12;
/// Longest accepted password, in characters.
pub const MAX_CHARS: usize = 1024;

/// Why a new password is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Fewer than [`MIN_CHARS`] characters.
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    TooLong,
}

impl core::fmt::Display for Problem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooShort => write!(
                f,
                "the password is too short: at least {MIN_CHARS} characters are required"
            ),
            Self::TooLong => write!(
                f,
                "the password is too long: at most {MAX_CHARS} characters"
            ),
        }
    }
}

/// Check a new password's length.
///
/// # Errors
/// The [`Problem`] with it.
pub fn check(password: &str) -> Result<(), Problem> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        Err(Problem::TooShort)
    } else if n > MAX_CHARS {
        Err(Problem::TooLong)
    } else {
        Ok(())
    }
}
