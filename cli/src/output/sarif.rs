//! `--format sarif`: SARIF 2.1.0, one run, one result per secret (its first introduction; the
//! other occurrences are `relatedLocations`).
//!
//! Notes on the mapping:
//! - `level` is `error` for confidence >= 0.5 and `warning` below: a leaked credential is
//!   always serious, but low-confidence generic matches should not fail a code-scanning gate
//!   as loudly.
//! - `region.startColumn` is our 1-based *byte* column. SARIF's default column unit is UTF-16
//!   code units; the two agree on ASCII lines, which is where credentials live in practice.
//! - `artifactLocation.uri` is the git path percent-encoded from its raw bytes (so non-UTF-8
//!   paths survive); ordinary paths come out unchanged.
//! - Findings in blobs with no path (reachable from no commit) have no `locations`; their blob
//!   is in `properties`.

use std::io::{self, Write};

use scangit_core::events_json::SummaryView;
use scangit_core::{Finding, Location, Summary};
use serde_json::{Value, json};

use super::{Collected, RenderOptions, group_findings, hex, json_style};

pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Key of our fingerprint in `partialFingerprints`; versioned so a future fingerprint scheme
/// can sit next to it.
pub const FINGERPRINT_KEY: &str = "scangit/v1";

/// Percent-encodes a git path into a relative URI reference. `:` is encoded too, since
/// `c:foo` would otherwise parse as a URI with scheme `c`.
pub fn path_to_uri(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn physical_location(f: &Finding) -> Option<Value> {
    let path = f.path.as_deref()?;
    Some(json!({
        "physicalLocation": {
            "artifactLocation": { "uri": path_to_uri(path) },
            "region": {
                "startLine": f.line.max(1),
                "startColumn": f.column.max(1),
                // The snippet is masked by the library; safe to show.
                "snippet": { "text": f.snippet },
            }
        }
    }))
}

pub fn render(
    w: &mut dyn Write,
    collected: &Collected,
    summary: &Summary,
    options: RenderOptions,
) -> io::Result<()> {
    let groups = group_findings(collected);

    // Rules that fired, sorted by id; results point at them by index.
    let mut rules: Vec<(&str, &str)> = groups
        .iter()
        .map(|g| (g.first.rule_id.as_str(), g.first.rule_description.as_str()))
        .collect();
    rules.sort_unstable();
    rules.dedup_by(|a, b| a.0 == b.0);

    let results: Vec<Value> = groups
        .iter()
        .map(|g| {
            let f = g.first;
            let rule_index = rules.iter().position(|(id, _)| *id == f.rule_id).unwrap_or(0);
            let n = g.occurrences.len();
            let introduced = match (f.location, f.commit) {
                (Location::CommitMessage, _) => {
                    format!("in the message of commit {}", f.blob.to_hex_with_len(10))
                }
                (Location::TagMessage, _) => {
                    format!("in the message of tag {}", f.blob.to_hex_with_len(10))
                }
                (_, Some(c)) => format!("introduced in commit {}", c.to_hex_with_len(10)),
                (_, None) => {
                    format!("in blob {} (reachable from no commit)", f.blob.to_hex_with_len(10))
                }
            };
            let mut properties = json!({
                "location": f.location.as_str(),
                "commit": f.commit.as_ref().map(hex),
                "blob": hex(&f.blob),
                "occurrences": n,
                "confidence": f.confidence,
                "decoded_from": f.decoded_from,
            });
            if options.reveal_secrets
                && let Some(secret) = &f.secret
            {
                properties["secret"] = json!(secret);
            }
            let mut result = json!({
                "ruleId": f.rule_id,
                "ruleIndex": rule_index,
                "level": if f.confidence >= 0.5 { "error" } else { "warning" },
                "message": {
                    "text": format!(
                        "{} ({}) {introduced}; {n} occurrence{} in history",
                        f.rule_description, f.rule_id, if n == 1 { "" } else { "s" }
                    )
                },
                "partialFingerprints": { FINGERPRINT_KEY: f.fingerprint },
                "properties": properties,
            });
            if let Some(loc) = physical_location(f) {
                result["locations"] = json!([loc]);
            }
            let related: Vec<Value> = g.occurrences[1..]
                .iter()
                .filter_map(|o| {
                    let mut loc = physical_location(o)?;
                    let commit = o.commit.map_or_else(|| "no commit".to_owned(), |c| c.to_hex_with_len(10).to_string());
                    loc["message"] = json!({ "text": format!("also in blob {} ({commit})", o.blob.to_hex_with_len(10)) });
                    Some(loc)
                })
                .enumerate()
                .map(|(i, mut loc)| {
                    loc["id"] = json!(i);
                    loc
                })
                .collect();
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            result
        })
        .collect();

    let doc = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "scangit",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules.iter().map(|(id, desc)| json!({
                        "id": id,
                        "shortDescription": { "text": desc },
                    })).collect::<Vec<_>>(),
                }
            },
            "invocations": [{
                // The scan returned: a partial outcome is still a successful execution; what was
                // skipped is in the properties.
                "executionSuccessful": true,
                "properties": SummaryView::new(summary, json_style(options)),
            }],
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::testutil::*;
    use super::*;

    fn render_value(c: &Collected, reveal: bool) -> Value {
        let mut out = Vec::new();
        render(
            &mut out,
            c,
            &summary(4),
            RenderOptions {
                reveal_secrets: reveal,
                color: false,
            },
        )
        .unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    fn is_nonempty_str(v: &Value) -> bool {
        v.as_str().is_some_and(|s| !s.is_empty())
    }

    /// Hand-written checks of the SARIF 2.1.0 schema's required properties and value
    /// constraints for every object we emit (sarifLog, run, tool, toolComponent,
    /// reportingDescriptor, result, message, location, physicalLocation, artifactLocation,
    /// region, invocation), plus the cross-references between them.
    fn validate_sarif(doc: &Value) {
        assert_eq!(
            doc["version"], "2.1.0",
            "sarifLog.version is required and must be 2.1.0"
        );
        assert!(is_nonempty_str(&doc["$schema"]));
        let runs = doc["runs"]
            .as_array()
            .expect("sarifLog.runs is a required array");
        assert_eq!(runs.len(), 1);
        for run in runs {
            let driver = &run["tool"]["driver"];
            assert!(driver.is_object(), "run.tool.driver is required");
            assert!(
                is_nonempty_str(&driver["name"]),
                "toolComponent.name is required"
            );
            let rules = driver["rules"].as_array().expect("rules array");
            let mut ids = std::collections::HashSet::new();
            for rule in rules {
                assert!(
                    is_nonempty_str(&rule["id"]),
                    "reportingDescriptor.id is required"
                );
                assert!(
                    ids.insert(rule["id"].as_str().unwrap()),
                    "rule ids are unique"
                );
                assert!(
                    rule["shortDescription"]["text"].is_string(),
                    "multiformatMessageString.text is required"
                );
            }
            for inv in run["invocations"].as_array().expect("invocations array") {
                assert!(
                    inv["executionSuccessful"].is_boolean(),
                    "invocation.executionSuccessful is required"
                );
            }
            for result in run["results"].as_array().expect("results array") {
                let message = &result["message"];
                assert!(
                    message["text"].is_string() || message["id"].is_string(),
                    "result.message needs text or id"
                );
                let rule_id = result["ruleId"].as_str().expect("ruleId");
                let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
                assert_eq!(rules[index]["id"], rule_id, "ruleIndex points at ruleId");
                let level = result["level"].as_str().unwrap();
                assert!(["none", "note", "warning", "error"].contains(&level));
                for (k, v) in result["partialFingerprints"]
                    .as_object()
                    .expect("partialFingerprints object")
                {
                    assert!(!k.is_empty() && v.is_string());
                }
                let locations = result["locations"].as_array().into_iter().flatten();
                let related = result["relatedLocations"].as_array().into_iter().flatten();
                for loc in locations.chain(related) {
                    let phys = &loc["physicalLocation"];
                    let uri = phys["artifactLocation"]["uri"]
                        .as_str()
                        .expect("artifactLocation.uri");
                    assert!(
                        uri.bytes()
                            .all(|b| b.is_ascii_graphic() && b != b'\\' && b != b'#' && b != b'?'),
                        "uri is a valid relative reference: {uri}"
                    );
                    let region = &phys["region"];
                    assert!(region["startLine"].as_u64().expect("startLine") >= 1);
                    assert!(region["startColumn"].as_u64().expect("startColumn") >= 1);
                    if let Some(id) = loc.get("id") {
                        assert!(id.as_i64().expect("location.id is an integer") >= -1);
                    }
                }
            }
        }
    }

    #[test]
    fn sarif_is_structurally_valid() {
        let doc = render_value(&collected(), false);
        validate_sarif(&doc);
        let empty = render_value(&Collected::default(), false);
        validate_sarif(&empty);
        assert_eq!(empty["runs"][0]["results"], json!([]));
    }

    #[test]
    fn sarif_content() {
        let doc = render_value(&collected(), false);
        let run = &doc["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "scangit");
        assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
        let rules: Vec<_> = run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].clone())
            .collect();
        assert_eq!(rules, vec![json!("aws-access-key"), json!("github-pat")]);
        let r = &run["results"][0];
        assert_eq!(r["ruleId"], "aws-access-key");
        assert_eq!(r["level"], "error");
        let phys = &r["locations"][0]["physicalLocation"];
        assert_eq!(phys["artifactLocation"]["uri"], "config/prod.env");
        assert_eq!(phys["region"]["startLine"], 5);
        assert_eq!(phys["region"]["startColumn"], 7);
        assert_eq!(r["partialFingerprints"]["scangit/v1"], "fp1");
        assert_eq!(r["properties"]["commit"], "b".repeat(40));
        assert_eq!(r["properties"]["blob"], "2".repeat(40));
        assert_eq!(r["properties"]["occurrences"], 3);
        assert_eq!(r["relatedLocations"].as_array().unwrap().len(), 2);
        assert!(r.get("secret").is_none() && !doc.to_string().contains("AKIASECRET"));
        assert_eq!(run["invocations"][0]["properties"]["outcome"], "partial");
        let revealed = render_value(&collected(), true);
        assert_eq!(
            revealed["runs"][0]["results"][0]["properties"]["secret"],
            "AKIASECRETSECRET1234"
        );
    }

    #[test]
    fn odd_paths_and_missing_paths() {
        assert_eq!(path_to_uri(b"src/main.rs"), "src/main.rs");
        assert_eq!(path_to_uri(b"a b#c?.txt"), "a%20b%23c%3F.txt");
        assert_eq!(path_to_uri(b"c:x/\xff"), "c%3Ax/%FF");
        let mut c = Collected::default();
        c.findings
            .push(finding("r", "fp", '1', None, b"dir with space/\xe9", 1));
        let mut no_path = finding("r", "fp2", '2', None, b"", 1);
        no_path.path = None;
        no_path.confidence = 0.2;
        c.findings.push(no_path);
        let doc = render_value(&c, false);
        validate_sarif(&doc);
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "dir%20with%20space/%E9"
        );
        assert!(results[1].get("locations").is_none());
        assert_eq!(results[1]["level"], "warning");
        assert!(results[1]["properties"]["commit"].is_null());
    }
}
