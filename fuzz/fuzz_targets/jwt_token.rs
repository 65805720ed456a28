//! Arbitrary bytes through the reference server's session-token check (`src/auth/jwt.rs`,
//! compiled here by path), with a fixed key and clock: it never panics, never accepts a token its
//! keys did not sign, keeps `alg` pinned to HS256, and checks issuer, audience, expiry and issue
//! time of every token it accepts — as the input itself and, when the input is a JSON object,
//! as claims signed with the key.
//!
//! The checks are shared with `reference-server/tests/fuzz_corpus.rs`, which replays
//! `corpus/jwt_token/` under plain `cargo test`.
//!
//! `cargo fuzz run -s none jwt_token -- -max_total_time=30`

#![no_main]

#[path = "../../reference-server/src/auth/jwt.rs"]
#[allow(dead_code)]
mod jwt;

#[path = "../../reference-server/tests/harness/jwt_token.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::check(data));
