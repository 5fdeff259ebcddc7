//! The event classes `Finding`, `CommitMeta`, `Progress` and `Summary`.
//!
//! Each wraps the core's owned event and converts a field only when it is read, so iterating a
//! scan costs one small allocation per event. `to_dict()` returns exactly the object the CLI
//! prints as one `--format jsonl` line (same keys, same values), `type` included; `Progress`,
//! which the CLI does not print, follows the same naming.

use std::borrow::Cow;
use std::time::Duration;

use gix_hash::ObjectId;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use scangit_core::events::StageTimings;
use scangit_core::stream::OwnedEvent;
use scangit_core::{CommitMeta, Finding, Progress, Summary};

fn hex(id: &ObjectId) -> String {
    id.to_hex().to_string()
}

/// The first `n` hex digits of an id, for `__repr__`.
fn short(id: &ObjectId) -> String {
    id.to_hex_with_len(10).to_string()
}

/// A git path (raw bytes) as `str` without losing bytes: UTF-8 with `surrogateescape`, as
/// `os.fsdecode` does on POSIX, so `os.fsencode(path) == path_bytes`.
fn path_str<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(PyString::new(py, s).into_any()),
        Err(_) => PyBytes::new(py, bytes).call_method1("decode", ("utf-8", "surrogateescape")),
    }
}

/// Standard base64 with padding (the CLI's `path_bytes_b64`).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An `f32` as the `f64` whose shortest decimal form is the `f32`'s (0.95, not
/// 0.949999988079071), which is what the CLI's JSON shows.
fn f32_as_f64(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

/// Milliseconds rounded to microseconds, as the CLI's `timings_ms`.
fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// One occurrence of a secret in one blob.
#[pyclass(frozen, module = "scangit", name = "Finding")]
pub struct PyFinding {
    pub(crate) f: Finding,
}

#[pymethods]
impl PyFinding {
    /// Always `"finding"`.
    #[getter]
    #[pyo3(name = "type")]
    fn kind(&self) -> &'static str {
        "finding"
    }

    /// The rule that matched (`"aws-access-key-id"`, ...).
    #[getter]
    fn rule_id(&self) -> &str {
        &self.f.rule_id
    }

    /// What the rule detects, in words.
    #[getter]
    fn rule_description(&self) -> &str {
        &self.f.rule_description
    }

    /// The blob the secret was found in (hex object id).
    #[getter]
    fn blob(&self) -> String {
        hex(&self.f.blob)
    }

    /// The commit that introduced the blob at `path` (hex), or None for a blob reachable from
    /// no commit (tagged directly, or unreachable and scanned with `all_objects`).
    #[getter]
    fn commit(&self) -> Option<String> {
        self.f.commit.as_ref().map(hex)
    }

    /// The blob's path in `commit`'s tree, decoded like `os.fsdecode` (UTF-8, undecodable bytes
    /// as surrogate escapes), or None. `path_bytes` has the raw bytes.
    #[getter]
    fn path<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.f.path.as_deref().map(|p| path_str(py, p)).transpose()
    }

    /// The path's raw bytes (git paths need not be UTF-8), or None.
    #[getter]
    fn path_bytes<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.f.path.as_deref().map(|p| PyBytes::new(py, p))
    }

    /// 1-based line of `start`.
    #[getter]
    fn line(&self) -> u64 {
        self.f.line
    }

    /// 1-based column of `start`, in bytes.
    #[getter]
    fn column(&self) -> u64 {
        self.f.column
    }

    /// Byte offset in the blob where the reported span starts.
    #[getter]
    fn start(&self) -> u64 {
        self.f.start
    }

    /// Byte offset in the blob where the reported span ends (exclusive).
    #[getter]
    fn end(&self) -> u64 {
        self.f.end
    }

    /// Keyed hash of (rule, secret): stable across runs and blobs; the secret cannot be
    /// recovered from it.
    #[getter]
    fn fingerprint(&self) -> &str {
        &self.f.fingerprint
    }

    /// The raw secret, only when the scan was started with `reveal_secrets=True`; else None.
    #[getter]
    fn secret(&self) -> Option<&str> {
        self.f.secret.as_deref()
    }

    /// The matched line with the secret masked.
    #[getter]
    fn snippet(&self) -> &str {
        &self.f.snippet
    }

    /// How the text was decoded before matching (`"base64"`, `"percent"`, ...), outermost first.
    #[getter]
    fn decoded_from(&self) -> Vec<&'static str> {
        self.f.decoded_from.clone()
    }

    /// 0.0 to 1.0.
    #[getter]
    fn confidence(&self) -> f64 {
        f32_as_f64(self.f.confidence)
    }

    /// The CLI's `--format jsonl` object for this finding: same keys and values (`path` with
    /// invalid UTF-8 replaced, plus `path_bytes_b64` then; `secret` only when revealed).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let f = &self.f;
        let d = PyDict::new(py);
        d.set_item("type", "finding")?;
        d.set_item("rule_id", &f.rule_id)?;
        d.set_item("rule_description", &f.rule_description)?;
        d.set_item("blob", hex(&f.blob))?;
        d.set_item("commit", f.commit.as_ref().map(hex))?;
        let (path, b64) = match f.path.as_deref() {
            None => (None, None),
            Some(p) => match std::str::from_utf8(p) {
                Ok(s) => (Some(Cow::Borrowed(s)), None),
                Err(_) => (Some(String::from_utf8_lossy(p)), Some(base64(p))),
            },
        };
        d.set_item("path", path)?;
        if let Some(b64) = b64 {
            d.set_item("path_bytes_b64", b64)?;
        }
        d.set_item("line", f.line)?;
        d.set_item("column", f.column)?;
        d.set_item("start", f.start)?;
        d.set_item("end", f.end)?;
        d.set_item("fingerprint", &f.fingerprint)?;
        if let Some(secret) = &f.secret {
            d.set_item("secret", secret)?;
        }
        d.set_item("snippet", &f.snippet)?;
        d.set_item("decoded_from", PyList::new(py, &f.decoded_from)?)?;
        d.set_item("confidence", f32_as_f64(f.confidence))?;
        Ok(d)
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
    pub(crate) c: CommitMeta,
}

#[pymethods]
impl PyCommitMeta {
    /// Always `"commit"`.
    #[getter]
    #[pyo3(name = "type")]
    fn kind(&self) -> &'static str {
        "commit"
    }

    /// The commit id (hex).
    #[getter]
    fn commit(&self) -> String {
        hex(&self.c.commit)
    }

    /// Author name.
    #[getter]
    fn author_name(&self) -> &str {
        &self.c.author_name
    }

    /// Author email.
    #[getter]
    fn author_email(&self) -> &str {
        &self.c.author_email
    }

    /// Seconds since the Unix epoch.
    #[getter]
    fn author_time(&self) -> i64 {
        self.c.author_time
    }

    /// Committer name.
    #[getter]
    fn committer_name(&self) -> &str {
        &self.c.committer_name
    }

    /// Committer email.
    #[getter]
    fn committer_email(&self) -> &str {
        &self.c.committer_email
    }

    /// Seconds since the Unix epoch.
    #[getter]
    fn committer_time(&self) -> i64 {
        self.c.committer_time
    }

    /// First line of the commit message.
    #[getter]
    fn summary(&self) -> &str {
        &self.c.summary
    }

    /// The CLI's `--format jsonl` object for this commit.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = &self.c;
        let d = PyDict::new(py);
        d.set_item("type", "commit")?;
        d.set_item("commit", hex(&c.commit))?;
        d.set_item("author_name", &c.author_name)?;
        d.set_item("author_email", &c.author_email)?;
        d.set_item("author_time", c.author_time)?;
        d.set_item("committer_name", &c.committer_name)?;
        d.set_item("committer_email", &c.committer_email)?;
        d.set_item("committer_time", c.committer_time)?;
        d.set_item("summary", &c.summary)?;
        Ok(d)
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
    pub(crate) p: Progress,
}

#[pymethods]
impl PyProgress {
    /// Always `"progress"`.
    #[getter]
    #[pyo3(name = "type")]
    fn kind(&self) -> &'static str {
        "progress"
    }

    /// `"open"`, `"index"`, `"commits"`, `"plan"`, `"scan"` or `"finalize"`.
    #[getter]
    fn phase(&self) -> &'static str {
        self.p.phase.as_str()
    }

    /// Work done in this phase (blobs while scanning).
    #[getter]
    fn done(&self) -> u64 {
        self.p.done
    }

    /// Total work of this phase, when known (else 0).
    #[getter]
    fn total(&self) -> u64 {
        self.p.total
    }

    /// Blob bytes scanned so far.
    #[getter]
    fn bytes_scanned(&self) -> u64 {
        self.p.bytes_scanned
    }

    /// `{"type": "progress", "phase", "done", "total", "bytes_scanned"}` (the CLI's jsonl does
    /// not print progress).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("type", "progress")?;
        d.set_item("phase", self.p.phase.as_str())?;
        d.set_item("done", self.p.done)?;
        d.set_item("total", self.p.total)?;
        d.set_item("bytes_scanned", self.p.bytes_scanned)?;
        Ok(d)
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
    pub(crate) s: Summary,
}

fn timings_dict<'py>(py: Python<'py>, t: &StageTimings) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, v) in [
        ("open", t.open),
        ("index", t.index),
        ("commits", t.commits),
        ("plan", t.plan),
        ("scan", t.scan),
        ("finalize", t.finalize),
        ("total", t.total),
    ] {
        d.set_item(name, millis(v))?;
    }
    Ok(d)
}

#[pymethods]
impl PySummary {
    /// Always `"summary"`.
    #[getter]
    #[pyo3(name = "type")]
    fn kind(&self) -> &'static str {
        "summary"
    }

    /// `"complete"` (every planned blob scanned) or `"partial"` (see `skipped`).
    #[getter]
    fn outcome(&self) -> &'static str {
        self.s.outcome.as_str()
    }

    /// Whether `outcome == "complete"`.
    #[getter]
    fn complete(&self) -> bool {
        self.s.outcome == scangit_core::Outcome::Complete
    }

    /// What was not scanned and why: a list of `{"reason", "count", "examples"}` dicts
    /// (`reason` is `"binary"`, `"too_large"`, `"corrupt"` or `"missing"`; binary blobs are
    /// skipped by policy and do not make a scan partial).
    #[getter]
    fn skipped<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for k in &self.s.skipped {
            let d = PyDict::new(py);
            d.set_item("reason", k.reason.as_str())?;
            d.set_item("count", k.count)?;
            d.set_item("examples", PyList::new(py, &k.examples)?)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// Commits walked.
    #[getter]
    fn commits(&self) -> u64 {
        self.s.commits
    }

    /// Blobs the plan selected.
    #[getter]
    fn blobs_planned(&self) -> u64 {
        self.s.blobs_planned
    }

    /// Planned blobs left out because the store says an earlier scan scanned them.
    #[getter]
    fn blobs_already_seen(&self) -> u64 {
        self.s.blobs_already_seen
    }

    /// Blobs scanned.
    #[getter]
    fn blobs_scanned(&self) -> u64 {
        self.s.blobs_scanned
    }

    /// Blob bytes scanned.
    #[getter]
    fn bytes_scanned(&self) -> u64 {
        self.s.bytes_scanned
    }

    /// Finding events emitted.
    #[getter]
    fn findings(&self) -> u64 {
        self.s.findings
    }

    /// Wall time per stage in milliseconds: `open`, `index`, `commits`, `plan`, `scan`,
    /// `finalize`, `total`.
    #[getter]
    fn timings_ms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        timings_dict(py, &self.s.timings)
    }

    /// The CLI's `--format jsonl` summary object.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.s;
        let d = PyDict::new(py);
        d.set_item("type", "summary")?;
        d.set_item("outcome", s.outcome.as_str())?;
        d.set_item("skipped", self.skipped(py)?)?;
        d.set_item("commits", s.commits)?;
        d.set_item("blobs_planned", s.blobs_planned)?;
        d.set_item("blobs_already_seen", s.blobs_already_seen)?;
        d.set_item("blobs_scanned", s.blobs_scanned)?;
        d.set_item("bytes_scanned", s.bytes_scanned)?;
        d.set_item("findings", s.findings)?;
        d.set_item("timings_ms", timings_dict(py, &s.timings)?)?;
        Ok(d)
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
    Ok(match event {
        OwnedEvent::Finding(f) => Py::new(py, PyFinding { f })?.into_any(),
        OwnedEvent::Commit(c) => Py::new(py, PyCommitMeta { c })?.into_any(),
        OwnedEvent::Progress(p) => Py::new(py, PyProgress { p })?.into_any(),
        OwnedEvent::Summary(s) => Py::new(py, PySummary { s })?.into_any(),
    })
}
