//! The sign-in limits (`docs/http-api.md`), keyed on the realm (partners or staff), on the email as
//! normalised for lookup and on the client address
//! ([`ClientIp::bucket`]):
//!
//! - more than [`PER_CLIENT`] failures for one email from one address within [`WINDOW`]: that
//!   address gets 429 with `Retry-After` for that email, even with the right password;
//! - more than [`PER_EMAIL`] failures for one email from all addresses together: the account is
//!   locked for everyone (429) until the window passes or staff clear it
//!   ([`SqlDb::clear_sign_in_throttle`](crate::db::SqlDb::clear_sign_in_throttle));
//! - "more than 10" means the 11th attempt is refused. A refused attempt is not a failure (it
//!   does not count towards the 100), runs no argon2, and only the first refusal per email and
//!   window is audited (`login.throttled`);
//! - a correct password clears that address's failures for that email;
//! - a wrong current password at a password change counts as a failure too, so a stolen session
//!   is no unthrottled password oracle.
//!
//! So one attacker cannot lock a partner out from a single address, and many addresses together
//! still cannot guess on. Unknown emails are counted like known ones (the answer never says
//! which emails exist); their rows age out with the window. The counts live in the database
//! ([`crate::db::throttle`]): they hold across restarts and instances.
//!
//! [`ClientIp::bucket`]: crate::guards::ClientIp::bucket

use time::Duration;

pub use crate::db::throttle::{
    Attempt, Limits, Lock, Realm, clear_client, clear_throttle, mirror_failure_write, release,
    reserve,
};

/// Failures allowed per email and client address within [`WINDOW`].
pub const PER_CLIENT: i64 = 10;
/// Failures allowed per email from all addresses within [`WINDOW`].
pub const PER_EMAIL: i64 = 100;
/// The sliding window.
pub const WINDOW: Duration = Duration::minutes(15);

/// The limits above, as the store checks them.
pub const LIMITS: Limits = Limits {
    window_secs: WINDOW.whole_seconds(),
    per_client: PER_CLIENT,
    per_email: PER_EMAIL,
};

/// 429 `too_many_requests` for a throttled attempt.
pub fn too_many(retry_after: i64, lock: Lock) -> crate::error::ApiError {
    let message = match lock {
        Lock::Address => "Too many failed sign-ins for this email from this address; retry later.",
        Lock::Account => "Too many failed sign-ins for this email; retry later.",
    };
    crate::error::ApiError::new(
        rocket::http::Status::TooManyRequests,
        "too_many_requests",
        message,
    )
    .retry_after(retry_after)
}
