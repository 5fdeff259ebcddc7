//! Stored findings turned back into [`Finding`]s, so that a store's contents can be reported
//! in the same formats as a scan (`scangit findings --store`).
//!
//! A store keeps what identifies a finding (rule, blob, commit, path, position, fingerprint and,
//! when kept, the secret); what only a scan knows (snippet, decodings, confidence) comes back
//! empty, and the rule's description is looked up in the engine given (the built-in rules, for
//! instance; a rule it does not have gets none).

use std::collections::HashMap;

use gix_hash::ObjectId;

use super::StoredFinding;
use crate::Engine;
use crate::events::{Finding, Location, Outcome, Summary};

/// Rule descriptions of an engine, by rule id.
fn descriptions(engine: Option<&Engine>) -> HashMap<&str, &str> {
    let Some(e) = engine else {
        return HashMap::new();
    };
    (0..e.rule_count() as u32)
        .map(|r| (e.rule_id(r), e.rule_description(r)))
        .collect()
}

/// The findings of `rows`, in order. A row whose blob id does not parse (a damaged store) is
/// left out; a damaged commit id becomes no commit. `secret` is kept only with
/// `reveal_secrets` (and only stores written with kept secrets have one).
pub fn stored_to_findings(
    rows: Vec<StoredFinding>,
    engine: Option<&Engine>,
    reveal_secrets: bool,
) -> Vec<Finding> {
    let described = descriptions(engine);
    let parse = |hex: &str| ObjectId::from_hex(hex.as_bytes()).ok();
    rows.into_iter()
        .filter_map(|row| {
            let blob = parse(&row.blob)?;
            let commit = row.commit.as_deref().and_then(parse);
            let path = row.path.filter(|p| !p.is_empty());
            Some(Finding {
                location: location_of(&blob, commit.as_ref(), path.is_some()),
                rule_description: described
                    .get(row.rule_id.as_str())
                    .map_or_else(String::new, |d| (*d).to_owned()),
                rule_id: row.rule_id,
                blob,
                commit,
                path,
                line: row.line,
                column: row.column,
                start: row.start,
                end: row.end,
                fingerprint: row.fingerprint,
                secret: row.secret.filter(|_| reveal_secrets),
                snippet: String::new(),
                decoded_from: Vec::new(),
                confidence: 1.0,
            })
        })
        .collect()
}

/// Where a stored finding sits, from what the store keeps: a message has no path; a commit's
/// message is found in the commit itself, a tag's in the tag object (its commit is the one the
/// tag names). A finding with neither path nor commit is a blob's (an unreachable blob; a tag
/// naming no commit is reported so too).
fn location_of(blob: &ObjectId, commit: Option<&ObjectId>, has_path: bool) -> Location {
    match commit {
        _ if has_path => Location::Blob,
        Some(c) if c == blob => Location::CommitMessage,
        Some(_) => Location::TagMessage,
        None => Location::Blob,
    }
}

/// The summary that ends a replay of `findings` stored findings: complete, nothing scanned.
pub fn replay_summary(findings: u64) -> Summary {
    Summary {
        outcome: Outcome::Complete,
        skipped: Vec::new(),
        commits: 0,
        blobs_planned: 0,
        blobs_already_seen: 0,
        blobs_scanned: 0,
        bytes_scanned: 0,
        findings,
        timings: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(blob: &str, secret: Option<&str>) -> StoredFinding {
        StoredFinding {
            repo_id: "/r.git".into(),
            rules_hash: "abcd".into(),
            rule_id: "github-pat".into(),
            commit: Some("a".repeat(40)),
            path: Some(b"src/main.rs".to_vec()),
            line: 3,
            column: 7,
            start: 100,
            end: 120,
            blob: blob.into(),
            fingerprint: "fp1".into(),
            first_seen: 1_700_000_000,
            secret: secret.map(Into::into),
        }
    }

    #[test]
    fn stored_rows_become_findings_with_builtin_descriptions() {
        let engine = crate::request::builtin_engine().unwrap();
        let rows = vec![row(&"1".repeat(40), Some("ghp_x")), row("not-hex", None)];
        let found = stored_to_findings(rows.clone(), Some(&engine), false);
        assert_eq!(found.len(), 1, "a row with a damaged blob id is left out");
        let f = &found[0];
        assert_eq!(f.rule_id, "github-pat");
        assert!(
            !f.rule_description.is_empty(),
            "described by the built-in rules"
        );
        assert_eq!(f.commit.map(|c| c.to_string()), Some("a".repeat(40)));
        assert_eq!((f.line, f.column, f.start, f.end), (3, 7, 100, 120));
        assert_eq!(f.secret, None, "secrets only when revealed");
        let revealed = stored_to_findings(rows, None, true);
        assert_eq!(revealed[0].secret.as_deref(), Some("ghp_x"));
        assert_eq!(
            revealed[0].rule_description, "",
            "no engine, no description"
        );
        assert_eq!(replay_summary(1).findings, 1);
    }
}
