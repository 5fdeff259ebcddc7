#!/usr/bin/env python3
"""Compare scangit jsonl findings with a make_repo.py manifest.

usage: check_manifest.py MANIFEST.jsonl FINDINGS.jsonl
Prints missed rows, reported decoys, stray findings, duplicate rules on one span, findings with
an empty span and messages with a path; exits 1 on any mismatch. FINDINGS is `scangit scan REPO
--format jsonl` output (either mode), best with --reveal-secrets (then revealed secrets are
compared with the manifest's, and secrets decoded from one base64 span are told apart).
cli/tests/corpus.rs runs the same checks (and more) in Rust. Manifests without `location`
(older generators) read as all `blob`.

A row is found when a finding sits at its (blob, line) with the row's location (`blob`,
`commit-message`, `tag-message`; a message finding has no path); an archive row's finding must
also name the member (`archive!member`) as its path and the archive's format first in
`decoded_from`. Every finding must belong to a planted row: sit at a planted row's location, or
share its fingerprint (the same secret elsewhere in history) with a finding that does.
"""
import json
import sys


def first_line(s):
    return (s or "").split("\n")[0]


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    events = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    findings = [e for e in events if e["type"] == "finding"]
    revealed = any(f.get("secret") is not None for f in findings)
    at = {}
    for f in findings:
        at.setdefault((f["blob"], f["line"]), []).append(f)
    bad = 0
    explained = set()

    def problem(text):
        nonlocal bad
        bad += 1
        print(text)

    for r in rows:
        key = (r["blob"], r["line"])
        location = r.get("location", "blob")
        hits = [h for h in at.get(key, []) if h.get("location", "blob") == location]
        where = "id=%s kind=%s strategy=%s blob=%s line=%s" % (r["id"], r["kind"], r["strategy"], r["blob"], r["line"])
        if not r["expect"]:
            if at.get(key):
                problem("DECOY REPORTED id=%s text=%r rules=%s" % (r["id"], r["secret"], [h["rule_id"] for h in at[key]]))
            continue
        if not hits:
            others = sorted({h.get("location", "blob") for h in at.get(key, [])})
            problem("MISSED %s%s" % (where, " (found as %s)" % others if others else ""))
            continue
        explained.add(key)
        if r["commit"] and not any(h["commit"] == r["commit"] for h in hits):
            problem("WRONG COMMIT %s want=%s got=%s" % (where, r["commit"], [h["commit"] for h in hits]))
        if location != "blob" and any(h.get("path") is not None for h in hits):
            problem("PATH ON A MESSAGE FINDING %s got=%s" % (where, [h.get("path") for h in hits]))
        if r.get("decoded_from"):  # an archive member
            members = [h for h in hits if h.get("path") == r["path"]]
            if not members:
                problem("WRONG MEMBER PATH %s want=%s got=%s" % (where, r["path"], [h.get("path") for h in hits]))
            elif not any((h.get("decoded_from") or [None])[0] == r["decoded_from"][0] for h in members):
                problem("WRONG ARCHIVE FORMAT %s want=%s got=%s"
                        % (where, r["decoded_from"], [h.get("decoded_from") for h in members]))
        if revealed and not any(first_line(h.get("secret")) == first_line(r["secret"]) for h in hits):
            problem("SECRET MISMATCH %s want=%r got=%r" % (where, first_line(r["secret"]), [h.get("secret") for h in hits]))
    # The same secret in later versions of a file (or in another file) is one secret: a finding
    # is explained when its fingerprint group holds a finding at a manifest row's location.
    good_fp = {h["fingerprint"] for key in explained for h in at[key]}
    # The two halves of an AWS key pair sit on consecutive lines of one row.
    aws_next = {(r["blob"], r["line"] + 1) for r in rows if r["expect"] and r["kind"] == "aws-credentials"}
    good_fp |= {h["fingerprint"] for key in aws_next for h in at.get(key, [])}
    for f in findings:
        if f["fingerprint"] not in good_fp:
            problem("STRAY rule=%s location=%s blob=%s line=%s path=%s snippet=%r"
                    % (f["rule_id"], f.get("location", "blob"), f["blob"], f["line"], f["path"], f["snippet"][:120]))
        if f.get("location", "blob") != "blob" and f.get("path") is not None:
            problem("PATH ON A MESSAGE FINDING rule=%s blob=%s path=%s" % (f["rule_id"], f["blob"], f["path"]))
        if f["end"] <= f["start"]:
            problem("EMPTY SPAN rule=%s blob=%s path=%s %d..%d" % (f["rule_id"], f["blob"], f["path"], f["start"], f["end"]))
    # One location, one secret: two rules on the same span is a duplicate report. A span of
    # encoded text (base64) may hold several secrets (an AWS key id and its secret key), so for
    # decoded findings the revealed secret is part of the location; without --reveal-secrets
    # decoded findings cannot be told apart and are left out of this check. Archive members
    # (decoded text too) are also told apart by their paths: path-only findings on two binary
    # members may have the same empty span.
    spans = {}
    for f in findings:
        extra = ""
        if f.get("decoded_from"):
            if f.get("secret") is None:
                continue
            extra = f["secret"]
        spans.setdefault((f["blob"], f.get("path"), f["start"], f["end"], extra), set()).add(f["rule_id"])
    for (blob, path, s, e, _), rules in spans.items():
        if len(rules) > 1:
            problem("DUPLICATE RULES %s on blob=%s path=%s %d..%d" % (sorted(rules), blob, path, s, e))
    exp = sum(1 for r in rows if r["expect"])
    print("expected %d, decoys %d, findings %d, problems %d" % (exp, len(rows) - exp, len(findings), bad))
    sys.exit(1 if bad else 0)


main()
