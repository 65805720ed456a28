//! Authentication: session tokens ([`jwt`], crypto only) and the session guards that load the
//! server-side session ([`session`]); the sign-in limits ([`throttle`]), password checks per
//! client ([`in_flight`]) and bounded argon2 work ([`password_work`]) that sign-in and password
//! changes share, with the rule for new passwords ([`password_rules`]); and the `X-Api-Key` guard over the core verifier ([`api_key`]). The sign-in,
//! sign-out and password-change routes are in [`crate::routes`].

pub mod api_key;
pub mod in_flight;
pub mod jwt;
pub mod password_rules;
pub mod password_work;
pub mod session;
pub mod sign_in;
pub mod staff_session;
pub mod throttle;
pub mod totp;
pub mod totp_seal;
