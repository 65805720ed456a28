//! Replays every file of the server's fuzz targets' corpora (`fuzz/corpus/jwt_token/`,
//! `credential_body/`, `account_body/`) through the targets' own checks (`harness/*.rs`), so
//! plain `cargo test` exercises what the fuzzer found without a fuzzer; and checks that the named
//! seeds mean what their names say (for the bodies: `ok-…` is accepted, `bad-…` refused).
#![allow(missing_docs)]

use std::path::PathBuf;

use reference_server::auth::{jwt, password_rules};
use reference_server::bodies::admin as admin_bodies;
use reference_server::bodies::credentials as credential_bodies;
use reference_server::bodies::sign_in as sign_in_bodies;
use reference_server::bodies::{email, shape};

#[path = "harness/jwt_token.rs"]
mod harness;

#[path = "harness/credential_body.rs"]
mod credential_harness;

#[path = "harness/account_body.rs"]
mod account_harness;

fn corpus(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn files(target: &str) -> Vec<PathBuf> {
    let dir = corpus(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_jwt_corpus_file_passes_the_fuzz_checks() {
    let files = files("jwt_token");
    assert!(files.len() >= 20, "only {} seeds", files.len());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| harness::check(&data));
        assert!(outcome.is_ok(), "fuzz checks failed on {}", path.display());
    }
}

#[test]
fn named_jwt_seeds_mean_what_their_names_say() {
    let keys = harness::keys();
    let (partner, staff) = harness::issued(&keys);
    let seed = |name: &str| {
        String::from_utf8(std::fs::read(corpus("jwt_token").join(name)).unwrap()).unwrap()
    };
    // The issued tokens are seeds, so the fuzzer mutates real ones.
    assert_eq!(seed("valid-partner"), partner);
    assert_eq!(seed("valid-staff"), staff);
    assert!(keys.check(&partner, harness::NOW).is_ok());
    assert!(keys.check_staff(&staff, harness::NOW).is_ok());
    assert!(keys.check_staff(&partner, harness::NOW).is_err());
    assert!(keys.check(&staff, harness::NOW).is_err());
    for name in [
        "alg-none",
        "alg-hs384-same-key",
        "alg-hs512-same-key",
        "alg-rs256-header",
        "alg-lowercase",
        "partner-signature-flipped",
        "partner-other-key",
        "partner-expired",
        "partner-wrong-issuer",
        "partner-iat-future",
        "partner-no-sid",
        "partner-aud-array",
    ] {
        let t = seed(name);
        assert!(keys.check(&t, harness::NOW).is_err(), "{name}");
        assert!(keys.check_staff(&t, harness::NOW).is_err(), "{name}");
    }
}

/// Replays a body target's corpus through its checks, and holds its named seeds to their names.
fn replay_bodies(target: &str, check: fn(&[u8]), accepted: fn(&[u8]) -> bool, at_least: usize) {
    let files = files(target);
    assert!(files.len() >= at_least, "only {} seeds", files.len());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "fuzz checks failed on {}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with("ok-") {
            assert!(accepted(&data), "{name} is refused");
        } else if name.starts_with("bad-") {
            assert!(!accepted(&data), "{name} is accepted");
        }
    }
}

#[test]
fn every_credential_body_corpus_file_passes_the_fuzz_checks() {
    replay_bodies(
        "credential_body",
        credential_harness::check,
        credential_harness::accepted,
        40,
    );
}

#[test]
fn every_account_body_corpus_file_passes_the_fuzz_checks() {
    replay_bodies(
        "account_body",
        account_harness::check,
        account_harness::accepted,
        20,
    );
}
