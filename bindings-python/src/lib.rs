//! `scangit._native`: the Python front door of libscangit (the package `scangit` re-exports it).
//!
//! Thin by design: options are parsed into [`ScanOptions`], the scan runs in a
//! [`ScanStream`] on native threads, and events are wrapped as they are handed to Python. See
//! `bindings-python/README.md` for the API.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pyo3::prelude::*;
use scangit_core::rules::{LoadOptions, RuleSet};
use scangit_core::stream::{ScanStream, StreamConfig};
use scangit_core::{AbortToken, Engine, ErrorKind, ScanMode, ScanOptions};

mod errors;
mod events;
mod scan;
mod store;

/// A cooperative abort flag, shareable by any number of scans and safe to trigger from any
/// thread (or a signal handler). Every scan started with `abort=token` stops at its next
/// check and raises `AbortedError`. Aborting one `Scan` (or closing it) never triggers the
/// token.
#[pyclass(frozen, module = "scangit", name = "AbortToken")]
struct PyAbortToken {
    token: AbortToken,
}

#[pymethods]
impl PyAbortToken {
    /// A new token, not aborted.
    #[new]
    fn new() -> Self {
        Self {
            token: AbortToken::new(),
        }
    }

    /// Trigger the token. Idempotent.
    fn abort(&self) {
        self.token.abort();
    }

    /// Whether `abort()` was called.
    #[getter]
    fn aborted(&self) -> bool {
        self.token.is_aborted()
    }

    fn __repr__(&self) -> String {
        format!("<AbortToken aborted={}>", self.token.is_aborted())
    }
}

/// The built-in rules, compiled once per process (about 240 rules). They load without warnings
/// (core's `builtin_rules_parse_without_warnings` test), so `strict_rules` has nothing to refuse.
fn builtin_engine(py: Python<'_>) -> PyResult<Arc<Engine>> {
    static BUILTIN: OnceLock<Result<Arc<Engine>, String>> = OnceLock::new();
    py.detach(|| {
        BUILTIN
            .get_or_init(|| Engine::builtin().map(Arc::new).map_err(|e| e.to_string()))
            .clone()
    })
    .map_err(|e| errors::error(py, ErrorKind::RulesInvalid, e))
}

/// Load and compile a rules file (core's [`RuleSet::load`]); each warning becomes a Python
/// `UserWarning` ("rules " and the warning's own text: origin, rule id, message). With `strict`
/// core turns the first warning into an error, raised as `RulesInvalidError`.
fn file_engine(py: Python<'_>, path: PathBuf, strict: bool) -> PyResult<Arc<Engine>> {
    let (engine, warnings) = py
        .detach(move || {
            let (set, warnings) = RuleSet::load(Some(&path), LoadOptions { strict })?;
            Ok::<_, scangit_core::rules::RulesError>((Engine::new(&set)?, warnings))
        })
        .map_err(|e| errors::scan_error(py, &scangit_core::ScanError::from(e), None))?;
    let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
    for w in warnings {
        PyErr::warn(
            py,
            &category,
            &std::ffi::CString::new(format!("rules {w}"))?,
            1,
        )?;
    }
    Ok(Arc::new(engine))
}

fn non_negative(py: Python<'_>, name: &str, v: i64) -> PyResult<u64> {
    u64::try_from(v).map_err(|_| errors::invalid(py, format!("{name} must be >= 0, got {v}")))
}

/// Start scanning the git repository at `repo` (bare, work tree, `.git` directory or linked
/// worktree) and return a `Scan`, an iterator of events.
///
/// Options (keyword-only; names as in the CLI, C and Node): `mode` (`"odb-blob"`: each unique
/// blob once; `"diff-history"`: the blobs each commit introduces), `threads` (0 = one per
/// core), `rules` (path of a TOML rules file, gitleaks-compatible; default: built-in rules;
/// its warnings, such as a rule id defined twice, where the later definition wins, become
/// `UserWarning`s), `strict_rules` (every rules warning raises `RulesInvalidError` instead),
/// `store` (None, a SQLite file path, `SqliteStore`, `MemoryStore`, or an object implementing
/// `scangit.Store`), `reveal_secrets` (put the raw secret in `Finding.secret`), `abort` (an
/// `AbortToken`), `max_blob_bytes` and `memory_budget_bytes` (what exceeds them is skipped with
/// a reason), `ref_include`/`ref_exclude` (ref globs such as `"refs/heads/*"`; exclude wins),
/// `all_objects` (also blobs reachable from no ref), `since` (only commits not reachable from
/// this revision), `range` (`"A..B"`), `first_parent_only` (diff-history), `chunk_bytes`,
/// `repo_id` (the repository's name in the store), `keep_secrets` (store raw secrets),
/// `spill_dir` (temporary files of diff-history), `progress` (False: no `Progress` events),
/// `progress_interval` (seconds between progress events), `batch_events` and `queue_batches`
/// (events per batch handed to Python and batches queued before the scan waits for the
/// consumer).
///
/// Raises `InvalidArgumentError`, `RulesInvalidError` or `StoreError` for bad options here;
/// errors of the scan itself (`RepoNotFoundError`, ...) are raised by the iteration.
#[pyfunction]
#[pyo3(name = "scan", signature = (
    repo,
    *,
    mode = "odb-blob",
    threads = 0,
    rules = None,
    strict_rules = false,
    store = None,
    reveal_secrets = false,
    abort = None,
    max_blob_bytes = None,
    memory_budget_bytes = None,
    ref_include = None,
    ref_exclude = None,
    all_objects = false,
    since = None,
    range = None,
    first_parent_only = false,
    chunk_bytes = None,
    repo_id = None,
    keep_secrets = false,
    spill_dir = None,
    progress = true,
    progress_interval = None,
    batch_events = 512,
    queue_batches = 8,
))]
#[allow(clippy::too_many_arguments)]
fn start_scan(
    py: Python<'_>,
    repo: PathBuf,
    mode: &str,
    threads: i64,
    rules: Option<PathBuf>,
    strict_rules: bool,
    store: Option<&Bound<'_, PyAny>>,
    reveal_secrets: bool,
    abort: Option<&Bound<'_, PyAbortToken>>,
    max_blob_bytes: Option<i64>,
    memory_budget_bytes: Option<i64>,
    ref_include: Option<Vec<String>>,
    ref_exclude: Option<Vec<String>>,
    all_objects: bool,
    since: Option<String>,
    range: Option<String>,
    first_parent_only: bool,
    chunk_bytes: Option<i64>,
    repo_id: Option<String>,
    keep_secrets: bool,
    spill_dir: Option<PathBuf>,
    progress: bool,
    progress_interval: Option<f64>,
    batch_events: i64,
    queue_batches: i64,
) -> PyResult<scan::Scan> {
    let mode = ScanMode::parse(mode).ok_or_else(|| {
        errors::invalid(
            py,
            format!("mode must be \"odb-blob\" or \"diff-history\", got {mode:?}"),
        )
    })?;
    let mut options = ScanOptions {
        mode,
        threads: non_negative(py, "threads", threads)? as usize,
        reveal_secrets,
        abort: abort.map(|t| t.get().token.clone()),
        ref_include: ref_include.unwrap_or_default(),
        ref_exclude: ref_exclude.unwrap_or_default(),
        all_objects,
        since,
        range,
        first_parent_only,
        repo_id,
        keep_secrets,
        spill_dir,
        ..ScanOptions::default()
    };
    if let Some(v) = max_blob_bytes {
        options.max_blob_bytes = non_negative(py, "max_blob_bytes", v)?;
    }
    if let Some(v) = memory_budget_bytes {
        options.memory_budget_bytes = non_negative(py, "memory_budget_bytes", v)?;
    }
    if let Some(v) = chunk_bytes {
        options.chunk_bytes = non_negative(py, "chunk_bytes", v)? as usize;
    }
    if let Some(secs) = progress_interval {
        options.progress_interval = Duration::try_from_secs_f64(secs).map_err(|_| {
            errors::invalid(
                py,
                format!("progress_interval must be >= 0 seconds, got {secs}"),
            )
        })?;
    }
    let config = StreamConfig {
        batch_events: non_negative(py, "batch_events", batch_events)?.max(1) as usize,
        queue_batches: non_negative(py, "queue_batches", queue_batches)?.max(1) as usize,
    };
    let failure = store::FailureSlot::default();
    options.store = store::resolve(py, store, &failure)?;
    let engine = match rules {
        None => builtin_engine(py)?,
        Some(path) => file_engine(py, path, strict_rules)?,
    };
    let stream = ScanStream::start(repo, options, engine, config)
        .map_err(|e| errors::scan_error(py, &e, None))?;
    Ok(scan::Scan::new(stream, failure, progress))
}

/// The Python package `scangit`: scans every object a git repository ever held for leaked
/// credentials. See `scangit.scan`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", scangit_core::VERSION)?;
    m.add_function(wrap_pyfunction!(start_scan, m)?)?;
    m.add_function(wrap_pyfunction!(scan::_shutdown, m)?)?;
    m.add_class::<scan::Scan>()?;
    m.add_class::<PyAbortToken>()?;
    m.add_class::<events::PyFinding>()?;
    m.add_class::<events::PyCommitMeta>()?;
    m.add_class::<events::PyProgress>()?;
    m.add_class::<events::PySummary>()?;
    m.add_class::<store::PySqliteStore>()?;
    m.add_class::<store::PyMemoryStore>()?;
    errors::register(m)?;
    Ok(())
}
