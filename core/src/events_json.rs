//! The JSON form of scan events and stored findings: the one place that knows their fields.
//!
//! Every front door that hands events out as JSON (the CLI's `json` / `jsonl` / SARIF
//! properties, the Node binding's event batches and stored findings) serializes these views,
//! so a field added here reaches all of them. The contract fixes the names: snake_case in the
//! CLI's JSON (`rule_id`), camelCase in Node (`ruleId`). Each field is written once below with
//! both names side by side; a test checks that every camel name is the camelCase of its snake
//! name.
//!
//! What differs between front doors is a runtime [`JsonStyle`]: the naming, whether events
//! carry the contract's `type` field, how the exact bytes of a non-UTF-8 git path travel
//! (base64 text in `path_bytes_b64`, or a byte array in `pathBytes` that JavaScript turns into
//! a `Buffer`), and whether the raw secret may be written.
//!
//! A git path is always written as a string in `path` (lossy when the bytes are not valid
//! UTF-8) and, only when they are not, also as its exact bytes.

use std::borrow::Cow;
use std::time::Duration;

use gix_hash::ObjectId;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::events::{CommitMeta, Event, Finding, Progress, SkipCount, StageTimings, Summary};
use crate::store::StoredFinding;

/// Field naming of the JSON objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// `rule_id`: the CLI's JSON formats.
    Snake,
    /// `ruleId`: JavaScript.
    Camel,
}

/// How the exact bytes of a non-UTF-8 git path are written (next to the lossy `path`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathBytes {
    /// Standard base64 with padding, in `path_bytes_b64` / `pathBytesB64`.
    Base64,
    /// An array of byte values, in `path_bytes` / `pathBytes`.
    Array,
}

/// How a front door wants its JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonStyle {
    pub naming: Naming,
    /// Events start with the contract's `type` field (`finding`, `commit`, `progress`,
    /// `summary`). Stored findings, not events, never have one.
    pub with_type: bool,
    pub path_bytes: PathBytes,
    /// Write `secret` when the finding has one. The library only fills it in when asked to;
    /// this is a second gate, so a secret reaches the output only when the caller says so too.
    pub reveal_secrets: bool,
}

impl JsonStyle {
    /// The CLI's JSON: `rule_id`, no `type`, `path_bytes_b64`, no secrets.
    pub const SNAKE: JsonStyle = JsonStyle {
        naming: Naming::Snake,
        with_type: false,
        path_bytes: PathBytes::Base64,
        reveal_secrets: false,
    };

    /// The Node binding's JSON: `ruleId`, `type`, `pathBytes` as an array, no secrets.
    pub const CAMEL: JsonStyle = JsonStyle {
        naming: Naming::Camel,
        with_type: true,
        path_bytes: PathBytes::Array,
        reveal_secrets: false,
    };
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/// Milliseconds as a float with microsecond resolution (integer milliseconds would show most
/// stages of a small scan as 0; finer digits would only lengthen the JSON).
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Standard base64 with padding (RFC 4648), for non-UTF-8 paths; too small to justify a crate.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A git path as JSON: the string for `path` (lossy for invalid UTF-8) and, only when the
/// bytes are not valid UTF-8, the exact bytes.
pub fn split_path(path: Option<&[u8]>) -> (Option<Cow<'_, str>>, Option<&[u8]>) {
    match path {
        None => (None, None),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(s) => (Some(Cow::Borrowed(s)), None),
            Err(_) => (Some(String::from_utf8_lossy(bytes)), Some(bytes)),
        },
    }
}

/// Whether a path is written with its exact bytes (it is not valid UTF-8).
pub fn has_path_bytes(path: Option<&[u8]>) -> bool {
    path.is_some_and(|p| std::str::from_utf8(p).is_err())
}

/// An object id as its hex string, without an intermediate `String`.
struct Hex<'a>(&'a ObjectId);

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.to_hex())
    }
}

/// Writes the fields of one JSON object in the style's naming.
struct Fields<'m, M> {
    map: &'m mut M,
    style: JsonStyle,
}

impl<'m, M: SerializeMap> Fields<'m, M> {
    fn new(map: &'m mut M, style: JsonStyle) -> Self {
        Fields { map, style }
    }

    /// The contract's `type` field, when the style wants it.
    fn event_type(&mut self, name: &'static str) -> Result<(), M::Error> {
        if self.style.with_type {
            self.map.serialize_entry("type", name)?;
        }
        Ok(())
    }

    /// One field, named `snake` or `camel` by the style.
    fn field<T: Serialize + ?Sized>(
        &mut self,
        snake: &'static str,
        camel: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        let key = match self.style.naming {
            Naming::Snake => snake,
            Naming::Camel => camel,
        };
        self.map.serialize_entry(key, value)
    }

    /// `path`, then the exact bytes when the path is not valid UTF-8.
    fn path(&mut self, path: Option<&[u8]>) -> Result<(), M::Error> {
        let (lossy, bytes) = split_path(path);
        self.field("path", "path", &lossy)?;
        match (bytes, self.style.path_bytes) {
            (None, _) => Ok(()),
            (Some(b), PathBytes::Base64) => {
                self.field("path_bytes_b64", "pathBytesB64", &base64(b))
            }
            (Some(b), PathBytes::Array) => self.field("path_bytes", "pathBytes", b),
        }
    }

    /// `secret`, only when there is one and the style reveals secrets.
    fn secret(&mut self, secret: Option<&str>) -> Result<(), M::Error> {
        match secret {
            Some(s) if self.style.reveal_secrets => self.field("secret", "secret", s),
            _ => Ok(()),
        }
    }
}

/// Defines a view: a struct of a borrowed value and a [`JsonStyle`], its `new`, and its
/// `Serialize` as one JSON object whose fields the body writes through [`Fields`].
macro_rules! json_view {
    (
        $(#[$doc:meta])*
        $vis:vis struct $view:ident { $field:ident: $ty:ty }
        |$value:ident, $fields:ident| $body:block
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        $vis struct $view<'a> {
            $vis $field: &'a $ty,
            $vis style: JsonStyle,
        }

        impl<'a> $view<'a> {
            $vis fn new($field: &'a $ty, style: JsonStyle) -> Self {
                $view { $field, style }
            }
        }

        impl Serialize for $view<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(None)?;
                {
                    let $value = self.$field;
                    let mut $fields = Fields::new(&mut map, self.style);
                    $body
                }
                map.end()
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// The views. Field order is the contract's (and the output's).

json_view! {
    /// A [`Finding`] as JSON (`type` `finding`).
    pub struct FindingView { finding: Finding }
    |f, m| {
        m.event_type("finding")?;
        m.field("rule_id", "ruleId", &f.rule_id)?;
        m.field("rule_description", "ruleDescription", &f.rule_description)?;
        m.field("location", "location", f.location.as_str())?;
        m.field("blob", "blob", &Hex(&f.blob))?;
        m.field("commit", "commit", &f.commit.as_ref().map(Hex))?;
        m.path(f.path.as_deref())?;
        m.field("line", "line", &f.line)?;
        m.field("column", "column", &f.column)?;
        m.field("start", "start", &f.start)?;
        m.field("end", "end", &f.end)?;
        m.field("fingerprint", "fingerprint", &f.fingerprint)?;
        m.secret(f.secret.as_deref())?;
        m.field("snippet", "snippet", &f.snippet)?;
        m.field("decoded_from", "decodedFrom", &f.decoded_from)?;
        m.field("confidence", "confidence", &f.confidence)?;
    }
}

json_view! {
    /// Where a finding is: its blob, commit, path and line (the entries of the CLI `json`
    /// document's `locations`). Never has a `type`.
    pub struct LocationView { finding: Finding }
    |f, m| {
        m.field("location", "location", f.location.as_str())?;
        m.field("blob", "blob", &Hex(&f.blob))?;
        m.field("commit", "commit", &f.commit.as_ref().map(Hex))?;
        m.path(f.path.as_deref())?;
        m.field("line", "line", &f.line)?;
    }
}

json_view! {
    /// A [`CommitMeta`] as JSON (`type` `commit`).
    pub struct CommitView { commit: CommitMeta }
    |c, m| {
        m.event_type("commit")?;
        m.field("commit", "commit", &Hex(&c.commit))?;
        m.field("author_name", "authorName", &c.author_name)?;
        m.field("author_email", "authorEmail", &c.author_email)?;
        m.field("author_time", "authorTime", &c.author_time)?;
        m.field("committer_name", "committerName", &c.committer_name)?;
        m.field("committer_email", "committerEmail", &c.committer_email)?;
        m.field("committer_time", "committerTime", &c.committer_time)?;
        m.field("summary", "summary", &c.summary)?;
    }
}

json_view! {
    /// A [`Progress`] event as JSON (`type` `progress`).
    pub struct ProgressView { progress: Progress }
    |p, m| {
        m.event_type("progress")?;
        m.field("phase", "phase", p.phase.as_str())?;
        m.field("done", "done", &p.done)?;
        m.field("total", "total", &p.total)?;
        m.field("bytes_scanned", "bytesScanned", &p.bytes_scanned)?;
    }
}

json_view! {
    /// A [`Summary`] as JSON (`type` `summary`), with `skipped` entries and `timings_ms` in
    /// milliseconds (see [`millis`]).
    pub struct SummaryView { summary: Summary }
    |s, m| {
        let style = m.style;
        m.event_type("summary")?;
        m.field("outcome", "outcome", s.outcome.as_str())?;
        let skipped: Vec<SkipView<'_>> =
            s.skipped.iter().map(|k| SkipView::new(k, style)).collect();
        m.field("skipped", "skipped", &skipped)?;
        m.field("commits", "commits", &s.commits)?;
        m.field("blobs_planned", "blobsPlanned", &s.blobs_planned)?;
        m.field("blobs_already_seen", "blobsAlreadySeen", &s.blobs_already_seen)?;
        m.field("blobs_scanned", "blobsScanned", &s.blobs_scanned)?;
        m.field("bytes_scanned", "bytesScanned", &s.bytes_scanned)?;
        m.field("findings", "findings", &s.findings)?;
        m.field("timings_ms", "timingsMs", &TimingsView::new(&s.timings, style))?;
    }
}

json_view! {
    /// One entry of a summary's `skipped`.
    struct SkipView { skip: SkipCount }
    |k, m| {
        m.field("reason", "reason", k.reason.as_str())?;
        m.field("count", "count", &k.count)?;
        m.field("examples", "examples", &k.examples)?;
    }
}

json_view! {
    /// A summary's `timings_ms`.
    struct TimingsView { timings: StageTimings }
    |t, m| {
        m.field("open", "open", &millis(t.open))?;
        m.field("index", "index", &millis(t.index))?;
        m.field("commits", "commits", &millis(t.commits))?;
        m.field("plan", "plan", &millis(t.plan))?;
        m.field("scan", "scan", &millis(t.scan))?;
        m.field("finalize", "finalize", &millis(t.finalize))?;
        m.field("total", "total", &millis(t.total))?;
    }
}

json_view! {
    /// A [`StoredFinding`] (a row of the SQLite store) as JSON. Not an event: never a `type`.
    /// `secret` is there only when the scan kept secrets and the style reveals them.
    pub struct StoredFindingView { finding: StoredFinding }
    |f, m| {
        m.field("repo_id", "repoId", &f.repo_id)?;
        m.field("rules_hash", "rulesHash", &f.rules_hash)?;
        m.field("rule_id", "ruleId", &f.rule_id)?;
        m.field("commit", "commit", &f.commit)?;
        m.path(f.path.as_deref())?;
        m.field("line", "line", &f.line)?;
        m.field("column", "column", &f.column)?;
        m.field("start", "start", &f.start)?;
        m.field("end", "end", &f.end)?;
        m.field("blob", "blob", &f.blob)?;
        m.field("fingerprint", "fingerprint", &f.fingerprint)?;
        m.field("first_seen", "firstSeen", &f.first_seen)?;
        m.secret(f.secret.as_deref())?;
    }
}

/// Any [`Event`] as JSON, through the view of its kind.
#[derive(Clone, Copy, Debug)]
pub struct EventView<'a> {
    pub event: Event<'a>,
    pub style: JsonStyle,
}

impl<'a> EventView<'a> {
    pub fn new(event: Event<'a>, style: JsonStyle) -> Self {
        EventView { event, style }
    }
}

impl Serialize for EventView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let style = self.style;
        match self.event {
            Event::Finding(f) => FindingView::new(f, style).serialize(serializer),
            Event::Commit(c) => CommitView::new(c, style).serialize(serializer),
            Event::Progress(p) => ProgressView::new(p, style).serialize(serializer),
            Event::Summary(s) => SummaryView::new(s, style).serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::events::{Outcome, Phase, SkipReason};

    fn oid(fill: char) -> ObjectId {
        let hex: String = std::iter::repeat_n(fill, 40).collect();
        ObjectId::from_hex(hex.as_bytes()).expect("valid hex")
    }

    fn finding(path: &[u8]) -> Finding {
        Finding {
            location: Default::default(),
            rule_id: "aws-access-key".into(),
            rule_description: "AWS access key".into(),
            blob: oid('1'),
            commit: Some(oid('a')),
            path: Some(path.to_vec()),
            line: 3,
            column: 7,
            start: 100,
            end: 120,
            fingerprint: "fp1".into(),
            secret: Some("AKIASECRETSECRET1234".into()),
            snippet: "key = AKIA****".into(),
            decoded_from: vec!["base64"],
            confidence: 0.9,
        }
    }

    fn commit() -> CommitMeta {
        CommitMeta {
            commit: oid('a'),
            author_name: "Alice".into(),
            author_email: "alice@example.com".into(),
            author_time: 1940,
            committer_name: "Bob".into(),
            committer_email: "bob@example.com".into(),
            committer_time: 2000,
            summary: "Add config".into(),
        }
    }

    fn summary() -> Summary {
        Summary {
            outcome: Outcome::Partial,
            skipped: vec![SkipCount {
                reason: SkipReason::TooLarge,
                count: 2,
                examples: vec!["eeee: 300 MB".into()],
            }],
            commits: 12,
            blobs_planned: 40,
            blobs_already_seen: 1,
            blobs_scanned: 38,
            bytes_scanned: 1_234_567,
            findings: 4,
            timings: StageTimings {
                open: Duration::from_micros(1500),
                total: Duration::from_millis(112),
                ..StageTimings::default()
            },
        }
    }

    fn stored(path: &[u8]) -> StoredFinding {
        StoredFinding {
            repo_id: "/r.git".into(),
            rules_hash: "abcd".into(),
            rule_id: "aws-access-key".into(),
            commit: Some("a".repeat(40)),
            path: Some(path.to_vec()),
            line: 3,
            column: 7,
            start: 100,
            end: 120,
            blob: "1".repeat(40),
            fingerprint: "fp1".into(),
            first_seen: 1_700_000_000,
            secret: Some("AKIASECRETSECRET1234".into()),
        }
    }

    fn text<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }

    const BAD_PATH: &[u8] = b"dir/\xe9t\xe9.txt";

    #[test]
    fn finding_with_non_utf8_path_in_both_namings() {
        let f = finding(BAD_PATH);
        let snake = text(&FindingView::new(&f, JsonStyle::SNAKE));
        assert_eq!(
            snake,
            concat!(
                r#"{"rule_id":"aws-access-key","rule_description":"AWS access key","#,
                r#""location":"blob","blob":"1111111111111111111111111111111111111111","#,
                r#""commit":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","#,
                "\"path\":\"dir/\u{fffd}t\u{fffd}.txt\",",
                r#""path_bytes_b64":"ZGlyL+l06S50eHQ=","#,
                r#""line":3,"column":7,"start":100,"end":120,"fingerprint":"fp1","#,
                r#""snippet":"key = AKIA****","decoded_from":["base64"],"confidence":0.9}"#
            )
        );
        let camel = text(&FindingView::new(&f, JsonStyle::CAMEL));
        assert_eq!(
            camel,
            concat!(
                r#"{"type":"finding","ruleId":"aws-access-key","ruleDescription":"AWS access key","#,
                r#""location":"blob","blob":"1111111111111111111111111111111111111111","#,
                r#""commit":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","#,
                "\"path\":\"dir/\u{fffd}t\u{fffd}.txt\",",
                r#""pathBytes":[100,105,114,47,233,116,233,46,116,120,116],"#,
                r#""line":3,"column":7,"start":100,"end":120,"fingerprint":"fp1","#,
                r#""snippet":"key = AKIA****","decodedFrom":["base64"],"confidence":0.9}"#
            )
        );
        assert!(!snake.contains("AKIASECRET") && !camel.contains("AKIASECRET"));

        // With reveal_secrets, `secret` sits between `fingerprint` and `snippet`.
        for style in [JsonStyle::SNAKE, JsonStyle::CAMEL] {
            let revealed = JsonStyle {
                reveal_secrets: true,
                ..style
            };
            let t = text(&FindingView::new(&f, revealed));
            assert!(
                t.contains(r#""fingerprint":"fp1","secret":"AKIASECRETSECRET1234","snippet""#),
                "{t}"
            );
            // ... and nothing else changes.
            assert_eq!(
                t.replace(r#""secret":"AKIASECRETSECRET1234","#, ""),
                text(&FindingView::new(&f, style))
            );
        }
    }

    #[test]
    fn valid_utf8_and_missing_paths_have_no_bytes() {
        let mut f = finding(b"config/prod.env");
        for style in [JsonStyle::SNAKE, JsonStyle::CAMEL] {
            let v = serde_json::to_value(FindingView::new(&f, style)).unwrap();
            assert_eq!(v["path"], "config/prod.env");
            assert!(v.get("path_bytes_b64").is_none() && v.get("pathBytes").is_none());
        }
        f.path = None;
        f.commit = None;
        let v = serde_json::to_value(FindingView::new(&f, JsonStyle::SNAKE)).unwrap();
        assert!(v["path"].is_null() && v["commit"].is_null());
        assert!(!has_path_bytes(None) && !has_path_bytes(Some(b"ok")));
        assert!(has_path_bytes(Some(BAD_PATH)));
    }

    #[test]
    fn other_views_in_both_namings() {
        let c = commit();
        assert_eq!(
            serde_json::to_value(CommitView::new(&c, JsonStyle::CAMEL)).unwrap(),
            json!({"type": "commit", "commit": "a".repeat(40), "authorName": "Alice",
                "authorEmail": "alice@example.com", "authorTime": 1940, "committerName": "Bob",
                "committerEmail": "bob@example.com", "committerTime": 2000,
                "summary": "Add config"})
        );
        let s = summary();
        let v = serde_json::to_value(SummaryView::new(&s, JsonStyle::SNAKE)).unwrap();
        assert_eq!(v["blobs_already_seen"], 1);
        assert_eq!(v["skipped"][0]["reason"], "too_large");
        assert_eq!(v["timings_ms"]["open"], 1.5);
        assert_eq!(v["timings_ms"]["total"], 112.0);
        let p = Progress {
            phase: Phase::Scan,
            done: 1,
            total: 2,
            bytes_scanned: 3,
        };
        assert_eq!(
            text(&EventView::new(Event::Progress(&p), JsonStyle::CAMEL)),
            r#"{"type":"progress","phase":"scan","done":1,"total":2,"bytesScanned":3}"#
        );
        let st = stored(BAD_PATH);
        let v = serde_json::to_value(StoredFindingView::new(&st, JsonStyle::CAMEL)).unwrap();
        assert!(v.get("type").is_none(), "stored findings are not events");
        assert_eq!(v["firstSeen"], 1_700_000_000);
        assert_eq!(v["pathBytes"], json!(BAD_PATH));
        assert!(v.get("secret").is_none());
        let revealed = JsonStyle {
            reveal_secrets: true,
            ..JsonStyle::SNAKE
        };
        let v = serde_json::to_value(StoredFindingView::new(&st, revealed)).unwrap();
        assert_eq!(v["path_bytes_b64"], base64(BAD_PATH));
        assert_eq!(v["secret"], "AKIASECRETSECRET1234");
    }

    /// `rule_id` -> `ruleId`.
    fn camel_case(snake: &str) -> String {
        let mut out = String::with_capacity(snake.len());
        let mut upper = false;
        for ch in snake.chars() {
            if ch == '_' {
                upper = true;
            } else if upper {
                out.push(ch.to_ascii_uppercase());
                upper = false;
            } else {
                out.push(ch);
            }
        }
        out
    }

    /// Every key of `snake`, recursively, camelCased, must be the keys of `camel`.
    fn assert_names_match(snake: &Value, camel: &Value, at: &str) {
        match (snake, camel) {
            (Value::Object(s), Value::Object(c)) => {
                let mut expected: Vec<String> = s.keys().map(|k| camel_case(k)).collect();
                let mut got: Vec<String> = c.keys().filter(|k| *k != "type").cloned().collect();
                expected.sort();
                got.sort();
                assert_eq!(expected, got, "at {at}");
                for (k, v) in s {
                    assert_names_match(v, &c[&camel_case(k)], &format!("{at}.{k}"));
                }
            }
            (Value::Array(s), Value::Array(c)) => {
                for (i, (s, c)) in s.iter().zip(c).enumerate() {
                    assert_names_match(s, c, &format!("{at}[{i}]"));
                }
            }
            _ => {}
        }
    }

    #[test]
    fn camel_names_are_the_camel_case_of_snake_names() {
        // Same path-bytes encoding on both sides, so only the naming differs.
        let style = |naming| JsonStyle {
            naming,
            with_type: false,
            path_bytes: PathBytes::Array,
            reveal_secrets: true,
        };
        let (f, c, s, st) = (finding(BAD_PATH), commit(), summary(), stored(BAD_PATH));
        let p = Progress {
            phase: Phase::Open,
            done: 0,
            total: 0,
            bytes_scanned: 0,
        };
        let events = [
            Event::Finding(&f),
            Event::Commit(&c),
            Event::Progress(&p),
            Event::Summary(&s),
        ];
        for e in events {
            assert_names_match(
                &serde_json::to_value(EventView::new(e, style(Naming::Snake))).unwrap(),
                &serde_json::to_value(EventView::new(e, style(Naming::Camel))).unwrap(),
                e.type_name(),
            );
        }
        assert_names_match(
            &serde_json::to_value(StoredFindingView::new(&st, style(Naming::Snake))).unwrap(),
            &serde_json::to_value(StoredFindingView::new(&st, style(Naming::Camel))).unwrap(),
            "stored",
        );
        assert_names_match(
            &serde_json::to_value(LocationView::new(&f, style(Naming::Snake))).unwrap(),
            &serde_json::to_value(LocationView::new(&f, style(Naming::Camel))).unwrap(),
            "location",
        );
        assert_eq!(camel_case("path_bytes_b64"), "pathBytesB64");
    }

    #[test]
    fn type_field_follows_the_style() {
        let c = commit();
        let with = text(&CommitView::new(&c, JsonStyle::CAMEL));
        assert!(with.starts_with(r#"{"type":"commit","#));
        let without = JsonStyle {
            with_type: false,
            ..JsonStyle::CAMEL
        };
        assert!(text(&CommitView::new(&c, without)).starts_with(r#"{"commit":"#));
        let snake_typed = JsonStyle {
            with_type: true,
            ..JsonStyle::SNAKE
        };
        assert!(
            text(&EventView::new(Event::Commit(&c), snake_typed))
                .starts_with(r#"{"type":"commit","commit""#)
        );
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }

    #[test]
    fn split_path_keeps_bytes_only_for_invalid_utf8() {
        assert_eq!(
            split_path(Some(b"a/b.txt")),
            (Some(Cow::Borrowed("a/b.txt")), None)
        );
        let (lossy, bytes) = split_path(Some(b"bad\xffname"));
        assert_eq!(lossy.as_deref(), Some("bad\u{fffd}name"));
        assert_eq!(bytes, Some(&b"bad\xffname"[..]));
        assert_eq!(split_path(None), (None, None));
    }

    #[test]
    fn millis_rounds_to_microseconds() {
        assert_eq!(millis(Duration::from_micros(1500)), 1.5);
        assert_eq!(millis(Duration::from_nanos(1_234_567)), 1.235);
    }
}
