//! Shared helpers of the `pipeline_*` integration tests: real git repositories built with the git
//! CLI in temporary directories, realistic secrets shaped like the built-in rules, generated
//! corpora (`make_repo.py`) and a one-call scan through the public Rust API.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod pack_writer;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use scangit_core::events::{CollectSink, Summary};
use scangit_core::{CommitMeta, Engine, Finding, ScanError, ScanOptions, scan};

pub use tempfile::TempDir;

/// A fresh directory under Cargo's per-target temp dir, removed when dropped (kept when the
/// `SCANGIT_KEEP_TEST_DIRS` variable is set, to inspect a failure).
pub fn temp_dir(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("pipeline-{name}-"))
        .disable_cleanup(std::env::var_os("SCANGIT_KEEP_TEST_DIRS").is_some())
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// A git repository driven through the git CLI with a hermetic environment (no system or user
/// config, fixed identities, increasing fixed dates).
pub struct GitRepo {
    /// Where git commands run (the work tree, or the bare directory).
    pub dir: PathBuf,
    home: PathBuf,
    clock: AtomicU64,
}

impl GitRepo {
    /// `git init` (with a work tree) at `dir`, default branch `main`.
    pub fn init(dir: &Path) -> GitRepo {
        std::fs::create_dir_all(dir).unwrap();
        let repo = GitRepo::at(dir);
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// Wrap an existing repository or work tree (a clone, a linked worktree).
    pub fn at(dir: &Path) -> GitRepo {
        let home = dir.parent().unwrap().join(".home");
        std::fs::create_dir_all(&home).unwrap();
        GitRepo {
            dir: dir.to_owned(),
            home,
            clock: AtomicU64::new(1_700_000_000),
        }
    }

    /// Run git in `self.dir`; panics with stderr on failure; returns trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let t = self.clock.fetch_add(60, Ordering::Relaxed);
        let date = format!("{t} +0000");
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Test Author",
                "-c",
                "user.email=author@example.com",
                "-c",
                "init.defaultBranch=main",
                "-c",
                "gc.auto=0",
                "-c",
                "maintenance.auto=false",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "tag.gpgsign=false",
            ])
            .args(args)
            .current_dir(&self.dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("HOME", &self.home)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_OBJECT_DIRECTORY")
            .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} in {} failed: {}",
            self.dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Run git in `self.dir` without the fixed identities and dates of [`GitRepo::git`]: with
    /// extra environment (a skewed `GIT_COMMITTER_DATE`, say) and optionally a file as stdin
    /// (`git mktree`). Panics with stderr on failure; returns trimmed stdout.
    pub fn git_raw(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&Path>) -> String {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .current_dir(&self.dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .envs(env.iter().copied());
        if let Some(f) = stdin {
            cmd.stdin(std::fs::File::open(f).unwrap());
        }
        let out = cmd.output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Write a file of the work tree (creating parent directories).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// `git add -A && git commit`; returns the new commit's id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.rev("HEAD")
    }

    pub fn rev(&self, what: &str) -> String {
        self.git(&["rev-parse", what])
    }

    /// Id of the blob at `path` in `rev`.
    pub fn blob(&self, rev: &str, path: &str) -> String {
        self.rev(&format!("{rev}:{path}"))
    }
}

/// Deterministic xorshift generator for secrets and filler.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
}

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE62: &[u8] = ALNUM;

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A classic GitHub PAT: `ghp_` + 30 random base62 chars + their base62 CRC32 (6 chars), the
/// format GitHub documents, so the checksum validates.
pub fn github_pat(rng: &mut Rng) -> String {
    let payload = rng.pick(ALNUM, 30);
    let mut v = crc32(payload.as_bytes()) as u64;
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    format!("ghp_{payload}{}", std::str::from_utf8(&check).unwrap())
}

/// An AWS access key id: `AKIA` + 16 of `[A-Z2-7]`.
pub fn aws_key_id(rng: &mut Rng) -> String {
    format!("AKIA{}", rng.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
}

/// An npm token: `npm_` + 36 alphanumerics.
pub fn npm_token(rng: &mut Rng) -> String {
    format!("npm_{}", rng.pick(ALNUM, 36))
}

/// A Slack bot token: `xoxb-` digits `-` digits `-` 24 alphanumerics.
pub fn slack_bot_token(rng: &mut Rng) -> String {
    format!(
        "xoxb-{}-{}-{}",
        rng.pick(b"0123456789", 12),
        rng.pick(b"0123456789", 12),
        rng.pick(ALNUM, 24)
    )
}

/// A Stripe live secret key: `sk_live_` + 24 alphanumerics.
pub fn stripe_key(rng: &mut Rng) -> String {
    format!("sk_live_{}", rng.pick(ALNUM, 24))
}

/// The rule id the built-in rules report for a secret made by the generators above.
pub fn rule_of(secret: &str) -> &'static str {
    match &secret[..4] {
        "ghp_" => "github-pat",
        "AKIA" => "aws-access-key-id",
        "npm_" => "npm-token",
        "xoxb" => "slack-bot-token",
        "sk_l" => "stripe-secret-key",
        other => panic!("no rule for a secret starting {other:?}"),
    }
}

/// Everything one scan produced.
pub struct Scanned {
    pub findings: Vec<Finding>,
    pub commits: Vec<CommitMeta>,
    pub summaries: Vec<Summary>,
}

impl Scanned {
    /// (rule, blob, start, end, line, column), sorted and deduplicated: what must not depend on
    /// windowing or threading.
    pub fn locations(&self) -> BTreeSet<(String, String, u64, u64, u64, u64)> {
        self.findings
            .iter()
            .map(|f| {
                (
                    f.rule_id.clone(),
                    f.blob.to_string(),
                    f.start,
                    f.end,
                    f.line,
                    f.column,
                )
            })
            .collect()
    }

    /// The revealed secrets (needs `reveal_secrets`).
    pub fn secrets(&self) -> BTreeSet<String> {
        self.findings
            .iter()
            .map(|f| f.secret.clone().expect("scan with reveal_secrets"))
            .collect()
    }

    /// Findings whose revealed secret is `secret`.
    pub fn with_secret(&self, secret: &str) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| f.secret.as_deref() == Some(secret))
            .collect()
    }

    pub fn summary(&self) -> &Summary {
        assert_eq!(self.summaries.len(), 1, "exactly one summary");
        &self.summaries[0]
    }
}

pub fn engine() -> &'static Engine {
    static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| Engine::builtin().expect("built-in rules compile"))
}

/// Scan `repo` with `options`, collecting every event.
pub fn try_scan(repo: &Path, options: &ScanOptions) -> Result<Scanned, ScanError> {
    try_scan_with(repo, options, engine())
}

/// Scan `repo` with `options` and `engine`, collecting every event.
pub fn try_scan_with(
    repo: &Path,
    options: &ScanOptions,
    engine: &Engine,
) -> Result<Scanned, ScanError> {
    let sink = CollectSink::default();
    scan(repo, options, engine, &sink)?;
    Ok(Scanned {
        findings: sink.findings.into_inner(),
        commits: sink.commits.into_inner(),
        summaries: sink.summaries.into_inner(),
    })
}

/// Scan with secrets revealed and `threads` workers; panics on error.
pub fn scan_ok(repo: &Path, options: ScanOptions) -> Scanned {
    try_scan(repo, &options)
        .unwrap_or_else(|e| panic!("scan of {} failed: {e} ({:?})", repo.display(), e.kind()))
}

pub fn reveal() -> ScanOptions {
    ScanOptions {
        reveal_secrets: true,
        threads: 2,
        ..ScanOptions::default()
    }
}

/// The corpus generator: `tests/corpus/make_repo.py` (`SCANGIT_CORPUS_SCRIPT` overrides it).
pub fn corpus_script() -> PathBuf {
    if let Some(p) = std::env::var_os("SCANGIT_CORPUS_SCRIPT") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/make_repo.py")
}

/// Generate a corpus repository at `out` (bare) with its manifest `out.planted.jsonl`.
pub fn make_corpus(preset: &str, seed: u64, out: &Path) {
    let script = corpus_script();
    let o = Command::new("python3")
        .arg(&script)
        .args(["--preset", preset, "--seed", &seed.to_string(), "--out"])
        .arg(out)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap_or_else(|e| panic!("run python3 {}: {e}", script.display()));
    assert!(
        o.status.success(),
        "{} --preset {preset} --seed {seed} failed: {}",
        script.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A tiny corpus generated once per test binary.
pub fn tiny_corpus() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("corpus-{}", env!("CARGO_CRATE_NAME")));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("tiny-3.git");
        make_corpus("tiny", 3, &out);
        out
    })
}
