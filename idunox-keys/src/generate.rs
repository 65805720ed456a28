//! Random base62 strings from the operating system's CSPRNG, through `rand_core`.

use getrandom::SysRng;
use rand_core::TryRng;

use crate::base62::ALPHABET;
use crate::error::RandomnessError;

/// Fill `out` with uniformly random base62 digits.
///
/// Rejection sampling: a random byte below 248 (= 4 × 62) maps to `byte % 62`
/// without bias; bytes 248..=255 are drawn again.
pub(crate) fn fill_base62(out: &mut [u8]) -> Result<(), RandomnessError> {
    let mut rng = SysRng;
    let mut pool = zeroize::Zeroizing::new([0u8; 64]);
    let mut filled = 0;
    while filled < out.len() {
        rng.try_fill_bytes(pool.as_mut_slice())
            .map_err(|_| RandomnessError)?;
        for &b in pool.iter() {
            if b < 248 {
                out[filled] = ALPHABET[usize::from(b % 62)];
                filled += 1;
                if filled == out.len() {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// `N` random bytes, for keys that never leave the process (cache keys, salts).
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], RandomnessError> {
    let mut out = [0u8; N];
    SysRng
        .try_fill_bytes(&mut out)
        .map_err(|_| RandomnessError)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_base62_and_vary() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        fill_base62(&mut a).unwrap();
        fill_base62(&mut b).unwrap();
        assert!(a.iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(a, b);
    }

    #[test]
    fn every_digit_appears_over_many_draws() {
        let mut seen = [false; 62];
        let mut buf = [0u8; 4096];
        fill_base62(&mut buf).unwrap();
        for d in buf {
            seen[ALPHABET.iter().position(|&a| a == d).unwrap()] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
