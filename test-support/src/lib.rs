//! Test-only helpers shared by the workspace's integration tests: outside programs
//! ([`process`]), the JSON API over HTTP ([`http`]), a throwaway PostgreSQL cluster
//! ([`postgres`]) and the `reference-server` binary's test setup and provisioning ([`server`]).
//!
//! Tests that need an outside program start it themselves when it is installed, and under
//! `CI=true` fail (rather than skip) when it is missing — see [`require`].
#![forbid(unsafe_code)]

pub mod http;
pub mod postgres;
pub mod process;
pub mod server;

use std::net::TcpListener;

/// Whether we run under CI (`CI=true`), where a missing outside program is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Decide what to do when an outside program a test needs is missing: under CI panic with
/// `why`, elsewhere print it and return `false` so the test can return early.
///
/// # Panics
/// Under `CI=true`.
pub fn require(available: bool, why: &str) -> bool {
    if available {
        return true;
    }
    assert!(
        !in_ci(),
        "{why} (CI=true: a missing outside program is a failure, not a skip)"
    );
    eprintln!("skipping: {why}");
    false
}

/// A loopback port that was free a moment ago.
///
/// # Panics
/// When no loopback port can be bound at all.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback port")
}
