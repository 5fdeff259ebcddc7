//! Faults from outside the process, through the built `scangit` with a SQLite store:
//!
//! - `git repack -adf` racing a stored scan: the scan ends complete with exactly the findings of
//!   a quiet scan, or with `concurrent_maintenance` and nothing stored;
//! - SIGKILL at random moments of a stored scan: the file passes `pragma integrity_check`, and
//!   the next scan completes with the store holding exactly the quiet scan's findings.
//!
//! Rounds: `SCANGIT_FAULT_ROUNDS` (CI uses the defaults, 4 races and 8 kills;
//! `tests/faults/full.sh` runs 20 and 50 and prints the figures).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

type Found = BTreeSet<(String, String, u64, u64)>;

fn rounds(default: usize) -> usize {
    std::env::var("SCANGIT_FAULT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> Output {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run")
}

/// The small generated corpus (600 commits, several packs and loose objects), made once.
fn corpus() -> &'static Path {
    static REPO: OnceLock<PathBuf> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = tmp("corpus");
        let script = std::env::var_os("SCANGIT_CORPUS_SCRIPT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/make_repo.py")
            });
        let out = dir.join("small.git");
        let o = run(Command::new("python3")
            .arg(&script)
            .args(["--preset", "small", "--seed", "7", "--out"])
            .arg(&out));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    })
}

fn copy_of(dir: &Path) -> PathBuf {
    let repo = dir.join("repo.git");
    let _ = std::fs::remove_dir_all(&repo);
    assert!(
        run(Command::new("cp").arg("-R").arg(corpus()).arg(&repo))
            .status
            .success()
    );
    repo
}

fn scangit(args: &[&std::ffi::OsStr]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scangit"));
    c.args(args).stdin(Stdio::null());
    c
}

fn scan_cmd(repo: &Path, db: &Path) -> Command {
    let mut c = scangit(&[
        "scan".as_ref(),
        repo.as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--no-progress".as_ref(),
        "--threads".as_ref(),
        "2".as_ref(),
        "--store".as_ref(),
        db.as_os_str(),
        "--repo-id".as_ref(),
        "r".as_ref(),
    ]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn found(lines: &[Value]) -> Found {
    lines
        .iter()
        .filter(|v| v["type"] == "finding")
        .map(|v| {
            (
                v["rule_id"].as_str().unwrap().to_string(),
                v["blob"].as_str().unwrap().to_string(),
                v["start"].as_u64().unwrap(),
                v["end"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// What the store holds (`scangit findings`).
fn stored(db: &Path) -> Found {
    if !db.exists() {
        return Found::new();
    }
    let o = run(&mut scangit(&[
        "findings".as_ref(),
        "--store".as_ref(),
        db.as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
    ]));
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "findings: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    found(&lines(&o.stdout))
}

fn summary(lines: &[Value]) -> &Value {
    let s = lines.last().expect("output");
    assert_eq!(s["type"], "summary");
    s
}

/// A quiet scan's findings and how long it took.
fn quiet() -> &'static (Found, Duration) {
    static Q: OnceLock<(Found, Duration)> = OnceLock::new();
    Q.get_or_init(|| {
        let dir = tmp("quiet");
        let repo = copy_of(&dir);
        let t = Instant::now();
        let o = run(&mut scan_cmd(&repo, &dir.join("q.db")));
        let took = t.elapsed();
        let l = lines(&o.stdout);
        assert_eq!(summary(&l)["outcome"], "complete");
        let f = found(&l);
        assert!(!f.is_empty());
        (f, took)
    })
}

/// Starts a stored scan whose output goes to files in `dir`, not to pipes: a scan whose
/// output outgrew an unread pipe would block before it stores anything, and the races and
/// kills would never meet a scan that is committing or has finished.
fn spawn_scan(repo: &Path, db: &Path, dir: &Path) -> Child {
    let file = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
    scan_cmd(repo, db)
        .stdout(file("scan.out"))
        .stderr(file("scan.err"))
        .spawn()
        .unwrap()
}

/// Waits for a scan from [`spawn_scan`] and reads what it printed.
fn wait_with_output(mut child: Child, dir: &Path) -> Output {
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: std::fs::read(dir.join("scan.out")).unwrap(),
        stderr: std::fs::read(dir.join("scan.err")).unwrap(),
    }
}

fn repack(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(repo)
        .args(["repack", "-adfq"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// How long `git repack -adf` takes on the corpus: it deletes the old packs and loose objects
/// only when it ends, so that is the moment a scan has to straddle.
fn repack_time() -> Duration {
    let dir = tmp("repack-time");
    let repo = copy_of(&dir);
    let t = Instant::now();
    assert!(repack(&repo).output().unwrap().status.success());
    let took = t.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    took
}

#[test]
fn repacks_racing_stored_scans_change_nothing_or_are_reported() {
    let (want, took) = quiet();
    let repack_took = repack_time();
    let mut rng = Rng(0x51ED_2701);
    let (mut clean, mut detected) = (0, 0);
    for round in 0..rounds(4) {
        let dir = tmp(&format!("race{round}"));
        let repo = copy_of(&dir);
        let db = dir.join("s.db");
        // Odd rounds start the scan first and the repack up to two scans' time later (some
        // repacks begin after the scan has ended). Even rounds start the repack first and the
        // scan at a random moment of it, so the repack's deletions land during the scan.
        let (scan, gc) = if round % 2 == 1 {
            let scan = spawn_scan(&repo, &db, &dir);
            std::thread::sleep(Duration::from_micros(
                rng.below(2 * took.as_micros() as u64 + 1),
            ));
            (scan, repack(&repo).spawn().unwrap())
        } else {
            let gc = repack(&repo).spawn().unwrap();
            std::thread::sleep(Duration::from_micros(
                rng.below(repack_took.as_micros() as u64 + 1),
            ));
            (spawn_scan(&repo, &db, &dir), gc)
        };
        let gc = gc.wait_with_output().unwrap();
        assert!(
            gc.status.success(),
            "{}",
            String::from_utf8_lossy(&gc.stderr)
        );
        let o = wait_with_output(scan, &dir);
        let err = String::from_utf8_lossy(&o.stderr);
        match o.status.code() {
            Some(0 | 1) => {
                let l = lines(&o.stdout);
                assert_eq!(summary(&l)["outcome"], "complete", "round {round}");
                assert_eq!(&found(&l), want, "round {round}: as a quiet scan");
                assert_eq!(&stored(&db), want, "round {round}: stored as a quiet scan");
                clean += 1;
            }
            Some(2) => {
                assert!(
                    err.starts_with("scangit: error: concurrent_maintenance: "),
                    "round {round}: {err}"
                );
                assert!(stored(&db).is_empty(), "round {round}: nothing stored");
                detected += 1;
            }
            other => panic!("round {round}: exit {other:?}: {err}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!(
        "repack races (repack {} ms, scan {} ms): {clean} complete as a quiet scan, {detected} concurrent_maintenance",
        repack_took.as_millis(),
        took.as_millis()
    );
}

fn integrity(db: &Path) -> String {
    let o = run(Command::new("python3").arg("-c").arg(
        "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma integrity_check').fetchone()[0])",
    ).arg(db));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn sigkill_during_stored_scans_loses_nothing() {
    let (want, took) = quiet();
    let mut rng = Rng(0x0DDB_1A5E);
    let mut before_end = 0;
    for round in 0..rounds(8) {
        let dir = tmp(&format!("kill{round}"));
        let repo = copy_of(&dir);
        let db = dir.join("s.db");
        let mut scan = spawn_scan(&repo, &db, &dir);
        let delay = rng.below(took.as_micros() as u64 * 6 / 5 + 1);
        std::thread::sleep(Duration::from_micros(delay));
        let killed = scan.try_wait().unwrap().is_none();
        let _ = scan.kill();
        let _ = scan.wait();
        before_end += usize::from(killed);
        if db.exists() {
            assert_eq!(
                integrity(&db),
                "ok",
                "round {round} (killed after {delay} µs)"
            );
        }
        let o = run(&mut scan_cmd(&repo, &db));
        let l = lines(&o.stdout);
        assert_eq!(summary(&l)["outcome"], "complete", "round {round}");
        assert_eq!(
            &stored(&db),
            want,
            "round {round}: the store holds every finding"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("kills: {before_end} during the scan, the rest after it ended");
}
