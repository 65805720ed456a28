//! RFC 6238 TOTP codes (HMAC-SHA-1, 30-second steps, 6 digits) for the staff accounts of the
//! browser tests: the codes a person's authenticator app would show, computed here so that a
//! test signs in the way staff do. Test-only and checked against the RFC's own vectors below;
//! the server uses a maintained crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds per TOTP step.
pub(crate) const STEP_SECONDS: u64 = 30;

/// SHA-1 (FIPS 180-4).
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bits = u64::try_from(data.len()).expect("length") * 8;
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// RFC 4226 HOTP before the modulo: HMAC-SHA-1 of the counter, dynamically truncated.
fn hotp(key: &[u8], counter: u64) -> u32 {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..20].copy_from_slice(&sha1(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = block
        .iter()
        .map(|b| b ^ 0x36)
        .chain(counter.to_be_bytes())
        .collect();
    let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).chain(sha1(&inner)).collect();
    let mac = sha1(&outer);
    let offset = usize::from(mac[19] & 0x0f);
    u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ])
}

/// The bytes of an RFC 4648 base32 secret (padding and case ignored).
fn base32(secret: &str) -> Vec<u8> {
    let mut key = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in secret.trim_end_matches('=').chars() {
        let v = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            .find(c.to_ascii_uppercase())
            .unwrap_or_else(|| panic!("{c:?} is not base32"));
        buffer = (buffer << 5) | u32::try_from(v).expect("small");
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            key.push(u8::try_from((buffer >> bits) & 0xff).expect("byte"));
        }
    }
    key
}

/// The 30-second step of now.
pub(crate) fn current_step() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / STEP_SECONDS
}

/// The 6-digit code of a base32 secret at a step.
pub(crate) fn code_at(secret_base32: &str, step: u64) -> String {
    format!("{:06}", hotp(&base32(secret_base32), step) % 1_000_000)
}

/// The 6-digit code of a base32 secret now.
#[allow(dead_code)] // not every test binary signs in with "now" alone
pub(crate) fn code_now(secret_base32: &str) -> String {
    code_at(secret_base32, current_step())
}

#[test]
fn totp_matches_the_rfc_6238_and_rfc_4226_vectors() {
    let key = b"12345678901234567890";
    // RFC 6238 appendix B, SHA-1, 8 digits: (time, code).
    for (time, code) in [
        (59, 94_287_082),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ] {
        assert_eq!(
            hotp(key, time / STEP_SECONDS) % 100_000_000,
            code,
            "T = {time}"
        );
    }
    // RFC 4226 appendix D, counters 0 and 9.
    assert_eq!(hotp(key, 0) % 1_000_000, 755_224);
    assert_eq!(hotp(key, 9) % 1_000_000, 520_489);
    // The same key as base32, through the 6-digit code path.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(code_at(secret, 1), "287082");
    assert_eq!(code_at(secret, 0), "755224");
}
