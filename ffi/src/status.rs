//! Status codes, the thread-local last error message, and the guard every entry point runs in.
//!
//! The codes are the contract's error kinds (one enum, mapped once from
//! [`scangit_core::ErrorKind`]). A panic caught by [`guard`] becomes `SCANGIT_INTERNAL`.

use std::cell::RefCell;
use std::ffi::{CString, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};

use scangit_core::{ErrorKind, ScanError};

/// What every `scangit_*` function returns. `SCANGIT_OK` is 0; callbacks return these values
/// as `int`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum scangit_status {
    SCANGIT_OK = 0,
    /// A null pointer, bad UTF-8, a wrong struct size or an out-of-range value.
    SCANGIT_INVALID_ARGUMENT = 1,
    /// Not a git repository, or it cannot be read.
    SCANGIT_REPO_NOT_FOUND = 2,
    /// A corrupt object or pack.
    SCANGIT_CORRUPT = 3,
    /// Packs changed during the scan (`git gc`); retrying may succeed.
    SCANGIT_CONCURRENT_MAINTENANCE = 4,
    /// The abort token was triggered or the sink asked to stop; nothing was persisted.
    SCANGIT_ABORTED = 5,
    /// The persistence store failed; nothing was persisted.
    SCANGIT_STORE = 6,
    /// The rules file does not parse or compile.
    SCANGIT_RULES_INVALID = 7,
    /// A resource limit was exceeded.
    SCANGIT_RESOURCE_LIMIT = 8,
    /// A bug in libscangit (for example a caught panic).
    SCANGIT_INTERNAL = 9,
}

use scangit_status::*;

impl scangit_status {
    pub(crate) fn from_kind(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidArgument => SCANGIT_INVALID_ARGUMENT,
            ErrorKind::RepoNotFound => SCANGIT_REPO_NOT_FOUND,
            ErrorKind::Corrupt => SCANGIT_CORRUPT,
            ErrorKind::ConcurrentMaintenance => SCANGIT_CONCURRENT_MAINTENANCE,
            ErrorKind::Aborted => SCANGIT_ABORTED,
            ErrorKind::Store => SCANGIT_STORE,
            ErrorKind::RulesInvalid => SCANGIT_RULES_INVALID,
            ErrorKind::ResourceLimit => SCANGIT_RESOURCE_LIMIT,
            ErrorKind::Internal => SCANGIT_INTERNAL,
        }
    }

    /// A status returned by a C callback; `None` for values outside the enum.
    pub(crate) fn from_int(v: c_int) -> Option<Self> {
        Some(match v {
            0 => SCANGIT_OK,
            1 => SCANGIT_INVALID_ARGUMENT,
            2 => SCANGIT_REPO_NOT_FOUND,
            3 => SCANGIT_CORRUPT,
            4 => SCANGIT_CONCURRENT_MAINTENANCE,
            5 => SCANGIT_ABORTED,
            6 => SCANGIT_STORE,
            7 => SCANGIT_RULES_INVALID,
            8 => SCANGIT_RESOURCE_LIMIT,
            9 => SCANGIT_INTERNAL,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            SCANGIT_OK => "ok\0",
            SCANGIT_INVALID_ARGUMENT => "invalid_argument\0",
            SCANGIT_REPO_NOT_FOUND => "repo_not_found\0",
            SCANGIT_CORRUPT => "corrupt\0",
            SCANGIT_CONCURRENT_MAINTENANCE => "concurrent_maintenance\0",
            SCANGIT_ABORTED => "aborted\0",
            SCANGIT_STORE => "store\0",
            SCANGIT_RULES_INVALID => "rules_invalid\0",
            SCANGIT_RESOURCE_LIMIT => "resource_limit\0",
            SCANGIT_INTERNAL => "internal\0",
        }
    }
}

/// A failed call: the status and the message `scangit_last_error_message()` will return.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub status: scangit_status,
    pub message: String,
}

impl FfiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: SCANGIT_INVALID_ARGUMENT,
            message: message.into(),
        }
    }
}

impl From<ScanError> for FfiError {
    fn from(e: ScanError) -> Self {
        Self {
            status: scangit_status::from_kind(e.kind()),
            message: e.to_string(),
        }
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// What C may see of a message: interior NULs would truncate it, so they become spaces.
pub(crate) fn c_message(message: &str) -> CString {
    CString::new(message.replace('\0', " ")).unwrap_or_default()
}

fn set_last_error(message: &str) {
    let c = c_message(message);
    LAST_ERROR.with(|m| *m.borrow_mut() = c);
}

/// Run an entry point: a returned error or a panic becomes a status and the thread's last error
/// message; success clears the message.
pub(crate) fn guard(f: impl FnOnce() -> FfiResult) -> scangit_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_last_error("");
            SCANGIT_OK
        }
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("internal error: panic in libscangit: {what}"));
            SCANGIT_INTERNAL
        }
    }
}

/// Run a void entry point (the `*_free` functions): a panic is swallowed, never unwound into C.
pub(crate) fn guard_void(f: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(f));
}

/// The message of the last failed `scangit_*` call on this thread ("" after a successful
/// call). Thread-safe (each thread has its own); the pointer stays valid until the next
/// `scangit_*` call on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn scangit_last_error_message() -> *const c_char {
    catch_unwind(|| LAST_ERROR.with(|m| m.borrow().as_ptr())).unwrap_or(c"internal error".as_ptr())
}

/// The stable snake_case name of a status (`"invalid_argument"`, ...); `"unknown"` for values
/// outside the enum. Static string; thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn scangit_status_name(status: c_int) -> *const c_char {
    match scangit_status::from_int(status) {
        Some(s) => s.name().as_ptr().cast(),
        None => c"unknown".as_ptr(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_with_a_message() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, SCANGIT_INTERNAL);
        // SAFETY: the pointer is this thread's NUL-terminated message.
        let msg = unsafe { std::ffi::CStr::from_ptr(scangit_last_error_message()) };
        assert!(msg.to_str().unwrap().contains("boom"), "{msg:?}");
        assert_eq!(guard(|| Ok(())), SCANGIT_OK);
        // SAFETY: as above.
        let msg = unsafe { std::ffi::CStr::from_ptr(scangit_last_error_message()) };
        assert!(msg.is_empty());
    }

    #[test]
    fn every_error_kind_maps_to_its_own_status() {
        for v in 0..=9 {
            let s = scangit_status::from_int(v).unwrap();
            assert_eq!(s as c_int, v);
        }
        assert!(scangit_status::from_int(10).is_none());
        assert!(scangit_status::from_int(-1).is_none());
    }
}
