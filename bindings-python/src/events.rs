//! The event classes `Finding`, `CommitMeta`, `Progress` and `Summary`.
//!
//! Their fields are core's JSON view of the event (`scangit_core::events_json`, the one place
//! that knows them, shared with the CLI and Node), in the CLI's `--format jsonl` style: snake_case
//! names, `type`, `path_bytes_b64` for a path that is not UTF-8. `to_dict()` is that object;
//! an attribute is its field, read from the object built on first access (iterating a scan
//! costs one small allocation per event). Only what Python gives a better type than JSON is
//! its own: `path` (decoded like `os.fsdecode`, losing no byte), `path_bytes` (the raw bytes),
//! `secret` (None when absent) and `Summary.complete`.

use std::borrow::Cow;

use gix_hash::ObjectId;
use pyo3::exceptions::{PyAttributeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString};
use scangit_core::events_json::{EventView, JsonStyle, StoredFindingView, millis};
use scangit_core::store::StoredFinding;
use scangit_core::stream::OwnedEvent;
use scangit_core::{CommitMeta, Event, Finding, Progress, Summary};
use serde::Serialize;

/// The CLI's jsonl style: `type`, snake_case, `path_bytes_b64`. Secrets are written when the
/// event has one (core fills it in only for scans with `reveal_secrets`).
const EVENT_STYLE: JsonStyle = JsonStyle {
    with_type: true,
    reveal_secrets: true,
    ..JsonStyle::SNAKE
};

/// Stored findings as Node gets them, in snake_case: the exact path bytes (`path_bytes`) only
/// when the path is not UTF-8; `secret` when the store kept it.
const STORED_STYLE: JsonStyle = JsonStyle {
    path_bytes: scangit_core::events_json::PathBytes::Array,
    reveal_secrets: true,
    ..JsonStyle::SNAKE
};

/// Fields a view leaves out when they are empty; as attributes they read as None.
const OPTIONAL_FIELDS: &[&str] = &["secret"];

/// A view as a fresh Python object (`json.loads` of its JSON text: the same values the CLI
/// prints, floats included).
fn to_python<'py>(py: Python<'py>, view: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let loads = LOADS.get_or_try_init(py, || {
        PyResult::Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    let text = serde_json::to_string(view).map_err(|e| PyValueError::new_err(e.to_string()))?;
    loads.bind(py).call1((text,))
}

fn event_dict<'py>(py: Python<'py>, event: Event<'_>) -> PyResult<Bound<'py, PyDict>> {
    Ok(to_python(py, &EventView::new(event, EVENT_STYLE))?.cast_into::<PyDict>()?)
}

/// A git path (raw bytes) as `str` without losing bytes: UTF-8 with `surrogateescape`, as
/// `os.fsdecode` does on POSIX, so `os.fsencode(path) == path_bytes`.
fn path_str<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(PyString::new(py, s).into_any()),
        Err(_) => PyBytes::new(py, bytes).call_method1("decode", ("utf-8", "surrogateescape")),
    }
}

/// The first `n` hex digits of an id, for `__repr__`.
fn short(id: &ObjectId) -> String {
    id.to_hex_with_len(10).to_string()
}

/// The fields of one event: its view's object, built once.
struct Fields(PyOnceLock<Py<PyDict>>);

impl Fields {
    fn new() -> Self {
        Fields(PyOnceLock::new())
    }

    /// Field `name` of `event`'s view; a list or dict is a copy (the caller may change it).
    fn get(&self, py: Python<'_>, event: Event<'_>, name: &str) -> PyResult<Py<PyAny>> {
        let dict = self
            .0
            .get_or_try_init(py, || event_dict(py, event).map(Bound::unbind))?
            .bind(py);
        match dict.get_item(name)? {
            Some(v)
                if v.is_instance_of::<PyDict>() || v.is_instance_of::<pyo3::types::PyList>() =>
            {
                Ok(py.import("copy")?.call_method1("deepcopy", (v,))?.unbind())
            }
            Some(v) => Ok(v.unbind()),
            None if OPTIONAL_FIELDS.contains(&name) => Ok(py.None()),
            None => Err(PyAttributeError::new_err(format!(
                "'{}' object has no attribute '{name}'",
                event.type_name()
            ))),
        }
    }
}

/// One occurrence of a secret in one blob.
#[pyclass(frozen, module = "scangit", name = "Finding")]
pub struct PyFinding {
    f: Finding,
    fields: Fields,
}

#[pymethods]
impl PyFinding {
    /// The field `name` of the finding (`rule_id`, `blob`, `line`, ...: the keys of
    /// `to_dict()`); `path` as `os.fsdecode` would give it, `path_bytes` its raw bytes.
    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        match name {
            "path" => Ok(match self.f.path.as_deref() {
                Some(p) => path_str(py, p)?.unbind(),
                None => py.None(),
            }),
            "path_bytes" => Ok(match self.f.path.as_deref() {
                Some(p) => PyBytes::new(py, p).into_any().unbind(),
                None => py.None(),
            }),
            _ => self.fields.get(py, Event::Finding(&self.f), name),
        }
    }

    /// The CLI's `--format jsonl` object for this finding: same keys and values (`path` with
    /// invalid UTF-8 replaced, plus `path_bytes_b64` then; `secret` only when revealed).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        event_dict(py, Event::Finding(&self.f))
    }

    /// Rule, location and ids; never the secret.
    fn __repr__(&self) -> String {
        let f = &self.f;
        let path = f
            .path
            .as_deref()
            .map_or(Cow::Borrowed("?"), String::from_utf8_lossy);
        let commit = f.commit.as_ref().map_or_else(|| "none".into(), short);
        format!(
            "<Finding {} {}:{}:{} blob {} commit {}>",
            f.rule_id,
            path,
            f.line,
            f.column,
            short(&f.blob),
            commit
        )
    }
}

/// Metadata of a commit that has findings (at most one per commit; it may arrive after the
/// commit's first finding).
#[pyclass(frozen, module = "scangit", name = "CommitMeta")]
pub struct PyCommitMeta {
    c: CommitMeta,
    fields: Fields,
}

#[pymethods]
impl PyCommitMeta {
    /// The field `name` of the commit (`commit`, `author_name`, ...: the keys of `to_dict()`).
    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        self.fields.get(py, Event::Commit(&self.c), name)
    }

    /// The CLI's `--format jsonl` object for this commit.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        event_dict(py, Event::Commit(&self.c))
    }

    fn __repr__(&self) -> String {
        format!(
            "<CommitMeta {} {} <{}> {:?}>",
            short(&self.c.commit),
            self.c.author_name,
            self.c.author_email,
            self.c.summary
        )
    }
}

/// A throttled progress report (not per blob).
#[pyclass(frozen, module = "scangit", name = "Progress")]
pub struct PyProgress {
    p: Progress,
    fields: Fields,
}

#[pymethods]
impl PyProgress {
    /// The field `name` of the report (`phase`, `done`, `total`, `bytes_scanned`).
    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        self.fields.get(py, Event::Progress(&self.p), name)
    }

    /// `{"type": "progress", "phase", "done", "total", "bytes_scanned"}` (the CLI's jsonl does
    /// not print progress).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        event_dict(py, Event::Progress(&self.p))
    }

    fn __repr__(&self) -> String {
        format!(
            "<Progress {} {}/{} {} bytes>",
            self.p.phase.as_str(),
            self.p.done,
            self.p.total,
            self.p.bytes_scanned
        )
    }
}

/// The last event of a successful scan; also `Scan.summary` once the scan finished.
#[pyclass(frozen, module = "scangit", name = "Summary")]
pub struct PySummary {
    s: Summary,
    fields: Fields,
}

#[pymethods]
impl PySummary {
    /// The field `name` of the summary (`outcome`, `skipped`, `commits`, ..., `timings_ms`:
    /// the keys of `to_dict()`).
    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        self.fields.get(py, Event::Summary(&self.s), name)
    }

    /// Whether `outcome == "complete"`.
    #[getter]
    fn complete(&self) -> bool {
        self.s.outcome == scangit_core::Outcome::Complete
    }

    /// The CLI's `--format jsonl` summary object.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        event_dict(py, Event::Summary(&self.s))
    }

    fn __repr__(&self) -> String {
        let s = &self.s;
        format!(
            "<Summary {} findings={} commits={} blobs_scanned={}/{} bytes_scanned={} total_ms={}>",
            s.outcome.as_str(),
            s.findings,
            s.commits,
            s.blobs_scanned,
            s.blobs_planned,
            s.bytes_scanned,
            millis(s.timings.total)
        )
    }
}

/// The Python object for an event.
pub fn to_py(py: Python<'_>, event: OwnedEvent) -> PyResult<Py<PyAny>> {
    let fields = Fields::new();
    Ok(match event {
        OwnedEvent::Finding(f) => Py::new(py, PyFinding { f, fields })?.into_any(),
        OwnedEvent::Commit(c) => Py::new(py, PyCommitMeta { c, fields })?.into_any(),
        OwnedEvent::Progress(p) => Py::new(py, PyProgress { p, fields })?.into_any(),
        OwnedEvent::Summary(s) => Py::new(py, PySummary { s, fields })?.into_any(),
    })
}

/// A stored finding as a dict: core's view of it (the fields Node's stored findings have, in
/// snake_case), with `path` decoded like `os.fsdecode` and `path_bytes` as `bytes`, present
/// (as in Node) only when the path is not UTF-8.
pub fn stored_dict<'py>(py: Python<'py>, row: &StoredFinding) -> PyResult<Bound<'py, PyDict>> {
    let d = to_python(py, &StoredFindingView::new(row, STORED_STYLE))?.cast_into::<PyDict>()?;
    if let Some(p) = row.path.as_deref()
        && d.contains("path_bytes")?
    {
        d.set_item("path", path_str(py, p)?)?;
        d.set_item("path_bytes", PyBytes::new(py, p))?;
    }
    Ok(d)
}
