//! Key/value stores for C callers: three callbacks over ordered byte-string keys
//! (`scangit_kv_methods`), wrapped in the core's [`KvStore`], which does the key layout, batch
//! checks, "first write wins" for data keys and "newer never loses" for watermarks, as the
//! Python and Node bindings do for their stores.
//!
//! Memory ownership is one-way per call: the keys, prefix and pairs the library passes are
//! borrowed for the call; the store answers through the `scangit_kv_reply` the library passes
//! (`scangit_kv_reply_value`, `_missing`, `_pair`, `_error`), which copies before returning. So
//! nothing allocated on one side is ever freed on the other.
//!
//! Calls into one C backend (one `ctx`) are serialized by a lock shared by every store opened
//! over that `ctx`; commits are serialized by the core's [`shared_commit_lock`] keyed by `ctx`,
//! so concurrent scans into one backend keep "newer never loses".

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use scangit_core::StoreRef;
use scangit_core::store::kv::{KvPairs, shared_commit_lock};
use scangit_core::store::{KvBackend, KvStore, StoreError};

use crate::status::{FfiError, FfiResult, guard, scangit_status};
use crate::store::{bytes, scangit_bytes, scangit_store, scangit_write_op};
use crate::util::{Sized_, init_sized, non_null, read_sized, write_out};

/// A caller's ordered key/value store, for `scangit_store_open_kv`. Initialize with
/// `scangit_kv_methods_init(&m, sizeof m)`, then set `ctx` and the callbacks.
///
/// Every callback gets `ctx` and a `reply` (valid only during the call) and returns
/// `SCANGIT_OK` or any other status to fail: the scan then fails with `SCANGIT_STORE`, whose
/// message names the callback, its status and the message given to `scangit_kv_reply_error`.
/// Keys, prefix and values the library passes are borrowed for the call only; what the store
/// answers through `reply` is copied by the library, so the store frees nothing of the
/// library's and the library nothing of the store's.
///
/// Calls into one `ctx` are serialized by the library (never concurrent, possibly from
/// different threads); a backend shared with other processes must make `write_batch`
/// atomic with respect to them itself.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_kv_methods {
    /// `sizeof(scangit_kv_methods)`, set by `scangit_kv_methods_init`.
    pub size: usize,
    /// The store's own state, passed to every callback and to `destroy`. It also identifies the
    /// store: stores opened over the same `ctx` share their locks (see `scangit_store_open_kv`).
    pub ctx: *mut c_void,
    /// Required. For each of the `count` keys, in order, answer exactly once:
    /// `scangit_kv_reply_value(reply, value, len)` when the key is stored (values may be
    /// empty), `scangit_kv_reply_missing(reply)` when it is not. Any other number of answers
    /// fails the call.
    pub get_many: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            keys: *const scangit_bytes,
            count: usize,
            reply: *mut scangit_kv_reply,
        ) -> c_int,
    >,
    /// Required. Answer every stored pair whose key starts with the `prefix_len` bytes at
    /// `prefix`, in any order, with `scangit_kv_reply_pair`.
    pub scan_prefix: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            prefix: *const u8,
            prefix_len: usize,
            reply: *mut scangit_kv_reply,
        ) -> c_int,
    >,
    /// Required. Store the `count` pairs of `puts` (keys distinct; a stored key is replaced),
    /// all or nothing: when it fails, the store must hold exactly what it held before.
    pub write_batch: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            puts: *const scangit_write_op,
            count: usize,
            reply: *mut scangit_kv_reply,
        ) -> c_int,
    >,
    /// Optional. Called once with `ctx` when the store is freed and no scan uses it any more.
    pub destroy: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
}

impl Default for scangit_kv_methods {
    fn default() -> Self {
        Self {
            size: std::mem::size_of::<Self>(),
            ctx: std::ptr::null_mut(),
            get_many: None,
            scan_prefix: None,
            write_batch: None,
            destroy: None,
        }
    }
}

impl Sized_ for scangit_kv_methods {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    const NAME: &'static str = "scangit_kv_methods";
    fn set_size(&mut self, size: usize) {
        self.size = size;
    }
}

/// Which callback a reply answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReplyKind {
    GetMany,
    ScanPrefix,
    WriteBatch,
}

impl ReplyKind {
    fn method(self) -> &'static str {
        match self {
            ReplyKind::GetMany => "get_many",
            ReplyKind::ScanPrefix => "scan_prefix",
            ReplyKind::WriteBatch => "write_batch",
        }
    }
}

/// Where a `scangit_kv_methods` callback puts its answer (opaque; valid only during the call
/// it is passed to).
pub struct scangit_kv_reply {
    kind: ReplyKind,
    values: Vec<Option<Vec<u8>>>,
    pairs: KvPairs,
    /// Given by the store with `scangit_kv_reply_error`.
    message: Option<String>,
    /// The first wrong use of the reply (fails the call whatever the callback returns).
    misuse: Option<String>,
}

impl scangit_kv_reply {
    fn new(kind: ReplyKind) -> Self {
        Self {
            kind,
            values: Vec::new(),
            pairs: Vec::new(),
            message: None,
            misuse: None,
        }
    }

    /// Check the reply is answering `want`; a wrong use is remembered and fails the call.
    fn expect(&mut self, want: ReplyKind, function: &str) -> FfiResult {
        if self.kind == want {
            return Ok(());
        }
        let message = format!(
            "{function} called in a {} reply (only for {})",
            self.kind.method(),
            want.method()
        );
        self.misuse.get_or_insert_with(|| message.clone());
        Err(FfiError::invalid(message))
    }

    fn misused(&mut self, e: FfiError) -> FfiError {
        self.misuse.get_or_insert_with(|| e.message.clone());
        e
    }
}

/// A callback failed or answered wrongly.
#[derive(Debug)]
struct KvCallbackFailed {
    method: &'static str,
    detail: String,
}

impl std::fmt::Display for KvCallbackFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.detail)
    }
}

impl std::error::Error for KvCallbackFailed {}

fn failed(method: &'static str, detail: String) -> StoreError {
    StoreError::backend("C key-value store", KvCallbackFailed { method, detail })
}

/// The lock serializing calls into the C backend identified by `ctx`, shared by every live
/// store over it (the commit lock is a different one: a commit calls the backend while holding
/// it).
fn shared_call_lock(ctx: usize) -> Arc<Mutex<()>> {
    static LOCKS: Mutex<Option<HashMap<usize, Weak<Mutex<()>>>>> = Mutex::new(None);
    let mut locks = LOCKS.lock();
    let locks = locks.get_or_insert_with(HashMap::new);
    if let Some(lock) = locks.get(&ctx).and_then(Weak::upgrade) {
        return lock;
    }
    locks.retain(|_, w| w.strong_count() > 0);
    let lock = Arc::new(Mutex::new(()));
    locks.insert(ctx, Arc::downgrade(&lock));
    lock
}

/// The [`KvBackend`] over a C vtable.
struct CKvBackend {
    m: scangit_kv_methods,
    calls: Arc<Mutex<()>>,
}

// SAFETY: every call into the C backend holds `calls`, shared by all stores over the same
// `ctx`, so the backend is never entered concurrently; the header says calls may come from
// different threads.
unsafe impl Send for CKvBackend {}
// SAFETY: as above.
unsafe impl Sync for CKvBackend {}

impl Drop for CKvBackend {
    fn drop(&mut self) {
        if let Some(destroy) = self.m.destroy {
            // SAFETY: the caller's destructor for its own ctx, called exactly once (this backend
            // is owned by one store, dropped once).
            unsafe { destroy(self.m.ctx) };
        }
    }
}

impl CKvBackend {
    /// Run one callback with a fresh reply; a non-zero status or a misused reply is an error.
    fn call(
        &self,
        kind: ReplyKind,
        f: impl FnOnce(*mut scangit_kv_reply) -> c_int,
    ) -> Result<scangit_kv_reply, StoreError> {
        let mut reply = scangit_kv_reply::new(kind);
        let rc = {
            let _serial = self.calls.lock();
            f(&raw mut reply)
        };
        let method = kind.method();
        if rc != 0 {
            let status = match scangit_status::from_int(rc) {
                Some(s) => format!("{s:?}"),
                None => "not a scangit_status".into(),
            };
            let message = reply
                .message
                .as_deref()
                .unwrap_or("(no message: see scangit_kv_reply_error)");
            return Err(failed(
                method,
                format!("returned status {rc} ({status}): {message}"),
            ));
        }
        if let Some(misuse) = reply.misuse.take() {
            return Err(failed(method, format!("answered wrongly: {misuse}")));
        }
        Ok(reply)
    }
}

impl KvBackend for CKvBackend {
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let f = self.m.get_many.expect("checked in scangit_store_open_kv");
        let views: Vec<scangit_bytes> = keys.iter().map(|k| scangit_bytes::of(k)).collect();
        let reply = self.call(ReplyKind::GetMany, |reply| {
            // SAFETY: the caller's callback with its own ctx; `views` and the key bytes it
            // points to (borrowed from `keys`) and `reply` live for the call.
            unsafe { f(self.m.ctx, views.as_ptr(), views.len(), reply) }
        })?;
        if reply.values.len() != keys.len() {
            return Err(failed(
                "get_many",
                format!(
                    "answered {} values for {} keys (one scangit_kv_reply_value or \
                     scangit_kv_reply_missing per key)",
                    reply.values.len(),
                    keys.len()
                ),
            ));
        }
        Ok(reply.values)
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<KvPairs, StoreError> {
        let f = self
            .m
            .scan_prefix
            .expect("checked in scangit_store_open_kv");
        let reply = self.call(ReplyKind::ScanPrefix, |reply| {
            // SAFETY: the caller's callback with its own ctx; `prefix` (`prefix.len()` bytes)
            // and `reply` live for the call.
            unsafe { f(self.m.ctx, prefix.as_ptr(), prefix.len(), reply) }
        })?;
        if reply.pairs.iter().any(|(k, _)| !k.starts_with(prefix)) {
            return Err(failed(
                "scan_prefix",
                "answered a key that does not start with the prefix".into(),
            ));
        }
        Ok(reply.pairs)
    }

    fn write_batch(&self, puts: KvPairs) -> Result<(), StoreError> {
        let f = self
            .m
            .write_batch
            .expect("checked in scangit_store_open_kv");
        let ops: Vec<scangit_write_op> = puts
            .iter()
            .map(|(k, v)| scangit_write_op {
                key: scangit_bytes::of(k),
                value: scangit_bytes::of(v),
            })
            .collect();
        self.call(ReplyKind::WriteBatch, |reply| {
            // SAFETY: the caller's callback with its own ctx; `ops` and the bytes it points to
            // (borrowed from `puts`) and `reply` live for the call.
            unsafe { f(self.m.ctx, ops.as_ptr(), ops.len(), reply) }
        })?;
        Ok(())
    }
}

/// Fill `methods` with defaults (`ctx` and every callback NULL) and `methods->size = size`;
/// pass `sizeof(*methods)`. Thread-safe.
///
/// # Safety
/// `methods` is NULL or valid for writes of `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_kv_methods_init(
    methods: *mut scangit_kv_methods,
    size: usize,
) -> scangit_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { init_sized(methods, size) })
}

/// A store over the caller's ordered key/value callbacks, in `*out` (free with
/// `scangit_store_free`). The library lays out keys and values (see the README's key layout),
/// checks every batch, keeps the first write of each data key and applies a watermark only if
/// it is not older than the stored one ("newer never loses"), so the callbacks only get, list
/// and put bytes. `methods` is copied. Stores opened over the same `ctx` (NULL included) share a
/// commit lock and a call lock, so concurrent scans into one backend keep "newer never loses"
/// and never enter it concurrently. Errors: `SCANGIT_INVALID_ARGUMENT` (NULL `methods` or `out`,
/// a wrong `size`, a required callback NULL); on failure nothing is kept and `destroy` is not
/// called. Thread-safe.
///
/// # Safety
/// `methods` is NULL or a size-prefixed `scangit_kv_methods`; `out` is NULL or writable; the
/// callbacks stay callable with `ctx` until `destroy` (or until the store is freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_store_open_kv(
    methods: *const scangit_kv_methods,
    out: *mut *mut scangit_store,
) -> scangit_status {
    guard(|| {
        non_null(out, "out")?;
        // SAFETY: caller's promise about the struct.
        let m = unsafe { read_sized(methods) }?;
        for (name, missing) in [
            ("get_many", m.get_many.is_none()),
            ("scan_prefix", m.scan_prefix.is_none()),
            ("write_batch", m.write_batch.is_none()),
        ] {
            if missing {
                return Err(FfiError::invalid(format!(
                    "scangit_kv_methods.{name} is NULL"
                )));
            }
        }
        let identity = m.ctx as usize;
        let backend = CKvBackend {
            m,
            calls: shared_call_lock(identity),
        };
        let store = KvStore::with_commit_lock(backend, shared_commit_lock(identity as u64));
        let handle = Box::into_raw(Box::new(scangit_store {
            store: StoreRef::new(store),
        }));
        // SAFETY: caller's promise (checked non-null above, so this cannot fail and leak).
        unsafe { write_out(out, "out", handle) }
    })
}

/// The reply of the callback running now.
///
/// # Safety
/// `reply` is NULL or the reply passed to the running callback.
unsafe fn reply_mut<'a>(reply: *mut scangit_kv_reply) -> FfiResult<&'a mut scangit_kv_reply> {
    non_null(reply, "reply")?;
    // SAFETY: non-null and, per the caller, the live reply of the running callback, which the
    // library does not touch while the callback runs.
    Ok(unsafe { &mut *reply })
}

/// In `get_many`: the value of the next key (keys are answered in order), `len` bytes at
/// `value` (copied; `value` may be NULL only when `len` is 0, an empty value). Errors:
/// `SCANGIT_INVALID_ARGUMENT` (NULL, or not in a `get_many` reply: the call then fails).
/// Call only on the thread running the callback.
///
/// # Safety
/// `reply` is NULL or the reply passed to the running callback; `value` is NULL or points to
/// `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_kv_reply_value(
    reply: *mut scangit_kv_reply,
    value: *const u8,
    len: usize,
) -> scangit_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let r = unsafe { reply_mut(reply) }?;
        r.expect(ReplyKind::GetMany, "scangit_kv_reply_value")?;
        // SAFETY: `len` readable bytes at `value` per the caller.
        let v = unsafe { bytes(scangit_bytes { ptr: value, len }, "value") }
            .map_err(|e| r.misused(e))?;
        r.values.push(Some(v.to_vec()));
        Ok(())
    })
}

/// In `get_many`: the next key is not stored. Errors: `SCANGIT_INVALID_ARGUMENT` (NULL, or not
/// in a `get_many` reply: the call then fails). Call only on the thread running the callback.
///
/// # Safety
/// `reply` is NULL or the reply passed to the running callback.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_kv_reply_missing(reply: *mut scangit_kv_reply) -> scangit_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let r = unsafe { reply_mut(reply) }?;
        r.expect(ReplyKind::GetMany, "scangit_kv_reply_missing")?;
        r.values.push(None);
        Ok(())
    })
}

/// In `scan_prefix`: one stored pair (both copied; a pointer may be NULL only when its length
/// is 0). Errors: `SCANGIT_INVALID_ARGUMENT` (NULL, or not in a `scan_prefix` reply: the call
/// then fails). Call only on the thread running the callback.
///
/// # Safety
/// `reply` is NULL or the reply passed to the running callback; `key` and `value` are NULL or
/// point to `key_len` and `value_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_kv_reply_pair(
    reply: *mut scangit_kv_reply,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> scangit_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let r = unsafe { reply_mut(reply) }?;
        r.expect(ReplyKind::ScanPrefix, "scangit_kv_reply_pair")?;
        // SAFETY: readable byte ranges per the caller.
        let pair = unsafe {
            bytes(
                scangit_bytes {
                    ptr: key,
                    len: key_len,
                },
                "key",
            )
            .and_then(|k| {
                bytes(
                    scangit_bytes {
                        ptr: value,
                        len: value_len,
                    },
                    "value",
                )
                .map(|v| (k.to_vec(), v.to_vec()))
            })
        }
        .map_err(|e| r.misused(e))?;
        r.pairs.push(pair);
        Ok(())
    })
}

/// In any callback: why it is about to fail (NUL-terminated UTF-8, copied; the last one
/// given is kept). The scan's error message (`scangit_last_error_message`) includes it.
/// Errors: `SCANGIT_INVALID_ARGUMENT` (NULL). Call only on the thread running the callback.
///
/// # Safety
/// `reply` is NULL or the reply passed to the running callback; `message` is NULL or
/// NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_kv_reply_error(
    reply: *mut scangit_kv_reply,
    message: *const c_char,
) -> scangit_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let r = unsafe { reply_mut(reply) }?;
        non_null(message, "message")?;
        // SAFETY: non-null and NUL-terminated per the caller.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        r.message = Some(text.into_owned());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use scangit_core::store::codec::seen_blob_op;
    use scangit_core::store::{FinalizeOutput, PersistenceStore, Scope};

    use super::*;

    /// An ordered map behind the C vtable, answering through the C entry points.
    #[derive(Default)]
    struct Map {
        data: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
        fail_write: AtomicBool,
        extra_answer: AtomicBool,
        writes: AtomicUsize,
    }

    unsafe fn map<'a>(ctx: *mut c_void) -> &'a Map {
        // SAFETY: every test passes a `Map` that outlives its store as ctx.
        unsafe { &*ctx.cast::<Map>() }
    }

    unsafe extern "C" fn get_many(
        ctx: *mut c_void,
        keys: *const scangit_bytes,
        count: usize,
        reply: *mut scangit_kv_reply,
    ) -> c_int {
        // SAFETY: the library passes the test's ctx and `count` keys.
        let (m, keys) = unsafe { (map(ctx), std::slice::from_raw_parts(keys, count)) };
        let data = m.data.lock();
        for k in keys {
            // SAFETY: each key is readable for the call; `reply` is this call's.
            unsafe {
                match data.get(bytes(*k, "key").unwrap()) {
                    Some(v) => scangit_kv_reply_value(reply, v.as_ptr(), v.len()),
                    None => scangit_kv_reply_missing(reply),
                };
            }
        }
        if m.extra_answer.load(Ordering::SeqCst) {
            // SAFETY: this call's reply.
            unsafe { scangit_kv_reply_missing(reply) };
        }
        0
    }

    unsafe extern "C" fn scan_prefix(
        ctx: *mut c_void,
        prefix: *const u8,
        len: usize,
        reply: *mut scangit_kv_reply,
    ) -> c_int {
        // SAFETY: the library passes the test's ctx and `len` prefix bytes.
        let (m, prefix) = unsafe { (map(ctx), std::slice::from_raw_parts(prefix, len)) };
        for (k, v) in m.data.lock().range(prefix.to_vec()..) {
            if !k.starts_with(prefix) {
                break;
            }
            // SAFETY: this call's reply; the bytes live for the call.
            unsafe { scangit_kv_reply_pair(reply, k.as_ptr(), k.len(), v.as_ptr(), v.len()) };
        }
        0
    }

    unsafe extern "C" fn write_batch(
        ctx: *mut c_void,
        puts: *const scangit_write_op,
        count: usize,
        reply: *mut scangit_kv_reply,
    ) -> c_int {
        // SAFETY: the library passes the test's ctx and `count` ops.
        let (m, puts) = unsafe { (map(ctx), std::slice::from_raw_parts(puts, count)) };
        if m.fail_write.load(Ordering::SeqCst) {
            // SAFETY: this call's reply.
            unsafe { scangit_kv_reply_error(reply, c"disk full".as_ptr()) };
            return scangit_status::SCANGIT_STORE as c_int;
        }
        let mut data = m.data.lock();
        for op in puts {
            // SAFETY: the op's bytes are readable for the call.
            let (k, v) = unsafe { (bytes(op.key, "key"), bytes(op.value, "value")) };
            data.insert(k.unwrap().to_vec(), v.unwrap().to_vec());
        }
        m.writes.fetch_add(1, Ordering::SeqCst);
        0
    }

    static DESTROYED: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn destroy(_ctx: *mut c_void) {
        DESTROYED.fetch_add(1, Ordering::SeqCst);
    }

    fn methods(m: &Map) -> scangit_kv_methods {
        scangit_kv_methods {
            ctx: std::ptr::from_ref(m).cast_mut().cast(),
            get_many: Some(get_many),
            scan_prefix: Some(scan_prefix),
            write_batch: Some(write_batch),
            ..scangit_kv_methods::default()
        }
    }

    fn open(m: &Map) -> *mut scangit_store {
        let mut out = std::ptr::null_mut();
        // SAFETY: valid methods and out pointer.
        let rc = unsafe { scangit_store_open_kv(&methods(m), &mut out) };
        assert_eq!(rc, scangit_status::SCANGIT_OK);
        out
    }

    fn store_of<'a>(store: *mut scangit_store) -> &'a dyn PersistenceStore {
        // SAFETY: a live handle from `open`, freed after its last use.
        unsafe { &*store }.store.0.as_ref()
    }

    fn free(store: *mut scangit_store) {
        // SAFETY: a store from `open`, freed once.
        unsafe { crate::store::scangit_store_free(store) };
    }

    fn seen_batch(scope: &Scope, b: u8) -> FinalizeOutput {
        FinalizeOutput {
            outcome: scangit_core::events::Outcome::Complete,
            data_ops: vec![seen_blob_op(
                &scope.encode(),
                &gix_hash::ObjectId::from_bytes_or_panic(&[b; 20]),
            )],
            watermark_ops: Vec::new(),
            stats: Default::default(),
        }
    }

    #[test]
    fn seen_blobs_through_the_vtable_and_a_wrong_answer_count() {
        let m = Map::default();
        let store = open(&m);
        let s = store_of(store);
        let scope = Scope::new("repo", [1; 32]);
        let id = gix_hash::ObjectId::from_bytes_or_panic(&[5; 20]);
        assert_eq!(s.seen_blobs(&scope, &[id]).unwrap(), vec![false]);
        s.commit(&scope, &seen_batch(&scope, 5)).unwrap();
        assert_eq!(s.seen_blobs(&scope, &[id]).unwrap(), vec![true]);
        assert!(s.load_watermarks(&scope).unwrap().is_empty());
        m.extra_answer.store(true, Ordering::SeqCst);
        let e = s.seen_blobs(&scope, &[id]).unwrap_err().to_string();
        assert!(e.contains("get_many answered 2 values for 1 keys"), "{e}");
        free(store);
    }

    #[test]
    fn a_failing_write_keeps_nothing_and_says_why() {
        let m = Map::default();
        m.fail_write.store(true, Ordering::SeqCst);
        let store = open(&m);
        let scope = Scope::new("repo", [1; 32]);
        let e = store_of(store)
            .commit(&scope, &seen_batch(&scope, 5))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("write_batch returned status 6") && e.contains("disk full"),
            "{e}"
        );
        assert!(m.data.lock().is_empty());
        assert_eq!(m.writes.load(Ordering::SeqCst), 0);
        free(store);
    }

    #[test]
    fn null_arguments_and_misused_replies_are_invalid() {
        let mut out = std::ptr::null_mut();
        let invalid = scangit_status::SCANGIT_INVALID_ARGUMENT;
        // SAFETY: NULLs are allowed and rejected; `reply` is a live reply.
        unsafe {
            assert_eq!(scangit_store_open_kv(std::ptr::null(), &mut out), invalid);
            let none = scangit_kv_methods::default();
            assert_eq!(scangit_store_open_kv(&none, &mut out), invalid);
            assert!(out.is_null());
            let m = Map::default();
            assert_eq!(
                scangit_store_open_kv(&methods(&m), std::ptr::null_mut()),
                invalid
            );
            assert_eq!(scangit_kv_reply_missing(std::ptr::null_mut()), invalid);
            let mut reply = scangit_kv_reply::new(ReplyKind::GetMany);
            assert_eq!(
                scangit_kv_reply_value(&mut reply, std::ptr::null(), 3),
                invalid
            );
            assert!(reply.misuse.is_some());
            let mut reply = scangit_kv_reply::new(ReplyKind::WriteBatch);
            assert_eq!(scangit_kv_reply_missing(&mut reply), invalid);
            assert!(reply.misuse.is_some());
        }
    }

    #[test]
    fn destroy_runs_once_on_free() {
        let m = Map::default();
        let mut with_destroy = methods(&m);
        with_destroy.destroy = Some(destroy);
        let mut out = std::ptr::null_mut();
        // SAFETY: valid arguments; the store is freed once.
        unsafe {
            let rc = scangit_store_open_kv(&with_destroy, &mut out);
            assert_eq!(rc, scangit_status::SCANGIT_OK);
            crate::store::scangit_store_free(out);
        }
        assert_eq!(DESTROYED.load(Ordering::SeqCst), 1);
    }
}
