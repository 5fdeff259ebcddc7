//! Opaque handles: the compiled rules (engine), the abort token and the scan report.

use std::ffi::{CString, c_char, c_int};
use std::path::PathBuf;
use std::sync::Arc;

use scangit_core::{AbortToken, Engine, RulesSpec};

use crate::event::{OwnedSummary, scangit_summary};
use crate::status::{FfiError, c_message, guard, guard_void, scangit_status};
use crate::util::{non_null, opt_str, write_out};

/// Compiled detection rules. Built once, immutable, shared: any number of scans on any number
/// of threads may use one engine at the same time.
pub struct scangit_engine {
    // The built-in rules' engine is compiled once per process (core's request::builtin_engine)
    // and shared by every handle to it.
    pub(crate) engine: Arc<Engine>,
    /// The rules file's warnings (`origin: rule ID: message`), NUL-terminated, in file order.
    pub(crate) warnings: Vec<CString>,
}

/// A cooperative abort flag. Trigger it from any thread (or a signal-handling thread); every
/// scan using it stops at its next boundary check and returns `SCANGIT_ABORTED`.
pub struct scangit_abort {
    pub(crate) token: AbortToken,
}

/// What a successful scan returns: its summary.
pub struct scangit_report {
    pub(crate) summary: Box<OwnedSummary>,
}

/// A `scangit_engine_open` flag: load the rules strictly. Every warning the rules file would
/// give (a rule id defined twice, a key that is not applied, ...) is an error instead:
/// `SCANGIT_RULES_INVALID`, with the warning in the message. For checking a rules file in CI,
/// or refusing a gitleaks config whose rule ids collide instead of letting the later win.
pub const SCANGIT_RULES_STRICT: u32 = 1;

/// Every flag bit `scangit_engine_open` knows.
const ENGINE_OPEN_FLAGS: u32 = SCANGIT_RULES_STRICT;

/// Load and compile the rules of the TOML file at `rules_path` (our format, gitleaks-compatible),
/// or the built-in rules when `rules_path` is NULL, into `*out` (free with
/// `scangit_engine_free`). `flags` is 0 or `SCANGIT_RULES_STRICT`; other bits are
/// `SCANGIT_INVALID_ARGUMENT`.
///
/// What the file has that is accepted but not (fully) applied, and a rule id defined twice (the
/// later definition wins, as in gitleaks), are warnings: the engine keeps them
/// (`scangit_engine_warning_count`, `scangit_engine_warning`), or with `SCANGIT_RULES_STRICT` the
/// first one fails the call. Errors: `SCANGIT_RULES_INVALID` (the message names the file, and the
/// line and rule when known), `SCANGIT_INVALID_ARGUMENT`; `*out` is untouched on failure.
/// Thread-safe.
///
/// # Safety
/// `rules_path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_engine_open(
    rules_path: *const c_char,
    flags: u32,
    out: *mut *mut scangit_engine,
) -> scangit_status {
    guard(|| {
        non_null(out, "out")?;
        let unknown = flags & !ENGINE_OPEN_FLAGS;
        if unknown != 0 {
            return Err(FfiError::invalid(format!(
                "flags has unknown bits {unknown:#x} (known: SCANGIT_RULES_STRICT = \
                 {SCANGIT_RULES_STRICT:#x})"
            )));
        }
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let path = unsafe { opt_str(rules_path, "rules_path") }?;
        let strict = flags & SCANGIT_RULES_STRICT != 0;
        let (engine, warnings) =
            RulesSpec::from_options(path.map(PathBuf::from), strict).resolve()?;
        let warnings = warnings.iter().map(|w| c_message(&w.to_string())).collect();
        let handle = Box::into_raw(Box::new(scangit_engine { engine, warnings }));
        // SAFETY: `out` is non-null and writable (caller's promise).
        unsafe { write_out(out, "out", handle) }
    })
}

/// `scangit_engine_open(rules_path, 0, out)`: the rules loaded leniently, their warnings kept on
/// the engine (`scangit_engine_warning_count`). Errors: `SCANGIT_RULES_INVALID`,
/// `SCANGIT_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
/// `rules_path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_engine_new(
    rules_path: *const c_char,
    out: *mut *mut scangit_engine,
) -> scangit_status {
    // SAFETY: the caller's promises are those of scangit_engine_open.
    unsafe { scangit_engine_open(rules_path, 0, out) }
}

/// The number of warnings the rules file gave when `engine` was made (0 for the built-in
/// rules, and always 0 with `SCANGIT_RULES_STRICT`). Thread-safe.
///
/// # Safety
/// `engine` is NULL or a live engine; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_engine_warning_count(
    engine: *const scangit_engine,
    out: *mut usize,
) -> scangit_status {
    guard(|| {
        non_null(engine, "engine")?;
        // SAFETY: non-null live handle (caller's promise).
        let n = unsafe { &*engine }.warnings.len();
        // SAFETY: caller's promise.
        unsafe { write_out(out, "out", n) }
    })
}

/// Warning `index` (0-based, below `scangit_engine_warning_count`) of `engine` in `*out`: a
/// NUL-terminated UTF-8 line `origin: rule ID: message` (the rule part only when the warning is
/// about one rule), as the CLI prints it. The string belongs to the engine and stays valid until
/// `scangit_engine_free`. An index out of range is `SCANGIT_INVALID_ARGUMENT`. Thread-safe (the
/// warnings are immutable).
///
/// # Safety
/// `engine` is NULL or a live engine; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_engine_warning(
    engine: *const scangit_engine,
    index: usize,
    out: *mut *const c_char,
) -> scangit_status {
    guard(|| {
        non_null(engine, "engine")?;
        // SAFETY: non-null live handle (caller's promise).
        let warnings = &unsafe { &*engine }.warnings;
        let Some(w) = warnings.get(index) else {
            return Err(FfiError::invalid(format!(
                "index {index} is out of range: the engine has {} warning(s)",
                warnings.len()
            )));
        };
        // SAFETY: caller's promise.
        unsafe { write_out(out, "out", w.as_ptr()) }
    })
}

/// The number of rules in `engine`. Thread-safe.
///
/// # Safety
/// `engine` is NULL or a live engine; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_engine_rule_count(
    engine: *const scangit_engine,
    out: *mut usize,
) -> scangit_status {
    guard(|| {
        non_null(engine, "engine")?;
        // SAFETY: non-null live handle (caller's promise).
        let n = unsafe { &*engine }.engine.rule_count();
        // SAFETY: caller's promise.
        unsafe { write_out(out, "out", n) }
    })
}

/// Free an engine (NULL is a no-op), and with it the strings of `scangit_engine_warning`. Not
/// while a scan on another thread still uses it.
///
/// # Safety
/// `engine` is NULL or a live engine from `scangit_engine_open` or `scangit_engine_new`, not
/// used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_engine_free(engine: *mut scangit_engine) {
    if !engine.is_null() {
        // SAFETY: made by Box::into_raw in scangit_engine_open; the caller gives it back once.
        guard_void(|| drop(unsafe { Box::from_raw(engine) }));
    }
}

/// A new, untriggered abort token in `*out` (free with `scangit_abort_free`). Thread-safe.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_abort_new(out: *mut *mut scangit_abort) -> scangit_status {
    guard(|| {
        non_null(out, "out")?;
        let handle = Box::into_raw(Box::new(scangit_abort {
            token: AbortToken::new(),
        }));
        // SAFETY: caller's promise.
        unsafe { write_out(out, "out", handle) }
    })
}

/// Trigger the token. Idempotent; thread-safe (any thread, while scans run).
///
/// # Safety
/// `abort` is NULL or a live token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_abort_trigger(abort: *const scangit_abort) -> scangit_status {
    guard(|| {
        non_null(abort, "abort")?;
        // SAFETY: non-null live handle (caller's promise).
        unsafe { &*abort }.token.abort();
        Ok(())
    })
}

/// Whether the token was triggered (`*out` = 1 or 0). Thread-safe.
///
/// # Safety
/// `abort` is NULL or a live token; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_abort_is_triggered(
    abort: *const scangit_abort,
    out: *mut c_int,
) -> scangit_status {
    guard(|| {
        non_null(abort, "abort")?;
        // SAFETY: non-null live handle (caller's promise).
        let v = unsafe { &*abort }.token.is_aborted();
        // SAFETY: caller's promise.
        unsafe { write_out(out, "out", c_int::from(v)) }
    })
}

/// Free a token (NULL is a no-op). Not while a scan using it runs or another thread may
/// trigger it.
///
/// # Safety
/// `abort` is NULL or a live token, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_abort_free(abort: *mut scangit_abort) {
    if !abort.is_null() {
        // SAFETY: made by Box::into_raw in scangit_abort_new; given back once.
        guard_void(|| drop(unsafe { Box::from_raw(abort) }));
    }
}

/// The summary of a finished scan in `*out`, valid until the report is freed. Thread-safe
/// (the report is immutable).
///
/// # Safety
/// `report` is NULL or a live report; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_report_summary(
    report: *const scangit_report,
    out: *mut *const scangit_summary,
) -> scangit_status {
    guard(|| {
        if report.is_null() {
            return Err(FfiError::invalid("report is NULL"));
        }
        // SAFETY: non-null live handle (caller's promise).
        let s: *const scangit_summary = &unsafe { &*report }.summary.c;
        // SAFETY: caller's promise.
        unsafe { write_out(out, "out", s) }
    })
}

/// Free a report (NULL is a no-op).
///
/// # Safety
/// `report` is NULL or a live report from `scangit_scan`, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_report_free(report: *mut scangit_report) {
    if !report.is_null() {
        // SAFETY: made by Box::into_raw in scangit_scan; given back once.
        guard_void(|| drop(unsafe { Box::from_raw(report) }));
    }
}
