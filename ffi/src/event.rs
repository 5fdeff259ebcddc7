//! Events as C structs, and the adapter from a C sink vtable to [`scangit_core::EventSink`].
//!
//! Every pointer in an event borrows from the scan and is valid only during the callback.
//! Strings are pointer + length (not NUL-terminated); an absent value has a NULL pointer.
//! Structs here are only ever extended by appending fields.

use std::ffi::{c_char, c_int, c_void};

use parking_lot::Mutex;
use scangit_core::events::{CommitMeta, Finding, Progress, Summary};
use scangit_core::{Event, EventSink, Outcome, SinkAction};

use crate::status::scangit_status;
use crate::util::Sized_;

/// A borrowed string: `len` bytes at `ptr`, not NUL-terminated (print with `%.*s`). Text is
/// UTF-8 except `scangit_finding.path`, which is the raw git path. `ptr` is NULL when absent.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_str {
    pub ptr: *const c_char,
    pub len: usize,
}

impl scangit_str {
    pub(crate) const NONE: scangit_str = scangit_str {
        ptr: std::ptr::null(),
        len: 0,
    };

    pub(crate) fn of(s: &[u8]) -> Self {
        Self {
            ptr: s.as_ptr().cast(),
            len: s.len(),
        }
    }

    fn opt(s: Option<&[u8]>) -> Self {
        s.map_or(Self::NONE, Self::of)
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum scangit_event_kind {
    SCANGIT_EVENT_FINDING = 1,
    SCANGIT_EVENT_COMMIT = 2,
    SCANGIT_EVENT_PROGRESS = 3,
    SCANGIT_EVENT_SUMMARY = 4,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum scangit_outcome {
    /// Every planned blob was scanned.
    SCANGIT_OUTCOME_COMPLETE = 0,
    /// Something was skipped for a gap reason; see `scangit_summary.skipped`.
    SCANGIT_OUTCOME_PARTIAL = 1,
}

impl From<Outcome> for scangit_outcome {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Complete => scangit_outcome::SCANGIT_OUTCOME_COMPLETE,
            Outcome::Partial => scangit_outcome::SCANGIT_OUTCOME_PARTIAL,
        }
    }
}

/// One occurrence of a secret in one blob (the contract's `finding`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_finding {
    pub rule_id: scangit_str,
    pub rule_description: scangit_str,
    /// Hex object id of the blob.
    pub blob: scangit_str,
    /// Hex id of the commit that introduced the blob at `path`; NULL for blobs reachable from
    /// no commit.
    pub commit: scangit_str,
    /// Raw path bytes (not necessarily UTF-8); NULL when `commit` is.
    pub path: scangit_str,
    /// 1-based line and byte column of `start`.
    pub line: u64,
    pub column: u64,
    /// Byte offsets of the reported span in the blob.
    pub start: u64,
    pub end: u64,
    /// Stable keyed hash of (rule, secret); no secret is recoverable from it.
    pub fingerprint: scangit_str,
    /// The raw secret; NULL unless `reveal_secrets` was set.
    pub secret: scangit_str,
    /// The matched line with the secret masked.
    pub snippet: scangit_str,
    /// Decodings applied before matching, outermost first, comma-separated ("" when none).
    pub decoded_from: scangit_str,
    /// 0.0 to 1.0.
    pub confidence: f32,
    /// What the secret sits in: "blob" (a file's content), "commit-message" (`blob` is then the
    /// commit's id) or "tag-message" (`blob` is the tag object's id); `path` is NULL for
    /// messages.
    pub location: scangit_str,
}

/// Metadata of a commit that has findings; at most one per commit.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_commit {
    /// Hex object id.
    pub commit: scangit_str,
    pub author_name: scangit_str,
    pub author_email: scangit_str,
    /// Seconds since the Unix epoch.
    pub author_time: i64,
    pub committer_name: scangit_str,
    pub committer_email: scangit_str,
    pub committer_time: i64,
    /// First line of the message.
    pub summary: scangit_str,
}

/// Throttled progress.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_progress {
    /// "open", "index", "commits", "plan", "scan" or "finalize".
    pub phase: scangit_str,
    pub done: u64,
    pub total: u64,
    pub bytes_scanned: u64,
}

/// Objects skipped for one reason.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_skip {
    /// "binary" (policy, not a gap), "too_large", "corrupt" or "missing".
    pub reason: scangit_str,
    pub count: u64,
}

/// The last event of a successful scan, and what `scangit_report_summary` returns.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_summary {
    pub outcome: scangit_outcome,
    pub skipped: *const scangit_skip,
    pub skipped_count: usize,
    pub commits: u64,
    pub blobs_planned: u64,
    /// Planned blobs left out because the store had them as scanned under the same rules.
    pub blobs_already_seen: u64,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub findings: u64,
    /// Wall time per stage, in nanoseconds.
    pub open_ns: u64,
    pub index_ns: u64,
    pub commits_ns: u64,
    pub plan_ns: u64,
    pub scan_ns: u64,
    pub finalize_ns: u64,
    pub total_ns: u64,
}

/// An event, valid only during the sink callback. Exactly the pointer matching `kind` is
/// non-NULL.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_event {
    pub kind: scangit_event_kind,
    pub finding: *const scangit_finding,
    pub commit: *const scangit_commit,
    pub progress: *const scangit_progress,
    pub summary: *const scangit_summary,
}

/// Receives events. The callback returns `SCANGIT_OK` to continue, `SCANGIT_ABORTED` to stop
/// the scan (it then returns `SCANGIT_ABORTED` and persists nothing), or any other status to
/// fail the scan with that status (nothing persisted; for a failure on the summary event the
/// results were already persisted, and the status is still returned).
///
/// Thread-safety: `on_event` is called from the scan's worker threads, concurrently; it must be
/// thread-safe (lock inside, or scan with `threads = 1`, which calls it from one thread only).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct scangit_sink {
    /// `sizeof(scangit_sink)`, set by `scangit_sink_init`.
    pub size: usize,
    pub user_data: *mut c_void,
    pub on_event:
        Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const scangit_event) -> c_int>,
}

impl Default for scangit_sink {
    fn default() -> Self {
        Self {
            size: std::mem::size_of::<Self>(),
            user_data: std::ptr::null_mut(),
            on_event: None,
        }
    }
}

impl Sized_ for scangit_sink {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    const NAME: &'static str = "scangit_sink";
    fn set_size(&mut self, size: usize) {
        self.size = size;
    }
}

/// Fill `sink` with defaults (NULL callback and user data) and `sink->size = size`; pass
/// `sizeof(*sink)`. Thread-safe.
///
/// # Safety
/// `sink` is NULL or valid for writes of `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn scangit_sink_init(sink: *mut scangit_sink, size: usize) -> scangit_status {
    // SAFETY: forwarded contract.
    crate::status::guard(|| unsafe { crate::util::init_sized(sink, size) })
}

/// A summary with the storage its C view points into.
pub(crate) struct OwnedSummary {
    skips: Vec<scangit_skip>,
    pub c: scangit_summary,
}

impl OwnedSummary {
    pub fn new(s: &Summary) -> Box<Self> {
        let skips: Vec<scangit_skip> = s
            .skipped
            .iter()
            .map(|k| scangit_skip {
                reason: scangit_str::of(k.reason.as_str().as_bytes()),
                count: k.count,
            })
            .collect();
        let ns = |d: std::time::Duration| d.as_nanos().min(u64::MAX as u128) as u64;
        let t = &s.timings;
        let mut b = Box::new(Self {
            skips,
            c: scangit_summary {
                outcome: s.outcome.into(),
                skipped: std::ptr::null(),
                skipped_count: 0,
                commits: s.commits,
                blobs_planned: s.blobs_planned,
                blobs_already_seen: s.blobs_already_seen,
                blobs_scanned: s.blobs_scanned,
                bytes_scanned: s.bytes_scanned,
                findings: s.findings,
                open_ns: ns(t.open),
                index_ns: ns(t.index),
                commits_ns: ns(t.commits),
                plan_ns: ns(t.plan),
                scan_ns: ns(t.scan),
                finalize_ns: ns(t.finalize),
                total_ns: ns(t.total),
            },
        });
        // The Vec's buffer does not move with the Box, so the pointer stays valid.
        b.c.skipped = b.skips.as_ptr();
        b.c.skipped_count = b.skips.len();
        b
    }
}

/// The sink adapter: a C vtable behind [`EventSink`].
pub(crate) struct CSink {
    on_event: unsafe extern "C" fn(*mut c_void, *const scangit_event) -> c_int,
    user_data: *mut c_void,
    /// The first failure status a callback returned (other than continue/stop).
    pub failure: Mutex<Option<(scangit_status, c_int)>>,
}

// SAFETY: the header documents that `on_event` is called concurrently from worker threads
// and must be thread-safe, user data included; the adapter itself only reads its fields.
unsafe impl Sync for CSink {}
// SAFETY: as above; the adapter never outlives the `scangit_scan` call that made it.
unsafe impl Send for CSink {}

impl CSink {
    pub fn new(sink: &scangit_sink) -> crate::status::FfiResult<Self> {
        let on_event = sink
            .on_event
            .ok_or_else(|| crate::status::FfiError::invalid("scangit_sink.on_event is NULL"))?;
        Ok(Self {
            on_event,
            user_data: sink.user_data,
            failure: Mutex::new(None),
        })
    }

    fn call(&self, e: &scangit_event) -> SinkAction {
        // SAFETY: `on_event` came from the caller's sink struct; `e` and everything it points to
        // live until the call returns, as documented.
        let rc = unsafe { (self.on_event)(self.user_data, e) };
        match scangit_status::from_int(rc) {
            Some(scangit_status::SCANGIT_OK) => SinkAction::Continue,
            Some(scangit_status::SCANGIT_ABORTED) => SinkAction::Stop,
            other => {
                let mut f = self.failure.lock();
                if f.is_none() {
                    *f = Some((other.unwrap_or(scangit_status::SCANGIT_INTERNAL), rc));
                }
                SinkAction::Stop
            }
        }
    }
}

fn hex<'b>(id: &gix_hash::oid, buf: &'b mut [u8; 64]) -> &'b [u8] {
    id.hex_to_buf(buf).as_bytes()
}

fn finding(f: &Finding, sink: &CSink) -> SinkAction {
    let (mut b, mut c) = ([0u8; 64], [0u8; 64]);
    let decoded;
    let decoded_from: &[u8] = match f.decoded_from.as_slice() {
        [] => b"",
        [one] => one.as_bytes(),
        many => {
            decoded = many.join(",");
            decoded.as_bytes()
        }
    };
    let cf = scangit_finding {
        rule_id: scangit_str::of(f.rule_id.as_bytes()),
        rule_description: scangit_str::of(f.rule_description.as_bytes()),
        blob: scangit_str::of(hex(&f.blob, &mut b)),
        commit: scangit_str::opt(f.commit.as_ref().map(|id| hex(id, &mut c))),
        path: scangit_str::opt(f.path.as_deref()),
        line: f.line,
        column: f.column,
        start: f.start,
        end: f.end,
        fingerprint: scangit_str::of(f.fingerprint.as_bytes()),
        secret: scangit_str::opt(f.secret.as_deref().map(str::as_bytes)),
        snippet: scangit_str::of(f.snippet.as_bytes()),
        decoded_from: scangit_str::of(decoded_from),
        confidence: f.confidence,
        location: scangit_str::of(f.location.as_str().as_bytes()),
    };
    sink.call(&scangit_event {
        kind: scangit_event_kind::SCANGIT_EVENT_FINDING,
        finding: &cf,
        ..EMPTY
    })
}

fn commit(m: &CommitMeta, sink: &CSink) -> SinkAction {
    let mut b = [0u8; 64];
    let cc = scangit_commit {
        commit: scangit_str::of(hex(&m.commit, &mut b)),
        author_name: scangit_str::of(m.author_name.as_bytes()),
        author_email: scangit_str::of(m.author_email.as_bytes()),
        author_time: m.author_time,
        committer_name: scangit_str::of(m.committer_name.as_bytes()),
        committer_email: scangit_str::of(m.committer_email.as_bytes()),
        committer_time: m.committer_time,
        summary: scangit_str::of(m.summary.as_bytes()),
    };
    sink.call(&scangit_event {
        kind: scangit_event_kind::SCANGIT_EVENT_COMMIT,
        commit: &cc,
        ..EMPTY
    })
}

fn progress(p: &Progress, sink: &CSink) -> SinkAction {
    let cp = scangit_progress {
        phase: scangit_str::of(p.phase.as_str().as_bytes()),
        done: p.done,
        total: p.total,
        bytes_scanned: p.bytes_scanned,
    };
    sink.call(&scangit_event {
        kind: scangit_event_kind::SCANGIT_EVENT_PROGRESS,
        progress: &cp,
        ..EMPTY
    })
}

const EMPTY: scangit_event = scangit_event {
    kind: scangit_event_kind::SCANGIT_EVENT_FINDING,
    finding: std::ptr::null(),
    commit: std::ptr::null(),
    progress: std::ptr::null(),
    summary: std::ptr::null(),
};

impl EventSink for CSink {
    fn event(&self, event: Event<'_>) -> SinkAction {
        match event {
            Event::Finding(f) => finding(f, self),
            Event::Commit(m) => commit(m, self),
            Event::Progress(p) => progress(p, self),
            Event::Summary(s) => {
                let owned = OwnedSummary::new(s);
                self.call(&scangit_event {
                    kind: scangit_event_kind::SCANGIT_EVENT_SUMMARY,
                    summary: &owned.c,
                    ..EMPTY
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    unsafe extern "C" fn noop(_: *mut c_void, e: *const scangit_event) -> c_int {
        black_box(e);
        0
    }

    fn sample() -> Finding {
        Finding {
            location: Default::default(),
            rule_id: "aws-access-key-id".into(),
            rule_description: "AWS access key id".into(),
            blob: gix_hash::ObjectId::from_hex(b"458113b2072b8d472887e3458556070882666087")
                .unwrap(),
            commit: Some(
                gix_hash::ObjectId::from_hex(b"b427d568d127a0880b05b383e28584be007419e6").unwrap(),
            ),
            path: Some(b"deploy/copy_14.env".to_vec()),
            line: 5,
            column: 21,
            start: 149,
            end: 169,
            fingerprint: "f50acdffb948687a310255c61b03b2cd".into(),
            secret: None,
            snippet: "aws_access_key_id = *****".into(),
            decoded_from: vec![],
            confidence: 0.9,
        }
    }

    #[test]
    fn a_finding_reaches_c_with_its_fields() {
        unsafe extern "C" fn check(_: *mut c_void, e: *const scangit_event) -> c_int {
            // SAFETY: the adapter passes a live event with a finding.
            let f = unsafe { &*(*e).finding };
            // SAFETY: pointer + length from the adapter.
            let blob = unsafe { std::slice::from_raw_parts(f.blob.ptr.cast::<u8>(), f.blob.len) };
            assert_eq!(blob, b"458113b2072b8d472887e3458556070882666087");
            assert!(f.secret.ptr.is_null() && f.line == 5);
            5 // SCANGIT_ABORTED: stop
        }
        let sink = CSink::new(&scangit_sink {
            on_event: Some(check),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(sink.event(Event::Finding(&sample())), SinkAction::Stop);
        assert!(sink.failure.lock().is_none());
    }

    /// Per-finding cost of the C adapter (conversion + indirect call) against a Rust sink.
    /// `cargo test --release -p scangit-ffi -- --ignored --nocapture finding_event_overhead`
    #[test]
    #[ignore]
    fn finding_event_overhead() {
        let f = sample();
        let n = 2_000_000u32;
        let c = CSink::new(&scangit_sink {
            on_event: Some(noop),
            ..Default::default()
        })
        .unwrap();
        let rust = |e: Event<'_>| {
            black_box(e);
            SinkAction::Continue
        };
        let rust: &dyn EventSink = &rust;
        for (name, sink) in [("rust", rust), ("c", &c as &dyn EventSink)] {
            let t = std::time::Instant::now();
            for _ in 0..n {
                black_box(sink.event(Event::Finding(black_box(&f))));
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "{name}: {:.1} M finding events/s ({:.1} ns each)",
                n as f64 / s / 1e6,
                s * 1e9 / n as f64
            );
        }
    }
}
