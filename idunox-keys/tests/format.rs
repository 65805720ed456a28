//! The key format of `docs/key-format.md`, from the outside: round-trips, and every small
//! corruption of a valid key is refused offline.

#[path = "support/key_parser_checks.rs"]
mod checks;
mod common;

use checks::{build_key, oracle_valid};
use common::{DOCUMENTED_KEY, format};
use idunox_keys::key::MAX_KEY_LEN;
use idunox_keys::{FormatError, KeyFormat, ParseError};
use proptest::prelude::*;

/// A few non-ASCII characters: Latin-1, the mask bullet, an emoji, NUL and DEL.
const NON_ASCII: [char; 6] = ['é', '•', '😀', '\u{0}', '\u{7f}', 'ÿ'];

fn printable_ascii() -> impl Iterator<Item = char> {
    (0x20u8..=0x7e).map(char::from)
}

/// Where in a key of `f` index `i` falls.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Region {
    Prefix,
    Environment,
    Separator,
    Body,
}

fn region(f: &KeyFormat, i: usize) -> Region {
    let p = f.prefix().len();
    let e = f.environment().len();
    let id_sep = p + e + 2 + 12;
    if i < p {
        Region::Prefix
    } else if i == p || i == p + e + 1 || i == id_sep {
        Region::Separator
    } else if i < p + e + 1 {
        Region::Environment
    } else {
        Region::Body
    }
}

/// What replacing the ASCII byte at `i` with `c` must produce.
fn expected_substitution_error(f: &KeyFormat, i: usize, c: char) -> ParseError {
    match (region(f, i), c) {
        (_, '_') | (Region::Separator, _) => ParseError::Malformed,
        (Region::Prefix, _) => ParseError::WrongPrefix,
        (Region::Environment, _) => ParseError::WrongEnvironment,
        (Region::Body, c) if c.is_ascii_alphanumeric() => ParseError::BadChecksum,
        (Region::Body, _) => ParseError::BadCharacter,
    }
}

fn replace_at(key: &str, i: usize, c: char) -> String {
    let mut s = String::with_capacity(key.len() + 4);
    s.push_str(&key[..i]);
    s.push(c);
    s.push_str(&key[i + 1..]);
    s
}

/// Every single-character substitution, truncation, deletion and 1..=3-character extension of
/// `key` is refused; ASCII substitutions with the error the rule they break names.
fn assert_every_corruption_refused(f: &KeyFormat, key: &str) {
    assert!(f.parse(key).is_ok(), "fixture {key} must be valid");
    let mut checked = 0usize;

    for (i, orig) in key.char_indices() {
        for c in printable_ascii() {
            if c == orig {
                continue;
            }
            let bad = replace_at(key, i, c);
            assert_eq!(
                f.parse(&bad).map(|_| ()),
                Err(expected_substitution_error(f, i, c)),
                "substitution {i}:{c:?} in {key}"
            );
            checked += 1;
        }
        for c in NON_ASCII {
            let bad = replace_at(key, i, c);
            assert!(f.parse(&bad).is_err(), "substitution {i}:{c:?} accepted");
            checked += 1;
        }
        // Every byte value, through the bytes entry point (not necessarily UTF-8).
        let mut bytes = key.as_bytes().to_vec();
        for b in 0..=255u8 {
            if b == orig as u8 {
                continue;
            }
            bytes[i] = b;
            assert!(f.parse_bytes(&bytes).is_err(), "byte {i}:{b:#x} accepted");
            checked += 1;
        }
    }

    for n in 0..key.len() {
        // Truncated at the end, cut at the front, one character deleted.
        let head = &key[..n];
        let expected_empty = if n == 0 {
            Some(ParseError::Empty)
        } else {
            None
        };
        let r = f.parse(head);
        assert!(r.is_err(), "truncation to {n} accepted");
        if let Some(e) = expected_empty {
            assert_eq!(r.unwrap_err(), e);
        }
        assert!(f.parse(&key[n + 1..]).is_err(), "front cut {n} accepted");
        let deleted = format!("{}{}", &key[..n], &key[n + 1..]);
        assert!(f.parse(&deleted).is_err(), "deletion at {n} accepted");
        checked += 3;
    }

    // One extra character anywhere at the end or front.
    for c in printable_ascii().chain(NON_ASCII) {
        let appended = format!("{key}{c}");
        let r = f.parse(&appended);
        assert!(r.is_err(), "append {c:?} accepted");
        if c.is_ascii_alphanumeric() {
            assert_eq!(r.unwrap_err(), ParseError::BadLength);
        }
        assert!(f.parse(&format!("{c}{key}")).is_err(), "prepend {c:?}");
        checked += 2;
    }
    // Two extra characters: every printable pair.
    for a in printable_ascii() {
        for b in printable_ascii() {
            assert!(f.parse(&format!("{key}{a}{b}")).is_err(), "append {a}{b}");
            checked += 1;
        }
    }
    // Three extra characters: base62, '_' and a few others in every combination.
    let some: Vec<char> = "09AZaz_-=.~ é".chars().collect();
    for a in &some {
        for b in &some {
            for c in &some {
                assert!(f.parse(&format!("{key}{a}{b}{c}")).is_err());
                checked += 1;
            }
        }
    }
    assert!(checked > 20_000, "only {checked} variants checked");
}

#[test]
fn documented_and_generated_keys_refuse_every_corruption() {
    let f = format();
    assert_every_corruption_refused(&f, DOCUMENTED_KEY);
    for _ in 0..2 {
        let key = f.generate().unwrap();
        assert_every_corruption_refused(&f, key.expose_secret());
    }
    // Longer labels move every boundary.
    let long = KeyFormat::new("AcmeCorp2", "staging01").unwrap();
    let key = long.generate().unwrap();
    assert_every_corruption_refused(&long, key.expose_secret());
}

#[test]
fn documented_key_checks_with_an_independent_checksum() {
    // An outside tool can check a key the same way (`docs/key-format.md`): the oracle's own
    // CRC32 and base62 agree with the example.
    assert_eq!(checks::crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(
        build_key(
            "idx",
            "test",
            "XFE89T5jtdJh",
            "6xuFZu1TeOffxgYTozBujBIzcR09E8aF"
        ),
        DOCUMENTED_KEY
    );
    assert!(oracle_valid("idx", "test", DOCUMENTED_KEY.as_bytes()));
}

#[test]
fn generated_keys_round_trip() {
    let f = format();
    for _ in 0..200 {
        let key = f.generate().unwrap();
        let text = key.expose_secret();
        assert_eq!(text.len(), 60);
        assert!(
            oracle_valid("idx", "test", text.as_bytes()),
            "{}",
            key.key_id()
        );
        let parsed = f.parse(text).unwrap();
        assert_eq!(parsed.key_id(), key.key_id());
        assert_eq!(&parsed.secret()[..], key.secret_bytes());
        assert_eq!(
            build_key(
                "idx",
                "test",
                parsed.key_id().as_str(),
                std::str::from_utf8(parsed.secret()).unwrap()
            ),
            text
        );
        assert_eq!(key.masked(), f.mask(&key.key_id()));
        assert_eq!(key.to_string(), format!("idx_test_{}_••••", key.key_id()));
    }
}

#[test]
fn keys_with_the_same_id_differ_in_their_secret() {
    let f = format();
    let id = common::id("XFE89T5jtdJh");
    let a = f.generate_with_id(id).unwrap();
    let b = f.generate_with_id(id).unwrap();
    assert_eq!(a.key_id(), b.key_id());
    assert_ne!(a.secret_bytes(), b.secret_bytes());
    assert!(f.parse(a.expose_secret()).is_ok() && f.parse(b.expose_secret()).is_ok());
}

#[test]
fn too_long_input_is_refused_before_anything_else() {
    let f = format();
    let long = format!("{DOCUMENTED_KEY}{}", "A".repeat(MAX_KEY_LEN));
    assert_eq!(f.parse(&long).unwrap_err(), ParseError::TooLong);
    assert_eq!(
        f.parse_bytes(&[b'_'; MAX_KEY_LEN + 1]).unwrap_err(),
        ParseError::TooLong
    );
    // At the bound it is judged on its shape.
    assert_eq!(
        f.parse_bytes(&[b'A'; MAX_KEY_LEN]).unwrap_err(),
        ParseError::Malformed
    );
}

fn label() -> impl Strategy<Value = String> {
    "[0-9A-Za-z]{1,16}"
}

fn base62(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(checks_alphabet()), n)
        .prop_map(|v| v.into_iter().collect())
}

fn checks_alphabet() -> Vec<char> {
    ('0'..='9').chain('A'..='Z').chain('a'..='z').collect()
}

/// A valid key built from proptest-chosen parts with the independent checksum.
fn arb_key() -> impl Strategy<Value = String> {
    (base62(12), base62(32)).prop_map(|(id, secret)| build_key("idx", "test", &id, &secret))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_labels_round_trip(prefix in label(), env in label()) {
        let f = KeyFormat::new(&prefix, &env).unwrap();
        prop_assert_eq!(f.prefix(), prefix.as_str());
        prop_assert_eq!(f.environment(), env.as_str());
        let key = f.generate().unwrap();
        let text = key.expose_secret();
        prop_assert_eq!(text.len(), f.key_len());
        prop_assert!(oracle_valid(&prefix, &env, text.as_bytes()));
        let parsed = f.parse(text).unwrap();
        prop_assert_eq!(parsed.key_id(), key.key_id());
        prop_assert_eq!(&parsed.secret()[..], key.secret_bytes());
        prop_assert_eq!(key.masked(), format!("{prefix}_{env}_{}_••••", key.key_id()));

        // Another environment refuses it with its own error; another prefix with its own.
        let other_env = format!("{env}x");
        if other_env.len() <= 16 {
            let g = KeyFormat::new(&prefix, &other_env).unwrap();
            prop_assert_eq!(g.parse(text).unwrap_err(), ParseError::WrongEnvironment);
        }
        let other_prefix = if prefix == "q" { "r" } else { "q" };
        let g = KeyFormat::new(other_prefix, &env).unwrap();
        prop_assert_eq!(g.parse(text).unwrap_err(), ParseError::WrongPrefix);
    }

    #[test]
    fn bad_labels_are_refused(prefix in "[0-9A-Za-z]{0,3}[^0-9A-Za-z][0-9A-Za-z]{0,3}", env in label()) {
        prop_assert_eq!(KeyFormat::new(&prefix, &env).unwrap_err(), FormatError::InvalidPrefix);
        prop_assert_eq!(KeyFormat::new(&env, &prefix).unwrap_err(), FormatError::InvalidEnvironment);
        let long = "a".repeat(17);
        prop_assert_eq!(KeyFormat::new(&long, &env).unwrap_err(), FormatError::InvalidPrefix);
        prop_assert_eq!(KeyFormat::new(&env, "").unwrap_err(), FormatError::InvalidEnvironment);
    }

    #[test]
    fn outside_built_keys_parse(key in arb_key()) {
        let parsed = format().parse(&key).unwrap();
        let key_id = parsed.key_id();
        prop_assert_eq!(key_id.as_str(), &key[9..21]);
        prop_assert_eq!(&parsed.secret()[..], &key.as_bytes()[22..54]);
    }

    #[test]
    fn random_key_substitution_is_refused(
        key in arb_key(),
        i in 0usize..60,
        c in prop_oneof![
            (0x20u8..=0x7e).prop_map(char::from),
            proptest::sample::select(NON_ASCII.to_vec()),
            any::<char>(),
        ],
    ) {
        prop_assume!(!key[i..].starts_with(c));
        let f = format();
        let bad = replace_at(&key, i, c);
        let r = f.parse(&bad);
        prop_assert!(r.is_err(), "{} accepted", bad);
        if c.is_ascii() && !c.is_ascii_control() {
            prop_assert_eq!(r.unwrap_err(), expected_substitution_error(&f, i, c));
        }
    }

    #[test]
    fn random_key_truncation_and_extension_are_refused(
        key in arb_key(),
        n in 0usize..60,
        extra in "(.|[0-9A-Za-z_]){1,3}",
    ) {
        let f = format();
        let appended = format!("{key}{extra}");
        let inserted = format!("{}{extra}{}", &key[..n], &key[n..]);
        prop_assert!(f.parse(&key[..n]).is_err());
        prop_assert!(f.parse(&appended).is_err());
        prop_assert!(f.parse(&inserted).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let f = format();
        let r = f.parse_bytes(&data);
        prop_assert_eq!(r.is_ok(), oracle_valid("idx", "test", &data));
        checks::check_key_parser(&data);
    }

    #[test]
    fn near_keys_never_panic_and_agree_with_the_oracle(
        key in arb_key(),
        edits in proptest::collection::vec((0usize..64, any::<u8>()), 0..4),
    ) {
        let mut data = key.into_bytes();
        for (i, b) in edits {
            match i % 3 {
                0 if !data.is_empty() => { let j = i % data.len(); data[j] = b; }
                1 if !data.is_empty() => { data.remove(i % data.len()); }
                _ => data.insert(i.min(data.len()), b),
            }
        }
        checks::check_key_parser(&data);
    }
}
