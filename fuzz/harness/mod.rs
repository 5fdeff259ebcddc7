//! The fuzz targets' bodies, shared by the libFuzzer binaries (`fuzz/fuzz_targets/*.rs`, run
//! with `cargo +nightly fuzz run NAME`) and by core's stable test `fuzz_replay`, which runs every
//! file of `fuzz/regressions/NAME/` and a few thousand generated inputs through the same code.
//!
//! Each target takes arbitrary bytes and panics only when the library breaks a promise: a panic
//! inside the library, an `internal` error, a finding set that depends on the chunk window, an
//! outcome `complete` after something was skipped, a delta result of the wrong size. Memory is
//! bounded by libFuzzer (`-rss_limit_mb`, `-malloc_limit_mb`; see `fuzz/README.md`).
#![allow(dead_code)]

#[path = "../../core/tests/pipeline_support/pack_writer.rs"]
mod pack_writer;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pack_writer::{BLOB, COMMIT, Entry, OFS_DELTA, REF_DELTA, TREE, id_of, write_pack};
use scangit_core::detect::{content, extract};
use scangit_core::events::{CollectSink, Outcome};
use scangit_core::git::odb::delta;
use scangit_core::git::{commits, tree};
use scangit_core::{Engine, ErrorKind, RuleSet, ScanOptions, scan};

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its directory under `fuzz/regressions/` and its binary.
pub const TARGETS: &[(&str, Target)] = &[
    ("delta", delta_apply),
    ("tree", tree_entries),
    ("objects", object_headers),
    ("extract", extraction),
    ("engine_windows", engine_windows),
    ("rules", rules_text),
    ("pack_files", pack_files),
    ("loose", loose_object),
    ("repo_files", repo_files),
    ("scan_repo", scan_repo),
];

/// The target called `name`.
pub fn target(name: &str) -> Target {
    TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"))
        .1
}

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::builtin().expect("built-in rules compile"))
}

fn engine_confirming_each_hit_alone() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let mut e = Engine::builtin().expect("built-in rules compile");
        e.confirm_each_hit_alone();
        e
    })
}

/// Splits `data` at a length read from its first two bytes.
fn split2(data: &[u8]) -> (&[u8], &[u8]) {
    let rest = data.get(2..).unwrap_or_default();
    let n = data
        .get(..2)
        .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])));
    rest.split_at(n.min(rest.len()))
}

// ---------------------------------------------------------------- in-memory parsers

/// Delta application: `[base length u16][base][delta]`. A delta that applies gives exactly the
/// size it announces.
pub fn delta_apply(data: &[u8]) {
    let (base, d) = split2(data);
    let mut out = Vec::new();
    let applied = delta::apply(base, d, &mut out);
    let announced = delta::result_size(d);
    if applied.is_ok() {
        assert_eq!(
            Some(out.len() as u64),
            announced.ok(),
            "result size as announced"
        );
    }
}

/// Tree entries: the iterator ends (corrupt or not) within the data, entries come back in
/// position order, and git's entry order is a total order on them.
pub fn tree_entries(data: &[u8]) {
    let mut it = tree::tree_iter(data);
    let mut entries = Vec::new();
    let mut last = None;
    while let Some((at, e)) = it.next_at() {
        assert!(at < data.len() && last.is_none_or(|l| at > l));
        last = Some(at);
        entries.push(e);
        assert!(entries.len() <= data.len(), "every entry consumes bytes");
    }
    for w in entries.windows(2) {
        let ab = tree::entry_order(&w[0], &w[1]);
        assert_eq!(
            ab.reverse(),
            tree::entry_order(&w[1], &w[0]),
            "antisymmetric"
        );
    }
}

/// Commit headers and metadata, and signatures, from arbitrary bytes.
pub fn object_headers(data: &[u8]) {
    let header = commits::parse_commit_header(data);
    let info = commits::parse_commit_info(data);
    if let Some(h) = header {
        assert!(
            h.parents.len() <= data.len() / 40,
            "parents come from the bytes"
        );
    }
    drop(info);
    let _ = commits::parse_signature(data);
}

/// Archive (zip, tar, gzip, bzip2, xz, nested), class, pyc and notebook extraction, and content
/// preparation (UTF-16 transcoding): bounded output and entries, ranges inside the text and in
/// order, limit lines that are single lines, never a panic.
pub fn extraction(data: &[u8]) {
    for path in [
        &b"A.class"[..],
        b"lib.jar",
        b"m.pyc",
        b"n.ipynb",
        b"notes.txt",
        b"dump.sql.gz",
        b"release.tgz",
    ] {
        if let Some(kind) = extract::kind(data, path)
            && let Some(x) = extract::extract_at(kind, data, path)
        {
            assert!(
                x.text.len() <= extract::MAX_OUTPUT + 1,
                "bounded extraction"
            );
            assert!(x.entries.len() <= extract::MAX_ENTRIES, "bounded entries");
            let mut end = 0;
            for e in &x.entries {
                assert!(
                    e.text.start >= end && e.text.start <= e.text.end && e.text.end <= x.text.len(),
                    "entry ranges in order and inside the text"
                );
                end = e.text.end;
            }
            assert!(
                x.limits.iter().all(|l| !l.contains('\n')),
                "one line per limit"
            );
        }
        let _ = content::prepare(data, path);
    }
    for le in [true, false] {
        let out = content::utf16_to_utf8(data, le);
        assert!(
            out.len() <= data.len() / 2 * 3 + 3,
            "UTF-16 grows at most 3/2"
        );
    }
}

/// The engine's window contract on arbitrary bytes (keyword prefilter, regexes, base64 and
/// percent decoding, generic overlaps): tiling the input with owned ranges of one size (from
/// the first byte), each shown with `context_bytes()` on both sides, finds exactly what one
/// whole-input scan finds; and confirming every keyword hit with its own search finds the same
/// as the search shared by a cluster of hits.
pub fn engine_windows(data: &[u8]) {
    let e = engine();
    let Some((&size, hay)) = data.split_first() else {
        return;
    };
    let c = e.context_bytes();
    let mut scratch = e.new_scratch();
    let mut whole = Vec::new();
    e.scan(hay, 0..hay.len(), &mut scratch, &mut whole);
    // The search shared by clusters of keyword hits changes nothing.
    let mut alone = Vec::new();
    let a = engine_confirming_each_hit_alone();
    a.scan(hay, 0..hay.len(), &mut a.new_scratch(), &mut alone);
    assert!(
        whole == alone,
        "shared confirmation equals per-hit confirmation"
    );
    let owned = 1 + usize::from(size) * 4;
    let mut tiled = Vec::new();
    let mut p = 0;
    while p < hay.len() {
        let q = (p + owned).min(hay.len());
        let a = p.saturating_sub(c);
        let b = (q + c).min(hay.len());
        let mut part = Vec::new();
        e.scan(&hay[a..b], p - a..q - a, &mut scratch, &mut part);
        tiled.extend(part.into_iter().map(|mut m| {
            m.start += a;
            m.end += a;
            (m.start, m.end, m.rule, m.secret, m.decoded_from)
        }));
        p = q;
    }
    let whole: Vec<_> = whole
        .into_iter()
        .map(|m| (m.start, m.end, m.rule, m.secret, m.decoded_from))
        .collect();
    tiled.sort();
    tiled.dedup();
    let mut sorted = whole.clone();
    sorted.sort();
    assert_eq!(sorted, tiled, "windowed scan equals the whole scan");
}

/// Rules files: TOML, regexes, allowlists and betterleaks filter expressions. The text is
/// parsed as a rules file, and placed as a rule's regex and as a filter expression; whatever
/// parses must compile (or be refused with a rules error), never panic.
pub fn rules_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let quoted = toml::Value::String(text.to_string()).to_string();
    let files = [
        text.to_string(),
        format!("[[rules]]\nid = \"x\"\nregex = {quoted}\n"),
        format!("filter = {quoted}\n[[rules]]\nid = \"x\"\nregex = 'k[0-9]+'\n"),
        format!("[[rules]]\nid = \"x\"\nregex = 'k[0-9]+'\nfilter = {quoted}\n"),
    ];
    for file in files {
        if let Ok((set, _warnings)) = RuleSet::from_toml_str(&file, "fuzz.toml") {
            let _ = Engine::new(&set);
        }
    }
}

// ---------------------------------------------------------------- repositories on disk

/// A bare repository skeleton with `objects/pack` and a `main` branch name.
fn skeleton(dir: &Path) -> PathBuf {
    let git = dir.join("r.git");
    for d in ["objects/pack", "objects/info", "refs/heads", "refs/tags"] {
        std::fs::create_dir_all(git.join(d)).unwrap();
    }
    std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    git
}

fn temp() -> tempfile::TempDir {
    // SCANGIT_FUZZ_KEEP=1 keeps the repositories (to look at one a failing input built).
    tempfile::Builder::new()
        .prefix("scangit-fuzz")
        .disable_cleanup(std::env::var_os("SCANGIT_FUZZ_KEEP").is_some())
        .tempdir()
        .unwrap()
}

/// Scans `repo` (all objects too when `all`), once with two threads and the default window and
/// once with one thread and the smallest window, and checks what must hold whatever the bytes:
/// no `internal` error, the same result both times, and `complete` only when nothing was
/// skipped and every planned blob was scanned.
fn scan_twice(repo: &Path, all: bool, tweak: impl Fn(&mut ScanOptions)) -> Option<Scanned> {
    let mut runs = Vec::new();
    for (threads, chunk) in [(2, 0), (1, 1)] {
        let mut options = ScanOptions {
            threads,
            all_objects: all,
            reveal_secrets: true,
            ..ScanOptions::default()
        };
        if chunk != 0 {
            options.chunk_bytes = chunk;
        }
        tweak(&mut options);
        let sink = CollectSink::default();
        let result = scan(repo, &options, engine(), &sink);
        runs.push(match result {
            Err(e) => {
                assert_ne!(e.kind(), ErrorKind::Internal, "internal error: {e}");
                Err(e.kind())
            }
            Ok(_) => Ok(Scanned::from(sink)),
        });
    }
    assert_eq!(
        runs[0], runs[1],
        "the same result with any window and thread count"
    );
    runs.pop().unwrap().ok()
}

/// What a scan reported, in a form that does not depend on threading.
#[derive(Debug, PartialEq)]
pub struct Scanned {
    pub outcome: Outcome,
    pub skipped: BTreeSet<(String, u64)>,
    pub planned: u64,
    pub scanned: u64,
    pub found: BTreeSet<(String, String, u64, u64, Option<String>)>,
}

impl From<CollectSink> for Scanned {
    fn from(sink: CollectSink) -> Scanned {
        let summaries = sink.summaries.into_inner();
        assert_eq!(summaries.len(), 1, "exactly one summary");
        let s = &summaries[0];
        let skipped: BTreeSet<_> = s
            .skipped
            .iter()
            .map(|k| (format!("{:?}", k.reason), k.count))
            .collect();
        if s.outcome == Outcome::Complete {
            assert!(
                s.skipped.iter().all(|k| !k.reason.makes_partial()),
                "complete after skipping {skipped:?}"
            );
        }
        assert!(
            s.blobs_scanned <= s.blobs_planned,
            "scanned only what was planned"
        );
        let found = sink
            .findings
            .into_inner()
            .into_iter()
            .map(|f| (f.rule_id, f.blob.to_string(), f.start, f.end, f.secret))
            .collect();
        Scanned {
            outcome: s.outcome,
            skipped,
            planned: s.blobs_planned,
            scanned: s.blobs_scanned,
            found,
        }
    }
}

/// Raw `.idx` and `.pack` files: `[idx length u16][idx][pack]`, written as the repository's one
/// pack and scanned with all objects. Seeds are valid pairs from `pack_writer`.
pub fn pack_files(data: &[u8]) {
    let (idx, pack) = split2(data);
    let dir = temp();
    let git = skeleton(dir.path());
    let name = "pack-0000000000000000000000000000000000000000";
    std::fs::write(git.join(format!("objects/pack/{name}.idx")), idx).unwrap();
    std::fs::write(git.join(format!("objects/pack/{name}.pack")), pack).unwrap();
    scan_twice(&git, true, |_| {});
}

/// A loose object: `[flags][bytes]`. Flag bit 0: the bytes are the file as stored (else they
/// are zlib-compressed here, so the header and size parsing see them); bit 1: the file is named
/// by the SHA-1 of the bytes (else by a fixed id); bit 2: `main` points at it.
pub fn loose_object(data: &[u8]) {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let dir = temp();
    let git = skeleton(dir.path());
    let stored = if flags & 1 != 0 {
        body.to_vec()
    } else {
        pack_writer::zlib(body)
    };
    let id = if flags & 2 != 0 {
        pack_writer::sha1(&[body])
    } else {
        [0x5a; 20]
    };
    let hex = pack_writer::hex(&id);
    let sub = git.join("objects").join(&hex[..2]);
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join(&hex[2..]), stored).unwrap();
    if flags & 4 != 0 {
        std::fs::write(git.join("refs/heads/main"), format!("{hex}\n")).unwrap();
    }
    scan_twice(&git, true, |_| {});
}

/// The files of a repository made by git (two commits, a secret, a pack with its reverse index,
/// a multi-pack-index and a commit-graph), built once per process in a directory kept until
/// the process ends. `None` where git is missing.
fn base_repo() -> Option<&'static Path> {
    static BASE: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = temp();
        let work = dir.path().join("w");
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(["-c", "user.name=f", "-c", "user.email=f@f"])
                .args(args)
                .current_dir(&work)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", dir.path())
                .output()
                .is_ok_and(|o| o.status.success())
        };
        std::fs::create_dir_all(&work).ok()?;
        let ok = git(&["init", "-q", "-b", "main"])
            && std::fs::write(
                work.join("a.txt"),
                "token = ghp_R3tJ8bQx2LmN7pVz4KwY6sHc1DfG9aE0uTiO\n",
            )
            .is_ok()
            && git(&["add", "."])
            && git(&["commit", "-qm", "one"])
            && std::fs::write(work.join("b.txt"), "AKIAIOSFODNN7EXAMPLQ and more\n").is_ok()
            && git(&["add", "."])
            && git(&["commit", "-qm", "two"])
            && git(&["tag", "v1"])
            && git(&["pack-refs", "--all"])
            && git(&[
                "-c",
                "pack.writeReverseIndex=true",
                "repack",
                "-adq",
                "--write-midx",
            ])
            && git(&["commit-graph", "write", "--reachable"]);
        ok.then(|| {
            let g = work.join(".git");
            (dir, g)
        })
    })
    .as_ref()
    .map(|(_, p)| p.as_path())
}

/// Copies the base repository's git directory into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// The first file in `dir` whose name ends with `suffix`.
fn file_ending(dir: &Path, suffix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(suffix))
        })
}

/// The repository files and options a scan trusts, one at a time: `[which][bytes]` replaces
/// one file of a git-made repository (commit-graph, multi-pack-index, `.rev`, `.idx`,
/// packed-refs, HEAD, a loose ref, shallow, alternates, `.git` file) or is given as a revision
/// range, a `since` or a ref pattern.
pub fn repo_files(data: &[u8]) {
    let Some(base) = base_repo() else { return };
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let dir = temp();
    let git = dir.path().join("r.git");
    copy_tree(base, &git);
    let pack = git.join("objects/pack");
    let text = String::from_utf8_lossy(bytes).into_owned();
    let target = match which % 13 {
        0 => Some(git.join("objects/info/commit-graph")),
        1 => Some(pack.join("multi-pack-index")),
        2 => file_ending(&pack, ".rev"),
        3 => file_ending(&pack, ".idx"),
        4 => Some(git.join("packed-refs")),
        5 => Some(git.join("HEAD")),
        6 => Some(git.join("refs/heads/main")),
        7 => Some(git.join("shallow")),
        8 => Some(git.join("objects/info/alternates")),
        9 => Some(git.join("commondir")),
        _ => None,
    };
    let mut scan_path = git.clone();
    if let Some(t) = target {
        std::fs::write(t, bytes).unwrap();
    } else if which % 13 == 12 {
        // A `.git` file in a work tree naming the git directory with these bytes.
        let work = dir.path().join("w");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(work.join(".git"), bytes).unwrap();
        scan_path = work;
    }
    let mode = which % 13;
    scan_twice(&scan_path, which & 0x80 != 0, |o| match mode {
        10 => o.range = Some(text.clone()),
        11 => {
            o.since = Some(text.clone());
            o.ref_include = vec![text.clone()];
        }
        _ => {}
    });
}

// ---------------------------------------------------------------- structure-aware

/// Reads small numbers from the fuzz input, returning 0 when it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

/// Text pieces a blob is made of: secrets of several rules, near misses and filler.
const PIECES: &[&str] = &[
    "token = ghp_R3tJ8bQx2LmN7pVz4KwY6sHc1DfG9aE0uTiO\n",
    "AKIAIOSFODNN7EXAMPLQ ",
    "password = \"hunter2hunter2\"\n",
    "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx\n",
    "Z2hwX1IzdEo4YlF4MkxtTjdwVno0S3dZNnNIYzFEZkc5YUUwdVRpTw==\n",
    "postgres://user:s3cretpass@db.example.com/app\n",
    "-----BEGIN RSA PRIVATE KEY-----\n",
    "ghp_",
    "lorem ipsum dolor sit amet ",
    "\n",
    "\0\x01\x02",
];

/// Secrets behind each of the engine's decoding layers (the engine_windows target's seeds).
const ENCODED_SECRETS: &str = concat!(
    r#"{"remote": "https:\/\/deploy:Wiy4xDC3eWWiqSAb59p9ydTS@git.internal.net\/ops", "#,
    r#""t": "ghp\u005fR3tJ8bQx2LmN7pVz4KwY6sHc1DfG9aE0uTiO", "#,
    r#""cfg": "{\"db_password\": \"h9oev5l#Hi9yZ?slaYrkl1\"}", "#,
    r#""env": "IGRiX3Bhc3N3b3JkID0gImg5b2V2NWwjSGk5eVo\/c2xhWXJrbDEi"}"#,
    "\n<a href=\"https:&#x2F;&#x2F;deploy:Wiy4xDC3eWWiqSAb59p9ydTS&#64;git.internal.net\">",
    "&quot;x&quot; &amp; y &lt;z&gt;</a>\n",
    "<key>-----BEGIN RSA PRIVATE KEY-----&#10;QHPCc0pRzUSPzAO9lACnEWi45zA4hIXnff8aRWqecf4CbQk3WXZ3oqBqzFVa6A3f",
    "&#10;-----END RSA PRIVATE KEY-----</key>\n",
    "hash: $2y$10$HzzQvTUHcXrP1cqRsIZzac8EJfcN7jNWb5IV1/6x1iDbwpfiaijYG\n",
    "token_sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"\n",
);

/// One blob's bytes from the input.
fn blob_text(b: &mut Bytes<'_>) -> Vec<u8> {
    let n = b.u8() % 8;
    let mut out = Vec::new();
    for _ in 0..n {
        let p = b.u8();
        if p & 0x80 != 0 {
            let len = usize::from(p & 0x1f);
            out.extend_from_slice(b.take(len));
        } else {
            out.extend_from_slice(PIECES[usize::from(p) % PIECES.len()].as_bytes());
        }
    }
    out
}

/// A delta turning `base` into a new blob, as (instructions, result): copies of base ranges
/// and inserted pieces, all from the input.
fn make_delta(b: &mut Bytes<'_>, base: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut ops = Vec::new();
    let mut result = Vec::new();
    let mut inserts = Vec::new();
    for _ in 0..1 + b.u8() % 4 {
        if b.u8() & 1 == 0 && !base.is_empty() {
            let at = usize::from(b.u8()) * base.len() / 256;
            let len = (1 + usize::from(b.u8())).min(base.len() - at);
            result.extend_from_slice(&base[at..at + len]);
            ops.push((Some((at as u64, len as u64)), inserts.len()));
        } else {
            let piece = blob_text(b);
            if piece.is_empty() {
                continue;
            }
            result.extend_from_slice(&piece);
            ops.push((None, inserts.len()));
            inserts.push(piece);
        }
    }
    let ops: Vec<pack_writer::Op<'_>> = ops
        .iter()
        .map(|&(copy, i)| match copy {
            Some((at, len)) => pack_writer::Op::Copy(at, len),
            None => pack_writer::Op::Insert(&inserts[i]),
        })
        .collect();
    let d = pack_writer::delta(base.len() as u64, result.len() as u64, &ops);
    (d, result)
}

/// A whole repository from a recipe: up to 12 blobs, each stored whole or as an ofs- or
/// ref-delta on an earlier blob, some entries lying (declared size, delta base, id, type),
/// then one tree naming every blob, one commit and `main`. The scan must not panic or fail
/// with `internal`, must give the same result with any window and thread count, and when no
/// entry lies it must be `complete` with exactly the findings of scanning each blob alone.
pub fn scan_repo(data: &[u8]) {
    let mut b = Bytes(data);
    let mut entries: Vec<Entry> = Vec::new();
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    let mut honest = true;
    for _ in 0..1 + b.u8() % 12 {
        let how = b.u8();
        let (mut entry, content) = match (how % 3, blobs.len()) {
            (how @ (1 | 2), n) if n > 0 => {
                let base = usize::from(b.u8()) % n;
                let (d, result) = make_delta(&mut b, &blobs[base]);
                let e = if how == 1 {
                    Entry::ofs_delta(base, d)
                } else {
                    Entry::ref_delta(entries[base].id, d)
                };
                (e.with_id(id_of(BLOB, &result)), result)
            }
            _ => {
                let text = blob_text(&mut b);
                (Entry::object(BLOB, &text), text)
            }
        };
        match how >> 5 {
            1 => {
                entry = entry.declaring(u64::from(b.u8()) << (b.u8() % 40));
                honest = false;
            }
            2 if entry.type_code == OFS_DELTA => {
                entry.base = pack_writer::Base::Distance(u64::from(b.u8()));
                honest = false;
            }
            3 if entry.type_code == REF_DELTA => {
                entry.base = pack_writer::Base::Id([b.u8(); 20]);
                honest = false;
            }
            4 => {
                entry.id = [b.u8(); 20];
                honest = false;
            }
            5 if entry.type_code == BLOB => {
                entry.type_code = b.u8() % 8;
                honest = entry.type_code == BLOB;
            }
            _ => {}
        }
        // Two entries under one id (a delta that rebuilds an earlier blob) is a pack git
        // itself refuses.
        if entries.iter().any(|e| e.id == entry.id) {
            honest = false;
        }
        entries.push(entry);
        blobs.push(content);
    }
    // The tree names every distinct blob (git sorts entries by name; names are f000, f001...).
    let mut ids: Vec<[u8; 20]> = entries.iter().map(|e| e.id).collect();
    let mut tree_data = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        if seen.insert(*id) {
            tree_data.extend_from_slice(format!("100644 f{i:03}\0").as_bytes());
            tree_data.extend_from_slice(id);
        }
    }
    let tree_entry = Entry::object(TREE, &tree_data);
    let commit = format!(
        "tree {}\nauthor a <a@a> 1 +0000\ncommitter a <a@a> 1 +0000\n\nfuzz\n",
        pack_writer::hex(&tree_entry.id)
    );
    let commit_entry = Entry::object(COMMIT, commit.as_bytes());
    let tip = commit_entry.id;
    entries.push(tree_entry);
    entries.push(commit_entry);
    ids.clear();
    let dir = temp();
    let git = skeleton(dir.path());
    write_pack(&git.join("objects/pack"), &entries);
    std::fs::write(
        git.join("refs/heads/main"),
        format!("{}\n", pack_writer::hex(&tip)),
    )
    .unwrap();
    let got = scan_twice(&git, b.u8() & 1 != 0, |_| {});
    if honest {
        let got = got.expect("an honest repository scans");
        assert_eq!(got.outcome, Outcome::Complete, "honest repository: {got:?}");
        assert_eq!(
            got.found,
            expected_findings(&blobs),
            "findings of each blob alone"
        );
    }
}

/// What scanning each distinct blob alone finds, as (rule, blob, start, end, secret).
fn expected_findings(blobs: &[Vec<u8>]) -> BTreeSet<(String, String, u64, u64, Option<String>)> {
    let e = engine();
    let mut scratch = e.new_scratch();
    let mut out = BTreeSet::new();
    for blob in blobs {
        let id = pack_writer::hex(&id_of(BLOB, blob));
        // Findings in extracted or transcoded text are recorded like the others (a blob can
        // happen to be a small gzip or zip).
        let content::Prepared::Text { bytes, .. } = content::prepare(blob, b"f") else {
            continue;
        };
        let mut matches = Vec::new();
        e.scan(&bytes, 0..bytes.len(), &mut scratch, &mut matches);
        for m in matches {
            out.insert((
                e.rule_id(m.rule).to_string(),
                id.clone(),
                m.start as u64,
                m.end as u64,
                Some(String::from_utf8_lossy(&m.secret).into_owned()),
            ));
        }
    }
    out
}

// ---------------------------------------------------------------- seeds

/// Valid inputs for `name` to start from: what the fuzzer mutates first, and what the replay
/// test mutates with a fixed seed.
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    let text = PIECES.concat().into_bytes();
    match name {
        "delta" => {
            let base = b"hello secret world\n".to_vec();
            let d = pack_writer::delta(
                base.len() as u64,
                12,
                &[pack_writer::Op::Copy(0, 6), pack_writer::Op::Insert(b"abcdef")],
            );
            let mut seed = (base.len() as u16).to_le_bytes().to_vec();
            seed.extend_from_slice(&base);
            seed.extend_from_slice(&d);
            vec![seed]
        }
        "tree" => {
            let mut t = b"100644 a.txt\0".to_vec();
            t.extend_from_slice(&[7; 20]);
            t.extend_from_slice(b"40000 dir\0");
            t.extend_from_slice(&[8; 20]);
            vec![t]
        }
        "objects" => vec![
            format!(
                "tree {}\nparent {}\nauthor A <a@b> 1700000000 +0100\ncommitter C <c@d> 1700000001 -0200\n\nmsg\n",
                "1".repeat(40),
                "2".repeat(40)
            )
            .into_bytes(),
        ],
        "extract" => vec![
            br#"{"cells":[{"cell_type":"code","source":["k = 'ghp_R3tJ8bQx2LmN7pVz4KwY6sHc1DfG9aE0uTiO'"],"outputs":[]}],"metadata":{}}"#.to_vec(),
            [&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 3, 1, 0, 5][..], b"hello"].concat(),
            // Archives made by the usual tools: GNU and PAX tars (long names), a tar.gz with a
            // binary member, a tar.bz2, single-file .gz and .xz, a zip holding a zip, a
            // tar.bz2 and a .gz.
            include_bytes!("seeds/extract/pax.tar").to_vec(),
            include_bytes!("seeds/extract/gnu.tar.gz").to_vec(),
            include_bytes!("seeds/extract/pax.tar.bz2").to_vec(),
            include_bytes!("seeds/extract/dump.sql.gz").to_vec(),
            include_bytes!("seeds/extract/dump.sql.xz").to_vec(),
            include_bytes!("seeds/extract/outer.zip").to_vec(),
        ],
        "engine_windows" => vec![
            [&[3u8][..], &text].concat(),
            // Keyword-dense text: clusters of hits share one search.
            [&[40u8][..], &b"postgres://u:p@".repeat(64)].concat(),
            [&[9u8][..], &b"https://deploy:Wiy4xDC3eWWiqSAb59p9@git.internal.net ".repeat(24)].concat(),
            // Every decoding layer: JSON string escapes, XML/HTML entities, hex, and nested.
            [&[5u8][..], ENCODED_SECRETS.as_bytes()].concat(),
            [
                &[2u8][..],
                b"payload = \"",
                b"token = ghp_R3tJ8bQx2LmN7pVz4KwY6sHc1DfG9aE0uTiO"
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
                    .as_bytes(),
                b"\"\n",
            ]
            .concat(),
        ],
        "rules" => vec![
            b"[[rules]]\nid = \"k\"\nregex = '''key_[a-z0-9]{16}'''\nkeywords = [\"key_\"]\n[[rules.allowlists]]\nregexes = ['''example''']\n".to_vec(),
            b"secret.matches('^[a-z]+$') && !finding.path.startsWith('test/')".to_vec(),
        ],
        "pack_files" => {
            let blob = Entry::object(BLOB, &text);
            let (pack, placed) = pack_writer::pack_bytes(std::slice::from_ref(&blob));
            let idx = pack_writer::idx_bytes(&[blob.id], &placed, &pack[pack.len() - 20..]);
            let mut seed = (idx.len() as u16).to_le_bytes().to_vec();
            seed.extend_from_slice(&idx);
            seed.extend_from_slice(&pack);
            vec![seed]
        }
        "loose" => vec![
            [&[6u8][..], b"blob 20\0token = ghp_R3tJ8bQx"].concat(),
            [&[4u8][..], b"commit 10\0tree 1234"].concat(),
        ],
        "repo_files" => {
            let Some(base) = base_repo() else {
                return Vec::new();
            };
            let read = |p: Option<PathBuf>| p.and_then(|p| std::fs::read(p).ok()).unwrap_or_default();
            let pack = base.join("objects/pack");
            vec![
                [&[0u8][..], &read(Some(base.join("objects/info/commit-graph")))].concat(),
                [&[1u8][..], &read(Some(pack.join("multi-pack-index")))].concat(),
                [&[2u8][..], &read(file_ending(&pack, ".rev"))].concat(),
                [&[3u8][..], &read(file_ending(&pack, ".idx"))].concat(),
                [&[4u8][..], &read(Some(base.join("packed-refs")))].concat(),
                [&[5u8][..], b"ref: refs/heads/main\n"].concat(),
                [&[10u8][..], b"main~1..main"].concat(),
                [&[11u8][..], b"refs/tags/*"].concat(),
            ]
        }
        "scan_repo" => vec![
            vec![3, 0, 2, 0, 1, 2, 1, 0, 1, 0, 3, 0, 7, 1, 1],
            vec![5, 0, 3, 0, 5, 3, 1, 0, 0, 4, 1, 2, 0, 2, 1, 4, 2, 0, 0, 2, 6, 3],
        ],
        _ => Vec::new(),
    }
}

/// A small deterministic mutator for the replay test: flips, inserts, deletes and splices.
pub fn mutate(seed: &[u8], state: &mut u64) -> Vec<u8> {
    let mut next = || {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    };
    let mut out = seed.to_vec();
    for _ in 0..1 + next() % 8 {
        let at = if out.is_empty() {
            0
        } else {
            (next() as usize) % out.len()
        };
        match next() % 5 {
            0 if !out.is_empty() => out[at] ^= 1 << (next() % 8),
            1 if !out.is_empty() => out[at] = next() as u8,
            2 => out.insert(at, next() as u8),
            3 if !out.is_empty() => {
                let n = ((next() % 16) as usize).min(out.len() - at);
                out.drain(at..at + n);
            }
            _ => {
                let piece = PIECES[(next() as usize) % PIECES.len()].as_bytes();
                out.splice(at..at, piece.iter().copied());
            }
        }
    }
    out
}
