//! Several processes and crashes against one SQLite file. The test binary re-executes itself
//! as the child (`child_process_entry` with `SCANGIT_PERSIST_CHILD` set), so no extra binary is
//! needed.

mod persist_support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use persist_support::*;
use scangit_core::scan::finalize::build_finalize_ops;
use scangit_core::store::{PersistenceStore, SqliteStore, persist_finalize_output};

const CHILD_ENV: &str = "SCANGIT_PERSIST_CHILD";
const KILL_BATCH: u64 = 300_000;

fn spawn_child(role: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "child_process_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "CHILD {line}").unwrap();
    out.flush().unwrap();
}

/// Child roles: `concurrent:<db>:<k>` commits 15 small scans as writer `k`;
/// `big:<db>` commits 300k-blob batches until killed.
#[test]
fn child_process_entry() {
    let Ok(role) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = role.split(':').collect();
    let s = scope("shared-repo", 1);
    match parts[..] {
        ["concurrent", db, k] => {
            let k: u64 = k.parse().unwrap();
            let store = SqliteStore::open(db).unwrap();
            for i in 0..15u64 {
                let seq = store.begin_scan(&s).unwrap();
                let first = k * 1_000_000 + i * 200;
                let mut inp = input(s.clone(), seq, blobs(first..first + 200));
                inp.start_set = refs(&[("refs/heads/main", 10_000 + seq)]);
                persist_finalize_output(&store, &s, &build_finalize_ops(&inp)).unwrap();
                say(format!("seq {seq}"));
            }
        }
        ["big", db] => {
            let store = SqliteStore::open(db).unwrap();
            for i in 0.. {
                let out = build_finalize_ops(&input(
                    s.clone(),
                    i + 1,
                    blobs(i * KILL_BATCH..(i + 1) * KILL_BATCH),
                ));
                say(format!("begin {i}"));
                persist_finalize_output(&store, &s, &out).unwrap();
                say(format!("done {i}"));
            }
        }
        _ => panic!("unknown child role {role}"),
    }
}

fn child_lines(child: &mut Child) -> impl Iterator<Item = String> + use<> {
    BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        // libtest may print "test child_process_entry ... " on the same line as the first message.
        .filter_map(|l| l.split_once("CHILD ").map(|(_, m)| m.to_owned()))
}

fn count_seen(store: &SqliteStore, range: std::ops::Range<u64>) -> usize {
    let s = scope("shared-repo", 1);
    let ids: Vec<_> = range.map(oid).collect();
    store
        .seen_blobs(&s, &ids)
        .unwrap()
        .into_iter()
        .filter(|&b| b)
        .count()
}

#[test]
fn two_processes_committing_into_one_file_stay_correct() {
    let dir = temp_dir("two-procs");
    let db = dir.path().join("store.db");
    let db_str = db.to_str().unwrap();
    let mut children: Vec<Child> = (0..2)
        .map(|k| spawn_child(&format!("concurrent:{db_str}:{k}")))
        .collect();
    let mut seqs = Vec::new();
    for c in &mut children {
        seqs.extend(
            child_lines(c)
                .filter_map(|l| l.strip_prefix("seq ").map(|n| n.parse::<u64>().unwrap())),
        );
    }
    for c in &mut children {
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(seqs.len(), 30);
    let mut unique = seqs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        30,
        "every scan got its own sequence: {seqs:?}"
    );

    assert!(integrity_ok(&db));
    let store = SqliteStore::open(&db).unwrap();
    for k in 0..2u64 {
        let first = k * 1_000_000;
        assert_eq!(count_seen(&store, first..first + 3000), 3000, "writer {k}");
    }
    // Whatever the interleaving, the newest scan's tip is the one left standing.
    let max = *unique.last().unwrap();
    let wm = store.load_watermarks(&scope("shared-repo", 1)).unwrap();
    let main = wm.iter().find(|w| w.name == "refs/heads/main").unwrap();
    assert_eq!((main.scan_seq, main.tip), (max, oid(10_000 + max)));
}

#[test]
fn kill_9_during_a_large_commit_leaves_a_consistent_file() {
    let dir = temp_dir("kill9");
    let db = dir.path().join("store.db");
    let mut child = spawn_child(&format!("big:{}", db.to_str().unwrap()));
    let mut lines = child_lines(&mut child);
    // Time the first commit, then kill the child half-way through the second.
    assert_eq!(lines.next().as_deref(), Some("begin 0"));
    let t = Instant::now();
    assert_eq!(lines.next().as_deref(), Some("done 0"));
    let commit_time = t.elapsed();
    assert_eq!(lines.next().as_deref(), Some("begin 1"));
    std::thread::sleep(commit_time / 2);
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let late: Vec<String> = lines.collect();

    assert!(integrity_ok(&db), "integrity_check after kill -9");
    let store = SqliteStore::open(&db).unwrap();
    assert!(integrity_ok(&db));
    assert_eq!(count_seen(&store, 0..KILL_BATCH), KILL_BATCH as usize);
    let visible = count_seen(&store, KILL_BATCH..2 * KILL_BATCH);
    assert!(
        visible == 0 || visible == KILL_BATCH as usize,
        "batch 1 is all or nothing, saw {visible}"
    );
    assert_consistent_rows(&db, visible != 0);
    eprintln!(
        "kill -9 after {:?} of a {:?} commit: batch 1 {} (child said {late:?})",
        commit_time / 2,
        commit_time,
        if visible == 0 { "absent" } else { "complete" }
    );

    // The next scan commits normally and the file stays sound.
    let s = scope("shared-repo", 1);
    let out = build_finalize_ops(&input(s.clone(), 9, blobs(KILL_BATCH..2 * KILL_BATCH)));
    persist_finalize_output(&store, &s, &out).unwrap();
    assert_eq!(
        count_seen(&store, KILL_BATCH..2 * KILL_BATCH),
        KILL_BATCH as usize
    );
    drop(store);
    assert!(integrity_ok(&db));
}

/// Ordinals, findings and contexts agree with the seen set: one batch's rows all or none.
fn assert_consistent_rows(db: &Path, batch1_visible: bool) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let batches = if batch1_visible { 2 } else { 1 };
    let findings = 2
        * (0..batches as u64 * KILL_BATCH)
            .filter(|n| n % 7 == 0)
            .count() as i64;
    assert_eq!(
        count("SELECT count(*) FROM blob_ordinals"),
        batches * KILL_BATCH as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM kv"),
        batches * KILL_BATCH as i64
    );
    assert_eq!(count("SELECT count(*) FROM findings"), findings);
    let wm_seq = count("SELECT max(scan_seq) FROM watermarks");
    assert_eq!(wm_seq, batches, "watermarks move with their batch");
}
