//! The checks of the `jwt_token` fuzz target, shared with `tests/fuzz_corpus.rs` (which replays
//! `fuzz/corpus/jwt_token/` under plain `cargo test`). The including crate provides the server's
//! token module as `crate::jwt` (the fuzz target compiles `src/auth/jwt.rs` by path; the replay
//! test imports `reference_server::auth::jwt`).
//!
//! One input is checked two ways, with fixed keys and a fixed clock ([`NOW`]):
//! 1. as a token: the partner and the staff check never panic, and accept only a token whose
//!    header says HS256 and whose signature is the key's HMAC of its header and claims
//!    (computed apart, with `jsonwebtoken::crypto::sign`): a fuzzer cannot make one, so what
//!    it finds accepted is a seed the key signed, such as the two these keys issue;
//! 2. if it is a JSON object, as claims signed with the same key: with HS256 an accepted token's
//!    issuer, audience, expiry and issue time are right; with HS384 or HS512 (same key) it is
//!    refused, `alg` being pinned; signed with another key it is refused.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use crate::jwt::{JwtKeys, JwtSettings};

/// The HS256 key of every check.
pub(crate) const SECRET: &[u8] = b"fuzz-jwt-secret-0123456789abcdefghijklmnop";
/// `iss` of issued tokens.
pub(crate) const ISSUER: &str = "idunox-reference-server";
/// `aud` of partner tokens.
pub(crate) const AUDIENCE: &str = "idunox-partner-portal";
/// `aud` of staff tokens.
pub(crate) const STAFF_AUDIENCE: &str = "idunox-staff-console";
/// The clock of every check (Unix seconds).
pub(crate) const NOW: i64 = 1_900_000_000;

/// The keys under test.
pub(crate) fn keys() -> JwtKeys {
    JwtKeys::new(JwtSettings {
        secret: SECRET,
        issuer: ISSUER,
        audience: AUDIENCE,
        staff_audience: STAFF_AUDIENCE,
        ttl_seconds: 3600,
    })
}

/// The two tokens these keys issue (a minute before [`NOW`]): a partner's and a staff member's.
pub(crate) fn issued(keys: &JwtKeys) -> (String, String) {
    (
        keys.issue("usr_fuzz", "ten_fuzz", "ses_fuzz", NOW - 60)
            .unwrap(),
        keys.issue_staff("stf_fuzz", "ses_fuzz_staff", NOW - 60)
            .unwrap(),
    )
}

/// Whether `token` is `header.claims.signature` with an HS256 header and the key's HMAC of
/// `header.claims` as its signature, byte for byte.
fn signed_by_the_key(token: &str) -> bool {
    let Some((signed, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let hs256 = jsonwebtoken::decode_header(token).is_ok_and(|h| h.alg == Algorithm::HS256);
    let expected = jsonwebtoken::crypto::sign(
        signed.as_bytes(),
        &EncodingKey::from_secret(SECRET),
        Algorithm::HS256,
    )
    .expect("HMAC signing does not fail");
    hs256 && signature == expected
}

/// Both checks of one input. Panics on a violation.
pub(crate) fn check(data: &[u8]) {
    let keys = keys();
    let token = String::from_utf8_lossy(data);

    if let Ok(c) = keys.check(&token, NOW) {
        assert!(
            signed_by_the_key(&token),
            "the partner check accepted a token the key did not sign"
        );
        assert_times_and_names(&c.iss, &c.aud, AUDIENCE, c.iat, c.exp);
    }
    if let Ok(c) = keys.check_staff(&token, NOW) {
        assert!(
            signed_by_the_key(&token),
            "the staff check accepted a token the key did not sign"
        );
        assert_times_and_names(&c.iss, &c.aud, STAFF_AUDIENCE, c.iat, c.exp);
    }

    if let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(data) {
        check_claims(&keys, &claims);
    }
}

/// `claims` signed with the key (HS256, then other algorithms) and with another key.
fn check_claims(keys: &JwtKeys, claims: &Map<String, Value>) {
    let sign = |alg: Algorithm, secret: &[u8]| {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret))
            .expect("HMAC signing does not fail")
    };
    let token = sign(Algorithm::HS256, SECRET);
    let partner = keys.check(&token, NOW);
    let staff = keys.check_staff(&token, NOW);
    if let Ok(c) = &partner {
        assert_times_and_names(&c.iss, &c.aud, AUDIENCE, c.iat, c.exp);
    }
    if let Ok(c) = &staff {
        assert_times_and_names(&c.iss, &c.aud, STAFF_AUDIENCE, c.iat, c.exp);
    }
    assert!(
        partner.is_err() || staff.is_err(),
        "one token passed both checks"
    );
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = sign(alg, SECRET);
        assert!(keys.check(&token, NOW).is_err(), "{alg:?} accepted");
        assert!(keys.check_staff(&token, NOW).is_err(), "{alg:?} accepted");
    }
    let forged = sign(
        Algorithm::HS256,
        b"another-secret-0123456789abcdefghijklmnop",
    );
    assert!(
        keys.check(&forged, NOW).is_err(),
        "another key's token accepted"
    );
    assert!(
        keys.check_staff(&forged, NOW).is_err(),
        "another key's token accepted"
    );
}

fn assert_times_and_names(iss: &str, aud: &str, expected_aud: &str, iat: i64, exp: i64) {
    assert_eq!(iss, ISSUER, "wrong issuer accepted");
    assert_eq!(aud, expected_aud, "wrong audience accepted");
    assert!(NOW < exp, "expired token accepted (exp {exp})");
    assert!(
        iat <= NOW + 60,
        "token from the future accepted (iat {iat})"
    );
}
