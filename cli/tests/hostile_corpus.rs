//! The hostile-repository corpus: broken and malicious repositories built at test time (git
//! plus hand-made packs, nothing binary committed), each scanned by the built `scangit` under
//! a 1.5 GiB address-space limit and a 60 s timeout. Every case must end as it states: complete
//! with the planted secrets found, partial naming the skip reason, or one typed error of the
//! right kind; never a panic, `internal`, a hang, unbounded memory, or `complete` after a skip.
//!
//! Each case appends a row (case, outcome, error kind or skip reasons, peak RSS) to
//! `$CARGO_TARGET_TMPDIR/hostile-corpus.tsv`; `tests/hostile/table.sh` prints the table.

#[path = "../../core/tests/pipeline_support/pack_writer.rs"]
mod pack_writer;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pack_writer::{BLOB, Base, COMMIT, Entry, Op, TAG, TREE, delta, hex, id_of, write_pack};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(60);
/// Address space allowed to a scan (`setrlimit(RLIMIT_AS)` in the child).
const ADDRESS_SPACE: u64 = 1536 << 20;

// ---------------------------------------------------------------- running a case

/// What a case must end with.
#[derive(Debug)]
enum Expect {
    /// Outcome complete; these planted secrets (by tag) found.
    Complete(&'static [u32]),
    /// Outcome partial with a skip of this reason; these secrets still found.
    Partial(&'static str, &'static [u32]),
    /// Exit 2 with `scangit: error: KIND:`.
    Error(&'static str),
}

/// A repository to scan and extra arguments.
struct Built {
    repo: PathBuf,
    args: Vec<&'static str>,
}

impl From<PathBuf> for Built {
    fn from(repo: PathBuf) -> Built {
        Built {
            repo,
            args: Vec::new(),
        }
    }
}

/// A planted secret: an AWS access key id, distinct per tag, found by the built-in rules.
fn secret(tag: u32) -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut s = String::from("AKIAQ");
    let mut v = 0x9E37_79B9_7F4A_7C15_u64 ^ u64::from(tag).wrapping_mul(0x2545_F491_4F6C_DD1D);
    for _ in 0..15 {
        v ^= v << 13;
        v ^= v >> 7;
        v ^= v << 17;
        s.push(B32[(v >> 59) as usize] as char);
    }
    s
}

fn line(tag: u32) -> String {
    format!("aws_access_key_id = {}\n", secret(tag))
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    peak_rss_kib: i64,
}

/// Runs `scangit scan` on the case under the limits, returning its output and peak RSS.
fn run_scan(built: &Built, dir: &Path) -> Ran {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scangit"));
    cmd.arg("scan")
        .arg(&built.repo)
        .args(["--format", "jsonl", "--no-progress", "--reveal-secrets"])
        .args(if built.args.contains(&"--threads") {
            &[][..]
        } else {
            &["--threads", "2"][..]
        })
        .args(&built.args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    // SAFETY: the closure runs in the forked child before exec and only calls setrlimit, which
    // is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // Reaped below by wait4 (which also gives its peak RSS), not by Child::wait.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawn scangit");
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let (status, rss) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our child, not yet reaped; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break (status, usage.ru_maxrss);
        }
        assert!(r == 0, "wait4 failed");
        if start.elapsed() > TIMEOUT {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!(
                "scangit hung on {} (killed after {TIMEOUT:?})",
                built.repo.display()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ran {
        code,
        stdout: std::fs::read_to_string(&out).unwrap(),
        stderr: std::fs::read_to_string(&err).unwrap(),
        peak_rss_kib: rss,
    }
}

fn check(name: &str, build: fn(&Path) -> Built, expect: Expect) {
    let dir = temp_dir(name);
    let built = build(&dir);
    let ran = run_scan(&built, &dir);
    let context = format!(
        "case {name}: exit {:?}\nstderr: {}\nstdout tail: {}",
        ran.code,
        ran.stderr,
        ran.stdout.lines().last().unwrap_or("")
    );
    assert!(ran.code.is_some(), "killed by a signal: {context}");
    assert!(
        !ran.stderr.contains("internal") && !ran.stderr.contains("panicked"),
        "{context}"
    );
    let lines: Vec<Value> = ran
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad jsonl {l:?}: {e}")))
        .collect();
    let summary = lines.last().filter(|v| v["type"] == "summary");
    let (outcome, detail) = match (&expect, summary) {
        (Expect::Error(kind), _) => {
            assert_eq!(ran.code, Some(2), "{context}");
            let want = format!("scangit: error: {kind}: ");
            assert!(ran.stderr.starts_with(&want), "want {want:?}: {context}");
            assert_eq!(ran.stderr.lines().count(), 1, "one line: {context}");
            ("error".to_string(), kind.to_string())
        }
        (Expect::Complete(tags) | Expect::Partial(_, tags), Some(s)) => {
            assert!(matches!(ran.code, Some(0 | 1)), "{context}");
            let found: Vec<&str> = lines
                .iter()
                .filter(|v| v["type"] == "finding")
                .filter_map(|v| v["secret"].as_str())
                .collect();
            for &t in *tags {
                assert!(
                    found.contains(&secret(t).as_str()),
                    "secret {t} not found: {context}"
                );
            }
            let reasons: Vec<String> = s["skipped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| format!("{}x{}", k["reason"].as_str().unwrap(), k["count"]))
                .collect();
            let outcome = s["outcome"].as_str().unwrap().to_string();
            match expect {
                Expect::Partial(reason, _) => {
                    assert_eq!(outcome, "partial", "{context}");
                    assert!(
                        reasons.iter().any(|r| r.starts_with(&format!("{reason}x"))),
                        "want a {reason} skip, got {reasons:?}: {context}"
                    );
                }
                _ => {
                    assert_eq!(outcome, "complete", "{context}");
                    assert!(
                        reasons.iter().all(|r| r.starts_with("binaryx")),
                        "complete after skips {reasons:?}: {context}"
                    );
                }
            }
            (outcome, reasons.join(","))
        }
        (_, None) => panic!("no summary: {context}"),
    };
    let row = format!("{name}\t{outcome}\t{detail}\t{}\n", ran.peak_rss_kib);
    let table = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile-corpus.tsv");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(table)
        .unwrap();
    f.write_all(row.as_bytes()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

macro_rules! cases {
    ($($name:ident: $build:expr => $expect:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), $build, $expect);
            }
        )*
        #[test]
        fn the_corpus_has_at_least_forty_cases() {
            assert!([$(stringify!($name)),*].len() >= 40);
        }
    };
}

// ---------------------------------------------------------------- building repositories

fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn git(cwd: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(["-c", "gc.auto=0", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(cwd)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// A work tree whose history commits `files` one per commit (secret tags 1, 2, ... by file
/// order); returns its `.git`.
fn history(dir: &Path, files: &[(&str, String)]) -> PathBuf {
    let work = dir.join("w");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q"]);
    for (name, content) in files {
        let path = work.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        git(&work, &["add", "."]);
        git(&work, &["commit", "-qm", name]);
    }
    work.join(".git")
}

/// Two commits (secrets 1 in a.txt, 2 in b.txt), everything in one pack.
fn packed(dir: &Path) -> PathBuf {
    let g = history(dir, &[("a.txt", line(1)), ("b.txt", line(2))]);
    git(&g, &["repack", "-adq"]);
    git(&g, &["prune-packed"]);
    g
}

/// Two commits (secrets 1, 2), all objects loose.
fn loose(dir: &Path) -> PathBuf {
    history(dir, &[("a.txt", line(1)), ("b.txt", line(2))])
}

fn file_ending(dir: &Path, suffix: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no *{suffix} in {}", dir.display()))
}

fn pack_of(g: &Path) -> PathBuf {
    file_ending(&g.join("objects/pack"), ".pack")
}

fn idx_of(g: &Path) -> PathBuf {
    file_ending(&g.join("objects/pack"), ".idx")
}

fn edit(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut b = std::fs::read(path).unwrap();
    f(&mut b);
    std::fs::write(path, b).unwrap();
}

/// The loose object file of `id`.
fn loose_path(g: &Path, id: &str) -> PathBuf {
    g.join("objects").join(&id[..2]).join(&id[2..])
}

fn blob_id(g: &Path, rev: &str) -> String {
    git(g, &["rev-parse", rev])
}

/// The pack offset of object `id` (from `git show-index`).
fn offset_of(g: &Path, id: &str) -> usize {
    let out = Command::new("git")
        .arg("show-index")
        .stdin(std::fs::File::open(idx_of(g)).unwrap())
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find(|l| l.contains(id))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// A bare repository holding one hand-made pack of `entries` plus a tree naming `blobs`
/// (as f0, f1, ...) and a commit on `main`.
fn hand(dir: &Path, entries: Vec<Entry>, blobs: &[[u8; 20]]) -> PathBuf {
    let mut tree = Vec::new();
    let mut named: Vec<(String, [u8; 20])> = blobs
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("f{i:05}"), *id))
        .collect();
    named.sort();
    for (name, id) in &named {
        tree.extend_from_slice(format!("100644 {name}\0").as_bytes());
        tree.extend_from_slice(id);
    }
    with_tree(dir, entries, &tree)
}

/// A bare repository holding `entries` plus the tree `tree` (raw bytes) and a commit of it on
/// `main`, in one hand-made pack.
fn with_tree(dir: &Path, mut entries: Vec<Entry>, tree: &[u8]) -> PathBuf {
    let t = Entry::object(TREE, tree);
    let c = Entry::object(COMMIT, commit_text(&t.id, &[]).as_bytes());
    let tip = c.id;
    entries.push(t);
    entries.push(c);
    published(dir, &entries, tip)
}

/// A bare repository holding `entries` in one hand-made pack, `main` at `tip`.
fn published(dir: &Path, entries: &[Entry], tip: [u8; 20]) -> PathBuf {
    let g = bare(dir);
    write_pack(&g.join("objects/pack"), entries);
    std::fs::write(g.join("refs/heads/main"), format!("{}\n", hex(&tip))).unwrap();
    g
}

fn bare(dir: &Path) -> PathBuf {
    let g = dir.join("r.git");
    for d in ["objects/pack", "objects/info", "refs/heads", "refs/tags"] {
        std::fs::create_dir_all(g.join(d)).unwrap();
    }
    std::fs::write(g.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    g
}

fn commit_text(tree: &[u8; 20], parents: &[[u8; 20]]) -> String {
    let mut s = format!("tree {}\n", hex(tree));
    for p in parents {
        s.push_str(&format!("parent {}\n", hex(p)));
    }
    s + "author a <a@a> 1700000000 +0000\ncommitter a <a@a> 1700000000 +0000\n\nm\n"
}

fn blob(tag: u32) -> Entry {
    Entry::object(BLOB, line(tag).as_bytes())
}

/// A delta on `base` (its bytes) appending `tail`; returns (instructions, result).
fn append(base: &[u8], tail: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let result = [base, tail].concat();
    let d = delta(
        base.len() as u64,
        result.len() as u64,
        &[Op::Copy(0, base.len() as u64), Op::Insert(tail)],
    );
    (d, result)
}

/// A stored-only zip whose central directory lists `copies` entries, all pointing at one local
/// entry holding `data` (a zip bomb by repetition).
fn zip_bomb(data: &[u8], copies: u16) -> Vec<u8> {
    let name = b"a.properties";
    let mut out = b"PK\x03\x04".to_vec();
    out.extend_from_slice(&[20, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(data);
    let cd_off = out.len() as u32;
    let mut central = Vec::new();
    for _ in 0..copies {
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&[0; 8]);
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(name);
    }
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&copies.to_le_bytes());
    out.extend_from_slice(&copies.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

// ---------------------------------------------------------------- the cases

cases! {
    // Packs and indexes made by git, then damaged.
    pack_truncated_in_half: |d| {
        let g = packed(d);
        edit(&pack_of(&g), |b| b.truncate(b.len() / 2));
        g.into()
    } => Expect::Partial("corrupt", &[]);
    pack_truncated_to_its_header: |d| {
        let g = packed(d);
        edit(&pack_of(&g), |b| b.truncate(12));
        g.into()
    } => Expect::Error("corrupt");
    pack_emptied: |d| {
        let g = packed(d);
        std::fs::write(pack_of(&g), b"").unwrap();
        g.into()
    } => Expect::Error("corrupt");
    pack_bit_flipped_in_a_blob: |d| {
        let g = packed(d);
        let at = offset_of(&g, &blob_id(&g, "HEAD:b.txt"));
        edit(&pack_of(&g), |b| b[at + 4] ^= 0x10);
        g.into()
    } => Expect::Partial("corrupt", &[1]);
    pack_of_another_version: |d| {
        let g = packed(d);
        edit(&pack_of(&g), |b| b[7] = 9);
        g.into()
    } => Expect::Error("corrupt");
    idx_truncated: |d| {
        let g = packed(d);
        edit(&idx_of(&g), |b| b.truncate(b.len() / 2));
        g.into()
    } => Expect::Error("corrupt");
    idx_with_bad_magic: |d| {
        let g = packed(d);
        edit(&idx_of(&g), |b| b[0] = b'X');
        g.into()
    } => Expect::Error("corrupt");
    idx_fanout_decreasing: |d| {
        let g = packed(d);
        edit(&idx_of(&g), |b| b[8 + 4 * 200..8 + 4 * 201].copy_from_slice(&[0xff; 4]));
        g.into()
    } => Expect::Error("corrupt");
    idx_of_another_pack: |d| {
        let g = packed(d);
        let other = history(&d.join("other"), &[("c.txt", line(3)), ("d.txt", line(4))]);
        git(&other, &["repack", "-adq"]);
        std::fs::copy(idx_of(&other), idx_of(&g)).unwrap();
        g.into()
    } => Expect::Partial("missing", &[]);
    idx_offset_past_the_pack_end: |d| {
        let g = packed(d);
        edit(&idx_of(&g), |b| {
            let n = u32::from_be_bytes(b[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
            let first = 8 + 1024 + 24 * n;
            b[first..first + 4].copy_from_slice(&0x7fff_0000u32.to_be_bytes());
        });
        g.into()
    } => Expect::Partial("corrupt", &[]);

    // Hand-made pack entries.
    ofs_delta_reaching_before_the_pack: |d| {
        let (dl, result) = append(line(1).as_bytes(), b"x");
        let mut e = Entry::ofs_delta(0, dl).with_id(id_of(BLOB, &result));
        e.base = Base::Distance(1 << 20);
        hand(d, vec![blob(1), e.clone()], &[blob(1).id, e.id]).into()
    } => Expect::Partial("corrupt", &[1]);
    ofs_delta_on_itself: |d| {
        let (dl, result) = append(line(1).as_bytes(), b"x");
        let mut e = Entry::ofs_delta(0, dl).with_id(id_of(BLOB, &result));
        e.base = Base::Distance(0);
        hand(d, vec![blob(1), e.clone()], &[blob(1).id, e.id]).into()
    } => Expect::Partial("corrupt", &[1]);
    ref_delta_cycle_of_two: |d| {
        let (a, b) = ([0xa1; 20], [0xb2; 20]);
        let (d1, _) = append(b"12345", b"x");
        let e1 = Entry::ref_delta(b, d1.clone()).with_id(a);
        let e2 = Entry::ref_delta(a, d1).with_id(b);
        hand(d, vec![blob(1), e1, e2], &[blob(1).id, a, b]).into()
    } => Expect::Partial("corrupt", &[1]);
    ref_delta_on_itself: |d| {
        let a = [0xa3; 20];
        let (d1, _) = append(b"12345", b"x");
        hand(d, vec![blob(1), Entry::ref_delta(a, d1).with_id(a)], &[blob(1).id, a]).into()
    } => Expect::Partial("corrupt", &[1]);
    ref_delta_on_a_missing_base: |d| {
        let (d1, r) = append(b"12345", b"x");
        let e = Entry::ref_delta([0xee; 20], d1).with_id(id_of(BLOB, &r));
        hand(d, vec![blob(1), e.clone()], &[blob(1).id, e.id]).into()
    } => Expect::Partial("corrupt", &[1]);
    delta_copying_outside_its_base: |d| {
        let base = line(1);
        let dl = delta(base.len() as u64, 100, &[Op::Copy(base.len() as u64 - 2, 100)]);
        let e = Entry::ofs_delta(0, dl).with_id([0x44; 20]);
        hand(d, vec![blob(1), e.clone()], &[blob(1).id, e.id]).into()
    } => Expect::Partial("corrupt", &[1]);
    delta_lying_about_its_result_size: |d| {
        let base = line(1);
        let dl = delta(base.len() as u64, 7, &[Op::Copy(0, base.len() as u64)]);
        let e = Entry::ofs_delta(0, dl).with_id([0x45; 20]);
        hand(d, vec![blob(1), e.clone()], &[blob(1).id, e.id]).into()
    } => Expect::Partial("corrupt", &[1]);
    delta_declaring_a_3_gib_result: |d| {
        let base = line(1);
        let dl = delta(base.len() as u64, 3 << 30, &[Op::Copy(0, base.len() as u64)]);
        let e = Entry::ofs_delta(0, dl).with_id([0x46; 20]);
        hand(d, vec![blob(1), e.clone()], &[blob(1).id, e.id]).into()
    } => Expect::Partial("too_large", &[1]);
    blob_declaring_a_terabyte: |d| {
        let e = blob(2).declaring(1 << 40);
        hand(d, vec![blob(1), e.clone()], &[blob(1).id, e.id]).into()
    } => Expect::Partial("too_large", &[1]);
    zlib_stream_longer_than_declared: |d| {
        let e = blob(2).declaring(5);
        hand(d, vec![blob(1), e.clone()], &[blob(1).id, e.id]).into()
    } => Expect::Partial("corrupt", &[1]);
    reserved_entry_type_5: |d| {
        let mut e = blob(2);
        e.type_code = 5;
        hand(d, vec![blob(1), e.clone()], &[blob(1).id, e.id]).into()
    } => Expect::Partial("corrupt", &[1]);
    delta_chain_3000_deep_is_valid: |d| {
        let mut entries = vec![Entry::object(BLOB, b"start\n")];
        let mut content = b"start\n".to_vec();
        for i in 0..3000 {
            let tail = if i == 2999 { line(1) } else { format!("{i}\n") };
            let (dl, r) = append(&content, tail.as_bytes());
            entries.push(Entry::ofs_delta(i, dl).with_id(id_of(BLOB, &r)));
            content = r;
        }
        let tip = entries.last().unwrap().id;
        hand(d, entries, &[tip]).into()
    } => Expect::Complete(&[1]);

    // Multi-pack-index, commit-graph and reverse index: derived files a scan can do without.
    commit_graph_of_random_bytes: |d| {
        let g = packed(d);
        git(&g, &["commit-graph", "write", "--reachable"]);
        edit(&g.join("objects/info/commit-graph"), |b| {
            for (i, x) in b.iter_mut().enumerate().skip(8) {
                *x = (i * 131 % 251) as u8;
            }
        });
        g.into()
    } => Expect::Complete(&[1, 2]);
    commit_graph_truncated: |d| {
        let g = packed(d);
        git(&g, &["commit-graph", "write", "--reachable"]);
        edit(&g.join("objects/info/commit-graph"), |b| b.truncate(b.len() / 2));
        g.into()
    } => Expect::Complete(&[1, 2]);
    commit_graph_stale_after_new_commits: |d| {
        let g = packed(d);
        git(&g, &["commit-graph", "write", "--reachable"]);
        let work = g.parent().unwrap();
        std::fs::write(work.join("c.txt"), line(3)).unwrap();
        git(work, &["add", "."]);
        git(work, &["commit", "-qm", "c"]);
        g.into()
    } => Expect::Complete(&[1, 2, 3]);
    reverse_index_of_garbage: |d| {
        let g = packed(d);
        git(&g, &["index-pack", "--rev-index", pack_of(&g).to_str().unwrap()]);
        edit(&file_ending(&g.join("objects/pack"), ".rev"), |b| b[12..].fill(0x5a));
        g.into()
    } => Expect::Complete(&[1, 2]);
    multi_pack_index_of_garbage: |d| {
        let g = packed(d);
        git(&g, &["multi-pack-index", "write"]);
        edit(&g.join("objects/pack/multi-pack-index"), |b| b[12..].fill(0xa5));
        g.into()
    } => Expect::Complete(&[1, 2]);
    multi_pack_index_naming_a_deleted_pack: |d| {
        let g = packed(d);
        git(&g, &["multi-pack-index", "write"]);
        let work = g.parent().unwrap();
        std::fs::write(work.join("c.txt"), line(3)).unwrap();
        git(work, &["add", "."]);
        git(work, &["commit", "-qm", "c"]);
        git(&g, &["repack", "-adq"]);
        g.into()
    } => Expect::Complete(&[1, 2, 3]);

    // Loose objects.
    loose_blob_with_a_bad_header: |d| {
        let g = loose(d);
        let p = loose_path(&g, &blob_id(&g, "HEAD:b.txt"));
        std::fs::remove_file(&p).unwrap();
        std::fs::write(&p, pack_writer::zlib(b"blob twelve\0aws")).unwrap();
        g.into()
    } => Expect::Partial("corrupt", &[1]);
    loose_blob_not_zlib: |d| {
        let g = loose(d);
        let p = loose_path(&g, &blob_id(&g, "HEAD:b.txt"));
        std::fs::remove_file(&p).unwrap();
        std::fs::write(&p, b"not compressed at all").unwrap();
        g.into()
    } => Expect::Partial("corrupt", &[1]);
    loose_blob_declaring_a_terabyte: |d| {
        let g = loose(d);
        let p = loose_path(&g, &blob_id(&g, "HEAD:b.txt"));
        std::fs::remove_file(&p).unwrap();
        std::fs::write(&p, pack_writer::zlib(b"blob 1099511627776\0aws_access")).unwrap();
        g.into()
    } => Expect::Partial("too_large", &[1]);
    loose_blob_deleted: |d| {
        let g = loose(d);
        std::fs::remove_file(loose_path(&g, &blob_id(&g, "HEAD:b.txt"))).unwrap();
        g.into()
    } => Expect::Partial("missing", &[1]);
    loose_parent_commit_deleted: |d| {
        let g = history(d, &[("a.txt", line(1)), ("b.txt", line(2)), ("c.txt", line(3))]);
        std::fs::remove_file(loose_path(&g, &blob_id(&g, "HEAD~1"))).unwrap();
        g.into()
    } => Expect::Partial("missing", &[3]);
    loose_tree_deleted: |d| {
        let g = loose(d);
        std::fs::remove_file(loose_path(&g, &blob_id(&g, "HEAD^{tree}"))).unwrap();
        g.into()
    } => Expect::Partial("missing", &[1]);

    // Commits, trees, tags and refs.
    commit_with_3000_parents: |d| {
        let empty = Entry::object(TREE, b"");
        let mut entries = vec![blob(1)];
        let mut parents = Vec::new();
        for i in 0..3000u32 {
            let c = Entry::object(COMMIT, format!("{}{i}\n", commit_text(&empty.id, &[])).as_bytes());
            parents.push(c.id);
            entries.push(c);
        }
        let mut tree = b"100644 k\0".to_vec();
        tree.extend_from_slice(&blob(1).id);
        let t = Entry::object(TREE, &tree);
        let merge = Entry::object(COMMIT, commit_text(&t.id, &parents).as_bytes());
        let tip = merge.id;
        entries.extend([empty, t, merge]);
        let g = published(d, &entries, tip);
        Built { repo: g, args: vec!["--mode", "diff-history"] }
    } => Expect::Complete(&[1]);
    tree_with_200000_entries: |d| {
        let ids = vec![blob(1).id; 200_000];
        hand(d, vec![blob(1)], &ids).into()
    } => Expect::Complete(&[1]);
    tree_with_invalid_names: |d| {
        let mut tree = Vec::new();
        for name in [&b""[..], b"..", b"a/b", b"\xff\xfe", b".git"] {
            tree.extend_from_slice(b"100644 ");
            tree.extend_from_slice(name);
            tree.push(0);
            tree.extend_from_slice(&blob(1).id);
        }
        let g = with_tree(d, vec![blob(1)], &tree);
        g.into()
    } => Expect::Complete(&[1]);
    tree_naming_a_blob_as_a_subtree: |d| {
        let mut tree = b"40000 dir\0".to_vec();
        tree.extend_from_slice(&blob(1).id);
        tree.extend_from_slice(b"100644 z\0");
        tree.extend_from_slice(&blob(2).id);
        let g = with_tree(d, vec![blob(1), blob(2)], &tree);
        Built { repo: g, args: vec!["--mode", "diff-history"] }
    } => Expect::Partial("corrupt", &[2]);
    commit_whose_tree_is_a_blob: |d| {
        let c = Entry::object(COMMIT, commit_text(&blob(1).id, &[]).as_bytes());
        let tip = c.id;
        let g = published(d, &[blob(1), c], tip);
        Built { repo: g, args: vec!["--mode", "diff-history"] }
    } => Expect::Partial("corrupt", &[]);
    tags_1000_deep: |d| {
        let g = packed(d);
        let mut target = git(&g, &["rev-parse", "HEAD"]);
        let mut kind = "commit";
        let mut entries = Vec::new();
        for i in 0..1000 {
            let text = format!("object {target}\ntype {kind}\ntag t{i}\ntagger a <a@a> 1 +0000\n\nt\n");
            let e = Entry::object(TAG, text.as_bytes());
            target = hex(&e.id);
            kind = "tag";
            entries.push(e);
        }
        write_pack(&g.join("objects/pack"), &entries);
        std::fs::write(g.join("refs/tags/deep"), format!("{target}\n")).unwrap();
        Built { repo: g, args: vec!["--include-ref", "refs/tags/*"] }
    } => Expect::Complete(&[1, 2]);
    tag_pointing_at_itself: |d| {
        let g = packed(d);
        let id = [0x7a; 20];
        let text = format!("object {}\ntype tag\ntag loop\ntagger a <a@a> 1 +0000\n\nt\n", hex(&id));
        write_pack(&g.join("objects/pack"), &[Entry::object(TAG, text.as_bytes()).with_id(id)]);
        std::fs::write(g.join("refs/tags/loop"), format!("{}\n", hex(&id))).unwrap();
        g.into()
    } => Expect::Partial("corrupt", &[1, 2]);
    ref_to_a_blob: |d| {
        let g = packed(d);
        let e = blob(3);
        write_pack(&g.join("objects/pack"), std::slice::from_ref(&e));
        std::fs::write(g.join("refs/tags/blob"), format!("{}\n", hex(&e.id))).unwrap();
        g.into()
    } => Expect::Complete(&[1, 2, 3]);
    ref_to_a_missing_object: |d| {
        let g = packed(d);
        std::fs::write(g.join("refs/heads/gone"), format!("{}\n", "d".repeat(40))).unwrap();
        g.into()
    } => Expect::Partial("missing", &[1, 2]);
    packed_refs_with_a_garbage_line: |d| {
        let g = packed(d);
        git(&g, &["pack-refs", "--all"]);
        edit(&g.join("packed-refs"), |b| b.extend_from_slice(b"this is not a ref line\n"));
        g.into()
    } => Expect::Error("corrupt");
    head_unborn_with_other_branches: |d| {
        let g = packed(d);
        std::fs::write(g.join("HEAD"), "ref: refs/heads/nothing-here\n").unwrap();
        g.into()
    } => Expect::Complete(&[1, 2]);
    shallow_file_naming_missing_commits: |d| {
        let g = packed(d);
        std::fs::write(g.join("shallow"), format!("{}\n{}\n", "1".repeat(40), "2".repeat(40))).unwrap();
        g.into()
    } => Expect::Complete(&[1, 2]);
    git_file_pointing_at_itself: |d| {
        let w = d.join("w");
        std::fs::create_dir_all(&w).unwrap();
        std::fs::write(w.join(".git"), format!("gitdir: {}\n", w.join(".git").display())).unwrap();
        w.into()
    } => Expect::Error("repo_not_found");
    alternates_pointing_at_each_other: |d| {
        let a = packed(&d.join("a"));
        let b = packed(&d.join("b"));
        std::fs::write(a.join("objects/info/alternates"), format!("{}\n", b.join("objects").display())).unwrap();
        std::fs::write(b.join("objects/info/alternates"), format!("{}\n", a.join("objects").display())).unwrap();
        a.into()
    } => Expect::Complete(&[1, 2]);
    submodule_entry_naming_an_absent_commit: |d| {
        let mut tree = b"160000 sub\0".to_vec();
        tree.extend_from_slice(&[0x33; 20]);
        tree.extend_from_slice(b"100644 z\0");
        tree.extend_from_slice(&blob(1).id);
        let g = with_tree(d, vec![blob(1)], &tree);
        g.into()
    } => Expect::Complete(&[1]);
    not_a_repository: |d| {
        std::fs::write(d.join("file"), "x").unwrap();
        d.to_path_buf().into()
    } => Expect::Error("repo_not_found");
    empty_repository: |d| {
        let g = bare(d);
        g.into()
    } => Expect::Complete(&[]);
    reftable_repository: |d| {
        let g = bare(d);
        std::fs::create_dir_all(g.join("reftable")).unwrap();
        g.into()
    } => Expect::Error("repo_not_found");

    // Archives.
    jar_with_65535_entries_pointing_at_one_megabyte: |d| {
        let data = [line(1).as_bytes(), &vec![b'x'; 1 << 20]].concat();
        let jar = zip_bomb(&data, 65_535);
        let g = history(d, &[("a.txt", line(2))]);
        let work = g.parent().unwrap();
        std::fs::write(work.join("app.jar"), jar).unwrap();
        git(work, &["add", "."]);
        git(work, &["commit", "-qm", "jar"]);
        g.into()
    } => Expect::Complete(&[1, 2]);

    // Options that name too much.
    absurd_thread_count: |d| {
        Built { repo: packed(d), args: vec!["--threads", "1000000000"] }
    } => Expect::Error("invalid_argument");
}
