//! Replays the `tower_header` fuzz target's seed corpus (`fuzz/corpus/tower_header/`), and the
//! key parser's, through the very code the fuzz target runs, under plain `cargo test`.

#[path = "harness/tower_header.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn corpus(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn tower_header_seed_corpus_replays() {
    let seeds = corpus("tower_header");
    assert!(seeds.len() >= 8, "the seed corpus is missing");
    for (path, bytes) in &seeds {
        println!("{}", path.display());
        harness::check(bytes);
    }
}

#[test]
fn key_parser_corpus_replays_through_the_layer() {
    // The other target's seeds, if that target's corpus is there, as header bytes.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/key_parser");
    if !dir.is_dir() {
        return;
    }
    for (path, bytes) in &corpus("key_parser") {
        println!("{}", path.display());
        harness::check(bytes);
    }
}

#[test]
fn known_key_is_accepted_and_near_misses_are_not() {
    harness::check(harness::KNOWN_KEY.as_bytes());
    let mut typo = harness::KNOWN_KEY.as_bytes().to_vec();
    typo[25] ^= 0x01;
    harness::check(&typo);
    harness::check(format!("{0}\n{0}", harness::KNOWN_KEY).as_bytes());
}
