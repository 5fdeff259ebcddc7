#!/usr/bin/env python3
"""Compare scangit jsonl findings with a make_repo.py manifest.

usage: check_manifest.py MANIFEST.jsonl FINDINGS.jsonl
Prints missed rows, reported decoys, stray findings and duplicate rules on one span; exits 1 on
any mismatch. FINDINGS is `scangit scan REPO --format jsonl` output, best with --reveal-secrets
(then secrets decoded from one base64 span are told apart). cli/tests/corpus.rs runs the same
checks (and more) in Rust.
"""
import json
import sys


def main():
    rows = [json.loads(l) for l in open(sys.argv[1])]
    events = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    findings = [e for e in events if e["type"] == "finding"]
    at = {}
    for f in findings:
        at.setdefault((f["blob"], f["line"]), []).append(f)
    bad = 0
    explained = set()
    for r in rows:
        key = (r["blob"], r["line"])
        hits = at.get(key, [])
        if r["expect"]:
            if not hits:
                bad += 1
                print("MISSED id=%s kind=%s strategy=%s blob=%s line=%s" % (r["id"], r["kind"], r["strategy"], r["blob"], r["line"]))
            else:
                explained.add(key)
                if r["commit"] and not any(h["commit"] == r["commit"] for h in hits):
                    bad += 1
                    print("WRONG COMMIT id=%s kind=%s strategy=%s want=%s got=%s" % (r["id"], r["kind"], r["strategy"], r["commit"], [h["commit"] for h in hits]))
        elif hits:
            bad += 1
            print("DECOY REPORTED id=%s text=%r rules=%s" % (r["id"], r["kind"], [h["rule_id"] for h in hits]))
    # The same secret in later versions of a file (or in another file) is one secret: a finding
    # is explained when its fingerprint group holds a finding at a manifest row's location.
    good_fp = {h["fingerprint"] for key in explained for h in at[key]}
    # The two halves of an AWS key pair sit on consecutive lines of one row.
    aws_next = {(r["blob"], r["line"] + 1) for r in rows if r["expect"] and r["kind"] == "aws-credentials"}
    good_fp |= {h["fingerprint"] for key in aws_next for h in at.get(key, [])}
    for f in findings:
        if f["fingerprint"] not in good_fp:
            bad += 1
            print("STRAY rule=%s blob=%s line=%s path=%s snippet=%r" % (f["rule_id"], f["blob"], f["line"], f["path"], f["snippet"][:120]))
    # One location, one secret: two rules on the same span is a duplicate report. A span of
    # encoded text (base64) may hold several secrets (an AWS key id and its secret key), so for
    # decoded findings the revealed secret is part of the location; without --reveal-secrets
    # decoded findings cannot be told apart and are left out of this check.
    spans = {}
    for f in findings:
        extra = ""
        if f.get("decoded_from"):
            if f.get("secret") is None:
                continue
            extra = f["secret"]
        spans.setdefault((f["blob"], f["start"], f["end"], extra), set()).add(f["rule_id"])
    for (blob, s, e, _), rules in spans.items():
        if len(rules) > 1:
            bad += 1
            print("DUPLICATE RULES %s on blob=%s %d..%d" % (sorted(rules), blob, s, e))
    exp = sum(1 for r in rows if r["expect"])
    print("expected %d, findings %d, problems %d" % (exp, len(findings), bad))
    sys.exit(1 if bad else 0)


main()
