#!/usr/bin/env python3
"""Build a bare git repository with known secrets in its history, for scangit's tests and benches.

    python3 tests/corpus/make_repo.py --preset small --out /tmp/demo.git
    python3 tests/corpus/make_repo.py --preset tiny --seed 3 --out /tmp/t.git
    python3 tests/corpus/make_repo.py --commits 400 --files 40 --secrets 20 --seed 5 --out /tmp/x.git

Next to the repository it writes `<out>.planted.jsonl`, one JSON object per line (keys sorted):

    id        row number (0, 1, ...)
    expect    true for a planted secret, false for a decoy a scanner must not report
    kind      what was planted: the id of the rule that reports it (`github-pat`, `pgpass-password`,
              `pkcs12-file`, ...; `aws-credentials` is the pair of AWS rules; a private key in a
              `.key` file has a second row, `private-key-key-file`, for the file), or `decoy`
    secret    the credential as a scanner reveals it (an AWS pair as "KEY_ID\\nSECRET_KEY", the
              password for a database URI, the whole block for a private key, the value a
              credential-file rule captures; for a path-only rule, whose finding is the file
              itself, the blob id, or for an archive member the hex of the first 20 bytes of the
              member's BLAKE3); the line for a decoy
    strategy  how history hides it (see STRATEGIES): live, deleted, branch, tag, boundary, base64,
              renamed, dup, loose; zip, tar.gz, tar.bz2, gz, xz, nested, jar (inside an archive);
              commit-message, tag-message; with --hard-secrets also archive-root, archive-binary,
              in-dotenv, master-key, dotted-password, base64-generic (HARD_SECRETS)
    location  what the secret sits in, as scangit names it: `blob`, `commit-message` or
              `tag-message`
    commit    the commit that introduced the blob (for a commit message the commit itself, for
              a tag message the commit the tag names)
    path      the file's path in that commit; for an archive member `archive-path!member-path`
              (nested archives joined the same way: `dist/a.tar.gz!lib/b.zip!config/.env`), the
              path scangit reports; null for a message
    line      1-based line of the secret (its first line): in the blob; for an archive member,
              in the archive's extracted text as scangit lays it out (each text member after a
              `==> member-path <==` line, members in archive order, nested archives flattened
              after their own header line, binary members with their header line only); for a
              message, in the raw commit or tag object
              (`git cat-file commit|tag ID`, headers included)
    blob      id of the blob (of the archive for a member); for a message the commit or tag id

Archive rows also have `member_line` (the line in the member's own text) and `decoded_from`
(the outermost format first: `["zip"]`, `["gzip"]`, ...). Decoy rows have `decoy`, the class of
decoy (`lockfile-integrity`, `public-key`, `env-reference`, ...).

The output depends only on the preset, the knobs, the flags and the seed: dates, names and
contents come from a seeded `random.Random`, git runs without system or user configuration, and
archives are written by this script (deflate, zip, gzip, ustar and xz encoders below, bzip2 from
the one libbz2 there is) rather than by whatever zlib or liblzma the interpreter links, so the
object ids are the same on every run and machine. The history is written with `git fast-import`
in one session per pack (the first pack then repacked with deltas, unless --no-repack); secrets
of the `loose` strategy are written afterwards as loose objects. Needs Python 3.8+ and git 2.32+.

`--hard-decoys` adds decoys scangit is known to report wrongly (HARD_DECOYS) and `--hard-secrets`
secrets it misses or reports wrongly (HARD_SECRETS), to be turned on once they are fixed; the
presets leave them out.
"""

import argparse
import base64
import bz2
import hashlib
import json
import os
import random
import re
import shutil
import string
import struct
import subprocess
import sys
import uuid
import zlib

# commits: main-line commits; files: text files in the first commit; avg_bytes: their mean size;
# big_files: logs of 2-5 MiB (where `boundary` secrets go); secrets: rows of the original kinds
# (KINDS); providers: rows of provider tokens (PROVIDERS); cred_files: credential files
# (CRED_FILES, PATH_ONLY); archived: secrets inside archives; messages: secrets in commit and
# tag messages; decoys: decoy lines in ordinary files; decoy_files: realistic decoy files
# (DECOY_FILES); branches: extra long-lived branches; packs: pack files the history ends up in.
PRESETS = {
    "tiny": dict(commits=40, files=24, avg_bytes=1500, big_files=1, secrets=20, providers=12, cred_files=14,
                 archived=10, messages=4, decoys=12, decoy_files=12, branches=2, packs=2),
    "small": dict(commits=600, files=200, avg_bytes=4000, big_files=2, secrets=60, providers=55, cred_files=48,
                  archived=30, messages=10, decoys=30, decoy_files=40, branches=4, packs=2),
    "medium": dict(commits=6000, files=1200, avg_bytes=6000, big_files=6, secrets=150, providers=120,
                   cred_files=100, archived=60, messages=20, decoys=60, decoy_files=80, branches=8, packs=3),
    "large": dict(commits=30000, files=4000, avg_bytes=8000, big_files=20, secrets=300, providers=240,
                  cred_files=200, archived=120, messages=40, decoys=120, decoy_files=160, branches=16, packs=4),
}
KNOBS = ("commits", "files", "avg_bytes", "big_files", "secrets", "providers", "cred_files", "archived", "messages",
         "decoys", "decoy_files", "branches", "packs")

MIB = 1 << 20
EPOCH = 1_600_000_000  # author date of the first commit
DIGITS = string.digits
LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
ALNUM = string.digits + string.ascii_uppercase + string.ascii_lowercase  # also GitHub's base62 order
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
# Passwords: no quote, backslash, `#`, `;`, `$`, `&`, `<`, `:` or space, which the formats below
# would need to quote or escape.
PASSWORD = ALNUM + "!%*+-=?@^_."
URL_PASSWORD = ALNUM + "-._~"  # unreserved in a URL's userinfo
DOTTED = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)+$")  # what rules take for code

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
# Credential files (a whole file at a path its rule is gated on) take these.
FILE_STRATEGIES = ["live", "deleted", "branch", "tag", "renamed", "loose"]
# Inside an archive committed to main: the member's path is `archive!member`.
ARCHIVE_STRATEGIES = [
    "zip",  # a .zip of a few members
    "tar.gz",  # a gzip-compressed tar
    "gz",  # one file gzip-compressed (`dump.sql.gz`: the member is `dump.sql`)
    "nested",  # a .zip inside a .tar.gz
    "xz",  # one file xz-compressed
    "jar",  # a Spring Boot jar (a zip named .jar: scangit reports `jar`)
    "tar.bz2",  # a bzip2-compressed tar
]
# In a message: scanned as text, no path.
MESSAGE_STRATEGIES = [
    "commit-message",  # the message of a commit on main
    "tag-message",  # the message of an annotated tag on main
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

# Provider tokens (core/rules/providers-*.toml): rule id -> (names a value is assigned to, shape).
# A shape is literal text and {CLASS:N} or {CLASS:LO-HI} random runs (CLASSES), or {uuid}. No
# name ends in SECRET_KEY: in a Python settings module (config/*.py) python-settings-secret-key
# would report the token too (see HARD_SECRETS, in-dotenv).
PROVIDERS = {
    "upcloud-api-token": (["UPCLOUD_TOKEN", "upcloud_api_token"], "ucat_{C:26}"),
    "digitalocean-spaces-access-key-id": (["SPACES_ACCESS_KEY_ID", "do_spaces_key"], "DO00{U:16}"),
    "volcengine-access-key-id": (["VOLCENGINE_ACCESS_KEY", "volc_ak"], "AKLT{A:40-46}"),
    "gcp-hmac-access-id": (["GCS_HMAC_ACCESS_ID", "gcs_hmac_id"], "GOOG1{U:56}"),
    "portainer-api-key": (["PORTAINER_API_KEY", "portainer_token"], "ptr_{B:43}="),
    "netbird-pat": (["NB_API_TOKEN", "netbird_token"], "nbp_{A:36}"),
    "harness-api-token": (["HARNESS_API_KEY", "harness_token"], "pat.{W:22}.{X:24}.{A:20}"),
    "jetbrains-permanent-token": (["YOUTRACK_TOKEN", "hub_token"], "perm:{A:12}.{A:16}.{A:30}"),
    "chromatic-project-token": (["CHROMATIC_PROJECT_TOKEN", "chromatic_token"], "chpt_{X:14-16}"),
    "deno-deploy-token": (["DENO_DEPLOY_TOKEN", "deno_token"], "ddp_{A:36}"),
    "mongodb-atlas-service-account-secret": (["MONGODB_ATLAS_CLIENT_SECRET", "atlas_sa_secret"],
                                             "mdb_sa_sk_{W:36-64}"),
    "datastax-astra-token": (["ASTRA_DB_APPLICATION_TOKEN", "astra_token"], "AstraCS:{E:24}:{X:64}"),
    "xata-api-key": (["XATA_API_KEY", "xata_key"], "xau_{A:30-40}"),
    "backblaze-b2-application-key": (["B2_APPLICATION_KEY", "b2_app_key"], "K00{N:1}{B:27}"),
    "axiom-api-token": (["AXIOM_TOKEN", "axiom_api_token"], "xaat-{uuid}"),
    "coralogix-api-key": (["CORALOGIX_API_KEY", "coralogix_key"], "cxtp_{A:30}"),
    "honeybadger-api-key": (["HONEYBADGER_API_KEY", "honeybadger_key"], "hbp_{A:36}"),
    "healthchecks-ping-url": (["HEALTHCHECK_URL", "cron_ping_url"], "https://hc-ping.com/{uuid}"),
    "posthog-personal-api-key": (["POSTHOG_PERSONAL_API_KEY", "posthog_key"], "phx_{A:40-60}"),
    "configcat-sdk-key": (["CONFIGCAT_SDK_KEY", "configcat_key"], "configcat-sdk-1/{W:22}/{W:22}"),
    "devcycle-server-sdk-key": (["DEVCYCLE_SERVER_SDK_KEY", "devcycle_key"], "dvc_server_{A:40}"),
    "porkbun-api-key": (["PORKBUN_API_KEY", "porkbun_key"], "pk1_{X:64}"),
    "porkbun-secret-api-key": (["PORKBUN_SECRET_API_KEY", "porkbun_secret"], "sk1_{X:64}"),
    "dbt-cloud-token": (["DBT_CLOUD_API_TOKEN", "dbt_token"], "dbtc_{A:30-60}"),
    "rootly-api-token": (["ROOTLY_API_TOKEN", "rootly_token"], "rootly_{X:64}"),
    "paddle-api-key": (["PADDLE_API_KEY", "paddle_key"], "pdl_live_apikey_{L:26}_{A:26}"),
    "xendit-secret-key": (["XENDIT_API_SECRET", "xendit_key"], "xnd_production_{A:55-70}"),
    "midtrans-server-key": (["MIDTRANS_SERVER_KEY", "midtrans_key"], "Mid-server-{A:24}"),
    "mercadopago-access-token": (["MERCADOPAGO_ACCESS_TOKEN", "mp_access_token"],
                                 "APP_USR-{D:16}-{D:6}-{X:32}-{D:9}"),
    "checkout-sandbox-secret-key": (["CKO_SECRET", "checkout_secret"], "sk_sbox_{Z:26-28}"),
    "shopify-partner-api-token": (["SHOPIFY_PARTNER_TOKEN", "partner_token"], "prtapi_{X:32}"),
    "amazon-lwa-client-secret": (["LWA_CLIENT_SECRET", "lwa_secret"], "amzn1.oa2-cs.v1.{X:64}"),
    "amazon-mws-auth-token": (["MWS_AUTH_TOKEN", "mws_token"], "amzn.mws.{uuid}"),
    "ebay-client-secret": (["EBAY_CERT_ID", "ebay_cert_id"], "PRD-{X:12}-{X:4}-{X:4}-{X:4}-{X:4}"),
    "pubnub-secret-key": (["PUBNUB_SECRET", "pubnub_secret"], "sec-c-{A:48}"),
    "africastalking-api-key": (["AT_API_KEY", "africastalking_key"], "atsk_{X:64-72}"),
    "zapier-webhook-url": (["ZAPIER_WEBHOOK_URL", "zap_hook"], "https://hooks.zapier.com/hooks/catch/{D:8}/{L:7}"),
    "make-webhook-url": (["MAKE_WEBHOOK", "scenario_hook"], "https://hook.eu1.make.com/{L:32}"),
    "feishu-webhook-url": (["FEISHU_WEBHOOK", "lark_hook"], "https://open.feishu.cn/open-apis/bot/v2/hook/{uuid}"),
    "mailersend-api-token": (["MAILERSEND_API_KEY", "mailersend_token"], "mlsn.{X:64}"),
    "onesignal-api-key": (["ONESIGNAL_REST_API_KEY", "onesignal_key"], "os_v2_app_{Z:100-110}"),
    "helicone-api-key": (["HELICONE_API_KEY", "helicone_key"], "sk-helicone-{L:7}-{L:7}-{L:7}-{L:7}"),
    "langfuse-secret-key": (["LANGFUSE_SECRET", "langfuse_secret"], "sk-lf-{uuid}"),
    "jina-api-key": (["JINA_API_KEY", "jina_key"], "jina_{X:32}{W:28}"),
    "tavily-api-key": (["TAVILY_API_KEY", "tavily_key"], "tvly-dev-{A:32}"),
    "pinterest-access-token": (["PINTEREST_ACCESS_TOKEN", "pinterest_token"], "pina_{Y:96}"),
    "riot-games-api-key": (["RIOT_API_KEY", "riot_key"], "RGAPI-{uuid}"),
    "stytch-secret": (["STYTCH_SECRET", "stytch_secret"], "secret-live-{A:36}="),
    "netlify-build-hook": (["NETLIFY_BUILD_HOOK", "deploy_hook"], "https://api.netlify.com/build_hooks/{X:24}"),
}
PROVIDER_KINDS = list(PROVIDERS)
CLASSES = {
    "X": HEX, "A": ALNUM, "U": UPPER + DIGITS, "L": LOWER + DIGITS, "W": URLSAFE, "B": ALNUM + "+/",
    "Z": LOWER + "234567", "Y": UPPER + "234567", "C": "0123456789ABCDEFGHJKMNPQRSTVWXYZ", "D": DIGITS,
    "E": UPPER + LOWER, "N": "123456",  # N: backblaze-b2-application-key's keywords are k001-k006
}

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
SETTING_NAMES.update((k, names) for k, (names, _) in PROVIDERS.items())

# Kinds whose value is a token assigned to a name (every kind but the file-shaped ones).
TOKEN_KINDS = [k for k in KINDS if k != "private-key"] + PROVIDER_KINDS

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
USERS = ["deploy", "ci", "app", "backup", "ops", "svc"]
HOSTS = ["db1.internal.example.net", "pg-main.prod.lan", "mysql.internal", "10.20.4.17", "db.shop-intern.lan"]
DBS = ["orders", "shop", "billing", "inventory", "analytics"]


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


def is_binary(data):
    """scangit's content sniff: a NUL in the first 8000 bytes (all our binaries have one early)."""
    return b"\0" in data[:8000]


# ---------------------------------------------------------------------------- archives
#
# Written here rather than with zlib, liblzma or tarfile so that the bytes of an archive, hence
# its blob id, do not depend on the libraries the interpreter links (zlib-ng deflates
# differently from zlib, liblzma's encoder changes between releases). bzip2 comes from the
# bz2 module: libbz2 is the only implementation and its output has not changed in decades.


class BitWriter:
    """Bits packed least-significant first, as deflate wants them."""

    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def bits(self, value, count):
        self.acc |= value << self.n
        self.n += count
        while self.n >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.n -= 8

    def code(self, code, length):
        """A Huffman code: sent most-significant bit first."""
        self.bits(int(format(code, "0%db" % length)[::-1], 2), length)

    def finish(self):
        if self.n:
            self.out.append(self.acc & 0xFF)
        return bytes(self.out)


LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
            195, 227, 258]
LEN_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
             4097, 6145, 8193, 12289, 16385, 24577]
DIST_EXTRA = [max(0, i // 2 - 1) for i in range(30)]


def deflate(data):
    """A raw deflate stream (RFC 1951): one block with the fixed Huffman codes, greedy LZ77 matches
    of 3 to 258 bytes within 32 KiB (the 16 latest candidates of each 3-byte prefix)."""
    w = BitWriter()
    w.bits(1, 1)  # the last block
    w.bits(1, 2)  # fixed Huffman codes

    def symbol(sym):
        if sym < 144:
            w.code(0x30 + sym, 8)
        elif sym < 256:
            w.code(0x190 + sym - 144, 9)
        elif sym < 280:
            w.code(sym - 256, 7)
        else:
            w.code(0xC0 + sym - 280, 8)

    heads, i, n = {}, 0, len(data)
    while i < n:
        best, dist = 0, 0
        if i + 3 <= n:
            key = data[i : i + 3]
            for j in reversed(heads.get(key, [])[-16:]):
                if i - j > 32768:
                    break
                k = 3
                while k < 258 and i + k < n and data[j + k] == data[i + k]:
                    k += 1
                if k > best:
                    best, dist = k, i - j
            heads.setdefault(key, []).append(i)
        if best >= 3:
            c = max(x for x in range(29) if LEN_BASE[x] <= best)
            symbol(257 + c)
            w.bits(best - LEN_BASE[c], LEN_EXTRA[c])
            d = max(x for x in range(30) if DIST_BASE[x] <= dist)
            w.code(d, 5)
            w.bits(dist - DIST_BASE[d], DIST_EXTRA[d])
            for p in range(i + 1, min(i + best, n - 2)):
                heads.setdefault(data[p : p + 3], []).append(p)
            i += best
        else:
            symbol(data[i])
            i += 1
    symbol(256)
    return w.finish()


def gzip_bytes(data, name=None):
    """A gzip member (RFC 1952): mtime 0, the original file name when given, OS 'unknown'."""
    head = b"\x1f\x8b\x08" + bytes([0x08 if name else 0]) + b"\0\0\0\0\0\xff"
    if name:
        head += name.encode() + b"\0"
    return head + deflate(data) + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def zip_bytes(members):
    """A zip archive of [(name, bytes)] in that order, deflated, every date 1980-01-01 00:00."""
    local, central, off = bytearray(), bytearray(), 0
    for name, data in members:
        raw = name.encode()
        packed = deflate(data)
        common = struct.pack("<HHHHHIIIH", 20, 0x0800, 8, 0, 0x21, zlib.crc32(data), len(packed), len(data),
                             len(raw))
        head = b"PK\x03\x04" + common + b"\0\0" + raw
        central += (b"PK\x01\x02" + struct.pack("<H", 0x0314) + common
                    + struct.pack("<HHHHII", 0, 0, 0, 0, 0o100644 << 16, off) + raw)
        local += head + packed
        off += len(head) + len(packed)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(members), len(members), len(central), off, 0)
    return bytes(local + central + end)


def tar_bytes(members):
    """A POSIX ustar archive of [(name, bytes)]: regular files, mode 0644, root:root, mtime EPOCH."""
    out = bytearray()
    for name, data in members:
        raw = name.encode()
        prefix, base = b"", raw
        if len(raw) > 100:
            cut = raw.rindex(b"/", 0, 156)
            prefix, base = raw[:cut], raw[cut + 1 :]
        h = bytearray(512)
        for at, value in ((0, base), (100, b"0000644\0"), (108, b"0000000\0"), (116, b"0000000\0"),
                          (124, b"%011o\0" % len(data)), (136, b"%011o\0" % EPOCH), (148, b"        "),
                          (156, b"0"), (257, b"ustar\x0000"), (265, b"root"), (297, b"root"), (345, prefix)):
            h[at : at + len(value)] = value
        h[148:156] = b"%06o\0 " % sum(h)
        out += h + data + bytes(-len(data) % 512)
    out += bytes(1024)
    return bytes(out + bytes(-len(out) % 10240))


def _varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def xz_bytes(data):
    """An xz stream (CRC32 check) of one block whose LZMA2 chunks are stored uncompressed (as
    `xz` itself stores incompressible data): valid for every xz reader."""
    crc = lambda b: struct.pack("<I", zlib.crc32(b))  # noqa: E731
    flags = b"\0\x01"
    header = b"\xfd7zXZ\0" + flags + crc(flags)
    block_header = bytes([2, 0, 0x21, 1, 0, 0, 0, 0])  # 12 bytes; one filter: LZMA2, 4 KiB dictionary
    block_header += crc(block_header)
    chunks = bytearray()
    for k in range(0, len(data), 1 << 16):
        part = data[k : k + (1 << 16)]
        chunks += bytes([1 if k == 0 else 2]) + struct.pack(">H", len(part) - 1) + part
    chunks += b"\0"
    unpadded = len(block_header) + len(chunks) + 4
    block = block_header + chunks + bytes(-len(chunks) % 4) + crc(data)
    index = b"\0" + _varint(1) + _varint(unpadded) + _varint(len(data))
    index += bytes(-len(index) % 4)
    index += crc(index)
    back = struct.pack("<I", len(index) // 4 - 1)
    return header + block + index + crc(back + flags) + back + flags + b"YZ"


B3_IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
B3_PERM = (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8)


def _b3_compress(cv, block, counter, length, flags):
    m = list(struct.unpack("<16I", block.ljust(64, b"\0")))
    s = list(cv) + list(B3_IV[:4]) + [counter & 0xFFFFFFFF, counter >> 32, length, flags]
    M = 0xFFFFFFFF

    def g(a, b, c, d, x, y):
        s[a] = (s[a] + s[b] + x) & M
        v = s[d] ^ s[a]
        s[d] = (v >> 16 | v << 16) & M
        s[c] = (s[c] + s[d]) & M
        v = s[b] ^ s[c]
        s[b] = (v >> 12 | v << 20) & M
        s[a] = (s[a] + s[b] + y) & M
        v = s[d] ^ s[a]
        s[d] = (v >> 8 | v << 24) & M
        s[c] = (s[c] + s[d]) & M
        v = s[b] ^ s[c]
        s[b] = (v >> 7 | v << 25) & M

    for _ in range(7):
        g(0, 4, 8, 12, m[0], m[1])
        g(1, 5, 9, 13, m[2], m[3])
        g(2, 6, 10, 14, m[4], m[5])
        g(3, 7, 11, 15, m[6], m[7])
        g(0, 5, 10, 15, m[8], m[9])
        g(1, 6, 11, 12, m[10], m[11])
        g(2, 7, 8, 13, m[12], m[13])
        g(3, 4, 9, 14, m[14], m[15])
        m = [m[i] for i in B3_PERM]
    return [s[i] ^ s[i + 8] for i in range(8)]


def blake3_20(data):
    """The first 20 bytes of BLAKE3(data): what scangit reports as the secret of a path-only rule
    on an archive member (the member's digest)."""
    CHUNK_START, CHUNK_END, PARENT, ROOT = 1, 2, 4, 8

    def chunk(index, piece):
        """(cv, last block, counter, length, flags) of one chunk; its last block not compressed."""
        cv = B3_IV
        blocks = [piece[k : k + 64] for k in range(0, len(piece), 64)] or [b""]
        for n, b in enumerate(blocks):
            flags = (CHUNK_START if n == 0 else 0) | (CHUNK_END if n == len(blocks) - 1 else 0)
            if n == len(blocks) - 1:
                return cv, b, index, len(b), flags
            cv = _b3_compress(cv, b, index, 64, flags)

    def node(first, pieces):
        if len(pieces) == 1:
            return chunk(first, pieces[0])
        left = 1 << ((len(pieces) - 1).bit_length() - 1)
        a, b = node(first, pieces[:left]), node(first + left, pieces[left:])
        block = struct.pack("<8I", *_b3_compress(*a)) + struct.pack("<8I", *_b3_compress(*b))
        return B3_IV, block, 0, 64, PARENT

    pieces = [data[k : k + 1024] for k in range(0, len(data), 1024)] or [b""]
    cv, block, _, length, flags = node(0, pieces)
    return struct.pack("<8I", *_b3_compress(cv, block, 0, length, flags | ROOT))[:20]


# The name scangit reports as the outermost format of an archive (`decoded_from[0]`).
ORIGIN = {"zip": "zip", "jar": "jar", "tar": "tar", "tar.gz": "gzip", "tar.bz2": "bzip2", "gz": "gzip",
          "bz2": "bzip2", "xz": "xz"}
SINGLE = {"gz": ".gz", "bz2": ".bz2", "xz": ".xz"}  # one compressed file, named after the blob


class Archive:
    """An archive to commit: its format (ORIGIN's keys) and members [(name, bytes or Archive)]
    in archive order. A single-file format (gz, bz2, xz) has one member, named as scangit names
    it: after the blob's file name without the suffix."""

    def __init__(self, fmt, members):
        self.fmt, self.members = fmt, members

    def data(self):
        flat = [(n, m.data() if isinstance(m, Archive) else m) for n, m in self.members]
        if self.fmt in ("zip", "jar"):
            return zip_bytes(flat)
        if self.fmt in SINGLE:
            name, body = flat[0]
            if self.fmt == "gz":
                return gzip_bytes(body, name)
            return bz2.compress(body, 9) if self.fmt == "bz2" else xz_bytes(body)
        tar = tar_bytes(flat)
        if self.fmt == "tar.gz":
            return gzip_bytes(tar)
        return bz2.compress(tar, 9) if self.fmt == "tar.bz2" else tar

    def layout(self):
        """Where scangit puts each member in the text it extracts: {member path (nested members
        `outer!inner`): (newlines before its text, blake3 digest hex)}. Each text member comes
        after a `==> path <==` line and ends with an added newline; an archive member and a
        binary member have their header line only (for them, the newlines before that line)."""
        out, lines = {}, [0]

        def walk(arc, prefix):
            for name, m in arc.members:
                path = prefix + name
                if isinstance(m, Archive):
                    out[path] = (lines[0], blake3_20(m.data()).hex())
                    lines[0] += 1
                    walk(m, path + "!")
                elif is_binary(m):
                    out[path] = (lines[0], blake3_20(m).hex())
                    lines[0] += 1
                else:
                    lines[0] += 1
                    out[path] = (lines[0], blake3_20(m).hex())
                    lines[0] += m.count(b"\n") + 1

        walk(self, "")
        return out


def extract_member(fmt, data, member):
    """The bytes of `member` (`a!b` inside nested archives) of an archive, read with the standard
    library (an independent reader for the generator's self-check)."""
    import gzip
    import io
    import lzma
    import tarfile
    import zipfile

    if fmt in SINGLE:
        body = {"gz": gzip.decompress, "bz2": bz2.decompress, "xz": lzma.decompress}[fmt](data)
        name, rest = member, None
    else:
        name, _, rest = member.partition("!")
        if fmt in ("zip", "jar"):
            body = zipfile.ZipFile(io.BytesIO(data)).read(name)
        else:
            body = tarfile.open(fileobj=io.BytesIO(data)).extractfile(name).read()
    if rest:
        return extract_member("zip" if body.startswith(b"PK") else "tar", body, rest)
    return body


# ---------------------------------------------------------------------------- credentials


class Credentials:
    """Random values in the publicly documented shapes of each provider's credentials."""

    def __init__(self, rng):
        self.rng = rng
        self.forced = []  # passwords the next password() calls return

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

    def shaped(self, shape):
        """A value of a PROVIDERS shape: literal text, {CLASS:N}, {CLASS:LO-HI}, {uuid}."""
        out, rest = [], shape
        while "{" in rest:
            head, _, rest = rest.partition("{")
            spec, _, rest = rest.partition("}")
            out.append(head)
            if spec == "uuid":
                out.append(str(uuid.UUID(int=self.rng.getrandbits(128), version=4)))
                continue
            cls, _, n = spec.partition(":")
            lo, _, hi = n.partition("-")
            out.append(self.pick(CLASSES[cls], self.rng.randrange(int(lo), int(hi or lo) + 1)))
        return "".join(out) + rest

    def password(self, lo=14, hi=24, alphabet=PASSWORD):
        """A password of `lo` to `hi` characters; never `ident.ident` (letters, digits, `_`
        and a dot), which several rules take for a property reference (HARD_SECRETS,
        dotted-password); unless one was forced (`forced`)."""
        if self.forced:
            return self.forced.pop()
        while True:
            v = self.machine_made(alphabet, self.rng.randrange(lo, hi + 1))
            if not DOTTED.match(v):
                return v

    def make(self, kind):
        """(secret as the manifest records it, {placeholder: value} for the placement)."""
        r, pick = self.rng, self.pick
        if kind in PROVIDERS:
            v = self.shaped(PROVIDERS[kind][1])
            return v, {"value": v}
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


# ---------------------------------------------------------------------------- credential files
#
# A credential file is written whole, at a path its rule is gated on (core/rules/files-*.toml):
# each template returns (path, text, kinds) where the text marks every secret as «secret» (as
# the rules' examples do) and `kinds` names the rule of each marked secret, in order. Nothing
# else in the file is reportable: user names, hosts and settings around the secret are the
# kind a scanner must leave alone.


def marked(text):
    """(lines without the markers, [(0-based line, secret)]) of a template's text."""
    lines, found = [], []
    for i, line in enumerate(text.split("\n")):
        while "«" in line:
            head, _, rest = line.partition("«")
            secret, _, tail = rest.partition("»")
            found.append((i, secret))
            line = head + secret + tail
        lines.append(line)
    return lines, found


class CredFiles:
    """Realistic credential files of the formats the gated rules know."""

    def __init__(self, rng, creds):
        self.rng, self.c = rng, creds

    def make(self, kind, path=None):
        """(path, text with «secrets», [kind of each secret]); `path` overrides the path."""
        p, text, kinds = getattr(self, "t_" + kind.replace("-", "_"))()
        return path or self.rng.choice(p), text.strip("\n") + "\n", kinds or [kind]

    # -- files-config.toml
    def t_pgpass_password(self):
        r = self.rng
        return (["home/deploy/.pgpass", "home/postgres/.pgpass", "deploy/pgpass", "ops/db/.pgpass"],
                "# hostname:port:database:username:password\n%s:5432:%s:%s:«%s»\n"
                % (r.choice(HOSTS), r.choice(DBS), r.choice(USERS), self.c.password()), None)

    def t_netrc_password(self):
        r = self.rng
        return (["home/ci/.netrc", "home/deploy/.netrc", "Users/ci/_netrc"],
                "machine %s\n  login %s\n  password «%s»\n"
                % (r.choice(["git.internal.example.net", "artifacts.example.org", "ftp.shop-intern.lan"]),
                   r.choice(USERS), self.c.password(18, 24, ALNUM)), None)

    def t_git_credentials_url_password(self):
        r = self.rng
        return (["home/dev/.git-credentials", "home/ci/.config/git/credentials"],
                "https://%s:«%s»@%s\n" % (r.choice(USERS), self.c.password(16, 28, URL_PASSWORD),
                                          r.choice(["git.internal.example.net", "gitlab.example.org"])), None)

    def t_docker_config_identity_token(self):
        return (["home/ci/.docker/config.json", "deploy/docker-config.json"],
                '{\n\t"auths": {\n\t\t"registry.example.azurecr.io": {\n'
                '\t\t\t"auth": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==",\n'
                '\t\t\t"identitytoken": "«%s»"\n\t\t}\n\t},\n\t"credsStore": ""\n}\n'
                % self.c.pick(URLSAFE, 43), None)

    def t_npmrc_auth_token(self):
        return (["frontend/.npmrc", "home/ci/.npmrc", "web/.npmrc"],
                "registry=https://registry.npmjs.org/\n@acme:registry=https://npm.pkg.example.net/\n"
                "//npm.pkg.example.net/:_authToken=«%s»\nalways-auth=true\n"
                % uuid.UUID(int=self.rng.getrandbits(128), version=4), None)

    def t_pypirc_password(self):
        return (["home/dev/.pypirc", "home/ci/.pypirc"],
                "[distutils]\nindex-servers =\n    internal\n\n[internal]\n"
                "repository = https://pypi.example.net/simple/\nusername = %s\npassword = «%s»\n"
                % (self.rng.choice(USERS), self.c.password()), None)

    def t_maven_settings_password(self):
        return (["home/ci/.m2/settings.xml", "ci/maven-settings.xml"],
                "<settings>\n  <servers>\n    <server>\n      <id>nexus-releases</id>\n"
                "      <username>%s</username>\n      <password>«%s»</password>\n    </server>\n"
                "  </servers>\n</settings>\n" % (self.rng.choice(USERS), self.c.password()), None)

    def t_nuget_config_cleartext_password(self):
        return (["NuGet.config", "src/nuget.config"],
                '<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <packageSources>\n'
                '    <add key="internal" value="https://nuget.example.net/v3/index.json" />\n'
                '  </packageSources>\n  <packageSourceCredentials>\n    <internal>\n'
                '      <add key="Username" value="%s" />\n      <add key="ClearTextPassword" value="«%s»" />\n'
                '    </internal>\n  </packageSourceCredentials>\n</configuration>\n'
                % (self.rng.choice(USERS), self.c.password()), None)

    def t_gradle_properties_secret(self):
        return (["gradle.properties", "android/gradle.properties", "home/ci/.gradle/gradle.properties"],
                "org.gradle.jvmargs=-Xmx2048m\norg.gradle.parallel=true\nossrhUsername=acme-release\n"
                "ossrhPassword=«%s»\n" % self.c.password(), None)

    def t_dotenv_password(self):
        return ([".env", "backend/.env.production", "deploy/prod.env", ".env.local"],
                "APP_ENV=production\nAPP_DEBUG=false\nDB_CONNECTION=pgsql\nDB_HOST=%s\nDB_PORT=5432\n"
                "DB_USERNAME=%s\nDB_PASSWORD=«%s»\nMAIL_MAILER=smtp\n"
                % (self.rng.choice(HOSTS), self.rng.choice(USERS), self.c.password()), None)

    def t_wordpress_db_password(self):
        return (["public_html/wp-config.php", "wp-config.php", "wp-config-production.php"],
                "<?php\ndefine( 'DB_NAME', 'wordpress' );\ndefine( 'DB_USER', 'wp_%s' );\n"
                "define( 'DB_PASSWORD', '«%s»' );\ndefine( 'DB_HOST', 'mysql.internal' );\n"
                "define( 'DB_CHARSET', 'utf8mb4' );\n$table_prefix = 'wp_';\n"
                "require_once ABSPATH . 'wp-settings.php';\n" % (self.rng.choice(USERS), self.c.password()), None)

    def t_rails_database_yml_password(self):
        return (["config/database.yml", "apps/shop/config/database.yml"],
                "default: &default\n  adapter: postgresql\n  encoding: unicode\n"
                '  pool: <%%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %%>\n\ndevelopment:\n  <<: *default\n'
                "  database: shop_development\n\nproduction:\n  <<: *default\n  database: shop_production\n"
                "  username: shop\n  password: «%s»\n  host: db.internal\n" % self.c.password(), None)

    def t_django_settings_password(self):
        return (["shop/settings.py", "shop/settings/production.py", "local_settings.py"],
                'from pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent\nDEBUG = False\n'
                'ALLOWED_HOSTS = ["shop.example.net"]\n\nDATABASES = {\n    "default": {\n'
                '        "ENGINE": "django.db.backends.postgresql",\n        "NAME": "%s",\n'
                '        "USER": "%s",\n        "PASSWORD": "«%s»",\n        "HOST": "db.internal",\n'
                '        "PORT": "5432",\n    }\n}\n'
                % (self.rng.choice(DBS), self.rng.choice(USERS), self.c.password()), None)

    def t_spring_properties_secret(self):
        db = self.rng.choice(DBS)
        return (["src/main/resources/application.properties", "src/main/resources/application-prod.properties"],
                "spring.application.name=%s\nserver.port=8080\n"
                "spring.datasource.url=jdbc:postgresql://db.internal:5432/%s\nspring.datasource.username=%s\n"
                "spring.datasource.password=«%s»\nspring.jpa.hibernate.ddl-auto=validate\n"
                % (db, db, db, self.c.password()), None)

    def t_spring_yaml_secret(self):
        db = self.rng.choice(DBS)
        return (["src/main/resources/application.yml", "src/main/resources/application-prod.yaml"],
                "spring:\n  application:\n    name: %s\n  datasource:\n"
                "    url: jdbc:postgresql://db.internal:5432/%s\n    username: %s\n    password: «%s»\n"
                "  jpa:\n    open-in-view: false\n" % (db, db, db, self.c.password()), None)

    def t_dotnet_appsettings_secret(self):
        return (["src/Shop.Api/appsettings.json", "src/Shop.Api/appsettings.Production.json"],
                '{\n  "Logging": { "LogLevel": { "Default": "Information" } },\n  "AllowedHosts": "*",\n'
                '  "Smtp": {\n    "Host": "smtp.example.net",\n    "Port": 587,\n'
                '    "UserName": "noreply@example.net",\n    "Password": "«%s»"\n  }\n}\n' % self.c.password(), None)

    def t_mysql_option_file_password(self):
        return (["home/backup/.my.cnf", "etc/mysql/conf.d/client.cnf"],
                "[client]\nuser     = %s\npassword = «%s»\nhost     = db.internal\n\n[mysqldump]\n"
                "single-transaction\n" % (self.rng.choice(USERS), self.c.password()), None)

    def t_redis_conf_password(self):
        # up to 11 characters: longer ones are redis-password-setting's (builtin.toml)
        return (["etc/redis/redis.conf", "deploy/redis-6380.conf"],
                "bind 127.0.0.1 -::1\nport 6379\nprotected-mode yes\n# requirepass foobared\n"
                "requirepass «%s»\nmaxmemory 256mb\nmaxmemory-policy allkeys-lru\n"
                % self.c.password(9, 11, ALNUM), None)

    def t_s3cfg_secret(self):
        return (["home/dev/.s3cfg", "ops/s3cfg"],
                "[default]\naccess_key = «%s»\nsecret_key = «%s»\nhost_base = fra1.digitaloceanspaces.com\n"
                "host_bucket = %%(bucket)s.fra1.digitaloceanspaces.com\nuse_https = True\n"
                % (self.c.shaped("DO00{U:16}"), self.c.pick(ALNUM + "+/", 43)),
                ["digitalocean-spaces-access-key-id", "s3cfg-secret"])

    def t_rclone_config_secret(self):
        return (["home/dev/.config/rclone/rclone.conf", "backup/rclone.conf"],
                "[nas]\ntype = sftp\nhost = nas.internal\nuser = %s\npass = «%s»\nshell_type = unix\n"
                % (self.rng.choice(USERS), self.c.pick(URLSAFE, 40)), None)

    def t_msmtprc_password(self):
        return (["home/dev/.msmtprc", "etc/msmtprc"],
                "defaults\nauth on\ntls on\n\naccount work\nhost smtp.example.net\nport 587\n"
                "from alerts@example.net\nuser alerts@example.net\npassword «%s»\n\naccount default : work\n"
                % self.c.password(), None)

    def t_composer_auth_password(self):
        return (["auth.json", "home/dev/.composer/auth.json"],
                '{\n    "http-basic": {\n        "repo.example.net": {\n            "username": "%s",\n'
                '            "password": "«%s»"\n        }\n    }\n}\n'
                % (self.rng.choice(USERS), self.c.password()), None)

    def t_postgres_conninfo_password(self):
        db = self.rng.choice(DBS)
        return (["etc/pgbouncer/pgbouncer.ini", "deploy/pgbouncer.ini"],
                "[databases]\n%s = host=db.internal port=5432 dbname=%s user=%s password=«%s»\n\n[pgbouncer]\n"
                "listen_port = 6432\nauth_type = scram-sha-256\n" % (db, db, db, self.c.password()), None)

    def t_odbc_ini_password(self):
        return (["etc/odbc.ini", "home/dev/.odbc.ini"],
                "[SalesDW]\nDriver      = PostgreSQL Unicode\nServername  = dw.internal\nDatabase    = sales\n"
                "UserName    = report\nPassword    = «%s»\n" % self.c.password(), None)

    # -- files-tools.toml
    def t_filezilla_saved_password(self):
        pw = base64.b64encode(self.c.password().encode()).decode()
        return (["backup/AppData/Roaming/FileZilla/sitemanager.xml", ".config/filezilla/sitemanager.xml"],
                '<?xml version="1.0" encoding="UTF-8"?>\n<FileZilla3 version="3.66.5" platform="windows">\n'
                "  <Servers>\n    <Server>\n      <Host>ftp.shop-intern.lan</Host>\n      <Port>21</Port>\n"
                "      <Protocol>0</Protocol>\n      <Type>0</Type>\n      <User>%s</User>\n"
                '      <Pass encoding="base64">«%s»</Pass>\n      <Logontype>1</Logontype>\n'
                "      <Name>shop staging</Name>\n    </Server>\n  </Servers>\n</FileZilla3>\n"
                % (self.rng.choice(USERS), pw), None)

    def t_winscp_saved_password(self):
        user = self.rng.choice(USERS)
        return (["portable/WinSCP.ini", "WinSCP/winscp-backup.ini"],
                "[Sessions\\%s@files.internal.lan]\nHostName=files.internal.lan\nUserName=%s\n"
                "RemoteDirectory=/var/www/releases\nPassword=«A35C%s»\n"
                % (user, user, self.c.pick("0123456789ABCDEF", 2 * self.rng.randrange(20, 40))), None)

    def t_sublime_sftp_password(self):
        return (["sftp-config.json", "www/theme/sftp-config.json"],
                '{\n    "type": "sftp",\n    "save_before_upload": true,\n    "upload_on_save": true,\n'
                '    "host": "web3.hosting-intern.lan",\n    "user": "%s",\n    "password": "«%s»",\n'
                '    "port": "22",\n    "remote_path": "/var/www/html/",\n    "connect_timeout": 30\n}\n'
                % (self.rng.choice(USERS), self.c.password()), None)

    def t_vscode_sftp_password(self):
        return ([".vscode/sftp.json", "site/.vscode/sftp.json"],
                '{\n  "name": "staging",\n  "host": "stage.shop-intern.lan",\n  "protocol": "sftp",\n'
                '  "port": 22,\n  "username": "%s",\n  "password": "«%s»",\n  "remotePath": "/var/www/shop",\n'
                '  "uploadOnSave": true\n}\n' % (self.rng.choice(USERS), self.c.password()), None)

    def t_kubernetes_secret_data(self):
        user = self.rng.choice(DBS)
        enc = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
        return (["k8s/db-secret.yaml", "deploy/prod/secrets.yml", "kubernetes/base/orders-db.yaml"],
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s-db\n  namespace: shop\ntype: Opaque\n"
                "data:\n  username: %s\n  password: «%s»\n" % (user, enc(user), enc(self.c.password())), None)

    def t_kubeconfig_user_credential(self):
        return (["home/ci/.kube/config", "clusters/prod.kubeconfig"],
                "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://k8s-api.internal.lan:6443\n"
                "  name: prod\ncontexts:\n- context:\n    cluster: prod\n    user: deployer\n  name: prod\n"
                "current-context: prod\nusers:\n- name: deployer\n  user:\n    token: «%s»\n"
                % self.c.machine_made(ALNUM, 40), None)

    def t_helm_values_secret(self):
        return (["charts/orders/values.yaml", "helm/values-prod.yaml"],
                "replicaCount: 2\nimage:\n  repository: registry.example.net/orders\n  tag: \"1.4.2\"\n"
                "postgresql:\n  enabled: true\n  auth:\n    username: orders\n    password: «%s»\n"
                "    database: orders\n" % self.c.password(), None)

    def t_docker_compose_env_secret(self):
        return (["docker-compose.yml", "deploy/docker-compose.prod.yaml"],
                "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: orders\n"
                "      POSTGRES_PASSWORD: «%s»\n      POSTGRES_DB: orders\n    volumes:\n"
                "      - pgdata:/var/lib/postgresql/data\nvolumes:\n  pgdata: {}\n" % self.c.password(), None)

    def t_terraform_tfvars_secret(self):
        return (["terraform.tfvars", "envs/prod/secrets.auto.tfvars"],
                'region          = "eu-west-1"\ninstance_class  = "db.t3.medium"\ndb_username     = "orders"\n'
                'db_password     = "«%s»"\n' % self.c.password(), None)

    def t_terraform_state_secret(self):
        return (["terraform.tfstate", "envs/prod/terraform.tfstate.backup"],
                '{\n  "version": 4,\n  "terraform_version": "1.7.4",\n  "serial": 12,\n  "outputs": {},\n'
                '  "resources": [\n    {\n      "mode": "managed",\n      "type": "aws_db_instance",\n'
                '      "name": "orders",\n      "instances": [\n        {\n          "attributes": {\n'
                '            "engine": "postgres",\n            "username": "orders",\n'
                '            "password": "«%s»",\n            "port": 5432\n          }\n        }\n      ]\n'
                '    }\n  ]\n}\n' % self.c.password(), None)

    def t_ansible_vars_password(self):
        return (["inventories/prod/group_vars/all.yml", "roles/postgres/defaults/main.yml"],
                "---\npostgres_version: 16\napp_db_user: orders\napp_db_password: \"«%s»\"\n"
                "app_db_pool: 20\n" % self.c.password(), None)

    def t_htpasswd_hash(self):
        crypt = "./" + DIGITS + UPPER + LOWER
        return ([".htpasswd", "nginx/conf.d/admin.htpasswd"],
                "admin:$«apr1$%s$%s»\n" % (self.c.pick(crypt, 8), self.c.pick(crypt, 22)), None)

    def t_shadow_password_hash(self):
        crypt = "./" + DIGITS + UPPER + LOWER
        return (["rootfs/etc/shadow", "backup/etc/shadow-"],
                "root:$«6$%s$%s»:19400:0:99999:7:::\ndaemon:*:19400:0:99999:7:::\nbin:*:19400:0:99999:7:::\n"
                "sshd:!:19400::::::\n" % (self.c.pick(crypt, 16), self.c.pick(crypt, 86)), None)

    def t_sql_dump_bcrypt_hash(self):
        crypt = "./" + DIGITS + UPPER + LOWER
        return (["db/dump-2024-03-01.sql", "backups/prod.sql"],
                "-- MySQL dump 10.13\n\nLOCK TABLES `users` WRITE;\n"
                "INSERT INTO `users` (`id`, `email`, `password`) VALUES (1,'alice@shop-intern.lan',"
                "'$«2y$10$%s»');\nUNLOCK TABLES;\n" % self.c.pick(crypt, 53), None)


CRED_FILES = [
    "pgpass-password", "netrc-password", "git-credentials-url-password", "docker-config-identity-token",
    "npmrc-auth-token", "pypirc-password", "maven-settings-password", "nuget-config-cleartext-password",
    "gradle-properties-secret", "dotenv-password", "wordpress-db-password", "rails-database-yml-password",
    "django-settings-password", "spring-properties-secret", "spring-yaml-secret", "dotnet-appsettings-secret",
    "mysql-option-file-password", "redis-conf-password", "s3cfg-secret", "rclone-config-secret",
    "msmtprc-password", "composer-auth-password", "postgres-conninfo-password", "odbc-ini-password",
    "filezilla-saved-password", "winscp-saved-password", "sublime-sftp-password", "vscode-sftp-password",
    "kubernetes-secret-data", "kubeconfig-user-credential", "helm-values-secret", "docker-compose-env-secret",
    "terraform-tfvars-secret", "terraform-state-secret", "ansible-vars-password", "htpasswd-hash",
    "shadow-password-hash", "sql-dump-bcrypt-hash",
]
# Credential files a single compressed stream may hold: their rule's path pattern matches the
# member's bare file name (`db/dump.sql.gz!dump.sql`), not only a path with directories.
STREAM_FILES = {
    "sql-dump-bcrypt-hash": "db/dump-%d.sql",
    "terraform-state-secret": "state/network-%d.tfstate",
    "terraform-tfvars-secret": "envs/prod-%d.tfvars",
    "htpasswd-hash": "nginx/admin-%d.htpasswd",
    "shadow-password-hash": "images/base-%d.shadow",
}

# Path-only rules: the file itself is the finding. kind -> (paths, leading bytes): the rest is
# random bytes (with a NUL: binary to scangit), as key stores and encrypted databases look; None:
# a text file (a vault password on one line).
PATH_ONLY = {
    "pkcs12-file": (["certs/client.p12", "signing/codesign.pfx"], b"\x30\x82\x0a\x39\x02\x01\x03"),
    "java-keystore-file": (["android/app/release.keystore", "config/keystore.jks"], b"\xfe\xed\xfe\xed\0\0\0\x02"),
    "kerberos-keytab-file": (["deploy/http-svc.keytab", "etc/krb5.keytab"], b"\x05\x02\0\0\0\x46"),
    "keepass-database-file": (["ops/Passwords.kdbx", "team/vault.kdbx"], b"\x03\xd9\xa2\x9a\x67\xfb\x4b\xb5\0"),
    "gnupg-secret-keyring-file": ([".gnupg/secring.gpg", "release/signing.skr"], b"\x95\x03\xc6\x04\0"),
    "gcloud-credential-db-file": ([".config/gcloud/credentials.db", "home/ci/.config/gcloud/access_tokens.db"],
                                  b"SQLite format 3\0\x10\0\x01\x01\0\x40\x20\x20"),
    "vnc-passwd-file": ([".vnc/passwd", "home/kiosk/.vnc/passwd"], b"\0"),
    "mysql-login-path-file": (["home/dev/.mylogin.cnf", ".mylogin.cnf"], b"\0\0\0\0"),
    "jenkins-secret-key-file": (["jenkins_home/secrets/hudson.util.Secret",
                                 "var/lib/jenkins/secrets/hudson.util.Secret"], b"\x01\0\x10"),
    "ansible-vault-password-file": ([".vault_pass", "ansible/.vault_pass.txt", "deploy/.vault-password-file"], None),
}
TEXT_PATH_ONLY = ["ansible-vault-password-file"]
FILE_KINDS = CRED_FILES + list(PATH_ONLY)
# What an archive may hold in the presets: a binary member has no text, and a path-only finding
# on it an empty span (HARD_SECRETS, archive-binary).
ARCHIVE_FILE_KINDS = CRED_FILES + TEXT_PATH_ONLY

# Secrets scangit misses or reports twice today: only with --hard-secrets (move them into the
# presets once fixed). strategy -> kinds:
#   archive-root    a credential file at the root of an archive (`backup.tar.gz!NuGet.config`):
#                   rule paths anchor on `(?:^|/)` and the member's path has a `!` there, so the
#                   gated and path-only rules never run (a .env at the root is left to
#                   generic-password, a NuGet.config or wp-config.php to nothing)
#   archive-binary  a binary file a path-only rule reports, inside a zip
#                   (`certs.zip!certs/client.p12`): the finding's span is empty (end == start)
#   in-dotenv       a provider token in a .env (`PUBNUB_SECRET_KEY=sec-c-...`): dotenv-password
#                   or dotenv-secret-key and the provider's rule report the same span (the vendor
#                   allowlists of the credential-file rules know only builtin.toml's prefixes;
#                   the same holds for spring-*, helm-values-secret, docker-compose-env-secret,
#                   terraform-tfvars-secret, ansible-vars-password, gradle-properties-secret,
#                   dotnet-appsettings-secret and python-settings-secret-key)
#   master-key      Jenkins' secrets/master.key and Rails' config/master.key: private-key-key-file
#                   reports them too, on the same span (its path pattern takes `master.key`)
#   dotted-password a password of letters and digits around one dot (`iwtPqqsTKjxYwzN.f28LqY6R`)
#                   unquoted in a .env, application.properties or gradle.properties: dropped as
#                   a dotted code reference (`a.b`) by dotenv-password, spring-properties-secret
#                   and gradle-properties-secret (quoted, as in settings.py, it is reported)
#   base64-generic  the `base64` strategy with a generic kind at a Kubernetes path
#                   (deploy/k8s/x-secret.yaml, `config.env: <base64 of "db_password=...">`): the
#                   match of generic-password / generic-api-key in the decoded text yields to
#                   kubernetes-secret-data's match of the encoded value (their spans overlap),
#                   so only the encoded value is reported, not the decoded password (the presets
#                   put these manifests under charts/*/templates/, where no gated rule runs)
HARD_SECRETS = {
    "archive-root": ["nuget-config-cleartext-password", "wordpress-db-password", "ansible-vault-password-file"],
    "archive-binary": ["pkcs12-file", "java-keystore-file", "keepass-database-file"],
    "in-dotenv": ["pubnub-secret-key", "xendit-secret-key", "langfuse-secret-key", "porkbun-api-key"],
    "master-key": ["jenkins-secret-key-file", "rails-master-key-file"],
    "base64-generic": ["generic-password", "generic-api-key"],
    "dotted-password": ["dotenv-password", "spring-properties-secret", "gradle-properties-secret"],
}
HARD_DOTENV_NAMES = {"pubnub-secret-key": "PUBNUB_SECRET_KEY", "xendit-secret-key": "XENDIT_SECRET_KEY",
                     "langfuse-secret-key": "LANGFUSE_SECRET_KEY", "porkbun-api-key": "PORKBUN_API_KEY"}



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


JWT_IO_SAMPLE = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0Ij"
                 "oxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


class DecoyFiles:
    """Realistic files that hold no secret, though they look like they might: each template
    returns (paths, text) with every line a rule could trip on wrapped in «» (one manifest row
    each). Most sit at paths credential-file rules are gated on."""

    def __init__(self, rng, creds):
        self.rng, self.c = rng, creds

    def make(self, what):
        paths, text = getattr(self, "d_" + what.replace("-", "_"))()
        return self.rng.choice(paths), text.strip("\n") + "\n"

    def b64(self, n):
        return base64.b64encode(self.c.raw(n)).decode()

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def d_lockfile_integrity(self):
        pkgs = [("lodash", "4.17.21"), ("express", "4.19.2"), ("react", "18.3.1"), ("zod", "3.23.8"),
                ("undici", "6.19.2")]
        entries = []
        for name, version in self.rng.sample(pkgs, 3):
            entries.append('    "node_modules/%s": {\n      "version": "%s",\n'
                           '      "resolved": "https://registry.npmjs.org/%s/-/%s-%s.tgz",\n'
                           '      «"integrity": "sha512-%s"»,\n      "license": "MIT"\n    }'
                           % (name, version, name, name, version, self.b64(64)))
        return (["package-lock.json", "web/package-lock.json"],
                '{\n  "name": "web",\n  "version": "1.4.2",\n  "lockfileVersion": 3,\n  "requires": true,\n'
                '  "packages": {\n%s\n  }\n}\n' % ",\n".join(entries))

    def d_go_sum(self):
        mods = [("github.com/google/uuid", "v1.6.0"), ("golang.org/x/sync", "v0.7.0"),
                ("github.com/stretchr/testify", "v1.9.0"), ("gopkg.in/yaml.v3", "v3.0.1")]
        lines = []
        for mod, version in self.rng.sample(mods, 3):
            lines.append("«%s %s h1:%s»" % (mod, version, self.b64(32)))
            lines.append("«%s %s/go.mod h1:%s»" % (mod, version, self.b64(32)))
        return (["go.sum", "tools/go.sum"], "\n".join(lines))

    def d_cargo_lock(self):
        return (["Cargo.lock"],
                "# This file is automatically @generated by Cargo.\nversion = 3\n\n[[package]]\nname = \"memchr\"\n"
                "version = \"2.7.4\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
                "«checksum = \"%s\"»\n\n[[package]]\nname = \"regex\"\nversion = \"1.10.6\"\n"
                "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n«checksum = \"%s\"»\n"
                % (self.c.pick(HEX, 64), self.c.pick(HEX, 64)))

    def d_checksums(self):
        return (["dist/SHA256SUMS", "release/checksums.txt"],
                "«%s  scangit-1.2.0-x86_64-unknown-linux-gnu.tar.gz»\n"
                "«%s  scangit-1.2.0-aarch64-apple-darwin.tar.gz»\n"
                % (self.c.pick(HEX, 64), self.c.pick(HEX, 64)))

    def d_hash_settings(self):
        return (["config/release.toml", "deploy/artifacts.yaml"],
                "[artifact]\nname = \"agent\"\n«checksum = \"sha256:%s\"»\n«commit_sha = \"%s\"»\n"
                "«etag = \"%s\"»\n" % (self.c.pick(HEX, 64), self.c.pick(HEX, 40), self.c.pick(HEX, 32)))

    def d_token_digest(self):
        # The digest a server keeps of an issued token (to look it up), not the token.
        return (["config/tokens.toml", "deploy/api-tokens.toml"],
                "[[token]]\nname = \"ci\"\n«token_sha256 = \"%s\"»\nscopes = [\"read\", \"write\"]\n"
                % self.c.pick(HEX, 64))

    def d_uuids(self):
        return (["config/azure.json", "deploy/tenant.json"],
                '{\n  «"tenant_id": "%s"»,\n  «"client_id": "%s"»,\n  «"subscription_id": "%s"»,\n'
                '  «"request_id": "%s"»\n}\n' % (self.uuid(), self.uuid(), self.uuid(), self.uuid()))

    def d_public_key(self):
        ed = base64.b64encode(b"\0\0\0\x0bssh-ed25519\0\0\0 " + self.c.raw(32)).decode()
        rsa = base64.b64encode(b"\0\0\0\x07ssh-rsa\0\0\0\x03\x01\0\x01\0\0\x01\x81\0" + self.c.raw(384)).decode()
        return (["home/ops/.ssh/authorized_keys", "ansible/files/authorized_keys"],
                "«ssh-ed25519 %s ci@build-01»\n«ssh-rsa %s ops@bastion»\n" % (ed, rsa))

    def d_public_key_pem(self):
        der = b"\x30\x82\x01\x22\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00\x03\x82\x01\x0f\x00" \
              + self.c.raw(270)
        body = base64.b64encode(der).decode()
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return (["keys/jwt/public_key.pem", "config/jwt/public.pem"],
                "«-----BEGIN PUBLIC KEY-----»\n%s\n-----END PUBLIC KEY-----\n" % "\n".join(lines))

    def d_certificate(self):
        body = base64.b64encode(b"\x30\x82\x03\x1e\x30\x82\x02\x06\xa0\x03\x02\x01\x02" + self.c.raw(780)).decode()
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return (["certs/ca.crt", "deploy/tls/chain.crt"],
                "«-----BEGIN CERTIFICATE-----»\n%s\n-----END CERTIFICATE-----\n" % "\n".join(lines))

    def d_aws_doc_example(self):
        return (["docs/aws-setup.md", "README.md"],
                "## Credentials\n\nPut the keys in `~/.aws/credentials`:\n\n```ini\n[default]\n"
                "«aws_access_key_id = AKIAIOSFODNN7EXAMPLE»\n"
                "«aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY»\n"
                "region = us-east-1\n```\n")

    def d_env_reference(self):
        return self.rng.choice([
            (["config/database.yml"], "production:\n  adapter: postgresql\n  database: shop\n  username: shop\n"
                                      "«  password: <%= ENV['DATABASE_PASSWORD'] %>»\n  host: db.internal\n"),
            (["src/main/resources/application-prod.properties"],
             "spring.datasource.url=jdbc:postgresql://db.internal:5432/orders\nspring.datasource.username=orders\n"
             "«spring.datasource.password=${DB_PASSWORD}»\n"),
            (["shop/settings.py"], 'import os\n\nDATABASES = {\n    "default": {\n'
                                   '        "ENGINE": "django.db.backends.postgresql",\n        "NAME": "shop",\n'
                                   '        «"PASSWORD": os.environ["DB_PASSWORD"],»\n    }\n}\n'),
            (["docker-compose.yml"], "services:\n  db:\n    image: postgres:16\n    environment:\n"
                                     "      POSTGRES_USER: orders\n"
                                     "«      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}»\n"),
            (["frontend/.npmrc"], "«//registry.npmjs.org/:_authToken=${NPM_TOKEN}»\nalways-auth=true\n"),
            (["alembic.ini"], "[alembic]\nscript_location = migrations\n"
                              "«sqlalchemy.url = postgresql://%(DB_USER)s:%(DB_PASSWORD)s@db.internal/app»\n"),
            (["knexfile.js"], "module.exports = {\n  production: {\n    client: 'pg',\n    connection: {\n"
                              "      host: 'db.internal',\n      user: 'shop',\n"
                              "«      password: process.env.DB_PASSWORD,»\n"
                              "      database: 'shop',\n    },\n  },\n};\n"),
            ([".env.production"], "DB_HOST=db.internal\n«DB_PASSWORD=${VAULT_DB_PASSWORD}»\n"),
        ])

    def d_placeholder(self):
        return self.rng.choice([
            (["home/deploy/.pgpass"], "# hostname:port:database:username:password\n«*:*:*:app:changeme»\n"),
            (["home/backup/.my.cnf"], "[client]\nuser = backup\n«password = changeme»\n"),
            (["home/ci/.m2/settings.xml"], "<settings>\n  <servers>\n    <server>\n      <id>nexus</id>\n"
                                           "      <username>deploy</username>\n"
                                           "«      <password>your-password</password>»\n"
                                           "    </server>\n  </servers>\n</settings>\n"),
            ([".env"], "APP_ENV=local\n«DB_PASSWORD=changeme»\n«API_TOKEN=<your-token>»\n"),
            (["wp-config.php"], "<?php\ndefine( 'DB_NAME', 'database_name_here' );\n"
                                "define( 'DB_USER', 'username_here' );\n"
                                "«define( 'DB_PASSWORD', 'password_here' );»\n"),
            (["charts/orders/values.yaml"], "postgresql:\n  auth:\n    username: orders\n«    password: \"\"»\n"
                                            "    existingSecret: orders-db\n"),
        ])

    def d_env_example(self):
        return ([".env.example", "backend/.env.example"],
                "APP_ENV=production\nDB_HOST=db.internal\nDB_USERNAME=app\n«DB_PASSWORD=%s»\n«JWT_SECRET=%s»\n"
                % (self.c.password(), self.c.password(24, 32, ALNUM)))

    def d_jwt_sample(self):
        return (["docs/api.md", "docs/authentication.md"],
                "## Authentication\n\nSend the token in a header:\n\n«    curl -H \"Authorization: Bearer %s\" "
                "https://api.example.net/v1/me»\n" % JWT_IO_SAMPLE)


# Decoy classes in the presets: scangit leaves every one alone.
DECOY_FILES = ["lockfile-integrity", "go-sum", "cargo-lock", "checksums", "hash-settings", "uuids", "public-key",
               "public-key-pem", "certificate", "aws-doc-example", "env-reference", "placeholder"]
# Decoy classes scangit reports wrongly today: only with --hard-decoys (turn them into DECOY_FILES
# once fixed). What fires on each:
#   token-digest  `token_sha256 = "<64 hex>"` (a stored digest of a token): generic-password
#   jwt-sample    jwt.io's sample token (HS256, "John Doe", signed with your-256-bit-secret) in
#                 API docs: jwt
#   env-example   `.env.example` with real-looking values (`DB_PASSWORD=<random>`,
#                 `JWT_SECRET=<random>`): dotenv-password leaves .example files alone, but
#                 generic-password reports both lines
HARD_DECOYS = ["token-digest", "jwt-sample", "env-example"]
# Decoy commit messages (a row each, location commit-message).
MESSAGE_DECOYS = ["lockfile-integrity", "checksum", "uuid"]


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


def indent(text, pad="    "):
    return "\n".join(pad + line for line in text.split("\n"))


class Corpus:
    def __init__(self, opts):
        self.o = opts
        self.rng = random.Random("scangit-corpus:%d" % opts.seed)
        self.creds = Credentials(self.rng)
        self.filler = Filler(self.rng)
        self.cred_files = CredFiles(self.rng, self.creds)
        self.decoy_files = DecoyFiles(self.rng, self.creds)
        self.text = {}  # path -> list of elements (str, or Planted blocks)
        self.binary = {}  # path -> bytes
        self.big = {}  # path -> bytearray
        self.rows = []
        self.pending = []  # (row, path, locator) planted in the commit being built (see locate)
        self.loose = []  # (path, content, entries) written as loose objects at the end
        self.clock = EPOCH
        self.temp_refs = []
        self.doomed = set()  # files a later commit deletes or renames
        self.fixed = set()  # whole files ordinary edits leave alone (credential and decoy files)
        self.taken = set()  # every path a planted file used
        self.straddled = set()  # (big file, k): a secret straddles k MiB
        self.in_message = {}  # commit index -> [message paragraphs carrying rows]
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
        r = dict(id=len(self.rows), expect=expect, kind=kind, secret=secret, strategy=strategy, location="blob",
                 commit=None, path=None, line=None, blob=None)
        self.rows.append(r)
        return r

    def unique(self, path, numbered=False):
        """`path`, or when a file already used it, the same under another directory (the file
        name and the directories a rule looks at stay), or when `numbered` with a number added
        to the file name."""
        base, n = path, 1
        while path in self.taken or path in self.text or path in self.binary:
            if numbered:
                n += 1
                path = "%s_%d%s" % (os.path.splitext(base)[0], n, os.path.splitext(base)[1])
            else:
                path = "hosts/%s-%d/%s" % (self.rng.choice(WORDS), self.rng.randrange(100), base)
        self.taken.add(path)
        return path

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

    def whole_file(self, path, text, kinds, strategy, expect=True, what=None):
        """The elements of a file written whole from a template (every «marked» part a row:
        a secret of the kind at the same position in `kinds`, or a decoy line of class `what`)
        and [(row, block)] to resolve once it is committed."""
        lines, found = marked(text)
        elems, entries = list(lines), []
        for n, (i, secret) in enumerate(found):
            if expect:
                row = self.row(True, kinds[n], secret, strategy)
            else:
                row = self.row(False, "decoy", lines[i], strategy)
                row["decoy"] = what
            row["path"] = path
            block = Planted(lines[i])
            block.row = row
            elems[i] = block
            entries.append((row, block))
        return elems, entries

    def new_text_file(self, path, ext, lo, hi):
        if ext in KEY_EXTS:  # a key file: a comment at most, the key is planted next
            self.text[path] = ["# %s key for %s" % (self.rng.choice(["deploy", "signing", "tls"]),
                                                   self.rng.choice(WORDS))][: self.rng.randrange(2)]
        else:
            self.text[path] = self.filler.lines(ext, self.rng.randrange(lo, hi))

    def editable(self):
        """Text files ordinary edits, decoys and merges may touch (not key or whole files)."""
        return [p for p in sorted(self.text) if os.path.splitext(p)[1] not in KEY_EXTS and p not in self.fixed]

    @staticmethod
    def locate(row, locator, data, elems):
        """Give a row its blob and line in `data`: `locator` is the row's Planted block in
        `elems`, ("needle", text) for a big file, or ("line", n) for a line known in advance
        (archives, path-only files). A path-only row's secret is the blob id."""
        row["blob"] = blob_id(data)
        if row.pop("_blob_secret", False):
            row["secret"] = row["blob"]
        if isinstance(locator, tuple) and locator[0] == "needle":
            at = data.find(locator[1].encode())
            row["line"] = data.count(b"\n", 0, at) + 1
        elif isinstance(locator, tuple):
            row["line"] = locator[1]
        else:
            line = 1
            for e in elems:
                if e is locator:
                    break
                line += e.count("\n") + 1
            else:
                raise AssertionError("planted block not in its file: %r" % row)
            row["line"] = line

    def resolve(self, mark, files):
        """Give the rows planted in this commit their blob, line and commit mark."""
        data = dict(files)
        for row, path, locator in self.pending:
            row["_mark"] = mark
            self.locate(row, locator, data[path], self.text.get(path))
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

        def at(strategy):
            last = n - 2 if strategy in ("deleted", "renamed") else n - 1
            return r.randrange(1, max(2, last + 1))

        for i in range(o.secrets):
            kind = KINDS[(i + o.seed) % len(KINDS)]
            strategy = STRATEGIES[i % len(STRATEGIES)]
            plan.setdefault(at(strategy), []).append(("secret", kind, strategy))
        for _ in range(o.decoys):
            plan.setdefault(r.randrange(1, n), []).append(("decoy", None, "live"))
        for i in range(o.providers):
            kind = PROVIDER_KINDS[(i + 3 * o.seed) % len(PROVIDER_KINDS)]
            strategy = STRATEGIES[i % len(STRATEGIES)]
            plan.setdefault(at(strategy), []).append(("secret", kind, strategy))
        for i in range(o.cred_files):
            kind = FILE_KINDS[(i + 7 * o.seed) % len(FILE_KINDS)]
            strategy = FILE_STRATEGIES[i % len(FILE_STRATEGIES)]
            plan.setdefault(at(strategy), []).append(("secret", kind, strategy))
        # each archive format in turn; a credential file in every other one, a token in the rest
        files = {"gz": list(STREAM_FILES), "xz": list(STREAM_FILES),
                 "jar": ["spring-properties-secret", "spring-yaml-secret"]}
        for i in range(o.archived):
            strategy = ARCHIVE_STRATEGIES[i % len(ARCHIVE_STRATEGIES)]
            j = i // len(ARCHIVE_STRATEGIES)
            if j % 2 == 0:
                pool = files.get(strategy, ARCHIVE_FILE_KINDS)
                kind = pool[(j // 2 + i + 3 * o.seed) % len(pool)]
            else:
                kind = TOKEN_KINDS[(j // 2 + i + 5 * o.seed) % len(TOKEN_KINDS)]
            plan.setdefault(at(strategy), []).append(("secret", kind, strategy))
        for i in range(o.messages):
            kind = TOKEN_KINDS[(5 * i + o.seed) % len(TOKEN_KINDS)]
            strategy = MESSAGE_STRATEGIES[i % len(MESSAGE_STRATEGIES)]
            plan.setdefault(at(strategy), []).append(("secret", kind, strategy))
        if o.hard_secrets:
            for strategy, kinds in HARD_SECRETS.items():
                for kind in kinds:
                    plan.setdefault(at(strategy), []).append(("secret", kind, strategy))
        if o.hard_decoys:
            for what in HARD_DECOYS:
                plan.setdefault(at("live"), []).append(("decoy-file", what, "live"))
        classes = DECOY_FILES
        for i in range(o.decoy_files):
            if i % 6 == 5:
                plan.setdefault(at("live"), []).append(("decoy-message", MESSAGE_DECOYS[i // 6 % len(MESSAGE_DECOYS)],
                                                        "commit-message"))
            else:
                what = classes[(i - i // 6 + o.seed) % len(classes)]
                plan.setdefault(at("live"), []).append(("decoy-file", what, "live"))
        return plan

    def plant_secret(self, ci, kind, strategy, changed, later):
        """Plant one secret in commit `ci`; returns work for after the main commit."""
        if strategy in HARD_SECRETS and strategy != "base64-generic":
            return self.plant_hard(ci, kind, strategy, changed)
        if strategy in ARCHIVE_STRATEGIES:
            return self.plant_archived(ci, kind, strategy, changed)
        if strategy in MESSAGE_STRATEGIES:
            return self.plant_message(ci, kind, strategy)
        if kind in FILE_KINDS:
            return self.plant_file(ci, kind, strategy, changed, later)
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
            path = self.unique("config/%s_%d%s" % (stem, ci, own_ext), numbered=True)
            if own_ext == ".key":
                # A `.key` file is a finding by its name too (private-key-key-file): that finding
                # is the whole file, line 1, so the key itself starts on line 2.
                self.text[path] = ["# %s key for %s" % (r.choice(["deploy", "signing", "tls"]), r.choice(WORDS))]
                whole = self.row(True, "private-key-key-file", None, strategy)
                whole["_blob_secret"], whole["path"] = True, path
                self.pending.append((whole, path, ("line", 1)))
            else:
                self.new_text_file(path, own_ext, 4, 50)
            self.plant_in(path, placement(kind, parts, own_ext, r), self.row(True, kind, secret, strategy),
                          at=len(self.text[path]) if own_ext == ".key" else None)
            changed.add(path)
            if strategy == "dup":
                ext2 = ".pem" if kind == "private-key" else r.choice([".env", ".yaml", ".py"])
                path2 = self.unique("deploy/%s/copy_%d%s" % (r.choice(["staging", "prod", "dev"]), ci, ext2),
                                    numbered=True)
                self.new_text_file(path2, ext2, 3, 30)
                self.plant_in(path2, placement(kind, parts, ext2, r), self.row(True, kind, secret, strategy))
                changed.add(path2)
            if strategy in ("deleted", "renamed") and ci < self.o.commits - 1:
                self.doomed.add(path)
                later.setdefault(ci + r.randrange(1, min(40, self.o.commits - 1 - ci) + 1), []).append(
                    (strategy, path, self.unique(path.replace("config/", "config/archive/", 1), numbered=True)))
            return None
        if strategy in ("base64", "base64-generic"):
            if kind in ("generic-password", "generic-api-key") and strategy == "base64":
                # outside the paths of the Kubernetes rules (see HARD_SECRETS, base64-generic)
                path = "charts/%s/templates/%s-%d-env.yaml" % (r.choice(WORDS), r.choice(WORDS), ci)
            else:
                path = "deploy/k8s/%s-%d-secret.yaml" % (r.choice(WORDS), ci)
            path = self.unique(path, numbered=True)
            ext = ".key" if kind == "private-key" else ".env"
            encoded = base64.b64encode((placement(kind, parts, ext, r) + "\n").encode()).decode()
            # A whole manifest: its one data key is the planted one (kubernetes-secret-data
            # reports the encoded value too, at the same line), and edits leave it alone.
            self.text[path] = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: %s-%d" % (r.choice(WORDS), ci),
                               "type: Opaque", "data:"]
            self.fixed.add(path)
            self.plant_in(path, "  %s: %s" % (r.choice(["config.env", "credentials", "settings"]), encoded),
                          self.row(True, kind, secret, strategy), at=6)
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
            row["path"] = path
            self.pending.append((row, path, ("needle", needle)))
            changed.add(path)
            return None
        if strategy in ("branch", "tag", "loose"):
            ext = ".pem" if kind == "private-key" else r.choice([".env", ".py", ".yaml"])
            row = self.row(True, kind, secret, strategy)
            text = placement(kind, parts, ext, r)

            def make(path):
                if strategy == "tag":
                    elems = self.filler.lines(".md", r.randrange(6, 20))
                else:
                    elems = self.filler.lines(ext, r.randrange(6, 20) if strategy == "loose" else r.randrange(10, 30))
                block = Planted(text)
                block.row = row
                elems.insert(r.randrange(len(elems) + 1), block)
                row["path"] = path
                return elems, [(row, block)]

            names = {"branch": "src/%s_%s_%d%s" % (r.choice(WORDS), r.choice(WORDS), ci, ext),
                     "tag": "release/notes-%d.md" % row["id"],
                     "loose": "%s-%d%s" % (r.choice(WORDS), row["id"], ext)}
            return strategy, names[strategy], make, row
        # boundary without a free boundary: a live secret
        return self.plant_secret(ci, kind, "live", changed, later)

    def file_content(self, kind, strategy, path=None):
        """(path, content: elements or bytes, [(row, locator)]) of one credential file."""
        r = self.rng
        if kind in PATH_ONLY:
            path = path or self.unique(r.choice(PATH_ONLY[kind][0]))
            row = self.row(True, kind, None, strategy)
            row["path"], row["_blob_secret"] = path, True
            return path, self.path_only_bytes(kind), [(row, ("line", 1))]
        p, text, kinds = self.cred_files.make(kind, path)
        path = path or self.unique(p)
        elems, entries = self.whole_file(path, text, kinds, strategy)
        return path, elems, entries

    def path_only_bytes(self, kind):
        head = PATH_ONLY[kind][1]
        if head is None:
            return (self.creds.password(20, 32) + "\n").encode()
        size = 8 if kind == "vnc-passwd-file" else self.rng.randrange(600, 2500)
        return head + self.creds.raw(size - len(head))

    def plant_file(self, ci, kind, strategy, changed, later):
        """A credential file (or a path-only one) committed whole."""
        r = self.rng
        if strategy in ("branch", "tag", "loose"):
            # the file (and its rows) are made after the main commit, on the side ref

            def make(path):
                _, content, entries = self.file_content(kind, strategy, path)
                return content, entries

            path = self.cred_files.make(kind)[0] if kind in CRED_FILES else r.choice(PATH_ONLY[kind][0])
            return strategy, self.unique(path), make, None
        path, content, entries = self.file_content(kind, strategy)
        if isinstance(content, bytes):
            self.binary[path] = content
        else:
            self.text[path] = content
            self.fixed.add(path)
        for row, locator in entries:
            self.pending.append((row, path, locator))
        changed.add(path)
        if strategy in ("deleted", "renamed") and ci < self.o.commits - 1:
            self.doomed.add(path)
            later.setdefault(ci + r.randrange(1, min(40, self.o.commits - 1 - ci) + 1), []).append(
                (strategy, path, self.unique("attic/" + path)))
        return None

    def archive_target(self, kind, strategy, ci, root=False):
        """(member path, member bytes, [(row, member line or None, is path-only)]) of the member
        that holds the secret; for single-file streams the member path is the file name. A
        credential file is never at the archive's root unless `root` (HARD_SECRETS)."""
        r = self.rng
        if kind in PATH_ONLY:
            row = self.row(True, kind, None, strategy)
            paths = PATH_ONLY[kind][0]
            path = r.choice([p for p in paths if ("/" in p) != root] or paths)
            if root:
                path = path.split("/")[-1]
            return path, self.path_only_bytes(kind), [(row, None, True)]
        if kind in CRED_FILES:
            path = None
            if strategy in ("gz", "xz"):
                path = os.path.basename(STREAM_FILES[kind] % ci)
            elif strategy == "jar":
                path = "BOOT-INF/classes/" + {"spring-properties-secret": "application.properties",
                                              "spring-yaml-secret": "application.yml"}[kind]
            path, text, kinds = self.cred_files.make(kind, path)
            if root:
                path = os.path.basename(path)
            elif "/" not in path and strategy not in ("gz", "xz"):
                path = "%s/%s" % (r.choice(["app", "project", "backup", r.choice(WORDS)]), path)
            lines, found = marked(text)
            rows = [(self.row(True, kinds[n], secret, strategy), i + 1, False) for n, (i, secret) in enumerate(found)]
            return path, ("\n".join(lines)).encode(), rows
        secret, parts = self.creds.make(kind)
        if strategy in ("gz", "xz"):
            path, ext = "%s-%d.log" % (r.choice(["deploy", "build", "release", "migrate"]), ci), ".log"
            lines = [l for l in self.filler.log(r.randrange(800, 4000)).decode().split("\n") if l]
        elif strategy == "jar":
            path, ext = "BOOT-INF/classes/config/%s.properties" % r.choice(WORDS), ".properties"
            lines = ["# %s" % " ".join(r.choice(WORDS) for _ in range(5))] + [
                "%s.%s=%d" % (r.choice(WORDS), r.choice(WORDS), r.randrange(4096)) for _ in range(r.randrange(3, 12))]
        else:
            ext = r.choice([".env", ".yaml", ".py", ".json", ".txt"])
            path = "%s/%s%s" % (r.choice(["config", "deploy", "scripts", "conf"]), r.choice(WORDS), ext)
            lines = self.filler.lines(ext, r.randrange(4, 30))
        text = placement(kind, parts, ext, r)
        at = r.randrange(len(lines) + 1)
        line = 1 + sum(e.count("\n") + 1 for e in lines[:at])
        lines.insert(at, text)
        row = self.row(True, kind, secret, strategy)
        return path, ("\n".join(lines) + "\n").encode(), [(row, line, False)]

    def filler_members(self, k):
        """`k` ordinary members for an archive: notes, scripts, an image."""
        r, out = self.rng, []
        for _ in range(k):
            what = r.choice(["md", "sh", "json", "bin"])
            if what == "bin":
                out.append(("assets/%s.png" % r.choice(WORDS), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + self.creds.raw(400)))
            elif what == "md":
                out.append(("docs/%s.md" % r.choice(WORDS), ("\n".join(self.filler.lines(".md", 8)) + "\n").encode()))
            elif what == "sh":
                script = b"#!/bin/sh\nset -eu\nexec ./%s \"$@\"\n" % r.choice(WORDS).encode()
                out.append(("bin/%s.sh" % r.choice(WORDS), script))
            else:
                body = "{\n" + "\n".join(self.filler.lines(".json", 5)).rstrip(",") + "\n}\n"
                out.append(("%s.json" % r.choice(WORDS), body.encode()))
        return out

    def build_archive(self, strategy, ci, member, data):
        """(archive path, Archive, path of the member inside it) with `member` holding `data`."""
        r = self.rng
        word = r.choice(WORDS)

        def sorted_members(members):
            return sorted(dict(members).items())

        if strategy in ("gz", "xz"):
            folder = {".sql": "db", ".tfstate": "state", ".tfvars": "envs", ".htpasswd": "nginx",
                      ".shadow": "images"}.get(os.path.splitext(member)[1], "logs")
            return "%s/%s%s" % (folder, member, SINGLE[strategy]), Archive(strategy, [(member, data)]), member
        if strategy == "jar":
            manifest = (b"Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\r\n"
                        b"Start-Class: com.example.Application\r\n")
            logback = b"<configuration>\n  <root level=\"INFO\"/>\n</configuration>\n"
            members = [("META-INF/MANIFEST.MF", manifest), ("BOOT-INF/classes/logback.xml", logback), (member, data)]
            return ("build/libs/%s-service-%d.jar" % (word, ci), Archive("jar", sorted_members(members)), member)
        members = self.filler_members(r.randrange(1, 4)) + [(member, data)]
        if strategy == "nested":
            inner = "lib/%s-bundle.zip" % word
            outer = self.filler_members(r.randrange(1, 3)) + [(inner, Archive("zip", sorted_members(members)))]
            return ("dist/%s-%d.tar.gz" % (word, ci), Archive("tar.gz", sorted_members(outer)), inner + "!" + member)
        ext = {"zip": ".zip", "tar.gz": ".tar.gz", "tar.bz2": ".tar.bz2"}[strategy]
        folder = r.choice(["releases", "backups", "exports"])
        return "%s/%s-%d%s" % (folder, word, ci, ext), Archive(strategy, sorted_members(members)), member

    def plant_archived(self, ci, kind, strategy, changed):
        """An archive committed to main with the secret in one of its members."""
        member, data, rows = self.archive_target(kind, strategy, ci)
        self.commit_archive(ci, strategy, member, data, rows, changed)
        return None

    def commit_archive(self, ci, strategy, member, data, rows, changed):
        path, arc, inner = self.build_archive(strategy, ci, member, data)
        path = self.unique(path)  # another directory at most: a single file's member name stays
        self.binary[path] = arc.data()
        layout = arc.layout()
        before, digest = layout[inner]
        for row, line, whole in rows:
            row["path"] = "%s!%s" % (path, inner)
            row["member_line"] = line or 1
            row["decoded_from"] = [ORIGIN[arc.fmt]]
            row["_archive"] = (arc.fmt, inner)
            if whole:
                row["secret"] = digest
            self.pending.append((row, path, ("line", before + (line or 1))))
        changed.add(path)

    def plant_hard(self, ci, kind, strategy, changed):
        """A secret scangit misses or reports twice today (HARD_SECRETS)."""
        r = self.rng
        if strategy in ("archive-root", "archive-binary"):
            fmt = "tar.gz" if strategy == "archive-root" else "zip"
            member, data, rows = self.archive_target(kind, fmt, ci, root=strategy == "archive-root")
            for row, _, _ in rows:
                row["strategy"] = strategy
            self.commit_archive(ci, fmt, member, data, rows, changed)
            return None
        if strategy == "dotted-password":
            c = self.creds
            self.creds.forced.append("%s%s.%s%s" % (c.pick(UPPER, 1), c.pick(ALNUM, 13), c.pick(LOWER, 1),
                                                   c.pick(ALNUM, 7)))
            path, elems, entries = self.file_content(kind, strategy)
        elif strategy == "in-dotenv":
            secret, _ = self.creds.make(kind)
            path = self.unique(r.choice([".env", "backend/.env.production", "deploy/prod.env"]))
            text = "APP_ENV=production\nAPP_URL=https://shop.example.net\n%s=«%s»\nLOG_LEVEL=info\n" % (
                HARD_DOTENV_NAMES[kind], secret)
            elems, entries = self.whole_file(path, text, [kind], strategy)
        else:  # master-key: 512 hex digits for Jenkins, 32 for Rails, no newline (as both write it)
            jenkins = kind == "jenkins-secret-key-file"
            path = self.unique("jenkins_home/secrets/master.key" if jenkins else "config/master.key")
            data = self.creds.pick(HEX, 512 if jenkins else 32)
            row = self.row(True, kind, data, strategy)
            row["path"], row["_blob_secret"] = path, jenkins
            self.binary[path] = data.encode()
            self.pending.append((row, path, ("line", 1)))
            changed.add(path)
            return None
        self.text[path] = elems
        self.fixed.add(path)
        for row, block in entries:
            self.pending.append((row, path, block))
        changed.add(path)
        return None

    def plant_message(self, ci, kind, strategy):
        """A secret in the message of main's commit `ci` or of an annotated tag on it."""
        r = self.rng
        secret, parts = self.creds.make(kind)
        text = placement(kind, parts, r.choice([".env", ".md", ".txt"]), r)
        row = self.row(True, kind, secret, strategy)
        row["location"] = strategy
        row["_first_line"] = text.split("\n")[0]
        if strategy == "commit-message":
            body = r.choice(["The deploy job needs it until the vault is wired up:",
                             "Temporary workaround, revert once CI reads it from the vault:",
                             "Reproduce with:"])
            self.in_message.setdefault(ci, []).append((body + "\n\n" + indent(text) + "\n", row))
            return None
        return "tag-message", None, text, row  # (strategy, path, make: here the text, row)

    def plant_decoy_file(self, ci, what, changed):
        r = self.rng
        path, text = self.decoy_files.make(what)
        if r.random() < 0.25:  # inside an archive, in a folder (see HARD_SECRETS, archive-root)
            strategy = r.choice(["zip", "tar.gz"])
            if "/" not in path:
                path = "%s/%s" % (r.choice(["app", "project", "backup"]), path)
            lines, found = marked(text)
            rows = []
            for i, _ in found:
                row = self.row(False, "decoy", lines[i], strategy)
                row["decoy"] = what
                rows.append((row, i + 1, False))
            self.commit_archive(ci, strategy, path, ("\n".join(lines)).encode(), rows, changed)
            return
        path = self.unique(path)
        elems, entries = self.whole_file(path, text, None, "live", expect=False, what=what)
        self.text[path] = elems
        self.fixed.add(path)
        for row, block in entries:
            self.pending.append((row, path, block))
        changed.add(path)

    def decoy_message(self, ci, what):
        r = self.rng
        if what == "lockfile-integrity":
            line = "integrity sha512-%s" % base64.b64encode(self.creds.raw(64)).decode()
            body = "Bump lodash to 4.17.21\n\nThe lockfile entry changes to\n%s\n" % line
        elif what == "checksum":
            line = "sha256: %s" % self.creds.pick(HEX, 64)
            body = "Pin the base image\n\nDigest of the image we tested:\n%s\n" % line
        else:
            line = "Request-Id: %s" % uuid.UUID(int=r.getrandbits(128), version=4)
            body = "Retry failed uploads\n\nSeen in production:\n%s\n" % line
        row = self.row(False, "decoy", line, "commit-message")
        row["decoy"], row["location"], row["_first_line"] = "message-" + what, "commit-message", line
        self.in_message.setdefault(ci, []).append((None, row))
        return body

    def side_commit(self, ref, parent, path, content, entries, message):
        """A commit on `ref` adding/replacing `path` with `content` (elements or bytes); the rows
        of `entries` [(row, locator)] are resolved."""
        payload = content if isinstance(content, bytes) else ("\n".join(content) + "\n").encode()
        mark = self.imp.commit(ref, self.who(), self.tick(), message, [parent], [(path, payload)])
        for row, locator in entries:
            row["_mark"] = mark
            self.locate(row, locator, payload, content)
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
            for strategy, p, dst in later.pop(ci, []):
                self.doomed.discard(p)
                if strategy == "deleted":
                    deletes.append(p)
                    for store in (self.text, self.binary):
                        store.pop(p, None)
                    self.fixed.discard(p)
                else:
                    for store in (self.text, self.binary):
                        if p in store:
                            store[dst] = store.pop(p)
                    if p in self.fixed:
                        self.fixed.add(dst)
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
            message = self.message(ci)
            for what, kind, strategy in plan.get(ci, []):
                if what == "decoy":
                    p = r.choice(self.editable())
                    line = decoy(r)
                    self.plant_in(p, line, self.row(False, "decoy", line, "live"))
                    changed.add(p)
                elif what == "decoy-file":
                    self.plant_decoy_file(ci, kind, changed)
                elif what == "decoy-message":
                    message += "\n" + self.decoy_message(ci, kind)
                else:
                    job = self.plant_secret(ci, kind, strategy, changed, later)
                    if job:
                        side.append(job)
            in_message = self.in_message.pop(ci, [])
            for body, row in in_message:
                if body:
                    message += "\n" + body
            files = [(p, self.render(p)) for p in sorted(changed)]
            main = self.imp.commit("refs/heads/main", self.who(), self.tick(), message, [main], files,
                                   deletes, renames)
            self.resolve(main, files)
            for _, row in in_message:
                row["_mark"] = main

            for strategy, path, make, row in side:
                if strategy == "tag-message":
                    name = "v1.%d.%d" % (ci, row["id"])
                    text = make
                    self.imp.tag(name, main, ("Release Bot", "release@example.com"), self.tick(),
                                 "Release 1.%d.%d\n\nDeploy notes:\n\n%s\n" % (ci, row["id"], indent(text)))
                    row["_mark"], row["_tag"] = main, name
                elif strategy == "branch":
                    content, entries = make(path)
                    self.side_commit("refs/heads/feature/%s-%d" % (r.choice(WORDS), entries[0][0]["id"]), main, path,
                                     content, entries, "WIP %s\n" % r.choice(WORDS))
                elif strategy == "tag":
                    content, entries = make(path)
                    rid = entries[0][0]["id"]
                    tmp = "refs/heads/corpus-tmp/tag-%d" % rid
                    mark = self.side_commit(tmp, main, path, content, entries, "Release notes %d\n" % ci)
                    self.imp.tag("v0.%d.%d" % (ci, rid), mark, ("Release Bot", "release@example.com"),
                                 self.tick(), "Release 0.%d.%d\n" % (ci, rid))
                    self.temp_refs.append(tmp)
                else:
                    content, entries = make("wip/" + path)
                    self.loose.append(("wip/" + path, content, entries))
            if ci in branch_points:
                p = r.choice(self.editable())
                ext = os.path.splitext(p)[1]
                elems = list(self.text[p]) + self.filler.lines(ext, r.randrange(2, 8))
                self.side_commit("refs/heads/release/%d.x" % ci, main, p, elems, [],
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
        """Each loose row: a commit on refs/heads/wip/<id> adding one file under wip/, all its
        new objects loose (written after the last pack)."""
        tip = self.imp.marks[self.main]
        root = git(self.repo, "ls-tree", tip).decode()
        root = [l for l in root.splitlines() if not l.endswith("\twip")]
        for path, content, entries in self.loose:
            data = content if isinstance(content, bytes) else ("\n".join(content) + "\n").encode()
            blob = git(self.repo, "hash-object", "-w", "--stdin", stdin=data).decode().strip()
            parts = path.split("/")
            entry = "100644 blob %s\t%s" % (blob, parts[-1])
            for folder in reversed(parts[1:-1]):
                sub = git(self.repo, "mktree", stdin=(entry + "\n").encode()).decode().strip()
                entry = "040000 tree %s\t%s" % (sub, folder)
            sub = git(self.repo, "mktree", stdin=(entry + "\n").encode()).decode().strip()
            tree = git(self.repo, "mktree", stdin=("\n".join(root + ["040000 tree %s\twip" % sub]) + "\n").encode())
            when, tz = self.tick()
            who = self.who()
            env = clean_env(dict(GIT_AUTHOR_NAME=who[0], GIT_AUTHOR_EMAIL=who[1], GIT_COMMITTER_NAME=who[0],
                                 GIT_COMMITTER_EMAIL=who[1], GIT_AUTHOR_DATE="%d %s" % (when, tz),
                                 GIT_COMMITTER_DATE="%d %s" % (when, tz)))
            commit = git(self.repo, "commit-tree", tree.decode().strip(), "-p", tip, "-m",
                         "wip: %s" % parts[-1], env=env).decode().strip()
            rid = entries[0][0]["id"]
            git(self.repo, "update-ref", "refs/heads/wip/%d" % rid, commit)
            for row, locator in entries:
                self.locate(row, locator, data, content)
                row.update(commit=commit, path=path)

    def manifest(self):
        marks = self.imp.marks
        tags = {}
        if any("_tag" in row for row in self.rows):
            out = git(self.repo, "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags").decode()
            tags = {ref[len("refs/tags/"):]: oid for oid, ref in (l.split(" ", 1) for l in out.splitlines())}
        for row in self.rows:
            mark = row.pop("_mark", None)
            if mark is not None:
                row["commit"] = marks[mark]
            if row["location"] == "commit-message":
                row["blob"] = row["commit"]
            elif row["location"] == "tag-message":
                row["blob"] = tags[row.pop("_tag")]
        self.locate_messages()
        self.check()
        path = self.repo.rstrip("/") + ".planted.jsonl"
        with open(path, "w") as f:
            for row in self.rows:
                f.write(json.dumps({k: v for k, v in row.items() if not k.startswith("_")}, sort_keys=True) + "\n")
        return path

    def objects(self, ids):
        """{id: (type, bytes)} of objects, through one `git cat-file --batch`."""
        ids = sorted(set(ids))
        out = git(self.repo, "cat-file", "--batch", stdin="".join(i + "\n" for i in ids).encode())
        pos, got = 0, {}
        for _ in ids:
            header_end = out.index(b"\n", pos)
            oid, kind, size = out[pos:header_end].split()
            got[oid.decode()] = (kind.decode(), out[header_end + 1 : header_end + 1 + int(size)])
            pos = header_end + 1 + int(size) + 1
        return got

    def locate_messages(self):
        """The line of each message row in its raw commit or tag object."""
        rows = [row for row in self.rows if row["location"] != "blob"]
        if not rows:
            return
        objects = self.objects(row["blob"] for row in rows)
        for row in rows:
            raw = objects[row["blob"]][1]
            at = raw.index(row.pop("_first_line").encode(), raw.index(b"\n\n"))
            row["line"] = raw.count(b"\n", 0, at) + 1

    def check(self):
        """Every row's object exists and holds its secret's first characters at its line (for
        an archive member: in the member, read back with the standard library; for a path-only
        rule: the secret is the blob id or the member's digest)."""
        objects = self.objects(row["blob"] for row in self.rows)
        for row in self.rows:
            kind, body = objects[row["blob"]]
            want = {"blob": "blob", "commit-message": "commit", "tag-message": "tag"}[row["location"]]
            assert kind == want, (row, kind)
            line_no = row["line"]
            if "_archive" in row:
                fmt, inner = row.pop("_archive")
                body = extract_member(fmt, body, inner)
                line_no = row["member_line"]
                if row["kind"] in PATH_ONLY:
                    assert row["secret"] == blake3_20(body).hex(), row
                    continue
            elif row["kind"] in PATH_ONLY or row["kind"] == "private-key-key-file":
                assert row["secret"] == row["blob"] and line_no == 1, row
                continue
            line = body.split(b"\n")[line_no - 1].decode()
            if row["strategy"] in ("base64", "base64-generic"):
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
    ap.add_argument("--hard-decoys", action="store_true",
                    help="also plant the decoy classes scangit reports wrongly today (HARD_DECOYS)")
    ap.add_argument("--hard-secrets", action="store_true",
                    help="also plant the secrets scangit misses or reports twice today (HARD_SECRETS)")
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
