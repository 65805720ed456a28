//! Authentication: portal sign-in ([`login`]), session tokens and their guard ([`jwt`]),
//! the sign-in limit ([`throttle`]) and the `X-Api-Key` guard over the core verifier
//! ([`api_key`]).

pub mod api_key;
pub mod jwt;
pub mod login;
pub mod throttle;
