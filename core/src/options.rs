//! Scan options: a plain struct with `Default`, named as in the cross-language contract.

use std::path::PathBuf;

use std::sync::Arc;

use crate::AbortToken;
use crate::store::PersistenceStore;

/// A shared persistence store (the embedded SQLite store, the in-memory one, or a caller's).
#[derive(Clone)]
pub struct StoreRef(pub Arc<dyn PersistenceStore>);

impl std::fmt::Debug for StoreRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreRef(..)")
    }
}

impl StoreRef {
    pub fn new(store: impl PersistenceStore + 'static) -> Self {
        Self(Arc::new(store))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScanMode {
    /// Each unique reachable blob once, decoded in pack order.
    #[default]
    OdbBlob,
    /// Per-commit tree diffs: the blobs each selected commit introduces, candidates spilled to
    /// disk beyond the memory budget.
    DiffHistory,
}

impl ScanMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanMode::OdbBlob => "odb-blob",
            ScanMode::DiffHistory => "diff-history",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "odb-blob" => Some(ScanMode::OdbBlob),
            "diff-history" => Some(ScanMode::DiffHistory),
            _ => None,
        }
    }
}

/// Default largest blob scanned: 256 MiB.
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 256 << 20;
/// Default memory budget for decode caches and buffers: 1 GiB.
pub const DEFAULT_MEMORY_BUDGET_BYTES: u64 = 1 << 30;
/// Default chunk window of the RingChunker: 1 MiB.
pub const DEFAULT_CHUNK_BYTES: usize = 1 << 20;

#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub mode: ScanMode,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Put the raw secret text in finding events.
    pub reveal_secrets: bool,
    /// Blobs larger than this are skipped with reason `too_large`.
    pub max_blob_bytes: u64,
    /// Upper bound for decode caches; a blob whose decode needs more is skipped (`too_large`).
    pub memory_budget_bytes: u64,
    pub abort: Option<AbortToken>,
    /// Ref globs (`refs/heads/*`, `refs/tags/v*`, `HEAD`); empty = every ref.
    pub ref_include: Vec<String>,
    pub ref_exclude: Vec<String>,
    /// Also scan blobs reachable from no ref (dangling, unreachable).
    pub all_objects: bool,
    /// Leave out commits reachable from this revision (`--since REV`): scan what came after.
    pub since: Option<String>,
    /// Scan only the commits of `A..B` (reachable from `B`, not from `A`); replaces the refs
    /// as the start set.
    pub range: Option<String>,
    /// diff-history: diff merges against their first parent only (default: a blob counts only
    /// where it differs from every parent).
    pub first_parent_only: bool,
    /// RingChunker window; raised to the engine's minimum when smaller.
    pub chunk_bytes: usize,
    /// Key for finding fingerprints; `None` uses the library's fixed default key.
    pub fingerprint_key: Option<[u8; 32]>,
    /// Minimum interval between progress events.
    pub progress_interval: std::time::Duration,
    /// Directory for temporary files (diff-history spills); `None` = the system default.
    pub spill_dir: Option<PathBuf>,
    /// Persistence: with a store, a scan walks only commits after the stored ref watermarks,
    /// skips blobs already scanned under the same rules, and commits its results atomically.
    pub store: Option<StoreRef>,
    /// How the store names this repository; `None` = the canonical path of its git directory.
    pub repo_id: Option<String>,
    /// Keep raw secrets in the store (off by default: stores hold fingerprints only).
    pub keep_secrets: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            mode: ScanMode::OdbBlob,
            threads: 0,
            reveal_secrets: false,
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET_BYTES,
            abort: None,
            ref_include: Vec::new(),
            ref_exclude: Vec::new(),
            all_objects: false,
            since: None,
            range: None,
            first_parent_only: false,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            fingerprint_key: None,
            progress_interval: std::time::Duration::from_millis(250),
            spill_dir: None,
            store: None,
            repo_id: None,
            keep_secrets: false,
        }
    }
}

impl ScanOptions {
    /// Threads to use after resolving 0 to the core count.
    pub fn effective_threads(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            self.threads
        }
    }
}
