#!/usr/bin/env python3
"""Make a bare repository whose full-history scan yields many findings (default ~100k), for the
event-throughput benchmarks of the bindings (Python and Node iterate every event; the CLI's wall
time on the same scan is the baseline).

usage: many_findings.py OUT.git [--findings N] [--per-file K]

Each commit adds one file of K lines, each line a distinct secret of one of five kinds the
built-in rules report (GitHub PAT with a valid CRC32 tail, AWS key id, npm token, Slack bot token,
Stripe live key). Deterministic; needs only git and the Python standard library.
"""
import argparse
import os
import shutil
import subprocess
import zlib

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Rng:
    def __init__(self, seed):
        self.x = (seed * 0x9E3779B97F4A7C15 | 1) & 0xFFFFFFFFFFFFFFFF

    def next(self):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        self.x = x
        return x

    def pick(self, alphabet, n):
        return "".join(alphabet[self.next() % len(alphabet)] for _ in range(n))


def github_pat(r):
    payload = r.pick(ALNUM, 30)
    v = zlib.crc32(payload.encode())
    check = []
    for _ in range(6):
        check.append(ALNUM[v % 62])
        v //= 62
    return "ghp_" + payload + "".join(reversed(check))


KINDS = [
    lambda r: 'token = "%s"' % github_pat(r),
    lambda r: "aws_access_key_id = %s" % ("AKIA" + r.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
    lambda r: "//registry.npmjs.org/:_authToken=npm_%s" % r.pick(ALNUM, 36),
    lambda r: "SLACK_TOKEN=xoxb-%s-%s-%s" % (r.pick("0123456789", 12), r.pick("0123456789", 12), r.pick(ALNUM, 24)),
    lambda r: 'stripe.api_key = "sk_live_%s"' % r.pick(ALNUM, 24),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--per-file", type=int, default=2_000)
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=a.out + ".home")
    subprocess.run(["git", "init", "-q", "--bare", a.out], check=True, env=env)
    r = Rng(7)
    files = (a.findings + a.per_file - 1) // a.per_file
    stream = []
    t = 1_700_000_000
    for i in range(files):
        n = min(a.per_file, a.findings - i * a.per_file)
        body = "".join(KINDS[j % len(KINDS)](r) + "\n" for j in range(n)).encode()
        msg = b"add secrets %d\n" % i
        stream.append(b"commit refs/heads/main\n")
        stream.append(b"committer Bench <bench@example.com> %d +0000\n" % (t + i))
        stream.append(b"data %d\n%s" % (len(msg), msg))
        stream.append(b"M 100644 inline secrets/s%05d.cfg\ndata %d\n" % (i, len(body)))
        stream.append(body + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], input=b"".join(stream), cwd=a.out, check=True, env=env)
    subprocess.run(["git", "gc", "-q"], cwd=a.out, check=True, env=env)
    shutil.rmtree(a.out + ".home", ignore_errors=True)
    print("%s: %d files, %d secrets" % (a.out, files, a.findings))


if __name__ == "__main__":
    main()
