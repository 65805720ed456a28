//! The checks the `key_parser` fuzz target runs on every input, shared with
//! `tests/fuzz_corpus.rs` (which replays the seed corpus under plain `cargo test`).
//!
//! The fuzz crate includes this file with `#[path]`, so it uses nothing but `idunox_keys` and
//! `std`. The oracle below is an independent implementation of `docs/key-format.md` (bitwise
//! CRC32, its own base62), so a parser bug shows up as a disagreement, not as a shared mistake.

use idunox_keys::key::{KEY_ID_LEN, MAX_KEY_LEN, SECRET_LEN};
use idunox_keys::{KeyFormat, ParseError};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC32 (IEEE, reflected, polynomial 0xEDB88320), bit by bit.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The checksum of `docs/key-format.md`: CRC32 of `body` as 6 big-endian base62 digits, 0-padded.
pub(crate) fn checksum(body: &[u8]) -> [u8; 6] {
    let mut n = crc32(body);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Build a key the way an outside tool would, from its parts.
pub(crate) fn build_key(prefix: &str, env: &str, key_id: &str, secret: &str) -> String {
    let mut s = format!("{prefix}_{env}_{key_id}_{secret}");
    let sum = checksum(s.as_bytes());
    s.push_str(std::str::from_utf8(&sum).expect("base62 is ASCII"));
    s
}

/// Whether `data` is a valid key of `prefix`/`env` by the oracle's own reading of the format.
pub(crate) fn oracle_valid(prefix: &str, env: &str, data: &[u8]) -> bool {
    let head_len = prefix.len() + env.len() + 2;
    let len = head_len + KEY_ID_LEN + 1 + SECRET_LEN + 6;
    if data.len() != len {
        return false;
    }
    let (head, rest) = data.split_at(head_len);
    if head != format!("{prefix}_{env}_").as_bytes() {
        return false;
    }
    let (id, rest) = rest.split_at(KEY_ID_LEN);
    let (sep, tail) = rest.split_at(1);
    if sep != b"_" || !id.iter().chain(tail).all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (body, sum) = data.split_at(len - 6);
    checksum(body) == sum
}

/// Run every check on one input; panics (the fuzzer's signal) on any inconsistency.
pub(crate) fn check_key_parser(data: &[u8]) {
    let test = KeyFormat::new("idx", "test").expect("valid format");
    let live = KeyFormat::new("idx", "live").expect("valid format");

    let parsed = test.parse_bytes(data);
    let valid = oracle_valid("idx", "test", data);
    assert_eq!(
        parsed.is_ok(),
        valid,
        "parser and oracle disagree on {data:?}: {parsed:?}"
    );

    // Errors that depend on length alone.
    if data.is_empty() {
        assert_eq!(parsed.as_ref().err(), Some(&ParseError::Empty));
    } else if data.len() > MAX_KEY_LEN {
        assert_eq!(parsed.as_ref().err(), Some(&ParseError::TooLong));
    }

    // The &str entry point agrees with the bytes one.
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(
            test.parse(text).map(|k| (k.key_id(), *k.secret())).ok(),
            parsed.as_ref().map(|k| (k.key_id(), *k.secret())).ok()
        );
    }

    // The other environment never accepts what this one parses, and says why.
    let other = live.parse_bytes(data);
    assert!(
        !(parsed.is_ok() && other.is_ok()),
        "one input valid in two environments"
    );
    if parsed.is_ok() {
        assert_eq!(other.err(), Some(ParseError::WrongEnvironment));
    }

    let Ok(key) = parsed else { return };
    let text = std::str::from_utf8(data).expect("a valid key is ASCII");
    assert_eq!(text.len(), test.key_len());
    assert!(text.starts_with(test.key_prefix()));

    // Re-encode from the parsed parts: the same bytes.
    let id = key.key_id();
    let secret = std::str::from_utf8(key.secret()).expect("secret is base62");
    assert_eq!(id.as_str().len(), KEY_ID_LEN);
    assert_eq!(build_key("idx", "test", id.as_str(), secret), text);
    assert_eq!(test.mask(&id), format!("idx_test_{}_••••", id.as_str()));

    // Debug never shows the secret.
    assert!(!format!("{key:?}").contains(secret));

    // Any single-byte change of a valid key is refused.
    let mut buf = data.to_vec();
    for i in 0..buf.len() {
        let orig = buf[i];
        for delta in [1u8, 0x20, 0x80] {
            buf[i] = orig ^ delta;
            assert!(test.parse_bytes(&buf).is_err(), "mutation at {i} accepted");
        }
        buf[i] = orig;
    }
}
