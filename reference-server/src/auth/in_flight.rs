//! At most [`MAX_PER_CLIENT`] password checks (sign-in, password change) in flight per client
//! address ([`ClientIp::bucket`]); past it 429 `too_many_requests` with `Retry-After: 1`. So one
//! client cannot take every password-verification slot, however many connections it opens.
//!
//! Entries exist only while a check is in flight, so the map holds at most one entry per request
//! being served.
//!
//! [`ClientIp::bucket`]: crate::guards::ClientIp::bucket

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use rocket::http::Status;

use crate::error::ApiError;

/// Password checks one client address may have in flight.
pub const MAX_PER_CLIENT: u32 = 2;

/// The per-client counts.
#[derive(Debug, Default)]
pub struct InFlight {
    counts: Mutex<HashMap<String, u32>>,
}

/// One check in flight; leaving it (drop) frees the place.
#[derive(Debug)]
pub struct Entered<'a> {
    owner: &'a InFlight,
    bucket: String,
}

impl InFlight {
    /// Enter a check for `bucket`.
    ///
    /// # Errors
    /// 429 with `Retry-After: 1` when the client has [`MAX_PER_CLIENT`] in flight already.
    pub fn enter(&self, bucket: &str) -> Result<Entered<'_>, ApiError> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.entry(bucket.to_owned()).or_insert(0);
        if *n >= MAX_PER_CLIENT {
            return Err(ApiError::new(
                Status::TooManyRequests,
                "too_many_requests",
                "Too many sign-ins from this address at once; retry in a second.",
            )
            .retry_after(1));
        }
        *n += 1;
        Ok(Entered {
            owner: self,
            bucket: bucket.to_owned(),
        })
    }

    /// How many clients have a check in flight.
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
        let f = InFlight::default();
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
}
