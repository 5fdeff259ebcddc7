//! `--format json`: one document
//! `{ "version", "scangit_version", "findings": [...], "commits": {hex: {...}}, "summary": {...} }`.
//!
//! `version` is the document layout version ([`super::JSON_FORMAT_VERSION`]); the tool version
//! is separate so consumers can check compatibility without parsing semver. Each entry of
//! `findings` is one secret: the fields of its first introduction (as in a jsonl `finding`),
//! plus `occurrences` and `locations` (every blob, commit, path and line it appears at).

use std::collections::BTreeMap;
use std::io::{self, Write};

use scangit_core::Summary;
use scangit_core::events_json::{CommitView, FindingView, JsonStyle, LocationView, SummaryView};
use serde::Serialize;

use super::{
    Collected, FindingGroup, JSON_FORMAT_VERSION, RenderOptions, group_findings, hex, json_style,
};

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    scangit_version: &'static str,
    findings: Vec<GroupJson<'a>>,
    commits: BTreeMap<String, CommitView<'a>>,
    summary: SummaryView<'a>,
}

#[derive(Serialize)]
struct GroupJson<'a> {
    #[serde(flatten)]
    first: FindingView<'a>,
    occurrences: usize,
    locations: Vec<LocationView<'a>>,
}

fn group_json<'a>(g: &FindingGroup<'a>, style: JsonStyle) -> GroupJson<'a> {
    GroupJson {
        first: FindingView::new(g.first, style),
        occurrences: g.occurrences.len(),
        locations: g
            .occurrences
            .iter()
            .map(|f| LocationView::new(f, style))
            .collect(),
    }
}

pub fn render(
    w: &mut dyn Write,
    collected: &Collected,
    summary: &Summary,
    options: RenderOptions,
) -> io::Result<()> {
    let style = json_style(options);
    let doc = Document {
        version: JSON_FORMAT_VERSION,
        scangit_version: env!("CARGO_PKG_VERSION"),
        findings: group_findings(collected)
            .iter()
            .map(|g| group_json(g, style))
            .collect(),
        commits: collected
            .commits
            .values()
            .map(|c| (hex(&c.commit), CommitView::new(c, style)))
            .collect(),
        summary: SummaryView::new(summary, style),
    };
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::testutil::*;
    use super::*;

    fn render_value(reveal: bool) -> Value {
        let mut out = Vec::new();
        render(
            &mut out,
            &collected(),
            &summary(4),
            RenderOptions {
                reveal_secrets: reveal,
                color: false,
            },
        )
        .unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn document_groups_findings() {
        let v = render_value(false);
        assert_eq!(v["version"], 1);
        assert_eq!(v["scangit_version"], env!("CARGO_PKG_VERSION"));
        let findings = v["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 2);
        let aws = &findings[0];
        assert_eq!(aws["rule_id"], "aws-access-key");
        assert_eq!(
            aws["commit"],
            "b".repeat(40),
            "first introduction = earliest committer time"
        );
        assert_eq!(aws["line"], 5);
        assert_eq!(aws["occurrences"], 3);
        let locations = aws["locations"].as_array().unwrap();
        assert_eq!(locations.len(), 3);
        assert_eq!(locations[0]["commit"], "b".repeat(40));
        assert_eq!(locations[2]["path"], "old/prod.env");
        assert_eq!(locations[2]["blob"], "3".repeat(40));
        assert_eq!(findings[1]["rule_id"], "github-pat");
        assert_eq!(findings[1]["occurrences"], 1);
        assert!(aws.get("secret").is_none());
        assert!(!v.to_string().contains("AKIASECRET"));
    }

    #[test]
    fn commits_map_and_summary() {
        let v = render_value(false);
        let commits = v["commits"].as_object().unwrap();
        assert_eq!(commits.len(), 2);
        let a = &commits[&"a".repeat(40)];
        assert_eq!(a["author_name"], "Alice Example");
        assert_eq!(a["committer_time"], 2000);
        assert_eq!(v["summary"]["outcome"], "partial");
        assert_eq!(v["summary"]["findings"], 4);
        assert!(v["summary"]["timings_ms"]["total"].is_number());
    }

    #[test]
    fn secret_only_when_revealed() {
        assert_eq!(
            render_value(true)["findings"][0]["secret"],
            "AKIASECRETSECRET1234"
        );
    }

    #[test]
    fn output_is_byte_identical_across_arrival_orders() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let c = collected();
        let mut rev = Collected {
            findings: c.findings.clone(),
            commits: c.commits.clone(),
        };
        rev.findings.reverse();
        render(&mut a, &c, &summary(4), RenderOptions::default()).unwrap();
        render(&mut b, &rev, &summary(4), RenderOptions::default()).unwrap();
        assert_eq!(a, b);
    }
}
