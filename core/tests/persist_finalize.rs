//! Finalize: determinism whatever the input order, partial outcomes, key order and scoping.

mod persist_support;

use persist_support::*;
use scangit_core::Outcome;
use scangit_core::scan::finalize::{FinalizeInput, build_finalize_ops};
use scangit_core::store::codec::{
    DecodedOp, NS_BLOB_CTX, NS_FINDING, NS_SEEN_BLOB, decode_op, split_key,
};

/// A small deterministic shuffle (xorshift), so failures reproduce.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut x = seed | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

fn rich_input() -> FinalizeInput {
    let mut blobs = blobs(0..2000);
    // The same blob reported from several workers with different contexts and overlapping
    // findings, as a multi-threaded scan may do.
    let mut dup = blobs[21].clone();
    dup.context.path = b"a/earlier/path".to_vec();
    dup.findings.push(blobs[21].findings[0].clone());
    dup.findings.push(finding("slack-token", 99));
    blobs.push(dup);
    let mut dup = blobs[5].clone();
    dup.context.commit = None;
    blobs.push(dup);
    let mut inp = input(scope("repo-a", 1), 7, blobs);
    inp.deleted_refs = vec!["refs/heads/gone".into(), "refs/heads/gone".into()];
    inp
}

#[test]
fn finalize_output_is_byte_identical_for_shuffled_inputs() {
    let reference = build_finalize_ops(&rich_input());
    assert_eq!(reference.outcome, Outcome::Complete);
    for seed in 1..=8u64 {
        let mut inp = rich_input();
        shuffle(&mut inp.blobs, seed);
        for b in &mut inp.blobs {
            shuffle(&mut b.findings, seed * 31);
        }
        shuffle(&mut inp.start_set, seed);
        inp.start_set.extend(inp.start_set.clone());
        shuffle(&mut inp.deleted_refs, seed);
        let out = build_finalize_ops(&inp);
        assert_eq!(out, reference, "seed {seed}");
    }
}

#[test]
fn duplicate_contexts_keep_the_minimum_and_findings_merge() {
    let inp = rich_input();
    let out = build_finalize_ops(&inp);
    assert_eq!(out.stats.blobs, 2000);
    assert_eq!(out.stats.duplicate_contexts, 2);
    assert_eq!(out.stats.duplicate_findings, 3);
    let enc = inp.scope.encode();
    let ctx_of = |n: u64| {
        out.data_ops
            .iter()
            .find_map(|op| match decode_op(&enc, op).unwrap() {
                DecodedOp::BlobContext { blob, context } if blob == oid(n) => Some(context),
                _ => None,
            })
            .unwrap()
    };
    // Same commit, smaller path wins; a context with a commit beats one without.
    assert_eq!(ctx_of(21).path, b"a/earlier/path");
    assert!(ctx_of(5).commit.is_some());
    let findings_of_21 = out
        .data_ops
        .iter()
        .filter(|op| {
            matches!(decode_op(&enc, op).unwrap(), DecodedOp::Finding { blob, .. } if blob == oid(21))
        })
        .count();
    assert_eq!(findings_of_21, 3);
}

#[test]
fn partial_scan_produces_data_ops_but_no_watermark_ops() {
    let mut inp = rich_input();
    inp.outcome = Outcome::Partial;
    let out = build_finalize_ops(&inp);
    assert_eq!(out.outcome, Outcome::Partial);
    assert!(out.watermark_ops.is_empty());
    assert_eq!(out.stats.watermarks, 0);
    assert_eq!(out.stats.seen_delta, 2000);

    // A complete outcome with gap skips is partial too, and the skipped blobs are not seen.
    let mut inp = rich_input();
    inp.skipped = vec![oid(3), oid(999_999)];
    let out = build_finalize_ops(&inp);
    assert_eq!(out.outcome, Outcome::Partial);
    assert!(out.watermark_ops.is_empty());
    assert_eq!(out.stats.seen_delta, 1999);
    let complete = build_finalize_ops(&rich_input());
    assert_eq!(complete.watermark_ops.len(), 3, "two refs set, one deleted");
}

#[test]
fn key_order_is_namespace_then_logical_field_order() {
    let mut inp = input(scope("r", 1), 1, blobs(0..300));
    // Offsets straddling byte boundaries and rule ids that are prefixes of each other.
    inp.blobs[0].findings = vec![
        finding("ab", 256),
        finding("a", 256),
        finding("a", 255),
        finding("b", 1 << 40),
        finding("a", 0),
    ];
    let out = build_finalize_ops(&inp);
    assert!(out.data_ops.windows(2).all(|w| w[0].key < w[1].key));
    assert!(out.watermark_ops.windows(2).all(|w| w[0].key < w[1].key));
    let enc = inp.scope.encode();
    let namespaces: Vec<[u8; 2]> = out
        .data_ops
        .iter()
        .map(|op| split_key(&enc, &op.key).unwrap().0)
        .collect();
    let first = |ns| namespaces.iter().position(|n| *n == ns).unwrap();
    let last = |ns| namespaces.iter().rposition(|n| *n == ns).unwrap();
    assert!(last(NS_BLOB_CTX) < first(NS_FINDING));
    assert!(last(NS_FINDING) < first(NS_SEEN_BLOB));
    // Decoded findings come out in (blob, start, end, rule) order.
    let logical: Vec<_> = out
        .data_ops
        .iter()
        .filter_map(|op| match decode_op(&enc, op).unwrap() {
            DecodedOp::Finding { blob, record } => {
                Some((blob, record.start, record.end, record.rule_id))
            }
            _ => None,
        })
        .collect();
    let mut sorted = logical.clone();
    sorted.sort();
    assert_eq!(logical, sorted);
    assert!(logical.len() > 5);
    // Seen-blob ops are one key per blob with an empty value.
    let seen: Vec<_> = out
        .data_ops
        .iter()
        .filter(|op| split_key(&enc, &op.key).unwrap().0 == NS_SEEN_BLOB)
        .collect();
    assert_eq!(seen.len(), 300);
    assert!(seen.iter().all(|op| op.value.is_empty()));
}

#[test]
fn every_key_carries_the_format_byte_and_scope() {
    let a = build_finalize_ops(&input(scope("repo", 1), 1, blobs(0..50)));
    let b = build_finalize_ops(&input(scope("repo", 2), 1, blobs(0..50)));
    let enc_a = scope("repo", 1).encode();
    for (x, y) in a.data_ops.iter().zip(&b.data_ops) {
        assert_eq!(x.key[0], scangit_core::store::codec::KEY_FORMAT);
        assert_ne!(x.key, y.key, "another rules hash must give other keys");
        assert!(split_key(&enc_a, &x.key).is_ok());
        assert!(split_key(&enc_a, &y.key).is_err());
    }
}

#[test]
fn kept_secrets_round_trip_and_absent_ones_stay_absent() {
    let mut inp = input(scope("r", 1), 1, blobs(0..1));
    inp.blobs[0].findings[0].secret = Some("AKIA-not-really".into());
    let out = build_finalize_ops(&inp);
    let enc = inp.scope.encode();
    let secrets: Vec<Option<String>> = out
        .data_ops
        .iter()
        .filter_map(|op| match decode_op(&enc, op).unwrap() {
            DecodedOp::Finding { record, .. } => Some(record.secret),
            _ => None,
        })
        .collect();
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets.iter().flatten().count(), 1);
    assert!(secrets.contains(&Some("AKIA-not-really".into())));
}
