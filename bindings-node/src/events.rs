//! Events as JSON text, built on the libuv worker that pulled the batch, so the JS main thread
//! only runs `JSON.parse` (V8's fastest way to build many small objects).
//!
//! Field names are the CLI's jsonl names in camelCase (`rule_id` -> `ruleId`), plus `type`.
//! Progress events are included (the CLI's jsonl leaves them out). A git path that is not valid
//! UTF-8 is given as a lossy string in `path` and, only then, as its exact bytes in `pathBytes`
//! (a JSON array here; `index.js` turns it into a `Buffer`).

use std::borrow::Cow;
use std::time::Duration;

use scangit_core::events::{CommitMeta, Finding, Progress, Summary};
use scangit_core::stream::OwnedEvent;
use serde::Serialize;

/// A batch of events as a JSON array, and whether any finding carries `pathBytes`.
pub struct JsonBatch {
    pub json: String,
    pub has_path_bytes: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FindingJs<'a> {
    r#type: &'static str,
    rule_id: &'a str,
    rule_description: &'a str,
    blob: String,
    commit: Option<String>,
    path: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_bytes: Option<&'a [u8]>,
    line: u64,
    column: u64,
    start: u64,
    end: u64,
    fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
    snippet: &'a str,
    decoded_from: &'a [&'static str],
    confidence: f32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CommitJs<'a> {
    r#type: &'static str,
    commit: String,
    author_name: &'a str,
    author_email: &'a str,
    author_time: i64,
    committer_name: &'a str,
    committer_email: &'a str,
    committer_time: i64,
    summary: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressJs {
    r#type: &'static str,
    phase: &'static str,
    done: u64,
    total: u64,
    bytes_scanned: u64,
}

#[derive(Serialize)]
struct SkipJs<'a> {
    reason: &'static str,
    count: u64,
    examples: &'a [String],
}

#[derive(Serialize)]
struct TimingsJs {
    open: f64,
    index: f64,
    commits: f64,
    plan: f64,
    scan: f64,
    finalize: f64,
    total: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryJs<'a> {
    r#type: &'static str,
    outcome: &'static str,
    skipped: Vec<SkipJs<'a>>,
    commits: u64,
    blobs_planned: u64,
    blobs_already_seen: u64,
    blobs_scanned: u64,
    bytes_scanned: u64,
    findings: u64,
    timings_ms: TimingsJs,
}

/// Milliseconds with microsecond resolution, as the CLI's `timings_ms`.
fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// A git path as JS sees it: a string, plus the exact bytes when they are not valid UTF-8 (the
/// string is then a lossy rendering).
pub(crate) fn path_fields(path: Option<&[u8]>) -> (Option<Cow<'_, str>>, Option<&[u8]>) {
    match path {
        None => (None, None),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(s) => (Some(Cow::Borrowed(s)), None),
            Err(_) => (Some(String::from_utf8_lossy(bytes)), Some(bytes)),
        },
    }
}

fn finding(f: &Finding, reveal_secrets: bool) -> FindingJs<'_> {
    let (path, path_bytes) = path_fields(f.path.as_deref());
    FindingJs {
        r#type: "finding",
        rule_id: &f.rule_id,
        rule_description: &f.rule_description,
        blob: f.blob.to_hex().to_string(),
        commit: f.commit.as_ref().map(|c| c.to_hex().to_string()),
        path,
        path_bytes,
        line: f.line,
        column: f.column,
        start: f.start,
        end: f.end,
        fingerprint: &f.fingerprint,
        // The core sets `secret` only with reveal_secrets; checked again here.
        secret: if reveal_secrets {
            f.secret.as_deref()
        } else {
            None
        },
        snippet: &f.snippet,
        decoded_from: &f.decoded_from,
        confidence: f.confidence,
    }
}

fn commit(c: &CommitMeta) -> CommitJs<'_> {
    CommitJs {
        r#type: "commit",
        commit: c.commit.to_hex().to_string(),
        author_name: &c.author_name,
        author_email: &c.author_email,
        author_time: c.author_time,
        committer_name: &c.committer_name,
        committer_email: &c.committer_email,
        committer_time: c.committer_time,
        summary: &c.summary,
    }
}

fn progress(p: &Progress) -> ProgressJs {
    ProgressJs {
        r#type: "progress",
        phase: p.phase.as_str(),
        done: p.done,
        total: p.total,
        bytes_scanned: p.bytes_scanned,
    }
}

fn summary(s: &Summary) -> SummaryJs<'_> {
    let t = &s.timings;
    SummaryJs {
        r#type: "summary",
        outcome: s.outcome.as_str(),
        skipped: s
            .skipped
            .iter()
            .map(|k| SkipJs {
                reason: k.reason.as_str(),
                count: k.count,
                examples: &k.examples,
            })
            .collect(),
        commits: s.commits,
        blobs_planned: s.blobs_planned,
        blobs_already_seen: s.blobs_already_seen,
        blobs_scanned: s.blobs_scanned,
        bytes_scanned: s.bytes_scanned,
        findings: s.findings,
        timings_ms: TimingsJs {
            open: millis(t.open),
            index: millis(t.index),
            commits: millis(t.commits),
            plan: millis(t.plan),
            scan: millis(t.scan),
            finalize: millis(t.finalize),
            total: millis(t.total),
        },
    }
}

/// Serialize a batch as one JSON array.
pub fn to_json(
    events: &[OwnedEvent],
    reveal_secrets: bool,
) -> Result<JsonBatch, serde_json::Error> {
    let mut out = Vec::with_capacity(events.len() * 512 + 2);
    let mut has_path_bytes = false;
    out.push(b'[');
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match e {
            OwnedEvent::Finding(f) => {
                let f = finding(f, reveal_secrets);
                has_path_bytes |= f.path_bytes.is_some();
                serde_json::to_writer(&mut out, &f)?;
            }
            OwnedEvent::Commit(c) => serde_json::to_writer(&mut out, &commit(c))?,
            OwnedEvent::Progress(p) => serde_json::to_writer(&mut out, &progress(p))?,
            OwnedEvent::Summary(s) => serde_json::to_writer(&mut out, &summary(s))?,
        }
    }
    out.push(b']');
    // serde_json writes valid UTF-8 only.
    let json = String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))?;
    Ok(JsonBatch {
        json,
        has_path_bytes,
    })
}
