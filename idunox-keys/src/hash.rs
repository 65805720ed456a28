//! Argon2id hashing of key secrets and portal passwords, as PHC strings.
//!
//! Verification reads its parameters from the stored PHC string, so the costs can be raised
//! later and old hashes still verify; [`SecretHasher::needs_rehash`] tells when a stored hash
//! is below the configured parameters.
//!
//! Measured on the project's 2-core machine (release build, see the README's bench table):
//! the defaults (m = 19 456 KiB, t = 2, p = 1) cost about 15 ms per hash or verification;
//! [`HashParams::INSECURE_FAST`] (m = 1 024 KiB, t = 1) about 0.3 ms, for tests only.
//!
//! ```
//! use idunox_keys::{HashParams, SecretHasher};
//!
//! let hasher = SecretHasher::new(HashParams::INSECURE_FAST)?;
//! let phc = hasher.hash(b"correct horse battery staple")?;
//! assert!(phc.starts_with("$argon2id$"));
//! assert!(hasher.verify(b"correct horse battery staple", &phc)?);
//! assert!(!hasher.verify(b"wrong", &phc)?);
//! # Ok::<(), idunox_keys::HashError>(())
//! ```

use core::fmt;
use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::error::HashError;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl HashParams {
    /// OWASP's argon2id recommendation and the `argon2` crate's default: m = 19 MiB, t = 2, p = 1.
    pub const DEFAULT: Self = Self {
        m_cost: Params::DEFAULT_M_COST,
        t_cost: Params::DEFAULT_T_COST,
        p_cost: Params::DEFAULT_P_COST,
    };

    /// Cheap parameters for test suites. Never use them for real secrets.
    pub const INSECURE_FAST: Self = Self {
        m_cost: 1024,
        t_cost: 1,
        p_cost: 1,
    };
}

impl Default for HashParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Hashes and verifies secrets with argon2id. Cheap to clone.
#[derive(Clone)]
pub struct SecretHasher {
    argon: Argon2<'static>,
    params: HashParams,
}

impl SecretHasher {
    /// A hasher with these parameters.
    ///
    /// # Errors
    /// [`HashError::InvalidParams`] when argon2 refuses them.
    pub fn new(params: HashParams) -> Result<Self, HashError> {
        let p = Params::new(params.m_cost, params.t_cost, params.p_cost, None)
            .map_err(|_| HashError::InvalidParams)?;
        Ok(Self {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, p),
            params,
        })
    }

    /// The parameters new hashes get.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// Hash `secret` with a fresh random salt; returns the PHC string.
    ///
    /// # Errors
    /// [`HashError::Randomness`] when no salt can be drawn.
    pub fn hash(&self, secret: &[u8]) -> Result<String, HashError> {
        self.argon
            .hash_password(secret)
            .map(|h| h.to_string())
            .map_err(|e| match e {
                argon2::password_hash::Error::Crypto => HashError::Randomness,
                _ => HashError::InvalidParams,
            })
    }

    /// Whether `secret` matches the PHC string `phc`, with the parameters written in `phc`.
    /// The final comparison is constant-time (argon2's `Output` compares with `subtle`).
    ///
    /// # Errors
    /// [`HashError::MalformedHash`] when `phc` is not an argon2 PHC string.
    pub fn verify(&self, secret: &[u8], phc: &str) -> Result<bool, HashError> {
        let parsed = PasswordHash::new(phc).map_err(|_| HashError::MalformedHash)?;
        match self.argon.verify_password(secret, &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(_) => Err(HashError::MalformedHash),
        }
    }

    /// Run one verification against a fixed hash made with this hasher's parameters and
    /// throw the answer away: what a login with an unknown email costs, so that it costs
    /// the same as a wrong password.
    pub fn dummy_verify(&self, secret: &[u8]) {
        static DUMMIES: OnceLock<std::sync::Mutex<Vec<(HashParams, String)>>> = OnceLock::new();
        let dummies = DUMMIES.get_or_init(Default::default);
        let phc = {
            let mut list = dummies
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match list.iter().find(|(p, _)| *p == self.params) {
                Some((_, h)) => h.clone(),
                None => {
                    let h = self.hash(b"idunox-dummy-password").unwrap_or_default();
                    list.push((self.params, h.clone()));
                    h
                }
            }
        };
        let _ = self.verify(secret, &phc);
    }

    /// Whether `phc` was made with weaker parameters than this hasher's (or is not argon2id),
    /// so that it should be replaced by a fresh hash after the next successful verification.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        if parsed.algorithm.as_str() != "argon2id" {
            return true;
        }
        let Ok(p) = Params::try_from(&parsed) else {
            return true;
        };
        p.m_cost() < self.params.m_cost
            || p.t_cost() < self.params.t_cost
            || p.p_cost() < self.params.p_cost
    }
}

impl Default for SecretHasher {
    fn default() -> Self {
        Self {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT),
            params: HashParams::DEFAULT,
        }
    }
}

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretHasher")
            .field("params", &self.params)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verify_and_rehash() {
        let fast = SecretHasher::new(HashParams::INSECURE_FAST).unwrap();
        let phc = fast.hash(b"s3cret").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(fast.verify(b"s3cret", &phc).unwrap());
        assert!(!fast.verify(b"s3creT", &phc).unwrap());
        assert!(!fast.needs_rehash(&phc));
        let strong = SecretHasher::new(HashParams {
            m_cost: 2048,
            ..HashParams::INSECURE_FAST
        })
        .unwrap();
        assert!(strong.needs_rehash(&phc));
        // Old hashes still verify under a hasher with other parameters.
        assert!(strong.verify(b"s3cret", &phc).unwrap());
    }

    #[test]
    fn malformed_hash_is_an_error_not_a_panic() {
        let h = SecretHasher::new(HashParams::INSECURE_FAST).unwrap();
        assert_eq!(h.verify(b"x", "not a hash"), Err(HashError::MalformedHash));
        assert_eq!(h.verify(b"x", ""), Err(HashError::MalformedHash));
        assert!(h.needs_rehash("$pbkdf2$nope"));
        h.dummy_verify(b"anything");
    }

    #[test]
    fn invalid_params_are_refused() {
        assert_eq!(
            SecretHasher::new(HashParams {
                m_cost: 1,
                t_cost: 0,
                p_cost: 0
            })
            .unwrap_err(),
            HashError::InvalidParams
        );
    }
}
