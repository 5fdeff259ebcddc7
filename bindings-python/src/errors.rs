//! `scangit.ScanError` and one subclass per contract error kind, each with a `code` class
//! attribute (the kind's snake_case name) and `retryable`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;
use scangit_core::ErrorKind;
use scangit_core::ScanError as CoreError;

create_exception!(
    scangit,
    ScanError,
    PyException,
    "Base class of every error a scan raises. `code` names the kind (`\"store\"`, \
     `\"aborted\"`, ...: the contract's snake_case names, as in the CLI, C and Node); \
     `retryable` is true only for concurrent maintenance."
);
create_exception!(
    scangit,
    InvalidArgumentError,
    ScanError,
    "An option or argument is invalid (unknown mode, negative count, unusable store object)."
);
create_exception!(
    scangit,
    RepoNotFoundError,
    ScanError,
    "The path is not a git repository, or it cannot be read."
);
create_exception!(
    scangit,
    CorruptError,
    ScanError,
    "A corrupt object, pack or index the scan could not work around."
);
create_exception!(
    scangit,
    ConcurrentMaintenanceError,
    ScanError,
    "Pack files changed during the scan (git gc, repack): retry the scan."
);
create_exception!(
    scangit,
    AbortedError,
    ScanError,
    "The scan was aborted (`Scan.abort()`, an `AbortToken`, or Ctrl-C); nothing was persisted."
);
create_exception!(
    scangit,
    StoreError,
    ScanError,
    "The store failed; nothing of this scan was persisted. When a store written in Python \
     raised, `__cause__` is its exception."
);
create_exception!(
    scangit,
    RulesInvalidError,
    ScanError,
    "The rules file does not parse or a rule does not compile."
);
create_exception!(
    scangit,
    ResourceLimitError,
    ScanError,
    "A resource limit (memory budget, blob size) was exceeded where skipping was not possible."
);
create_exception!(
    scangit,
    InternalError,
    ScanError,
    "A bug in scangit (for example a caught panic); please report it."
);

const KINDS: [ErrorKind; 9] = [
    ErrorKind::InvalidArgument,
    ErrorKind::RepoNotFound,
    ErrorKind::Corrupt,
    ErrorKind::ConcurrentMaintenance,
    ErrorKind::Aborted,
    ErrorKind::Store,
    ErrorKind::RulesInvalid,
    ErrorKind::ResourceLimit,
    ErrorKind::Internal,
];

fn class_of(py: Python<'_>, kind: ErrorKind) -> Bound<'_, PyType> {
    match kind {
        ErrorKind::InvalidArgument => py.get_type::<InvalidArgumentError>(),
        ErrorKind::RepoNotFound => py.get_type::<RepoNotFoundError>(),
        ErrorKind::Corrupt => py.get_type::<CorruptError>(),
        ErrorKind::ConcurrentMaintenance => py.get_type::<ConcurrentMaintenanceError>(),
        ErrorKind::Aborted => py.get_type::<AbortedError>(),
        ErrorKind::Store => py.get_type::<StoreError>(),
        ErrorKind::RulesInvalid => py.get_type::<RulesInvalidError>(),
        ErrorKind::ResourceLimit => py.get_type::<ResourceLimitError>(),
        ErrorKind::Internal => py.get_type::<InternalError>(),
    }
}

/// Add the classes to the module and give each its `code` and `retryable`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<ScanError>();
    base.setattr("code", py.None())?;
    base.setattr("retryable", false)?;
    m.add("ScanError", base)?;
    for kind in KINDS {
        let class = class_of(py, kind);
        class.setattr("code", kind.as_str())?;
        class.setattr("retryable", kind.is_retryable())?;
        m.add(class.name()?, class)?;
    }
    Ok(())
}

/// The Python exception for a scan error of `kind` with `message`.
pub fn error(py: Python<'_>, kind: ErrorKind, message: String) -> PyErr {
    PyErr::from_type(class_of(py, kind), message)
}

/// The Python exception for `e`; `cause` (the exception a Python store raised) becomes its
/// `__cause__`.
pub fn scan_error(py: Python<'_>, e: &CoreError, cause: Option<PyErr>) -> PyErr {
    let err = error(py, e.kind(), e.to_string());
    if let Some(cause) = cause {
        err.set_cause(py, Some(cause));
    }
    err
}

/// `InvalidArgumentError` for a Python value core never sees (a store object of the wrong
/// kind), worded as core's invalid arguments.
pub fn invalid(py: Python<'_>, message: impl Into<String>) -> PyErr {
    scan_error(py, &CoreError::InvalidArgument(message.into()), None)
}
