//! A cooperative, thread-safe abort token.
//!
//! Cloning shares the flag: trigger it from any thread and every scan holding a clone stops at
//! its next boundary check (commit, pack task, chunk window). A [`child`](AbortToken::child)
//! token is aborted when it or its parent is, so a caller's token shared by several scans can
//! stop them all while each scan can still be stopped alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
struct Inner {
    flag: AtomicBool,
    parent: Option<AbortToken>,
}

#[derive(Clone, Debug, Default)]
pub struct AbortToken(Arc<Inner>);

impl AbortToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new token that reads as aborted when it is aborted or when `self` is; aborting the
    /// child leaves `self` untouched.
    pub fn child(&self) -> Self {
        AbortToken(Arc::new(Inner {
            flag: AtomicBool::new(false),
            parent: Some(self.clone()),
        }))
    }

    /// Request an abort. Idempotent; safe from any thread (and from a signal-handling thread).
    pub fn abort(&self) {
        self.0.flag.store(true, Ordering::Release);
    }

    pub fn is_aborted(&self) -> bool {
        self.0.flag.load(Ordering::Acquire)
            || self.0.parent.as_ref().is_some_and(|p| p.is_aborted())
    }
}

#[cfg(test)]
mod tests {
    use super::AbortToken;

    #[test]
    fn child_sees_parent_but_not_the_reverse() {
        let parent = AbortToken::new();
        let a = parent.child();
        let b = parent.child();
        a.abort();
        assert!(a.is_aborted());
        assert!(!b.is_aborted());
        assert!(!parent.is_aborted());
        parent.abort();
        assert!(b.is_aborted());
        assert!(parent.clone().is_aborted());
    }
}
