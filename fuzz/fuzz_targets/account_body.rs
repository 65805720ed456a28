//! Arbitrary bytes through the reference server's account bodies (partner and staff sign-in,
//! password change, tenant create, user provision; `src/bodies/`, compiled here by path) and the
//! routes' rules (password length, tenant name, email): the first byte picks the body, the rest
//! is the JSON. It never panics, `Debug` never shows a password or code, and whatever is accepted
//! holds the documented bounds.
//!
//! The checks are shared with `reference-server/tests/fuzz_corpus.rs`, which replays
//! `corpus/account_body/` under plain `cargo test`.
//!
//! `cargo fuzz run -s none account_body -- -max_total_time=30`

#![no_main]

#[path = "../../reference-server/src/bodies/sign_in.rs"]
#[allow(dead_code)]
mod sign_in_bodies;

#[path = "../../reference-server/src/bodies/admin.rs"]
mod admin_bodies;

#[path = "../../reference-server/src/bodies/email.rs"]
mod email;

#[path = "../../reference-server/src/auth/password_rules.rs"]
mod password_rules;

#[path = "../../reference-server/src/bodies/shape.rs"]
mod shape;

#[path = "../../reference-server/tests/harness/account_body.rs"]
#[allow(dead_code)]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::check(data));
