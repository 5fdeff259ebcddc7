//! Persistence: where finalize batches go, and what incremental scans ask before scanning.
//!
//! A [`PersistenceStore`] answers three questions for a [`Scope`] (repo id + rules hash) and
//! takes one atomic write per scan:
//! - [`load_watermarks`](PersistenceStore::load_watermarks): the ref tips a complete scan of this
//!   scope reached;
//! - [`seen_blobs`](PersistenceStore::seen_blobs): which of a batch of blob ids were already
//!   scanned under these rules;
//! - [`commit`](PersistenceStore::commit): write a [`FinalizeOutput`]: data ops and, when the
//!   scan was complete, watermark ops, all or nothing.
//!
//! Invariants every store keeps (and the tests in `core/tests/persist_*.rs` check for ours):
//! - Atomicity: after `commit` returns an error, or the process dies inside it, the store holds
//!   exactly what it held before; readers never see watermarks without their data.
//! - Scoping: nothing written under one scope is visible under another, so changing the rules
//!   re-scans everything.
//! - Newer never loses: a watermark op is applied only if its `scan_seq` is at least the one
//!   stored for that ref (deletions are kept as tombstones with their sequence). Data ops are
//!   monotone (set unions, first-seen findings), so an older scan committing late only adds.
//!
//! The trait is object-safe and speaks in scopes, blob ids and opaque key/value bytes, so C,
//! Python and JavaScript stores can implement it through adapters using the layout documented
//! in [`codec`].

pub mod codec;
#[cfg(any(test, feature = "testing"))]
pub mod failing;
pub mod kv;
pub mod memory;
pub mod seen;
pub mod sqlite;
pub mod stored;

use gix_hash::ObjectId;

use codec::{DecodeError, split_key};
pub use codec::{FinalizeOutput, RefWatermark, Scope};

#[cfg(any(test, feature = "testing"))]
pub use failing::{FailingStore, InjectedFailure, StoreMethod};
pub use kv::{KvBackend, KvStore};
pub use memory::MemoryStore;
pub use sqlite::{SqliteOptions, SqliteStore, StoredFinding};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (I/O, SQLite, a foreign store's own error).
    #[error("{context}: {source}")]
    Backend {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Stored data or a batch does not decode.
    #[error("corrupt store data: {0}")]
    Corrupt(String),
    /// The batch breaks a finalize invariant (unsorted, foreign scope, watermarks when partial).
    #[error("invalid finalize batch: {0}")]
    InvalidBatch(String),
    /// The file was written by a newer version of this library.
    #[error("store schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    /// The file is something else: not SQLite, or another program's database. Nothing in it
    /// was changed.
    #[error("not a scangit store: {0}")]
    Foreign(String),
    /// A fixed-size resource (the 32-bit ordinal space) ran out.
    #[error("store capacity exceeded: {0}")]
    Capacity(String),
}

impl StoreError {
    pub fn backend(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend {
            context: context.into(),
            source: Box::new(source),
        }
    }
}

impl From<DecodeError> for StoreError {
    fn from(e: DecodeError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Persistent state of scans, keyed by [`Scope`]. Shared across worker threads.
pub trait PersistenceStore: Send + Sync {
    /// A sequence number for a scan about to start, larger than any this store handed out before
    /// for `scope`; it becomes [`crate::scan::finalize::FinalizeInput::scan_seq`] and decides which
    /// watermark wins when scans overlap. The default (for stores with no counter of their own)
    /// is the wall clock in nanoseconds since the Unix epoch.
    fn begin_scan(&self, scope: &Scope) -> Result<u64, StoreError> {
        let _ = scope;
        Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64))
    }

    /// Live watermarks of `scope` (tombstones excluded), sorted by ref name.
    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError>;

    /// For each id of the batch, whether it was scanned under `scope`; `result[i]` answers
    /// `ids[i]`. Costs O(ids.len()), whatever the size of the stored set.
    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError>;

    /// Write one finalize batch atomically (see the module invariants). Callers go through
    /// [`persist_finalize_output`], which validates the batch first.
    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError>;
}

impl<S: PersistenceStore + ?Sized> PersistenceStore for &S {
    fn begin_scan(&self, scope: &Scope) -> Result<u64, StoreError> {
        (**self).begin_scan(scope)
    }
    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError> {
        (**self).load_watermarks(scope)
    }
    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError> {
        (**self).seen_blobs(scope, ids)
    }
    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
        (**self).commit(scope, output)
    }
}

impl<S: PersistenceStore + ?Sized> PersistenceStore for std::sync::Arc<S> {
    fn begin_scan(&self, scope: &Scope) -> Result<u64, StoreError> {
        (**self).begin_scan(scope)
    }
    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError> {
        (**self).load_watermarks(scope)
    }
    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError> {
        (**self).seen_blobs(scope, ids)
    }
    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
        (**self).commit(scope, output)
    }
}

/// Check a batch against the finalize invariants, then commit it. A batch that fails the check
/// never reaches the store, so a foreign store may trust what it receives.
pub fn persist_finalize_output(
    store: &dyn PersistenceStore,
    scope: &Scope,
    output: &FinalizeOutput,
) -> Result<(), StoreError> {
    validate_batch(scope, output)?;
    store.commit(scope, output)
}

/// The finalize invariants a store relies on: keys in this scope and format, strictly
/// increasing within each list, data ops outside the watermark namespace and vice versa, and no
/// watermark ops for a partial scan.
pub fn validate_batch(scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
    use crate::events::Outcome;
    use crate::store::codec::NS_REF_WATERMARK;
    if output.outcome == Outcome::Partial && !output.watermark_ops.is_empty() {
        return Err(StoreError::InvalidBatch(
            "a partial scan carries watermark ops".into(),
        ));
    }
    let scope = scope.encode();
    for (list, watermarks) in [(&output.data_ops, false), (&output.watermark_ops, true)] {
        if !list.windows(2).all(|w| w[0].key < w[1].key) {
            return Err(StoreError::InvalidBatch(
                "ops are not strictly sorted by key".into(),
            ));
        }
        for op in list {
            let (ns, _) =
                split_key(&scope, &op.key).map_err(|e| StoreError::InvalidBatch(e.to_string()))?;
            if (ns == NS_REF_WATERMARK) != watermarks {
                return Err(StoreError::InvalidBatch(format!(
                    "namespace {:?} in the wrong list",
                    String::from_utf8_lossy(&ns)
                )));
            }
        }
    }
    Ok(())
}
