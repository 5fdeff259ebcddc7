//! The shared, thread-safe state of one scan: the event sink, abort checks, skip accounting,
//! counters, and what finalize will need.
//!
//! Invariants: a skip for a reason that makes the scan partial also records the blob as a gap
//! (so finalize never marks it seen); the outcome is `Partial` exactly when such a skip
//! happened.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gix_hash::ObjectId;
use parking_lot::Mutex;

use super::finalize::ScannedBlob;
use crate::error::AbortCause;
use crate::events::{Event, Outcome, Phase, Progress, SinkAction, SkipCount, SkipReason};
use crate::{EventSink, ScanError, ScanOptions};

const MAX_SKIP_EXAMPLES: usize = 5;

pub(super) struct ScanState<'a> {
    pub options: &'a ScanOptions,
    sink: &'a dyn EventSink,
    sink_stopped: AtomicBool,
    skips: Mutex<BTreeMap<SkipReason, (u64, Vec<String>)>>,
    pub blobs_scanned: AtomicU64,
    pub bytes_scanned: AtomicU64,
    pub findings: AtomicU64,
    last_progress: Mutex<Instant>,
    pub fingerprint_key: [u8; 32],
    /// What finalize needs, kept only when a store will receive it.
    records: Option<Mutex<Records>>,
}

/// Scanned blobs and gaps, for finalize.
#[derive(Default)]
pub(super) struct Records {
    pub blobs: Vec<ScannedBlob>,
    pub gaps: Vec<ObjectId>,
}

impl<'a> ScanState<'a> {
    pub fn new(options: &'a ScanOptions, sink: &'a dyn EventSink) -> Self {
        Self {
            options,
            sink,
            sink_stopped: AtomicBool::new(false),
            skips: Mutex::new(BTreeMap::new()),
            blobs_scanned: AtomicU64::new(0),
            bytes_scanned: AtomicU64::new(0),
            findings: AtomicU64::new(0),
            last_progress: Mutex::new(Instant::now() - Duration::from_secs(3600)),
            fingerprint_key: options
                .fingerprint_key
                .unwrap_or_else(crate::detect::fingerprint::default_key),
            records: options
                .store
                .as_ref()
                .map(|_| Mutex::new(Records::default())),
        }
    }

    pub fn should_abort(&self) -> bool {
        self.sink_stopped.load(Ordering::Relaxed)
            || self.options.abort.as_ref().is_some_and(|a| a.is_aborted())
    }

    pub fn abort_error(&self) -> ScanError {
        let cause = if self.sink_stopped.load(Ordering::Relaxed) {
            AbortCause::Sink
        } else {
            AbortCause::Token
        };
        ScanError::Aborted { cause }
    }

    pub fn check(&self) -> Result<(), ScanError> {
        if self.should_abort() {
            Err(self.abort_error())
        } else {
            Ok(())
        }
    }

    /// Wait until the sink has delivered every event so far (see [`EventSink::delivered`]).
    pub fn delivered(&self) -> Result<(), ScanError> {
        if self.sink.delivered() == SinkAction::Stop {
            self.sink_stopped.store(true, Ordering::Relaxed);
        }
        self.check()
    }

    pub fn emit(&self, e: Event<'_>) {
        if self.sink.event(e) == SinkAction::Stop {
            self.sink_stopped.store(true, Ordering::Relaxed);
        }
    }

    pub fn skip(&self, reason: SkipReason, example: impl FnOnce() -> String) {
        let mut s = self.skips.lock();
        let slot = s.entry(reason).or_default();
        slot.0 += 1;
        if slot.1.len() < MAX_SKIP_EXAMPLES {
            slot.1.push(example());
        }
    }

    /// Skip a planned blob: counted, and remembered as a gap when the reason makes the scan
    /// partial (so finalize never marks it seen).
    pub fn skip_blob(&self, reason: SkipReason, id: ObjectId, example: impl FnOnce() -> String) {
        self.skip(reason, example);
        if reason.makes_partial()
            && let Some(r) = &self.records
        {
            r.lock().gaps.push(id);
        }
    }

    /// Whether finalize records are kept (a store will receive them).
    pub fn keeps_records(&self) -> bool {
        self.records.is_some()
    }

    pub fn record(&self, blob: ScannedBlob) {
        if let Some(r) = &self.records {
            r.lock().blobs.push(blob);
        }
    }

    /// The records collected so far, taken out of the state.
    pub fn take_records(&self) -> Records {
        self.records
            .as_ref()
            .map(|r| std::mem::take(&mut *r.lock()))
            .unwrap_or_default()
    }

    /// The skip counts and the outcome they imply.
    pub fn outcome(&self) -> (Outcome, Vec<SkipCount>) {
        let skips = self.skips.lock();
        let partial = skips.keys().any(|r| r.makes_partial());
        let skipped = skips
            .iter()
            .map(|(reason, (count, examples))| SkipCount {
                reason: *reason,
                count: *count,
                examples: examples.clone(),
            })
            .collect();
        let outcome = if partial {
            Outcome::Partial
        } else {
            Outcome::Complete
        };
        (outcome, skipped)
    }

    /// Emit a progress event, at most once per `progress_interval` unless `force`d.
    pub fn progress(&self, phase: Phase, done: u64, total: u64, force: bool) {
        let now = Instant::now();
        {
            let Some(mut last) = self.last_progress.try_lock() else {
                return;
            };
            if !force && now.duration_since(*last) < self.options.progress_interval {
                return;
            }
            *last = now;
        }
        self.emit(Event::Progress(&Progress {
            phase,
            done,
            total,
            bytes_scanned: self.bytes_scanned.load(Ordering::Relaxed),
        }));
    }
}
