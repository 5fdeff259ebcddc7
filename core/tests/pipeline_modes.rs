//! diff-history against odb-blob, commit ranges, and the merge rule.
//!
//! Metamorphic: on full history both modes must report the same (blob, rule, start, end) with
//! the same commit and path, whatever the memory budget (tiny budgets force spilled runs).

mod pipeline_support;

use std::collections::BTreeSet;
use std::path::PathBuf;

use pipeline_support::*;
use scangit_core::{ScanMode, ScanOptions};

type Key = (String, String, u64, u64, Option<String>, Option<Vec<u8>>);

fn keys(s: &Scanned) -> BTreeSet<Key> {
    s.findings
        .iter()
        .map(|f| {
            (
                f.blob.to_string(),
                f.rule_id.clone(),
                f.start,
                f.end,
                f.commit.map(|c| c.to_string()),
                f.path.clone(),
            )
        })
        .collect()
}

fn corpora() -> &'static Vec<PathBuf> {
    static C: std::sync::OnceLock<Vec<PathBuf>> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("corpus-modes");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // tiny: merges, renames, deletions, tags, loose objects, several packs; small: more of it.
        let specs = [("tiny", 1u64), ("tiny", 2), ("tiny", 4), ("small", 2)];
        std::thread::scope(|s| {
            let handles: Vec<_> = specs
                .iter()
                .map(|(preset, seed)| {
                    let out = dir.join(format!("{preset}-{seed}.git"));
                    s.spawn(move || {
                        make_corpus(preset, *seed, &out);
                        out
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    })
}

#[test]
fn diff_history_reports_exactly_what_odb_blob_reports() {
    for repo in corpora() {
        let odb = scan_ok(repo, reveal());
        let spill = temp_dir("spill");
        let spill_dir = spill.path().to_path_buf();
        for budget in [1u64 << 30, 4 << 10] {
            let diff = scan_ok(
                repo,
                ScanOptions {
                    mode: ScanMode::DiffHistory,
                    memory_budget_bytes: budget,
                    spill_dir: Some(spill_dir.clone()),
                    ..reveal()
                },
            );
            assert!(!odb.findings.is_empty());
            assert_eq!(
                keys(&odb),
                keys(&diff),
                "{} with budget {budget}",
                repo.display()
            );
            assert_eq!(odb.summary().blobs_planned, diff.summary().blobs_planned);
        }
        let left: Vec<_> = std::fs::read_dir(&spill_dir).unwrap().collect();
        assert!(left.is_empty(), "spill runs are removed after the scan");
    }
}

/// Five commits, each adding one secret file.
fn linear_repo(name: &str) -> (TempDir, GitRepo, Vec<String>, Vec<String>) {
    let tmp = temp_dir(name);
    let repo = GitRepo::init(&tmp.path().join("r"));
    let mut rng = Rng::new(11);
    let mut secrets = Vec::new();
    let mut commits = Vec::new();
    for i in 0..5 {
        let s = github_pat(&mut rng);
        repo.write(&format!("f{i}.cfg"), format!("token = \"{s}\"\n"));
        commits.push(repo.commit(&format!("c{i}")));
        secrets.push(s);
    }
    (tmp, repo, secrets, commits)
}

#[test]
fn a_range_scans_only_the_blobs_its_commits_introduce() {
    let (_tmp, repo, secrets, commits) = linear_repo("range");
    for mode in [ScanMode::DiffHistory, ScanMode::OdbBlob] {
        for (opts, want) in [
            (
                ScanOptions {
                    range: Some("HEAD~2..HEAD".into()),
                    mode,
                    ..reveal()
                },
                2usize,
            ),
            (
                ScanOptions {
                    since: Some(commits[1].clone()),
                    mode,
                    ..reveal()
                },
                3,
            ),
            (
                ScanOptions {
                    range: Some(format!("{}..{}", &commits[0][..8], &commits[3][..10])),
                    mode,
                    ..reveal()
                },
                3,
            ),
        ] {
            let got = scan_ok(&repo.dir, opts.clone());
            let first = secrets.len() - want;
            let expect: BTreeSet<String> = if opts
                .range
                .as_deref()
                .is_some_and(|r| !r.starts_with("HEAD"))
            {
                secrets[1..4].iter().cloned().collect()
            } else {
                secrets[first..].iter().cloned().collect()
            };
            assert_eq!(
                got.secrets(),
                expect,
                "{mode:?} {:?} {:?}",
                opts.range,
                opts.since
            );
            // Each commit adds exactly one blob: nothing older is read.
            assert_eq!(
                got.summary().blobs_scanned,
                want as u64,
                "{mode:?} {:?}",
                opts.range
            );
            assert_eq!(got.summary().commits, want as u64);
        }
    }
}

/// `git commit-tree` with an explicit committer date (a skewed clock).
fn commit_at(repo: &GitRepo, parents: &[&str], file: &str, content: &str, time: u64) -> String {
    repo.write(file, content);
    repo.git(&["add", "-A"]);
    let tree = repo.git(&["write-tree"]);
    let date = format!("{time} +0000");
    let mut args = vec![
        "-c",
        "user.name=T",
        "-c",
        "user.email=t@example.com",
        "commit-tree",
    ];
    args.push(&tree);
    for p in parents {
        args.extend(["-p", p]);
    }
    args.extend(["-m", file]);
    repo.git_raw(
        &args,
        &[("GIT_COMMITTER_DATE", &date), ("GIT_AUTHOR_DATE", &date)],
        None,
    )
}

#[test]
fn a_range_is_exact_under_clock_skew_with_or_without_a_commit_graph() {
    // c0 - c1 - c2 - m(c2, x); x is a child of c1 whose clock ran far behind. `x..m` is {m, c2}:
    // a walk ordered by committer time alone meets c1 before x has excluded it.
    let tmp = temp_dir("skew");
    let repo = GitRepo::init(&tmp.path().join("r"));
    let mut rng = Rng::new(5);
    let s: Vec<String> = (0..5).map(|_| github_pat(&mut rng)).collect();
    let c0 = commit_at(
        &repo,
        &[],
        "a.cfg",
        &format!("t = \"{}\"\n", s[0]),
        1_700_000_100,
    );
    let c1 = commit_at(
        &repo,
        &[&c0],
        "b.cfg",
        &format!("t = \"{}\"\n", s[1]),
        1_700_000_200,
    );
    let x = commit_at(
        &repo,
        &[&c1],
        "x.cfg",
        &format!("t = \"{}\"\n", s[2]),
        1_600_000_000,
    );
    // Back to c1's tree for c2 (x.cfg leaves the work tree), then the merge brings x.cfg in.
    std::fs::remove_file(repo.dir.join("x.cfg")).unwrap();
    repo.git(&["read-tree", &c1]);
    let c2 = commit_at(
        &repo,
        &[&c1],
        "c.cfg",
        &format!("t = \"{}\"\n", s[3]),
        1_700_000_300,
    );
    repo.write("x.cfg", format!("t = \"{}\"\n", s[2]));
    let m = commit_at(
        &repo,
        &[&c2, &x],
        "m.cfg",
        &format!("t = \"{}\"\n", s[4]),
        1_700_000_400,
    );
    repo.git(&["update-ref", "refs/heads/main", &m]);
    let want: BTreeSet<String> = repo
        .git(&["rev-list", &format!("{x}..{m}")])
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(want, [m.clone(), c2.clone()].into_iter().collect());
    for graph in [false, true] {
        if graph {
            repo.git(&["commit-graph", "write", "--reachable"]);
        }
        for mode in [ScanMode::OdbBlob, ScanMode::DiffHistory] {
            let got = scan_ok(
                &repo.dir,
                ScanOptions {
                    range: Some(format!("{x}..{m}")),
                    mode,
                    ..reveal()
                },
            );
            assert_eq!(got.summary().commits, 2, "graph {graph} {mode:?}");
            assert_eq!(
                got.secrets(),
                [s[3].clone(), s[4].clone()].into_iter().collect(),
                "graph {graph} {mode:?}"
            );
        }
    }
}

#[test]
fn bad_revisions_are_invalid_arguments() {
    let (_tmp, repo, _, _) = linear_repo("badrev");
    for (range, since) in [
        (Some("nope..HEAD"), None),
        (Some("HEAD"), None),
        (None, Some("HEAD~9")),
    ] {
        let err = try_scan(
            &repo.dir,
            &ScanOptions {
                range: range.map(String::from),
                since: since.map(String::from),
                ..reveal()
            },
        )
        .err()
        .expect("an error");
        assert_eq!(
            err.kind(),
            scangit_core::ErrorKind::InvalidArgument,
            "{err}"
        );
    }
}

/// main: A ── M (merge)        side: A ── S (adds secret.cfg)
/// M takes secret.cfg from S. The blob is introduced by S, not by M: a range without S finds
/// nothing by default; with first-parent diffs M shows it.
#[test]
fn merges_introduce_only_what_differs_from_every_parent() {
    let tmp = temp_dir("merge-rule");
    let repo = GitRepo::init(&tmp.path().join("m"));
    let mut rng = Rng::new(12);
    let secret = github_pat(&mut rng);
    repo.write("readme", "hello\n");
    repo.commit("A");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("secret.cfg", format!("token = \"{secret}\"\n"));
    let s = repo.commit("S");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("other", "x\n");
    repo.commit("B");
    repo.git(&["merge", "-q", "--no-edit", "side"]);
    let m = repo.rev("HEAD");

    let full = scan_ok(
        &repo.dir,
        ScanOptions {
            mode: ScanMode::DiffHistory,
            ..reveal()
        },
    );
    assert_eq!(
        full.with_secret(&secret)[0].commit.map(|c| c.to_string()),
        Some(s.clone())
    );

    // S..M holds B and M only: the blob came from S, outside the range.
    let only_merge = |first_parent_only| {
        scan_ok(
            &repo.dir,
            ScanOptions {
                mode: ScanMode::DiffHistory,
                range: Some(format!("{s}..{m}")),
                first_parent_only,
                ..reveal()
            },
        )
    };
    let default = only_merge(false);
    assert!(
        default.with_secret(&secret).is_empty(),
        "M does not differ from S at secret.cfg"
    );
    assert_eq!(default.summary().commits, 2);
    let fp = only_merge(true);
    let f = fp.with_secret(&secret);
    assert_eq!(f.len(), 1, "against its first parent B, M adds secret.cfg");
    assert_eq!(f[0].commit.map(|c| c.to_string()), Some(m));
}
