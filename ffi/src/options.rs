//! `scangit_options`: the contract's scan options as a size-prefixed C struct.

use std::ffi::{c_char, c_int};
use std::sync::Arc;

use scangit_core::options::{DEFAULT_MAX_BLOB_BYTES, DEFAULT_MEMORY_BUDGET_BYTES};
use scangit_core::{Engine, RulesSpec, ScanMode, ScanRequest, StoreSpec};

use crate::handles::scangit_abort;
use crate::status::{FfiResult, guard, scangit_status};
use crate::store::scangit_store;
use crate::util::{Sized_, init_sized, opt_str};

/// `scangit_options.mode`: each unique reachable blob once, in pack order (the default).
pub const SCANGIT_MODE_ODB_BLOB: u32 = 0;
/// `scangit_options.mode`: per-commit tree diffs.
pub const SCANGIT_MODE_DIFF_HISTORY: u32 = 1;

/// Scan options. Initialize with `scangit_options_init(&o, sizeof o)`, then set fields.
/// Pointers are borrowed for the duration of `scangit_scan` only.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_options {
    /// `sizeof(scangit_options)` as the caller compiled it; set by `scangit_options_init`.
    pub size: usize,
    /// `SCANGIT_MODE_ODB_BLOB` (default) or `SCANGIT_MODE_DIFF_HISTORY`.
    pub mode: u32,
    /// Worker threads; 0 = one per core.
    pub threads: u32,
    /// Non-zero: put the raw secret in `scangit_finding.secret`.
    pub reveal_secrets: c_int,
    /// Non-zero: also scan objects reachable from no ref.
    pub all_objects: c_int,
    /// Blobs larger than this are skipped (`too_large`); 0 = the library default (256 MiB).
    pub max_blob_bytes: u64,
    /// Bound for decode caches; 0 = the library default (1 GiB).
    pub memory_budget_bytes: u64,
    /// NULL, or a token that aborts the scan when triggered.
    pub abort: *const scangit_abort,
    /// NULL (no persistence), or a store from `scangit_store_open_sqlite` / `scangit_store_new`.
    pub store: *const scangit_store,
    /// How the store names this repository; NULL = the canonical path of its git directory.
    pub repo_id: *const c_char,
    /// Non-zero: keep raw secrets in the store (default: fingerprints only).
    pub keep_secrets: c_int,
    /// NULL, or a revision: leave out commits reachable from it.
    pub since: *const c_char,
    /// NULL, or `A..B`: scan only those commits.
    pub range: *const c_char,
}

impl Default for scangit_options {
    fn default() -> Self {
        Self {
            size: std::mem::size_of::<Self>(),
            mode: SCANGIT_MODE_ODB_BLOB,
            threads: 0,
            reveal_secrets: 0,
            all_objects: 0,
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET_BYTES,
            abort: std::ptr::null(),
            store: std::ptr::null(),
            repo_id: std::ptr::null(),
            keep_secrets: 0,
            since: std::ptr::null(),
            range: std::ptr::null(),
        }
    }
}

impl Sized_ for scangit_options {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    const NAME: &'static str = "scangit_options";
    fn set_size(&mut self, size: usize) {
        self.size = size;
    }
}

/// Fill `options` with the defaults and `options->size = size`; pass `sizeof(*options)`.
/// Thread-safe.
///
/// # Safety
/// `options` is NULL or valid for writes of `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_options_init(
    options: *mut scangit_options,
    size: usize,
) -> scangit_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { init_sized(options, size) })
}

/// A C byte count (0 = the library default) as the request's count; past `i64::MAX` bytes is
/// unlimited in practice.
fn size_or_default(n: u64) -> Option<i64> {
    (n != 0).then(|| i64::try_from(n).unwrap_or(i64::MAX))
}

impl scangit_options {
    /// The scan these options ask for, with `engine`'s rules: core's one request type, which
    /// checks the values. Pointers must be live (the caller's promise for `scangit_scan`).
    pub(crate) fn request(&self, engine: Arc<Engine>) -> FfiResult<ScanRequest> {
        let mode = match self.mode {
            SCANGIT_MODE_ODB_BLOB => ScanMode::OdbBlob.as_str().to_owned(),
            SCANGIT_MODE_DIFF_HISTORY => ScanMode::DiffHistory.as_str().to_owned(),
            // Not a mode: core refuses it, naming the value.
            m => m.to_string(),
        };
        // SAFETY: `repo_id` is NULL or a NUL-terminated string live for the call (documented).
        let repo_id = unsafe { opt_str(self.repo_id, "scangit_options.repo_id") }?;
        // SAFETY: `since` is NULL or a NUL-terminated string live for the call (documented).
        let since = unsafe { opt_str(self.since, "scangit_options.since") }?;
        // SAFETY: `range` is NULL or a NUL-terminated string live for the call (documented).
        let range = unsafe { opt_str(self.range, "scangit_options.range") }?;
        // SAFETY: NULL or a live handle for the call (documented).
        let abort = unsafe { self.abort.as_ref() }.map(|a| a.token.clone());
        // SAFETY: NULL or a live handle for the call (documented).
        let store = unsafe { self.store.as_ref() }
            .map_or(StoreSpec::None, |s| StoreSpec::Store(s.store.clone()));
        Ok(ScanRequest {
            mode: Some(mode),
            threads: Some(i64::from(self.threads)),
            rules: RulesSpec::Engine(engine),
            store,
            reveal_secrets: self.reveal_secrets != 0,
            all_objects: self.all_objects != 0,
            keep_secrets: self.keep_secrets != 0,
            max_blob_bytes: size_or_default(self.max_blob_bytes),
            memory_budget_bytes: size_or_default(self.memory_budget_bytes),
            repo_id: repo_id.map(Into::into),
            since: since.map(Into::into),
            range: range.map(Into::into),
            abort,
            ..ScanRequest::default()
        })
    }
}
