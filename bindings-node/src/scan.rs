//! One scan, pulled from JavaScript a batch at a time.
//!
//! `index.js` wraps a [`NativeScan`] in an async iterator. Each `nextBatch()` is an `AsyncTask`:
//! on a libuv worker it waits (at most [`WAIT`]) for the core's [`ScanStream`] to hand over a
//! batch and serializes it to JSON; on the main thread the promise resolves with that text. The
//! stream's bounded queue gives the backpressure: while JS does not ask for the next batch, the
//! scan's workers block. The scan starts (engine compiled, store opened) on the first
//! `nextBatch()`, off the main thread; the rules file's warnings travel back with that call's
//! result, and `index.js` emits them on the main thread (`process.emitWarning`).
//!
//! Nothing here blocks the JS main thread on the scan: a scan may be waiting for a JS store's
//! answer, which needs the main thread. Releasing (`release()`) aborts and then joins the scan
//! thread on a libuv worker; a scan object collected by the GC is aborted and joined on a
//! thread of its own.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use parking_lot::Mutex;
use scangit_core::stream::{NextBatch, ScanStream};
use scangit_core::{AbortToken, RulesSpec, ScanError, ScanRequest, StoreRef, StoreSpec};

use crate::error::{CodedError, scan_error};
use crate::events::to_json;
use crate::store::{DispatchFn, JsBackend, NativeMemoryStore, NativeSqliteStore, js_store};

/// How long one `nextBatch()` waits for events before answering "nothing yet" (JS then asks
/// again); bounds how long a libuv worker is held and how late a partial batch arrives.
const WAIT: Duration = Duration::from_millis(50);

/// Scan options as `index.js` passes them (type-checked there: numbers are safe integers). The
/// values are checked, and the rules and the store resolved, by core's [`ScanRequest`], as for
/// every front door.
#[napi(object)]
pub struct NativeOptions {
    pub mode: Option<String>,
    pub threads: Option<f64>,
    pub rules: Option<String>,
    pub strict_rules: Option<bool>,
    pub reveal_secrets: Option<bool>,
    pub max_blob_bytes: Option<f64>,
    pub memory_budget_bytes: Option<f64>,
    pub ref_include: Option<Vec<String>>,
    pub ref_exclude: Option<Vec<String>>,
    pub all_objects: Option<bool>,
    pub since: Option<String>,
    pub range: Option<String>,
    pub first_parent_only: Option<bool>,
    pub chunk_bytes: Option<f64>,
    pub repo_id: Option<String>,
    pub keep_secrets: Option<bool>,
}

/// What one `nextBatch()` resolves with: events (a JSON array), nothing yet, the end, or the
/// error that ended the scan; and, from the call that started the scan, the rules warnings.
#[napi(object)]
pub struct BatchResult {
    /// Warnings of the rules file (`origin: rule ID: message`), to be emitted by `index.js`.
    pub warnings: Option<Vec<String>>,
    pub events: Option<String>,
    /// Some finding in `events` has `pathBytes` (to be turned into a Buffer).
    pub has_path_bytes: bool,
    pub done: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// A JS number as the request's integer (`index.js` lets only safe integers through; anything
/// else is refused here too rather than rounded).
fn integer(value: Option<f64>, name: &str) -> Result<Option<i64>, ScanError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v.fract() == 0.0 && v.abs() <= 2f64.powi(53) => {
            Ok(Some(v as i64))
        }
        Some(v) => Err(ScanError::InvalidArgument(format!(
            "{name} must be an integer, got {v}"
        ))),
    }
}

/// The options as core's request (no store yet: `use*Store` sets it).
fn request(o: NativeOptions) -> Result<ScanRequest, ScanError> {
    Ok(ScanRequest {
        mode: o.mode,
        threads: integer(o.threads, "threads")?,
        rules: RulesSpec::from_options(o.rules.map(PathBuf::from), o.strict_rules.unwrap_or(false)),
        store: StoreSpec::None,
        reveal_secrets: o.reveal_secrets.unwrap_or(false),
        max_blob_bytes: integer(o.max_blob_bytes, "maxBlobBytes")?,
        memory_budget_bytes: integer(o.memory_budget_bytes, "memoryBudgetBytes")?,
        chunk_bytes: integer(o.chunk_bytes, "chunkBytes")?,
        ref_include: o.ref_include.unwrap_or_default(),
        ref_exclude: o.ref_exclude.unwrap_or_default(),
        all_objects: o.all_objects.unwrap_or(false),
        since: o.since,
        range: o.range,
        first_parent_only: o.first_parent_only.unwrap_or(false),
        repo_id: o.repo_id,
        keep_secrets: o.keep_secrets.unwrap_or(false),
        ..ScanRequest::default()
    })
}

/// Everything needed to start the scan on the first `nextBatch()`.
struct Start {
    repo: PathBuf,
    request: ScanRequest,
}

impl Start {
    /// Resolves the request (rules loaded, store opened, off the main thread) and starts the
    /// scan; returns the stream and the rules warnings (as their `Display` text).
    fn launch(mut self, abort: AbortToken) -> Result<(ScanStream, Vec<String>), ScanError> {
        self.request.abort = Some(abort);
        let resolved = self.request.resolve()?;
        let warnings = resolved.warnings.iter().map(ToString::to_string).collect();
        let stream = ScanStream::start(
            self.repo,
            resolved.options,
            resolved.engine,
            resolved.stream,
        )?;
        Ok((stream, warnings))
    }
}

enum State {
    NotStarted(Box<Start>),
    Running(ScanStream),
    Ended,
}

struct Inner {
    state: Mutex<State>,
    /// This scan's own token (never shared): `abort()` and release trip it.
    abort: AbortToken,
    reveal_secrets: bool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.abort.abort();
        if let State::Running(stream) = std::mem::replace(self.state.get_mut(), State::Ended) {
            // Possibly on the JS main thread (GC finalizer): join elsewhere, since the scan may
            // be waiting for the main thread (a JS store call) before it can see the abort.
            let _ = std::thread::Builder::new()
                .name("scangit-release".into())
                .spawn(move || drop(stream));
        }
    }
}

/// A scan, driven by `index.js` (not part of the public API).
#[napi]
pub struct NativeScan {
    inner: Arc<Inner>,
}

#[napi]
impl NativeScan {
    /// Check the options and prepare the scan; nothing runs until the first `nextBatch()`.
    #[napi(constructor)]
    pub fn new(repo: String, options: NativeOptions) -> Result<Self, CodedError> {
        let request = request(options).map_err(|e| scan_error(&e))?;
        // Every value checked now (no I/O), so a bad option rejects the first `next()`.
        request.check().map_err(|e| scan_error(&e))?;
        let reveal_secrets = request.reveal_secrets;
        Ok(Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::NotStarted(Box::new(Start {
                    repo: PathBuf::from(repo),
                    request,
                }))),
                abort: AbortToken::new(),
                reveal_secrets,
            }),
        })
    }

    /// The store, when the scan has not started yet; a store string is checked at once.
    fn set_store(&self, store: StoreSpec) -> Result<(), CodedError> {
        if let StoreSpec::Location(spec) = &store {
            StoreSpec::parse(spec).map_err(|e| scan_error(&e))?;
        }
        if let State::NotStarted(start) = &mut *self.inner.state.lock() {
            start.request.store = store;
        }
        Ok(())
    }

    /// A store spec string: a SQLite file path or `sqlite:PATH`, opened when the scan starts.
    #[napi]
    pub fn use_sqlite_path(&self, path: String) -> Result<(), CodedError> {
        self.set_store(StoreSpec::location(path))
    }

    #[napi]
    pub fn use_sqlite_store(&self, store: &NativeSqliteStore) -> Result<(), CodedError> {
        self.set_store(StoreSpec::Store(StoreRef(store.store.clone())))
    }

    #[napi]
    pub fn use_memory_store(&self, store: &NativeMemoryStore) -> Result<(), CodedError> {
        self.set_store(StoreSpec::Store(StoreRef(store.store.clone())))
    }

    /// A store written in JS, reached through `dispatch(op, data, lens, reply)` (see
    /// `index.js`); `store_id` names the JS object, so that commits into it are serialized.
    #[napi]
    pub fn use_js_store(&self, dispatch: DispatchFn<'_>, store_id: u32) -> napi::Result<()> {
        let backend = JsBackend::new(dispatch, self.inner.abort.clone())?;
        self.set_store(StoreSpec::Store(StoreRef::new(js_store(backend, store_id))))
            .map_err(|e| napi::Error::from_reason(e.reason.clone()))
    }

    #[napi(ts_return_type = "Promise<BatchResult>")]
    pub fn next_batch(&self) -> AsyncTask<NextBatchTask> {
        AsyncTask::new(NextBatchTask {
            inner: self.inner.clone(),
        })
    }

    /// Ask the scan to stop (it ends with an `aborted` error); returns at once.
    #[napi]
    pub fn abort(&self) {
        self.inner.abort.abort();
    }

    /// Abort and wait, off the main thread, until the scan's threads have ended.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn release(&self) -> AsyncTask<ReleaseTask> {
        AsyncTask::new(ReleaseTask {
            inner: self.inner.clone(),
        })
    }
}

/// What one `nextBatch()` got off the main thread: the rules warnings (from the call that
/// started the scan) and what the stream handed over.
pub struct Fetched {
    warnings: Vec<String>,
    pulled: Pulled,
}

pub enum Pulled {
    Events(crate::events::JsonBatch),
    Pending,
    Done,
    Failed(ScanError),
}

pub struct NextBatchTask {
    inner: Arc<Inner>,
}

impl Task for NextBatchTask {
    type Output = Fetched;
    type JsValue = BatchResult;

    fn compute(&mut self) -> napi::Result<Fetched> {
        let inner = &self.inner;
        let mut state = inner.state.lock();
        let mut warnings = Vec::new();
        if matches!(&*state, State::NotStarted(_)) {
            let State::NotStarted(start) = std::mem::replace(&mut *state, State::Ended) else {
                unreachable!("checked above");
            };
            match start.launch(inner.abort.clone()) {
                Ok((stream, w)) => {
                    *state = State::Running(stream);
                    warnings = w;
                }
                Err(e) => {
                    return Ok(Fetched {
                        warnings,
                        pulled: Pulled::Failed(e),
                    });
                }
            }
        }
        let State::Running(stream) = &mut *state else {
            return Ok(Fetched {
                warnings,
                pulled: Pulled::Done,
            });
        };
        let pulled = match stream.next_batch(WAIT) {
            NextBatch::Events(events) => match to_json(&events, inner.reveal_secrets) {
                Ok(batch) => Pulled::Events(batch),
                Err(e) => {
                    inner.abort.abort();
                    Pulled::Failed(ScanError::Internal(format!("cannot encode events: {e}")))
                }
            },
            NextBatch::Pending => Pulled::Pending,
            // The scan thread has been joined: dropping the stream is cheap.
            NextBatch::Done(Ok(_)) | NextBatch::Finished => {
                *state = State::Ended;
                Pulled::Done
            }
            NextBatch::Done(Err(e)) => {
                *state = State::Ended;
                Pulled::Failed(e)
            }
        };
        Ok(Fetched { warnings, pulled })
    }

    fn resolve(&mut self, _env: Env, output: Fetched) -> napi::Result<BatchResult> {
        let Fetched { warnings, pulled } = output;
        let mut out = BatchResult {
            warnings: (!warnings.is_empty()).then_some(warnings),
            events: None,
            has_path_bytes: false,
            done: false,
            error_code: None,
            error_message: None,
        };
        match pulled {
            Pulled::Events(batch) => {
                out.events = Some(batch.json);
                out.has_path_bytes = batch.has_path_bytes;
            }
            Pulled::Pending => {}
            Pulled::Done => out.done = true,
            Pulled::Failed(e) => {
                out.done = true;
                out.error_code = Some(e.kind().as_str().to_string());
                out.error_message = Some(e.to_string());
            }
        }
        Ok(out)
    }
}

pub struct ReleaseTask {
    inner: Arc<Inner>,
}

impl Task for ReleaseTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        self.inner.abort.abort();
        let old = std::mem::replace(&mut *self.inner.state.lock(), State::Ended);
        // Joins the scan thread (if it runs), outside the lock.
        drop(old);
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }
}
