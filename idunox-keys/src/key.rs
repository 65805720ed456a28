//! The key format of `docs/key-format.md`: `prefix_environment_<key_id>_<secret><checksum>`.
//!
//! ```
//! use idunox_keys::{KeyFormat, ParseError};
//!
//! let format = KeyFormat::new("idx", "test")?;
//! let key = format.generate()?;
//! assert_eq!(key.expose_secret().len(), 60);
//!
//! // Parsing checks shape, prefix, environment, alphabet and checksum offline.
//! let parsed = format.parse(key.expose_secret())?;
//! assert_eq!(parsed.key_id(), key.key_id());
//! assert_eq!(format.parse("idx_live_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM").unwrap_err(),
//!            ParseError::WrongEnvironment);
//!
//! // After creation a key is only ever shown masked; Display and Debug never print the secret.
//! assert_eq!(key.to_string(), format!("idx_test_{}_••••", key.key_id()));
//! assert!(!format!("{key:?}").contains(&key.expose_secret()[22..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use core::str::FromStr;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::base62::{self, CHECKSUM_LEN};
use crate::error::{FormatError, ParseError, RandomnessError};
use crate::generate::fill_base62;

/// Characters in a key id.
pub const KEY_ID_LEN: usize = 12;
/// Characters in a secret.
pub const SECRET_LEN: usize = 32;
/// Longest accepted prefix or environment.
const MAX_LABEL_LEN: usize = 16;
/// Longest input `parse` looks at; anything longer is refused before any other work.
pub const MAX_KEY_LEN: usize = 2 * MAX_LABEL_LEN + 3 + KEY_ID_LEN + SECRET_LEN + CHECKSUM_LEN;

/// The masking suffix shown in place of the secret.
const MASK: &str = "••••";

/// A key's public id: 12 base62 characters, random, the store's lookup key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl core::hash::Hash for KeyId {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        state.write(&self.0);
    }
}

/// A `BuildHasher` for maps keyed by [`KeyId`]: key ids are already uniformly random, so mixing
/// their bytes once is enough and SipHash's cost buys nothing. Safe against flooding because only
/// ids the system drew itself are ever inserted; presented ids are only looked up.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KeyIdHasherBuilder;

/// See [`KeyIdHasherBuilder`].
#[derive(Default)]
pub(crate) struct KeyIdHasher(u64);

impl core::hash::BuildHasher for KeyIdHasherBuilder {
    type Hasher = KeyIdHasher;
    fn build_hasher(&self) -> KeyIdHasher {
        KeyIdHasher(0)
    }
}

impl core::hash::Hasher for KeyIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
}

/// A map keyed by [`KeyId`] with the cheap hasher.
pub(crate) type KeyIdMap<V> = std::collections::HashMap<KeyId, V, KeyIdHasherBuilder>;

impl KeyId {
    /// Parse a bare key id (12 base62 characters), as found in URLs and stores.
    ///
    /// # Errors
    /// [`ParseError::BadLength`] or [`ParseError::BadCharacter`].
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let bytes = s.as_bytes();
        let arr: [u8; KEY_ID_LEN] = bytes.try_into().map_err(|_| ParseError::BadLength)?;
        if !arr.iter().all(|&b| base62::is_digit(b)) {
            return Err(ParseError::BadCharacter);
        }
        Ok(Self(arr))
    }

    /// Draw a fresh random key id.
    ///
    /// # Errors
    /// When the operating system's random number generator fails.
    pub fn random() -> Result<Self, RandomnessError> {
        let mut arr = [0u8; KEY_ID_LEN];
        fill_base62(&mut arr)?;
        Ok(Self(arr))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only base62 ASCII ever gets in (see `parse` and `random`).
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The id's bytes (ASCII).
    pub fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.as_str())
    }
}

impl FromStr for KeyId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A configured key format: prefix and environment.
///
/// Cheap to clone; parsing and generating never allocate more than the key itself.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyFormat {
    /// `"<prefix>_<environment>_"`, the fixed head of every key.
    head: String,
    prefix_len: usize,
}

impl KeyFormat {
    /// A format with this prefix (e.g. `idx`) and environment (e.g. `test`).
    ///
    /// # Errors
    /// When either is empty, longer than 16 characters, or not ASCII letters and digits.
    pub fn new(prefix: &str, environment: &str) -> Result<Self, FormatError> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.len() <= MAX_LABEL_LEN
                && s.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        if !ok(prefix) {
            return Err(FormatError::InvalidPrefix);
        }
        if !ok(environment) {
            return Err(FormatError::InvalidEnvironment);
        }
        Ok(Self {
            head: format!("{prefix}_{environment}_"),
            prefix_len: prefix.len(),
        })
    }

    /// The prefix, e.g. `idx`.
    pub fn prefix(&self) -> &str {
        &self.head[..self.prefix_len]
    }

    /// The environment, e.g. `test`.
    pub fn environment(&self) -> &str {
        &self.head[self.prefix_len + 1..self.head.len() - 1]
    }

    /// `prefix_environment_`, what every key of this format starts with.
    pub fn key_prefix(&self) -> &str {
        &self.head
    }

    /// Length of every key of this format.
    pub fn key_len(&self) -> usize {
        self.head.len() + KEY_ID_LEN + 1 + SECRET_LEN + CHECKSUM_LEN
    }

    /// The masked form `prefix_environment_<key_id>_••••`, the only way a key is shown after creation.
    pub fn mask(&self, key_id: &KeyId) -> String {
        let mut s = String::with_capacity(self.head.len() + KEY_ID_LEN + 1 + MASK.len());
        s.push_str(&self.head);
        s.push_str(key_id.as_str());
        s.push('_');
        s.push_str(MASK);
        s
    }

    /// Generate a new key with a random key id and secret.
    ///
    /// # Errors
    /// When the operating system's random number generator fails.
    pub fn generate(&self) -> Result<ApiKey, RandomnessError> {
        self.generate_with_id(KeyId::random()?)
    }

    /// Generate a key with this id and a fresh random secret (used to redraw after an id collision
    /// and by tests).
    ///
    /// # Errors
    /// When the operating system's random number generator fails.
    pub fn generate_with_id(&self, key_id: KeyId) -> Result<ApiKey, RandomnessError> {
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        fill_base62(secret.as_mut_slice())?;
        Ok(self.assemble(key_id, &secret))
    }

    /// `key`'s secret under a freshly drawn key id: what a store's id collision calls for, since
    /// the stored hash covers the secret only and need not be computed again.
    ///
    /// # Errors
    /// When the operating system's random number generator fails.
    pub fn with_new_id(&self, key: &ApiKey) -> Result<ApiKey, RandomnessError> {
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        secret.copy_from_slice(key.secret_bytes());
        Ok(self.assemble(KeyId::random()?, &secret))
    }

    /// The key text for `key_id` and `secret` (base62), with its checksum.
    fn assemble(&self, key_id: KeyId, secret: &[u8; SECRET_LEN]) -> ApiKey {
        let mut text = Zeroizing::new(String::with_capacity(self.key_len()));
        text.push_str(&self.head);
        text.push_str(key_id.as_str());
        text.push('_');
        // The secret is base62 ASCII.
        text.push_str(core::str::from_utf8(secret.as_slice()).unwrap_or_default());
        let sum = base62::checksum(text.as_bytes());
        text.push_str(core::str::from_utf8(&sum).unwrap_or_default());
        ApiKey {
            text,
            key_id,
            mask: self.mask(&key_id),
        }
    }

    /// Parse a presented key. Checks, in order and without touching any store: length bound,
    /// shape, prefix, environment, part lengths, alphabet, checksum.
    ///
    /// # Errors
    /// A [`ParseError`] naming the first rule the input breaks.
    pub fn parse(&self, input: &str) -> Result<PresentedKey, ParseError> {
        self.parse_bytes(input.as_bytes())
    }

    /// [`parse`](Self::parse) for raw header bytes (which need not be UTF-8).
    ///
    /// # Errors
    /// A [`ParseError`] naming the first rule the input breaks.
    pub fn parse_bytes(&self, input: &[u8]) -> Result<PresentedKey, ParseError> {
        if input.is_empty() {
            return Err(ParseError::Empty);
        }
        if input.len() > MAX_KEY_LEN {
            return Err(ParseError::TooLong);
        }
        // Fast path: the exact shape of this format, checked by position. Anything else falls
        // through to the classifying path below, which names the first rule broken.
        let head = self.head.as_bytes();
        if input.len() == self.key_len()
            && input.starts_with(head)
            && input[head.len() + KEY_ID_LEN] == b'_'
        {
            let id = &input[head.len()..head.len() + KEY_ID_LEN];
            let tail = &input[head.len() + KEY_ID_LEN + 1..];
            if base62::all_digits(id) && base62::all_digits(tail) {
                return Self::checked(input, id, tail);
            }
        }
        let mut parts = input.split(|&b| b == b'_');
        let (Some(prefix), Some(env), Some(id), Some(tail), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(ParseError::Malformed);
        };
        if prefix != self.prefix().as_bytes() {
            return Err(ParseError::WrongPrefix);
        }
        if env != self.environment().as_bytes() {
            return Err(ParseError::WrongEnvironment);
        }
        let id: [u8; KEY_ID_LEN] = id.try_into().map_err(|_| ParseError::BadLength)?;
        if tail.len() != SECRET_LEN + CHECKSUM_LEN {
            return Err(ParseError::BadLength);
        }
        if !(base62::all_digits(&id) && base62::all_digits(tail)) {
            return Err(ParseError::BadCharacter);
        }
        Self::checked(input, &id, tail)
    }

    /// The last rule, once the shape is right: the checksum over everything before it.
    fn checked(input: &[u8], id: &[u8], tail: &[u8]) -> Result<PresentedKey, ParseError> {
        let (body, sum) = input.split_at(input.len() - CHECKSUM_LEN);
        let expected = base62::checksum(body);
        if !bool::from(expected.ct_eq(sum)) {
            return Err(ParseError::BadChecksum);
        }
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(id);
        let mut secret = [0u8; SECRET_LEN];
        secret.copy_from_slice(&tail[..SECRET_LEN]);
        Ok(PresentedKey {
            key_id: KeyId(key_id),
            secret,
        })
    }
}

impl fmt::Debug for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFormat")
            .field("prefix", &self.prefix())
            .field("environment", &self.environment())
            .finish()
    }
}

/// A whole plaintext key, as handed out once at creation or rotation.
///
/// `Display` shows the masked form and `Debug` only the key id; the text is zeroed on drop.
/// Call [`expose_secret`](ApiKey::expose_secret) to get the plaintext, once, for the person who
/// asked for it.
pub struct ApiKey {
    text: Zeroizing<String>,
    key_id: KeyId,
    mask: String,
}

impl ApiKey {
    /// The whole plaintext key. Show it once; never log or store it.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    /// The public key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The masked form, `idx_test_<key_id>_••••`.
    pub fn masked(&self) -> &str {
        &self.mask
    }

    /// The secret part alone (32 base62 bytes), which is what gets hashed.
    pub fn secret_bytes(&self) -> &[u8] {
        let start = self.text.len() - CHECKSUM_LEN - SECRET_LEN;
        &self.text.as_bytes()[start..start + SECRET_LEN]
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.mask)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A presented key that passed [`KeyFormat::parse`]: its id, and its secret (zeroed on drop).
#[derive(Clone)]
pub struct PresentedKey {
    key_id: KeyId,
    secret: [u8; SECRET_LEN],
}

impl PresentedKey {
    /// The key id to look the credential up by.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The 32 secret bytes. Compare them only through a hash or `subtle`.
    pub fn secret(&self) -> &[u8; SECRET_LEN] {
        &self.secret
    }
}

impl Drop for PresentedKey {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl ZeroizeOnDrop for PresentedKey {}

impl fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example key of `docs/key-format.md`.
    const DOCUMENTED_KEY: &str = "idx_test_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM";

    fn fmt() -> KeyFormat {
        KeyFormat::new("idx", "test").unwrap()
    }

    #[test]
    fn documented_key_is_valid() {
        let p = fmt().parse(DOCUMENTED_KEY).unwrap();
        assert_eq!(p.key_id().as_str(), "XFE89T5jtdJh");
        assert_eq!(&p.secret()[..], b"6xuFZu1TeOffxgYTozBujBIzcR09E8aF");
        assert_eq!(DOCUMENTED_KEY.len(), 60);
        assert_eq!(fmt().key_len(), 60);
    }

    #[test]
    fn each_rule_has_its_error() {
        let f = fmt();
        assert_eq!(f.parse("").unwrap_err(), ParseError::Empty);
        assert_eq!(
            f.parse(&"a".repeat(MAX_KEY_LEN + 1)).unwrap_err(),
            ParseError::TooLong
        );
        assert_eq!(f.parse("idx_test_abc").unwrap_err(), ParseError::Malformed);
        assert_eq!(
            f.parse(&DOCUMENTED_KEY.replacen("idx", "abc", 1))
                .unwrap_err(),
            ParseError::WrongPrefix
        );
        assert_eq!(
            f.parse(&DOCUMENTED_KEY.replacen("test", "live", 1))
                .unwrap_err(),
            ParseError::WrongEnvironment
        );
        assert_eq!(
            f.parse("idx_test_XFE89T5jtdJ_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM")
                .unwrap_err(),
            ParseError::BadLength
        );
        assert_eq!(
            f.parse("idx_test_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXA")
                .unwrap_err(),
            ParseError::BadLength
        );
        assert_eq!(
            f.parse("idx_test_XFE89T5jtd-h_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM")
                .unwrap_err(),
            ParseError::BadCharacter
        );
        assert_eq!(
            f.parse("idx_test_XFE89T5jtdJh_7xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM")
                .unwrap_err(),
            ParseError::BadChecksum
        );
    }

    #[test]
    fn format_rejects_bad_labels() {
        assert_eq!(
            KeyFormat::new("", "test").unwrap_err(),
            FormatError::InvalidPrefix
        );
        assert_eq!(
            KeyFormat::new("i_x", "test").unwrap_err(),
            FormatError::InvalidPrefix
        );
        assert_eq!(
            KeyFormat::new("idx", "te st").unwrap_err(),
            FormatError::InvalidEnvironment
        );
        let f = KeyFormat::new("acme", "live").unwrap();
        assert_eq!(
            (f.prefix(), f.environment(), f.key_prefix()),
            ("acme", "live", "acme_live_")
        );
    }

    #[test]
    fn generated_keys_round_trip_and_hide_their_secret() {
        let f = fmt();
        let key = f.generate().unwrap();
        let text = key.expose_secret().to_owned();
        let secret = core::str::from_utf8(key.secret_bytes()).unwrap().to_owned();
        assert_eq!(f.parse(&text).unwrap().key_id(), key.key_id());
        assert_eq!(&f.parse(&text).unwrap().secret()[..], secret.as_bytes());
        for shown in [
            format!("{key}"),
            format!("{key:?}"),
            format!("{:?}", f.parse(&text).unwrap()),
        ] {
            assert!(!shown.contains(&secret), "{shown}");
        }
        assert_eq!(key.masked(), format!("idx_test_{}_••••", key.key_id()));
    }

    #[test]
    fn key_id_parse() {
        assert!(KeyId::parse("XFE89T5jtdJh").is_ok());
        assert_eq!(
            KeyId::parse("XFE89T5jtdJ").unwrap_err(),
            ParseError::BadLength
        );
        assert_eq!(
            KeyId::parse("XFE89T5jtdJ!").unwrap_err(),
            ParseError::BadCharacter
        );
        assert_eq!(
            KeyId::parse("XFE89T5jtdJé").unwrap_err(),
            ParseError::BadLength
        );
    }
}
