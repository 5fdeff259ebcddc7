//! Hostile repositories: objects and indexes that lie, built at test time from real repositories
//! and edited byte by byte. Each scan must end with a clear typed error or a `partial` outcome
//! naming what was skipped, never `complete` after leaving anything out.

mod pipeline_support;

use std::path::{Path, PathBuf};

use pipeline_support::{GitRepo, Rng, github_pat, reveal, scan_ok, temp_dir};
use scangit_core::Outcome;

/// The only `.idx` file of a repository's pack directory.
fn only_idx(git_dir: &Path) -> PathBuf {
    let packs = git_dir.join("objects/pack");
    let idx: Vec<PathBuf> = std::fs::read_dir(&packs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    assert_eq!(idx.len(), 1, "one pack in {}", packs.display());
    idx.into_iter().next().unwrap()
}

/// Offsets table position of object `id` in a version-2 `.idx` (small offsets only).
fn idx_offset_slot(idx: &[u8], id: &[u8; 20]) -> usize {
    assert_eq!(&idx[..8], b"\xfftOc\x00\x00\x00\x02", "a version-2 index");
    let n = u32::from_be_bytes(idx[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
    let ids = 8 + 256 * 4;
    let pos = (0..n)
        .find(|&i| &idx[ids + i * 20..ids + i * 20 + 20] == id)
        .expect("object in the index");
    ids + n * 20 + n * 4 + pos * 4
}

fn raw_id(hex: &str) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap();
    }
    out
}

#[test]
fn an_index_naming_two_blobs_at_one_pack_entry_makes_the_scan_partial() {
    let dir = temp_dir("idx-two-ids");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(7);
    let (a, b) = (github_pat(&mut rng), github_pat(&mut rng));
    repo.write("a.env", format!("GITHUB_TOKEN={a}\n"));
    repo.write("b.env", format!("GITHUB_TOKEN={b}\n"));
    repo.commit("two secrets");
    repo.git(&["repack", "-adq"]);
    let (blob_a, blob_b) = (repo.blob("HEAD", "a.env"), repo.blob("HEAD", "b.env"));

    // The index now says blob b lives where blob a does: b's bytes are hidden from a reader that
    // trusts the index, and one of the two planned blobs can never be decoded.
    let idx_path = only_idx(&repo.dir.join(".git"));
    let mut idx = std::fs::read(&idx_path).unwrap();
    let slot_a = idx_offset_slot(&idx, &raw_id(&blob_a));
    let slot_b = idx_offset_slot(&idx, &raw_id(&blob_b));
    let offset_a: [u8; 4] = idx[slot_a..slot_a + 4].try_into().unwrap();
    idx[slot_b..slot_b + 4].copy_from_slice(&offset_a);
    let mut perms = std::fs::metadata(&idx_path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&idx_path, perms).unwrap();
    std::fs::write(&idx_path, &idx).unwrap();

    let s = scan_ok(&repo.dir, reveal());
    let summary = s.summary();
    assert_eq!(summary.outcome, Outcome::Partial, "{summary:?}");
    let corrupt = summary
        .skipped
        .iter()
        .find(|c| c.reason.as_str() == "corrupt")
        .expect("a corrupt skip");
    assert_eq!(corrupt.count, 1, "{summary:?}");
    // The entry belongs to the id whose recorded CRC32 matches its bytes; the other id is
    // skipped, naming the lie.
    assert!(
        corrupt.examples[0].contains(".idx also names"),
        "{summary:?}"
    );
    assert!(corrupt.examples[0].contains(&blob_b), "{summary:?}");
    // What could be read is still reported, under the id whose bytes it is.
    assert_eq!(s.secrets().len(), 1, "{:?}", s.secrets());
    assert!(s.secrets().contains(&a), "{:?}", s.secrets());
}

/// A repository with one commit holding `file` at a path `depth` directories deep.
fn deep_tree_repo(dir: &Path, depth: usize, content: &str) -> PathBuf {
    let repo = GitRepo::init(&dir.join("r"));
    let path = format!("{}secret.env", "d/".repeat(depth));
    let stream = format!(
        "commit refs/heads/main\ncommitter A <a@example.com> 1700000000 +0000\ndata 4\ndeep\nM 100644 inline {path}\ndata {}\n{content}\n",
        content.len()
    );
    let input = dir.join("deep.fi");
    std::fs::write(&input, stream).unwrap();
    repo.git_raw(&["fast-import", "--quiet"], &[], Some(&input));
    repo.dir.clone()
}

#[test]
fn trees_nested_thousands_deep_are_walked_without_exhausting_the_stack() {
    let dir = temp_dir("deep-tree");
    let mut rng = Rng::new(11);
    let secret = github_pat(&mut rng);
    let repo = deep_tree_repo(dir.path(), 3500, &format!("GITHUB_TOKEN={secret}"));
    let s = scan_ok(&repo, reveal());
    assert_eq!(s.summary().outcome, Outcome::Complete, "{:?}", s.summary());
    assert_eq!(s.secrets().into_iter().collect::<Vec<_>>(), vec![secret]);
}

#[test]
fn trees_nested_past_the_limit_make_the_scan_partial() {
    let dir = temp_dir("too-deep-tree");
    let mut rng = Rng::new(12);
    let secret = github_pat(&mut rng);
    let repo = deep_tree_repo(dir.path(), 4200, &format!("GITHUB_TOKEN={secret}"));
    let s = scan_ok(&repo, reveal());
    let summary = s.summary();
    assert_eq!(summary.outcome, Outcome::Partial, "{summary:?}");
    let corrupt = summary
        .skipped
        .iter()
        .find(|c| c.reason.as_str() == "corrupt")
        .expect("a corrupt skip");
    assert!(corrupt.examples[0].contains("deeper than"), "{summary:?}");
}

#[test]
fn a_git_bomb_of_repeated_subtrees_walks_each_distinct_tree_once() {
    // 10 levels of 10 entries all naming the same subtree: 10^10 paths, 11 distinct trees.
    let dir = temp_dir("git-bomb");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(13);
    let secret = github_pat(&mut rng);
    repo.write("seed.env", format!("GITHUB_TOKEN={secret}\n"));
    let mut id = repo.git(&["hash-object", "-w", "seed.env"]);
    let mut mode_kind = "100644 blob";
    let listing = dir.path().join("tree.txt");
    for _ in 0..10 {
        let tree: String = (0..10)
            .map(|d| format!("{mode_kind} {id}\td{d}\n"))
            .collect();
        std::fs::write(&listing, tree).unwrap();
        id = repo.git_raw(&["mktree"], &[], Some(&listing));
        mode_kind = "040000 tree";
    }
    let root = id;
    let commit = repo.git(&["commit-tree", &root, "-m", "bomb"]);
    repo.git(&["update-ref", "refs/heads/main", &commit]);
    let s = scan_ok(&repo.dir, reveal());
    assert_eq!(s.summary().outcome, Outcome::Complete, "{:?}", s.summary());
    let found = s.with_secret(&secret);
    assert_eq!(found.len(), 1, "one blob, one finding");
    // Attributed at its smallest path.
    let path = String::from_utf8(found[0].path.clone().unwrap()).unwrap();
    assert_eq!(path, format!("{}d0", "d0/".repeat(9)));
}

#[test]
fn absurd_thread_counts_are_invalid_arguments_not_panics() {
    let dir = temp_dir("threads");
    let repo = GitRepo::init(&dir.path().join("r"));
    repo.write("a.txt", "hello\n");
    repo.commit("one");
    for threads in [1_000_000_000usize, usize::MAX] {
        let options = scangit_core::ScanOptions {
            threads,
            ..reveal()
        };
        let err = pipeline_support::try_scan(&repo.dir, &options)
            .err()
            .expect("an error");
        assert_eq!(
            err.kind(),
            scangit_core::ErrorKind::InvalidArgument,
            "{err}"
        );
        assert!(err.to_string().contains("threads must be"), "{err}");
    }
}
