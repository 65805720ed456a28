//! Argon2 into memory the caller owns: what a budget worker runs.
//!
//! Each worker keeps one block buffer sized for the configured parameters and hashes into it
//! with [`Argon2::hash_password_into_with_memory`], so a run allocates nothing and faults no page
//! in. PHC strings are read and written with the `password-hash` types `argon2` re-exports;
//! outputs are compared in constant time (`subtle`, on slices of one length: the stored
//! output's).
//!
//! A stored hash is verified at the parameters written in it. Parameters above [`Limits`] are
//! refused ([`HashError::ExcessiveParams`]) before any memory is taken: a corrupted or hostile
//! row must not make a worker allocate gigabytes or run for minutes. A stored hash that needs
//! more memory than the worker's buffer (older, stronger parameters) gets a temporary buffer for
//! that run only.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use crate::error::HashError;
use crate::generate::random_bytes;
use crate::hash::HashParams;

/// The most memory a stored hash may ask for, in KiB, unless the configured cost is higher:
/// 256 MiB (RFC 9106's second recommended setting asks for 64 MiB; OWASP's for 19 to 46 MiB).
pub const MAX_STORED_M_COST: u32 = 256 * 1024;
/// The most passes a stored hash may ask for, unless the configured cost is higher.
pub const MAX_STORED_T_COST: u32 = 16;
/// The most lanes a stored hash may ask for, unless the configured cost is higher.
pub const MAX_STORED_P_COST: u32 = 16;

/// Salt length of new hashes, in bytes (the PHC format's recommendation).
const SALT_LEN: usize = 16;
/// Output length of new hashes, in bytes (argon2's default).
const OUTPUT_LEN: usize = 32;

/// What a stored hash may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
}

impl Limits {
    /// The bounds above, raised to the configured parameters where those are higher.
    pub(crate) fn for_params(p: HashParams) -> Self {
        Self {
            m_cost: p.m_cost.max(MAX_STORED_M_COST),
            t_cost: p.t_cost.max(MAX_STORED_T_COST),
            p_cost: p.p_cost.max(MAX_STORED_P_COST),
        }
    }

    fn allow(&self, p: &Params) -> bool {
        p.m_cost() <= self.m_cost && p.t_cost() <= self.t_cost && p.p_cost() <= self.p_cost
    }
}

/// The configured parameters and limits, shared by every worker.
#[derive(Clone, Debug)]
pub(crate) struct Engine {
    params: Params,
    limits: Limits,
}

impl Engine {
    pub(crate) fn new(p: HashParams) -> Result<Self, HashError> {
        let params = Params::new(p.m_cost, p.t_cost, p.p_cost, Some(OUTPUT_LEN))
            .map_err(|_| HashError::InvalidParams)?;
        Ok(Self {
            params,
            limits: Limits::for_params(p),
        })
    }

    /// Blocks a run at the configured parameters needs.
    pub(crate) fn block_count(&self) -> usize {
        self.params.block_count()
    }

    /// Hash `secret` at the configured parameters with a fresh random salt: an argon2id PHC
    /// string.
    pub(crate) fn hash(&self, secret: &[u8], memory: &mut Memory) -> Result<String, HashError> {
        let salt = random_bytes::<SALT_LEN>().map_err(|_| HashError::Randomness)?;
        let mut out = [0u8; OUTPUT_LEN];
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        let blocks = memory.blocks(self.block_count());
        argon
            .hash_password_into_with_memory(secret, &salt, &mut out, blocks)
            .map_err(|_| HashError::InvalidParams)?;
        let phc = PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|_| HashError::InvalidParams)?,
            salt: Some(Salt::new(&salt).map_err(|_| HashError::InvalidParams)?),
            hash: Some(Output::new(&out).map_err(|_| HashError::InvalidParams)?),
        };
        Ok(phc.to_string())
    }

    /// Whether `secret` matches the PHC string `phc` (argon2id, argon2i or argon2d, versions
    /// 0x10 and 0x13), at the parameters written in it.
    ///
    /// # Errors
    /// [`HashError::MalformedHash`] for anything that is not such a string (no salt, no output
    /// included); [`HashError::ExcessiveParams`] beyond [`Limits`].
    pub(crate) fn verify(
        &self,
        secret: &[u8],
        phc: &str,
        memory: &mut Memory,
    ) -> Result<bool, HashError> {
        let stored = Stored::parse(phc)?;
        if !self.limits.allow(&stored.params) {
            return Err(HashError::ExcessiveParams);
        }
        let expected = stored.output.as_bytes();
        let mut buf = [0u8; Output::MAX_LENGTH];
        let out = &mut buf[..expected.len()];
        let blocks = memory.blocks(stored.params.block_count());
        Argon2::new(stored.algorithm, stored.version, stored.params)
            .hash_password_into_with_memory(secret, stored.salt.as_ref(), out, blocks)
            .map_err(|_| HashError::MalformedHash)?;
        // Equal lengths by construction: `subtle` compares every byte.
        Ok(bool::from(expected.ct_eq(out)))
    }
}

/// A stored PHC string, read.
struct Stored {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Salt,
    output: Output,
}

impl Stored {
    fn parse(phc: &str) -> Result<Self, HashError> {
        fn bad<E>(_: E) -> HashError {
            HashError::MalformedHash
        }
        let parsed = PasswordHash::new(phc).map_err(bad)?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(bad)?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).map_err(bad)?,
            None => Version::V0x10,
        };
        let params = Params::try_from(&parsed).map_err(bad)?;
        Ok(Self {
            algorithm,
            version,
            params,
            salt: parsed.salt.ok_or(HashError::MalformedHash)?,
            output: parsed.hash.ok_or(HashError::MalformedHash)?,
        })
    }
}

/// A worker's argon2 memory: one buffer for the configured parameters, allocated at the first
/// run and reused by every later one.
#[derive(Default)]
pub(crate) struct Memory {
    own: Vec<Block>,
    /// Blocks of the buffer to allocate at first use.
    size: usize,
    temporary: Vec<Block>,
}

impl Memory {
    /// Memory for runs of up to `blocks` blocks (allocated at the first run).
    pub(crate) fn sized(blocks: usize) -> Self {
        Self {
            own: Vec::new(),
            size: blocks,
            temporary: Vec::new(),
        }
    }

    /// `n` blocks: the worker's own buffer when it is large enough, else a temporary one that
    /// lives until the next run.
    fn blocks(&mut self, n: usize) -> &mut [Block] {
        self.temporary = Vec::new();
        if n <= self.size {
            if self.own.len() < self.size {
                self.own = vec![Block::new(); self.size];
            }
            &mut self.own[..n]
        } else {
            self.temporary = vec![Block::new(); n];
            &mut self.temporary
        }
    }

    /// Bytes held now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        (self.own.len() + self.temporary.len()) * Block::SIZE
    }

    /// Give a temporary buffer back (after a run that needed one).
    pub(crate) fn release_temporary(&mut self) {
        self.temporary = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    fn engine() -> Engine {
        Engine::new(HashParams::INSECURE_FAST).unwrap()
    }

    #[test]
    fn round_trips_with_the_argon2_crate_both_ways() {
        let e = engine();
        let mut mem = Memory::sized(e.block_count());
        let ours = e.hash(b"secret", &mut mem).unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{ours}");
        // The argon2 crate's own verifier accepts our string…
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"secret", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"Secret", &parsed)
                .is_err()
        );
        // …and we accept its strings, at the parameters written in them.
        let params = Params::new(2048, 2, 2, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"other")
            .unwrap()
            .to_string();
        assert!(e.verify(b"other", &theirs, &mut mem).unwrap());
        assert!(!e.verify(b"Other", &theirs, &mut mem).unwrap());
        assert!(e.verify(b"secret", &ours, &mut mem).unwrap());
        for alg in [Algorithm::Argon2i, Algorithm::Argon2d] {
            let h = Argon2::new(alg, Version::V0x10, Params::new(64, 1, 1, None).unwrap())
                .hash_password(b"legacy")
                .unwrap()
                .to_string();
            assert!(e.verify(b"legacy", &h, &mut mem).unwrap(), "{h}");
        }
    }

    #[test]
    fn parameters_come_from_the_string_and_big_ones_get_a_temporary_buffer() {
        let e = engine();
        let mut mem = Memory::sized(e.block_count());
        let small = e.hash(b"s", &mut mem).unwrap();
        assert_eq!(mem.held(), 1024 * 1024);
        let bigger = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(b"s")
        .unwrap()
        .to_string();
        assert!(e.verify(b"s", &bigger, &mut mem).unwrap());
        assert_eq!(
            mem.held(),
            (1024 + 4096) * 1024,
            "a temporary 4 MiB buffer for the run"
        );
        mem.release_temporary();
        assert_eq!(mem.held(), 1024 * 1024, "and given back");
        assert!(e.verify(b"s", &small, &mut mem).unwrap());
        // The same secret under other parameters gives another output.
        assert_ne!(small.rsplit('$').next(), bigger.rsplit('$').next());
    }

    #[test]
    fn absurd_and_malformed_strings_are_refused_before_any_work() {
        let e = engine();
        let mut mem = Memory::sized(e.block_count());
        let ok = e.hash(b"s", &mut mem).unwrap();
        let tail = ok.splitn(5, '$').nth(4).unwrap(); // salt$hash
        for (params, want) in [
            ("m=4194304,t=1,p=1", HashError::ExcessiveParams), // 4 GiB
            ("m=1024,t=100000,p=1", HashError::ExcessiveParams),
            ("m=1024,t=1,p=64", HashError::ExcessiveParams),
            ("m=1,t=1,p=1", HashError::MalformedHash), // below argon2's minimum
            ("x=1", HashError::MalformedHash),
        ] {
            let phc = format!("$argon2id$v=19${params}${tail}");
            assert_eq!(e.verify(b"s", &phc, &mut mem), Err(want), "{phc}");
        }
        assert_eq!(
            mem.held(),
            1024 * 1024,
            "nothing beyond the own buffer was allocated"
        );
        for phc in [
            "",
            "not a hash",
            "$argon2id$v=19$m=1024,t=1,p=1",
            "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ",
            "$scrypt$ln=16,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            "$argon2id$v=99$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        ] {
            assert_eq!(
                e.verify(b"s", phc, &mut mem),
                Err(HashError::MalformedHash),
                "{phc}"
            );
        }
    }

    #[test]
    fn configured_costs_above_the_stored_bounds_raise_them() {
        let big = HashParams {
            m_cost: 2 * MAX_STORED_M_COST,
            t_cost: 20,
            p_cost: 1,
        };
        let l = Limits::for_params(big);
        assert!(l.allow(&Params::new(2 * MAX_STORED_M_COST, 20, 16, None).unwrap()));
        assert!(!l.allow(&Params::new(2 * MAX_STORED_M_COST, 21, 1, None).unwrap()));
    }
}
