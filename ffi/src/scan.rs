//! `scangit_scan`: one scan of one repository, events to a C sink, a report back.

use std::ffi::c_char;

use scangit_core::events::{Event, SinkAction};

use crate::event::{CSink, OwnedSummary, scangit_sink};
use crate::handles::{scangit_engine, scangit_report};
use crate::options::scangit_options;
use crate::status::{FfiError, guard, scangit_status};
use crate::store::take_store_failure;
use crate::util::{non_null, read_sized, req_str};

/// Scan the repository at `repo_path` (bare, work tree or `.git` file) with `engine`.
///
/// - `options`: NULL for the defaults, or initialized with `scangit_options_init`.
/// - `sink`: NULL to receive no events, or initialized with `scangit_sink_init`; its callback
///   runs on worker threads, concurrently (see `scangit_sink`).
/// - `report`: NULL, or where to put the report of a successful scan (free with
///   `scangit_report_free`); set to NULL on failure.
///
/// Returns `SCANGIT_OK` or the failure's status (message: `scangit_last_error_message`). An
/// aborted scan, a sink that stopped or failed, and a store callback failure persist nothing.
///
/// Thread-safety: any number of scans may run at once on different threads, sharing an
/// engine, a store and an abort token; blocks until the scan ends.
///
/// # Safety
/// Every pointer is NULL or valid as described; handles and strings in `options` are live for
/// the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_scan(
    engine: *const scangit_engine,
    repo_path: *const c_char,
    options: *const scangit_options,
    sink: *const scangit_sink,
    report: *mut *mut scangit_report,
) -> scangit_status {
    if !report.is_null() {
        // SAFETY: non-null and writable per the caller.
        unsafe { report.write(std::ptr::null_mut()) };
    }
    guard(|| {
        non_null(engine, "engine")?;
        // SAFETY: per the caller (NUL-terminated string).
        let repo = unsafe { req_str(repo_path, "repo_path") }?;
        let opts = if options.is_null() {
            scangit_options::default()
        } else {
            // SAFETY: a size-prefixed struct per the caller.
            unsafe { read_sized(options) }?
        };
        // SAFETY: non-null live handle per the caller.
        let engine = unsafe { &*engine }.engine.clone();
        let resolved = opts.request(engine)?.resolve()?;
        let csink = if sink.is_null() {
            None
        } else {
            // SAFETY: a size-prefixed struct per the caller.
            Some(CSink::new(&unsafe { read_sized(sink) }?)?)
        };
        let (core_opts, engine) = (&resolved.options, &*resolved.engine);
        take_store_failure();
        let noop = |_: Event<'_>| SinkAction::Continue;
        let result = match &csink {
            Some(s) => scangit_core::scan(std::path::Path::new(repo), core_opts, engine, s),
            None => scangit_core::scan(std::path::Path::new(repo), core_opts, engine, &noop),
        };
        let store_failure = take_store_failure();
        let sink_failure = csink.as_ref().and_then(|s| *s.failure.lock());
        if let Some((status, rc)) = sink_failure {
            return Err(FfiError {
                status,
                message: format!("event sink callback returned status {rc}"),
            });
        }
        let done = match result {
            Ok(done) => done,
            Err(e) => {
                let mut err = FfiError::from(e);
                if let Some(s) =
                    store_failure.filter(|_| err.status == scangit_status::SCANGIT_STORE)
                {
                    err.status = s;
                }
                return Err(err);
            }
        };
        if !report.is_null() {
            let r = Box::into_raw(Box::new(scangit_report {
                summary: OwnedSummary::new(&done.summary),
            }));
            // SAFETY: non-null and writable per the caller.
            unsafe { report.write(r) };
        }
        Ok(())
    })
}
