//! The warm-verification cache (`docs/verification.md`, "Warm and cold").
//!
//! After argon2 accepted a secret for a key id, the cache remembers a keyed digest of
//! `key_id ‖ secret` — never the secret — so the next verification of that key costs one digest
//! and one constant-time comparison.
//!
//! The digest is SHA-256 over a random 64-byte per-process key block followed by the 44 bytes of
//! `key_id ‖ secret`: a secret-prefix MAC, one SHA-256 compression per verification since the
//! key block's state is computed once and cloned. For messages of one fixed length, as here, the
//! prefix construction is a PRF like HMAC (length extension needs variable-length messages and
//! a published tag; digests never leave the process), at half of HMAC's two compressions. A presented
//! secret whose digest differs from the remembered one is refused at once, without argon2.
//! The credential's record is not part of it: the verifier reads it from the store, or from a
//! record cache that the store's change feed keeps current ([`records`](crate::records)).
//!
//! The cache is bounded (entries per shard) and sharded to keep lock hold times short. A key's
//! secret never changes, so an entry never goes stale; eviction only costs one more argon2 run.

use core::fmt;
use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::error::RandomnessError;
use crate::generate::random_bytes;
use crate::key::{KeyId, KeyIdMap, SECRET_LEN};

const SHARDS: usize = 16;

struct Entry {
    digest: [u8; 32],
    /// When this process last recorded a use of this key in the store.
    touched_at: OffsetDateTime,
}

/// What the cache knows about a presented secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Warm {
    /// The digest matches a remembered verification. `touch_due`: this caller should record the
    /// use in the store (at most once per interval per key per process).
    Match { touch_due: bool },
    /// A different secret was verified for this key id: refuse without argon2.
    Mismatch,
    /// Nothing remembered: verify with argon2.
    Absent,
}

/// A bounded map from key id to a keyed digest of the verified secret.
pub(crate) struct WarmCache {
    /// SHA-256 state after absorbing the random key block.
    keyed: Sha256,
    shards: Box<[Mutex<KeyIdMap<Entry>>]>,
    per_shard: usize,
}

impl WarmCache {
    /// A cache holding up to `capacity` entries (0 disables it).
    pub(crate) fn new(capacity: usize) -> Result<Self, RandomnessError> {
        let key = zeroize::Zeroizing::new(random_bytes::<64>()?);
        let mut keyed = Sha256::new();
        keyed.update(key.as_slice());
        Ok(Self {
            keyed,
            shards: (0..SHARDS)
                .map(|_| Mutex::new(KeyIdMap::default()))
                .collect(),
            per_shard: capacity.div_ceil(SHARDS),
        })
    }

    /// The keyed digest of `key_id ‖ secret` this cache compares.
    pub(crate) fn digest(&self, key_id: &KeyId, secret: &[u8; SECRET_LEN]) -> [u8; 32] {
        let mut h = self.keyed.clone();
        h.update(key_id.as_bytes());
        h.update(secret);
        h.finalize().into()
    }

    fn shard(&self, key_id: &KeyId) -> &Mutex<KeyIdMap<Entry>> {
        let b = key_id.as_bytes();
        &self.shards[usize::from(b[0] ^ b[5] ^ b[11]) % SHARDS]
    }

    /// Compare the presented secret's [`digest`](Self::digest) with what is remembered for
    /// `key_id`. With `claim_touch`, a caller told `touch_due` owns the last-used write (others
    /// are not told until the next interval); without it the cache only looks.
    pub(crate) fn check(
        &self,
        key_id: &KeyId,
        digest: &[u8; 32],
        now: OffsetDateTime,
        touch_every: Duration,
        claim_touch: bool,
    ) -> Warm {
        if self.per_shard == 0 {
            return Warm::Absent;
        }
        let mut shard = self
            .shard(key_id)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match shard.get_mut(key_id) {
            None => Warm::Absent,
            Some(e) if bool::from(e.digest.ct_eq(digest)) => {
                let touch_due = now - e.touched_at >= touch_every;
                if touch_due && claim_touch {
                    e.touched_at = now;
                }
                Warm::Match { touch_due }
            }
            Some(_) => Warm::Mismatch,
        }
    }

    /// Remember that argon2 accepted the secret of this `digest` for `key_id` (its use is
    /// recorded at `now`).
    pub(crate) fn remember(&self, key_id: &KeyId, digest: [u8; 32], now: OffsetDateTime) {
        if self.per_shard == 0 {
            return;
        }
        let mut shard = self
            .shard(key_id)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= self.per_shard
            && !shard.contains_key(key_id)
            && let Some(victim) = shard.keys().next().copied()
        {
            shard.remove(&victim);
        }
        shard.insert(
            *key_id,
            Entry {
                digest,
                touched_at: now,
            },
        );
    }

    /// Entries held now.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

impl fmt::Debug for WarmCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WarmCache")
            .field("capacity", &(self.per_shard * SHARDS))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn match_mismatch_absent_and_bound() {
        let c = WarmCache::new(32).unwrap();
        let now = datetime!(2026-01-01 0:00 UTC);
        let id = KeyId::parse("AAAAAAAAAAAA").unwrap();
        let s1 = c.digest(&id, &[b'a'; SECRET_LEN]);
        let s2 = c.digest(&id, &[b'b'; SECRET_LEN]);
        assert_eq!(
            c.check(&id, &s1, now, Duration::minutes(1), true),
            Warm::Absent
        );
        c.remember(&id, s1, now);
        assert_eq!(
            c.check(&id, &s1, now, Duration::minutes(1), true),
            Warm::Match { touch_due: false }
        );
        assert_eq!(
            c.check(&id, &s2, now, Duration::minutes(1), true),
            Warm::Mismatch
        );
        let later = now + Duration::minutes(1);
        assert_eq!(
            c.check(&id, &s1, later, Duration::minutes(1), true),
            Warm::Match { touch_due: true }
        );
        assert_eq!(
            c.check(&id, &s1, later, Duration::minutes(1), true),
            Warm::Match { touch_due: false }
        );
        for i in 0..1000 {
            let id = KeyId::parse(&format!("{i:0>12}")).unwrap();
            c.remember(&id, s1, now);
        }
        assert!(c.len() <= 32);
    }
}
