//! Incremental scans through a persistence store, end to end on real repositories (issue 4):
//! re-scans walk only new commits and scan only unseen blobs, ref watermarks follow new,
//! moved, force-pushed and deleted refs, a rules change re-scans everything, a partial scan
//! writes data but no watermarks, finalize does not depend on the thread count, failures and
//! aborts leave the store as it was, and the SQLite store is readable with plain SQL.

mod pipeline_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use gix_hash::ObjectId;
use pipeline_support::*;
use scangit_core::events::{CollectSink, SkipReason};
use scangit_core::rules::RuleSet;
use scangit_core::store::codec::{FinalizeOutput, RefWatermark, Scope};
use scangit_core::store::{
    FailingStore, MemoryStore, PersistenceStore, SqliteStore, StoreError, StoreMethod,
};
use scangit_core::{
    AbortToken, Engine, ErrorKind, Event, Outcome, ScanError, ScanMode, ScanOptions, SinkAction,
    StoreRef,
};

const REPO_ID: &str = "fixture";

fn scope() -> Scope {
    Scope::new(REPO_ID, engine().rules_hash())
}

/// Scan options with secrets revealed, two threads, `store` and a fixed repo id.
fn opts(store: StoreRef) -> ScanOptions {
    ScanOptions {
        store: Some(store),
        repo_id: Some(REPO_ID.into()),
        ..reveal()
    }
}

fn memory() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new())
}

/// A work-tree repository with three commits on `main`, each adding one secret, plus a binary
/// file and a file without secrets.
struct Fixture {
    _tmp: TempDir,
    repo: GitRepo,
    rng: Rng,
    /// Secrets committed so far, in order.
    secrets: Vec<String>,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let tmp = temp_dir(name);
        let repo = GitRepo::init(&tmp.path().join("repo"));
        let mut f = Fixture {
            _tmp: tmp,
            repo,
            rng: Rng::new(name.len() as u64 * 7919 + 1),
            secrets: Vec::new(),
        };
        f.repo
            .write("README.md", "# fixture\nnothing to see here\n");
        f.repo
            .write("logo.bin", [0u8, 1, 2, 3, 0, 0, 255, 254].repeat(64));
        f.repo.commit("initial");
        for i in 0..3 {
            f.add_secret(&format!("config/app{i}.env"));
        }
        f
    }

    fn path(&self) -> &Path {
        &self.repo.dir
    }

    /// Commit a new file at `rel` holding a fresh GitHub token; returns (secret, commit).
    fn add_secret(&mut self, rel: &str) -> (String, String) {
        let secret = github_pat(&mut self.rng);
        self.repo
            .write(rel, format!("# settings\nTOKEN={secret}\n"));
        let commit = self.repo.commit(&format!("add {rel}"));
        self.secrets.push(secret.clone());
        (secret, commit)
    }

    /// Every blob reachable from every ref (what a full scan plans).
    fn reachable_blobs(&self) -> BTreeSet<String> {
        let out = self.repo.git(&[
            "rev-list",
            "--objects",
            "--all",
            "--filter=blob:none",
            "--filter-print-omitted",
        ]);
        let mut blobs = BTreeSet::new();
        for l in out.lines() {
            if let Some(id) = l.strip_prefix('~') {
                blobs.insert(id.to_owned());
            }
        }
        blobs
    }
}

fn secrets(s: &Scanned) -> BTreeSet<String> {
    s.secrets()
}

fn set<const N: usize>(items: [&String; N]) -> BTreeSet<String> {
    items.into_iter().cloned().collect()
}

fn watermark_names(store: &dyn PersistenceStore) -> Vec<String> {
    store
        .load_watermarks(&scope())
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect()
}

fn watermark_of(store: &dyn PersistenceStore, name: &str) -> Option<RefWatermark> {
    store
        .load_watermarks(&scope())
        .unwrap()
        .into_iter()
        .find(|w| w.name == name)
}

// ---------------------------------------------------------------------------------------------
// 1. Incremental re-scans

#[test]
fn rescan_of_unchanged_repo_walks_and_scans_nothing() {
    let f = Fixture::new("unchanged");
    let mem = memory();
    let first = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert_eq!(secrets(&first), f.secrets.iter().cloned().collect());
    assert_eq!(first.summary().outcome, Outcome::Complete);
    assert_eq!(first.summary().commits, 4);
    let planned = first.summary().blobs_planned;
    assert_eq!(planned as usize, f.reachable_blobs().len());

    let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    let s = again.summary();
    assert!(again.findings.is_empty(), "{:?}", again.findings);
    assert!(again.commits.is_empty());
    assert_eq!(s.commits, 0);
    assert_eq!(s.blobs_scanned, 0);
    assert_eq!(s.blobs_planned, 0);
    assert_eq!(s.findings, 0);
    assert_eq!(s.outcome, Outcome::Complete);
    // The store still holds every finding of the first scan.
    assert_eq!(mem.findings(&scope()).len(), f.secrets.len());
}

#[test]
fn rescan_after_new_commit_reports_only_its_secret_and_scans_only_its_blob() {
    let mut f = Fixture::new("newcommit");
    let mem = memory();
    scan_ok(f.path(), opts(StoreRef(mem.clone())));

    let (secret, commit) = f.add_secret("deploy/key.env");
    let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    let s = again.summary();
    assert_eq!(secrets(&again), set([&secret]));
    assert_eq!(again.findings.len(), 1);
    let found = &again.findings[0];
    assert_eq!(found.commit.map(|c| c.to_string()), Some(commit.clone()));
    assert_eq!(found.path.as_deref(), Some(&b"deploy/key.env"[..]));
    assert_eq!(s.commits, 1, "only the new commit is walked");
    assert_eq!(s.blobs_scanned, 1, "only the new blob is scanned");
    assert_eq!(
        s.blobs_planned, 1,
        "unchanged entries of the parent tree are not planned"
    );
    assert_eq!(again.commits.len(), 1);
    assert_eq!(again.commits[0].commit.to_string(), commit);
    assert_eq!(
        watermark_of(&*mem, "refs/heads/main").map(|w| w.tip.to_string()),
        Some(commit)
    );

    let third = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert!(third.findings.is_empty());
    assert_eq!(third.summary().commits, 0);
}

#[test]
fn rescan_after_plumbing_commit_on_bare_clone_reports_only_the_new_secret() {
    let f = Fixture::new("plumbing");
    let bare_dir = f._tmp.path().join("bare.git");
    f.repo
        .git(&["clone", "-q", "--bare", ".", bare_dir.to_str().unwrap()]);
    let bare = GitRepo::at(&bare_dir);
    let mem = memory();
    let first = scan_ok(&bare_dir, opts(StoreRef(mem.clone())));
    assert_eq!(first.findings.len(), 3);

    // hash-object -w, mktree (via a temporary index: read-tree + update-index + write-tree),
    // commit-tree, update-ref: no work tree involved.
    let mut rng = Rng::new(99);
    let secret = npm_token(&mut rng);
    let blob_file = f._tmp.path().join("npmrc");
    std::fs::write(
        &blob_file,
        format!("//registry.npmjs.org/:_authToken={secret}\n"),
    )
    .unwrap();
    let blob = bare.git(&["hash-object", "-w", blob_file.to_str().unwrap()]);
    let tree_listing = bare.git(&["ls-tree", "main"]);
    let listing = format!("{tree_listing}\n100644 blob {blob}\t.npmrc\n");
    let listing_file = f._tmp.path().join("listing");
    std::fs::write(&listing_file, listing).unwrap();
    let tree = mktree(&bare, &listing_file);
    let commit = bare.git(&["commit-tree", &tree, "-p", "main", "-m", "add npmrc"]);
    bare.git(&["update-ref", "refs/heads/main", &commit]);

    let again = scan_ok(&bare_dir, opts(StoreRef(mem.clone())));
    assert_eq!(secrets(&again), set([&secret]));
    assert_eq!(again.findings[0].commit.unwrap().to_string(), commit);
    assert_eq!(again.summary().commits, 1);
    assert_eq!(again.summary().blobs_scanned, 1);
}

/// `git mktree` reads its listing from stdin, which `GitRepo::git` does not provide.
fn mktree(repo: &GitRepo, listing: &Path) -> String {
    repo.git_raw(&["mktree"], &[], Some(listing))
}

#[test]
fn rescan_reads_no_commit_below_its_watermarks() {
    // The walk from new tips stops at the watermarks: history below them is never read. Make
    // that observable by deleting the (loose) root commit after the first scan; a walk that read
    // it would report it missing and end partial.
    for graph in [false, true] {
        let mut f = Fixture::new(if graph { "below-graph" } else { "below" });
        if graph {
            f.repo.git(&["commit-graph", "write", "--reachable"]);
        }
        let mem = memory();
        scan_ok(f.path(), opts(StoreRef(mem.clone())));
        let root = f.repo.git(&["rev-list", "--max-parents=0", "HEAD"]);
        let loose = f
            .path()
            .join(".git/objects")
            .join(&root[..2])
            .join(&root[2..]);
        std::fs::remove_file(&loose).expect("the fixture's commits are loose objects");
        let (secret, _) = f.add_secret("later/key.env");
        let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
        assert_eq!(secrets(&again), set([&secret]), "commit-graph {graph}");
        assert_eq!(
            again.summary().outcome,
            Outcome::Complete,
            "commit-graph {graph}"
        );
        assert_eq!(again.summary().commits, 1);
    }
}

#[test]
fn diff_history_rescan_reports_only_the_new_secret() {
    let mut f = Fixture::new("diffhist");
    let mem = memory();
    let diff = |mem: &Arc<MemoryStore>| ScanOptions {
        mode: ScanMode::DiffHistory,
        ..opts(StoreRef(mem.clone()))
    };
    let first = scan_ok(f.path(), diff(&mem));
    assert_eq!(first.findings.len(), 3);
    let again = scan_ok(f.path(), diff(&mem));
    assert!(again.findings.is_empty());
    assert_eq!(again.summary().commits, 0);
    let (secret, _) = f.add_secret("later.env");
    let third = scan_ok(f.path(), diff(&mem));
    assert_eq!(secrets(&third), set([&secret]));
    assert_eq!(third.summary().commits, 1);
    assert_eq!(third.summary().blobs_scanned, 1);
}

// ---------------------------------------------------------------------------------------------
// 2. New refs

#[test]
fn new_ref_at_an_ancestor_of_a_watermark_walks_and_scans_nothing() {
    let f = Fixture::new("ancestor");
    let mem = memory();
    scan_ok(f.path(), opts(StoreRef(mem.clone())));
    f.repo.git(&["branch", "old", "HEAD~2"]);
    f.repo.git(&["tag", "v0", "HEAD~1"]);
    let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert!(again.findings.is_empty());
    assert_eq!(again.summary().commits, 0);
    assert_eq!(again.summary().blobs_scanned, 0);
    // The complete re-scan records the new refs too.
    let names = watermark_names(&*mem);
    assert!(names.contains(&"refs/heads/old".to_owned()), "{names:?}");
    assert!(names.contains(&"refs/tags/v0".to_owned()), "{names:?}");
}

#[test]
fn new_ref_with_new_commits_walks_only_those() {
    let mut f = Fixture::new("newref");
    let mem = memory();
    scan_ok(f.path(), opts(StoreRef(mem.clone())));
    f.repo.git(&["checkout", "-q", "-b", "feature", "HEAD~1"]);
    let (a, _) = f.add_secret("feature/a.env");
    f.repo.write("feature/notes.txt", "plain text\n");
    f.repo.commit("notes");
    let (b, tip) = f.add_secret("feature/b.env");
    let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert_eq!(secrets(&again), set([&a, &b]));
    assert_eq!(again.summary().commits, 3);
    assert_eq!(again.summary().blobs_scanned, 3);
    assert_eq!(
        watermark_of(&*mem, "refs/heads/feature").map(|w| w.tip.to_string()),
        Some(tip)
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Force-pushes

#[test]
fn force_push_to_divergent_history_finds_every_new_secret() {
    let mut f = Fixture::new("forcepush");
    let mem = memory();
    scan_ok(f.path(), opts(StoreRef(mem.clone())));
    f.repo.git(&["reset", "-q", "--hard", "HEAD~2"]);
    let (a, _) = f.add_secret("rewritten/one.env");
    let (b, tip) = f.add_secret("rewritten/two.env");
    let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert_eq!(secrets(&again), set([&a, &b]));
    assert_eq!(again.summary().commits, 2);
    assert_eq!(again.summary().blobs_scanned, 2);
    assert_eq!(
        watermark_of(&*mem, "refs/heads/main").map(|w| w.tip.to_string()),
        Some(tip)
    );
}

#[test]
fn force_push_to_a_new_commit_of_seen_blobs_reports_nothing() {
    let f = Fixture::new("seenpush");
    let mem = memory();
    scan_ok(f.path(), opts(StoreRef(mem.clone())));
    let ancestor = f.repo.rev("HEAD~2");
    // A new commit (new id, not a descendant of the watermark) whose tree holds only seen blobs.
    let tree = f.repo.rev("HEAD^{tree}");
    let commit = f
        .repo
        .git(&["commit-tree", &tree, "-p", "HEAD~3", "-m", "squashed"]);
    f.repo.git(&["update-ref", "refs/heads/main", &commit]);
    let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert!(again.findings.is_empty(), "{:?}", again.findings);
    assert_eq!(again.summary().commits, 1);
    assert_eq!(again.summary().blobs_scanned, 0);
    assert_eq!(again.summary().outcome, Outcome::Complete);

    // Moving the ref back to the old history: the watermark moved to the squashed commit, so
    // the one old commit not reachable from it is walked again, but its blobs were all seen.
    f.repo.git(&["update-ref", "refs/heads/main", &ancestor]);
    let third = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert!(third.findings.is_empty());
    assert_eq!(third.summary().commits, 1);
    assert_eq!(third.summary().blobs_scanned, 0);
}

#[test]
fn force_push_after_gc_of_the_old_tip_rescans_nothing_already_seen() {
    let mut f = Fixture::new("gcpush");
    let mem = memory();
    scan_ok(f.path(), opts(StoreRef(mem.clone())));
    let old_tip = f.repo.rev("HEAD");
    f.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let (new, _) = f.add_secret("replacement.env");
    f.repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    f.repo.git(&["gc", "-q", "--prune=now"]);
    assert!(
        std::process::Command::new("git")
            .args(["cat-file", "-e", &old_tip])
            .current_dir(f.path())
            .status()
            .map(|s| !s.success())
            .unwrap(),
        "the old tip must be gone"
    );
    let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    // The stale watermark excludes nothing, so all 4 commits are walked; only the new blob is
    // unseen.
    assert_eq!(secrets(&again), set([&new]));
    assert_eq!(again.summary().commits, 4);
    assert_eq!(again.summary().blobs_scanned, 1);
}

// ---------------------------------------------------------------------------------------------
// 4. Deleted refs

#[test]
fn deleted_branch_loses_its_watermark_but_excluded_branch_keeps_it() {
    let mut f = Fixture::new("deleted");
    let mem = memory();
    f.repo.git(&["checkout", "-q", "-b", "topic"]);
    f.add_secret("topic.env");
    f.repo.git(&["checkout", "-q", "main"]);
    f.repo.git(&["branch", "keep", "HEAD~1"]);
    scan_ok(f.path(), opts(StoreRef(mem.clone())));
    let names = watermark_names(&*mem);
    assert!(names.contains(&"refs/heads/topic".to_owned()), "{names:?}");
    assert!(names.contains(&"refs/heads/keep".to_owned()), "{names:?}");

    f.repo.git(&["branch", "-q", "-D", "topic"]);
    let again = scan_ok(
        f.path(),
        ScanOptions {
            ref_exclude: vec!["refs/heads/keep".into()],
            ..opts(StoreRef(mem.clone()))
        },
    );
    assert_eq!(again.summary().outcome, Outcome::Complete);
    let names = watermark_names(&*mem);
    assert!(!names.contains(&"refs/heads/topic".to_owned()), "{names:?}");
    assert!(
        names.contains(&"refs/heads/keep".to_owned()),
        "a ref filtered out still exists: {names:?}"
    );
    assert!(names.contains(&"refs/heads/main".to_owned()), "{names:?}");
    // The deletion is kept as a tombstone.
    let snap = mem.snapshot(&scope());
    assert_eq!(snap.watermarks["refs/heads/topic"].1, None);
}

// ---------------------------------------------------------------------------------------------
// 5. Rules change

const NPM_ONLY: &str = r#"
title = "npm only"

[[rules]]
id = "npm-token"
description = "npm access token"
regex = '''(?-u)\b(npm_[A-Za-z0-9]{36})\b'''
keywords = ["npm_"]
entropy = 3.0
"#;

#[test]
fn different_rules_rescan_everything_under_their_own_scope() {
    let mut f = Fixture::new("rules");
    let mut rng = Rng::new(5);
    let npm = npm_token(&mut rng);
    f.repo.write(
        ".npmrc",
        format!("//registry.npmjs.org/:_authToken={npm}\n"),
    );
    f.repo.commit("npmrc");
    f.secrets.push(npm.clone());
    let mem = memory();
    let first = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert_eq!(secrets(&first), f.secrets.iter().cloned().collect());

    let (rules, _) = RuleSet::from_toml_str(NPM_ONLY, "npm-only.toml").unwrap();
    let npm_engine = Engine::new(&rules).unwrap();
    assert_ne!(npm_engine.rules_hash(), engine().rules_hash());
    let sink = CollectSink::default();
    let report =
        scangit_core::scan(f.path(), &opts(StoreRef(mem.clone())), &npm_engine, &sink).unwrap();
    let found: BTreeSet<String> = sink
        .findings
        .lock()
        .iter()
        .map(|x| x.secret.clone().unwrap())
        .collect();
    assert_eq!(found, set([&npm]));
    assert_eq!(report.summary.commits, 5, "every commit is walked again");
    assert_eq!(report.summary.blobs_already_seen, 0);
    let text_blobs = f.reachable_blobs().len() as u64 - 1; // logo.bin is binary
    assert_eq!(report.summary.blobs_scanned, text_blobs);
    let npm_scope = Scope::new(REPO_ID, npm_engine.rules_hash());
    assert_eq!(mem.findings(&npm_scope).len(), 1);
    assert_eq!(mem.findings(&scope()).len(), f.secrets.len());

    // The built-in scope is untouched: still nothing new for it.
    let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert!(again.findings.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 6. Partial, then complete

#[test]
fn partial_scan_writes_data_without_watermarks_and_next_scan_completes_the_gap() {
    let mut f = Fixture::new("partial");
    let mem = memory();
    scan_ok(f.path(), opts(StoreRef(mem.clone())));
    let old_tip = f.repo.rev("HEAD");

    // One commit with a big file holding a secret and a small one holding another.
    let big_secret = github_pat(&mut f.rng);
    let filler = "x = 1 # filler line of configuration\n".repeat(400);
    f.repo
        .write("big.cfg", format!("{filler}KEY={big_secret}\n{filler}"));
    let (small_secret, tip) = f.add_secret("small.env");

    let limited = ScanOptions {
        max_blob_bytes: 4096,
        ..opts(StoreRef(mem.clone()))
    };
    let partial = scan_ok(f.path(), limited);
    let s = partial.summary();
    assert_eq!(s.outcome, Outcome::Partial);
    assert!(
        s.skipped
            .iter()
            .any(|k| k.reason == SkipReason::TooLarge && k.count == 1),
        "{:?}",
        s.skipped
    );
    assert_eq!(secrets(&partial), set([&small_secret]));
    // Data written (the small secret is stored), watermark not advanced.
    assert_eq!(mem.findings(&scope()).len(), 4);
    assert_eq!(
        watermark_of(&*mem, "refs/heads/main").map(|w| w.tip.to_string()),
        Some(old_tip)
    );

    let complete = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    let s = complete.summary();
    assert_eq!(secrets(&complete), set([&big_secret]));
    assert_eq!(s.outcome, Outcome::Complete);
    assert_eq!(s.blobs_scanned, 1, "only the skipped blob is scanned");
    assert_eq!(s.commits, 1);
    assert_eq!(
        watermark_of(&*mem, "refs/heads/main").map(|w| w.tip.to_string()),
        Some(tip)
    );
    assert_eq!(mem.findings(&scope()).len(), 5);
}

#[test]
fn partial_first_scan_writes_no_watermarks_at_all() {
    let mut f = Fixture::new("partialfirst");
    let big_secret = github_pat(&mut f.rng);
    f.repo.write(
        "big.cfg",
        format!("{}KEY={big_secret}\n", "# padding\n".repeat(1000)),
    );
    f.repo.commit("big");
    let mem = memory();
    let partial = scan_ok(
        f.path(),
        ScanOptions {
            max_blob_bytes: 4096,
            ..opts(StoreRef(mem.clone()))
        },
    );
    assert_eq!(partial.summary().outcome, Outcome::Partial);
    assert_eq!(partial.findings.len(), 3);
    assert!(watermark_names(&*mem).is_empty());
    assert!(!mem.snapshot(&scope()).seen.is_empty());

    let complete = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert_eq!(secrets(&complete), set([&big_secret]));
    assert_eq!(
        complete.summary().commits,
        5,
        "no watermark: every commit is walked"
    );
    assert_eq!(complete.summary().blobs_scanned, 1);
    assert_eq!(
        watermark_names(&*mem),
        vec!["HEAD".to_owned(), "refs/heads/main".to_owned()]
    );
}

#[test]
fn since_and_range_scans_write_data_but_no_watermarks() {
    let f = Fixture::new("sincerange");
    let mem = memory();
    let since = scan_ok(
        f.path(),
        ScanOptions {
            since: Some("HEAD~1".into()),
            ..opts(StoreRef(mem.clone()))
        },
    );
    assert_eq!(secrets(&since), set([&f.secrets[2]]));
    assert!(watermark_names(&*mem).is_empty());
    let range = scan_ok(
        f.path(),
        ScanOptions {
            range: Some("HEAD~3..HEAD~1".into()),
            ..opts(StoreRef(mem.clone()))
        },
    );
    assert_eq!(secrets(&range), set([&f.secrets[0], &f.secrets[1]]));
    assert!(watermark_names(&*mem).is_empty());
    let full = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert!(full.findings.is_empty(), "every secret was already stored");
    assert_eq!(full.summary().commits, 4);
    assert!(!watermark_names(&*mem).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 7. Finalize does not depend on the thread count

/// Delegates to a [`MemoryStore`] and records every batch it commits.
#[derive(Default)]
struct Recording {
    inner: MemoryStore,
    batches: Mutex<Vec<FinalizeOutput>>,
}

impl PersistenceStore for Recording {
    fn begin_scan(&self, scope: &Scope) -> Result<u64, StoreError> {
        self.inner.begin_scan(scope)
    }
    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError> {
        self.inner.load_watermarks(scope)
    }
    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError> {
        self.inner.seen_blobs(scope, ids)
    }
    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
        self.batches.lock().unwrap().push(output.clone());
        self.inner.commit(scope, output)
    }
}

/// A repository with many blobs over several branches, a duplicate blob under two paths,
/// several rules' secrets and an annotated tag.
fn busy_repo(tmp: &TempDir) -> GitRepo {
    let repo = GitRepo::init(&tmp.path().join("busy"));
    let mut rng = Rng::new(42);
    let makers: [fn(&mut Rng) -> String; 5] = [
        github_pat,
        aws_key_id,
        npm_token,
        slack_bot_token,
        stripe_key,
    ];
    for c in 0..12 {
        if c == 6 {
            repo.git(&["checkout", "-q", "-b", "side"]);
        }
        if c == 9 {
            repo.git(&["checkout", "-q", "main"]);
        }
        for i in 0..4 {
            let secret = makers[rng.below(makers.len())](&mut rng);
            let filler = rng.pick(b"abcdefghij \n", 300);
            let body = format!("{filler}\nkey_{i} = \"{secret}\"\n{filler}\n");
            repo.write(&format!("dir{c}/file{i}.txt"), &body);
            if i == 0 {
                repo.write(&format!("copies/c{c}.txt"), &body);
            }
        }
        repo.commit(&format!("commit {c}"));
    }
    repo.git(&["merge", "-q", "--no-edit", "side"]);
    repo.git(&["tag", "-a", "-m", "release", "v1", "HEAD~2"]);
    repo
}

#[test]
fn finalize_batches_are_identical_for_1_2_and_8_threads() {
    let mut runs: Vec<(usize, String, Vec<FinalizeOutput>)> = Vec::new();
    for threads in [1, 2, 8] {
        // A fresh repository per run: same content, same clock, hence the same commit ids.
        let tmp = temp_dir("threads");
        let repo = busy_repo(&tmp);
        let rec = Arc::new(Recording::default());
        let o = ScanOptions {
            threads,
            ..opts(StoreRef(rec.clone()))
        };
        let first = scan_ok(&repo.dir, o.clone());
        assert!(first.findings.len() >= 40, "{}", first.findings.len());
        // An incremental batch too: one more commit on a new branch.
        repo.git(&["checkout", "-q", "-b", "more", "side"]);
        let mut rng = Rng::new(7);
        repo.write("more.txt", format!("token={}\n", github_pat(&mut rng)));
        let tip = repo.commit("more");
        let second = scan_ok(&repo.dir, o);
        assert_eq!(second.findings.len(), 1);
        let batches = rec.batches.lock().unwrap().clone();
        assert_eq!(batches.len(), 2);
        runs.push((threads, tip, batches));
    }
    let (_, reference_tip, reference) = &runs[0];
    assert!(!reference[0].watermark_ops.is_empty());
    assert!(!reference[1].watermark_ops.is_empty());
    for (threads, tip, batches) in &runs[1..] {
        assert_eq!(tip, reference_tip, "the repositories must be identical");
        for (i, (a, b)) in reference.iter().zip(batches).enumerate() {
            assert_eq!(a.outcome, b.outcome, "batch {i}, {threads} threads");
            assert!(
                a.data_ops == b.data_ops,
                "data ops of batch {i} differ with {threads} threads"
            );
            assert!(
                a.watermark_ops == b.watermark_ops,
                "watermark ops of batch {i} differ with {threads} threads"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Failures and aborts leave the store as it was

/// A populated store and a repository with two unscanned commits holding secrets.
fn store_with_pending_work(name: &str) -> (Fixture, Arc<MemoryStore>) {
    let mut f = Fixture::new(name);
    let mem = memory();
    scan_ok(f.path(), opts(StoreRef(mem.clone())));
    f.add_secret("pending/one.env");
    f.add_secret("pending/two.env");
    (f, mem)
}

#[test]
fn abort_token_from_the_sink_leaves_the_store_unchanged() {
    let (f, mem) = store_with_pending_work("aborttoken");
    let before = mem.snapshot(&scope());
    let token = AbortToken::new();
    let o = ScanOptions {
        abort: Some(token.clone()),
        threads: 1,
        ..opts(StoreRef(mem.clone()))
    };
    let sink = |e: Event<'_>| {
        if matches!(e, Event::Finding(_)) {
            token.abort();
        }
        SinkAction::Continue
    };
    let err = scangit_core::scan(f.path(), &o, engine(), &sink).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Aborted, "{err}");
    assert_eq!(mem.snapshot(&scope()), before);
    // Nothing was lost: the next scan finds both pending secrets.
    let next = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert_eq!(next.findings.len(), 2);
}

#[test]
fn sink_stop_leaves_the_store_unchanged() {
    let (f, mem) = store_with_pending_work("sinkstop");
    let before = mem.snapshot(&scope());
    let sink = |e: Event<'_>| {
        if matches!(e, Event::Finding(_)) {
            SinkAction::Stop
        } else {
            SinkAction::Continue
        }
    };
    let err =
        scangit_core::scan(f.path(), &opts(StoreRef(mem.clone())), engine(), &sink).unwrap_err();
    assert!(
        matches!(err, ScanError::Aborted { .. }),
        "expected an abort, got {err}"
    );
    assert_eq!(mem.snapshot(&scope()), before);
}

#[test]
fn failing_commit_returns_a_store_error_and_leaves_the_store_unchanged() {
    let (f, mem) = store_with_pending_work("failcommit");
    let before = mem.snapshot(&scope());
    let failing = Arc::new(FailingStore::new(mem.clone(), StoreMethod::Commit, 1));
    let Err(err) = try_scan(f.path(), &opts(StoreRef(failing.clone()))) else {
        panic!("a scan whose commit fails must fail");
    };
    assert_eq!(err.kind(), ErrorKind::Store, "{err}");
    assert_eq!(failing.calls(StoreMethod::Commit), 1);
    assert_eq!(mem.snapshot(&scope()), before);
    let next = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert_eq!(next.findings.len(), 2);
}

#[test]
fn failing_seen_blobs_or_load_watermarks_or_begin_scan_returns_a_store_error() {
    let (f, mem) = store_with_pending_work("failreads");
    let before = mem.snapshot(&scope());
    for method in [
        StoreMethod::BeginScan,
        StoreMethod::LoadWatermarks,
        StoreMethod::SeenBlobs,
    ] {
        let failing = Arc::new(FailingStore::new(mem.clone(), method, 1));
        let sink = CollectSink::default();
        let err = scangit_core::scan(f.path(), &opts(StoreRef(failing.clone())), engine(), &sink)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Store, "{method:?}: {err}");
        assert_eq!(failing.calls(StoreMethod::Commit), 0, "{method:?}");
        assert!(sink.summaries.lock().is_empty(), "{method:?}");
        assert_eq!(mem.snapshot(&scope()), before, "{method:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 9. SQLite end to end

#[test]
fn sqlite_store_rescans_incrementally_and_findings_read_with_plain_sql() {
    let f = Fixture::new("sqlite");
    let db = f._tmp.path().join("scangit.db");
    let first = scan_ok(
        f.path(),
        opts(StoreRef::new(SqliteStore::open(&db).unwrap())),
    );
    assert_eq!(first.findings.len(), 3);
    // A fresh connection to the same file (as a later process would open it).
    let again = scan_ok(
        f.path(),
        opts(StoreRef::new(SqliteStore::open(&db).unwrap())),
    );
    assert!(again.findings.is_empty());
    assert_eq!(again.summary().commits, 0);
    assert_eq!(again.summary().blobs_scanned, 0);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT rule_id, commit_id, path, line, blob_id, fingerprint, secret, repo_id \
             FROM findings ORDER BY path",
        )
        .unwrap();
    type Row = (
        String,
        String,
        String,
        i64,
        String,
        String,
        Option<String>,
        String,
    );
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut expected: Vec<Row> = first
        .findings
        .iter()
        .map(|x| {
            (
                x.rule_id.clone(),
                x.commit.unwrap().to_string(),
                String::from_utf8(x.path.clone().unwrap()).unwrap(),
                x.line as i64,
                x.blob.to_string(),
                x.fingerprint.clone(),
                None,
                REPO_ID.to_owned(),
            )
        })
        .collect();
    expected.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(rows, expected);
}

#[test]
fn sqlite_store_keeps_secrets_only_when_asked() {
    let f = Fixture::new("sqlitesecrets");
    let db = f._tmp.path().join("kept.db");
    scan_ok(
        f.path(),
        ScanOptions {
            keep_secrets: true,
            ..opts(StoreRef::new(SqliteStore::open(&db).unwrap()))
        },
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let kept: BTreeSet<String> = conn
        .prepare("SELECT secret FROM findings")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kept, f.secrets.iter().cloned().collect());
}

// ---------------------------------------------------------------------------------------------
// all_objects with a store

#[test]
fn rescan_with_all_objects_scans_nothing_already_seen() {
    let f = Fixture::new("allobjects");
    let mut rng = Rng::new(11);
    let dangling_secret = npm_token(&mut rng);
    let file = f._tmp.path().join("dangling.txt");
    std::fs::write(&file, format!("token={dangling_secret}\n")).unwrap();
    f.repo.git(&["hash-object", "-w", file.to_str().unwrap()]);
    let mem = memory();
    let all = |mem: &Arc<MemoryStore>| ScanOptions {
        all_objects: true,
        ..opts(StoreRef(mem.clone()))
    };
    let first = scan_ok(f.path(), all(&mem));
    let mut expected: BTreeSet<String> = f.secrets.iter().cloned().collect();
    expected.insert(dangling_secret);
    assert_eq!(secrets(&first), expected);
    // Reachable secrets keep their commit.
    assert!(first.findings.iter().filter(|x| x.commit.is_some()).count() == 3);

    let again = scan_ok(f.path(), all(&mem));
    assert!(
        again.findings.is_empty(),
        "re-scan reported {:?}",
        again
            .findings
            .iter()
            .map(|x| (x.blob.to_string(), x.commit))
            .collect::<Vec<_>>()
    );
    assert_eq!(again.summary().blobs_scanned, 0);
    // Stored contexts keep the introducing commit of reachable blobs (messages, recorded under
    // their commit's id with no path, are not blobs).
    let with_commit = mem
        .blob_contexts(&scope())
        .iter()
        .filter(|(_, c)| c.commit.is_some() && !c.path.is_empty())
        .count();
    assert_eq!(with_commit, f.reachable_blobs().len());
}

// ---------------------------------------------------------------------------------------------
// Overlapping scans, refs to trees, default repo id

/// Delegates to a shared [`MemoryStore`]; runs `hook` once, inside the first `commit`, before
/// passing the batch on (so another scan can start and finish while this one is finalizing).
struct Interleaving {
    inner: Arc<MemoryStore>,
    hook: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl PersistenceStore for Interleaving {
    fn begin_scan(&self, scope: &Scope) -> Result<u64, StoreError> {
        self.inner.begin_scan(scope)
    }
    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError> {
        self.inner.load_watermarks(scope)
    }
    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError> {
        self.inner.seen_blobs(scope, ids)
    }
    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
        let hook = self.hook.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
        self.inner.commit(scope, output)
    }
}

#[test]
fn older_scan_finishing_last_does_not_move_the_watermark_back() {
    let mut f = Fixture::new("overlap");
    let mem = memory();
    let late_secret = github_pat(&mut f.rng);
    let path = f.path().to_owned();
    let newer_tip = Arc::new(Mutex::new(String::new()));
    let hook = {
        let (mem, newer_tip) = (mem.clone(), newer_tip.clone());
        let late_secret = late_secret.clone();
        move || {
            let repo = GitRepo::at(&path);
            repo.write("late.env", format!("TOKEN={late_secret}\n"));
            *newer_tip.lock().unwrap() = repo.commit("late");
            let newer = scan_ok(&path, opts(StoreRef(mem.clone())));
            assert!(newer.secrets().contains(&late_secret));
        }
    };
    let older = Interleaving {
        inner: mem.clone(),
        hook: Mutex::new(Some(Box::new(hook))),
    };
    let old_tip = f.repo.rev("HEAD");
    let first = scan_ok(f.path(), opts(StoreRef::new(older)));
    assert_eq!(first.findings.len(), 3);
    let newer_tip = newer_tip.lock().unwrap().clone();
    assert_ne!(newer_tip, old_tip);
    let wm = watermark_of(&*mem, "refs/heads/main").unwrap();
    assert_eq!(
        wm.tip.to_string(),
        newer_tip,
        "the newer scan's watermark must win"
    );
    assert_eq!(wm.scan_seq, 2);
    let next = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert!(next.findings.is_empty());
    assert_eq!(next.summary().commits, 0);
}

#[test]
fn tag_on_a_tree_is_rescanned_only_when_unseen() {
    let f = Fixture::new("treetag");
    let mut rng = Rng::new(23);
    let secret = stripe_key(&mut rng);
    let file = f._tmp.path().join("stripe.txt");
    std::fs::write(&file, format!("STRIPE_KEY={secret}\n")).unwrap();
    let blob = f.repo.git(&["hash-object", "-w", file.to_str().unwrap()]);
    let listing = f._tmp.path().join("tree-listing");
    std::fs::write(&listing, format!("100644 blob {blob}\tstripe.txt\n")).unwrap();
    let tree = mktree(&f.repo, &listing);
    f.repo.git(&["tag", "treetag", &tree]);
    let mem = memory();
    let first = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    let tagged = first.with_secret(&secret);
    assert_eq!(tagged.len(), 1);
    assert_eq!(tagged[0].commit, None);
    assert_eq!(first.summary().outcome, Outcome::Complete);
    let again = scan_ok(f.path(), opts(StoreRef(mem.clone())));
    assert!(again.findings.is_empty(), "{:?}", again.findings);
    assert_eq!(again.summary().blobs_scanned, 0);
}

#[test]
fn default_repo_id_is_the_same_for_the_work_tree_and_its_git_dir() {
    let f = Fixture::new("defaultid");
    let mem = memory();
    let no_id = |mem: &Arc<MemoryStore>| ScanOptions {
        repo_id: None,
        ..opts(StoreRef(mem.clone()))
    };
    let first = scan_ok(f.path(), no_id(&mem));
    assert_eq!(first.findings.len(), 3);
    let again = scan_ok(&f.path().join(".git"), no_id(&mem));
    assert!(again.findings.is_empty());
    assert_eq!(again.summary().commits, 0);
    // Nothing was written under the fixed id the other tests use.
    assert!(mem.findings(&scope()).is_empty());
}
