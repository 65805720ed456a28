//! [`SqlKeyStore`]: the core's [`KeyStore`](idunox_keys::KeyStore) over the server's database,
//! from [`idunox_keys_sqlx`] — the same store a tower service uses outside Rocket.
//!
//! The server wraps the pool `rocket_db_pools` manages: `SqlKeyStore::new(db.pool.clone())`.
//! Verification reads the credential fresh on every request (no record cache, so a revoke made
//! by any instance is seen by the very next request everywhere); rotation is one transaction
//! with exactly one winner; last-used writes are batched (one statement a second at most). See
//! the [`idunox_keys_sqlx`] docs for the details and the bounds.

pub use idunox_keys_sqlx::{SqlKeyStore, TouchBatch, backend};
