//! Stores: `scangit.SqliteStore`, `scangit.MemoryStore`, and any Python object with the three
//! methods of the `scangit.Store` protocol, adapted to the core's [`KvBackend`].
//!
//! A Python store is called from the scan's native threads, which take the GIL for each call
//! (the iterating thread releases it while it waits for events). An exception raised by the
//! store fails the call with [`StoreError::Backend`]; the original exception is kept in the
//! scan's failure slot so that the `scangit.StoreError` raised to the caller can chain it as
//! `__cause__`.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyTuple};
use scangit_core::store::kv::KvPairs;
use scangit_core::store::kv::shared_commit_lock;
use scangit_core::store::{KvBackend, KvStore, MemoryStore, SqliteStore, StoreError};
use scangit_core::{StoreRef, StoreSpec};

use crate::errors;

/// The exception a Python store raised during one scan (the first one; later failures are
/// usually its consequences).
pub type FailureSlot = Arc<Mutex<Option<PyErr>>>;

/// An embedded SQLite store (a file, created if needed; WAL mode). Shareable: several scans,
/// threads and processes may use one file. Its `findings` table can be read with plain SQL.
#[pyclass(frozen, module = "scangit", name = "SqliteStore")]
pub struct PySqliteStore {
    store: Arc<SqliteStore>,
}

#[pymethods]
impl PySqliteStore {
    /// Open (creating if needed) the SQLite store at `path`. Raises `StoreError`.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let store = py
            .detach(|| SqliteStore::open(&path))
            .map_err(|e| errors::scan_error(py, &scangit_core::ScanError::from(e), None))?;
        Ok(Self {
            store: Arc::new(store),
        })
    }

    /// The file's path.
    #[getter]
    fn path(&self) -> PathBuf {
        self.store.path().to_path_buf()
    }

    /// Every stored finding (of one repository when `repo_id` is given; scans name a repository
    /// by the canonical path of its git directory unless `repo_id=` was passed), as dicts with
    /// `repo_id`, `rules_hash`, `rule_id`, `commit`, `path`, `path_bytes` (only for a path that
    /// is not UTF-8, as in Node), `line`, `column`, `start`, `end`, `blob`, `fingerprint`,
    /// `first_seen` and, when the scan kept secrets, `secret`: core's view of a stored finding.
    #[pyo3(signature = (repo_id=None))]
    fn findings<'py>(
        &self,
        py: Python<'py>,
        repo_id: Option<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        let store = self.store.clone();
        let rows = py
            .detach(move || store.stored_findings(repo_id.as_deref()))
            .map_err(|e| errors::scan_error(py, &scangit_core::ScanError::from(e), None))?;
        let list = PyList::empty(py);
        for r in &rows {
            list.append(crate::events::stored_dict(py, r)?)?;
        }
        Ok(list)
    }

    fn __repr__(&self) -> String {
        format!("SqliteStore({:?})", self.store.path().display().to_string())
    }
}

/// A store held in this process's memory: incremental scans within one process, nothing on
/// disk. Shareable between scans and threads.
#[pyclass(frozen, module = "scangit", name = "MemoryStore")]
pub struct PyMemoryStore {
    store: Arc<MemoryStore>,
}

#[pymethods]
impl PyMemoryStore {
    /// An empty store.
    #[new]
    fn new() -> Self {
        Self {
            store: Arc::new(MemoryStore::new()),
        }
    }

    fn __repr__(&self) -> String {
        "MemoryStore()".into()
    }
}

/// Why a Python store call failed: the exception's `repr`-like text (the exception itself is in
/// the failure slot).
#[derive(Debug)]
struct PythonStoreFailure(String);

impl std::fmt::Display for PythonStoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PythonStoreFailure {}

/// A Python object implementing `get_many`, `scan_prefix` and `write_batch`.
struct PyBackend {
    obj: Py<PyAny>,
    failure: FailureSlot,
}

/// The bytes of a `bytes`, `bytearray` or other buffer object (`memoryview`, ...).
fn bytes_of(item: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = item.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = item.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if item.is_instance_of::<pyo3::types::PyString>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{what}: expected bytes, got str"
        )));
    }
    // Anything else that supports the buffer protocol (memoryview, ...).
    match item.py().get_type::<PyBytes>().call1((item,)) {
        Ok(b) => Ok(b.cast::<PyBytes>()?.as_bytes().to_vec()),
        Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{what}: expected bytes, got {}",
            item.get_type().name()?
        ))),
    }
}

impl PyBackend {
    fn call<T>(
        &self,
        method: &'static str,
        f: impl for<'py> FnOnce(Python<'py>, &Bound<'py, PyAny>) -> PyResult<T>,
    ) -> Result<T, StoreError> {
        let result = Python::try_attach(|py| {
            f(py, self.obj.bind(py)).map_err(|e| {
                let text = e.to_string();
                let mut slot = self.failure.lock();
                if slot.is_none() {
                    *slot = Some(e);
                }
                text
            })
        });
        let text = match result {
            Some(Ok(v)) => return Ok(v),
            Some(Err(text)) => text,
            None => "the Python interpreter is shutting down".to_string(),
        };
        Err(StoreError::backend(
            format!("Python store {method}"),
            PythonStoreFailure(text),
        ))
    }
}

impl KvBackend for PyBackend {
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.call("get_many", |py, obj| {
            let list = PyList::new(py, keys.iter().map(|k| PyBytes::new(py, k)))?;
            let answer = obj.call_method1("get_many", (list,))?;
            let mut out = Vec::with_capacity(keys.len());
            for item in answer.try_iter()? {
                let item = item?;
                out.push(if item.is_none() {
                    None
                } else {
                    Some(bytes_of(&item, "get_many")?)
                });
            }
            Ok(out)
        })
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<KvPairs, StoreError> {
        self.call("scan_prefix", |py, obj| {
            let answer = obj.call_method1("scan_prefix", (PyBytes::new(py, prefix),))?;
            let mut out = Vec::new();
            for item in answer.try_iter()? {
                let item = item?;
                let pair = item.cast::<PyTuple>().map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err(
                        "scan_prefix: expected (key, value) tuples",
                    )
                })?;
                if pair.len() != 2 {
                    return Err(pyo3::exceptions::PyTypeError::new_err(
                        "scan_prefix: expected (key, value) tuples",
                    ));
                }
                let key = bytes_of(&pair.get_item(0)?, "scan_prefix key")?;
                if !key.starts_with(prefix) {
                    return Err(pyo3::exceptions::PyValueError::new_err(
                        "scan_prefix: returned a key without the prefix",
                    ));
                }
                out.push((key, bytes_of(&pair.get_item(1)?, "scan_prefix value")?));
            }
            Ok(out)
        })
    }

    fn write_batch(&self, puts: KvPairs) -> Result<(), StoreError> {
        self.call("write_batch", |py, obj| {
            let items = PyList::empty(py);
            for (k, v) in &puts {
                items.append(PyTuple::new(
                    py,
                    [PyBytes::new(py, k), PyBytes::new(py, v)],
                )?)?;
            }
            obj.call_method1("write_batch", (items,))?;
            Ok(())
        })
    }
}

/// The store for a scan's `store=` argument: None, a path or store spec string (`FILE.db`,
/// `sqlite:PATH`; opened by core when the request is resolved), a `SqliteStore`, a
/// `MemoryStore`, or an object implementing the `scangit.Store` protocol (wrapped per scan, with
/// `failure` as its exception slot).
pub fn resolve(store: Option<&Bound<'_, PyAny>>, failure: &FailureSlot) -> PyResult<StoreSpec> {
    let Some(obj) = store else {
        return Ok(StoreSpec::None);
    };
    if obj.is_none() {
        return Ok(StoreSpec::None);
    }
    if let Ok(s) = obj.cast::<PySqliteStore>() {
        return Ok(StoreSpec::Store(StoreRef(s.get().store.clone())));
    }
    if let Ok(s) = obj.cast::<PyMemoryStore>() {
        return Ok(StoreSpec::Store(StoreRef(s.get().store.clone())));
    }
    if obj.is_instance_of::<pyo3::types::PyString>() || obj.hasattr("__fspath__")? {
        let path: PathBuf = obj.extract()?;
        return Ok(StoreSpec::location(path));
    }
    let py = obj.py();
    for method in ["get_many", "scan_prefix", "write_batch"] {
        if !obj.getattr(method).is_ok_and(|m| m.is_callable()) {
            return Err(errors::invalid(
                py,
                format!(
                    "store: expected a path, scangit.SqliteStore, scangit.MemoryStore or an \
                     object with get_many, scan_prefix and write_batch methods; {} has no \
                     {method}()",
                    obj.get_type().name()?
                ),
            ));
        }
    }
    // One commit lock per Python object (by address, while any scan holds it): concurrent scans
    // into the same object keep "newer never loses".
    let lock = shared_commit_lock(obj.as_ptr() as usize as u64);
    Ok(StoreSpec::Store(StoreRef::new(KvStore::with_commit_lock(
        PyBackend {
            obj: obj.clone().unbind(),
            failure: failure.clone(),
        },
        lock,
    ))))
}
