//! Cached credential records, kept current by a store's change feed (`docs/verification.md`,
//! "Cached records").
//!
//! When the store offers a [`ChangeFeed`](crate::feed::ChangeFeed), the verifier keeps the
//! records it read — and the ids it found unknown — and subscribes this cache to the feed: a
//! change to a credential drops its entry, a reset drops everything. The verifier trusts an
//! entry only while the feed is fresh within `max_staleness`, and stores an entry it read only
//! if the feed was fresh before the read and published nothing during it (so a change that
//! raced the read is never cached over).
//!
//! Bounded: at most `capacity` records and `capacity / 8` unknown ids (an arbitrary entry is
//! dropped past that). Unknown ids are presented by anyone, so their map uses a keyed hasher.

use core::fmt;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::credential::Credential;
use crate::feed::FeedSubscriber;
use crate::key::{KeyId, KeyIdMap};

const SHARDS: usize = 16;

/// What the cache knows about a key id.
pub(crate) enum Cached {
    /// The record, as the store had it.
    Record(Arc<Credential>),
    /// No credential has this id.
    Unknown,
}

#[derive(Default)]
struct Shard {
    records: KeyIdMap<Arc<Credential>>,
    unknown: HashMap<KeyId, (), RandomState>,
}

/// A bounded, sharded cache of records and unknown ids.
pub(crate) struct RecordCache {
    shards: Box<[Mutex<Shard>]>,
    records_per_shard: usize,
    unknown_per_shard: usize,
}

impl RecordCache {
    /// Up to `capacity` records and `capacity / 8` unknown ids.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            records_per_shard: capacity.div_ceil(SHARDS),
            unknown_per_shard: (capacity / 8).div_ceil(SHARDS),
        }
    }

    fn shard(&self, key_id: &KeyId) -> MutexGuard<'_, Shard> {
        let b = key_id.as_bytes();
        self.shards[usize::from(b[0] ^ b[5] ^ b[11]) % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self, key_id: &KeyId) -> Option<Cached> {
        let shard = self.shard(key_id);
        if let Some(c) = shard.records.get(key_id) {
            return Some(Cached::Record(Arc::clone(c)));
        }
        shard
            .unknown
            .contains_key(key_id)
            .then_some(Cached::Unknown)
    }

    /// Keep what the store answered for `key_id`.
    pub(crate) fn put(&self, key_id: KeyId, found: Option<&Arc<Credential>>) {
        let mut shard = self.shard(&key_id);
        match found {
            Some(c) if self.records_per_shard > 0 => {
                if shard.records.len() >= self.records_per_shard
                    && !shard.records.contains_key(&key_id)
                    && let Some(victim) = shard.records.keys().next().copied()
                {
                    shard.records.remove(&victim);
                }
                shard.records.insert(key_id, Arc::clone(c));
            }
            None if self.unknown_per_shard > 0 => {
                if shard.unknown.len() >= self.unknown_per_shard
                    && let Some(victim) = shard.unknown.keys().next().copied()
                {
                    shard.unknown.remove(&victim);
                }
                shard.unknown.insert(key_id, ());
            }
            _ => {}
        }
    }

    /// Entries held: (records, unknown ids).
    pub(crate) fn len(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(r, u), s| {
            let s = s.lock().unwrap_or_else(PoisonError::into_inner);
            (r + s.records.len(), u + s.unknown.len())
        })
    }
}

impl FeedSubscriber for RecordCache {
    fn changed(&self, ids: &[KeyId]) {
        for id in ids {
            let mut shard = self.shard(id);
            shard.records.remove(id);
            shard.unknown.remove(id);
        }
    }

    fn reset(&self) {
        for s in self.shards.iter() {
            let mut s = s.lock().unwrap_or_else(PoisonError::into_inner);
            s.records.clear();
            s.unknown.clear();
        }
    }
}

impl fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (records, unknown) = self.len();
        f.debug_struct("RecordCache")
            .field("records", &records)
            .field("unknown", &unknown)
            .finish()
    }
}
