#!/usr/bin/env python3
"""Hostile-input speed: how long the built scangit takes on inputs meant to make it slow, each
next to an ordinary input of the same size, so the ratio shows a quadratic path or a slow
stage. Prints one line per input: seconds, MB/s or rules/s, peak RSS.

usage: bench/hostile_inputs.py [--bin target/<triple>/release/scangit] [--rules N] [--mb N]

- rules: a rules file of N distinct rules (distinct keywords) loaded to scan an empty repository,
  against N/10 rules (a linear loader takes ~10x longer for 10x the rules).
- keyword-dense text: units such as `postgres://u:p@` repeated for MB megabytes in one blob
  (`DENSE`), against ordinary prose of the same size.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def run(cmd, env=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.monotonic() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode not in (0, 1):
        sys.exit(f"{cmd}: exit {p.returncode}: {p.stderr.decode(errors='replace')}")
    return wall, rss


# Keyword-dense units, repeated to fill the blob: keywords with no match around them (the
# red-team case first), then units where every repetition is a real or near match.
DENSE = [
    b"postgres://u:p@",
    b"https://u:p@",
    b"password = ",
    b"-----BEGIN RSA PRIVATE KEY-----\n",
    b"ghp_",
    b"AKIA",
    b"api_key=",
    b"postgres://app:x0PgdnL85VB7Nie@db3.internal/x ",
]


def git(*args, cwd):
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=cwd, check=True,
                   env=env, stdout=subprocess.DEVNULL)


def repo_with(tmp, name, content):
    work = os.path.join(tmp, name)
    os.makedirs(work)
    git("init", "-q", cwd=work)
    with open(os.path.join(work, "blob.txt"), "wb") as f:
        f.write(content)
    git("add", ".", cwd=work)
    git("commit", "-qm", "x", cwd=work)
    return work


def rules_file(path, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write(f'[[rules]]\nid = "r{i}"\nregex = \'\'\'kw{i}x_[a-z0-9]{{16}}\'\'\'\nkeywords = ["kw{i}x_"]\n\n')


def main():
    ap = argparse.ArgumentParser()
    triple = subprocess.run(["rustc", "-vV"], capture_output=True, text=True).stdout
    triple = next(line.split()[1] for line in triple.splitlines() if line.startswith("host:"))
    ap.add_argument("--bin", default=f"target/{triple}/release/scangit")
    ap.add_argument("--rules", type=int, default=100_000)
    ap.add_argument("--mb", type=int, default=8)
    o = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty")
        os.makedirs(empty)
        git("init", "-q", cwd=empty)
        for n in (o.rules // 10, o.rules):
            path = os.path.join(tmp, f"rules{n}.toml")
            rules_file(path, n)
            wall, rss = run([o.bin, "scan", empty, "--rules", path, "--format", "jsonl"])
            print(f"rules load      {n:>8} rules: {wall:7.2f} s  {n / wall:10.0f} rules/s  peak RSS {rss / 1024:.0f} MiB")
        size = o.mb << 20
        inputs = [("ordinary text", b"the quick brown fox jumps over the lazy dog while the config loads\n")]
        inputs += [(f"dense {unit[:24].decode()!r}", unit) for unit in DENSE]
        for i, (label, unit) in enumerate(inputs):
            content = (unit * (size // len(unit) + 1))[:size]
            repo = repo_with(tmp, f"input{i}", content)
            wall, rss = run([o.bin, "scan", repo, "--format", "jsonl", "--max-blob-bytes", "1G"])
            print(f"{label:40} {o.mb:>4} MiB: {wall:7.2f} s  {o.mb / wall:8.2f} MiB/s  peak RSS {rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
