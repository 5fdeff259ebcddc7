//! Re-scan benchmark: how much an incremental scan through the SQLite store costs next to the
//! first scan.
//!
//! ```text
//! cargo run --release -p scangit-core --example rescan_bench -- REPO [--threads N] [--alternates]
//!     [--ref-include GLOB]... [--commit-graph]
//! ```
//!
//! `--ref-include` limits the scans to matching refs; `--commit-graph` writes a commit-graph file
//! in the copy before the first scan (untimed).
//!
//! `REPO` is never modified: the benchmark works on a copy in a temporary directory, made with
//! `git clone --mirror` (default) or, with `--alternates`, as an empty bare repository whose
//! objects come from `REPO` through `objects/info/alternates` and whose refs are copied (cheap
//! for very large repositories). Steps: first scan with a fresh store (timed), an unchanged
//! re-scan (timed), one commit adding a new secret made with plumbing (`hash-object -w`,
//! `mktree`, `commit-tree`, `update-ref`), and the incremental re-scan (timed), whose findings
//! must be exactly the new secret (exit status 1 otherwise).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use scangit_core::events::CollectSink;
use scangit_core::store::SqliteStore;
use scangit_core::{Engine, Finding, ScanOptions, StoreRef, Summary, scan};

fn git(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run git");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A copy of `src` in `dir` that the benchmark may change.
fn copy_repo(src: &Path, dir: &Path, alternates: bool) -> PathBuf {
    let dst = dir.join("copy.git");
    let src = src.canonicalize().expect("repository path");
    if alternates {
        git(dir, &["init", "-q", "--bare", dst.to_str().unwrap()], None);
        let objects = src.join("objects");
        std::fs::write(
            dst.join("objects/info/alternates"),
            format!("{}\n", objects.display()),
        )
        .unwrap();
        let refs = git(
            &src,
            &["for-each-ref", "--format=create %(refname) %(objectname)"],
            None,
        );
        git(&dst, &["update-ref", "--stdin"], Some(&format!("{refs}\n")));
        let head = std::fs::read_to_string(src.join("HEAD")).unwrap();
        std::fs::write(dst.join("HEAD"), head).unwrap();
    } else {
        git(
            dir,
            &[
                "clone",
                "-q",
                "--mirror",
                src.to_str().unwrap(),
                dst.to_str().unwrap(),
            ],
            None,
        );
    }
    dst
}

/// A fresh npm token (random per run, so no earlier scan can have seen it).
fn new_secret() -> String {
    let mut x = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let body: String = (0..36)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALNUM[(x % 62) as usize] as char
        })
        .collect();
    format!("npm_{body}")
}

/// Add one commit on top of HEAD's branch holding a new `.npmrc-bench` with `secret`.
fn plumbing_commit(repo: &Path, secret: &str) -> (String, String) {
    let branch = git(repo, &["symbolic-ref", "HEAD"], None);
    let blob = git(
        repo,
        &["hash-object", "-w", "--stdin"],
        Some(&format!("//registry.npmjs.org/:_authToken={secret}\n")),
    );
    let listing = git(repo, &["ls-tree", &branch], None);
    let tree = git(
        repo,
        &["mktree"],
        Some(&format!("{listing}\n100644 blob {blob}\t.npmrc-bench\n")),
    );
    let commit = git(
        repo,
        &[
            "commit-tree",
            &tree,
            "-p",
            &branch,
            "-m",
            "bench: add npmrc",
        ],
        None,
    );
    git(repo, &["update-ref", &branch, &commit], None);
    (commit, blob)
}

struct Run {
    time: Duration,
    summary: Summary,
    findings: Vec<Finding>,
}

fn run(repo: &Path, db: &Path, threads: usize, include: &[String], engine: &Engine) -> Run {
    let options = ScanOptions {
        threads,
        ref_include: include.to_vec(),
        reveal_secrets: true,
        store: Some(StoreRef::new(SqliteStore::open(db).expect("open store"))),
        repo_id: Some("bench".into()),
        ..ScanOptions::default()
    };
    let sink = CollectSink::default();
    let t = Instant::now();
    let report = scan(repo, &options, engine, &sink).expect("scan");
    let time = t.elapsed();
    Run {
        time,
        summary: report.summary,
        findings: sink.findings.into_inner(),
    }
}

fn show(label: &str, r: &Run) {
    let s = &r.summary;
    println!(
        "{label:<22} {:>9.3} s  outcome={} commits={} planned={} already_seen={} scanned={} \
         findings={}",
        r.time.as_secs_f64(),
        s.outcome.as_str(),
        s.commits,
        s.blobs_planned,
        s.blobs_already_seen,
        s.blobs_scanned,
        s.findings
    );
    let t = &s.timings;
    println!(
        "{:<22} open={:?} index={:?} commits={:?} plan={:?} scan={:?} finalize={:?}",
        "", t.open, t.index, t.commits, t.plan, t.scan, t.finalize
    );
    for k in &s.skipped {
        println!(
            "{:<22} skipped {}: {} (e.g. {:?})",
            "",
            k.reason.as_str(),
            k.count,
            k.examples.first()
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut repo = None;
    let mut threads = 0;
    let mut alternates = false;
    let mut commit_graph = false;
    let mut include = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).expect("N"),
            "--alternates" => alternates = true,
            "--commit-graph" => commit_graph = true,
            "--ref-include" => include.push(args.next().expect("GLOB")),
            _ => repo = Some(PathBuf::from(a)),
        }
    }
    let repo = repo.expect("usage: rescan_bench REPO [--threads N] [--alternates]");
    let dir = std::env::temp_dir().join(format!("scangit-rescan-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let t = Instant::now();
    let copy = copy_repo(&repo, &dir, alternates);
    println!(
        "copy of {} at {} ({:.1} s)",
        repo.display(),
        copy.display(),
        t.elapsed().as_secs_f64()
    );
    if commit_graph {
        let t = Instant::now();
        git(&copy, &["commit-graph", "write", "--reachable"], None);
        println!("commit-graph written ({:.1} s)", t.elapsed().as_secs_f64());
    }
    let db = dir.join("store.db");
    let engine = Engine::builtin().expect("built-in rules");

    let first = run(&copy, &db, threads, &include, &engine);
    show("first scan", &first);
    let unchanged = run(&copy, &db, threads, &include, &engine);
    show("unchanged re-scan", &unchanged);
    let secret = new_secret();
    let (commit, blob) = plumbing_commit(&copy, &secret);
    let again = run(&copy, &db, threads, &include, &engine);
    show("re-scan after commit", &again);
    println!(
        "ratio re-scan/first: {:.2}% (unchanged: {:.2}%)",
        100.0 * again.time.as_secs_f64() / first.time.as_secs_f64(),
        100.0 * unchanged.time.as_secs_f64() / first.time.as_secs_f64()
    );
    println!(
        "store file: {} bytes",
        std::fs::metadata(&db).map_or(0, |m| m.len())
    );
    for f in &again.findings {
        println!(
            "re-scan finding: {} blob={} commit={} path={} line={}",
            f.rule_id,
            f.blob,
            f.commit.map_or("-".into(), |c| c.to_string()),
            String::from_utf8_lossy(f.path.as_deref().unwrap_or_default()),
            f.line
        );
    }
    let exact = again.findings.len() == 1
        && again.findings[0].secret.as_deref() == Some(secret.as_str())
        && again.findings[0].blob == blob
        && again.findings[0].commit.map(|c| c.to_string()) == Some(commit.clone());
    if std::env::var_os("SCANGIT_KEEP_BENCH_DIR").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if exact {
        println!("re-scan findings: exactly the new secret (commit {commit})");
    } else {
        println!("FAIL: re-scan findings are not exactly the new secret");
        std::process::exit(1);
    }
}
