//! Stores: the native SQLite and in-memory stores, and stores written in JavaScript.
//!
//! A JS store is three methods over byte-string keys (`getMany`, `scanPrefix`, `writeBatch`,
//! see `index.d.ts`); the core's [`KvStore`] does the finalize key layout on top of them. The
//! scan calls a JS store from its worker threads: [`JsBackend`] queues the call on a
//! threadsafe function (the JS main thread runs it, awaiting a returned promise in `index.js`)
//! and blocks that worker until the answer comes back through a [`StoreReply`]. The JS main
//! thread is never blocked by a scan, so this cannot deadlock.

use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use napi::Status;
use napi::bindgen_prelude::{Buffer, FnArgs, Function};
use napi::threadsafe_function::UnknownReturnValue;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use parking_lot::Mutex;
use scangit_core::AbortToken;
use scangit_core::events_json::{JsonStyle, StoredFindingView};
use scangit_core::store::{KvBackend, KvStore, StoreError, kv::shared_commit_lock};
use scangit_core::store::{MemoryStore as CoreMemoryStore, SqliteStore as CoreSqliteStore};

use crate::error::{CodedError, code_error, scan_error};

/// The embedded SQLite store (`new SqliteStore(path)` in JS).
#[napi(js_name = "NativeSqliteStore")]
pub struct NativeSqliteStore {
    pub(crate) store: Arc<CoreSqliteStore>,
}

#[napi]
impl NativeSqliteStore {
    /// Opens (creating if needed) the store file. Throws an Error with `code: 'store'`.
    #[napi(constructor)]
    pub fn new(path: String) -> Result<Self, CodedError> {
        let store = CoreSqliteStore::open(&path)
            .map_err(|e| code_error("store", &scangit_core::ScanError::from(e).to_string()))?;
        Ok(Self {
            store: Arc::new(store),
        })
    }

    #[napi(getter)]
    pub fn path(&self) -> String {
        self.store.path().to_string_lossy().into_owned()
    }

    /// Stored findings as a JSON array (parsed by `index.js`).
    #[napi]
    pub fn findings_json(&self, repo_id: Option<String>) -> Result<String, CodedError> {
        let rows = self
            .store
            .stored_findings(repo_id.as_deref())
            .map_err(|e| scan_error(&e.into()))?;
        // Not gated: a store only holds secrets when the scans kept them (`keepSecrets`).
        let style = JsonStyle {
            reveal_secrets: true,
            ..JsonStyle::CAMEL
        };
        let rows: Vec<StoredFindingView> = rows
            .iter()
            .map(|f| StoredFindingView::new(f, style))
            .collect();
        serde_json::to_string(&rows).map_err(|e| code_error("internal", &e.to_string()))
    }
}

/// The in-memory store (`new MemoryStore()` in JS): lives as long as the JS object.
#[napi(js_name = "NativeMemoryStore")]
pub struct NativeMemoryStore {
    pub(crate) store: Arc<CoreMemoryStore>,
}

#[napi]
impl NativeMemoryStore {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            store: Arc::new(CoreMemoryStore::new()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Stores written in JavaScript.

/// What a JS store is asked; the number is the first argument of the dispatcher in `index.js`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    GetMany = 0,
    ScanPrefix = 1,
    WriteBatch = 2,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::GetMany => "getMany",
            Op::ScanPrefix => "scanPrefix",
            Op::WriteBatch => "writeBatch",
        }
    }
}

/// The JS store's answer: byte strings packed into one buffer with their lengths (-1 = none),
/// or the message of what it threw or rejected with.
type Answer = Result<(Vec<u8>, Vec<i32>), String>;

/// One call queued for the JS main thread.
struct Request {
    op: Op,
    data: Vec<u8>,
    lens: Vec<u32>,
    reply: SyncSender<Answer>,
}

/// Handed to the JS dispatcher with each call; it answers exactly once (later answers are
/// ignored). Dropping it unanswered (the environment shutting down) fails the call.
#[napi]
pub struct StoreReply {
    tx: Mutex<Option<SyncSender<Answer>>>,
}

#[napi]
impl StoreReply {
    /// Success: `data` holds the answer's byte strings back to back, `lens[i]` the length of
    /// the i-th (-1 for a missing value). `writeBatch` answers with no data.
    #[napi]
    pub fn ok(&self, data: Option<Buffer>, lens: Option<Vec<i32>>) {
        let data = data.map(|b| b.to_vec()).unwrap_or_default();
        if let Some(tx) = self.tx.lock().take() {
            // The scan may have given up (aborted): nobody to tell.
            let _ = tx.send(Ok((data, lens.unwrap_or_default())));
        }
    }

    /// Failure: the JS store threw or rejected with an error of this message.
    #[napi]
    pub fn fail(&self, message: String) {
        if let Some(tx) = self.tx.lock().take() {
            let _ = tx.send(Err(message));
        }
    }
}

/// The dispatcher's JS signature.
pub type DispatchFn<'a> =
    Function<'a, FnArgs<(u32, Buffer, Vec<u32>, StoreReply)>, UnknownReturnValue>;

type Dispatch = ThreadsafeFunction<
    Request,
    UnknownReturnValue,
    FnArgs<(u32, Buffer, Vec<u32>, StoreReply)>,
    Status,
    false,
    true,
>;

/// A JS store seen from a scan's worker threads.
pub struct JsBackend {
    dispatch: Dispatch,
    /// The scan's token: a worker stops waiting for a lookup once the scan is aborted.
    abort: AbortToken,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct JsStoreError(String);

impl JsBackend {
    /// Build on the JS main thread from the dispatcher function of `index.js`. The threadsafe
    /// function is weak: it never keeps the process alive by itself.
    pub fn new(dispatch: DispatchFn<'_>, abort: AbortToken) -> napi::Result<Self> {
        let dispatch = dispatch
            .build_threadsafe_function::<Request>()
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(|ctx| {
                let Request {
                    op,
                    data,
                    lens,
                    reply,
                } = ctx.value;
                Ok(FnArgs::from((
                    op as u32,
                    Buffer::from(data),
                    lens,
                    StoreReply {
                        tx: Mutex::new(Some(reply)),
                    },
                )))
            })?;
        Ok(Self { dispatch, abort })
    }

    fn call(&self, op: Op, items: &[&[u8]]) -> Result<(Vec<u8>, Vec<i32>), StoreError> {
        let fail =
            |msg: String| StoreError::backend(format!("JS store {}", op.name()), JsStoreError(msg));
        let mut data = Vec::with_capacity(items.iter().map(|i| i.len()).sum());
        let mut lens = Vec::with_capacity(items.len());
        for i in items {
            data.extend_from_slice(i);
            lens.push(u32::try_from(i.len()).map_err(|_| fail("key or value too large".into()))?);
        }
        let (tx, rx) = sync_channel(1);
        let status = self.dispatch.call(
            Request {
                op,
                data,
                lens,
                reply: tx,
            },
            ThreadsafeFunctionCallMode::NonBlocking,
        );
        if status != Status::Ok {
            return Err(fail(format!(
                "cannot call into JavaScript ({status}): the environment is shutting down"
            )));
        }
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(answer) => return answer.map_err(fail),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(fail("the call was dropped unanswered".into()));
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.dispatch.aborted() {
                        return Err(fail("the JavaScript environment is gone".into()));
                    }
                    // A lookup is abandoned once the scan is aborted (the scan ends anyway);
                    // a write is waited for, so that its outcome is known.
                    if op != Op::WriteBatch && self.abort.is_aborted() {
                        return Err(fail("abandoned: the scan was aborted".into()));
                    }
                }
            }
        }
    }
}

/// Split `data` by `lens` (-1 = none).
fn unpack(data: &[u8], lens: &[i32], what: &str) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
    let mut out = Vec::with_capacity(lens.len());
    let mut at = 0usize;
    for &len in lens {
        if len < 0 {
            out.push(None);
            continue;
        }
        let end = at + len as usize;
        let piece = data.get(at..end).ok_or_else(|| {
            StoreError::Corrupt(format!("the JS store's {what} answer is malformed"))
        })?;
        out.push(Some(piece.to_vec()));
        at = end;
    }
    Ok(out)
}

impl KvBackend for JsBackend {
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let items: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let (data, lens) = self.call(Op::GetMany, &items)?;
        unpack(&data, &lens, "getMany")
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        let (data, lens) = self.call(Op::ScanPrefix, &[prefix])?;
        let items = unpack(&data, &lens, "scanPrefix")?;
        let mut out = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            match (k, v) {
                (Some(k), Some(v)) if k.starts_with(prefix) => out.push((k, v)),
                (Some(_), Some(_)) => {}
                _ => {
                    return Err(StoreError::Corrupt(
                        "the JS store's scanPrefix answer is malformed".into(),
                    ));
                }
            }
        }
        Ok(out)
    }

    fn write_batch(&self, puts: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(puts.len() * 2);
        for (k, v) in &puts {
            items.push(k.as_slice());
            items.push(v.as_slice());
        }
        self.call(Op::WriteBatch, &items).map(|_| ())
    }
}

/// A [`KvStore`] over a JS store, whose commits are serialized with every other scan's commits
/// into the same JS object (by the id `index.js` gives each store object).
pub type JsStore = KvStore<JsBackend>;

pub fn js_store(backend: JsBackend, store_id: u32) -> JsStore {
    KvStore::with_commit_lock(backend, shared_commit_lock(u64::from(store_id) | (1 << 63)))
}
