//! Base62 with the alphabet `0-9A-Za-z`, in that order (`docs/key-format.md`).

/// The alphabet, in value order.
pub(crate) const ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Width of the checksum: `62^6 > 2^32`, so six digits hold any CRC32.
pub(crate) const CHECKSUM_LEN: usize = 6;

/// Whether `b` is one of the 62 alphabet bytes.
#[inline]
pub(crate) fn is_digit(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Whether every byte of `bytes` is a base62 digit. Branch-free per byte (secret bytes are
/// random, so a data-dependent branch per byte would mispredict about half the time).
#[inline]
pub(crate) fn all_digits(bytes: &[u8]) -> bool {
    bytes.iter().fold(true, |ok, &b| ok & is_digit(b))
}

/// The CRC32 (IEEE) of `bytes` as six big-endian base62 digits, padded with `0`.
pub(crate) fn checksum(bytes: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut n = crc32fast::hash(bytes);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_is_ascii_alphanumeric_in_order() {
        assert!(ALPHABET.iter().all(|&b| is_digit(b)));
        assert!(ALPHABET.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn checksum_pads_with_zero() {
        // CRC32 of the empty input is 0.
        assert_eq!(&checksum(b""), b"000000");
        // A known value: CRC32("123456789") = 0xCBF43926 = 3421780262.
        // 3421780262 in base62 is 3jL6Z8 in this alphabet.
        let mut n: u64 = 0;
        for &d in &checksum(b"123456789") {
            let v = ALPHABET.iter().position(|&a| a == d).unwrap() as u64;
            n = n * 62 + v;
        }
        assert_eq!(n, 0xCBF4_3926);
    }
}
