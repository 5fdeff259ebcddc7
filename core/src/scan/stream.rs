//! A scan running on its own thread, its events pulled in batches: the pull-style front door
//! that the Python and Node bindings iterate over.
//!
//! [`ScanStream::start`] spawns the scan and returns at once. Worker threads append owned events
//! to a pending batch; a full batch is handed to a bounded queue, and a worker blocks (checking
//! the abort token) while the queue is full, so a slow consumer slows the scan instead of growing
//! memory. The consumer calls [`ScanStream::next_batch`]: it takes a queued batch, or, when the
//! queue stays empty for its wait, the partially filled pending batch, so a finding reaches the
//! consumer promptly even when the scan produces few events. Order is kept: batches leave the
//! pending buffer under one lock, oldest first, and the summary is always the last event.
//!
//! Results are persisted only after the consumer has received every finding and commit event:
//! before persisting, the scan waits (in [`EventSink::delivered`]) until every batch handed over
//! was returned by `next_batch` *and* the consumer asked for more after the last one. A consumer
//! that stops reading part-way (a `break` out of a Python or JS loop) aborts the scan instead of
//! leaving a store that believes it was told about findings it never saw.
//!
//! Dropping a stream (or calling [`ScanStream::abort`]) aborts the scan; drop also joins the scan
//! thread, so no native thread outlives the stream.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender, bounded};
use parking_lot::Mutex;

use crate::events::{CommitMeta, Event, EventSink, Finding, Progress, SinkAction, Summary};
use crate::{AbortToken, Engine, ScanError, ScanOptions, ScanReport};

/// An event owned by the consumer.
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedEvent {
    Finding(Finding),
    Commit(CommitMeta),
    Progress(Progress),
    Summary(Summary),
}

impl OwnedEvent {
    /// The contract's `type` field.
    pub fn type_name(&self) -> &'static str {
        self.as_event().type_name()
    }

    pub fn as_event(&self) -> Event<'_> {
        match self {
            OwnedEvent::Finding(f) => Event::Finding(f),
            OwnedEvent::Commit(c) => Event::Commit(c),
            OwnedEvent::Progress(p) => Event::Progress(p),
            OwnedEvent::Summary(s) => Event::Summary(s),
        }
    }

    fn from_event(e: Event<'_>) -> Self {
        match e {
            Event::Finding(f) => OwnedEvent::Finding(f.clone()),
            Event::Commit(c) => OwnedEvent::Commit(c.clone()),
            Event::Progress(p) => OwnedEvent::Progress(p.clone()),
            Event::Summary(s) => OwnedEvent::Summary(s.clone()),
        }
    }
}

/// Batching and backpressure knobs.
#[derive(Clone, Copy, Debug)]
pub struct StreamConfig {
    /// Events per batch handed to the queue.
    pub batch_events: usize,
    /// Full batches the queue holds before workers block.
    pub queue_batches: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            batch_events: 512,
            queue_batches: 8,
        }
    }
}

/// What [`ScanStream::next_batch`] returns.
#[derive(Debug)]
pub enum NextBatch {
    /// One or more events, oldest first.
    Events(Vec<OwnedEvent>),
    /// Nothing arrived within the wait; the scan is still running.
    Pending,
    /// The scan has ended and every event was delivered: its result (`Ok` holds the report whose
    /// summary was the last event). Returned once; later calls return [`NextBatch::Finished`].
    Done(Result<ScanReport, ScanError>),
    /// `Done` was already returned.
    Finished,
}

struct Shared {
    pending: Mutex<Vec<OwnedEvent>>,
    abort: AbortToken,
    config: StreamConfig,
    /// Batches handed towards the consumer (queued, or taken from `pending` by it).
    handed: AtomicU64,
    /// Batches the consumer has returned and then asked past (set at each `next_batch`).
    acked: AtomicU64,
}

struct BatchSink {
    shared: Arc<Shared>,
    tx: Sender<Vec<OwnedEvent>>,
}

impl BatchSink {
    /// Queue the pending batch; blocks while the queue is full. `false` when the consumer is
    /// gone or the scan was aborted while waiting.
    fn flush(&self, pending: &mut Vec<OwnedEvent>) -> bool {
        if pending.is_empty() {
            return true;
        }
        let mut batch =
            std::mem::replace(pending, Vec::with_capacity(self.shared.config.batch_events));
        // Counted before it can be received, so `acked` never passes `handed`.
        self.shared.handed.fetch_add(1, Ordering::SeqCst);
        loop {
            match self.tx.send_timeout(batch, Duration::from_millis(20)) {
                Ok(()) => return true,
                Err(SendTimeoutError::Disconnected(_)) => return false,
                Err(SendTimeoutError::Timeout(b)) => {
                    if self.shared.abort.is_aborted() {
                        return false;
                    }
                    batch = b;
                }
            }
        }
    }
}

impl EventSink for BatchSink {
    fn event(&self, event: Event<'_>) -> SinkAction {
        let last = matches!(event, Event::Summary(_));
        let mut pending = self.shared.pending.lock();
        pending.push(OwnedEvent::from_event(event));
        if (last || pending.len() >= self.shared.config.batch_events) && !self.flush(&mut pending) {
            return SinkAction::Stop;
        }
        SinkAction::Continue
    }

    fn delivered(&self) -> SinkAction {
        if !self.flush(&mut self.shared.pending.lock()) {
            return SinkAction::Stop;
        }
        // Wait for the consumer to come back for more after the last batch.
        while self.shared.acked.load(Ordering::SeqCst) < self.shared.handed.load(Ordering::SeqCst) {
            if self.shared.abort.is_aborted() {
                return SinkAction::Stop;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        SinkAction::Continue
    }
}

/// A scan in progress on its own thread; see the module documentation.
pub struct ScanStream {
    shared: Arc<Shared>,
    rx: Receiver<Vec<OwnedEvent>>,
    thread: Option<JoinHandle<Result<ScanReport, ScanError>>>,
    done: bool,
    /// Batches returned by `next_batch`.
    returned: u64,
}

impl ScanStream {
    /// Start scanning `repo`. The scan stops when `options.abort` (a caller's token, which may be
    /// shared by several scans) is triggered, or when this stream is aborted or dropped (which
    /// leaves the caller's token untouched).
    pub fn start(
        repo: PathBuf,
        mut options: ScanOptions,
        engine: Arc<Engine>,
        config: StreamConfig,
    ) -> Result<ScanStream, ScanError> {
        let config = StreamConfig {
            batch_events: config.batch_events.max(1),
            queue_batches: config.queue_batches.max(1),
        };
        let abort = options
            .abort
            .as_ref()
            .map_or_else(AbortToken::new, AbortToken::child);
        options.abort = Some(abort.clone());
        let shared = Arc::new(Shared {
            pending: Mutex::new(Vec::with_capacity(config.batch_events)),
            abort,
            config,
            handed: AtomicU64::new(0),
            acked: AtomicU64::new(0),
        });
        let (tx, rx) = bounded(config.queue_batches);
        let sink = BatchSink {
            shared: shared.clone(),
            tx,
        };
        let thread = std::thread::Builder::new()
            .name("scangit-scan".into())
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::scan::scan(&repo, &options, &engine, &sink)
                }))
                .unwrap_or_else(|p| {
                    let msg = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic".into());
                    Err(ScanError::Internal(format!("scan thread panicked: {msg}")))
                });
                // Hand over whatever is left (events before an error, for instance).
                let mut pending = sink.shared.pending.lock();
                sink.flush(&mut pending);
                result
            })
            .map_err(|e| ScanError::Internal(format!("cannot spawn the scan thread: {e}")))?;
        Ok(ScanStream {
            shared,
            rx,
            thread: Some(thread),
            done: false,
            returned: 0,
        })
    }

    /// The token that aborts this scan alone (a child of `options.abort` when one was given).
    pub fn abort_token(&self) -> &AbortToken {
        &self.shared.abort
    }

    /// Ask the scan to stop; it ends with an `Aborted` error and persists nothing.
    pub fn abort(&self) {
        self.shared.abort.abort();
    }

    /// Whether the scan thread is still running (it may have ended with events left to read).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Whether [`NextBatch::Done`] was returned.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Wait up to `wait` for events. See [`NextBatch`]. Calling it acknowledges every batch
    /// returned before: the scan persists its results only once all were acknowledged.
    pub fn next_batch(&mut self, wait: Duration) -> NextBatch {
        if self.done {
            return NextBatch::Finished;
        }
        self.shared.acked.store(self.returned, Ordering::SeqCst);
        let next = self.receive(wait);
        if matches!(next, NextBatch::Events(_)) {
            self.returned += 1;
        }
        next
    }

    fn receive(&mut self, wait: Duration) -> NextBatch {
        match self.rx.recv_timeout(wait) {
            Ok(batch) => NextBatch::Events(batch),
            Err(RecvTimeoutError::Timeout) => {
                // Nothing full arrived: take the partial batch, if the queue is still empty
                // under the lock (a worker queues only while holding it, so order is kept).
                let mut pending = self.shared.pending.lock();
                if let Ok(batch) = self.rx.try_recv() {
                    return NextBatch::Events(batch);
                }
                if pending.is_empty() {
                    NextBatch::Pending
                } else {
                    self.shared.handed.fetch_add(1, Ordering::SeqCst);
                    NextBatch::Events(std::mem::take(&mut *pending))
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.done = true;
                NextBatch::Done(self.join())
            }
        }
    }

    fn join(&mut self) -> Result<ScanReport, ScanError> {
        match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(ScanError::Internal("scan thread panicked".into()))),
            None => Err(ScanError::Internal("scan result already taken".into())),
        }
    }
}

impl Drop for ScanStream {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.shared.abort.abort();
            // Unblock a worker waiting on a full queue, then wait for the scan to stop.
            while self.rx.recv_timeout(Duration::from_millis(10)).is_ok() {}
            let _ = t.join();
        }
    }
}
