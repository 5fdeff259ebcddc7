//! Turning scan events into reports: the JSON style (the shapes are the core's
//! `events_json` views), grouping of findings by fingerprint, and the [`OutputSink`] that receives events from the library.
//!
//! `jsonl` streams every event as it arrives. `text`, `json` and `sarif` need the whole scan
//! (grouping and sorting), so the sink collects events and renders once the scan has finished.

pub mod json;
pub mod jsonl;
pub mod sarif;
pub mod text;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use gix_hash::ObjectId;
use scangit_core::events_json::JsonStyle;
use scangit_core::{
    CommitMeta, Event, EventSink, Finding, Outcome, ScanError, ScanReport, SinkAction, Summary,
};

use crate::error::CliError;
use crate::progress::ProgressLine;

/// Report formats of `scangit scan --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-friendly report, grouped by secret.
    Text,
    /// One JSON document, grouped by secret.
    Json,
    /// One JSON object per event and line, streamed while scanning.
    Jsonl,
    /// SARIF 2.1.0, grouped by secret.
    Sarif,
}

/// Version of the `json` document layout (bumped on incompatible changes, independent of the
/// tool version).
pub const JSON_FORMAT_VERSION: u32 = 1;

/// Choices that affect rendering but not content gathering.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// Print `Finding::secret`. Checked in addition to the library's own gate so that a secret
    /// can only reach the output when the user asked for it on this command line.
    pub reveal_secrets: bool,
    /// ANSI colours (text format only).
    pub color: bool,
}

// ---------------------------------------------------------------------------------------------
// JSON: the fields of findings, commits and summaries (and their snake_case names) are the
// core's `events_json` views, shared with the bindings.

pub fn hex(oid: &ObjectId) -> String {
    oid.to_hex().to_string()
}

/// The style of every JSON format: snake_case names, `path_bytes_b64`, `secret` only when
/// revealed. `type` is added by jsonl only.
pub fn json_style(options: RenderOptions) -> JsonStyle {
    JsonStyle {
        reveal_secrets: options.reveal_secrets,
        ..JsonStyle::SNAKE
    }
}

// ---------------------------------------------------------------------------------------------
// Grouping: the same secret in many versions of a file is one entry.

/// Everything a grouped report needs, gathered while the scan runs.
#[derive(Debug, Default)]
pub struct Collected {
    pub findings: Vec<Finding>,
    /// Keyed by commit id; a BTreeMap so every rendering iterates in a fixed order.
    pub commits: BTreeMap<ObjectId, CommitMeta>,
}

/// One secret (rule id + fingerprint) with every place it occurs.
#[derive(Debug)]
pub struct FindingGroup<'a> {
    /// The first introduction; see [`cmp_introduction`].
    pub first: &'a Finding,
    /// Every occurrence, `first` included, in introduction order.
    pub occurrences: Vec<&'a Finding>,
}

/// Orders occurrences of a secret so that the first is its first introduction:
///
/// 1. occurrences whose commit has a known time (from a `commit` event) come first, ordered by
///    **committer time** (when the commit entered history; author time survives rebases and
///    cherry-picks and can predate the history it appears in);
/// 2. then occurrences whose commit has no `commit` event, then those without a commit
///    (unreachable blobs, blobs tagged directly);
/// 3. ties are broken by commit id (hex order), path bytes (no path last), line, column, start
///    offset and blob id, so the choice never depends on event arrival order.
pub fn cmp_introduction(
    a: &Finding,
    b: &Finding,
    commits: &BTreeMap<ObjectId, CommitMeta>,
) -> Ordering {
    // (rank, time): rank 0 = commit with known time, 1 = commit without metadata, 2 = no commit.
    let time_key = |f: &Finding| match f.commit {
        Some(c) => match commits.get(&c) {
            Some(meta) => (0u8, meta.committer_time),
            None => (1, 0),
        },
        None => (2, 0),
    };
    time_key(a)
        .cmp(&time_key(b))
        .then_with(|| a.commit.cmp(&b.commit))
        .then_with(|| cmp_path(a.path.as_deref(), b.path.as_deref()))
        .then_with(|| a.line.cmp(&b.line))
        .then_with(|| a.column.cmp(&b.column))
        .then_with(|| a.start.cmp(&b.start))
        .then_with(|| a.blob.cmp(&b.blob))
}

/// Path order with "no path" last (a finding with a path is more useful to show first).
fn cmp_path(a: Option<&[u8]>, b: Option<&[u8]>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Groups findings by (rule id, fingerprint) and sorts the groups by the first introduction's
/// (rule id, path, line, blob), then column and fingerprint so the order is total.
pub fn group_findings(collected: &Collected) -> Vec<FindingGroup<'_>> {
    let mut by_key: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
    for f in &collected.findings {
        by_key
            .entry((f.rule_id.as_str(), f.fingerprint.as_str()))
            .or_default()
            .push(f);
    }
    let mut groups: Vec<FindingGroup<'_>> = by_key
        .into_values()
        .map(|mut occurrences| {
            occurrences.sort_by(|a, b| cmp_introduction(a, b, &collected.commits));
            FindingGroup {
                first: occurrences[0],
                occurrences,
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        let (x, y) = (a.first, b.first);
        x.rule_id
            .cmp(&y.rule_id)
            .then_with(|| cmp_path(x.path.as_deref(), y.path.as_deref()))
            .then_with(|| x.line.cmp(&y.line))
            .then_with(|| x.blob.cmp(&y.blob))
            .then_with(|| x.column.cmp(&y.column))
            .then_with(|| x.fingerprint.cmp(&y.fingerprint))
    });
    groups
}

// ---------------------------------------------------------------------------------------------
// The sink.

/// What the scan produced, for the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finished {
    pub findings: u64,
    pub outcome: Outcome,
}

struct State {
    writer: Box<dyn Write + Send>,
    collected: Collected,
    /// The summary event, if the library sent one.
    summary: Option<Summary>,
    /// First write error; once set the sink asks the scan to stop (a full disk or a closed pipe
    /// will not get better, and scanning on would only waste time).
    error: Option<io::Error>,
}

/// Receives events from worker threads (hence the mutex) and writes or collects them.
pub struct OutputSink {
    format: Format,
    options: RenderOptions,
    /// Where the report goes, for error messages.
    target: String,
    progress: Option<ProgressLine>,
    findings_seen: AtomicU64,
    state: Mutex<State>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in another thread while holding the lock leaves plain data behind; the panic
    // itself is reported by the caller, so keep going rather than panic again.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl OutputSink {
    pub fn new(
        format: Format,
        options: RenderOptions,
        writer: Box<dyn Write + Send>,
        target: String,
        progress: Option<ProgressLine>,
    ) -> Self {
        OutputSink {
            format,
            options,
            target,
            progress,
            findings_seen: AtomicU64::new(0),
            state: Mutex::new(State {
                writer,
                collected: Collected::default(),
                summary: None,
                error: None,
            }),
        }
    }

    /// Ends the report once `scan()` has returned: writes the grouped report (or the summary
    /// line jsonl may lack), flushes, and says what happened.
    pub fn finish(self, result: Result<ScanReport, ScanError>) -> Result<Finished, CliError> {
        if let Some(p) = &self.progress {
            p.clear();
        }
        let findings_seen = self.findings_seen.load(AtomicOrdering::Relaxed);
        let format = self.format;
        let options = self.options;
        let target = self.target;
        let mut state = self
            .state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let write_error = |source| CliError::WriteOutput {
            target: target.clone(),
            source,
        };
        // A write error explains a sink-requested abort better than "aborted".
        if let Some(e) = state.error.take() {
            return Err(write_error(e));
        }
        let report = result?;
        let summary_from_event = state.summary.is_some();
        let summary = state.summary.take().unwrap_or(report.summary);
        let w = &mut state.writer;
        let written = match format {
            // The summary event is always sent by the library; the fallback keeps the stream
            // well-formed (summary last) should it ever be missing.
            Format::Jsonl if summary_from_event => Ok(()),
            Format::Jsonl => jsonl::write_event(w, Event::Summary(&summary), options),
            Format::Json => json::render(w, &state.collected, &summary, options),
            Format::Text => text::render(w, &state.collected, &summary, options),
            Format::Sarif => sarif::render(w, &state.collected, &summary, options),
        };
        written.and_then(|()| w.flush()).map_err(write_error)?;
        Ok(Finished {
            findings: findings_seen.max(summary.findings),
            outcome: summary.outcome,
        })
    }
}

impl EventSink for OutputSink {
    fn event(&self, event: Event<'_>) -> SinkAction {
        if let Event::Progress(p) = event {
            // Progress never goes to the report, only to the terminal line.
            if let Some(line) = &self.progress {
                line.update(p);
            }
            return SinkAction::Continue;
        }
        if let Event::Finding(_) = event {
            self.findings_seen.fetch_add(1, AtomicOrdering::Relaxed);
        }
        let mut state = lock(&self.state);
        if state.error.is_some() {
            return SinkAction::Stop;
        }
        let result = match (self.format, event) {
            (Format::Jsonl, Event::Summary(s)) => {
                state.summary = Some(s.clone());
                jsonl::write_event(&mut state.writer, event, self.options)
            }
            (Format::Jsonl, _) => jsonl::write_event(&mut state.writer, event, self.options),
            (_, Event::Finding(f)) => {
                state.collected.findings.push(f.clone());
                Ok(())
            }
            (_, Event::Commit(c)) => {
                state.collected.commits.insert(c.commit, c.clone());
                Ok(())
            }
            (_, Event::Summary(s)) => {
                state.summary = Some(s.clone());
                Ok(())
            }
            (_, Event::Progress(_)) => Ok(()),
        };
        match result {
            Ok(()) => SinkAction::Continue,
            Err(e) => {
                state.error = Some(e);
                SinkAction::Stop
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Hand-built events for the format tests.

    use std::time::Duration;

    use gix_hash::ObjectId;
    use scangit_core::events::{SkipCount, SkipReason, StageTimings};
    use scangit_core::{CommitMeta, Finding, Outcome, Summary};

    use super::Collected;

    pub fn oid(fill: char) -> ObjectId {
        let hex: String = std::iter::repeat_n(fill, 40).collect();
        ObjectId::from_hex(hex.as_bytes()).expect("valid hex")
    }

    pub fn finding(
        rule: &str,
        fp: &str,
        blob: char,
        commit: Option<char>,
        path: &[u8],
        line: u64,
    ) -> Finding {
        Finding {
            location: Default::default(),
            rule_id: rule.into(),
            rule_description: format!("{rule} description"),
            blob: oid(blob),
            commit: commit.map(oid),
            path: Some(path.to_vec()),
            line,
            column: 7,
            start: 100,
            end: 120,
            fingerprint: fp.into(),
            secret: Some("AKIASECRETSECRET1234".into()),
            snippet: "key = AKIA****************".into(),
            decoded_from: vec![],
            confidence: 0.9,
        }
    }

    pub fn commit(c: char, time: i64) -> CommitMeta {
        CommitMeta {
            commit: oid(c),
            author_name: "Alice Example".into(),
            author_email: "alice@example.com".into(),
            author_time: time - 60,
            committer_name: "Bob Committer".into(),
            committer_email: "bob@example.com".into(),
            committer_time: time,
            summary: "Add config".into(),
        }
    }

    pub fn summary(findings: u64) -> Summary {
        Summary {
            outcome: Outcome::Partial,
            skipped: vec![SkipCount {
                reason: SkipReason::TooLarge,
                count: 2,
                examples: vec!["eeee: 300 MB > 256 MB".into()],
            }],
            commits: 12,
            blobs_planned: 40,
            blobs_already_seen: 0,
            blobs_scanned: 38,
            bytes_scanned: 1_234_567,
            findings,
            timings: StageTimings {
                open: Duration::from_micros(1500),
                index: Duration::from_millis(2),
                commits: Duration::from_millis(3),
                plan: Duration::from_millis(4),
                scan: Duration::from_millis(100),
                finalize: Duration::from_millis(1),
                total: Duration::from_millis(112),
            },
        }
    }

    /// One secret in three versions (commits `a` at t=2000, `b` at t=1000, `c` unknown), plus
    /// a second rule's secret once.
    pub fn collected() -> Collected {
        let mut c = Collected::default();
        c.findings.push(finding(
            "aws-access-key",
            "fp1",
            '1',
            Some('a'),
            b"config/prod.env",
            3,
        ));
        c.findings.push(finding(
            "aws-access-key",
            "fp1",
            '2',
            Some('b'),
            b"config/prod.env",
            5,
        ));
        c.findings.push(finding(
            "aws-access-key",
            "fp1",
            '3',
            Some('c'),
            b"old/prod.env",
            1,
        ));
        c.findings.push(finding(
            "github-pat",
            "fp2",
            '4',
            Some('a'),
            b"src/main.rs",
            10,
        ));
        for meta in [commit('a', 2000), commit('b', 1000)] {
            c.commits.insert(meta.commit, meta);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn groups_by_fingerprint_and_picks_earliest_commit_time() {
        let c = collected();
        let groups = group_findings(&c);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].first.rule_id, "aws-access-key");
        // Commit b (t=1000) beats a (t=2000) even though a's hex sorts first and its event
        // arrived first; c has no commit event and goes last.
        assert_eq!(groups[0].first.commit, Some(oid('b')));
        let order: Vec<_> = groups[0]
            .occurrences
            .iter()
            .map(|f| f.commit.unwrap())
            .collect();
        assert_eq!(order, vec![oid('b'), oid('a'), oid('c')]);
        assert_eq!(groups[1].first.rule_id, "github-pat");
    }

    #[test]
    fn grouping_is_independent_of_arrival_order() {
        let c = collected();
        let mut reversed = Collected {
            findings: c.findings.clone(),
            commits: c.commits.clone(),
        };
        reversed.findings.reverse();
        let a: Vec<_> = group_findings(&c)
            .iter()
            .map(|g| g.occurrences.clone())
            .collect();
        let b: Vec<_> = group_findings(&reversed)
            .iter()
            .map(|g| g.occurrences.clone())
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn ties_without_commit_metadata_break_on_commit_then_path() {
        let mut c = Collected::default();
        c.findings.push(finding("r", "fp", '1', None, b"z", 1));
        c.findings.push(finding("r", "fp", '2', Some('d'), b"y", 1));
        c.findings.push(finding("r", "fp", '3', Some('d'), b"x", 9));
        let groups = group_findings(&c);
        let paths: Vec<_> = groups[0]
            .occurrences
            .iter()
            .map(|f| f.path.clone().unwrap())
            .collect();
        assert_eq!(paths, vec![b"x".to_vec(), b"y".to_vec(), b"z".to_vec()]);
    }

    /// A writer that fails like a closed pipe.
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_failure_stops_the_scan_and_is_reported() {
        let sink = OutputSink::new(
            Format::Jsonl,
            RenderOptions::default(),
            Box::new(Broken),
            "stdout".into(),
            None,
        );
        let f = finding("r", "fp", '1', None, b"p", 1);
        // jsonl lines go through a BufWriter in main; here the raw writer fails at once.
        assert_eq!(sink.event(Event::Finding(&f)), SinkAction::Stop);
        let err = sink
            .finish(Err(ScanError::Aborted {
                cause: scangit_core::error::AbortCause::Sink,
            }))
            .unwrap_err();
        assert_eq!(err.kind(), "io");
        assert!(err.to_string().contains("stdout"), "{err}");
    }

    #[test]
    fn finish_counts_findings_and_uses_summary_event() {
        let sink = OutputSink::new(
            Format::Json,
            RenderOptions::default(),
            Box::new(io::sink()),
            "stdout".into(),
            None,
        );
        let f = finding("r", "fp", '1', None, b"p", 1);
        sink.event(Event::Finding(&f));
        let s = summary(1);
        sink.event(Event::Summary(&s));
        let done = sink
            .finish(Ok(ScanReport {
                summary: summary(0),
            }))
            .unwrap();
        assert_eq!(
            done,
            Finished {
                findings: 1,
                outcome: Outcome::Partial
            }
        );
    }
}
