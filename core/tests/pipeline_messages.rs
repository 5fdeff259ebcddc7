//! Secrets in what history holds besides files: commit messages and annotated tag messages
//! (reported with no path, `location` naming where, offsets into the raw object as
//! `git cat-file` prints it), and git notes (blobs under `refs/notes/*`), in both modes and
//! incrementally.

mod pipeline_support;

use std::sync::Arc;

use pipeline_support::*;
use scangit_core::store::MemoryStore;
use scangit_core::{Finding, Location, ScanMode, ScanOptions, StoreRef};

struct Fixture {
    _tmp: TempDir,
    repo: GitRepo,
    /// (secret, commit whose message holds it)
    in_commit: (String, String),
    /// (secret, tag object id, tagged commit)
    in_tag: (String, String, String),
    /// (secret, commit the note is attached to)
    in_note: (String, String),
    /// A secret in a file, for contrast.
    in_file: String,
}

fn fixture(name: &str) -> Fixture {
    let tmp = temp_dir(name);
    let repo = GitRepo::init(&tmp.path().join("r"));
    let mut rng = Rng::new(7);
    let in_file = npm_token(&mut rng);
    repo.write("app.cfg", format!("registry_token = {in_file}\n"));
    let commit_secret = github_pat(&mut rng);
    let c1 = repo.commit(&format!(
        "Add the deploy config\n\nUsed token {commit_secret} for the first push.\n"
    ));
    repo.write("README", "nothing here\n");
    let c2 = repo.commit("Docs");
    let tag_secret = slack_bot_token(&mut rng);
    let tag_message = format!("Release 1.0\n\nnotify with {tag_secret}\n");
    repo.git(&["tag", "-a", "v1.0", "-m", &tag_message, &c2]);
    let tag = repo.rev("refs/tags/v1.0");
    let note_secret = stripe_key(&mut rng);
    repo.git(&[
        "notes",
        "add",
        "-m",
        &format!("billing key {note_secret}"),
        &c1,
    ]);
    Fixture {
        _tmp: tmp,
        repo,
        in_commit: (commit_secret, c1.clone()),
        in_tag: (tag_secret, tag, c2),
        in_note: (note_secret, c1),
        in_file,
    }
}

fn one<'a>(s: &'a Scanned, secret: &str) -> &'a Finding {
    let found = s.with_secret(secret);
    assert_eq!(found.len(), 1, "{secret}: {:?}", s.findings);
    found[0]
}

/// The raw object as `git cat-file -p` prints it (for commits and tags: the object itself).
fn raw(repo: &GitRepo, kind: &str, id: &str) -> String {
    repo.git_raw(&["cat-file", kind, id], &[], None) + "\n"
}

fn check(f: &Fixture, s: &Scanned, mode: ScanMode) {
    let (secret, commit) = &f.in_commit;
    let c = one(s, secret);
    assert_eq!(c.location, Location::CommitMessage, "{mode:?}");
    assert_eq!(c.blob.to_string(), *commit);
    assert_eq!(
        c.commit.map(|x| x.to_string()).as_deref(),
        Some(commit.as_str())
    );
    assert_eq!(c.path, None);
    let object = raw(&f.repo, "commit", commit);
    assert_eq!(&object[c.start as usize..c.end as usize], secret);
    let line = object[..c.start as usize].matches('\n').count() as u64 + 1;
    assert_eq!(c.line, line);
    assert_eq!(c.rule_id, "github-pat");

    let (secret, tag, tagged) = &f.in_tag;
    let t = one(s, secret);
    assert_eq!(t.location, Location::TagMessage);
    assert_eq!(t.blob.to_string(), *tag);
    assert_eq!(
        t.commit.map(|x| x.to_string()).as_deref(),
        Some(tagged.as_str())
    );
    assert_eq!(t.path, None);
    let object = raw(&f.repo, "tag", tag);
    assert_eq!(&object[t.start as usize..t.end as usize], secret);

    let (secret, annotated) = &f.in_note;
    let n = one(s, secret);
    assert_eq!(n.location, Location::Blob);
    let path = String::from_utf8(n.path.clone().unwrap()).unwrap();
    assert_eq!(
        path.replace('/', ""),
        *annotated,
        "a note sits at its commit's id"
    );

    let file = one(s, &f.in_file);
    assert_eq!(file.location, Location::Blob);
    assert_eq!(file.path.as_deref(), Some(&b"app.cfg"[..]));
    assert_eq!(s.findings.len(), 4, "{:?}", s.findings);
    // Messages are not blobs in the summary; findings count them.
    assert_eq!(s.summary().findings, 4);
    // Blobs: app.cfg, README, the note.
    assert_eq!(s.summary().blobs_planned, 3);
    // Commit events: one per commit with a finding (c1: message and file; the tag's commit;
    // the notes commit).
    let mut with_events: Vec<String> = s.commits.iter().map(|m| m.commit.to_string()).collect();
    with_events.sort();
    with_events.dedup();
    assert_eq!(
        with_events.len(),
        s.commits.len(),
        "at most one event per commit"
    );
    assert!(with_events.contains(commit) && with_events.contains(tagged));
}

#[test]
fn commit_and_tag_messages_and_notes_are_scanned_in_both_modes() {
    let f = fixture("messages");
    for mode in [ScanMode::OdbBlob, ScanMode::DiffHistory] {
        let s = scan_ok(&f.repo.dir, ScanOptions { mode, ..reveal() });
        check(&f, &s, mode);
    }
}

#[test]
fn messages_are_scanned_once_incrementally() {
    let f = fixture("messages-incremental");
    let store = Arc::new(MemoryStore::new());
    let opts = || ScanOptions {
        store: Some(StoreRef(store.clone())),
        repo_id: Some("m".into()),
        ..reveal()
    };
    let first = scan_ok(&f.repo.dir, opts());
    check(&f, &first, ScanMode::OdbBlob);
    let again = scan_ok(&f.repo.dir, opts());
    assert!(again.findings.is_empty(), "{:?}", again.findings);

    let mut rng = Rng::new(99);
    let later = aws_key_id(&mut rng);
    let c3 = f.repo.commit(&format!("Rotate\n\nold id was {later}\n"));
    let tag_secret = github_pat(&mut rng);
    f.repo
        .git(&["tag", "-a", "v2.0", "-m", &format!("v2 {tag_secret}"), &c3]);
    let third = scan_ok(&f.repo.dir, opts());
    let got: Vec<(String, Location)> = third
        .findings
        .iter()
        .map(|x| (x.secret.clone().unwrap(), x.location))
        .collect();
    assert_eq!(
        got.len(),
        2,
        "only the new commit's and the new tag's messages: {got:?}"
    );
    assert!(got.contains(&(later, Location::CommitMessage)));
    assert!(got.contains(&(tag_secret, Location::TagMessage)));
}
