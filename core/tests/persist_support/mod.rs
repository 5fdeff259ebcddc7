//! Shared helpers of the `persist_*` integration tests: synthetic finalize inputs, temporary
//! directories, and a dump of every SQLite table for "left exactly as before" comparisons.
#![allow(dead_code)]

use std::path::Path;

use gix_hash::ObjectId;
use scangit_core::Outcome;
use scangit_core::scan::finalize::{FinalizeInput, RefEntry, ScannedBlob};
use scangit_core::store::codec::{BlobContext, FindingRecord, Scope};

// Temporary directories are the pipeline tests' (one helper for every integration test).
#[path = "../pipeline_support/mod.rs"]
mod pipeline_support;
#[allow(unused_imports)] // not every persist test binary makes directories
pub use pipeline_support::{TempDir, temp_dir};

/// A blob id spread over the whole key space (hash of `n`), as real ids are.
pub fn oid(n: u64) -> ObjectId {
    let h = blake3::hash(&n.to_le_bytes());
    ObjectId::from_bytes_or_panic(&h.as_bytes()[..20])
}

pub fn scope(repo: &str, rules: u8) -> Scope {
    Scope::new(repo, [rules; 32])
}

pub fn finding(rule: &str, start: u64) -> FindingRecord {
    FindingRecord {
        rule_id: rule.into(),
        start,
        end: start + 20,
        line: start / 40 + 1,
        column: start % 40 + 1,
        fingerprint: format!("{:016x}", start.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        secret: None,
    }
}

/// Blobs `range`, every 7th with two findings, contexts in commit `oid(1_000_000 + n / 10)`.
pub fn blobs(range: std::ops::Range<u64>) -> Vec<ScannedBlob> {
    range
        .map(|n| ScannedBlob {
            id: oid(n),
            context: BlobContext {
                commit: Some(oid(1_000_000 + n / 10)),
                path: format!("dir{}/file{n}.txt", n % 13).into_bytes(),
            },
            findings: if n % 7 == 0 {
                vec![finding("aws-access-key", n % 500), finding("github-pat", 3)]
            } else {
                Vec::new()
            },
        })
        .collect()
}

pub fn refs(tips: &[(&str, u64)]) -> Vec<RefEntry> {
    tips.iter()
        .map(|&(name, n)| RefEntry {
            name: name.into(),
            tip: oid(n),
        })
        .collect()
}

pub fn input(scope: Scope, scan_seq: u64, blobs: Vec<ScannedBlob>) -> FinalizeInput {
    FinalizeInput {
        scope,
        scan_seq,
        blobs,
        start_set: refs(&[("refs/heads/main", 1), ("refs/tags/v1", 2)]),
        deleted_refs: Vec::new(),
        skipped: Vec::new(),
        outcome: Outcome::Complete,
    }
}

/// Every row of every table of a SQLite store, in a stable order, without `first_seen` (a clock).
pub fn dump_sqlite(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut out = Vec::new();
    for (table, order) in [
        ("schema_version", "version"),
        ("scopes", "scope_id"),
        ("blob_ordinals", "ordinal"),
        ("seen_sets", "scope_id, chunk"),
        ("watermarks", "scope_id, ref_name"),
        ("kv", "scope_id, key"),
        ("findings", "finding_id"),
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .unwrap();
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let rows = stmt
            .query_map([], |r| {
                let mut line = format!("{table}:");
                for (i, name) in names.iter().enumerate() {
                    if name == "first_seen" {
                        continue;
                    }
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push_str(&format!(" {name}={v:?}"));
                }
                Ok(line)
            })
            .unwrap();
        for row in rows {
            out.push(row.unwrap());
        }
    }
    out
}

pub fn integrity_ok(path: &Path) -> bool {
    let conn = rusqlite::Connection::open(path).unwrap();
    let r: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    r == "ok"
}
