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
use scangit_core::options::{DEFAULT_MAX_BLOB_BYTES, DEFAULT_MEMORY_BUDGET_BYTES};
use scangit_core::rules::{LoadOptions, RuleSet};
use scangit_core::store::SqliteStore as CoreSqliteStore;
use scangit_core::stream::{NextBatch, ScanStream, StreamConfig};
use scangit_core::{AbortToken, Engine, ScanError, ScanMode, ScanOptions, StoreRef};

use crate::error::{CodedError, scan_error};
use crate::events::to_json;
use crate::store::{DispatchFn, JsBackend, NativeMemoryStore, NativeSqliteStore, js_store};

/// How long one `nextBatch()` waits for events before answering "nothing yet" (JS then asks
/// again); bounds how long a libuv worker is held and how late a partial batch arrives.
const WAIT: Duration = Duration::from_millis(50);

/// Scan options as `index.js` passes them (already type-checked there).
#[napi(object)]
pub struct NativeOptions {
    pub mode: Option<String>,
    pub threads: Option<u32>,
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

fn byte_count(value: Option<f64>, name: &str, default: u64) -> Result<u64, ScanError> {
    match value {
        None => Ok(default),
        Some(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 2f64.powi(53) => {
            Ok(v as u64)
        }
        Some(v) => Err(ScanError::InvalidArgument(format!(
            "{name} must be a non-negative integer, got {v}"
        ))),
    }
}

/// Which rules a scan loads.
struct RulesChoice {
    /// A rules file; `None`: the built-in rules.
    path: Option<PathBuf>,
    strict: bool,
}

fn convert_options(o: NativeOptions) -> Result<(ScanOptions, RulesChoice, bool), ScanError> {
    let mut options = ScanOptions::default();
    if let Some(mode) = o.mode {
        options.mode = ScanMode::parse(&mode).ok_or_else(|| {
            ScanError::InvalidArgument(format!(
                "unknown mode {mode:?} (use \"odb-blob\" or \"diff-history\")"
            ))
        })?;
    }
    options.threads = o.threads.unwrap_or(0) as usize;
    let reveal = o.reveal_secrets.unwrap_or(false);
    options.reveal_secrets = reveal;
    options.max_blob_bytes = byte_count(o.max_blob_bytes, "maxBlobBytes", DEFAULT_MAX_BLOB_BYTES)?;
    options.memory_budget_bytes = byte_count(
        o.memory_budget_bytes,
        "memoryBudgetBytes",
        DEFAULT_MEMORY_BUDGET_BYTES,
    )?;
    options.ref_include = o.ref_include.unwrap_or_default();
    options.ref_exclude = o.ref_exclude.unwrap_or_default();
    options.all_objects = o.all_objects.unwrap_or(false);
    options.since = o.since;
    options.range = o.range;
    options.first_parent_only = o.first_parent_only.unwrap_or(false);
    let chunk = byte_count(
        o.chunk_bytes,
        "chunkBytes",
        scangit_core::options::DEFAULT_CHUNK_BYTES as u64,
    )?;
    options.chunk_bytes = usize::try_from(chunk)
        .map_err(|_| ScanError::InvalidArgument("chunkBytes is too large".into()))?;
    options.repo_id = o.repo_id;
    options.keep_secrets = o.keep_secrets.unwrap_or(false);
    let rules = RulesChoice {
        path: o.rules.map(PathBuf::from),
        strict: o.strict_rules.unwrap_or(false),
    };
    Ok((options, rules, reveal))
}

/// The built-in rules, compiled once per process. They load without warnings (core's
/// `builtin_rules_parse_without_warnings` test), so `strictRules` has nothing to refuse there.
fn builtin_engine() -> Result<Arc<Engine>, ScanError> {
    static BUILTIN: Mutex<Option<Arc<Engine>>> = Mutex::new(None);
    let mut cached = BUILTIN.lock();
    if let Some(engine) = &*cached {
        return Ok(engine.clone());
    }
    let engine = Arc::new(Engine::builtin()?);
    *cached = Some(engine.clone());
    Ok(engine)
}

enum StoreChoice {
    None,
    /// A SQLite file, opened when the scan starts (off the main thread).
    Path(PathBuf),
    Ready(StoreRef),
}

/// Everything needed to start the scan on the first `nextBatch()`.
struct Start {
    repo: PathBuf,
    options: ScanOptions,
    rules: RulesChoice,
    store: StoreChoice,
}

impl Start {
    /// Loads the rules, opens the store and starts the scan; returns the stream and the rules
    /// warnings (as their `Display` text), which `strict` turns into a `rules_invalid` error.
    fn launch(self, abort: AbortToken) -> Result<(ScanStream, Vec<String>), ScanError> {
        let Start {
            repo,
            mut options,
            rules,
            store,
        } = self;
        let (engine, warnings) = match rules.path {
            None => (builtin_engine()?, Vec::new()),
            Some(path) => {
                let options = LoadOptions {
                    strict: rules.strict,
                };
                let (set, warnings) = RuleSet::load(Some(&path), options)?;
                let warnings = warnings.iter().map(ToString::to_string).collect();
                (Arc::new(Engine::new(&set)?), warnings)
            }
        };
        options.store = match store {
            StoreChoice::None => None,
            StoreChoice::Path(path) => Some(StoreRef::new(CoreSqliteStore::open(&path)?)),
            StoreChoice::Ready(store) => Some(store),
        };
        options.abort = Some(abort);
        let stream = ScanStream::start(repo, options, engine, StreamConfig::default())?;
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
        let (options, rules, reveal_secrets) =
            convert_options(options).map_err(|e| scan_error(&e))?;
        Ok(Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::NotStarted(Box::new(Start {
                    repo: PathBuf::from(repo),
                    options,
                    rules,
                    store: StoreChoice::None,
                }))),
                abort: AbortToken::new(),
                reveal_secrets,
            }),
        })
    }

    fn set_store(&self, store: StoreChoice) {
        if let State::NotStarted(start) = &mut *self.inner.state.lock() {
            start.store = store;
        }
    }

    #[napi]
    pub fn use_sqlite_path(&self, path: String) {
        self.set_store(StoreChoice::Path(PathBuf::from(path)));
    }

    #[napi]
    pub fn use_sqlite_store(&self, store: &NativeSqliteStore) {
        self.set_store(StoreChoice::Ready(StoreRef(store.store.clone())));
    }

    #[napi]
    pub fn use_memory_store(&self, store: &NativeMemoryStore) {
        self.set_store(StoreChoice::Ready(StoreRef(store.store.clone())));
    }

    /// A store written in JS, reached through `dispatch(op, data, lens, reply)` (see
    /// `index.js`); `store_id` names the JS object, so that commits into it are serialized.
    #[napi]
    pub fn use_js_store(&self, dispatch: DispatchFn<'_>, store_id: u32) -> napi::Result<()> {
        let backend = JsBackend::new(dispatch, self.inner.abort.clone())?;
        self.set_store(StoreChoice::Ready(StoreRef::new(js_store(
            backend, store_id,
        ))));
        Ok(())
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
