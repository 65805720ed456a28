//! Replays every file of the `key_parser` fuzz target's corpus (`fuzz/corpus/key_parser/`)
//! through the target's own checks, so plain `cargo test` exercises what the fuzzer found
//! without a fuzzer.

#[path = "support/key_parser_checks.rs"]
mod checks;

use std::path::PathBuf;

use idunox_keys::KeyFormat;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/key_parser")
}

#[test]
fn every_corpus_file_passes_the_fuzz_checks() {
    let dir = corpus_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "the seed corpus in {} has only {} files",
        dir.display(),
        files.len()
    );
    let format = KeyFormat::new("idx", "test").unwrap();
    let mut valid = 0;
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let outcome = std::panic::catch_unwind(|| checks::check_key_parser(&data));
        assert!(outcome.is_ok(), "fuzz checks failed on {}", path.display());
        valid += usize::from(format.parse_bytes(&data).is_ok());
    }
    // The seeds include valid keys (so the re-encode and mutation checks ran) and invalid ones.
    assert!(valid >= 4, "only {valid} valid keys in the corpus");
    assert!(valid < files.len());
}

#[test]
fn named_seeds_mean_what_their_names_say() {
    let format = KeyFormat::new("idx", "test").unwrap();
    for name in [
        "valid-documented-key",
        "valid-all-zero",
        "valid-all-z",
        "valid-mixed",
    ] {
        let data = std::fs::read(corpus_dir().join(name)).unwrap();
        assert!(format.parse_bytes(&data).is_ok(), "{name}");
    }
    for (name, code) in [
        ("empty", "empty"),
        ("too-long-86", "too_long"),
        ("live-environment", "wrong_environment"),
        ("other-prefix", "wrong_prefix"),
        ("bad-checksum", "bad_checksum"),
        ("typo-in-secret", "bad_checksum"),
        ("short-key-id", "bad_length"),
        ("bad-character-dash", "bad_character"),
        ("extra-separator", "malformed"),
    ] {
        let data = std::fs::read(corpus_dir().join(name)).unwrap();
        assert_eq!(
            format.parse_bytes(&data).unwrap_err().code(),
            code,
            "{name}"
        );
    }
}
