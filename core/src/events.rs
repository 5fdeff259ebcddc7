//! Events streamed to the caller while a scan runs, and the [`EventSink`] that receives them.
//!
//! Order a consumer may rely on: findings and commit events interleave (a finding may arrive
//! before its commit's event; at most one commit event per commit), progress events are
//! throttled, and [`Summary`] is always last. Sinks are called from worker threads
//! concurrently, hence `&self` and `Sync`.

use std::time::Duration;

use gix_hash::ObjectId;

/// What kind of text a finding sits in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// A file's content (a blob).
    #[default]
    Blob,
    /// A commit message: `blob` is the commit's id, `path` is `None`.
    CommitMessage,
    /// An annotated tag's message: `blob` is the tag object's id, `path` is `None`, `commit` the
    /// commit the tag peels to (when it names one in the scanned history).
    TagMessage,
}

impl Location {
    /// `blob`, `commit-message` or `tag-message`: the name in every front door.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Blob => "blob",
            Location::CommitMessage => "commit-message",
            Location::TagMessage => "tag-message",
        }
    }
}

/// One occurrence of a secret in one blob, or in a commit's or tag's message.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    pub rule_description: String,
    /// What the secret sits in: a blob (file content) or a message.
    pub location: Location,
    /// The object the secret was found in: the blob, or the commit or tag whose message holds
    /// it. Offsets (`start`, `end`, `line`, `column`) are in that object's content (for a
    /// message, the raw commit or tag object as `git cat-file` prints it).
    pub blob: ObjectId,
    /// The commit that introduced `blob` at `path` (earliest in topological order from the roots,
    /// ties broken by path). `None` only for blobs reachable from no commit (a tag on a tree or
    /// blob, or an unreachable object scanned with `all_objects`).
    pub commit: Option<ObjectId>,
    /// Path of the blob in `commit`'s tree, as raw bytes (git paths need not be UTF-8).
    pub path: Option<Vec<u8>>,
    /// 1-based line of `start`.
    pub line: u64,
    /// 1-based column of `start`, in bytes.
    pub column: u64,
    /// Byte offsets in the blob of the reported span: the secret itself, or for secrets found in
    /// decoded text (base64, ...), the encoded text that contained it.
    pub start: u64,
    pub end: u64,
    /// Keyed hash of (rule id, secret); stable across runs and blobs, and no secret is
    /// recoverable from it.
    pub fingerprint: String,
    /// The raw secret, only when `reveal_secrets` was asked for.
    pub secret: Option<String>,
    /// The matched line with the secret masked, truncated to a few hundred bytes.
    pub snippet: String,
    /// How the text was decoded before matching (`"base64"`, `"percent"`, ...), outermost first.
    pub decoded_from: Vec<&'static str>,
    /// 0.0 to 1.0.
    pub confidence: f32,
}

/// Metadata of a commit that has findings. Emitted at most once per commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitMeta {
    pub commit: ObjectId,
    pub author_name: String,
    pub author_email: String,
    /// Seconds since the Unix epoch.
    pub author_time: i64,
    pub committer_name: String,
    pub committer_email: String,
    pub committer_time: i64,
    /// First line of the message.
    pub summary: String,
}

/// Pipeline phases reported by progress events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Open,
    Index,
    Commits,
    Plan,
    Scan,
    Finalize,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Open => "open",
            Phase::Index => "index",
            Phase::Commits => "commits",
            Phase::Plan => "plan",
            Phase::Scan => "scan",
            Phase::Finalize => "finalize",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
    pub bytes_scanned: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every planned blob was scanned.
    Complete,
    /// Something was skipped; `Summary::skipped` says what and why.
    Partial,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::Partial => "partial",
        }
    }
}

/// Why a blob (or other object) was not scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// Opaque binary content (not counted against completeness).
    Binary,
    /// Larger than `max_blob_bytes`.
    TooLarge,
    /// The object could not be decoded (corrupt pack entry, bad delta, zlib error).
    Corrupt,
    /// The object is referenced but absent (partial clone, broken repository).
    Missing,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too_large",
            SkipReason::Corrupt => "corrupt",
            SkipReason::Missing => "missing",
        }
    }

    /// Whether skipping for this reason makes the scan partial (binary content is policy, not
    /// a gap).
    pub fn makes_partial(self) -> bool {
        !matches!(self, SkipReason::Binary)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkipCount {
    pub reason: SkipReason,
    pub count: u64,
    /// A few examples (object id and message) to make a partial outcome actionable.
    pub examples: Vec<String>,
}

/// Wall time per pipeline stage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageTimings {
    pub open: Duration,
    pub index: Duration,
    pub commits: Duration,
    pub plan: Duration,
    pub scan: Duration,
    pub finalize: Duration,
    pub total: Duration,
}

/// The last event of every successful scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub outcome: Outcome,
    pub skipped: Vec<SkipCount>,
    pub commits: u64,
    pub blobs_planned: u64,
    /// Planned blobs left out because the store says an earlier scan already scanned them.
    pub blobs_already_seen: u64,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub findings: u64,
    pub timings: StageTimings,
}

/// An event, borrowed for the duration of the sink call.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    Finding(&'a Finding),
    Commit(&'a CommitMeta),
    Progress(&'a Progress),
    Summary(&'a Summary),
}

impl Event<'_> {
    /// The contract's `type` field.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::Finding(_) => "finding",
            Event::Commit(_) => "commit",
            Event::Progress(_) => "progress",
            Event::Summary(_) => "summary",
        }
    }
}

/// What the sink wants after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkAction {
    Continue,
    /// Stop the scan; it ends with an `Aborted` error and persists nothing.
    Stop,
}

/// Receives events while the scan runs. Called concurrently from worker threads.
pub trait EventSink: Sync {
    fn event(&self, event: Event<'_>) -> SinkAction;

    /// Called once, after the last finding and commit event and before the scan persists its
    /// results: return when every event so far has reached its consumer. A sink that buffers
    /// events (the pull-style [`ScanStream`](crate::scan::stream::ScanStream)) waits here until
    /// they were taken, so a consumer that stops reading never has results stored that it did
    /// not see. `Stop` aborts the scan, which then persists nothing. Synchronous sinks have
    /// delivered every event when `event` returned: the default returns `Continue` at once.
    fn delivered(&self) -> SinkAction {
        SinkAction::Continue
    }
}

impl<F> EventSink for F
where
    F: Fn(Event<'_>) -> SinkAction + Sync,
{
    fn event(&self, event: Event<'_>) -> SinkAction {
        self(event)
    }
}

/// A sink that keeps every event, for tests and small scans.
#[derive(Default)]
pub struct CollectSink {
    pub findings: parking_lot::Mutex<Vec<Finding>>,
    pub commits: parking_lot::Mutex<Vec<CommitMeta>>,
    pub progress: parking_lot::Mutex<Vec<Progress>>,
    pub summaries: parking_lot::Mutex<Vec<Summary>>,
}

impl EventSink for CollectSink {
    fn event(&self, event: Event<'_>) -> SinkAction {
        match event {
            Event::Finding(f) => self.findings.lock().push(f.clone()),
            Event::Commit(c) => self.commits.lock().push(c.clone()),
            Event::Progress(p) => self.progress.lock().push(p.clone()),
            Event::Summary(s) => self.summaries.lock().push(s.clone()),
        }
        SinkAction::Continue
    }
}
