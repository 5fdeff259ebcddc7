//! Bad input through the built `scangit` binary: not a repository, a missing path, a truncated
//! pack, a corrupted pack entry, missing objects (deleted loose object, partial clone), and an
//! empty repository. Never a panic, never a hang: every run is killed after 60 s and fails then.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(60);

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad jsonl {l:?}: {e}")))
            .collect()
    }

    /// The last line, which must be the summary.
    fn summary(&self) -> Value {
        let lines = self.lines();
        let last = lines.last().cloned().expect("some output");
        assert_eq!(last["type"], "summary", "the last line is the summary");
        last
    }

    fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("internal"),
            "stderr: {}",
            self.stderr
        );
    }
}

/// Run `scangit scan REPO --format jsonl` (plus `extra`), killing it after [`TIMEOUT`].
fn scan(repo: &Path, extra: &[&str]) -> Outcome {
    let dir = temp_dir("out");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_scangit"))
        .arg("scan")
        .arg(repo)
        .args(["--format", "jsonl", "--no-progress"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("spawn scangit");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "scangit scan {} hung (killed after {TIMEOUT:?})",
                repo.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = Outcome {
        code: status.code(),
        stdout: std::fs::read_to_string(&out).unwrap(),
        stderr: std::fs::read_to_string(&err).unwrap(),
    };
    let _ = std::fs::remove_dir_all(&dir);
    o
}

fn temp_dir(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "bad_input-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> String {
    let o = cmd
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run command");
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A tiny generated corpus (bare repository with packs and loose objects), made once per binary.
fn corpus() -> &'static Path {
    static REPO: OnceLock<PathBuf> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad_input-corpus");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let script = std::env::var_os("SCANGIT_CORPUS_SCRIPT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/make_repo.py")
            });
        let out = dir.join("tiny.git");
        run(Command::new("python3")
            .arg(&script)
            .args(["--preset", "tiny", "--seed", "1", "--out"])
            .arg(&out));
        out
    })
}

/// A writable copy of the corpus.
fn corpus_copy(name: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    let repo = dir.join("repo.git");
    run(Command::new("cp").arg("-R").arg(corpus()).arg(&repo));
    (dir, repo)
}

/// The manifest rows of the corpus.
fn manifest() -> Vec<Value> {
    let path = format!("{}.planted.jsonl", corpus().display());
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The largest pack of `repo` and its non-delta blob entries that no delta uses as a base, as
/// (id, size in pack, offset), from `git verify-pack -v`.
fn pack_blobs(repo: &Path) -> (PathBuf, Vec<(String, u64, u64)>) {
    let pack_dir = repo.join("objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .expect("a pack");
    let listing = run(Command::new("git")
        .args(["verify-pack", "-v"])
        .arg(pack.with_extension("idx")));
    // Delta entries: id type size size-in-pack offset depth base-id.
    let bases: std::collections::HashSet<&str> = listing
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 7).then(|| f[6])
        })
        .collect();
    let blobs = listing
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // Non-delta entries: id type size size-in-pack offset.
            if f.len() != 5 || f[1] != "blob" || bases.contains(f[0]) {
                return None;
            }
            Some((f[0].to_owned(), f[3].parse().ok()?, f[4].parse().ok()?))
        })
        .collect();
    (pack, blobs)
}

fn make_writable(path: &Path) {
    let mut perm = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(path, perm).unwrap();
}

/// `reason` is among the summary's skips; returns its examples joined.
fn skip_examples(summary: &Value, reason: &str) -> String {
    let skipped = summary["skipped"].as_array().expect("skipped list");
    let s = skipped
        .iter()
        .find(|s| s["reason"] == reason)
        .unwrap_or_else(|| panic!("no {reason:?} skip in {summary}"));
    assert!(s["count"].as_u64().unwrap() >= 1);
    s["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_directory_that_is_not_a_repository_exits_2_naming_it() {
    let dir = temp_dir("plain-dir");
    std::fs::write(dir.join("notes.txt"), "not a repository\n").unwrap();
    let o = scan(&dir, &[]);
    o.assert_no_panic();
    assert_eq!(o.code, Some(2), "stderr: {}", o.stderr);
    assert!(o.stdout.is_empty(), "no report: {}", o.stdout);
    assert!(
        o.stderr.contains(dir.to_str().unwrap()),
        "the message names the directory: {}",
        o.stderr
    );
    assert!(
        o.stderr.starts_with("scangit: error: repo_not_found: "),
        "{}",
        o.stderr
    );
}

#[test]
fn a_nonexistent_path_exits_2() {
    let path = temp_dir("gone").join("does-not-exist");
    let o = scan(&path, &[]);
    o.assert_no_panic();
    assert_eq!(o.code, Some(2), "stderr: {}", o.stderr);
    assert!(o.stdout.is_empty());
    assert!(o.stderr.contains("does-not-exist"), "{}", o.stderr);
}

#[test]
fn a_truncated_pack_is_an_error_or_a_partial_scan_never_a_panic_or_hang() {
    let (_dir, repo) = corpus_copy("truncated");
    let (pack, blobs) = pack_blobs(&repo);
    // The last blob entry whose middle lies at least 200 bytes before the end of the pack: the
    // cut goes through its compressed data and removes a few hundred bytes.
    let len = std::fs::metadata(&pack).unwrap().len();
    let &(ref id, size, offset) = blobs
        .iter()
        .filter(|b| b.1 >= 64 && b.2 + b.1 / 2 + 200 <= len)
        .max_by_key(|b| b.2)
        .expect("a blob entry");
    let cut = offset + size / 2;
    println!(
        "truncating {} from {len} to {cut} bytes ({} removed), inside blob {id}",
        pack.display(),
        len - cut
    );
    make_writable(&pack);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&pack)
        .unwrap()
        .set_len(cut)
        .unwrap();
    let o = scan(&repo, &[]);
    o.assert_no_panic();
    match o.code {
        Some(2) => {
            assert!(o.stdout.is_empty(), "no report on error");
            assert!(
                o.stderr.starts_with("scangit: error: corrupt: "),
                "a clear corrupt error: {}",
                o.stderr
            );
        }
        Some(0 | 1) => {
            let summary = o.summary();
            assert_eq!(summary["outcome"], "partial", "{summary}");
            let examples = skip_examples(&summary, "corrupt");
            assert!(
                examples.contains(id.as_str()),
                "the truncated blob {id} is named: {examples}"
            );
            assert!(
                o.stderr.contains("partial"),
                "stderr says partial: {}",
                o.stderr
            );
        }
        other => panic!("exit {other:?}; stderr: {}", o.stderr),
    }
}

#[test]
fn a_corrupted_pack_entry_is_skipped_as_corrupt() {
    let (_dir, repo) = corpus_copy("corrupt");
    let (pack, blobs) = pack_blobs(&repo);
    // A blob entry in the middle of the pack, with enough compressed data to hit.
    let mut candidates: Vec<&(String, u64, u64)> = blobs.iter().filter(|b| b.1 >= 100).collect();
    candidates.sort_by_key(|b| b.2);
    let (id, size, offset) = candidates[candidates.len() / 2].clone();
    make_writable(&pack);
    let mut data = std::fs::read(&pack).unwrap();
    let at = (offset + size / 2) as usize;
    for b in &mut data[at..at + 8] {
        *b ^= 0xA5;
    }
    std::fs::write(&pack, &data).unwrap();
    println!("flipped 8 bytes at {at} inside blob {id} (entry at {offset}, {size} bytes)");
    let o = scan(&repo, &[]);
    o.assert_no_panic();
    assert!(
        matches!(o.code, Some(0 | 1)),
        "a damaged blob does not stop the scan: exit {:?}, stderr: {}",
        o.code,
        o.stderr
    );
    let summary = o.summary();
    assert_eq!(summary["outcome"], "partial", "{summary}");
    let examples = skip_examples(&summary, "corrupt");
    assert!(
        examples.contains(id.as_str()),
        "the damaged blob {id} is named: {examples}"
    );
    assert!(
        summary["blobs_scanned"].as_u64() < summary["blobs_planned"].as_u64(),
        "{summary}"
    );
    // Everything else is still scanned: findings in other blobs are reported.
    assert!(summary["findings"].as_u64().unwrap() > 0, "{summary}");
}

#[test]
fn a_deleted_loose_object_is_skipped_as_missing() {
    let (_dir, repo) = corpus_copy("missing-loose");
    let rows = manifest();
    let row = rows
        .iter()
        .find(|r| r["strategy"] == "loose" && r["expect"] == true)
        .expect("the corpus plants a secret in a loose object");
    let blob = row["blob"].as_str().unwrap();
    let file = repo.join("objects").join(&blob[..2]).join(&blob[2..]);
    assert!(file.is_file(), "{} is a loose object", file.display());
    std::fs::remove_file(&file).unwrap();
    let o = scan(&repo, &[]);
    o.assert_no_panic();
    assert_eq!(
        o.code,
        Some(1),
        "other secrets are still found: {}",
        o.stderr
    );
    let summary = o.summary();
    assert_eq!(summary["outcome"], "partial", "{summary}");
    let examples = skip_examples(&summary, "missing");
    assert!(
        examples.contains(blob),
        "the missing blob is named: {examples}"
    );
    let lines = o.lines();
    assert!(
        !lines
            .iter()
            .any(|e| e["type"] == "finding" && e["blob"] == blob),
        "no finding in a blob that is not there"
    );
}

#[test]
fn a_blobless_partial_clone_is_partial_with_missing_blobs() {
    let dir = temp_dir("partial-clone");
    let src = dir.join("src.git");
    run(Command::new("cp").arg("-R").arg(corpus()).arg(&src));
    run(Command::new("git").arg("--git-dir").arg(&src).args([
        "config",
        "uploadpack.allowFilter",
        "true",
    ]));
    let clone = dir.join("clone.git");
    run(Command::new("git")
        .args(["clone", "-q", "--bare", "--filter=blob:none", "--no-local"])
        .arg(format!("file://{}", src.display()))
        .arg(&clone));
    let o = scan(&clone, &[]);
    o.assert_no_panic();
    // No blob, no finding in a blob; commit and tag messages are there and are scanned.
    let findings: Vec<_> = o
        .lines()
        .into_iter()
        .filter(|e| e["type"] == "finding")
        .collect();
    assert!(
        findings.iter().all(|e| e["location"] != "blob"),
        "{findings:?}"
    );
    let code = if findings.is_empty() { 0 } else { 1 };
    assert_eq!(o.code, Some(code), "{}", o.stderr);
    let summary = o.summary();
    assert_eq!(summary["outcome"], "partial", "{summary}");
    skip_examples(&summary, "missing");
    assert_eq!(summary["blobs_scanned"], 0, "{summary}");
    assert!(summary["commits"].as_u64().unwrap() > 0, "{summary}");
}

#[test]
fn an_empty_repository_is_complete_with_no_findings() {
    let dir = temp_dir("empty");
    let repo = dir.join("empty.git");
    run(Command::new("git")
        .args(["init", "-q", "--bare"])
        .arg(&repo));
    let o = scan(&repo, &[]);
    o.assert_no_panic();
    assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    let lines = o.lines();
    assert_eq!(lines.len(), 1, "only the summary: {}", o.stdout);
    let summary = o.summary();
    assert_eq!(summary["outcome"], "complete", "{summary}");
    assert_eq!(summary["findings"], 0);
    assert_eq!(summary["commits"], 0);
    assert!(o.stderr.is_empty(), "no warnings: {}", o.stderr);
}
