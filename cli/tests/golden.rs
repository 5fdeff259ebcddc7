//! CLI golden files: the built `scangit` on one generated corpus (`tests/corpus/make_repo.py
//! --preset tiny --seed 7 --no-repack`), in every output format and a few modes, compared byte
//! for byte with `cli/tests/golden/`. They pin what the CLI prints, so a refactoring that changes
//! any byte of the output fails here.
//!
//! Only what differs between two runs of the same binary is normalised: the durations (the
//! `timings_ms` objects of json/jsonl/sarif, the seconds and milliseconds of the text summary
//! line) and the temporary directory the corpus and store live in (`$TMP`). Output whose order
//! depends on thread timing (`jsonl` streams findings as workers produce them) is run with
//! `--threads 1`; the sorted formats run with `--threads 2`.
//!
//! `SCANGIT_BLESS=1 cargo test --release -p scangit-cli --test golden` rewrites the files.
//! The corpus is byte-deterministic (the same object ids on every machine) and, with
//! `--no-repack`, its pack layout does not depend on the installed git's repack heuristics.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const SEED: &str = "7";

/// One CLI invocation: its golden file name and its arguments (`{repo}` and `{tmp}` expanded).
struct Case {
    name: &'static str,
    args: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "scan.txt",
        args: &["scan", "{repo}", "--no-progress", "--threads", "2"],
    },
    Case {
        name: "scan.json",
        args: &[
            "scan",
            "{repo}",
            "--no-progress",
            "--threads",
            "2",
            "--format",
            "json",
        ],
    },
    Case {
        name: "scan.jsonl",
        args: &[
            "scan",
            "{repo}",
            "--no-progress",
            "--threads",
            "1",
            "--format",
            "jsonl",
        ],
    },
    Case {
        name: "scan.sarif",
        args: &[
            "scan",
            "{repo}",
            "--no-progress",
            "--threads",
            "2",
            "--format",
            "sarif",
        ],
    },
    Case {
        name: "diff-history.jsonl",
        args: &[
            "scan",
            "{repo}",
            "--no-progress",
            "--threads",
            "1",
            "--format",
            "jsonl",
            "--mode",
            "diff-history",
        ],
    },
    Case {
        name: "reveal.json",
        args: &[
            "scan",
            "{repo}",
            "--no-progress",
            "--threads",
            "2",
            "--format",
            "json",
            "--reveal-secrets",
        ],
    },
    // The same store twice: the first run records everything, the second finds nothing new.
    Case {
        name: "store-1.jsonl",
        args: &[
            "scan",
            "{repo}",
            "--no-progress",
            "--threads",
            "1",
            "--format",
            "jsonl",
            "--store",
            "{tmp}/golden.db",
        ],
    },
    Case {
        name: "store-2.jsonl",
        args: &[
            "scan",
            "{repo}",
            "--no-progress",
            "--threads",
            "1",
            "--format",
            "jsonl",
            "--store",
            "{tmp}/golden.db",
        ],
    },
    Case {
        name: "store-findings.json",
        args: &["findings", "--store", "{tmp}/golden.db", "--format", "json"],
    },
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The corpus, generated once per test binary into a fresh directory.
fn corpus() -> &'static (PathBuf, PathBuf) {
    static DIR: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("golden");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/make_repo.py");
        let repo = tmp.join("tiny.git");
        let o = Command::new("python3")
            .arg(&script)
            .args(["--preset", "tiny", "--seed", SEED, "--no-repack", "--out"])
            .arg(&repo)
            .output()
            .expect("run python3");
        assert!(
            o.status.success(),
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        (tmp, repo)
    })
}

/// Every run of `digits` and `.` inside `"timings_ms": {...}` becomes `0`.
fn zero_timings(s: &str) -> String {
    const KEY: &str = "\"timings_ms\":";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        let end = tail.find('}').map_or(tail.len(), |e| e + 1);
        out.push_str(&zero_numbers(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn zero_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_number = false;
    for c in s.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push('0');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// The text summary line `Scan complete: ..., 0.135 s (open 2.72 ms, ...)`: its durations.
fn zero_text_durations(s: &str) -> String {
    s.split_inclusive('\n')
        .map(|line| {
            let Some(at) = line.find(" s (open ") else {
                return line.to_owned();
            };
            let start = line[..at].rfind(", ").map_or(0, |p| p + 2);
            format!("{}0{}", &line[..start], zero_numbers(&line[at..]))
        })
        .collect()
}

fn normalise(s: &str, tmp: &Path) -> String {
    let s = s.replace(&tmp.display().to_string(), "$TMP");
    zero_text_durations(&zero_timings(&s))
}

/// Runs every case in order (the store cases depend on each other); returns (file name,
/// normalised stdout) for each, and `exit-status.txt`: every case's exit code and stderr.
fn run_all() -> Vec<(&'static str, String)> {
    let (tmp, repo) = corpus();
    let _ = std::fs::remove_file(tmp.join("golden.db"));
    let mut outputs = Vec::new();
    let mut status = String::new();
    for case in CASES {
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| {
                a.replace("{repo}", &repo.display().to_string())
                    .replace("{tmp}", &tmp.display().to_string())
            })
            .collect();
        let o = Command::new(env!("CARGO_BIN_EXE_scangit"))
            .args(&args)
            .output()
            .expect("run scangit");
        let stdout = String::from_utf8(o.stdout).expect("stdout is UTF-8");
        let stderr = String::from_utf8_lossy(&o.stderr);
        status.push_str(&format!(
            "{}: scangit {}\n  exit {:?}\n",
            case.name,
            case.args.join(" "),
            o.status.code()
        ));
        for line in normalise(&stderr, tmp).lines() {
            status.push_str(&format!("  stderr: {line}\n"));
        }
        outputs.push((case.name, normalise(&stdout, tmp)));
    }
    outputs.push(("exit-status.txt", status));
    outputs
}

#[test]
fn cli_output_matches_the_golden_files() {
    let outputs = run_all();
    let dir = golden_dir();
    if std::env::var_os("SCANGIT_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &outputs {
            std::fs::write(dir.join(name), text).unwrap();
        }
        eprintln!(
            "blessed {} golden files in {}",
            outputs.len(),
            dir.display()
        );
        return;
    }
    let mut problems = Vec::new();
    for (name, got) in &outputs {
        let path = dir.join(name);
        let want = match std::fs::read_to_string(&path) {
            Ok(w) => w,
            Err(e) => {
                problems.push(format!(
                    "{}: {e} (SCANGIT_BLESS=1 writes it)",
                    path.display()
                ));
                continue;
            }
        };
        if &want != got {
            let (n, w, g) = want
                .lines()
                .zip(got.lines())
                .enumerate()
                .find(|(_, (w, g))| w != g)
                .map(|(n, (w, g))| (n + 1, w.to_owned(), g.to_owned()))
                .unwrap_or_else(|| {
                    let n = want.lines().count().min(got.lines().count()) + 1;
                    (
                        n,
                        "(end or more lines)".into(),
                        "(end or more lines)".into(),
                    )
                });
            problems.push(format!(
                "{name} differs at line {n}:\n  golden: {w}\n  now:    {g}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} golden file(s) differ (SCANGIT_BLESS=1 rewrites them after an intended change):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_golden_corpus_is_byte_deterministic() {
    // A second generation of the same preset and seed has the same refs and object ids.
    let (tmp, repo) = corpus();
    let again = tmp.join("again.git");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/make_repo.py");
    let st = Command::new("python3")
        .arg(&script)
        .args(["--preset", "tiny", "--seed", SEED, "--no-repack", "--out"])
        .arg(&again)
        .output()
        .expect("run python3");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let refs = |r: &Path| {
        let o = Command::new("git")
            .arg("--git-dir")
            .arg(r)
            .args(["for-each-ref", "--format=%(objectname) %(refname)"])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("run git");
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(refs(repo), refs(&again));
    let manifest = |r: &Path| std::fs::read(format!("{}.planted.jsonl", r.display())).unwrap();
    assert_eq!(manifest(repo), manifest(&again));
}
