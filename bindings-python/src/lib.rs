//! `scangit._native`: the Python front door of libscangit (the package `scangit` re-exports it).
//!
//! Thin by design: keyword arguments become core's [`ScanRequest`] (which checks them, loads the
//! rules and opens the store), the scan runs in a [`ScanStream`] on native threads, and events
//! are wrapped as they are handed to Python. See
//! `bindings-python/README.md` for the API.

use std::path::PathBuf;

use pyo3::prelude::*;
use scangit_core::stream::ScanStream;
use scangit_core::{AbortToken, RulesSpec, RulesWarning, ScanRequest};

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

/// Each rules warning as a Python `UserWarning`: "rules " and the warning's own text (origin,
/// rule id, message), as the CLI prints it.
fn warn_rules(py: Python<'_>, warnings: &[RulesWarning]) -> PyResult<()> {
    let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
    for w in warnings {
        PyErr::warn(
            py,
            &category,
            &std::ffi::CString::new(format!("rules {w}").replace('\0', " "))?,
            1,
        )?;
    }
    Ok(())
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
    let failure = store::FailureSlot::default();
    let request = ScanRequest {
        mode: Some(mode.to_owned()),
        threads: Some(threads),
        rules: RulesSpec::from_options(rules, strict_rules),
        store: store::resolve(store, &failure)?,
        reveal_secrets,
        max_blob_bytes,
        memory_budget_bytes,
        chunk_bytes,
        ref_include: ref_include.unwrap_or_default(),
        ref_exclude: ref_exclude.unwrap_or_default(),
        all_objects,
        since,
        range,
        first_parent_only,
        repo_id,
        keep_secrets,
        abort: abort.map(|t| t.get().token.clone()),
        spill_dir,
        progress_interval_secs: progress_interval,
        batch_events: Some(batch_events),
        queue_batches: Some(queue_batches),
    };
    // Rules compilation and opening a SQLite file block: without the GIL.
    let resolved = py
        .detach(|| request.resolve())
        .map_err(|e| errors::scan_error(py, &e, None))?;
    warn_rules(py, &resolved.warnings)?;
    let stream = ScanStream::start(repo, resolved.options, resolved.engine, resolved.stream)
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
