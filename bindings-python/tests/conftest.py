"""Shared fixtures: generated corpora, git plumbing helpers, a dict-backed store.

The tests run against the *installed* package (`pip install ./bindings-python`), never the
source tree. Corpora are generated at test time with `tests/corpus/make_repo.py` (in this
repository; `SCANGIT_CORPUS_SCRIPT` overrides it) and `bench/many_findings.py`.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MANY_FINDINGS = ROOT / "bench" / "many_findings.py"
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def corpus_script():
    return Path(
        os.environ.get("SCANGIT_CORPUS_SCRIPT") or ROOT / "tests" / "corpus" / "make_repo.py"
    )


def git_env():
    return dict(
        os.environ,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Py Test",
        GIT_AUTHOR_EMAIL="pytest@example.com",
        GIT_AUTHOR_DATE="1800000000 +0000",
        GIT_COMMITTER_NAME="Py Test",
        GIT_COMMITTER_EMAIL="pytest@example.com",
        GIT_COMMITTER_DATE="1800000000 +0000",
    )


def git(repo, *args, input=None):
    """Run git on the bare repository `repo`; returns stdout bytes."""
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args],
        input=input,
        check=True,
        capture_output=True,
        env=git_env(),
    ).stdout


def add_commit(repo, files, message="add files"):
    """Commit `files` ({name bytes: content bytes}, top-level entries) on top of HEAD with git
    plumbing (hash-object, mktree, commit-tree, update-ref); returns the commit id and the blob
    id of each file."""
    parent = subprocess.run(
        ["git", "--git-dir", str(repo), "rev-parse", "--verify", "-q", "HEAD"],
        capture_output=True,
        env=git_env(),
    ).stdout.strip().decode()
    ref = git(repo, "symbolic-ref", "HEAD").strip().decode()
    entries = git(repo, "ls-tree", "-z", parent) if parent else b""
    blobs = {}
    for name, content in files.items():
        oid = git(repo, "hash-object", "-w", "--stdin", input=content).strip()
        blobs[name] = oid.decode()
        entries += b"100644 blob " + oid + b"\t" + name + b"\0"
    tree = git(repo, "mktree", "-z", input=entries).strip().decode()
    args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
    commit = git(repo, *args).strip().decode()
    git(repo, "update-ref", ref, commit)
    return commit, blobs


def github_pat(rng):
    """A GitHub classic PAT with a valid CRC32 tail (what the built-in rule checks)."""
    payload = "".join(rng.choice(ALNUM) for _ in range(30))
    v = zlib.crc32(payload.encode())
    check = []
    for _ in range(6):
        check.append(ALNUM[v % 62])
        v //= 62
    return "ghp_" + payload + "".join(reversed(check))


def secret_file(seed, n=3):
    """File content with `n` distinct GitHub PATs, one per line (lines 2, 3, ...)."""
    rng = random.Random(seed)
    lines = ["# settings"] + ['token_%d = "%s"' % (i, github_pat(rng)) for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


class DictStore:
    """The `scangit.Store` protocol over a dict (what the README shows)."""

    def __init__(self):
        self.data = {}
        self.calls = []

    def get_many(self, keys):
        self.calls.append("get_many")
        return [self.data.get(k) for k in keys]

    def scan_prefix(self, prefix):
        self.calls.append("scan_prefix")
        return [(k, v) for k, v in self.data.items() if k.startswith(prefix)]

    def write_batch(self, items):
        self.calls.append("write_batch")
        self.data.update(items)


def native_threads():
    """Threads of this process (native ones included)."""
    return len(os.listdir("/proc/self/task"))


def generate(preset, seed, out):
    script = corpus_script()
    if not script.is_file():
        pytest.fail(
            "corpus generator not found at %s (tests/corpus/make_repo.py, or set SCANGIT_CORPUS_SCRIPT)"
            % script
        )
    subprocess.run(
        [sys.executable, str(script), "--preset", preset, "--seed", str(seed), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    rows = [json.loads(line) for line in open(str(out) + ".planted.jsonl")]
    return out, rows


@pytest.fixture(scope="session")
def corpora(tmp_path_factory):
    """Tiny corpora for seeds 1 and 2: {seed: (repo, rows)}."""
    base = tmp_path_factory.mktemp("corpora")
    return {seed: generate("tiny", seed, base / ("tiny%d.git" % seed)) for seed in (1, 2)}


@pytest.fixture(scope="session")
def corpus(corpora):
    return corpora[1][0]


@pytest.fixture(scope="session")
def many(tmp_path_factory):
    """A repository whose scan yields 60k findings: long enough to abort or interrupt."""
    out = tmp_path_factory.mktemp("many") / "many.git"
    subprocess.run(
        [sys.executable, str(MANY_FINDINGS), str(out), "--findings", "60000"],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture
def repo_copy(corpus, tmp_path):
    """A private copy of corpus 1, safe to add commits to."""
    dst = tmp_path / "copy.git"
    shutil.copytree(str(corpus), str(dst), symlinks=True)
    return dst


def cli_binary():
    """The CLI built from this tree (for comparing outputs), or None."""
    env = os.environ.get("SCANGIT_BIN")
    if env:
        return Path(env)
    # target/<profile>, or target/<triple>/<profile> when CARGO_BUILD_TARGET is set (as in CI).
    triple = os.environ.get("CARGO_BUILD_TARGET", "")
    for base in filter(None, (ROOT / "target" / triple if triple else None, ROOT / "target")):
        for profile in ("release", "debug"):
            p = base / profile / "scangit"
            if p.is_file():
                return p
    return None
