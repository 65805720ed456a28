//! Staff second factor: RFC 6238 time-based one-time codes (HMAC-SHA-1, 30-second steps, 6
//! digits), computed by `totp-rs`, as every authenticator app computes them.
//!
//! - A secret is 20 random bytes from the operating system (160 bits, RFC 4226's recommended
//!   length), shown once as base32 and as an `otpauth://totp/` URI when the account is made,
//!   and stored only sealed ([`crate::auth::totp_seal`]).
//! - [`accept`] takes a code of the current step or one step either side (clock drift), but
//!   only of a step later than the last one accepted for that account: each code works once,
//!   and a later step's code still works after an earlier one was used. The caller stores the
//!   step it returns, conditionally on the old one, so two sign-ins racing with one code cannot
//!   both win.
//! - All three candidate steps are always computed and compared (constant-time comparison in
//!   `totp-rs`), so the time of an answer does not tell which step matched.
//!
//! ```
//! use reference_server::auth::totp::{self, TotpSecret};
//! let secret = TotpSecret::from_bytes(&[7; 20]).unwrap();
//! let now = 1_700_000_000;
//! let code = secret.code_at(now);
//! let step = totp::accept(&secret, &code, now, None).unwrap();
//! assert_eq!(totp::accept(&secret, &code, now, Some(step)), None); // once only
//! assert!(secret.uri("ops@idunox.test").starts_with("otpauth://totp/Idunox:ops%40idunox.test?secret="));
//! ```

use totp_rs::{Algorithm, Builder, Totp};
use zeroize::Zeroizing;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Steps of drift accepted either side of the current one.
pub const SKEW: i64 = 1;
/// Bytes of a secret (160 bits).
pub const SECRET_BYTES: usize = 20;
/// The issuer an authenticator app shows next to the account.
pub const ISSUER: &str = "Idunox";

/// A TOTP secret. `Debug` shows nothing of it; it is wiped from memory when dropped.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl core::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A fresh random secret.
    ///
    /// # Errors
    /// When the operating system's random number generator fails.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// A secret from its bytes (an unsealed one), if it has [`SECRET_BYTES`] of them.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() == SECRET_BYTES).then(|| Self(Zeroizing::new(bytes.to_vec())))
    }

    /// The raw bytes (to seal them).
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, account: &str) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_step_duration(STEP_SECS as u64)
            .with_skew(0)
            .with_secret(self.0.as_slice())
            .with_issuer(Some(ISSUER))
            .with_account_name(account)
            .build_noncompliant()
    }

    /// The secret in base32 without padding, as authenticator apps take it typed in.
    pub fn base32(&self) -> Zeroizing<String> {
        Zeroizing::new(self.totp("x").secret().to_base32())
    }

    /// The `otpauth://totp/Idunox:<email>?secret=…&issuer=Idunox` URI that authenticator apps
    /// read (from a QR code). `email` must not contain `:`; an unusable one gives an empty URI.
    pub fn uri(&self, email: &str) -> Zeroizing<String> {
        Zeroizing::new(self.totp(email).to_url().unwrap_or_default())
    }

    /// The code of the step holding `unix` (seconds); for tests and tools.
    pub fn code_at(&self, unix: i64) -> String {
        self.totp("x")
            .generate(u64::try_from(unix).unwrap_or(0))
            .to_string()
    }
}

/// The step that holds `unix` (seconds).
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECS)
}

/// Whether `code` is the code of the step holding `now` or of a step beside it ([`SKEW`]), and
/// of a step later than `last_step` (the last one accepted for this account). Returns the
/// matched step, the latest if several match. A code that is not [`DIGITS`] ASCII digits
/// matches nothing.
pub fn accept(secret: &TotpSecret, code: &str, now: i64, last_step: Option<i64>) -> Option<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = secret.totp("x");
    let origin = step_of(now);
    let mut accepted = None;
    for step in (origin - SKEW)..=(origin + SKEW) {
        let Ok(at) = u64::try_from(step * STEP_SECS) else {
            continue;
        };
        // Always computed, whatever matched before, so every answer costs the same.
        let matched = totp.check(code, at).is_some();
        if matched && last_step.is_none_or(|last| step > last) {
            accepted = Some(step);
        }
    }
    accepted
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1, the last six digits of its eight-digit values.
    #[test]
    fn rfc_6238_vectors() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(secret.code_at(t), code, "t = {t}");
            assert_eq!(accept(&secret, code, t, None), Some(step_of(t)));
        }
    }

    #[test]
    fn drift_of_one_step_either_side_once_each() {
        let secret = TotpSecret::generate().unwrap();
        let now = 1_800_000_015;
        let here = step_of(now);
        let prev = secret.code_at(now - STEP_SECS);
        let next = secret.code_at(now + STEP_SECS);
        let far = secret.code_at(now - 2 * STEP_SECS);
        let far_next = secret.code_at(now + 2 * STEP_SECS);
        assert_eq!(accept(&secret, &prev, now, None), Some(here - 1));
        assert_eq!(accept(&secret, &next, now, None), Some(here + 1));
        assert_eq!(accept(&secret, &far, now, None), None);
        assert_eq!(accept(&secret, &far_next, now, None), None);
        // Once the current step was used, its code and older ones are refused; the next works.
        assert_eq!(accept(&secret, &secret.code_at(now), now, Some(here)), None);
        assert_eq!(accept(&secret, &prev, now, Some(here)), None);
        assert_eq!(accept(&secret, &next, now, Some(here)), Some(here + 1));
    }

    #[test]
    fn malformed_codes_match_nothing() {
        let secret = TotpSecret::generate().unwrap();
        for code in ["", "12345", "1234567", "12345a", " 12345", "１２３４５６"] {
            assert_eq!(accept(&secret, code, 1_800_000_000, None), None, "{code:?}");
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let secret = TotpSecret::from_bytes(&[0xab; 20]).unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains("ab") && !shown.contains(secret.base32().as_str()));
        assert_eq!(secret.base32().len(), 32);
    }
}
