//! Hostile git plumbing: delta chains deeper than anything git writes, delta cycles, sizes that
//! lie, flipped bits, objects that do not match their names, refs and object directories that
//! loop, commit graphs that lie. Every repository is built at test time with real git plus
//! hand-made packs (`pipeline_support::pack_writer`) and byte edits. Each scan must end with a
//! clear typed error or a `partial` outcome naming what was skipped: never `complete` after
//! leaving anything out, never a panic, a hang or an allocation sized by what an input declares.

mod pipeline_support;

use std::path::{Path, PathBuf};

use pipeline_support::pack_writer::{self as pw, Base, Entry, Op};
use pipeline_support::{GitRepo, Rng, Scanned, github_pat, reveal, scan_ok, temp_dir, try_scan};
use scangit_core::events::SkipReason;
use scangit_core::{ErrorKind, Outcome, ScanOptions};

/// The skip count of `reason`, if any.
fn skipped(s: &Scanned, reason: SkipReason) -> Option<&scangit_core::events::SkipCount> {
    s.summary().skipped.iter().find(|c| c.reason == reason)
}

/// Asserts the scan is partial with a `reason` skip one of whose examples contains `needle`.
fn assert_partial_naming(s: &Scanned, reason: SkipReason, needle: &str) {
    let summary = s.summary();
    assert_eq!(summary.outcome, Outcome::Partial, "{summary:?}");
    let c = skipped(s, reason).unwrap_or_else(|| panic!("a {reason:?} skip: {summary:?}"));
    assert!(
        c.examples.iter().any(|e| e.contains(needle)),
        "an example naming {needle:?}: {summary:?}"
    );
}

fn assert_complete(s: &Scanned) {
    assert_eq!(s.summary().outcome, Outcome::Complete, "{:?}", s.summary());
}

/// Writes a file whose content feeds a git command's standard input.
fn stdin_file(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Points `main` at a new commit whose tree lists `blobs` (name, id), which may be missing or
/// broken: the tree is written by hand (git would try to read the blobs, and runs out of memory
/// on some of the packs here).
fn commit_listing(repo: &GitRepo, _scratch: &Path, blobs: &[(&str, [u8; 20])]) -> String {
    let mut sorted = blobs.to_vec();
    sorted.sort_by_key(|(name, _)| name.to_string());
    let mut tree = Vec::new();
    for (name, id) in sorted {
        tree.extend_from_slice(format!("100644 {name}\0").as_bytes());
        tree.extend_from_slice(&id);
    }
    let id = pw::id_of(pw::TREE, &tree);
    write_loose(
        &repo.dir.join(".git"),
        &id,
        &format!("tree {}\0", tree.len()),
        &tree,
    );
    let commit = repo.git(&["commit-tree", &pw::hex(&id), "-m", "hand-made objects"]);
    repo.git(&["update-ref", "refs/heads/main", &commit]);
    commit
}

/// Unreferenced small blobs, so that a handful of wanted entries is a sparse part of the pack
/// and a scan with a commit-graph reads them one at a time (random access) instead of walking
/// the pack.
fn filler(n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| Entry::object(pw::BLOB, format!("filler blob {i}\n").as_bytes()))
        .collect()
}

fn write_commit_graph(repo: &GitRepo) {
    repo.git(&["commit-graph", "write", "--reachable"]);
}

// ---- 1. Deep delta chains are valid ----

/// Version `i` of a small file: a fixed prefix holding `secret`, then a line naming `i`.
fn chain_version(secret: &str, i: usize) -> Vec<u8> {
    format!("GITHUB_TOKEN={secret}\n# settings file, edited every commit\nversion {i:06}\n")
        .into_bytes()
}

/// A delta chain of `n` blob versions: entry `first` is the base, each next entry a delta on the
/// one before (ofs-deltas, or ref-deltas naming the previous version's id). Returns the entries
/// and the ids of every version.
fn chain(secret: &str, n: usize, first: usize, by_ref: bool) -> (Vec<Entry>, Vec<[u8; 20]>) {
    let mut entries = vec![Entry::object(pw::BLOB, &chain_version(secret, 0))];
    let mut ids = vec![entries[0].id];
    for i in 1..n {
        let prev = chain_version(secret, i - 1);
        let next = chain_version(secret, i);
        let keep = prev.len() - "version 000000\n".len();
        let d = pw::delta(
            prev.len() as u64,
            next.len() as u64,
            &[Op::Copy(0, keep as u64), Op::Insert(&next[keep..])],
        );
        let id = pw::id_of(pw::BLOB, &next);
        let e = if by_ref {
            Entry::ref_delta(ids[i - 1], d)
        } else {
            Entry::ofs_delta(first + i - 1, d)
        };
        entries.push(e.with_id(id));
        ids.push(id);
    }
    (entries, ids)
}

#[test]
fn hand_made_delta_chains_20000_deep_are_scanned_completely() {
    let dir = temp_dir("deep-chains");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(21);
    let (a, b) = (github_pat(&mut rng), github_pat(&mut rng));
    const N: usize = 20_000;
    let (mut entries, ofs_ids) = chain(&a, N, 0, false);
    let (ref_entries, ref_ids) = chain(&b, N, N, true);
    entries.extend(ref_entries);
    pw::write_pack(&repo.dir.join(".git/objects/pack"), &entries);
    commit_listing(
        &repo,
        dir.path(),
        &[
            ("deepest-ofs.env", ofs_ids[N - 1]),
            ("middle-ofs.env", ofs_ids[N / 2]),
            ("deepest-ref.env", ref_ids[N - 1]),
        ],
    );
    // Walking the packs (no commit-graph), then reading each blob at random (with one).
    for graph in [false, true] {
        if graph {
            write_commit_graph(&repo);
        }
        let s = scan_ok(&repo.dir, reveal());
        assert_complete(&s);
        assert_eq!(s.summary().blobs_scanned, 3, "graph {graph}");
        assert_eq!(s.secrets(), [a.clone(), b.clone()].into(), "graph {graph}");
    }
}

/// A fast-import stream of `commits` commits of one file of fixed-width lines, three lines
/// changing per commit (so git deltifies each version on its neighbour: chains thousands deep)
/// and a new secret every 100 commits. Returns the stream and the secrets.
fn slowly_changing_history(commits: usize) -> (String, Vec<String>) {
    let mut rng = Rng::new(33);
    let mut lines: Vec<String> = (0..200)
        .map(|j| format!("line {j:04}: {:010}", rng.below(1_000_000_000)))
        .collect();
    let mut secrets = Vec::new();
    let mut stream = String::new();
    for i in 0..commits {
        for _ in 0..3 {
            let j = 1 + rng.below(199);
            lines[j] = format!("line {j:04}: {:010}", rng.below(1_000_000_000));
        }
        if i % 100 == 0 {
            secrets.push(github_pat(&mut rng));
            lines[0] = format!("GITHUB_TOKEN={}", secrets.last().unwrap());
        }
        let data = lines.join("\n") + "\n";
        stream += &format!(
            "commit refs/heads/main\ncommitter A <a@example.com> {} +0000\ndata 2\nc\nM 100644 inline settings.env\ndata {}\n{data}\n",
            1_700_000_000 + i,
            data.len()
        );
    }
    (stream, secrets)
}

/// The longest delta chain `git verify-pack -v` reports.
fn longest_chain(repo: &GitRepo) -> usize {
    let packs = repo.dir.join(".git/objects/pack");
    let idx = std::fs::read_dir(&packs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .unwrap();
    let out = repo.git(&["verify-pack", "-v", idx.to_str().unwrap()]);
    out.lines()
        .filter_map(|l| l.strip_prefix("chain length = "))
        .filter_map(|l| l.split(':').next()?.parse().ok())
        .max()
        .unwrap_or(0)
}

#[test]
fn git_packs_with_delta_chains_thousands_deep_are_scanned_completely() {
    let dir = temp_dir("git-deep-chains");
    let (stream, secrets) = slowly_changing_history(3000);
    let input = stdin_file(dir.path(), "history.fi", &stream);
    for by_ref in [false, true] {
        let repo = GitRepo::init(&dir.path().join(format!("r-{by_ref}")));
        repo.git_raw(&["fast-import", "--quiet"], &[], Some(&input));
        let mut repack = vec!["repack", "-adfq", "--depth=4095", "--window=250"];
        if by_ref {
            repack.insert(0, "repack.useDeltaBaseOffset=false");
            repack.insert(0, "-c");
        }
        repo.git(&repack);
        let depth = longest_chain(&repo);
        assert!(depth > 2000, "chains {depth} deep");
        let s = scan_ok(&repo.dir, reveal());
        assert_complete(&s);
        let want: std::collections::BTreeSet<String> = secrets.iter().cloned().collect();
        assert_eq!(s.secrets(), want, "by_ref {by_ref}");
        // A range reads the few blobs it needs at random: the oldest versions, deepest in the
        // chains git writes (the newest version is the base).
        let range = "main~2999..main~2990".to_string();
        let s = scan_ok(
            &repo.dir,
            ScanOptions {
                range: Some(range),
                ..reveal()
            },
        );
        assert_complete(&s);
        assert!(s.summary().blobs_scanned >= 9, "{:?}", s.summary());
    }
}

// ---- 2. Delta cycles and self-references ----

fn fake_id(name: &str) -> [u8; 20] {
    pw::sha1(&[name.as_bytes()])
}

#[test]
fn delta_cycles_and_self_references_are_corrupt_skips() {
    let dir = temp_dir("delta-cycles");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(22);
    let good = format!("GITHUB_TOKEN={}\n", github_pat(&mut rng));
    let d = || pw::delta(4, 4, &[Op::Copy(0, 4)]);
    let ids: Vec<[u8; 20]> = (1..=6).map(|i| fake_id(&format!("x{i}"))).collect();
    let mut entries = vec![
        Entry::object(pw::BLOB, good.as_bytes()),
        Entry::ref_delta(ids[0], d()).with_id(ids[0]), // on itself
        Entry::ref_delta(ids[2], d()).with_id(ids[1]), // two on each other
        Entry::ref_delta(ids[1], d()).with_id(ids[2]),
        Entry::ofs_delta(0, d()).with_id(ids[3]), // made to point at itself below
        Entry::ofs_delta(0, d()).with_id(ids[4]), // made to point before the pack below
        Entry::ofs_delta(2, d()).with_id(ids[5]), // on the cycle
    ];
    entries[4].base = Base::Distance(0);
    entries[5].base = Base::Distance(1 << 40);
    let good_id = entries[0].id;
    entries.extend(filler(600));
    pw::write_pack(&repo.dir.join(".git/objects/pack"), &entries);
    let names: Vec<String> = (1..=6).map(|i| format!("x{i}.txt")).collect();
    let mut listing: Vec<(&str, [u8; 20])> = vec![("good.env", good_id)];
    listing.extend(names.iter().map(|n| n.as_str()).zip(ids.iter().copied()));
    commit_listing(&repo, dir.path(), &listing);
    for graph in [false, true] {
        if graph {
            write_commit_graph(&repo);
        }
        let s = scan_ok(&repo.dir, reveal());
        assert_partial_naming(&s, SkipReason::Corrupt, "cycle");
        let corrupt = skipped(&s, SkipReason::Corrupt).unwrap();
        assert_eq!(corrupt.count, 6, "graph {graph}: {:?}", s.summary());
        assert!(
            !corrupt.examples.iter().any(|e| e.contains("never decoded")),
            "each entry is reported for what it is, not caught by the account: {:?}",
            s.summary()
        );
        assert_eq!(s.secrets().len(), 1, "graph {graph}");
    }
}

// ---- 3. Declared sizes never drive allocation ----

/// Peak resident memory of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// Runs the test `name` of this binary alone in a child process (so its peak memory is its own)
/// and asserts it passed.
fn run_alone(name: &str) -> bool {
    if std::env::var_os("HOSTILE_GIT_CHILD").is_some() {
        return false;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("HOSTILE_GIT_CHILD", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{name} in a child process: {}\n{text}",
        out.status
    );
    true
}

/// A loose object file under `id` whose header says `header` and whose content is `content`.
fn write_loose(git_dir: &Path, id: &[u8; 20], header: &str, content: &[u8]) {
    let hex = pw::hex(id);
    let path = git_dir.join("objects").join(&hex[..2]).join(&hex[2..]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut raw = header.as_bytes().to_vec();
    raw.extend_from_slice(content);
    std::fs::write(path, pw::zlib(&raw)).unwrap();
}

#[test]
fn declared_sizes_never_drive_allocation() {
    if run_alone("declared_sizes_never_drive_allocation") {
        return;
    }
    const HUGE: u64 = 900 << 20; // under the limit below: only real bytes may be allocated
    const OVER: u64 = 3 << 30; // over it: refused up front
    let dir = temp_dir("declared-sizes");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(23);
    let good = format!("GITHUB_TOKEN={}\n", github_pat(&mut rng));
    let n = good.len() as u64;
    let copy = || vec![Op::Copy(0, n)];
    let mut entries = vec![
        Entry::object(pw::BLOB, good.as_bytes()),
        Entry::object(pw::BLOB, b"tiny").declaring(HUGE),
        Entry::object(pw::BLOB, b"tiny").declaring(OVER),
        Entry::ofs_delta(0, pw::delta(n, n, &copy())).declaring(HUGE),
        Entry::ofs_delta(0, pw::delta(n, OVER, &copy())),
        Entry::ofs_delta(0, pw::delta(n, HUGE, &copy())),
        Entry::ofs_delta(0, pw::delta(5, n, &copy())),
    ];
    let ids: Vec<[u8; 20]> = (0..entries.len())
        .map(|i| fake_id(&format!("sized {i}")))
        .collect();
    for (e, id) in entries.iter_mut().zip(&ids).skip(1) {
        e.id = *id;
    }
    entries.extend(filler(1000));
    let git_dir = repo.dir.join(".git");
    pw::write_pack(&git_dir.join("objects/pack"), &entries);
    let (loose_over, loose_huge) = (fake_id("loose over"), fake_id("loose huge"));
    write_loose(&git_dir, &loose_over, "blob 1099511627776\0", b"tiny");
    write_loose(&git_dir, &loose_huge, &format!("blob {HUGE}\0"), b"tiny");
    let names: Vec<String> = (0..entries.len()).map(|i| format!("b{i}.txt")).collect();
    let mut listing: Vec<(&str, [u8; 20])> = vec![("good.env", entries[0].id)];
    listing.extend(
        names[1..7]
            .iter()
            .map(|n| n.as_str())
            .zip(ids[1..].iter().copied()),
    );
    listing.extend([("lo.txt", loose_over), ("lh.txt", loose_huge)]);
    commit_listing(&repo, dir.path(), &listing);
    let options = ScanOptions {
        max_blob_bytes: 2 << 30,
        ..reveal()
    };
    for graph in [false, true] {
        if graph {
            write_commit_graph(&repo);
        }
        let before = peak_rss_kib();
        let s = scan_ok(&repo.dir, options.clone());
        let grown_mib = (peak_rss_kib() - before) / 1024;
        assert!(
            grown_mib < 200,
            "graph {graph}: peak memory grew {grown_mib} MiB"
        );
        let summary = s.summary();
        assert_eq!(summary.outcome, Outcome::Partial, "{summary:?}");
        let too_large = skipped(&s, SkipReason::TooLarge).map_or(0, |c| c.count);
        let corrupt = skipped(&s, SkipReason::Corrupt).map_or(0, |c| c.count);
        assert_eq!((too_large, corrupt), (3, 5), "graph {graph}: {summary:?}");
        assert_eq!(s.secrets().len(), 1);
    }
}

// ---- 4. Integrity checks where git has them ----

/// Offset of object `id` in a version-2 `.idx` (small offsets only).
fn idx_offset(idx: &[u8], id: &[u8; 20]) -> u64 {
    let n = u32::from_be_bytes(idx[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
    let ids = 8 + 256 * 4;
    let pos = (0..n)
        .find(|&i| &idx[ids + i * 20..ids + i * 20 + 20] == id)
        .expect("object in the index");
    let at = ids + n * 24 + pos * 4;
    u64::from(u32::from_be_bytes(idx[at..at + 4].try_into().unwrap()))
}

fn raw_id(hex: &str) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap();
    }
    out
}

fn only_pack(git_dir: &Path) -> PathBuf {
    let packs: Vec<PathBuf> = std::fs::read_dir(git_dir.join("objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect();
    assert_eq!(packs.len(), 1);
    packs.into_iter().next().unwrap()
}

fn make_writable(path: &Path) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).unwrap();
}

#[test]
fn a_flipped_type_bit_in_the_tip_commit_entry_is_a_crc_mismatch() {
    let dir = temp_dir("crc");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(24);
    let (a, b) = (github_pat(&mut rng), github_pat(&mut rng));
    repo.write("a.env", format!("GITHUB_TOKEN={a}\n"));
    repo.commit("first");
    repo.write("b.env", format!("GITHUB_TOKEN={b}\n"));
    let tip = repo.commit("second");
    repo.git(&["repack", "-adq"]);
    let git_dir = repo.dir.join(".git");
    let pack = only_pack(&git_dir);
    let idx = std::fs::read(pack.with_extension("idx")).unwrap();
    let at = idx_offset(&idx, &raw_id(&tip)) as usize;
    let mut bytes = std::fs::read(&pack).unwrap();
    assert_eq!((bytes[at] >> 4) & 7, 1, "a commit entry");
    bytes[at] ^= 0x20; // commit (1) becomes blob (3)
    make_writable(&pack);
    std::fs::write(&pack, &bytes).unwrap();
    let s = scan_ok(&repo.dir, reveal());
    assert_partial_naming(&s, SkipReason::Corrupt, "CRC");
}

#[test]
fn loose_objects_that_do_not_hash_to_their_name_are_corrupt() {
    let dir = temp_dir("loose-id");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(25);
    let (a, b) = (github_pat(&mut rng), github_pat(&mut rng));
    repo.write("a.env", format!("GITHUB_TOKEN={a}\n"));
    let first = repo.commit("first");
    repo.write("b.env", format!("GITHUB_TOKEN={b}\n"));
    let second = repo.commit("second");
    // The first commit's file now holds a commit whose parent is the second: a parent cycle
    // (and an object that is not what its name says).
    let tree = repo.rev("HEAD~1^{tree}");
    let body = format!(
        "tree {tree}\nparent {second}\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nlies\n"
    );
    let path = repo
        .dir
        .join(".git/objects")
        .join(&first[..2])
        .join(&first[2..]);
    make_writable(&path);
    std::fs::remove_file(&path).unwrap();
    write_loose(
        &repo.dir.join(".git"),
        &raw_id(&first),
        &format!("commit {}\0", body.len()),
        body.as_bytes(),
    );
    let s = scan_ok(&repo.dir, reveal());
    assert_partial_naming(&s, SkipReason::Corrupt, &first);
    assert!(
        s.secrets().contains(&b),
        "the second commit is still scanned"
    );
}

// ---- 5. Refs, .git files, alternates, unreadable packs ----

#[test]
fn a_malformed_packed_refs_line_is_a_corrupt_error_naming_it() {
    let dir = temp_dir("packed-refs");
    let repo = GitRepo::init(&dir.path().join("r"));
    repo.write("a.txt", "a\n");
    repo.commit("one");
    repo.git(&["pack-refs", "--all"]);
    let file = repo.dir.join(".git/packed-refs");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("this is not a ref line\n");
    std::fs::write(&file, text).unwrap();
    let e = try_scan(&repo.dir, &reveal()).err().expect("an error");
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("packed-refs") && msg.contains("line 3"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn a_symlinked_loose_ref_is_followed() {
    let dir = temp_dir("symlink-ref");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(26);
    let (a, b) = (github_pat(&mut rng), github_pat(&mut rng));
    repo.write("a.env", format!("GITHUB_TOKEN={a}\n"));
    repo.commit("main");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("b.env", format!("GITHUB_TOKEN={b}\n"));
    let side = repo.commit("side");
    repo.git(&["checkout", "-q", "main"]);
    // The side branch lives only in a file outside refs/, named by a symlink.
    let heads = repo.dir.join(".git/refs/heads");
    let outside = dir.path().join("side-ref");
    std::fs::write(&outside, format!("{side}\n")).unwrap();
    std::fs::remove_file(heads.join("side")).unwrap();
    std::os::unix::fs::symlink(&outside, heads.join("side")).unwrap();
    let s = scan_ok(&repo.dir, reveal());
    assert_complete(&s);
    assert_eq!(s.secrets(), [a, b].into());
    // A symlink to nowhere is reported, not skipped.
    std::fs::remove_file(&outside).unwrap();
    let e = try_scan(&repo.dir, &reveal()).err().expect("an error");
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.to_string().contains("refs/heads/side"), "{e}");
}

#[test]
fn git_files_and_alternates_that_loop_end_without_hanging() {
    let dir = temp_dir("loops");
    // A .git file naming itself, and two work trees whose .git files name each other.
    let selfish = dir.path().join("selfish");
    std::fs::create_dir_all(&selfish).unwrap();
    std::fs::write(selfish.join(".git"), "gitdir: .git\n").unwrap();
    let (x, y) = (dir.path().join("x"), dir.path().join("y"));
    std::fs::create_dir_all(&x).unwrap();
    std::fs::create_dir_all(&y).unwrap();
    std::fs::write(
        x.join(".git"),
        format!("gitdir: {}\n", y.join(".git").display()),
    )
    .unwrap();
    std::fs::write(
        y.join(".git"),
        format!("gitdir: {}\n", x.join(".git").display()),
    )
    .unwrap();
    for p in [&selfish, &x, &selfish.join(".git")] {
        let e = try_scan(p, &reveal()).err().expect("an error");
        assert_eq!(e.kind(), ErrorKind::RepoNotFound, "{}: {e}", p.display());
    }
    // Alternates naming their own directory and each other: every object is still there once,
    // as git sees it, so the scan is complete.
    let mut rng = Rng::new(27);
    let (a, b) = (github_pat(&mut rng), github_pat(&mut rng));
    let ra = GitRepo::init(&dir.path().join("ra"));
    ra.write("a.env", format!("GITHUB_TOKEN={a}\n"));
    ra.commit("a");
    let rb = GitRepo::init(&dir.path().join("rb"));
    rb.write("b.env", format!("GITHUB_TOKEN={b}\n"));
    rb.commit("b");
    let (oa, ob) = (ra.dir.join(".git/objects"), rb.dir.join(".git/objects"));
    std::fs::write(
        oa.join("info/alternates"),
        format!("{}\n{}\n../objects\n", oa.display(), ob.display()),
    )
    .unwrap();
    std::fs::write(
        ob.join("info/alternates"),
        format!("{}\n{}\n", oa.display(), ob.display()),
    )
    .unwrap();
    let s = scan_ok(&ra.dir, reveal());
    assert_complete(&s);
    assert_eq!(s.secrets(), [a].into());
}

#[test]
fn an_unreadable_pack_file_is_repo_not_found() {
    let dir = temp_dir("unreadable-pack");
    let repo = GitRepo::init(&dir.path().join("r"));
    repo.write("a.txt", "a\n");
    repo.commit("one");
    repo.git(&["repack", "-adq"]);
    let pack = only_pack(&repo.dir.join(".git"));
    // Root reads through any mode bits: a directory in the pack's place cannot be read by anyone.
    std::fs::remove_file(&pack).unwrap();
    std::fs::create_dir(&pack).unwrap();
    let e = try_scan(&repo.dir, &reveal()).err().expect("an error");
    assert_eq!(e.kind(), ErrorKind::RepoNotFound, "{e}");
    assert!(e.to_string().contains(".pack"), "{e}");
}

// ---- 6. Commits that vanish ----

/// The (chunk id, offset) table of a commit-graph file.
fn graph_chunk(graph: &[u8], name: &[u8; 4]) -> usize {
    let chunks = graph[6] as usize;
    (0..chunks)
        .map(|i| 8 + i * 12)
        .find(|&at| &graph[at..at + 4] == name)
        .map(|at| u64::from_be_bytes(graph[at + 4..at + 12].try_into().unwrap()) as usize)
        .unwrap_or_else(|| panic!("chunk {name:?}"))
}

#[test]
fn a_commit_graph_whose_parents_form_a_cycle_makes_the_scan_partial() {
    let dir = temp_dir("graph-cycle");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(28);
    let mut commits = Vec::new();
    for i in 0..3 {
        repo.write(
            &format!("{i}.env"),
            format!("GITHUB_TOKEN={}\n", github_pat(&mut rng)),
        );
        commits.push(repo.commit(&format!("c{i}")));
    }
    write_commit_graph(&repo);
    let file = repo.dir.join(".git/objects/info/commit-graph");
    let mut graph = std::fs::read(&file).unwrap();
    let (oidl, cdat) = (graph_chunk(&graph, b"OIDL"), graph_chunk(&graph, b"CDAT"));
    let pos = |id: &str| {
        let id = raw_id(id);
        (0..3)
            .find(|&i| graph[oidl + i * 20..oidl + i * 20 + 20] == id)
            .unwrap()
    };
    // The root commit now names the tip as its parent.
    let (root, tip) = (pos(&commits[0]), pos(&commits[2]));
    let parent1 = cdat + root * 36 + 20;
    graph[parent1..parent1 + 4].copy_from_slice(&(tip as u32).to_be_bytes());
    make_writable(&file);
    std::fs::write(&file, &graph).unwrap();
    let s = scan_ok(&repo.dir, reveal());
    assert_partial_naming(&s, SkipReason::Corrupt, "cycle");
}

#[test]
fn with_all_objects_an_unreadable_unreachable_object_is_a_skip_not_a_silence() {
    let dir = temp_dir("all-objects-unreadable");
    let repo = GitRepo::init(&dir.path().join("r"));
    let mut rng = Rng::new(31);
    let secret = github_pat(&mut rng);
    repo.write("a.env", format!("GITHUB_TOKEN={secret}\n"));
    repo.commit("first");
    let git_dir = repo.dir.join(".git");
    // Unreachable loose objects: one whose header is garbage, one that is not zlib at all,
    // and a readable blob holding a secret.
    let garbled = fake_id("garbled header");
    write_loose(&git_dir, &garbled, "blob twelve\0", b"twelve bytes");
    let not_zlib = fake_id("not zlib");
    let hex = pw::hex(&not_zlib);
    let path = git_dir.join("objects").join(&hex[..2]).join(&hex[2..]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"this is not a zlib stream").unwrap();
    let hidden = github_pat(&mut rng);
    let content = format!("GITHUB_TOKEN={hidden}\n");
    let input = stdin_file(dir.path(), "hidden", &content);
    let blob = repo.git_raw(&["hash-object", "-w", "--stdin"], &[], Some(&input));

    let all = ScanOptions {
        all_objects: true,
        ..reveal()
    };
    let s = scan_ok(&repo.dir, all);
    assert_partial_naming(&s, SkipReason::Corrupt, &pw::hex(&garbled));
    assert_partial_naming(&s, SkipReason::Corrupt, &hex);
    assert!(
        s.secrets().contains(&hidden),
        "{blob}: the readable one is scanned"
    );
    assert!(s.secrets().contains(&secret));
    // Without all_objects, unreachable objects are none of the scan's business.
    assert_complete(&scan_ok(&repo.dir, reveal()));
}
