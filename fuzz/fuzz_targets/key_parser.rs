//! Fuzz the key parser (`docs/key-format.md`) with arbitrary bytes.
//!
//! Every input must parse without panicking, agree with an independent oracle of the format
//! (own CRC32 and base62), give the same answer through the `&str` and `&[u8]` entry points,
//! never be valid in two environments, and, when valid, re-encode to the same bytes and refuse
//! every single-byte change. The checks live in `idunox-keys/tests/support/key_parser_checks.rs`,
//! which `idunox-keys/tests/fuzz_corpus.rs` also runs over this target's seed corpus under plain
//! `cargo test`.
//!
//! Run: `cd fuzz && cargo fuzz run -s none key_parser -- -max_total_time=30`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../idunox-keys/tests/support/key_parser_checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    checks::check_key_parser(data);
});
