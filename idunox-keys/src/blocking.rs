//! Running argon2 off the async executor, with a bound on how many cold verifications run at once.
//!
//! With the `tokio` feature, work goes to tokio's blocking pool when called inside a tokio
//! runtime; otherwise (no feature, or no runtime) it runs inline on the calling thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Run `f` where blocking is allowed. `None` when the worker panicked or was cancelled.
pub(crate) async fn run_blocking<R, F>(f: F) -> Option<R>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    #[cfg(feature = "tokio")]
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            return tokio::task::spawn_blocking(f).await.ok();
        }
    }
    Some(f())
}

/// A counting limit on concurrent cold verifications. Acquiring never waits: past the limit the
/// caller is refused at once (`503` + `Retry-After` at the HTTP edge), so a flood of wrong
/// secrets cannot queue unbounded argon2 work or memory.
#[derive(Debug, Clone)]
pub(crate) struct ColdLimiter {
    in_flight: Arc<AtomicUsize>,
    max: usize,
}

/// Held while one cold verification runs.
#[derive(Debug)]
pub(crate) struct ColdPermit(Arc<AtomicUsize>);

impl ColdLimiter {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            in_flight: Arc::new(AtomicUsize::new(0)),
            max: max.max(1),
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    pub(crate) fn try_acquire(&self) -> Option<ColdPermit> {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| ColdPermit(Arc::clone(&self.in_flight)))
    }
}

impl Drop for ColdPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The default limit: eight per available core (each default argon2 run holds 19 MiB).
pub(crate) fn default_cold_limit() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from) * 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_refuses_past_max_and_frees_on_drop() {
        let l = ColdLimiter::new(2);
        let a = l.try_acquire().unwrap();
        let _b = l.try_acquire().unwrap();
        assert!(l.try_acquire().is_none());
        drop(a);
        assert!(l.try_acquire().is_some());
    }
}
