//! Arbitrary bytes through the reference server's credential bodies (create, rotate, PATCH;
//! `src/bodies/credentials.rs`, compiled here by path) and the key manager's rules: the first
//! byte picks the body, the rest is the JSON. It never panics, and whatever is accepted holds the
//! documented bounds (name, validity days, grace hours, allow-list, scopes).
//!
//! The checks are shared with `reference-server/tests/fuzz_corpus.rs`, which replays
//! `corpus/credential_body/` under plain `cargo test`.
//!
//! `cargo fuzz run -s none credential_body -- -max_total_time=30`

#![no_main]

#[path = "../../reference-server/src/bodies/credentials.rs"]
mod credential_bodies;

#[path = "../../reference-server/src/bodies/shape.rs"]
mod shape;

#[path = "../../reference-server/tests/harness/credential_body.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::check(data));
