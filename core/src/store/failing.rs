//! A store wrapper that fails on the Nth call of one method, for failure-path tests.
//!
//! The failure is raised before the call reaches the wrapped store, which is exactly what a
//! store that rolled its transaction back looks like from outside: the wrapped store must be
//! left as it was, and the scan must report a store error.

use std::sync::atomic::{AtomicU64, Ordering};

use gix_hash::ObjectId;

use super::{FinalizeOutput, PersistenceStore, RefWatermark, Scope, StoreError};

/// The [`PersistenceStore`] methods, for choosing which one fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreMethod {
    BeginScan,
    LoadWatermarks,
    SeenBlobs,
    Commit,
}

impl StoreMethod {
    fn index(self) -> usize {
        self as usize
    }
}

/// The error a [`FailingStore`] raises (the source of a [`StoreError::Backend`]).
#[derive(Debug, thiserror::Error)]
#[error("injected failure in {method:?} (call {call})")]
pub struct InjectedFailure {
    pub method: StoreMethod,
    pub call: u64,
}

pub struct FailingStore<S> {
    inner: S,
    method: StoreMethod,
    /// 1-based call number that fails; every later call of that method fails too.
    fail_from: u64,
    calls: [AtomicU64; 4],
}

impl<S: PersistenceStore> FailingStore<S> {
    /// Fail the `nth` (1-based) and later calls of `method`; other methods pass through.
    pub fn new(inner: S, method: StoreMethod, nth: u64) -> Self {
        Self {
            inner,
            method,
            fail_from: nth.max(1),
            calls: Default::default(),
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    /// How many times `method` was called, failed calls included.
    pub fn calls(&self, method: StoreMethod) -> u64 {
        self.calls[method.index()].load(Ordering::Relaxed)
    }

    fn enter(&self, method: StoreMethod) -> Result<(), StoreError> {
        let call = self.calls[method.index()].fetch_add(1, Ordering::Relaxed) + 1;
        if method == self.method && call >= self.fail_from {
            Err(StoreError::backend(
                "failing store",
                InjectedFailure { method, call },
            ))
        } else {
            Ok(())
        }
    }
}

impl<S: PersistenceStore> PersistenceStore for FailingStore<S> {
    fn begin_scan(&self, scope: &Scope) -> Result<u64, StoreError> {
        self.enter(StoreMethod::BeginScan)?;
        self.inner.begin_scan(scope)
    }

    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError> {
        self.enter(StoreMethod::LoadWatermarks)?;
        self.inner.load_watermarks(scope)
    }

    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError> {
        self.enter(StoreMethod::SeenBlobs)?;
        self.inner.seen_blobs(scope, ids)
    }

    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
        self.enter(StoreMethod::Commit)?;
        self.inner.commit(scope, output)
    }
}
