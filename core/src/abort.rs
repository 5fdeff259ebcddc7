//! A cooperative, thread-safe abort token.
//!
//! Cloning shares the flag: trigger it from any thread and every scan holding a clone stops at
//! its next boundary check (commit, pack task, chunk window).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Debug, Default)]
pub struct AbortToken(Arc<AtomicBool>);

impl AbortToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// Request an abort. Idempotent; safe from any thread (and from a signal-handling thread).
    pub fn abort(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_aborted(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// The underlying flag, for APIs in the gitoxide style that take `&AtomicBool`.
    pub fn flag(&self) -> &AtomicBool {
        &self.0
    }
}
