#!/usr/bin/env python3
"""List Rust functions longer than a limit (default 100 lines), test modules excluded.

usage: fn_lengths.py [--limit N] DIR...   exits 1 when any function is over the limit.
Relies on rustfmt's layout: a function ends at the first line that is its indentation
followed by `}`.
"""
import os
import re
import sys

FN = re.compile(r'^(\s*)(pub(\([a-z]+\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+"C"\s+)?fn\s+(\w+)')


def functions(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    in_tests = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "#[cfg(test)]" and i + 1 < len(lines) and lines[i + 1].lstrip().startswith("mod "):
            indent = len(line) - len(line.lstrip())
            end = i + 2
            while end < len(lines) and lines[end] != " " * indent + "}":
                end += 1
            i = end + 1
            continue
        m = FN.match(line)
        if m and not line.rstrip().endswith(";"):
            indent = m.group(1)
            end = i
            if not line.rstrip().endswith("}"):
                while end + 1 < len(lines) and lines[end + 1] != indent + "}":
                    end += 1
                end += 1
            yield m.group(8), i + 1, end - i + 1
        i += 1


def main():
    args = sys.argv[1:]
    limit = 100
    if args[:1] == ["--limit"]:
        limit, args = int(args[1]), args[2:]
    over = []
    for root in args:
        for d, _, files in os.walk(root):
            for f in sorted(files):
                if f.endswith(".rs"):
                    p = os.path.join(d, f)
                    over += [(n, p, l, k) for (n, l, k) in functions(p) if k > limit]
    for n, p, l, k in sorted(over, key=lambda x: -x[3]):
        print(f"{p}:{l}: fn {n}: {k} lines")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
