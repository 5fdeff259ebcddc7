//! `--format jsonl`: one JSON object per event and line, written as events arrive, each with a
//! `type` field (`finding`, `commit`, `summary`). Progress events are not written: they are
//! throttled snapshots meant for a terminal, not data.

use std::io::{self, Write};

use scangit_core::Event;
use scangit_core::events_json::{EventView, JsonStyle};
use serde::Serialize;

use super::{RenderOptions, json_style};

/// Writes one event as one line; progress is skipped.
pub fn write_event(w: &mut dyn Write, event: Event<'_>, options: RenderOptions) -> io::Result<()> {
    if let Event::Progress(_) = event {
        return Ok(());
    }
    let style = JsonStyle {
        with_type: true,
        ..json_style(options)
    };
    write_line(w, &EventView::new(event, style))
}

fn write_line<T: Serialize>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    // Serialize to memory first so a serialization problem can never leave half a line behind.
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    w.write_all(&line)
}

#[cfg(test)]
mod tests {
    use scangit_core::Progress;
    use scangit_core::events::Phase;
    use serde_json::Value;

    use super::super::testutil::*;
    use super::*;

    fn lines(events: &[Event<'_>], reveal: bool) -> Vec<Value> {
        let mut out = Vec::new();
        let options = RenderOptions {
            reveal_secrets: reveal,
            color: false,
        };
        for e in events {
            write_event(&mut out, *e, options).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'));
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn finding_line_has_contract_fields() {
        let f = finding(
            "aws-access-key",
            "fp1",
            '1',
            Some('a'),
            b"config/prod.env",
            3,
        );
        let v = &lines(&[Event::Finding(&f)], false)[0];
        assert_eq!(v["type"], "finding");
        assert_eq!(v["rule_id"], "aws-access-key");
        assert_eq!(v["rule_description"], "aws-access-key description");
        assert_eq!(v["blob"], "1".repeat(40));
        assert_eq!(v["commit"], "a".repeat(40));
        assert_eq!(v["path"], "config/prod.env");
        assert!(v.get("path_bytes_b64").is_none());
        assert_eq!(v["line"], 3);
        assert_eq!(v["column"], 7);
        assert_eq!(v["start"], 100);
        assert_eq!(v["end"], 120);
        assert_eq!(v["fingerprint"], "fp1");
        assert_eq!(v["snippet"], "key = AKIA****************");
        assert_eq!(v["decoded_from"], serde_json::json!([]));
        assert!((v["confidence"].as_f64().unwrap() - 0.9).abs() < 1e-6);
        // The hand-built finding carries a secret; without --reveal-secrets it must not appear.
        assert!(v.get("secret").is_none());
        assert!(!v.to_string().contains("AKIASECRET"));
    }

    #[test]
    fn secret_only_when_revealed() {
        let f = finding("r", "fp", '1', Some('a'), b"p", 1);
        let v = &lines(&[Event::Finding(&f)], true)[0];
        assert_eq!(v["secret"], "AKIASECRETSECRET1234");
    }

    #[test]
    fn null_commit_and_non_utf8_path() {
        let mut f = finding("r", "fp", '1', None, b"dir/\xe9t\xe9.txt", 1);
        f.decoded_from = vec!["base64"];
        let v = &lines(&[Event::Finding(&f)], false)[0];
        assert!(v["commit"].is_null());
        assert_eq!(v["path"], "dir/\u{fffd}t\u{fffd}.txt");
        assert_eq!(v["path_bytes_b64"], "ZGlyL+l06S50eHQ=");
        assert_eq!(v["decoded_from"], serde_json::json!(["base64"]));
        f.path = None;
        let v = &lines(&[Event::Finding(&f)], false)[0];
        assert!(v["path"].is_null());
    }

    #[test]
    fn commit_and_summary_lines_and_no_progress() {
        let c = commit('a', 2000);
        let s = summary(4);
        let p = Progress {
            phase: Phase::Scan,
            done: 1,
            total: 2,
            bytes_scanned: 3,
        };
        let v = lines(
            &[Event::Commit(&c), Event::Progress(&p), Event::Summary(&s)],
            false,
        );
        assert_eq!(v.len(), 2, "progress is not printed");
        assert_eq!(v[0]["type"], "commit");
        assert_eq!(v[0]["commit"], "a".repeat(40));
        for key in [
            "author_name",
            "author_email",
            "committer_name",
            "committer_email",
            "summary",
        ] {
            assert!(v[0][key].is_string(), "{key}");
        }
        assert_eq!(v[0]["author_time"], 1940);
        assert_eq!(v[0]["committer_time"], 2000);
        let s = &v[1];
        assert_eq!(s["type"], "summary");
        assert_eq!(s["outcome"], "partial");
        assert_eq!(s["skipped"][0]["reason"], "too_large");
        assert_eq!(s["skipped"][0]["count"], 2);
        assert_eq!(s["skipped"][0]["examples"][0], "eeee: 300 MB > 256 MB");
        assert_eq!(s["commits"], 12);
        assert_eq!(s["blobs_planned"], 40);
        assert_eq!(s["blobs_scanned"], 38);
        assert_eq!(s["bytes_scanned"], 1_234_567);
        assert_eq!(s["findings"], 4);
        assert_eq!(s["timings_ms"]["open"], 1.5);
        for key in [
            "open", "index", "commits", "plan", "scan", "finalize", "total",
        ] {
            assert!(s["timings_ms"][key].is_number(), "{key}");
        }
    }
}
