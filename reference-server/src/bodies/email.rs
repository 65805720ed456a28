//! How an email in a body is read: trimmed and lower-cased, and, where an account is made from
//! it (user provision, `user add`), checked well enough to catch typos. No Rocket here: the fuzz
//! crate compiles this file by path.

/// The most characters of an email, counted as sent.
pub const MAX_EMAIL_CHARS: usize = 254;

/// Trim and lower-case an email.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The email normalised, when it looks like one: one `@` with something on both sides and no
/// whitespace (after trimming), no control characters and at most [`MAX_EMAIL_CHARS`] characters
/// (as sent).
pub fn plausible_email(email: &str) -> Option<String> {
    let e = normalize_email(email);
    let ok = matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'))
        && !e.chars().any(char::is_whitespace)
        && !email.chars().any(char::is_control)
        && email.chars().count() <= MAX_EMAIL_CHARS;
    ok.then_some(e)
}
