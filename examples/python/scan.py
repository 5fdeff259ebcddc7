#!/usr/bin/env python3
"""Scan a git repository's whole history for secrets and print the findings.

usage: scan.py REPO [--store FILE.db | --json-store FILE.json] [--threads N] [--mode M]
                    [--reveal-secrets] [--jsonl]

--store keeps results in a SQLite file (the next run reports only what is new);
--json-store does the same through a store written in Python (the `scangit.Store` protocol
over a dict, saved as JSON). Exit status: 0 no findings, 1 findings, 2 error (as the CLI).
Ctrl-C stops the scan at once.

Needs the `scangit` package: `pip install ./bindings-python` from the repository root.
"""

import argparse
import base64
import json
import os
import sys

import scangit


class JsonFileStore:
    """A `scangit.Store`: a dict of byte strings, loaded from and saved to a JSON file."""

    def __init__(self, path):
        self.path = path
        self.data = {}
        if os.path.exists(path):
            with open(path) as f:
                self.data = {
                    base64.b64decode(k): base64.b64decode(v) for k, v in json.load(f).items()
                }

    def get_many(self, keys):
        return [self.data.get(k) for k in keys]

    def scan_prefix(self, prefix):
        return [(k, v) for k, v in self.data.items() if k.startswith(prefix)]

    def write_batch(self, items):
        # All or nothing: build the new state, write it to a temporary file, rename.
        data = dict(self.data)
        data.update(items)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(
                {base64.b64encode(k).decode(): base64.b64encode(v).decode() for k, v in data.items()},
                f,
            )
        os.replace(tmp, self.path)
        self.data = data


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--store", help="SQLite file for incremental scans")
    group.add_argument("--json-store", help="JSON file, through a store written in Python")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--mode", default="odb-blob", choices=["odb-blob", "diff-history"])
    ap.add_argument("--reveal-secrets", action="store_true")
    ap.add_argument("--jsonl", action="store_true", help="print events as JSON lines")
    a = ap.parse_args()

    store = a.store
    if a.json_store:
        store = JsonFileStore(a.json_store)
    commits = {}
    findings = []
    try:
        with scangit.scan(
            a.repo, mode=a.mode, threads=a.threads, store=store, reveal_secrets=a.reveal_secrets
        ) as scan:
            for event in scan:
                if a.jsonl:
                    if event.type != "progress":
                        print(json.dumps(event.to_dict()))
                elif event.type == "finding":
                    findings.append(event)
                elif event.type == "commit":
                    commits[event.commit] = event
    except scangit.ScanError as e:
        print("scan.py: %s (%s)" % (e, e.code), file=sys.stderr)
        return 2
    summary = scan.summary
    if not a.jsonl:
        for f in findings:
            who = commits.get(f.commit)
            author = "%s <%s>" % (who.author_name, who.author_email) if who else ""
            print(
                "%-28s %s:%d:%d  %s  %s"
                % (f.rule_id, f.path, f.line, f.column, (f.commit or "-")[:10], author)
            )
            print("    %s" % (f.secret if a.reveal_secrets else f.snippet))
        print(
            "%s: %d findings, %d commits, %d/%d blobs scanned (%d already seen), %.1f MB, %.0f ms"
            % (
                summary.outcome,
                summary.findings,
                summary.commits,
                summary.blobs_scanned,
                summary.blobs_planned,
                summary.blobs_already_seen,
                summary.bytes_scanned / 1e6,
                summary.timings_ms["total"],
            )
        )
        for skip in summary.skipped:
            print("  skipped %s: %d" % (skip["reason"], skip["count"]))
    return 1 if summary.findings else 0


if __name__ == "__main__":
    sys.exit(main())
