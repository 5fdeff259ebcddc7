//! Finalize: a scan's results become a sorted batch of key/value write operations.
//!
//! [`build_finalize_ops`] is a pure function (no I/O, no clock, no randomness). Its inputs are
//! treated as sets: blobs, findings, refs and skips are sorted and deduplicated inside, so the
//! output is byte-identical for the same repository and rules whatever order the worker threads
//! produced the results in.
//!
//! Invariants of a [`FinalizeOutput`]:
//! - `data_ops` are strictly increasing by key bytes (namespaces `bc` < `fn` < `sb`, each sorted).
//! - `watermark_ops` are strictly increasing by key bytes, and empty unless the outcome is
//!   [`Outcome::Complete`]: a scan that skipped anything for a gap reason (missing, corrupt, too
//!   large) must not advance ref tips, so the next scan revisits what was missed. Its data ops
//!   are still produced; what it did scan need not be scanned again.
//! - A blob listed as skipped for a gap reason is never in the seen-blob delta, even if some
//!   context of it was also reported as scanned.
//! - Every key starts with the batch's scope, so stores may treat keys as opaque byte strings.
//!
//! The key layout the ops use is [`crate::store::codec`].

use gix_hash::ObjectId;

use crate::events::Outcome;
use crate::store::codec::{
    BlobContext, FinalizeOutput, FinalizeStats, FindingRecord, Scope, WriteOp, blob_context_op,
    finding_op, seen_blob_op, watermark_op,
};

/// One blob the scan fully examined (binary blobs skipped by policy included: rescanning them
/// would learn nothing), with a context and its findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannedBlob {
    pub id: ObjectId,
    pub context: BlobContext,
    pub findings: Vec<FindingRecord>,
}

/// A ref of the start set and the object its tip pointed to when the scan began.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefEntry {
    pub name: String,
    pub tip: ObjectId,
}

/// Everything finalize needs; collections may be in any order and contain duplicates.
#[derive(Clone, Debug)]
pub struct FinalizeInput {
    pub scope: Scope,
    /// Orders this scan's watermarks against other scans of the same scope (see
    /// [`crate::store::PersistenceStore::begin_scan`]); larger is newer.
    pub scan_seq: u64,
    pub blobs: Vec<ScannedBlob>,
    /// The refs the scan started from.
    pub start_set: Vec<RefEntry>,
    /// Refs that have a stored watermark but are no longer in the start set.
    pub deleted_refs: Vec<String>,
    /// Blobs skipped for a gap reason (missing, corrupt, too large): never marked seen.
    pub skipped: Vec<ObjectId>,
    pub outcome: Outcome,
}

/// Build the write operations of one scan. Pure and deterministic (see the module docs).
pub fn build_finalize_ops(input: &FinalizeInput) -> FinalizeOutput {
    let scope = input.scope.encode();
    let mut stats = FinalizeStats::default();

    let mut skipped: Vec<ObjectId> = input.skipped.clone();
    skipped.sort_unstable();
    skipped.dedup();
    stats.skipped = skipped.len() as u64;
    let outcome = if skipped.is_empty() {
        input.outcome
    } else {
        Outcome::Partial
    };

    // Group contexts by blob id; the canonical context is the minimum, so sort by it too.
    let mut order: Vec<&ScannedBlob> = input.blobs.iter().collect();
    order.sort_unstable_by(|a, b| {
        a.id.cmp(&b.id)
            .then_with(|| a.context.canonical_cmp(&b.context))
    });

    let mut ctx_ops = Vec::new();
    let mut finding_ops = Vec::new();
    let mut seen_ops = Vec::new();
    let mut findings: Vec<&FindingRecord> = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let id = order[i].id;
        let group_end = i + order[i..].iter().take_while(|b| b.id == id).count();
        let group = &order[i..group_end];
        i = group_end;
        stats.blobs += 1;
        stats.duplicate_contexts += group.len() as u64 - 1;

        ctx_ops.push(blob_context_op(&scope, &id, &group[0].context));

        findings.clear();
        findings.extend(group.iter().flat_map(|b| b.findings.iter()));
        findings.sort_unstable_by(|a, b| a.full_cmp(b));
        let before = findings.len();
        findings.dedup_by(|b, a| a.identity() == b.identity());
        stats.duplicate_findings += (before - findings.len()) as u64;
        finding_ops.extend(findings.iter().map(|f| finding_op(&scope, &id, f)));
        stats.findings += findings.len() as u64;

        if skipped.binary_search(&id).is_err() {
            seen_ops.push(seen_blob_op(&scope, &id));
        }
    }
    stats.seen_delta = seen_ops.len() as u64;

    let mut data_ops = ctx_ops;
    data_ops.append(&mut finding_ops);
    data_ops.append(&mut seen_ops);
    debug_assert!(data_ops.windows(2).all(|w| w[0].key < w[1].key));

    let mut watermark_ops = Vec::new();
    if outcome == Outcome::Complete {
        watermark_ops = build_watermark_ops(&scope, input);
        stats.watermarks = watermark_ops.len() as u64;
    }

    FinalizeOutput {
        outcome,
        data_ops,
        watermark_ops,
        stats,
    }
}

fn build_watermark_ops(scope: &[u8], input: &FinalizeInput) -> Vec<WriteOp> {
    let mut refs: Vec<&RefEntry> = input.start_set.iter().collect();
    refs.sort_unstable();
    // Two tips for one name cannot both hold; keep the smallest so the choice is deterministic.
    refs.dedup_by(|b, a| a.name == b.name);
    let mut ops: Vec<WriteOp> = refs
        .iter()
        .map(|r| watermark_op(scope, &r.name, input.scan_seq, Some(&r.tip)))
        .collect();
    let mut deleted: Vec<&String> = input
        .deleted_refs
        .iter()
        .filter(|name| {
            refs.binary_search_by(|r| r.name.as_str().cmp(name.as_str()))
                .is_err()
        })
        .collect();
    deleted.sort_unstable();
    deleted.dedup();
    ops.extend(
        deleted
            .into_iter()
            .map(|name| watermark_op(scope, name, input.scan_seq, None)),
    );
    ops.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::*;

    fn oid(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    fn finding(rule: &str, start: u64) -> FindingRecord {
        FindingRecord {
            rule_id: rule.into(),
            start,
            end: start + 10,
            line: 1,
            column: start + 1,
            fingerprint: format!("fp-{rule}-{start}"),
            secret: None,
        }
    }

    fn input(outcome: Outcome) -> FinalizeInput {
        FinalizeInput {
            scope: Scope::new("repo", [7; 32]),
            scan_seq: 42,
            blobs: vec![
                ScannedBlob {
                    id: oid(2),
                    context: BlobContext {
                        commit: Some(oid(9)),
                        path: b"b.txt".to_vec(),
                    },
                    findings: vec![finding("aws", 5), finding("aws", 5), finding("gh", 0)],
                },
                ScannedBlob {
                    id: oid(1),
                    context: BlobContext {
                        commit: None,
                        path: Vec::new(),
                    },
                    findings: vec![],
                },
            ],
            start_set: vec![RefEntry {
                name: "refs/heads/main".into(),
                tip: oid(9),
            }],
            deleted_refs: vec!["refs/heads/old".into()],
            skipped: vec![],
            outcome,
        }
    }

    #[test]
    fn every_op_decodes_back_to_its_fields() {
        let inp = input(Outcome::Complete);
        let out = build_finalize_ops(&inp);
        let scope = inp.scope.encode();
        let decoded: Vec<DecodedOp> = out
            .data_ops
            .iter()
            .chain(&out.watermark_ops)
            .map(|op| decode_op(&scope, op).unwrap())
            .collect();
        assert_eq!(
            decoded[0],
            DecodedOp::BlobContext {
                blob: oid(1),
                context: BlobContext::default()
            }
        );
        assert!(
            matches!(&decoded[2], DecodedOp::Finding { blob, record } if *blob == oid(2) && record.rule_id == "gh")
        );
        assert_eq!(out.stats.findings, 2);
        assert_eq!(out.stats.duplicate_findings, 1);
        assert_eq!(decoded[4], DecodedOp::SeenBlob { blob: oid(1) });
        assert_eq!(
            decoded[6],
            DecodedOp::Watermark(WatermarkOp {
                name: "refs/heads/main".into(),
                scan_seq: 42,
                change: WatermarkChange::Set { tip: oid(9) }
            })
        );
        assert_eq!(
            decoded[7],
            DecodedOp::Watermark(WatermarkOp {
                name: "refs/heads/old".into(),
                scan_seq: 42,
                change: WatermarkChange::Delete
            })
        );
        assert_eq!(decoded.len(), 8);
    }

    #[test]
    fn keys_of_another_scope_or_format_are_rejected() {
        let inp = input(Outcome::Complete);
        let out = build_finalize_ops(&inp);
        let other = Scope::new("repo", [8; 32]).encode();
        assert_eq!(
            decode_op(&other, &out.data_ops[0]),
            Err(DecodeError::ScopeMismatch)
        );
        let mut op = out.data_ops[0].clone();
        op.key[0] = 2;
        assert_eq!(
            decode_op(&inp.scope.encode(), &op),
            Err(DecodeError::UnsupportedFormat { found: 2 })
        );
    }

    #[test]
    fn a_skipped_blob_is_never_marked_seen_and_makes_the_scan_partial() {
        let mut inp = input(Outcome::Complete);
        inp.skipped = vec![oid(2), oid(2)];
        let out = build_finalize_ops(&inp);
        assert_eq!(out.outcome, Outcome::Partial);
        assert!(out.watermark_ops.is_empty());
        assert_eq!(out.stats.seen_delta, 1);
        assert_eq!(out.stats.skipped, 1);
        // The blob's findings are still recorded.
        assert_eq!(out.stats.findings, 2);
    }

    #[test]
    fn a_deleted_ref_still_in_the_start_set_is_not_deleted() {
        let mut inp = input(Outcome::Complete);
        inp.deleted_refs.push("refs/heads/main".into());
        let out = build_finalize_ops(&inp);
        assert_eq!(out.watermark_ops.len(), 2);
    }
}
