#!/usr/bin/env python3
"""Event throughput of the Python binding: iterate every event of a scan yielding ~100k
findings, against the CLI writing the same scan as jsonl to /dev/null.

usage: python_events.py [REPO] [--runs N] [--threads N] [--max-ratio R]

REPO defaults to /tmp/mf/many.git, made with bench/many_findings.py when absent. Each run is a
fresh process for both sides (interpreter start, import and rule compilation count for Python
as process start and rule compilation count for the CLI), CLI and Python runs alternate, and
the median wall time of each is compared. Exit status 1 when python/cli exceeds --max-ratio
(1.3 by default, the issue's acceptance bound).

Run it with the interpreter that has the package installed, e.g.
    python3 -m venv /tmp/sg && /tmp/sg/bin/pip install ./bindings-python
    /tmp/sg/bin/python bench/python_events.py
The CLI is ./target/release/scangit (cargo build --release) unless SCANGIT_BIN names one.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# What a Python user does: iterate every event, touching each one's type.
CHILD = r"""
import sys, time
t0 = time.perf_counter()
import scangit
n = findings = 0
for e in scangit.scan(sys.argv[1], threads=int(sys.argv[2])):
    n += 1
    if e.type == "finding":
        findings += 1
print(n, findings, time.perf_counter() - t0)
"""


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    return wall, p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo", nargs="?", default="/tmp/mf/many.git")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--max-ratio", type=float, default=1.3)
    a = ap.parse_args()

    try:
        import scangit  # noqa: F401
    except ImportError:
        sys.exit("python_events.py: `import scangit` failed; run with a Python that has "
                 "`pip install ./bindings-python` (see the docstring)")
    cli = os.environ.get("SCANGIT_BIN") or os.path.join(ROOT, "target", "release", "scangit")
    if not os.path.isfile(cli):
        sys.exit("python_events.py: no CLI at %s (cargo build --release)" % cli)
    if not os.path.isdir(a.repo):
        print("generating %s ..." % a.repo, flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "many_findings.py"), a.repo], check=True)

    cli_cmd = [cli, "scan", a.repo, "--format", "jsonl", "--no-progress", "--output", "/dev/null",
               "--threads", str(a.threads)]
    py_cmd = [sys.executable, "-c", CHILD, a.repo, str(a.threads)]
    # One untimed run of each warms the page cache.
    timed(cli_cmd)
    timed(py_cmd)
    cli_walls, py_walls = [], []
    events = findings = None
    for _ in range(a.runs):
        wall, p = timed(cli_cmd)
        if p.returncode not in (0, 1):
            sys.exit("CLI failed (%d): %s" % (p.returncode, p.stderr))
        cli_walls.append(wall)
        wall, p = timed(py_cmd)
        if p.returncode != 0:
            sys.exit("Python run failed: %s" % p.stderr)
        events, findings, _ = p.stdout.split()
        py_walls.append(wall)
    cli_med = statistics.median(cli_walls)
    py_med = statistics.median(py_walls)
    ratio = py_med / cli_med
    print("# repo %s: %s events, %s findings; threads %s; median of %d runs"
          % (a.repo, events, findings, a.threads or "all cores", a.runs))
    print("%-8s %8s  %s" % ("side", "wall_s", "runs"))
    print("%-8s %8.3f  %s" % ("cli", cli_med, " ".join("%.3f" % w for w in cli_walls)))
    print("%-8s %8.3f  %s" % ("python", py_med, " ".join("%.3f" % w for w in py_walls)))
    ok = ratio <= a.max_ratio
    print("ratio python/cli = %.3f (%s: <= %.2f)" % (ratio, "ok" if ok else "FAIL", a.max_ratio))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
