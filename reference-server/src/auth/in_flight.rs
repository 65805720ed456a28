//! At most a few requests of one kind in flight per holder; past it 429 `too_many_requests` with
//! `Retry-After: 1` at once, never a wait. Two kinds use it:
//!
//! - password checks (sign-in, password change): at most [`MAX_PER_CLIENT`] per client address
//!   ([`ClientIp::bucket`]; [`InFlight::sign_ins`]), so one client cannot take every
//!   password-verification slot, however many connections it opens;
//! - staff listings across tenants: at most [`MAX_SEARCHES_PER_STAFF`] per staff member
//!   ([`InFlight::staff_searches`]), so one signed-in staff member cannot take every pooled
//!   database connection with searches that read every key (see
//!   [`crate::routes::admin::credentials`]).
//!
//! The place is held by an [`Entered`] and freed when it is dropped, however the request ends
//! (answer, error, or the handler's future dropped). Entries exist only while a request is in
//! flight, so the map holds at most one entry per request being served.
//!
//! [`ClientIp::bucket`]: crate::guards::ClientIp::bucket

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use rocket::http::Status;

use crate::error::ApiError;

/// Password checks one client address may have in flight.
pub const MAX_PER_CLIENT: u32 = 2;

/// Listings across tenants one staff member may have in flight: one, what a person searching
/// needs (the admin page drops a search's answer once a newer one is asked for).
pub const MAX_SEARCHES_PER_STAFF: u32 = 1;

/// The per-holder counts of one kind of request.
#[derive(Debug)]
pub struct InFlight {
    counts: Mutex<HashMap<String, u32>>,
    max: u32,
    refusal: &'static str,
}

/// One check in flight; leaving it (drop) frees the place.
#[derive(Debug)]
pub struct Entered<'a> {
    owner: &'a InFlight,
    bucket: String,
}

impl InFlight {
    /// At most `max` in flight per holder; past it 429 with the sentence `refusal`.
    pub fn new(max: u32, refusal: &'static str) -> Self {
        Self {
            counts: Mutex::default(),
            max,
            refusal,
        }
    }

    /// Password checks, per client address: [`MAX_PER_CLIENT`].
    pub fn sign_ins() -> Self {
        Self::new(
            MAX_PER_CLIENT,
            "Too many sign-ins from this address at once; retry in a second.",
        )
    }

    /// Staff listings across tenants, per staff member: [`MAX_SEARCHES_PER_STAFF`].
    pub fn staff_searches() -> Self {
        Self::new(
            MAX_SEARCHES_PER_STAFF,
            "Another key search of yours is still running; retry in a second, once it has \
             answered.",
        )
    }

    /// Enter a request for `bucket` (a client address, a staff id).
    ///
    /// # Errors
    /// 429 `too_many_requests` with `Retry-After: 1` when `bucket` has the most in flight
    /// already.
    pub fn enter(&self, bucket: &str) -> Result<Entered<'_>, ApiError> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.entry(bucket.to_owned()).or_insert(0);
        if *n >= self.max {
            return Err(
                ApiError::new(Status::TooManyRequests, "too_many_requests", self.refusal)
                    .retry_after(1),
            );
        }
        *n += 1;
        Ok(Entered {
            owner: self,
            bucket: bucket.to_owned(),
        })
    }

    /// How many holders have a request in flight.
    pub fn clients(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let mut counts = self
            .owner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.bucket) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.bucket);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_per_client_then_refused_and_freed_on_drop() {
        let f = InFlight::sign_ins();
        let a = f.enter("192.0.2.1").unwrap();
        let _b = f.enter("192.0.2.1").unwrap();
        let refused = f.enter("192.0.2.1").unwrap_err();
        assert_eq!((refused.status.code, refused.retry_after), (429, Some(1)));
        let _other = f.enter("192.0.2.2").unwrap();
        drop(a);
        let _c = f.enter("192.0.2.1").unwrap();
        drop((_b, _c, _other));
        assert_eq!(f.clients(), 0, "no entry outlives its checks");
    }

    #[test]
    fn one_search_per_staff_member_freed_when_its_future_is_dropped() {
        let f = InFlight::staff_searches();
        let a = f.enter("stf_a").unwrap();
        let refused = f.enter("stf_a").unwrap_err();
        assert_eq!(
            (refused.status.code, refused.code, refused.retry_after),
            (429, "too_many_requests", Some(1))
        );
        assert!(refused.message.contains("search"), "{}", refused.message);
        let b = f.enter("stf_b").unwrap();
        drop(a);
        // A request whose future is dropped half-way (client gone, server stopping) frees it.
        let held = async {
            let _entered = f.enter("stf_a").unwrap();
            std::future::pending::<()>().await;
        };
        let mut held = Box::pin(held);
        let waker = std::task::Waker::noop();
        let _ = held
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker));
        assert!(f.enter("stf_a").is_err(), "held by the pending request");
        drop(held);
        drop((f.enter("stf_a").unwrap(), b));
        assert_eq!(f.clients(), 0);
    }
}
