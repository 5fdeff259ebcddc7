//! `scangit.Scan`: an iterator over the events of a scan running on native threads.
//!
//! Locking rules (they keep the GIL and the scan's threads from deadlocking):
//! - the stream slot is locked only while the GIL is released (`py.detach`), and nothing
//!   under it ever takes the GIL; so a thread holding the GIL may wait for the slot, never the
//!   reverse;
//! - the event buffer is locked only briefly, with the GIL held, and never across a call that
//!   may release the GIL;
//! - a [`ScanStream`] is dropped (which aborts and joins the scan thread) only with the GIL
//!   released, because the scan's threads take the GIL to call a store written in Python.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use pyo3::prelude::*;
use scangit_core::AbortToken;
use scangit_core::stream::{NextBatch, OwnedEvent, ScanStream};

use crate::errors;
use crate::events::{self, PySummary};
use crate::store::FailureSlot;

/// How long one wait for events lasts before checking for signals (Ctrl-C).
const WAIT: Duration = Duration::from_millis(50);

type StreamSlot = Arc<Mutex<Option<ScanStream>>>;

/// Every scan that may still have a native thread, so that interpreter exit can stop them all
/// before Python finalizes (a scan thread calling a Python store must not outlive it).
static LIVE: Mutex<Vec<Weak<Mutex<Option<ScanStream>>>>> = Mutex::new(Vec::new());

fn register(slot: &StreamSlot) {
    let mut live = LIVE.lock();
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(slot));
}

/// Abort and join every live scan. Call with the GIL released.
fn stop_all() {
    let slots: Vec<StreamSlot> = LIVE.lock().drain(..).filter_map(|w| w.upgrade()).collect();
    for slot in &slots {
        if let Some(stream) = slot.lock().as_ref() {
            stream.abort();
        }
    }
    for slot in slots {
        let stream = slot.lock().take();
        drop(stream);
    }
}

/// Abort every running scan and wait for their threads (registered with `atexit` by the
/// package; safe to call at any time).
#[pyfunction]
pub fn _shutdown(py: Python<'_>) {
    py.detach(stop_all);
}

/// Take the stream out of its slot and drop it (abort + join) with the GIL released.
fn release(py: Python<'_>, slot: &StreamSlot) {
    let slot = slot.clone();
    py.detach(move || {
        let stream = slot.lock().take();
        if let Some(s) = &stream {
            s.abort();
        }
        drop(stream);
    });
}

/// A running scan: iterate it for events (`Finding`, `CommitMeta`, `Progress`, and `Summary`
/// last). Created by `scangit.scan()`.
///
/// The scan runs on native threads without the GIL; events cross a bounded queue in batches
/// (the GIL is taken once per batch), so a consumer slower than the scan slows the scan down
/// instead of growing memory. An error ends the iteration by raising a `scangit.ScanError`
/// subclass. Use it as a context manager, or call `close()`, to stop it early: leaving the
/// `with` block, `close()`, and dropping the object all abort the scan and wait for its
/// threads, so no native thread outlives it. Ctrl-C while waiting for events aborts the scan
/// and raises `KeyboardInterrupt`.
#[pyclass(frozen, module = "scangit", name = "Scan")]
pub struct Scan {
    stream: StreamSlot,
    /// The stream's own token (a child of the caller's `abort=` token, if any).
    abort: AbortToken,
    buffer: Mutex<VecDeque<OwnedEvent>>,
    summary: Mutex<Option<Py<PySummary>>>,
    failure: FailureSlot,
    progress: bool,
    finished: AtomicBool,
}

impl Scan {
    pub fn new(stream: ScanStream, failure: FailureSlot, progress: bool) -> Self {
        let abort = stream.abort_token().clone();
        let slot = Arc::new(Mutex::new(Some(stream)));
        register(&slot);
        Scan {
            stream: slot,
            abort,
            buffer: Mutex::new(VecDeque::new()),
            summary: Mutex::new(None),
            failure,
            progress,
            finished: AtomicBool::new(false),
        }
    }

    /// The next buffered event that the caller wants (progress may be filtered out).
    fn pop(&self) -> Option<OwnedEvent> {
        let mut buffer = self.buffer.lock();
        while let Some(e) = buffer.pop_front() {
            if self.progress || !matches!(e, OwnedEvent::Progress(_)) {
                return Some(e);
            }
        }
        None
    }

    fn finish(&self, py: Python<'_>) {
        self.finished.store(true, Ordering::Release);
        release(py, &self.stream);
    }
}

#[pymethods]
impl Scan {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            if let Some(event) = self.pop() {
                let is_summary = matches!(event, OwnedEvent::Summary(_));
                let obj = events::to_py(py, event)?;
                if is_summary {
                    *self.summary.lock() = Some(obj.bind(py).cast::<PySummary>()?.clone().unbind());
                }
                return Ok(Some(obj));
            }
            if self.finished.load(Ordering::Acquire) {
                return Ok(None);
            }
            let slot = self.stream.clone();
            let next = py.detach(move || match slot.lock().as_mut() {
                Some(stream) => stream.next_batch(WAIT),
                None => NextBatch::Finished,
            });
            match next {
                NextBatch::Events(batch) => self.buffer.lock().extend(batch),
                NextBatch::Pending => {}
                NextBatch::Done(Ok(_)) | NextBatch::Finished => self.finish(py),
                NextBatch::Done(Err(e)) => {
                    self.finish(py);
                    let cause = if e.kind() == scangit_core::ErrorKind::Store {
                        self.failure.lock().take()
                    } else {
                        None
                    };
                    return Err(errors::scan_error(py, &e, cause));
                }
            }
            // Ctrl-C (or another signal handler raising) while we waited: stop the scan, then
            // let the exception propagate.
            if let Err(e) = py.check_signals() {
                self.abort.abort();
                self.buffer.lock().clear();
                self.finish(py);
                return Err(e);
            }
        }
    }

    /// Ask the scan to stop. Safe from any thread. Iteration then ends with `AbortedError`
    /// (events already queued are delivered first) and nothing is persisted.
    fn abort(&self) {
        self.abort.abort();
    }

    /// Whether `abort()` was called or the `abort=` token given to `scan()` was triggered.
    #[getter]
    fn aborted(&self) -> bool {
        self.abort.is_aborted()
    }

    /// The `Summary` event once the iteration reached it, else None.
    #[getter]
    fn summary(&self, py: Python<'_>) -> Option<Py<PySummary>> {
        self.summary.lock().as_ref().map(|s| s.clone_ref(py))
    }

    /// Whether the scan has ended: every event was delivered, it failed, or it was closed.
    #[getter]
    fn done(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Stop the scan (if it still runs) and wait for its native threads to end; later
    /// iteration yields nothing. Idempotent.
    fn close(&self, py: Python<'_>) {
        if !self.finished.load(Ordering::Acquire) {
            self.abort.abort();
        }
        self.buffer.lock().clear();
        self.finish(py);
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Closes the scan (see `close()`); exceptions propagate.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.finished.load(Ordering::Acquire) {
            "done"
        } else if self.abort.is_aborted() {
            "aborting"
        } else {
            "running"
        };
        format!("<Scan {state}>")
    }
}

impl Drop for Scan {
    fn drop(&mut self) {
        let Some(stream) = self.stream.lock().take() else {
            return;
        };
        stream.abort();
        // Join with the GIL released: a scan thread may be waiting for it to call a Python
        // store. `try_attach` fails only when the interpreter is gone, and then no thread can
        // be waiting for the GIL.
        let mut stream = Some(stream);
        Python::try_attach(|py| {
            let s = stream.take();
            py.detach(move || drop(s));
        });
        drop(stream);
    }
}
