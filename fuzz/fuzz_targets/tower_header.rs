//! Arbitrary `X-Api-Key` header bytes (split at `\n` into several header lines) through
//! `idunox_keys_tower::ApiKeyService`: it must never panic, accept only the one stored key, answer
//! every refusal with the envelope of `docs/http-api.md`, and never echo the presented value.
//!
//! The harness is shared with `idunox-keys-tower/tests/fuzz_corpus.rs`, which replays
//! `corpus/tower_header/` under plain `cargo test`.
//!
//! `cargo fuzz run -s none tower_header -- -max_total_time=30`

#![no_main]

#[path = "../../idunox-keys-tower/tests/harness/tower_header.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::check(data));
