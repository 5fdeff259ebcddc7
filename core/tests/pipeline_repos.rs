//! Repository forms and attribution through the public Rust API, on real repositories built with
//! the git CLI: work tree, linked worktree (`.git` file), alternates (`clone --shared`), annotated
//! tags, detached HEAD, `refs/pull/*` refs, ref include/exclude globs, multi-pack-index; and which
//! commit and path a blob is attributed to.

mod pipeline_support;

use std::collections::BTreeSet;

use pipeline_support::*;
use scangit_core::ScanOptions;
use scangit_core::events::Outcome;

/// A config file holding `secret`.
fn config(secret: &str) -> String {
    format!("# service settings\nendpoint = \"https://api.example.com\"\nkey = \"{secret}\"\n")
}

fn set(items: &[&String]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).clone()).collect()
}

/// Exactly these secrets, each with the rule its shape belongs to, and a complete outcome.
fn assert_secrets(got: &Scanned, want: &[&String], what: &str) {
    assert_eq!(got.secrets(), set(want), "{what}: secrets found");
    for f in &got.findings {
        let s = f.secret.as_deref().unwrap();
        assert_eq!(f.rule_id, rule_of(s), "{what}: rule of {s}");
    }
    assert_eq!(got.summary().outcome, Outcome::Complete, "{what}");
}

/// The single commit and path the finding(s) of `secret` are attributed to.
fn attribution(got: &Scanned, secret: &str) -> (String, String) {
    let hits = got.with_secret(secret);
    assert!(!hits.is_empty(), "{secret} not found");
    let at: BTreeSet<(String, String)> = hits
        .iter()
        .map(|f| {
            (
                f.commit.map(|c| c.to_string()).unwrap_or_default(),
                String::from_utf8_lossy(f.path.as_deref().unwrap_or_default()).into_owned(),
            )
        })
        .collect();
    assert_eq!(at.len(), 1, "one attribution for {secret}: {at:?}");
    at.into_iter().next().unwrap()
}

#[test]
fn work_tree_repository_history_including_deleted_files() {
    let tmp = temp_dir("worktree-repo");
    let repo = GitRepo::init(&tmp.path().join("w"));
    let mut rng = Rng::new(1);
    let (a, b) = (github_pat(&mut rng), aws_key_id(&mut rng));
    repo.write("app/settings.py", config(&a));
    let c1 = repo.commit("settings");
    repo.write("deploy/aws.env", config(&b));
    let c2 = repo.commit("aws");
    std::fs::remove_file(repo.dir.join("deploy/aws.env")).unwrap();
    repo.commit("remove the key");
    // Through the work tree and through its .git directory alike.
    for path in [repo.dir.clone(), repo.dir.join(".git")] {
        let got = scan_ok(&path, reveal());
        assert_secrets(&got, &[&a, &b], "work tree repo");
        assert_eq!(
            attribution(&got, &a),
            (c1.clone(), "app/settings.py".into())
        );
        assert_eq!(attribution(&got, &b), (c2.clone(), "deploy/aws.env".into()));
    }
}

#[test]
fn linked_worktree_is_scanned_through_its_git_file() {
    let tmp = temp_dir("linked");
    let repo = GitRepo::init(&tmp.path().join("main"));
    let mut rng = Rng::new(2);
    let (a, b, c) = (
        github_pat(&mut rng),
        npm_token(&mut rng),
        slack_bot_token(&mut rng),
    );
    repo.write("a.cfg", config(&a));
    repo.commit("a");
    let wt_path = tmp.path().join("linked-wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "wt-branch",
        wt_path.to_str().unwrap(),
    ]);
    assert!(
        wt_path.join(".git").is_file(),
        "a linked worktree has a .git file"
    );
    let wt = GitRepo::at(&wt_path);
    wt.write("b.cfg", config(&b));
    let cb = wt.commit("b in the worktree branch");
    // A commit only the worktree's own (detached) HEAD reaches.
    wt.git(&["checkout", "-q", "--detach"]);
    wt.write("c.cfg", config(&c));
    let cc = wt.commit("c on the worktree's detached HEAD");
    let got = scan_ok(&wt_path, reveal());
    assert_secrets(&got, &[&a, &b, &c], "linked worktree");
    assert_eq!(attribution(&got, &b), (cb, "b.cfg".into()));
    assert_eq!(attribution(&got, &c), (cc, "c.cfg".into()));
}

#[test]
fn alternates_from_a_shared_clone() {
    let tmp = temp_dir("alternates");
    let src = GitRepo::init(&tmp.path().join("src"));
    let mut rng = Rng::new(3);
    let (a, b, c) = (
        github_pat(&mut rng),
        stripe_key(&mut rng),
        aws_key_id(&mut rng),
    );
    src.write("one.cfg", config(&a));
    let ca = src.commit("one");
    src.git(&["gc", "-q"]);
    src.write("two.cfg", config(&b));
    src.commit("two (loose objects in the source)");
    let dst_path = tmp.path().join("dst");
    src.git(&[
        "clone",
        "-q",
        "--shared",
        src.dir.to_str().unwrap(),
        dst_path.to_str().unwrap(),
    ]);
    assert!(
        dst_path.join(".git/objects/info/alternates").is_file(),
        "clone --shared writes alternates"
    );
    let dst = GitRepo::at(&dst_path);
    dst.write("three.cfg", config(&c));
    let cc = dst.commit("three, only in the clone");
    let got = scan_ok(&dst_path, reveal());
    assert_secrets(&got, &[&a, &b, &c], "shared clone");
    assert_eq!(attribution(&got, &a), (ca, "one.cfg".into()));
    assert_eq!(attribution(&got, &c), (cc, "three.cfg".into()));
}

#[test]
fn secret_only_reachable_through_an_annotated_tag() {
    let tmp = temp_dir("tag");
    let repo = GitRepo::init(&tmp.path().join("t"));
    let mut rng = Rng::new(4);
    let (a, b) = (github_pat(&mut rng), npm_token(&mut rng));
    repo.write("README", "hello\n");
    repo.commit("init");
    repo.git(&["checkout", "-q", "-b", "release"]);
    repo.write("release.cfg", config(&a));
    let tagged = repo.commit("release config");
    repo.git(&["tag", "-a", "v1.0", "-m", "release 1.0"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "release"]);
    // A tag of a tag, pointing at another otherwise unreachable commit.
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("nested.cfg", config(&b));
    let nested = repo.commit("nested");
    repo.git(&["tag", "-a", "inner", "-m", "inner"]);
    repo.git(&["tag", "-a", "outer", "-m", "outer", "inner"]);
    repo.git(&["tag", "-d", "inner"]);
    repo.git(&["checkout", "-q", "main"]);
    assert_eq!(repo.git(&["cat-file", "-t", "v1.0"]), "tag");
    assert_eq!(repo.git(&["branch", "--contains", &tagged]), "");
    let got = scan_ok(&repo.dir, reveal());
    assert_secrets(&got, &[&a, &b], "annotated tags");
    assert_eq!(attribution(&got, &a), (tagged, "release.cfg".into()));
    assert_eq!(attribution(&got, &b), (nested, "nested.cfg".into()));
}

#[test]
fn detached_head_commit_is_scanned() {
    let tmp = temp_dir("detached");
    let repo = GitRepo::init(&tmp.path().join("d"));
    let mut rng = Rng::new(5);
    let (a, b) = (aws_key_id(&mut rng), github_pat(&mut rng));
    repo.write("base.cfg", config(&a));
    repo.commit("base");
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("detached.cfg", config(&b));
    let cd = repo.commit("only HEAD reaches this");
    assert_eq!(
        repo.git(&["for-each-ref", "--contains", &cd]),
        "",
        "no ref but HEAD reaches the commit"
    );
    let got = scan_ok(&repo.dir, reveal());
    assert_secrets(&got, &[&a, &b], "detached HEAD");
    assert_eq!(attribution(&got, &b), (cd, "detached.cfg".into()));
}

/// main (A) ← feature (B); tag v1 (annotated) on a side commit (C); refs/pull/1/head on another
/// side commit (D); HEAD → main.
struct RefsRepo {
    _tmp: TempDir,
    repo: GitRepo,
    a: String,
    b: String,
    c: String,
    d: String,
    pull_commit: String,
}

fn refs_repo() -> RefsRepo {
    let tmp = temp_dir("refs");
    let repo = GitRepo::init(&tmp.path().join("r"));
    let mut rng = Rng::new(6);
    let (a, b, c, d) = (
        github_pat(&mut rng),
        npm_token(&mut rng),
        slack_bot_token(&mut rng),
        stripe_key(&mut rng),
    );
    repo.write("main.cfg", config(&a));
    repo.commit("main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.cfg", config(&b));
    repo.commit("feature");
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.write("tagged.cfg", config(&c));
    repo.commit("tagged");
    repo.git(&["tag", "-a", "v1", "-m", "v1"]);
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.write("pull.cfg", config(&d));
    let pull_commit = repo.commit("pull request");
    repo.git(&["update-ref", "refs/pull/1/head", &pull_commit]);
    repo.git(&["checkout", "-q", "main"]);
    RefsRepo {
        _tmp: tmp,
        repo,
        a,
        b,
        c,
        d,
        pull_commit,
    }
}

#[test]
fn pull_request_refs_are_scanned() {
    let r = refs_repo();
    let got = scan_ok(&r.repo.dir, reveal());
    assert_secrets(&got, &[&r.a, &r.b, &r.c, &r.d], "all refs");
    assert_eq!(
        attribution(&got, &r.d),
        (r.pull_commit.clone(), "pull.cfg".into())
    );
}

#[test]
fn ref_include_and_exclude_globs_select_history() {
    let r = refs_repo();
    let with = |include: &[&str], exclude: &[&str]| {
        scan_ok(
            &r.repo.dir,
            ScanOptions {
                ref_include: include.iter().map(|s| s.to_string()).collect(),
                ref_exclude: exclude.iter().map(|s| s.to_string()).collect(),
                ..reveal()
            },
        )
    };
    let cases: [(&[&str], &[&str], Vec<&String>); 7] = [
        (&["refs/heads/main"], &[], vec![&r.a]),
        (&["refs/heads/*"], &[], vec![&r.a, &r.b]),
        (&["refs/tags/v*"], &[], vec![&r.a, &r.c]),
        (&["refs/pull/*"], &[], vec![&r.a, &r.d]),
        (&[], &["refs/pull/*"], vec![&r.a, &r.b, &r.c]),
        (&["refs/heads/*"], &["refs/heads/feature"], vec![&r.a]),
        (&["HEAD"], &[], vec![&r.a]),
    ];
    for (include, exclude, want) in cases {
        let got = with(include, exclude);
        assert_secrets(
            &got,
            &want,
            &format!("include {include:?} exclude {exclude:?}"),
        );
    }
}

#[test]
fn multi_pack_index_repository() {
    let tmp = temp_dir("midx");
    let repo = GitRepo::init(&tmp.path().join("m"));
    let mut rng = Rng::new(7);
    let secrets: Vec<String> = (0..3)
        .map(|i| match i {
            0 => github_pat(&mut rng),
            1 => aws_key_id(&mut rng),
            _ => npm_token(&mut rng),
        })
        .collect();
    for (i, s) in secrets.iter().enumerate() {
        repo.write(&format!("part{i}.cfg"), config(s));
        // Each step also edits a shared file, so later packs hold deltas against earlier ones
        // only if the packer chooses; every pack is self-contained either way.
        repo.write("shared.txt", format!("step {i}\n").repeat(50 + i));
        repo.commit(&format!("part {i}"));
        repo.git(&["repack", "-q", "-d"]);
    }
    repo.git(&["multi-pack-index", "write"]);
    let pack_dir = repo.dir.join(".git/objects/pack");
    assert!(pack_dir.join("multi-pack-index").is_file());
    let packs = std::fs::read_dir(&pack_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".pack")
        })
        .count();
    assert_eq!(packs, 3, "three packs under one multi-pack-index");
    let got = scan_ok(&repo.dir, reveal());
    let want: Vec<&String> = secrets.iter().collect();
    assert_secrets(&got, &want, "multi-pack-index");
}

#[test]
fn duplicate_content_in_one_commit_is_attributed_to_the_first_path() {
    let tmp = temp_dir("attr-dup");
    let repo = GitRepo::init(&tmp.path().join("r"));
    let mut rng = Rng::new(8);
    let a = github_pat(&mut rng);
    repo.write("README", "start\n");
    repo.commit("init");
    repo.write("b/x", config(&a));
    repo.write("a/x", config(&a));
    let ca = repo.commit("A: the same file twice");
    // Later copies at paths that sort first do not move the attribution.
    repo.write("0/x", config(&a));
    repo.commit("B: a third copy");
    let got = scan_ok(&repo.dir, reveal());
    assert_secrets(&got, &[&a], "duplicate content");
    assert_eq!(got.findings.len(), 1, "one blob, scanned once");
    assert_eq!(attribution(&got, &a), (ca, "a/x".into()));
}

#[test]
fn renamed_file_keeps_its_original_commit_and_path() {
    let tmp = temp_dir("attr-rename");
    let repo = GitRepo::init(&tmp.path().join("r"));
    let mut rng = Rng::new(9);
    let a = slack_bot_token(&mut rng);
    repo.write("old/name.cfg", config(&a));
    let ca = repo.commit("A: add");
    std::fs::create_dir_all(repo.dir.join("new")).unwrap();
    repo.git(&["mv", "old/name.cfg", "new/name.cfg"]);
    repo.commit("B: rename");
    repo.git(&["mv", "new/name.cfg", "a-first.cfg"]);
    repo.commit("C: rename again");
    let got = scan_ok(&repo.dir, reveal());
    assert_secrets(&got, &[&a], "renamed");
    assert_eq!(attribution(&got, &a), (ca, "old/name.cfg".into()));
}

/// A blob no ref reaches (written with `hash-object -w`, then packed) is skipped by default and
/// scanned, with no commit or path, when `all_objects` asks for it.
#[test]
fn unreachable_blobs_only_with_all_objects() {
    let tmp = temp_dir("unreachable");
    let repo = GitRepo::init(&tmp.path().join("u"));
    let mut rng = Rng::new(9);
    let (reachable, dangling) = (github_pat(&mut rng), npm_token(&mut rng));
    repo.write("app.cfg", config(&reachable));
    repo.commit("reachable");
    let loose = tmp.path().join("dangling.cfg");
    std::fs::write(&loose, config(&dangling)).unwrap();
    let id = repo.git(&["hash-object", "-w", loose.to_str().unwrap()]);
    // One copy loose, and (after repack -a without pruning) one in a pack.
    repo.git(&["repack", "-a", "-q"]);

    let default = scan_ok(&repo.dir, reveal());
    assert_secrets(
        &default,
        &[&reachable],
        "unreachable blob skipped by default",
    );

    let all = scan_ok(
        &repo.dir,
        ScanOptions {
            all_objects: true,
            ..reveal()
        },
    );
    assert_secrets(&all, &[&reachable, &dangling], "all_objects scans it");
    let f = all.with_secret(&dangling);
    assert_eq!(f.len(), 1, "scanned once although stored twice");
    assert_eq!(f[0].blob.to_string(), id);
    assert_eq!((f[0].commit, f[0].path.clone()), (None, None));
}

#[test]
fn rule_paths_and_allowlist_paths_commits_and_and_conditions_apply_to_the_attribution() {
    let tmp = temp_dir("locations");
    let repo = GitRepo::init(&tmp.path().join("r"));
    // Distinct digit strings that look random (no placeholder shapes).
    let digits = |n: u32| Rng::new(u64::from(n) * 31 + 7).pick(b"0123456789", 16);
    let tok = |n: u32| format!("tok_{}", digits(n));
    let env = |n: u32| format!("env_{}", digits(n));
    repo.write("src/a.txt", format!("key = {}\n", tok(1)));
    repo.write("vendor/b.txt", format!("key = {}\n", tok(2)));
    repo.write("docs/c.md", format!("a sample: {}\n", tok(3)));
    repo.write("docs/d.md", format!("key = {}\n", tok(4)));
    repo.write("x.env", format!("E={}\n", env(5)));
    repo.write("x.txt", format!("E={}\n", env(6)));
    repo.commit("first");
    repo.write("src/e.txt", format!("key = {}\n", tok(7)));
    let allowed_commit = repo.commit("second");
    let rules = tmp.path().join("rules.toml");
    std::fs::write(
        &rules,
        format!(
            r#"
[[rules]]
id = "tok"
description = "test token"
regex = '''tok_[0-9]{{16}}'''
keywords = ["tok_"]
[[rules.allowlists]]
commits = ["{allowed_commit}"]
[[rules.allowlists]]
condition = "AND"
paths = ['''^docs/''']
regexes = ['''sample''']
regexTarget = "line"

[[rules]]
id = "envtok"
description = "env-only token"
regex = '''env_[0-9]{{16}}'''
keywords = ["env_"]
path = '''\.env$'''

[allowlist]
paths = ['''^vendor/''']
"#
        ),
    )
    .unwrap();
    let (set, _warnings) = scangit_core::rules::RuleSet::from_path(&rules).unwrap();
    let engine = scangit_core::Engine::new(&set).unwrap();
    assert!(engine.has_location_criteria());
    let sink = scangit_core::events::CollectSink::default();
    scangit_core::scan(&repo.dir, &reveal(), &engine, &sink).unwrap();
    let got: BTreeSet<(String, String)> = sink
        .findings
        .lock()
        .iter()
        .map(|f| {
            (
                String::from_utf8(f.path.clone().unwrap()).unwrap(),
                f.secret.clone().unwrap(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("src/a.txt", tok(1)),
        ("docs/d.md", tok(4)),
        ("x.env", env(5)),
    ]
    .into_iter()
    .map(|(p, s)| (p.to_owned(), s))
    .collect();
    assert_eq!(got, want);
}
