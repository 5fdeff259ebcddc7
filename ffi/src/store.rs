//! Persistence for C callers: the built-in SQLite store by path, or the caller's own store as a
//! vtable (`scangit_store_methods`, in the style of libgit2's ODB backends) behind
//! [`scangit_core::store::PersistenceStore`].
//!
//! Memory ownership is one-way per call: everything the library passes to a callback (scope,
//! ids, write ops) is borrowed for that call; everything the store hands back (watermarks through
//! the `emit` callback, the `seen` flags in the library's array) is copied before the callback
//! returns. Calls into one C store are serialized by a lock, so a store never sees two calls at
//! once; they come from the thread that called `scangit_scan` (several threads when several
//! scans share the store).
//!
//! A callback's non-zero status fails the scan with that status (a value outside the enum
//! becomes `SCANGIT_STORE`) and nothing is persisted by the scan.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use gix_hash::ObjectId;
use parking_lot::Mutex;
use scangit_core::ScanError;
use scangit_core::StoreRef;
use scangit_core::store::codec::{WriteOp, decode_watermark_fields};
use scangit_core::store::{
    FinalizeOutput, PersistenceStore, RefWatermark, Scope, SqliteStore, StoreError,
};

use crate::event::{scangit_outcome, scangit_str};
use crate::status::{FfiError, FfiResult, guard, guard_void, scangit_status};
use crate::util::{Sized_, init_sized, non_null, read_sized, req_str, write_out};

/// A persistence store: the built-in SQLite file or a caller's vtable. Shareable: scans on
/// several threads may use one store at the same time.
pub struct scangit_store {
    pub(crate) store: StoreRef,
}

/// Borrowed bytes: `len` bytes at `ptr`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_bytes {
    pub ptr: *const u8,
    pub len: usize,
}

impl scangit_bytes {
    pub(crate) fn of(b: &[u8]) -> Self {
        Self {
            ptr: b.as_ptr(),
            len: b.len(),
        }
    }
}

/// What persisted state is keyed by: the repository's id and the hash of the rules. Every key of
/// a batch begins with `encoded` (see the key layout in the README's "C API" section).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_scope {
    pub encoded: scangit_bytes,
    pub repo_id: scangit_str,
    pub rules_hash: [u8; 32],
}

/// One key/value write of a finalize batch; keys and values are opaque byte strings.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_write_op {
    pub key: scangit_bytes,
    pub value: scangit_bytes,
}

/// One finalize batch, to be applied atomically: all of it or nothing.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_batch {
    pub outcome: scangit_outcome,
    /// Blob contexts, findings, seen blobs: keep them all (data ops are monotone: set unions).
    pub data_ops: *const scangit_write_op,
    pub data_op_count: usize,
    /// Ref watermarks (empty for a partial scan). Apply one only if its `scan_seq` is at least
    /// the stored one for that ref (`scangit_watermark_op_decode` reads them).
    pub watermark_ops: *const scangit_write_op,
    pub watermark_op_count: usize,
}

/// Given to `load_watermarks`: call it once per live watermark (deleted ones excluded). The
/// library copies `ref_name` (UTF-8, `ref_name_len` bytes) and `tip` (`tip_len` = 20 or 32
/// bytes) before returning; it returns `SCANGIT_OK` or `SCANGIT_INVALID_ARGUMENT`.
pub type scangit_watermark_emit = unsafe extern "C" fn(
    emit_ctx: *mut c_void,
    ref_name: *const c_char,
    ref_name_len: usize,
    tip: *const u8,
    tip_len: usize,
    scan_seq: u64,
) -> c_int;

/// A caller's store. Initialize with `scangit_store_methods_init(&m, sizeof m)`, set the
/// callbacks, pass to `scangit_store_new`. Each callback returns `SCANGIT_OK` or a failure
/// status; calls are serialized (never concurrent for one store).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_store_methods {
    /// `sizeof(scangit_store_methods)`, set by `scangit_store_methods_init`.
    pub size: usize,
    /// Optional. A sequence number for a scan about to start, larger than any handed out before
    /// for `scope`. NULL: the wall clock in nanoseconds.
    pub begin_scan: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            scope: *const scangit_scope,
            scan_seq: *mut u64,
        ) -> c_int,
    >,
    /// Required. Report each live watermark of `scope` through `emit(emit_ctx, ...)`.
    pub load_watermarks: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            scope: *const scangit_scope,
            emit: scangit_watermark_emit,
            emit_ctx: *mut c_void,
        ) -> c_int,
    >,
    /// Required. For each of `count` ids (`id_len` bytes each, contiguous in `ids`), set
    /// `seen[i]` to 1 if a committed batch of `scope` held its seen-blob key (`seen` is zeroed).
    pub seen_blobs: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            scope: *const scangit_scope,
            ids: *const u8,
            id_len: usize,
            count: usize,
            seen: *mut u8,
        ) -> c_int,
    >,
    /// Required. Apply `batch` atomically; on failure keep nothing of it.
    pub commit: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            scope: *const scangit_scope,
            batch: *const scangit_batch,
        ) -> c_int,
    >,
    /// Optional. Called once, when the store is freed and no scan uses it any more.
    pub destroy: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

impl Default for scangit_store_methods {
    fn default() -> Self {
        Self {
            size: std::mem::size_of::<Self>(),
            begin_scan: None,
            load_watermarks: None,
            seen_blobs: None,
            commit: None,
            destroy: None,
        }
    }
}

impl Sized_ for scangit_store_methods {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    const NAME: &'static str = "scangit_store_methods";
    fn set_size(&mut self, size: usize) {
        self.size = size;
    }
}

/// A decoded watermark op (pointers into the op's key and value).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_watermark {
    /// The ref name (UTF-8).
    pub name: scangit_str,
    /// 1 when the ref is gone (keep a tombstone with `scan_seq`), 0 when set to `tip`.
    pub deleted: c_int,
    pub scan_seq: u64,
    /// The tip's object id bytes (20 or 32); NULL when `deleted`.
    pub tip: scangit_bytes,
}

thread_local! {
    /// The status a store callback failed with during the current scan on this thread (store
    /// calls come from the thread that called `scangit_scan`).
    static STORE_FAILURE: Cell<Option<scangit_status>> = const { Cell::new(None) };
}

pub(crate) fn take_store_failure() -> Option<scangit_status> {
    STORE_FAILURE.with(|c| c.take())
}

#[derive(Debug)]
struct CallbackFailed {
    method: &'static str,
    status: c_int,
}

impl std::fmt::Display for CallbackFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "store callback {} returned status {}",
            self.method, self.status
        )
    }
}

impl std::error::Error for CallbackFailed {}

/// The store adapter over a C vtable.
struct CStore {
    m: scangit_store_methods,
    user_data: *mut c_void,
    lock: Mutex<()>,
}

// SAFETY: the library serializes every call into the store with `lock`, so the C store is
// never entered concurrently; the header says calls may come from different threads.
unsafe impl Send for CStore {}
// SAFETY: as above.
unsafe impl Sync for CStore {}

impl Drop for CStore {
    fn drop(&mut self) {
        if let Some(destroy) = self.m.destroy {
            // SAFETY: the caller's destructor for its own user data, called exactly once.
            unsafe { destroy(self.user_data) };
        }
    }
}

/// The scope as C sees it; `encoded` must outlive the view.
fn scope_view<'a>(scope: &'a Scope, encoded: &'a [u8]) -> scangit_scope {
    scangit_scope {
        encoded: scangit_bytes::of(encoded),
        repo_id: scangit_str::of(scope.repo_id.as_bytes()),
        rules_hash: scope.rules_hash,
    }
}

fn check(method: &'static str, rc: c_int) -> Result<(), StoreError> {
    if rc == 0 {
        return Ok(());
    }
    let status = scangit_status::from_int(rc).unwrap_or(scangit_status::SCANGIT_STORE);
    STORE_FAILURE.with(|c| {
        if c.get().is_none() {
            c.set(Some(status));
        }
    });
    Err(StoreError::backend(
        "C store",
        CallbackFailed { method, status: rc },
    ))
}

struct EmitCtx {
    out: Vec<RefWatermark>,
    error: Option<String>,
}

unsafe extern "C" fn emit_watermark(
    ctx: *mut c_void,
    name: *const c_char,
    name_len: usize,
    tip: *const u8,
    tip_len: usize,
    scan_seq: u64,
) -> c_int {
    let r = catch_unwind(AssertUnwindSafe(|| -> Result<RefWatermark, String> {
        if name.is_null() || tip.is_null() {
            return Err("emit: ref_name or tip is NULL".into());
        }
        // SAFETY: non-null; the store promises `name_len` readable bytes for the call.
        let name = unsafe { std::slice::from_raw_parts(name.cast::<u8>(), name_len) };
        let name = std::str::from_utf8(name).map_err(|_| "emit: ref_name is not UTF-8")?;
        if tip_len != 20 && tip_len != 32 {
            return Err(format!("emit: tip_len {tip_len} is not 20 or 32"));
        }
        // SAFETY: non-null; the store promises `tip_len` readable bytes for the call.
        let tip = unsafe { std::slice::from_raw_parts(tip, tip_len) };
        let tip = ObjectId::try_from(tip).map_err(|e| format!("emit: bad tip: {e}"))?;
        Ok(RefWatermark {
            name: name.to_owned(),
            tip,
            scan_seq,
        })
    }));
    if ctx.is_null() {
        return scangit_status::SCANGIT_INVALID_ARGUMENT as c_int;
    }
    // SAFETY: `ctx` is the EmitCtx the library passed to load_watermarks, live for that call.
    let ctx = unsafe { &mut *ctx.cast::<EmitCtx>() };
    match r {
        Ok(Ok(w)) => {
            ctx.out.push(w);
            0
        }
        Ok(Err(e)) => {
            ctx.error.get_or_insert(e);
            scangit_status::SCANGIT_INVALID_ARGUMENT as c_int
        }
        Err(_) => {
            ctx.error.get_or_insert("emit: internal error".into());
            scangit_status::SCANGIT_INTERNAL as c_int
        }
    }
}

impl PersistenceStore for CStore {
    fn begin_scan(&self, scope: &Scope) -> Result<u64, StoreError> {
        let Some(f) = self.m.begin_scan else {
            return wall_clock_seq();
        };
        let enc = scope.encode();
        let view = scope_view(scope, &enc);
        let mut seq = 0u64;
        let _g = self.lock.lock();
        // SAFETY: the caller's callback; `view` and `seq` live for the call.
        check("begin_scan", unsafe { f(self.user_data, &view, &mut seq) })?;
        Ok(seq)
    }

    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError> {
        let f = self
            .m
            .load_watermarks
            .expect("checked in scangit_store_new");
        let enc = scope.encode();
        let view = scope_view(scope, &enc);
        let mut ctx = EmitCtx {
            out: Vec::new(),
            error: None,
        };
        let _g = self.lock.lock();
        // SAFETY: the caller's callback; `view` and `ctx` live for the call, and `emit_watermark`
        // only dereferences `ctx` as the EmitCtx it is.
        let rc = unsafe {
            f(
                self.user_data,
                &view,
                emit_watermark,
                (&raw mut ctx).cast::<c_void>(),
            )
        };
        check("load_watermarks", rc)?;
        if let Some(e) = ctx.error {
            return check("load_watermarks", scangit_status::SCANGIT_STORE as c_int)
                .and(Err(StoreError::Corrupt(e)));
        }
        let mut out = ctx.out;
        out.sort();
        Ok(out)
    }

    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError> {
        let f = self.m.seen_blobs.expect("checked in scangit_store_new");
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let id_len = ids[0].as_slice().len();
        if ids.iter().any(|id| id.as_slice().len() != id_len) {
            return Err(StoreError::InvalidBatch("ids of mixed hash kinds".into()));
        }
        let flat: Vec<u8> = ids.iter().flat_map(|id| id.as_slice()).copied().collect();
        let mut seen = vec![0u8; ids.len()];
        let enc = scope.encode();
        let view = scope_view(scope, &enc);
        let _g = self.lock.lock();
        // SAFETY: the caller's callback; `flat` holds `ids.len() * id_len` bytes and `seen`
        // `ids.len()` writable bytes, both live for the call.
        let rc = unsafe {
            f(
                self.user_data,
                &view,
                flat.as_ptr(),
                id_len,
                ids.len(),
                seen.as_mut_ptr(),
            )
        };
        check("seen_blobs", rc)?;
        Ok(seen.into_iter().map(|s| s != 0).collect())
    }

    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
        let f = self.m.commit.expect("checked in scangit_store_new");
        let ops = |v: &[WriteOp]| -> Vec<scangit_write_op> {
            v.iter()
                .map(|op| scangit_write_op {
                    key: scangit_bytes::of(&op.key),
                    value: scangit_bytes::of(&op.value),
                })
                .collect()
        };
        let (data, marks) = (ops(&output.data_ops), ops(&output.watermark_ops));
        let batch = scangit_batch {
            outcome: output.outcome.into(),
            data_ops: data.as_ptr(),
            data_op_count: data.len(),
            watermark_ops: marks.as_ptr(),
            watermark_op_count: marks.len(),
        };
        let enc = scope.encode();
        let view = scope_view(scope, &enc);
        let _g = self.lock.lock();
        // SAFETY: the caller's callback; the batch, its op arrays and the bytes they point to
        // (borrowed from `output`) live for the call.
        check("commit", unsafe { f(self.user_data, &view, &batch) })
    }
}

fn wall_clock_seq() -> Result<u64, StoreError> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64))
}

/// Fill `methods` with defaults (every callback NULL) and `methods->size = size`; pass
/// `sizeof(*methods)`. Thread-safe.
///
/// # Safety
/// `methods` is NULL or valid for writes of `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_store_methods_init(
    methods: *mut scangit_store_methods,
    size: usize,
) -> scangit_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { init_sized(methods, size) })
}

/// A store backed by the caller's callbacks, in `*out` (free with `scangit_store_free`).
/// `methods` is copied; `user_data` is passed to every callback and to `destroy`. On failure
/// nothing is kept and `destroy` is not called. Thread-safe.
///
/// # Safety
/// `methods` is NULL or a size-prefixed `scangit_store_methods`; `out` is NULL or writable; the
/// callbacks stay callable with `user_data` until `destroy` (or until the store is freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_store_new(
    methods: *const scangit_store_methods,
    user_data: *mut c_void,
    out: *mut *mut scangit_store,
) -> scangit_status {
    guard(|| {
        non_null(out, "out")?;
        // SAFETY: caller's promise about the struct.
        let m = unsafe { read_sized(methods) }?;
        for (name, missing) in [
            ("load_watermarks", m.load_watermarks.is_none()),
            ("seen_blobs", m.seen_blobs.is_none()),
            ("commit", m.commit.is_none()),
        ] {
            if missing {
                return Err(FfiError::invalid(format!(
                    "scangit_store_methods.{name} is NULL"
                )));
            }
        }
        let store = StoreRef::new(CStore {
            m,
            user_data,
            lock: Mutex::new(()),
        });
        let handle = Box::into_raw(Box::new(scangit_store { store }));
        // SAFETY: caller's promise.
        unsafe { write_out(out, "out", handle) }
    })
}

/// Open (or create) the built-in SQLite store at `path`, in `*out` (free with
/// `scangit_store_free`). Errors: `SCANGIT_STORE`, `SCANGIT_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_store_open_sqlite(
    path: *const c_char,
    out: *mut *mut scangit_store,
) -> scangit_status {
    guard(|| {
        non_null(out, "out")?;
        // SAFETY: caller's promise.
        let path = unsafe { req_str(path, "path") }?;
        let store = SqliteStore::open(path).map_err(ScanError::from)?;
        let handle = Box::into_raw(Box::new(scangit_store {
            store: StoreRef::new(store),
        }));
        // SAFETY: caller's promise.
        unsafe { write_out(out, "out", handle) }
    })
}

/// Free a store (NULL is a no-op). A C store's `destroy` runs now, or when the last scan using
/// the store returns.
///
/// # Safety
/// `store` is NULL or a live store, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_store_free(store: *mut scangit_store) {
    if !store.is_null() {
        // SAFETY: made by Box::into_raw in scangit_store_new / _open_sqlite; given back once.
        guard_void(|| drop(unsafe { Box::from_raw(store) }));
    }
}

/// Decode a watermark op of a batch (`batch->watermark_ops[i]`) into `*out`, whose pointers
/// point into `op`'s key and value. Errors: `SCANGIT_INVALID_ARGUMENT` (NULL, or not a
/// watermark op of `scope`). Thread-safe.
///
/// # Safety
/// `scope`, `op` are NULL or valid (their byte ranges readable); `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_watermark_op_decode(
    scope: *const scangit_scope,
    op: *const scangit_write_op,
    out: *mut scangit_watermark,
) -> scangit_status {
    guard(|| {
        non_null(scope, "scope")?;
        non_null(op, "op")?;
        non_null(out, "out")?;
        // SAFETY: non-null, valid per the caller.
        let (scope, op) = unsafe { (&*scope, &*op) };
        // SAFETY: the byte ranges are readable per the caller.
        let (enc, key, value) = unsafe {
            (
                bytes(scope.encoded, "scope")?,
                bytes(op.key, "key")?,
                bytes(op.value, "value")?,
            )
        };
        let w = decode_watermark_fields(enc, key, value)
            .map_err(|e| FfiError::invalid(format!("not a watermark op of this scope: {e}")))?;
        let decoded = scangit_watermark {
            name: scangit_str::of(w.name.as_bytes()),
            deleted: c_int::from(w.tip.is_none()),
            scan_seq: w.scan_seq,
            tip: w.tip.map_or(
                scangit_bytes {
                    ptr: std::ptr::null(),
                    len: 0,
                },
                scangit_bytes::of,
            ),
        };
        // SAFETY: caller's promise.
        unsafe { write_out(out, "out", decoded) }
    })
}

/// # Safety
/// `b.ptr` is NULL (then `b.len` must be 0) or points to `b.len` readable bytes.
pub(crate) unsafe fn bytes<'a>(b: scangit_bytes, what: &str) -> FfiResult<&'a [u8]> {
    if b.ptr.is_null() {
        return if b.len == 0 {
            Ok(&[])
        } else {
            Err(FfiError::invalid(format!("{what}.ptr is NULL")))
        };
    }
    // SAFETY: non-null and readable for `len` bytes (caller's promise).
    Ok(unsafe { std::slice::from_raw_parts(b.ptr, b.len) })
}
