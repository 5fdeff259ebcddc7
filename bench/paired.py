#!/usr/bin/env python3
"""Paired runs of two scangit binaries on one repository: medians of wall time, CPU time and
peak RSS, alternating A and B so drift on a shared machine hits both alike, and a check that
both report the same findings.

usage: bench/paired.py [--runs N] [--threads N] [--] BIN_A BIN_B REPO [extra scan args...]

Each run is `BIN scan REPO --threads N --format jsonl --output FILE`; the findings (every event
but `summary`, whose timings vary) must be identical between A and B, else the script exits 1.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def run(binary, repo, threads, extra, out):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(
        [binary, "scan", repo, "--threads", str(threads), "--format", "jsonl", "--output", out, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        sys.exit(f"{binary} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest child so far; a fresh process per run keeps it honest.
    return wall, cpu


def peak_rss(binary, repo, threads, extra, out):
    p = subprocess.run(
        ["/usr/bin/time", "-f", "%M", binary, "scan", repo, "--threads", str(threads), "--format",
         "jsonl", "--output", out, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return int(p.stderr.decode().strip().splitlines()[-1]) / 1024


def events(path):
    with open(path) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    summary = [r for r in rows if r["type"] == "summary"]
    body = sorted(json.dumps(r, sort_keys=True) for r in rows if r["type"] != "summary")
    s = summary[-1] if summary else {}
    return body, {k: s.get(k) for k in ("outcome", "commits", "blobs_planned", "blobs_scanned", "bytes_scanned", "findings")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("repo")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="scangit-paired-")
    outs = {k: os.path.join(tmp, k + ".jsonl") for k in ("a", "b")}
    times = {"a": [], "b": []}
    # One warm-up each (page cache), then alternate.
    for k in ("a", "b"):
        run(getattr(args, k), args.repo, args.threads, args.extra, outs[k])
    for i in range(args.runs):
        order = ("a", "b") if i % 2 == 0 else ("b", "a")
        for k in order:
            times[k].append(run(getattr(args, k), args.repo, args.threads, args.extra, outs[k]))
    rss = {k: peak_rss(getattr(args, k), args.repo, args.threads, args.extra, outs[k]) for k in ("a", "b")}
    (ea, sa), (eb, sb) = events(outs["a"]), events(outs["b"])
    print(f"repo {args.repo}  threads {args.threads}  runs {args.runs} (paired, alternating)")
    print(f"{'':4} {'wall s (median)':>16} {'cpu s (median)':>15} {'peak RSS MiB':>13}  binary")
    for k in ("a", "b"):
        w = statistics.median(t[0] for t in times[k])
        c = statistics.median(t[1] for t in times[k])
        print(f"{k.upper():4} {w:16.3f} {c:15.3f} {rss[k]:13.1f}  {getattr(args, k)}")
    wa = statistics.median(t[0] for t in times["a"])
    wb = statistics.median(t[0] for t in times["b"])
    print(f"B/A wall {wb / wa:.3f}   walls A {[round(t[0], 2) for t in times['a']]}  B {[round(t[0], 2) for t in times['b']]}")
    print(f"summary A {sa}")
    print(f"summary B {sb}")
    if ea != eb or sa != sb:
        print(f"FINDINGS DIFFER: {len(ea)} vs {len(eb)} events")
        return 1
    n = sum(1 for e in ea if json.loads(e)["type"] == "finding")
    print(f"findings identical: {n} finding events, {len(ea)} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
