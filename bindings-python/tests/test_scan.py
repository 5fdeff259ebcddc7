"""Scanning: findings against the corpus manifest, event objects, options and errors."""

import base64
import json
import os
import subprocess
import warnings

import pytest
import scangit

from conftest import add_commit, cli_binary, git, secret_file


def manifest_problems(rows, findings):
    """The checks of tests/check_manifest.py (and cli/tests/corpus.rs) over finding dicts."""
    at = {}
    for f in findings:
        at.setdefault((f["blob"], f["line"]), []).append(f)
    bad = []
    explained = set()
    for r in rows:
        key = (r["blob"], r["line"])
        hits = at.get(key, [])
        if r["expect"]:
            if not hits:
                bad.append("MISSED id=%s kind=%s strategy=%s" % (r["id"], r["kind"], r["strategy"]))
            else:
                explained.add(key)
                if r["commit"] and not any(h["commit"] == r["commit"] for h in hits):
                    bad.append("WRONG COMMIT id=%s want=%s" % (r["id"], r["commit"]))
        elif hits:
            bad.append("DECOY REPORTED id=%s rules=%s" % (r["id"], [h["rule_id"] for h in hits]))
    good_fp = {h["fingerprint"] for key in explained for h in at[key]}
    aws_next = {(r["blob"], r["line"] + 1) for r in rows if r["expect"] and r["kind"] == "aws-credentials"}
    good_fp |= {h["fingerprint"] for key in aws_next for h in at.get(key, [])}
    for f in findings:
        if f["fingerprint"] not in good_fp:
            bad.append("STRAY rule=%s blob=%s line=%s" % (f["rule_id"], f["blob"], f["line"]))
    spans = {}
    for f in findings:
        extra = f.get("secret", "") if f["decoded_from"] else ""
        spans.setdefault((f["blob"], f["start"], f["end"], extra), set()).add(f["rule_id"])
    for (blob, s, e, _), rules in spans.items():
        if len(rules) > 1:
            bad.append("DUPLICATE RULES %s on blob=%s %d..%d" % (sorted(rules), blob, s, e))
    return bad


@pytest.mark.parametrize("seed", [1, 2])
def test_findings_match_the_manifest(corpora, seed):
    repo, rows = corpora[seed]
    findings = [e.to_dict() for e in scangit.scan(repo, reveal_secrets=True) if e.type == "finding"]
    assert sum(1 for r in rows if r["expect"]) > 0
    assert any(not r["expect"] for r in rows), "the manifest has decoys"
    assert manifest_problems(rows, findings) == []
    # Revealed secrets are the planted ones.
    by_loc = {(f["blob"], f["line"]): f for f in findings}
    for r in rows:
        if r["expect"] and not r["kind"].startswith("aws") and r["strategy"] != "base64":
            assert by_loc[(r["blob"], r["line"])]["secret"] == r["secret"], r


def test_events_order_types_and_summary(corpus):
    s = scangit.scan(corpus)
    assert s.summary is None and not s.done
    events = list(s)
    assert s.done
    types = [e.type for e in events]
    assert types[-1] == "summary" and types.count("summary") == 1
    assert {"finding", "commit", "progress"} <= set(types)
    summary = events[-1]
    assert s.summary is summary
    assert summary.outcome == "complete" and summary.complete
    assert summary.findings == types.count("finding")
    assert summary.blobs_scanned > 0 and summary.bytes_scanned > 0
    assert set(summary.timings_ms) == {"open", "index", "commits", "plan", "scan", "finalize", "total"}
    # At most one commit event per commit, and every commit event is for a commit with findings.
    commits = [e.commit for e in events if e.type == "commit"]
    assert len(commits) == len(set(commits))
    assert set(commits) == {e.commit for e in events if e.type == "finding"} - {None}
    # Iterating a finished scan yields nothing more.
    assert list(s) == []
    for e in events:
        assert isinstance(e, (scangit.Finding, scangit.CommitMeta, scangit.Progress, scangit.Summary))
        assert e.to_dict()["type"] == e.type


FINDING_KEYS = [
    "type", "rule_id", "rule_description", "location", "blob", "commit", "path", "line", "column", "start",
    "end", "fingerprint", "snippet", "decoded_from", "confidence",
]
COMMIT_KEYS = [
    "type", "commit", "author_name", "author_email", "author_time", "committer_name",
    "committer_email", "committer_time", "summary",
]
SUMMARY_KEYS = [
    "type", "outcome", "skipped", "commits", "blobs_planned", "blobs_already_seen",
    "blobs_scanned", "bytes_scanned", "findings", "timings_ms",
]


def test_to_dict_has_the_cli_jsonl_keys(corpus):
    seen = set()
    for e in scangit.scan(corpus):
        d = e.to_dict()
        want = {"finding": FINDING_KEYS, "commit": COMMIT_KEYS, "summary": SUMMARY_KEYS}.get(e.type)
        if want is not None:
            assert list(d) == want, e.type
            seen.add(e.type)
        for key, value in d.items():
            if key != "type":
                assert getattr(e, key) == value, key
        json.dumps(d)
    assert seen == {"finding", "commit", "summary"}


def test_to_dict_equals_the_cli_jsonl_lines(corpus, tmp_path):
    cli = cli_binary()
    if cli is None:
        pytest.skip("no CLI build (target/release/scangit) to compare with")
    out = tmp_path / "out.jsonl"
    rc = subprocess.run(
        [str(cli), "scan", str(corpus), "--format", "jsonl", "--no-progress", "--output", str(out)],
        capture_output=True,
    ).returncode
    assert rc == 1, "findings: exit code 1"

    def canon(d):
        d = dict(d)
        if d["type"] == "summary":
            d.pop("timings_ms")
        return json.dumps(d, sort_keys=True)

    cli_lines = sorted(canon(json.loads(line)) for line in out.read_text().splitlines())
    py_lines = sorted(canon(e.to_dict()) for e in scangit.scan(corpus, progress=False))
    assert py_lines == cli_lines


def test_secrets_only_when_revealed_and_never_in_repr(corpus):
    hidden = [e for e in scangit.scan(corpus, progress=False) if e.type == "finding"]
    assert hidden and all(f.secret is None and "secret" not in f.to_dict() for f in hidden)
    shown = [e for e in scangit.scan(corpus, reveal_secrets=True) if e.type == "finding"]
    assert shown and all(f.secret and f.to_dict()["secret"] == f.secret for f in shown)
    for f in shown:
        r = repr(f)
        assert f.secret not in r and f.rule_id in r and f.blob[:10] in r
        assert f.secret not in f.fingerprint


def test_progress_can_be_left_out(corpus):
    types = {e.type for e in scangit.scan(corpus, progress=False)}
    assert "progress" not in types and "summary" in types


def test_non_utf8_path(tmp_path):
    repo = tmp_path / "r.git"
    git(repo, "init", "-q", "--bare")
    name = b"caf\xe9-\xff.env"
    _, blobs = add_commit(repo, {name: secret_file(7, n=1)})
    findings = [e for e in scangit.scan(repo) if e.type == "finding"]
    assert len(findings) == 1
    f = findings[0]
    assert f.blob == blobs[name]
    assert f.path_bytes == name
    assert f.path == os.fsdecode(name) and os.fsencode(f.path) == name
    d = f.to_dict()
    assert d["path"] == name.decode("utf-8", "replace")
    assert base64.b64decode(d["path_bytes_b64"]) == name
    assert f.line == 2 and f.column > 1 and f.end > f.start


def test_options(corpus, tmp_path):
    full = [e for e in scangit.scan(corpus, mode="diff-history", threads=1) if e.type == "finding"]
    assert full
    # Nothing reachable from the excluded refs only.
    none = list(scangit.scan(corpus, ref_include=["refs/does-not-exist/*"]))
    assert none[-1].type == "summary" and none[-1].findings == 0
    small = list(scangit.scan(corpus, max_blob_bytes=1))
    assert small[-1].outcome == "partial"
    assert any(k["reason"] == "too_large" for k in small[-1].skipped)
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rules]]\nid = "pytest-gh"\ndescription = "GitHub token (test rule)"\n'
        "regex = '''ghp_[0-9A-Za-z]{36}'''\nkeywords = [\"ghp_\"]\n"
    )
    custom = [e for e in scangit.scan(corpus, rules=rules) if e.type == "finding"]
    assert {f.rule_id for f in custom} <= {"pytest-gh"}


@pytest.mark.parametrize(
    "kwargs, error, code",
    [
        ({"mode": "nope"}, scangit.InvalidArgumentError, "invalid_argument"),
        ({"threads": -1}, scangit.InvalidArgumentError, "invalid_argument"),
        ({"store": object()}, scangit.InvalidArgumentError, "invalid_argument"),
        ({"progress_interval": -1.0}, scangit.InvalidArgumentError, "invalid_argument"),
    ],
)
def test_invalid_arguments_raise_at_call(corpus, kwargs, error, code):
    with pytest.raises(error) as ei:
        scangit.scan(corpus, **kwargs)
    assert ei.value.code == code
    assert isinstance(ei.value, scangit.ScanError)


def test_bad_rules_file(corpus, tmp_path):
    rules = tmp_path / "bad.toml"
    rules.write_text("[[rules]]\nid = 'x'\nregex = '''(unclosed'''\n")
    with pytest.raises(scangit.RulesInvalidError) as ei:
        scangit.scan(corpus, rules=rules)
    assert ei.value.code == "rules_invalid"


# A rule id defined twice: gitleaks loads it and the later definition wins; we warn (or, with
# strict_rules, refuse). The first definition never matches, the second matches the tokens.
DUPLICATE_RULES = """\
[[rules]]
id = "dup"
description = "first definition"
regex = '''never-matches-[0-9]{40}'''
keywords = ["never-matches"]

[[rules]]
id = "dup"
description = "second definition"
regex = '''ghp_[0-9A-Za-z]{36}'''
keywords = ["ghp_"]
"""


@pytest.fixture
def token_repo(tmp_path):
    """A bare repository with one commit: a file holding two GitHub PATs (lines 2 and 3)."""
    repo = tmp_path / "tokens.git"
    git(repo, "init", "-q", "--bare")
    _, blobs = add_commit(repo, {b"settings.env": secret_file(11, n=2)})
    return repo, blobs[b"settings.env"]


def test_duplicate_rule_id_warns_and_the_later_definition_wins(token_repo, tmp_path):
    repo, blob = token_repo
    rules = tmp_path / "dup.toml"
    rules.write_text(DUPLICATE_RULES)
    with pytest.warns(UserWarning) as record:
        s = scangit.scan(repo, rules=rules)
    messages = [str(w.message) for w in record if issubclass(w.category, UserWarning)]
    assert len(messages) == 1, messages
    assert messages[0].startswith("rules ")
    assert str(rules) in messages[0]
    assert "rule dup: duplicate rule id" in messages[0]
    findings = [e for e in s if e.type == "finding"]
    assert [(f.rule_id, f.rule_description, f.blob) for f in findings] == [
        ("dup", "second definition", blob)
    ] * 2
    assert sorted(f.line for f in findings) == [2, 3]


def test_strict_rules_refuses_a_duplicate_rule_id(token_repo, tmp_path):
    repo, _ = token_repo
    rules = tmp_path / "dup.toml"
    rules.write_text(DUPLICATE_RULES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # strict: an error, and no warning on the side
        with pytest.raises(scangit.RulesInvalidError) as ei:
            scangit.scan(repo, rules=rules, strict_rules=True)
    assert ei.value.code == "rules_invalid"
    message = str(ei.value)
    assert "rule dup" in message and "duplicate rule id" in message, message
    assert str(rules) in message


def test_strict_rules_accepts_clean_rules(token_repo, tmp_path):
    repo, blob = token_repo
    rules = tmp_path / "clean.toml"
    rules.write_text(DUPLICATE_RULES.split("\n\n")[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        custom = [e for e in scangit.scan(repo, rules=rules, strict_rules=True)]
        builtin = [e for e in scangit.scan(repo, strict_rules=True)]
    assert [f.rule_id for f in custom if f.type == "finding"] == ["dup", "dup"]
    assert custom[-1].type == "summary" and custom[-1].outcome == "complete"
    assert builtin[-1].type == "summary" and builtin[-1].findings == 2
    assert all(f.blob == blob for f in builtin if f.type == "finding")


def test_repo_not_found(tmp_path):
    with pytest.raises(scangit.RepoNotFoundError) as ei:
        for _ in scangit.scan(tmp_path / "missing.git"):
            pass
    assert ei.value.code == "repo_not_found" and not ei.value.retryable


def test_error_classes():
    kinds = {
        scangit.InvalidArgumentError: "invalid_argument",
        scangit.RepoNotFoundError: "repo_not_found",
        scangit.CorruptError: "corrupt",
        scangit.ConcurrentMaintenanceError: "concurrent_maintenance",
        scangit.AbortedError: "aborted",
        scangit.StoreError: "store",
        scangit.RulesInvalidError: "rules_invalid",
        scangit.ResourceLimitError: "resource_limit",
        scangit.InternalError: "internal",
    }
    for cls, code in kinds.items():
        assert issubclass(cls, scangit.ScanError) and cls.code == code
        assert cls.__module__ == "scangit" and cls.__doc__
        assert cls.retryable == (code == "concurrent_maintenance")
    assert issubclass(scangit.ScanError, Exception)


def test_commit_message_findings_have_a_location_and_no_path(tmp_path):
    import random

    from conftest import github_pat

    repo = tmp_path / "m.git"
    git(repo, "init", "-q", "--bare")
    token = github_pat(random.Random(11))
    commit, _ = add_commit(repo, {b"README": b"hello\n"}, message="Deploy\n\nwith %s\n" % token)
    findings = [e for e in scangit.scan(repo, reveal_secrets=True) if e.type == "finding"]
    assert len(findings) == 1
    f = findings[0]
    assert f.location == "commit-message"
    assert f.blob == commit and f.commit == commit and f.path is None
    raw = git(repo, "cat-file", "commit", commit)
    assert raw[f.start : f.end].decode() == token == f.secret
    assert f.to_dict()["location"] == "commit-message"
