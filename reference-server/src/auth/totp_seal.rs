//! Staff TOTP secrets at rest: sealed with XChaCha20-Poly1305, so a copy of the database alone
//! (a dump, a backup, a stolen SQLite file) gives no working codes.
//!
//! - The sealing key is HMAC-SHA-256 of a fixed label under the configured `staff_totp_key`
//!   (or, when that is not set, under `jwt_secret`; see [`TotpKeySource`]). It lives in the
//!   configuration, never in the database.
//! - Each secret gets a fresh random 192-bit nonce, and the staff id is authenticated with it
//!   (associated data): a sealed secret copied onto another staff row does not open there.
//! - Stored text: `x1.<nonce hex>.<ciphertext and tag hex>`. A value that does not open (another
//!   key, a tampered row) is refused like a wrong code, and the server logs that it happened
//!   (never the value).
//!
//! ```
//! use reference_server::auth::totp::TotpSecret;
//! use reference_server::auth::totp_seal::TotpSeal;
//! let seal = TotpSeal::new(b"a configured secret of at least 32 bytes");
//! let secret = TotpSecret::from_bytes(&[9; 20]).unwrap();
//! let stored = seal.seal("stf_1", &secret).unwrap();
//! assert!(!stored.contains(&hex_of(&[9; 20])));
//! assert_eq!(seal.open("stf_1", &stored).unwrap().expose_bytes(), &[9; 20]);
//! assert!(seal.open("stf_2", &stored).is_none()); // bound to its staff id
//! # fn hex_of(b: &[u8]) -> String { b.iter().map(|x| format!("{x:02x}")).collect() }
//! ```
//!
//! [`TotpKeySource`]: crate::config::TotpKeySource

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::auth::totp::TotpSecret;

const LABEL: &[u8] = b"idunox staff TOTP secret seal, version 1";
const PREFIX: &str = "x1.";
const NONCE_BYTES: usize = 24;

/// Seals and opens TOTP secrets. `Debug` shows no key.
#[derive(Clone)]
pub struct TotpSeal {
    cipher: XChaCha20Poly1305,
}

impl core::fmt::Debug for TotpSeal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TotpSeal").finish_non_exhaustive()
    }
}

impl TotpSeal {
    /// The seal of this configured secret.
    pub fn new(configured: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(configured)
            .expect("HMAC takes a key of any length");
        mac.update(LABEL);
        let key: Zeroizing<[u8; 32]> = Zeroizing::new(mac.finalize().into_bytes().into());
        Self {
            cipher: XChaCha20Poly1305::new_from_slice(key.as_slice())
                .expect("a 32-byte key is XChaCha20-Poly1305's size"),
        }
    }

    /// Seal `secret` for the staff account `staff_id`.
    ///
    /// # Errors
    /// When the operating system's random number generator fails.
    pub fn seal(&self, staff_id: &str, secret: &TotpSecret) -> Result<String, getrandom::Error> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)?;
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret.expose_bytes(),
                    aad: staff_id.as_bytes(),
                },
            )
            .expect("sealing a 20-byte secret cannot fail");
        Ok(format!("{PREFIX}{}.{}", hex(&nonce), hex(&sealed)))
    }

    /// Open what [`seal`](Self::seal) stored for `staff_id`; `None` when it does not open.
    pub fn open(&self, staff_id: &str, stored: &str) -> Option<TotpSecret> {
        let (nonce, sealed) = stored.strip_prefix(PREFIX)?.split_once('.')?;
        let nonce: [u8; NONCE_BYTES] = unhex(nonce)?.try_into().ok()?;
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: &unhex(sealed)?,
                        aad: staff_id.as_bytes(),
                    },
                )
                .ok()?,
        );
        TotpSecret::from_bytes(&plain)
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(core::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_key_or_a_changed_byte_does_not_open() {
        let seal = TotpSeal::new(b"first configured secret, 32 bytes long");
        let secret = TotpSecret::generate().unwrap();
        let stored = seal.seal("stf_a", &secret).unwrap();
        assert_eq!(
            seal.open("stf_a", &stored).unwrap().expose_bytes(),
            secret.expose_bytes()
        );
        let other = TotpSeal::new(b"second configured secret, 32 bytes long");
        assert!(other.open("stf_a", &stored).is_none());
        let mut tampered = stored.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert!(
            seal.open("stf_a", &String::from_utf8(tampered).unwrap())
                .is_none()
        );
        for junk in ["", "x1.", "x1.zz.zz", "plain", "x1.00.00"] {
            assert!(seal.open("stf_a", junk).is_none(), "{junk:?}");
        }
        // Two seals of one secret differ (fresh nonce each time).
        assert_ne!(stored, seal.seal("stf_a", &secret).unwrap());
    }
}
