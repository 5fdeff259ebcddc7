#!/usr/bin/env python3
"""Build a bare git repository with known secrets in its history, for scangit's tests and benches.

    python3 tests/corpus/make_repo.py --preset small --out /tmp/demo.git
    python3 tests/corpus/make_repo.py --preset tiny --seed 3 --out /tmp/t.git
    python3 tests/corpus/make_repo.py --commits 400 --files 40 --secrets 20 --seed 5 --out /tmp/x.git

Next to the repository it writes `<out>.planted.jsonl`, one JSON object per line (keys sorted):

    id        row number (0, 1, ...)
    expect    true for a planted secret, false for a decoy a scanner must not report
    kind      what was planted: a rule-shaped credential (`github-pat`, `aws-credentials`, ...)
              or `decoy`
    secret    the credential as a scanner reveals it (an AWS pair as "KEY_ID\\nSECRET_KEY", the
              password for a database URI, the whole block for a private key); the line for a decoy
    strategy  how history hides it: live, deleted, branch, tag, boundary, base64, renamed, dup,
              loose (see STRATEGIES)
    commit    the commit that introduced the blob
    path      the file's path in that commit
    line      1-based line of the secret (its first line) in that blob
    blob      id of the blob

The output depends only on the preset, the knobs and the seed: dates, names and contents come
from a seeded `random.Random`, git runs without system or user configuration, so the object ids
are the same on every run and machine. The history is written with `git fast-import` in one
session per pack (the first pack then repacked with deltas, unless --no-repack); secrets of the
`loose` strategy are written afterwards as loose objects. Needs Python 3.8+ and git 2.32+.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import string
import subprocess
import sys
import uuid
import zlib

# commits: main-line commits; files: text files in the first commit; avg_bytes: their mean size;
# big_files: logs of 2-5 MiB (where `boundary` secrets go); secrets/decoys: rows to plant;
# branches: extra long-lived branches; packs: pack files the history ends up in.
PRESETS = {
    "tiny": dict(commits=40, files=24, avg_bytes=1500, big_files=1, secrets=20, decoys=12, branches=2, packs=2),
    "small": dict(commits=600, files=200, avg_bytes=4000, big_files=2, secrets=60, decoys=30, branches=4, packs=2),
    "medium": dict(commits=6000, files=1200, avg_bytes=6000, big_files=6, secrets=150, decoys=60, branches=8, packs=3),
    "large": dict(commits=30000, files=4000, avg_bytes=8000, big_files=20, secrets=300, decoys=120, branches=16,
                  packs=4),
}
KNOBS = ("commits", "files", "avg_bytes", "big_files", "secrets", "decoys", "branches", "packs")

MIB = 1 << 20
EPOCH = 1_600_000_000  # author date of the first commit
DIGITS = string.digits
LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
ALNUM = string.digits + string.ascii_uppercase + string.ascii_lowercase  # also GitHub's base62 order
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"

# How a planted secret hides in history.
STRATEGIES = [
    "live",  # added to a file, still there at the tip of main
    "deleted",  # added in its own file, the file deleted a few commits later
    "branch",  # only on a feature branch that is never merged
    "tag",  # only in a commit reachable from an annotated tag, from no branch
    "boundary",  # in a big log file, the secret straddling a multiple of 1 MiB
    "base64",  # the whole assignment base64-encoded in a Kubernetes Secret manifest
    "renamed",  # added in its own file, the file renamed later
    "dup",  # the same secret written into two different files
    "loose",  # in a loose object (outside every pack) on a work-in-progress branch
]

# Planted kinds: each is one built-in rule (aws-credentials is the pair of AWS rules).
KINDS = [
    "aws-credentials",
    "github-pat",
    "github-fine-grained-pat",
    "gitlab-pat",
    "slack-bot-token",
    "slack-webhook-url",
    "stripe-secret-key",
    "sendgrid-api-key",
    "shopify-access-token",
    "google-api-key",
    "openai-api-key",
    "anthropic-api-key",
    "npm-token",
    "pypi-token",
    "jwt",
    "private-key",
    "postgres-uri",
    "database-uri",
    "generic-password",
    "generic-api-key",
]

# Names a kind's value is assigned to (a name may matter to a rule: `_password`, `auth_key`).
SETTING_NAMES = {
    "github-pat": ["GITHUB_TOKEN", "GH_TOKEN", "github_token"],
    "github-fine-grained-pat": ["GH_PAT", "GITHUB_PAT", "release_pat"],
    "gitlab-pat": ["GITLAB_TOKEN", "gitlab_private_token", "CI_PUSH_TOKEN"],
    "slack-bot-token": ["SLACK_BOT_TOKEN", "slack_token"],
    "slack-webhook-url": ["SLACK_WEBHOOK_URL", "alert_webhook"],
    "stripe-secret-key": ["STRIPE_KEY", "stripe_api_key", "STRIPE_SECRET_KEY"],
    "sendgrid-api-key": ["SENDGRID_API_KEY", "mail_api_key"],
    "shopify-access-token": ["SHOPIFY_TOKEN", "shop_admin_token"],
    "google-api-key": ["GOOGLE_API_KEY", "maps_api_key"],
    "openai-api-key": ["OPENAI_API_KEY", "llm_key"],
    "anthropic-api-key": ["ANTHROPIC_API_KEY", "claude_key"],
    "npm-token": ["NPM_TOKEN", "npm_publish_token"],
    "pypi-token": ["PYPI_TOKEN", "twine_password"],
    "jwt": ["AUTH_JWT", "session_jwt", "service_jwt"],
    "postgres-uri": ["DATABASE_URL", "pg_dsn"],
    "database-uri": ["CACHE_URL", "MONGO_URL", "broker_url"],
    "generic-password": ["db_password", "PASSWORD", "smtp_pass", "admin_password"],
    "generic-api-key": ["auth_key", "STORAGE_ACCESS_KEY", "webhook_auth_key"],
}

KEY_EXTS = (".pem", ".key")
TEXT_EXTS = [".py", ".rs", ".go", ".js", ".yaml", ".toml", ".json", ".env", ".md", ".txt"]
DIRS = ["src", "src/core", "src/net", "lib", "config", "docs", "tests", "scripts", "deploy", "web/app"]
WORDS = (
    "account archive batch buffer cache channel chunk client cluster column config context count "
    "cursor data delta digest entry event export field filter frame graph handle header index item "
    "journal label layer limit list loader manifest marker match metric module node offset option "
    "order owner packet page parser path payload policy queue reader record region report request "
    "result route rule sample schema scope segment server shard signal size slot source stage state "
    "status stream summary table target task tenant timer trace tree update user value version "
    "window worker writer zone"
).split()
PEOPLE = [
    ("Ada Okafor", "ada@example.com"),
    ("Bruno Lindqvist", "bruno@example.org"),
    ("Chen Wei", "chen.wei@example.net"),
    ("Dana Reyes", "dana@example.com"),
    ("Emil Novak", "emil.novak@example.org"),
    ("Farah Haddad", "farah@example.net"),
]
TIMEZONES = ["+0000", "+0100", "+0200", "-0500", "+0530", "-0800"]


def clean_env(extra=None):
    """The environment for every git command: no inherited GIT_* variable, no system or user
    configuration, fixed identity (commands that need dates get them through `extra`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="Corpus Generator",
        GIT_AUTHOR_EMAIL="corpus@example.invalid",
        GIT_COMMITTER_NAME="Corpus Generator",
        GIT_COMMITTER_EMAIL="corpus@example.invalid",
        LC_ALL="C",
        TZ="UTC",
    )
    env.update(extra or {})
    return env


GIT_OPTS = ["-c", "gc.auto=0", "-c", "core.autocrlf=false", "-c", "fastimport.unpackLimit=1"]


def git(repo, *args, stdin=None, env=None):
    """Run git on `repo`; return its stdout (bytes). Exits with git's message on failure."""
    p = subprocess.run(
        ["git", *GIT_OPTS, "--git-dir", repo, *args],
        input=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env or clean_env(),
    )
    if p.returncode != 0:
        sys.exit("git %s failed: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
    return p.stdout


def blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Planted(str):
    """A block of a text file that carries a manifest row (never split or deleted by edits)."""

    __slots__ = ("row",)


# ---------------------------------------------------------------------------- credentials


class Credentials:
    """Random values in the publicly documented shapes of each provider's credentials."""

    def __init__(self, rng):
        self.rng = rng

    def pick(self, alphabet, n):
        c = self.rng.choice
        return "".join(c(alphabet) for _ in range(n))

    def raw(self, n):
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def github_classic(self):
        body = self.pick(ALNUM, 30)
        crc, check = zlib.crc32(body.encode()), ""
        for _ in range(6):
            crc, d = divmod(crc, 62)
            check = ALNUM[d] + check
        return "ghp_" + body + check

    def private_key(self):
        flavour = self.rng.choice(["RSA ", "EC ", "", "OPENSSH "])
        size = {"RSA ": 1190, "EC ": 121, "": 1216, "OPENSSH ": 399}[flavour]
        if flavour == "OPENSSH ":
            der = b"openssh-key-v1\0" + self.raw(size)
            width = 70
        else:
            der = b"\x30\x82" + (size - 4).to_bytes(2, "big") + self.raw(size - 4)
            width = 64
        body = base64.b64encode(der).decode()
        lines = [body[i : i + width] for i in range(0, len(body), width)]
        label = flavour + "PRIVATE KEY"
        return "\n".join(["-----BEGIN %s-----" % label] + lines + ["-----END %s-----" % label])

    def jwt(self):
        r = self.rng
        alg = r.choice(["HS256", "RS256"])
        header = b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
        now = r.randrange(1_600_000_000, 1_750_000_000)
        claims = {"sub": self.pick(DIGITS, 9), "iss": "https://auth.%s.example" % r.choice(WORDS),
                  "iat": now, "exp": now + 3600 * r.randrange(1, 48), "scope": r.choice(WORDS)}
        payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
        sig = b64url(self.raw(32 if alg == "HS256" else 256))
        return "%s.%s.%s" % (header, payload, sig)

    def machine_made(self, alphabet, n):
        """A random value that cannot pass for words: digits, upper and lower case letters, and
        at least one run of only one or two letters (a run like `gUqnnVuNnwc` reads as CamelCase
        words to the generic rules, which then rightly skip it; real generated keys vary)."""
        while True:
            v = self.pick(alphabet, n)
            runs = "".join(c if c.isalpha() else " " for c in v).split()
            if (any(c.isdigit() for c in v) and any(c.isupper() for c in v) and any(c.islower() for c in v)
                    and any(len(run) <= 2 for run in runs) and v[0].isalnum()
                    and not v.lower().startswith(("sk-", "eyj", "akia", "asia", "npm_", "pypi-"))):
                return v

    def make(self, kind):
        """(secret as the manifest records it, {placeholder: value} for the placement)."""
        r, pick = self.rng, self.pick
        if kind == "aws-credentials":
            key_id = "AKIA" + pick(UPPER + "234567", 16)
            key = pick(ALNUM + "/+", 40)
            return key_id + "\n" + key, {"id": key_id, "key": key}
        if kind == "github-pat":
            v = self.github_classic()
        elif kind == "github-fine-grained-pat":
            v = "github_pat_" + pick(ALNUM, 22) + "_" + pick(ALNUM, 59)
        elif kind == "gitlab-pat":
            v = "glpat-" + pick(URLSAFE, 20)
        elif kind == "slack-bot-token":
            v = "xoxb-%s-%s-%s" % (pick(DIGITS, 12), pick(DIGITS, 13), pick(ALNUM, 24))
        elif kind == "slack-webhook-url":
            v = "https://hooks.slack.com/services/T%s/B%s/%s" % (pick(UPPER + DIGITS, 8), pick(UPPER + DIGITS, 10),
                                                                 pick(ALNUM, 24))
        elif kind == "stripe-secret-key":
            v = r.choice(["sk_live_", "rk_live_"]) + pick(ALNUM, r.choice([24, 99]))
        elif kind == "sendgrid-api-key":
            v = "SG." + pick(URLSAFE, 22) + "." + pick(URLSAFE, 43)
        elif kind == "shopify-access-token":
            v = r.choice(["shpat_", "shpss_"]) + pick(HEX, 32)
        elif kind == "google-api-key":
            v = "AIza" + pick(URLSAFE, 35)
        elif kind == "openai-api-key":
            v = "sk-proj-" + pick(URLSAFE, 74) + "T3BlbkFJ" + pick(URLSAFE, 74)
        elif kind == "anthropic-api-key":
            v = "sk-ant-api03-" + pick(URLSAFE, 93) + "AA"
        elif kind == "npm-token":
            v = "npm_" + pick(ALNUM, 36)
        elif kind == "pypi-token":
            v = "pypi-AgEIcHlwaS5vcmc" + b64url(self.raw(r.randrange(60, 120)))
        elif kind == "jwt":
            v = self.jwt()
        elif kind == "private-key":
            v = self.private_key()
        elif kind in ("postgres-uri", "database-uri"):
            password = pick(ALNUM, r.randrange(16, 28))
            user = r.choice(["app", "svc_%s" % r.choice(WORDS), "report", "admin"])
            if kind == "postgres-uri":
                uri = "%s://%s:%s@db%d.%s.internal:5432/%s" % (r.choice(["postgres", "postgresql"]), user, password,
                                                                r.randrange(1, 9), r.choice(WORDS), r.choice(WORDS))
            else:
                uri = r.choice([
                    "mysql://%s:%s@mysql.internal:3306/shop" % (user, password),
                    "mongodb+srv://%s:%s@cluster0.%s.mongodb.net/prod" % (user, password, pick(LOWER, 5)),
                    "redis://:%s@cache.internal:6379/0" % password,
                    "amqp://%s:%s@rabbit.internal:5672/jobs" % (user, password),
                ])
            return password, {"value": uri}
        elif kind == "generic-password":
            v = self.machine_made(ALNUM + "!#%*+-=?@^_", r.randrange(14, 26))
        elif kind == "generic-api-key":
            v = self.machine_made(ALNUM, r.randrange(28, 41))
        else:
            raise ValueError(kind)
        return v, {"value": v}


def setting(name, value, ext, rng, bare=False):
    """`name` set to `value` the way a file of type `ext` writes a setting. `bare`: only forms
    where the value follows the name and `=` or `:` directly (rules that key on the name)."""
    if bare and ext in (".py", ".rs", ".js"):
        return rng.choice(['%s = "%s"', "%s = '%s'"]) % (name, value)
    if ext == ".env":
        return rng.choice(["%s=%s", "export %s=%s", '%s="%s"']) % (name, value)
    if ext == ".yaml":
        return rng.choice(["%s: %s", '%s: "%s"', "  %s: %s"]) % (name, value)
    if ext == ".toml":
        return '%s = "%s"' % (name, value)
    if ext == ".json":
        return '  "%s": "%s",' % (name, value)
    if ext == ".py":
        return rng.choice(['%s = "%s"', "%s = '%s'", 'os.environ["%s"] = "%s"']) % (name, value)
    if ext == ".rs":
        return 'const %s: &str = "%s";' % (name.upper(), value)
    if ext == ".go":
        return '\t%s := "%s"' % (name, value)
    if ext == ".js":
        return rng.choice(["const %s = '%s'", "  %s: '%s',"]) % (name, value)
    return rng.choice(["%s=%s", "    %s = %s"]) % (name, value)  # .md, .txt, .log: a pasted snippet


def placement(kind, parts, ext, rng):
    """The text (one or more lines) that puts a credential into a file of type `ext`."""
    if kind == "private-key":
        return parts["value"]
    if kind == "aws-credentials":
        upper = ext in (".env", ".rs")
        a = "AWS_ACCESS_KEY_ID" if upper else "aws_access_key_id"
        b = "AWS_SECRET_ACCESS_KEY" if upper else "aws_secret_access_key"
        if ext in (".md", ".txt", ".log"):  # an ~/.aws/credentials excerpt
            return "%s = %s\n%s = %s" % (a, parts["id"], b, parts["key"])
        return setting(a, parts["id"], ext, rng, True) + "\n" + setting(b, parts["key"], ext, rng, True)
    bare = kind in ("generic-password", "generic-api-key")
    return setting(rng.choice(SETTING_NAMES[kind]), parts["value"], ext, rng, bare)


# ---------------------------------------------------------------------------- decoys


def decoy(rng):
    """A line a naive scanner flags and a good one does not: placeholders, references to the
    environment or a template, low-entropy and example values, hashes, ids, test-mode keys."""
    pick = lambda alphabet, n: "".join(rng.choice(alphabet) for _ in range(n))  # noqa: E731
    fixed = [
        "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        'GITHUB_TOKEN = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
        'password = "${DB_PASSWORD}"',
        'api_key = os.environ["API_KEY"]',
        'STRIPE_KEY = "sk_live_" + key_suffix',
        'token = "<your-token-here>"',
        'secret: "{{ .Values.secret }}"',
        'password = "aaaaaaaaaaaaaaaa"',
        'OPENAI_API_KEY = "sk-..."',
        "auth_token = None",
        'DATABASE_URL = "postgres://user:${DB_PASSWORD}@localhost/app"',
        "REDIS_URL=redis://localhost:6379/0",
        "SLACK_BOT_TOKEN: xoxb-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX",
        "export NPM_TOKEN=$NPM_TOKEN",
        'client_secret: "${CLIENT_SECRET}"',
        "-----BEGIN RSA PRIVATE KEY-----\\n...\\n-----END RSA PRIVATE KEY-----",
    ]
    made = [
        lambda: 'sha256 = "%s"' % pick(HEX, 64),
        lambda: "commit: %s" % pick(HEX, 40),
        lambda: 'checksum = "sha1:%s"' % pick(HEX, 40),
        lambda: 'request_id = "%s"' % uuid.UUID(int=rng.getrandbits(128), version=4),
        lambda: "tenant: %s" % uuid.UUID(int=rng.getrandbits(128), version=4),
        lambda: 'STRIPE_KEY = "sk_test_%s"' % pick(ALNUM, 24),
        lambda: 'version = "%d.%d.%d"' % (rng.randrange(10), rng.randrange(30), rng.randrange(100)),
    ]
    if rng.random() < 0.6:
        return rng.choice(fixed)
    return rng.choice(made)()


# ---------------------------------------------------------------------------- filler text


class Filler:
    """Plausible source, configuration and log lines (none of them looks like a credential)."""

    def __init__(self, rng):
        self.rng = rng
        self.pools = {ext: [self.line(ext) for _ in range(500)] for ext in TEXT_EXTS}

    def ident(self, n=2):
        return "_".join(self.rng.choice(WORDS) for _ in range(n))

    def line(self, ext):
        r, w = self.rng, self.rng.choice
        words = " ".join(w(WORDS) for _ in range(r.randrange(3, 10)))
        num = r.randrange(4096)
        if ext == ".py":
            return r.choice([
                "def %s(%s, %s):" % (self.ident(), w(WORDS), w(WORDS)),
                "    %s = %s(%s, %d)" % (self.ident(), self.ident(), w(WORDS), num),
                "    return %s.%s()" % (w(WORDS), self.ident()),
                "    # %s" % words,
                "class %s%s:" % (w(WORDS).title(), w(WORDS).title()),
                "    if %s > %d:" % (w(WORDS), num),
                "import %s" % w(WORDS),
                "",
            ])
        if ext == ".rs":
            return r.choice([
                "fn %s(%s: usize) -> Option<%s> {" % (self.ident(), w(WORDS), w(WORDS).title()),
                "    let %s = %s.%s(%d);" % (self.ident(), w(WORDS), self.ident(), num),
                "    // %s" % words,
                "}",
                "pub struct %s%s;" % (w(WORDS).title(), w(WORDS).title()),
                "use crate::%s::%s;" % (w(WORDS), w(WORDS).title()),
                "",
            ])
        if ext == ".go":
            return r.choice([
                "func %s(%s int) error {" % (self.ident(), w(WORDS)),
                "\t%s := %s.%s(%d)" % (w(WORDS), w(WORDS), w(WORDS).title(), num),
                "\t// %s" % words,
                "\treturn nil",
                "}",
                "",
            ])
        if ext == ".js":
            return r.choice([
                "function %s(%s) {" % (self.ident(), w(WORDS)),
                "  const %s = %s.%s(%d)" % (w(WORDS), w(WORDS), w(WORDS), num),
                "  // %s" % words,
                "}",
                "import { %s } from './%s.js'" % (w(WORDS), w(WORDS)),
                "",
            ])
        if ext == ".yaml":
            return r.choice([
                "%s:" % w(WORDS),
                "  %s: %d" % (w(WORDS), num),
                "  %s: %s" % (w(WORDS), r.choice(["true", "false", w(WORDS)])),
                "  - %s" % w(WORDS),
                "# %s" % words,
            ])
        if ext == ".toml":
            return r.choice([
                "[%s]" % w(WORDS),
                "%s = %d" % (self.ident(), num),
                '%s = "%s"' % (w(WORDS), w(WORDS)),
                "# %s" % words,
                "",
            ])
        if ext == ".json":
            return r.choice([
                '  "%s": %d,' % (w(WORDS), num),
                '  "%s": "%s",' % (w(WORDS), w(WORDS)),
                '  "%s": [%d, %d],' % (w(WORDS), num, r.randrange(100)),
                '  "%s": %s,' % (w(WORDS), r.choice(["true", "false", "null"])),
            ])
        if ext == ".env":
            return r.choice([
                "%s=%d" % (self.ident().upper(), num),
                "%s=%s" % (self.ident().upper(), r.choice(["true", "false", w(WORDS)])),
                "# %s" % words,
            ])
        if ext == ".md":
            return r.choice([
                "%s." % words.capitalize(),
                "## %s" % w(WORDS).title(),
                "- %s" % words,
                "",
            ])
        return r.choice(["%s." % words.capitalize(), "%s %d %s" % (w(WORDS), num, w(WORDS)), ""])

    def lines(self, ext, n):
        pool, c = self.pools.get(ext, self.pools[".txt"]), self.rng.choice
        return [c(pool) for _ in range(n)]

    def log(self, size):
        """About `size` bytes of application log."""
        r, out, total, t = self.rng, [], 0, EPOCH
        levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]
        while total < size:
            t += r.randrange(1, 30)
            line = "%d %s %s.%s id=%d took=%dms %s" % (t, r.choice(levels), r.choice(WORDS), r.choice(WORDS),
                                                       r.randrange(10**6), r.randrange(5000),
                                                       " ".join(r.choice(WORDS) for _ in range(r.randrange(2, 8))))
            out.append(line)
            total += len(line) + 1
        return bytearray(("\n".join(out) + "\n").encode())


# ---------------------------------------------------------------------------- fast-import


class Importer:
    """`git fast-import` sessions on one repository; marks persist across sessions."""

    def __init__(self, repo):
        self.repo = repo
        self.marks_file = os.path.join(repo, "corpus.marks")
        self.proc = None
        self.next_mark = 0
        self.marks = {}

    def start(self):
        self.proc = subprocess.Popen(
            ["git", *GIT_OPTS, "--git-dir", self.repo, "fast-import", "--quiet", "--done",
             "--export-marks=" + self.marks_file, "--import-marks-if-exists=" + self.marks_file],
            stdin=subprocess.PIPE, env=clean_env())

    def stop(self):
        self.put(b"done\n")
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            sys.exit("git fast-import failed")
        self.proc = None
        with open(self.marks_file) as f:
            for line in f:
                mark, oid = line.split()
                self.marks[int(mark[1:])] = oid

    def put(self, data):
        self.proc.stdin.write(data if isinstance(data, bytes) else data.encode())

    def data(self, payload):
        self.put(b"data %d\n" % len(payload))
        self.put(payload)
        self.put(b"\n")

    def commit(self, ref, who, when, message, parents, files=(), deletes=(), renames=()):
        """A commit on `ref`; `files` is [(path, bytes)]. Returns its mark."""
        self.next_mark += 1
        mark = self.next_mark
        ident = "%s <%s> %d %s" % (who[0], who[1], when[0], when[1])
        self.put("commit %s\nmark :%d\nauthor %s\ncommitter %s\n" % (ref, mark, ident, ident))
        self.data(message.encode())
        for i, parent in enumerate(parents):
            self.put("%s :%d\n" % ("from" if i == 0 else "merge", parent))
        for src, dst in renames:
            self.put("R %s %s\n" % (src, dst))
        for path in deletes:
            self.put("D %s\n" % path)
        for path, payload in files:
            self.put("M 100644 inline %s\n" % path)
            self.data(payload)
        self.put(b"\n")
        return mark

    def tag(self, name, mark, who, when, message):
        self.put("tag %s\nfrom :%d\ntagger %s <%s> %d %s\n" % (name, mark, who[0], who[1], when[0], when[1]))
        self.data(message.encode())


# ---------------------------------------------------------------------------- the history


class Corpus:
    def __init__(self, opts):
        self.o = opts
        self.rng = random.Random("scangit-corpus:%d" % opts.seed)
        self.creds = Credentials(self.rng)
        self.filler = Filler(self.rng)
        self.text = {}  # path -> list of elements (str, or Planted blocks)
        self.binary = {}  # path -> bytes
        self.big = {}  # path -> bytearray
        self.rows = []
        self.pending = []  # rows planted in the commit being built
        self.loose = []  # (row, text) written as loose objects at the end
        self.clock = EPOCH
        self.temp_refs = []
        self.doomed = set()  # files a later commit deletes or renames
        self.straddled = set()  # (big file, k): a secret straddles k MiB
        self.repo = opts.out

    # -- helpers
    def tick(self):
        self.clock += self.rng.randrange(300, 6 * 3600)
        return self.clock, self.rng.choice(TIMEZONES)

    def who(self):
        return self.rng.choice(PEOPLE)

    def message(self, ci):
        r = self.rng
        verb = r.choice(["Fix", "Add", "Update", "Refactor", "Remove", "Document", "Tune", "Rename"])
        return "%s %s %s\n\nChange %d of the %s %s.\n" % (verb, r.choice(WORDS), r.choice(WORDS), ci,
                                                          r.choice(WORDS), r.choice(WORDS))

    def render(self, path):
        if path in self.big:
            return bytes(self.big[path])
        if path in self.binary:
            return self.binary[path]
        return ("\n".join(self.text[path]) + "\n").encode()

    def row(self, expect, kind, secret, strategy):
        r = dict(id=len(self.rows), expect=expect, kind=kind, secret=secret, strategy=strategy,
                 commit=None, path=None, line=None, blob=None)
        self.rows.append(r)
        return r

    def plant_in(self, path, text, row, at=None):
        """Insert `text` as one block of the text file `path`; the row is resolved at commit."""
        elems = self.text[path]
        if at is None:
            at = self.rng.randrange(len(elems) + 1)
        block = Planted(text)
        block.row = row
        elems.insert(at, block)
        row["path"] = path
        self.pending.append((row, path, block))

    def new_text_file(self, path, ext, lo, hi):
        if ext in KEY_EXTS:  # a key file: a comment at most, the key is planted next
            self.text[path] = ["# %s key for %s" % (self.rng.choice(["deploy", "signing", "tls"]),
                                                   self.rng.choice(WORDS))][: self.rng.randrange(2)]
        else:
            self.text[path] = self.filler.lines(ext, self.rng.randrange(lo, hi))

    def editable(self):
        """Text files ordinary edits, decoys and merges may touch (not key files)."""
        return [p for p in sorted(self.text) if os.path.splitext(p)[1] not in KEY_EXTS]

    def resolve(self, mark, files):
        """Give the rows planted in this commit their blob, line and commit mark."""
        blobs = {p: blob_id(data) for p, data in files}
        for row, path, block in self.pending:
            row["_mark"] = mark
            row["blob"] = blobs[path]
            if block is None:  # a big file: find the secret's first line
                data = dict(files)[path]
                at = data.find(row.pop("_needle").encode())
                row["line"] = data.count(b"\n", 0, at) + 1
            else:
                line = 1
                for e in self.text[path]:
                    if e is block:
                        break
                    line += e.count("\n") + 1
                row["line"] = line
        self.pending = []

    def edit(self, path):
        """An ordinary change to a text file: insert, delete or replace filler lines (planted
        blocks are never split or removed)."""
        r, elems = self.rng, self.text[path]
        ext = os.path.splitext(path)[1]
        at = r.randrange(len(elems) + 1)
        k = r.randrange(1, 5)
        op = r.random()
        if op < 0.35 and len(elems) > 10:
            span = elems[at : at + k]
            if not any(isinstance(e, Planted) for e in span):
                del elems[at : at + k]
                return
        if op < 0.55 and at < len(elems) and not isinstance(elems[at], Planted):
            elems[at] = self.filler.lines(ext, 1)[0]
            return
        elems[at:at] = self.filler.lines(ext, k)

    # -- the build
    def initial_tree(self):
        r, o = self.rng, self.o
        for i in range(o.files):
            ext = r.choice(TEXT_EXTS)
            path = "%s/%s_%d%s" % (r.choice(DIRS), r.choice(WORDS), i, ext)
            n = max(6, int(r.expovariate(1.0) * o.avg_bytes / 30))
            self.text[path] = self.filler.lines(ext, n)
        for i in range(max(1, o.files // 50)):
            self.binary["assets/%s_%d.bin" % (r.choice(WORDS), i)] = self.creds.raw(r.randrange(1500, 30000))
        for i in range(o.big_files):
            self.big["logs/%s_%d.log" % (r.choice(WORDS), i)] = self.filler.log(r.randrange(3 * MIB + 4096, 6 * MIB))

    def schedule(self):
        """Which commit plants what: {commit index: [(what, kind, strategy)]}."""
        r, o, n = self.rng, self.o, self.o.commits
        plan = {}
        for i in range(o.secrets):
            kind = KINDS[(i + o.seed) % len(KINDS)]
            strategy = STRATEGIES[i % len(STRATEGIES)]
            last = n - 2 if strategy in ("deleted", "renamed") else n - 1
            plan.setdefault(r.randrange(1, max(2, last + 1)), []).append(("secret", kind, strategy))
        for _ in range(o.decoys):
            plan.setdefault(r.randrange(1, n), []).append(("decoy", None, "live"))
        return plan

    def plant_secret(self, ci, kind, strategy, changed, later):
        """Plant one secret in commit `ci`; returns work for after the main commit."""
        r = self.rng
        secret, parts = self.creds.make(kind)
        if kind == "private-key":
            own_ext = r.choice(KEY_EXTS)
        else:
            own_ext = r.choice([".env", ".yaml", ".py", ".toml", ".json"])
        stem = r.choice(["settings", "credentials", "local", "deploy", "service", "app", "ci"])
        if strategy == "live" and kind != "private-key" and r.random() < 0.5:
            # into an existing file of main that stays there
            path = r.choice([p for p in self.editable() if p not in self.doomed])
            ext = os.path.splitext(path)[1]
            self.plant_in(path, placement(kind, parts, ext, r), self.row(True, kind, secret, strategy))
            changed.add(path)
            return None
        if strategy in ("live", "deleted", "renamed", "dup"):
            path = "config/%s_%d%s" % (stem, ci, own_ext)
            self.new_text_file(path, own_ext, 4, 50)
            self.plant_in(path, placement(kind, parts, own_ext, r), self.row(True, kind, secret, strategy))
            changed.add(path)
            if strategy == "dup":
                ext2 = ".pem" if kind == "private-key" else r.choice([".env", ".yaml", ".py"])
                path2 = "deploy/%s/%s%s" % (r.choice(["staging", "prod", "dev"]), "copy_%d" % ci, ext2)
                self.new_text_file(path2, ext2, 3, 30)
                self.plant_in(path2, placement(kind, parts, ext2, r), self.row(True, kind, secret, strategy))
                changed.add(path2)
            if strategy in ("deleted", "renamed") and ci < self.o.commits - 1:
                self.doomed.add(path)
                later.setdefault(ci + r.randrange(1, min(40, self.o.commits - 1 - ci) + 1), []).append((strategy, path))
            return None
        if strategy == "base64":
            path = "deploy/k8s/%s-%d-secret.yaml" % (r.choice(WORDS), ci)
            ext = ".key" if kind == "private-key" else ".env"
            encoded = base64.b64encode((placement(kind, parts, ext, r) + "\n").encode()).decode()
            self.text[path] = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: %s-%d" % (r.choice(WORDS), ci),
                               "type: Opaque"]
            self.text[path].append("data:")
            self.plant_in(path, "  %s: %s" % (r.choice(["config.env", "credentials", "settings"]), encoded),
                          self.row(True, kind, secret, strategy))
            changed.add(path)
            return None
        free = [(p, k) for p in sorted(self.big) for k in range(1, len(self.big[p]) // MIB)
                if (p, k) not in self.straddled]
        if strategy == "boundary" and free:
            # each boundary of a file is used once (inserting at a used one would split its secret)
            path, k = r.choice(free)
            self.straddled.add((path, k))
            buf = self.big[path]
            text = placement(kind, parts, ".log", r)
            needle = secret.split("\n")[0] if kind != "private-key" else text.split("\n")[0]
            if kind in ("postgres-uri", "database-uri"):
                needle = parts["value"]
            first = text.split("\n")[0]
            inside = first.find(needle) if first.find(needle) >= 0 else 0
            # "\n" + text goes at `at`: the needle's middle lands on k MiB
            at = k * MIB - 1 - inside - len(needle) // 2
            buf[at:at] = ("\n" + text + "\n").encode()
            row = self.row(True, kind, secret, strategy)
            row["path"], row["_needle"] = path, needle
            self.pending.append((row, path, None))
            changed.add(path)
            return None
        if strategy in ("branch", "tag", "loose"):
            ext = ".pem" if kind == "private-key" else r.choice([".env", ".py", ".yaml"])
            return (strategy, self.row(True, kind, secret, strategy), placement(kind, parts, ext, r), ext)
        # boundary without a free boundary: a live secret
        return self.plant_secret(ci, kind, "live", changed, later)

    def side_commit(self, ref, parent, path, elems, message):
        """A commit on `ref` adding/replacing `path` with `elems`; planted rows are resolved."""
        saved = self.text.get(path)
        self.text[path] = elems
        payload = self.render(path)
        mark = self.imp.commit(ref, self.who(), self.tick(), message, [parent], [(path, payload)])
        self.resolve(mark, [(path, payload)])
        if saved is None:
            del self.text[path]
        else:
            self.text[path] = saved
        return mark

    def build(self):
        o, r = self.o, self.rng
        git(self.repo, "init", "-q", "--bare")
        git(self.repo, "symbolic-ref", "HEAD", "refs/heads/main")
        self.imp = Importer(self.repo)
        # pack boundaries: the first session holds most of the history (repacked with deltas)
        cuts = sorted({max(1, o.commits * (8 + 2 * i) // (8 + 2 * (o.packs - 1))) for i in range(o.packs - 1)})
        branch_points = {max(1, (i + 1) * o.commits // (o.branches + 1)) for i in range(o.branches)}
        plan = self.schedule()
        later = {}

        self.imp.start()
        self.initial_tree()
        everything = sorted(list(self.text) + list(self.binary) + list(self.big))
        main = self.imp.commit("refs/heads/main", self.who(), self.tick(), "Initial import\n", [],
                               [(p, self.render(p)) for p in everything])
        for ci in range(1, o.commits):
            if ci in cuts:
                self.imp.stop()
                if ci == cuts[0] and o.repack:
                    git(self.repo, "repack", "-a", "-d", "-q", "--window=10", "--depth=50")
                self.imp.start()
            changed, deletes, renames, side = set(), [], [], []
            # deletions and renames planned by earlier commits come first (later changes in
            # this commit see the new names)
            for strategy, p in later.pop(ci, []):
                self.doomed.discard(p)
                if strategy == "deleted":
                    del self.text[p]
                    deletes.append(p)
                else:
                    dst = p.replace("config/", "config/archive/", 1)
                    self.text[dst] = self.text.pop(p)
                    renames.append((p, dst))
            paths = self.editable()
            for _ in range(r.randrange(1, 6)):
                p = r.choice(paths)
                self.edit(p)
                changed.add(p)
            if self.big and r.random() < 0.01:
                p = r.choice(sorted(self.big))
                self.big[p] += self.filler.log(r.randrange(200, 4000))
                changed.add(p)
            if r.random() < 0.03:
                ext = r.choice(TEXT_EXTS)
                p = "%s/%s_%d%s" % (r.choice(DIRS), r.choice(WORDS), o.files + ci, ext)
                self.new_text_file(p, ext, 8, 150)
                changed.add(p)
            for what, kind, strategy in plan.get(ci, []):
                if what == "decoy":
                    p = r.choice(self.editable())
                    line = decoy(r)
                    self.plant_in(p, line, self.row(False, "decoy", line, "live"))
                    changed.add(p)
                else:
                    job = self.plant_secret(ci, kind, strategy, changed, later)
                    if job:
                        side.append(job)
            files = [(p, self.render(p)) for p in sorted(changed)]
            main = self.imp.commit("refs/heads/main", self.who(), self.tick(), self.message(ci), [main], files,
                                   deletes, renames)
            self.resolve(main, files)

            for strategy, row, text, ext in side:
                if strategy == "branch":
                    path = "src/%s_%s_%d%s" % (r.choice(WORDS), r.choice(WORDS), ci, ext)
                    elems = self.filler.lines(ext, r.randrange(10, 30))
                    self.text[path] = elems
                    self.plant_in(path, text, row)
                    del self.text[path]
                    self.side_commit("refs/heads/feature/%s-%d" % (r.choice(WORDS), row["id"]), main, path, elems,
                                     "WIP %s\n" % r.choice(WORDS))
                elif strategy == "tag":
                    path = "release/notes-%d.md" % row["id"]
                    elems = self.filler.lines(".md", r.randrange(6, 20))
                    self.text[path] = elems
                    self.plant_in(path, text, row)
                    del self.text[path]
                    tmp = "refs/heads/corpus-tmp/tag-%d" % row["id"]
                    mark = self.side_commit(tmp, main, path, elems, "Release notes %d\n" % ci)
                    self.imp.tag("v0.%d.%d" % (ci, row["id"]), mark, ("Release Bot", "release@example.com"),
                                 self.tick(), "Release 0.%d.%d\n" % (ci, row["id"]))
                    self.temp_refs.append(tmp)
                else:
                    self.loose.append((row, text, ext))
            if ci in branch_points:
                p = r.choice(self.editable())
                ext = os.path.splitext(p)[1]
                elems = list(self.text[p]) + self.filler.lines(ext, r.randrange(2, 8))
                self.side_commit("refs/heads/release/%d.x" % ci, main, p, elems,
                                 "Backport %s\n" % r.choice(WORDS))
            if r.random() < 0.015:  # a short topic branch merged back
                p = r.choice(self.editable())
                ext = os.path.splitext(p)[1]
                self.text[p] = list(self.text[p]) + self.filler.lines(ext, 3)
                payload = self.render(p)
                topic = self.imp.commit("refs/heads/topic/%d" % ci, self.who(), self.tick(),
                                        "Topic %d\n" % ci, [main], [(p, payload)])
                main = self.imp.commit("refs/heads/main", self.who(), self.tick(), "Merge topic %d\n" % ci,
                                       [main, topic], [(p, payload)])
        self.imp.stop()
        self.main = main
        if not cuts and o.repack:
            git(self.repo, "repack", "-a", "-d", "-q", "--window=10", "--depth=50")
        if self.temp_refs:
            git(self.repo, "update-ref", "--stdin",
                stdin="".join("delete %s\n" % ref for ref in self.temp_refs).encode())
        self.write_loose()
        os.remove(self.imp.marks_file)
        if o.commit_graph:
            git(self.repo, "commit-graph", "write", "--reachable")

    def write_loose(self):
        """Each loose row: a commit on refs/heads/wip/<id> adding one file, all its new objects
        loose (written after the last pack)."""
        tip = self.imp.marks[self.main]
        root = git(self.repo, "ls-tree", tip).decode()
        root = [l for l in root.splitlines() if not l.endswith("\twip")]
        for row, text, ext in self.loose:
            elems = self.filler.lines(ext, self.rng.randrange(6, 20))
            at = self.rng.randrange(len(elems) + 1)
            line = 1 + sum(e.count("\n") + 1 for e in elems[:at])
            elems.insert(at, text)
            data = ("\n".join(elems) + "\n").encode()
            blob = git(self.repo, "hash-object", "-w", "--stdin", stdin=data).decode().strip()
            name = "%s-%d%s" % (self.rng.choice(WORDS), row["id"], ext)
            sub = git(self.repo, "mktree", stdin=("100644 blob %s\t%s\n" % (blob, name)).encode()).decode().strip()
            tree = git(self.repo, "mktree", stdin=("\n".join(root + ["040000 tree %s\twip" % sub]) + "\n").encode())
            when, tz = self.tick()
            who = self.who()
            env = clean_env(dict(GIT_AUTHOR_NAME=who[0], GIT_AUTHOR_EMAIL=who[1], GIT_COMMITTER_NAME=who[0],
                                 GIT_COMMITTER_EMAIL=who[1], GIT_AUTHOR_DATE="%d %s" % (when, tz),
                                 GIT_COMMITTER_DATE="%d %s" % (when, tz)))
            commit = git(self.repo, "commit-tree", tree.decode().strip(), "-p", tip, "-m", "wip: %s" % name,
                         env=env).decode().strip()
            git(self.repo, "update-ref", "refs/heads/wip/%d" % row["id"], commit)
            row.update(commit=commit, path="wip/" + name, line=line, blob=blob)

    def manifest(self):
        marks = self.imp.marks
        for row in self.rows:
            mark = row.pop("_mark", None)
            if mark is not None:
                row["commit"] = marks[mark]
        self.check()
        path = self.repo.rstrip("/") + ".planted.jsonl"
        with open(path, "w") as f:
            for row in self.rows:
                f.write(json.dumps(row, sort_keys=True) + "\n")
        return path

    def check(self):
        """Every row's blob exists and holds its secret's first characters at its line."""
        ids = "".join(row["blob"] + "\n" for row in self.rows).encode()
        out = git(self.repo, "cat-file", "--batch", stdin=ids)
        pos = 0
        for row in self.rows:
            header_end = out.index(b"\n", pos)
            oid, kind, size = out[pos:header_end].split()
            body = out[header_end + 1 : header_end + 1 + int(size)]
            pos = header_end + 1 + int(size) + 1
            assert kind == b"blob" and oid.decode() == row["blob"], row
            line = body.split(b"\n")[row["line"] - 1].decode()
            if row["strategy"] == "base64":
                line = base64.b64decode(line.split(": ", 1)[1]).decode()
            probe = row["secret"].split("\n")[0][:12]
            assert probe in line, (row, line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Presets: " + "; ".join(
                                     "%s: %s" % (k, ", ".join("%s=%s" % kv for kv in v.items()))
                                     for k, v in PRESETS.items()))
    ap.add_argument("--out", required=True, help="bare repository to create (replaced if it exists)")
    ap.add_argument("--preset", choices=list(PRESETS), default="small", help="sizes (default: small)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    for k in KNOBS:
        ap.add_argument("--" + k.replace("_", "-"), type=int, metavar="N", help="override the preset's " + k)
    ap.add_argument("--no-commit-graph", dest="commit_graph", action="store_false",
                    help="do not write a commit-graph file")
    ap.add_argument("--no-repack", dest="repack", action="store_false",
                    help="keep the packs as fast-import wrote them (no delta repack of the first one): "
                         "their layout then does not depend on the heuristics of the installed git")
    o = ap.parse_args()
    for k, v in PRESETS[o.preset].items():
        if getattr(o, k) is None:
            setattr(o, k, v)
    if o.commits < 2 or o.files < 1 or o.packs < 1:
        ap.error("need --commits >= 2, --files >= 1, --packs >= 1")
    o.out = os.path.abspath(o.out)
    manifest = o.out.rstrip("/") + ".planted.jsonl"
    for p in (o.out, manifest):
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)
    c = Corpus(o)
    c.build()
    c.manifest()
    planted = sum(1 for r in c.rows if r["expect"])
    print("%s: %d commits, %d planted secrets, %d decoys, manifest %s"
          % (o.out, o.commits, planted, len(c.rows) - planted, manifest), file=sys.stderr)


if __name__ == "__main__":
    main()
