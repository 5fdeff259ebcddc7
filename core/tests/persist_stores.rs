//! Both stores (in-memory and SQLite) behave the same: round trips, batched seen lookups,
//! scoping by rules hash, newer-never-loses watermarks, and failures that change nothing.

mod persist_support;

use persist_support::*;
use scangit_core::scan::finalize::build_finalize_ops;
use scangit_core::store::codec::{FinalizeOutput, RefWatermark, WriteOp};
use scangit_core::store::{
    FailingStore, MemoryStore, PersistenceStore, SqliteStore, StoreError, StoreMethod,
    persist_finalize_output,
};
use scangit_core::{ErrorKind, Outcome, ScanError};

/// Run `check` against a fresh store of each kind.
fn each_store(check: impl Fn(&dyn PersistenceStore, &str)) {
    let mem = MemoryStore::new();
    check(&mem, "memory");
    let dir = temp_dir("stores");
    let sqlite = SqliteStore::open(dir.path().join("store.db")).unwrap();
    check(&sqlite, "sqlite");
}

fn commit(
    store: &dyn PersistenceStore,
    out: &FinalizeOutput,
    s: &scangit_core::store::codec::Scope,
) {
    persist_finalize_output(store, s, out).unwrap();
}

#[test]
fn commit_then_lookup_round_trips_in_both_stores() {
    each_store(|store, kind| {
        let s = scope("repo", 1);
        let seq = store.begin_scan(&s).unwrap();
        let out = build_finalize_ops(&input(s.clone(), seq, blobs(0..500)));
        commit(store, &out, &s);
        let ids: Vec<_> = (0..500).map(oid).collect();
        assert!(
            store.seen_blobs(&s, &ids).unwrap().iter().all(|&b| b),
            "{kind}"
        );
        let wm = store.load_watermarks(&s).unwrap();
        assert_eq!(
            wm,
            vec![
                RefWatermark {
                    name: "refs/heads/main".into(),
                    tip: oid(1),
                    scan_seq: seq
                },
                RefWatermark {
                    name: "refs/tags/v1".into(),
                    tip: oid(2),
                    scan_seq: seq
                },
            ],
            "{kind}"
        );
        // Committing the same batch again changes nothing visible.
        commit(store, &out, &s);
        assert_eq!(store.load_watermarks(&s).unwrap(), wm, "{kind}");
    });
}

#[test]
fn seen_blobs_answers_each_batch_position_in_order() {
    each_store(|store, kind| {
        let s = scope("repo", 1);
        let out = build_finalize_ops(&input(s.clone(), 1, blobs(0..1000)));
        commit(store, &out, &s);
        // Mixed batch: seen, unseen, duplicates, in arbitrary order.
        let batch: Vec<u64> = vec![5, 1_000_001, 999, 5, 2_000_000, 0, 1000];
        let ids: Vec<_> = batch.iter().map(|&n| oid(n)).collect();
        let got = store.seen_blobs(&s, &ids).unwrap();
        let want: Vec<bool> = batch.iter().map(|&n| n < 1000).collect();
        assert_eq!(got, want, "{kind}");
        assert_eq!(store.seen_blobs(&s, &[]).unwrap(), Vec::<bool>::new());
        // Large batches in several calls agree with one call.
        let ids: Vec<_> = (0..3000).map(oid).collect();
        let whole = store.seen_blobs(&s, &ids).unwrap();
        let parts: Vec<bool> = ids
            .chunks(256)
            .flat_map(|c| store.seen_blobs(&s, c).unwrap())
            .collect();
        assert_eq!(whole, parts, "{kind}");
        assert_eq!(whole.iter().filter(|&&b| b).count(), 1000, "{kind}");
    });
}

#[test]
fn another_rules_hash_or_repo_sees_nothing() {
    each_store(|store, kind| {
        let s = scope("repo", 1);
        commit(
            store,
            &build_finalize_ops(&input(s.clone(), 1, blobs(0..100))),
            &s,
        );
        let ids: Vec<_> = (0..100).map(oid).collect();
        for other in [scope("repo", 2), scope("other-repo", 1)] {
            assert!(
                store.seen_blobs(&other, &ids).unwrap().iter().all(|&b| !b),
                "{kind}"
            );
            assert!(store.load_watermarks(&other).unwrap().is_empty(), "{kind}");
        }
        // The second scope's own commit leaves the first one's state alone.
        let t = scope("repo", 2);
        commit(
            store,
            &build_finalize_ops(&input(t.clone(), 1, blobs(50..60))),
            &t,
        );
        let seen_t = store.seen_blobs(&t, &ids).unwrap();
        assert_eq!(seen_t.iter().filter(|&&b| b).count(), 10, "{kind}");
        assert!(
            store.seen_blobs(&s, &ids).unwrap().iter().all(|&b| b),
            "{kind}"
        );
    });
}

#[test]
fn an_older_scan_committing_late_never_moves_a_watermark_back() {
    each_store(|store, kind| {
        let s = scope("repo", 1);
        let older = store.begin_scan(&s).unwrap();
        let newer = store.begin_scan(&s).unwrap();
        assert!(newer > older, "{kind}: sequences increase");

        let mut new_in = input(s.clone(), newer, blobs(0..10));
        new_in.start_set = refs(&[("refs/heads/main", 20), ("refs/heads/dev", 21)]);
        new_in.deleted_refs = vec!["refs/tags/v1".into()];
        commit(store, &build_finalize_ops(&new_in), &s);

        // The older scan saw older tips, including the since-deleted tag; it commits last.
        let mut old_in = input(s.clone(), older, blobs(5..15));
        old_in.start_set = refs(&[
            ("refs/heads/main", 10),
            ("refs/tags/v1", 11),
            ("refs/heads/legacy", 12),
        ]);
        commit(store, &build_finalize_ops(&old_in), &s);

        let tips = store.load_watermarks(&s).unwrap();
        let tip = |name: &str| tips.iter().find(|w| w.name == name).map(|w| w.tip);
        assert_eq!(tip("refs/heads/main"), Some(oid(20)), "{kind}: {tips:?}");
        assert_eq!(tip("refs/heads/dev"), Some(oid(21)), "{kind}");
        // The newer scan's deletion wins over the older scan's set.
        assert_eq!(tip("refs/tags/v1"), None, "{kind}");
        // A ref only the older scan knew is still recorded.
        assert_eq!(tip("refs/heads/legacy"), Some(oid(12)), "{kind}");
        // Data ops of the late scan are still added.
        let ids: Vec<_> = (0..15).map(oid).collect();
        assert!(
            store.seen_blobs(&s, &ids).unwrap().iter().all(|&b| b),
            "{kind}"
        );

        // A scan starting now is newer than everything committed, and may move tips again.
        let next = store.begin_scan(&s).unwrap();
        assert!(next > newer, "{kind}");
        let mut next_in = input(s.clone(), next, Vec::new());
        next_in.start_set = refs(&[("refs/heads/main", 30), ("refs/tags/v1", 31)]);
        commit(store, &build_finalize_ops(&next_in), &s);
        let tips = store.load_watermarks(&s).unwrap();
        let tip = |name: &str| tips.iter().find(|w| w.name == name).map(|w| w.tip);
        assert_eq!(tip("refs/heads/main"), Some(oid(30)), "{kind}");
        assert_eq!(tip("refs/tags/v1"), Some(oid(31)), "{kind}");
    });
}

#[test]
fn a_partial_scan_commits_data_but_leaves_watermarks() {
    each_store(|store, kind| {
        let s = scope("repo", 1);
        commit(
            store,
            &build_finalize_ops(&input(s.clone(), 1, blobs(0..10))),
            &s,
        );
        let before = store.load_watermarks(&s).unwrap();
        let mut inp = input(s.clone(), 2, blobs(10..20));
        inp.start_set = refs(&[("refs/heads/main", 99)]);
        inp.skipped = vec![oid(15), oid(777)];
        let out = build_finalize_ops(&inp);
        assert_eq!(out.outcome, Outcome::Partial);
        commit(store, &out, &s);
        assert_eq!(store.load_watermarks(&s).unwrap(), before, "{kind}");
        let ids: Vec<_> = (10..20).map(oid).collect();
        let seen = store.seen_blobs(&s, &ids).unwrap();
        let want: Vec<bool> = (10..20).map(|n| n != 15).collect();
        assert_eq!(seen, want, "{kind}: the skipped blob stays unseen");
    });
}

#[test]
fn invalid_batches_are_refused_before_reaching_the_store() {
    each_store(|store, kind| {
        let s = scope("repo", 1);
        let good = build_finalize_ops(&input(s.clone(), 1, blobs(0..10)));

        let mut partial_with_wm = good.clone();
        partial_with_wm.outcome = Outcome::Partial;
        let mut unsorted = good.clone();
        unsorted.data_ops.reverse();
        let foreign = build_finalize_ops(&input(scope("repo", 9), 1, blobs(0..10)));
        let mut misplaced = good.clone();
        let wm = misplaced.watermark_ops.pop().unwrap();
        misplaced.data_ops.push(wm);

        for bad in [&partial_with_wm, &unsorted, &foreign, &misplaced] {
            let err = persist_finalize_output(store, &s, bad).unwrap_err();
            assert!(matches!(err, StoreError::InvalidBatch(_)), "{kind}: {err}");
        }
        let ids: Vec<_> = (0..10).map(oid).collect();
        assert!(
            store.seen_blobs(&s, &ids).unwrap().iter().all(|&b| !b),
            "{kind}"
        );
        assert!(store.load_watermarks(&s).unwrap().is_empty(), "{kind}");
    });
}

#[test]
fn an_injected_commit_failure_leaves_the_store_as_before_and_maps_to_a_store_error() {
    // Memory store: compare full snapshots.
    let s = scope("repo", 1);
    let mem = MemoryStore::new();
    commit(
        &mem,
        &build_finalize_ops(&input(s.clone(), 1, blobs(0..100))),
        &s,
    );
    let before = mem.snapshot(&s);
    let failing = FailingStore::new(&mem, StoreMethod::Commit, 1);
    let err = persist_finalize_output(
        &failing,
        &s,
        &build_finalize_ops(&input(s.clone(), 2, blobs(100..200))),
    )
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend { source, .. } if source.downcast_ref::<scangit_core::store::InjectedFailure>().is_some())
    );
    assert_eq!(ScanError::from(err).kind(), ErrorKind::Store);
    assert_eq!(mem.snapshot(&s), before);
    assert_eq!(failing.calls(StoreMethod::Commit), 1);
    // Other methods pass through.
    assert_eq!(failing.seen_blobs(&s, &[oid(1)]).unwrap(), vec![true]);

    // SQLite store: compare every table.
    let dir = temp_dir("inject");
    let path = dir.path().join("store.db");
    let db = SqliteStore::open(&path).unwrap();
    commit(
        &db,
        &build_finalize_ops(&input(s.clone(), 1, blobs(0..100))),
        &s,
    );
    let before = dump_sqlite(&path);
    let failing = FailingStore::new(&db, StoreMethod::Commit, 2);
    let out = build_finalize_ops(&input(s.clone(), 2, blobs(100..200)));
    // The first call passes, the second fails.
    persist_finalize_output(
        &failing,
        &scope("elsewhere", 1),
        &build_finalize_ops(&input(scope("elsewhere", 1), 1, Vec::new())),
    )
    .unwrap();
    let after_first = dump_sqlite(&path);
    assert!(persist_finalize_output(&failing, &s, &out).is_err());
    assert_eq!(dump_sqlite(&path), after_first);
    assert_ne!(before, after_first);
}

#[test]
fn a_sqlite_commit_failing_half_way_rolls_back_everything() {
    let dir = temp_dir("halfway");
    let path = dir.path().join("store.db");
    let db = SqliteStore::open(&path).unwrap();
    let s = scope("repo", 1);
    commit(
        &db,
        &build_finalize_ops(&input(s.clone(), 1, blobs(0..100))),
        &s,
    );
    let before = dump_sqlite(&path);
    // A batch whose last op is malformed: findings and contexts before it are written inside
    // the transaction, then the bad op fails the commit.
    let mut out = build_finalize_ops(&input(s.clone(), 5, blobs(100..300)));
    let last = out.data_ops.last_mut().unwrap();
    last.value = b"not empty".to_vec();
    let err = db.commit(&s, &out).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert_eq!(dump_sqlite(&path), before);
    // The store still works afterwards.
    let good = build_finalize_ops(&input(s.clone(), 5, blobs(100..300)));
    commit(&db, &good, &s);
    assert!(db.seen_blobs(&s, &[oid(299)]).unwrap()[0]);
}

#[test]
fn sqlite_findings_are_readable_with_plain_sql() {
    let dir = temp_dir("sql");
    let path = dir.path().join("store.db");
    let db = SqliteStore::open(&path).unwrap();
    let s = scope("my/repo", 0xab);
    let mut inp = input(s.clone(), 1, blobs(0..8));
    inp.blobs[7].findings[0].secret = Some("kept-secret".into());
    inp.blobs[7].context.path = vec![b'x', 0xff, b'y'];
    let out = build_finalize_ops(&inp);
    commit(&db, &out, &s);

    let conn = rusqlite::Connection::open(&path).unwrap();
    struct Row {
        repo_id: String,
        rule_id: String,
        commit_id: Option<String>,
        blob_id: String,
        first_seen: i64,
        secret: Option<String>,
    }
    let rows: Vec<Row> = conn
        .prepare(
            "SELECT repo_id, rule_id, commit_id, line, column, blob_id, fingerprint, first_seen, \
             secret FROM findings WHERE rules_hash = ?1 ORDER BY blob_id, start_offset, rule_id",
        )
        .unwrap()
        .query_map([s.rules_hash_hex()], |r| {
            assert!(r.get::<_, i64>(3)? >= 1 && r.get::<_, i64>(4)? >= 1);
            assert_eq!(r.get::<_, String>(6)?.len(), 16);
            Ok(Row {
                repo_id: r.get(0)?,
                rule_id: r.get(1)?,
                commit_id: r.get(2)?,
                blob_id: r.get(5)?,
                first_seen: r.get(7)?,
                secret: r.get(8)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 4, "blobs 0 and 7 have two findings each");
    assert!(rows.iter().all(|r| r.repo_id == "my/repo"));
    assert!(rows.iter().all(|r| r.first_seen > 1_600_000_000));
    assert_eq!(rows.iter().filter(|r| r.secret.is_some()).count(), 1);
    let b0 = oid(0).to_hex().to_string();
    let r0 = rows
        .iter()
        .find(|r| r.blob_id == b0 && r.rule_id == "github-pat")
        .unwrap();
    assert_eq!(
        r0.commit_id.as_deref(),
        Some(oid(1_000_000).to_hex().to_string().as_str())
    );
    let path0: String = conn
        .query_row(
            "SELECT path FROM findings WHERE blob_id = ?1 LIMIT 1",
            [&b0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(path0, "dir0/file0.txt");
    // A non-UTF-8 path is kept byte for byte as a BLOB.
    let path7: Vec<u8> = conn
        .query_row(
            "SELECT path FROM findings WHERE blob_id = ?1 LIMIT 1",
            [oid(7).to_hex().to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(path7, vec![b'x', 0xff, b'y']);
    // Re-committing keeps the first-seen rows (no duplicates).
    commit(&db, &out, &s);
    let n: i64 = conn
        .query_row("SELECT count(*) FROM findings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
}

#[test]
fn sqlite_state_survives_reopen_and_newer_schemas_are_refused() {
    let dir = temp_dir("reopen");
    let path = dir.path().join("store.db");
    let s = scope("repo", 1);
    {
        let db = SqliteStore::open(&path).unwrap();
        let seq = db.begin_scan(&s).unwrap();
        commit(
            &db,
            &build_finalize_ops(&input(s.clone(), seq, blobs(0..50))),
            &s,
        );
    }
    let db = SqliteStore::open(&path).unwrap();
    assert!(db.seen_blobs(&s, &[oid(49)]).unwrap()[0]);
    assert_eq!(db.load_watermarks(&s).unwrap().len(), 2);
    assert_eq!(db.begin_scan(&s).unwrap(), 2);
    drop(db);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, scangit_core::store::sqlite::SCHEMA_VERSION);
    conn.execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).err().unwrap();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 99, .. }),
        "{err}"
    );
}

#[test]
fn a_sqlite_delta_commit_rewrites_only_the_chunks_it_touches() {
    let dir = temp_dir("delta");
    let path = dir.path().join("store.db");
    let db = SqliteStore::open(&path).unwrap();
    let s = scope("repo", 1);
    let mut inp = input(s.clone(), 1, blobs(0..200_000));
    for b in &mut inp.blobs {
        b.findings.clear();
    }
    commit(&db, &build_finalize_ops(&inp), &s);
    let chunks = |path: &std::path::Path| -> Vec<(i64, Vec<u8>)> {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.prepare("SELECT chunk, bitmap FROM seen_sets ORDER BY chunk")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let before = chunks(&path);
    assert_eq!(before.len(), 4, "200k ordinals in 2^16-ordinal chunks");
    let out = build_finalize_ops(&input(s.clone(), 2, blobs(200_000..200_100)));
    commit(&db, &out, &s);
    let after = chunks(&path);
    assert_eq!(after.len(), 4);
    assert_eq!(after[..3], before[..3], "full chunks untouched");
    assert_ne!(after[3], before[3]);
    // Re-marking already-seen blobs writes no chunk at all.
    let again = build_finalize_ops(&input(s.clone(), 3, blobs(0..10)));
    commit(&db, &again, &s);
    assert_eq!(chunks(&path), after);
}

#[test]
fn unknown_namespaces_are_kept_as_opaque_pairs() {
    let dir = temp_dir("kv");
    let path = dir.path().join("store.db");
    let db = SqliteStore::open(&path).unwrap();
    let s = scope("repo", 1);
    let mut key = vec![scangit_core::store::codec::KEY_FORMAT, b'z', b'z', 0];
    key.extend_from_slice(&s.encode());
    key.extend_from_slice(b"future");
    let mut out = build_finalize_ops(&input(s.clone(), 1, Vec::new()));
    out.data_ops.push(WriteOp {
        key,
        value: b"v".to_vec(),
    });
    commit(&db, &out, &s);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: Vec<u8> = conn
        .query_row(
            "SELECT value FROM kv WHERE key = ?1",
            [b"\x01zz\0future"],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, b"v");
    let mem = MemoryStore::new();
    commit(&mem, &out, &s);
    assert_eq!(mem.snapshot(&s).data.len(), 1);
}

#[test]
fn the_trait_is_object_safe_and_shared_across_threads() {
    let store: std::sync::Arc<dyn PersistenceStore> = std::sync::Arc::new(MemoryStore::new());
    let s = scope("repo", 1);
    std::thread::scope(|t| {
        for k in 0..4u64 {
            let store = store.clone();
            let s = s.clone();
            t.spawn(move || {
                let seq = store.begin_scan(&s).unwrap();
                let out = build_finalize_ops(&input(s.clone(), seq, blobs(k * 100..k * 100 + 100)));
                persist_finalize_output(&*store, &s, &out).unwrap();
            });
        }
    });
    let ids: Vec<_> = (0..400).map(oid).collect();
    assert!(store.seen_blobs(&s, &ids).unwrap().iter().all(|&b| b));
    assert!(
        store
            .load_watermarks(&s)
            .unwrap()
            .iter()
            .all(|w| w.scan_seq == 4)
    );
}

#[test]
fn many_connections_opening_one_new_store_file_at_once_all_succeed() {
    // Switching a fresh file to WAL takes a shared then an exclusive lock; two connections doing
    // it at once deadlock, and SQLite breaks that by answering BUSY to one at once, without its
    // busy handler. Two processes opening one new store failed that way; `open` must retry.
    let dir = temp_dir("open-race");
    for round in 0..20 {
        let db = dir.path().join(format!("store-{round}.db"));
        let barrier = std::sync::Barrier::new(6);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        SqliteStore::open(&db).map(|_| ())
                    })
                })
                .collect();
            for h in handles {
                let r = h.join().unwrap();
                assert!(r.is_ok(), "round {round}: {:?}", r.err());
            }
        });
    }
}

#[test]
fn opening_a_store_while_another_connection_holds_the_file_waits_instead_of_failing() {
    // Switching a fresh file to WAL needs an exclusive lock, and SQLite answers BUSY at once
    // (without its busy handler) when another connection holds one: two processes opening one
    // new store file at the same moment failed that way. `open` must wait like a commit does.
    let dir = temp_dir("open-busy");
    let db = dir.path().join("store.db");
    // The holder is another opener of the same new store, half-way through creating it.
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder
        .execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL); BEGIN EXCLUSIVE; \
             INSERT INTO schema_version VALUES (0);",
        )
        .unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(400));
        holder.execute_batch("COMMIT").unwrap();
    });
    let t = std::time::Instant::now();
    let store = SqliteStore::open(&db);
    release.join().unwrap();
    assert!(store.is_ok(), "{:?}", store.err());
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(300),
        "it waited for the lock"
    );
}

#[test]
fn files_that_are_not_our_stores_are_refused_and_left_unchanged() {
    let dir = temp_dir("foreign");
    // Another program's SQLite database (rollback journal, its own tables).
    let theirs = dir.path().join("theirs.db");
    let conn = rusqlite::Connection::open(&theirs).unwrap();
    conn.execute_batch("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada');")
        .unwrap();
    drop(conn);
    // A database with another application id and no tables.
    let tagged = dir.path().join("tagged.db");
    let conn = rusqlite::Connection::open(&tagged).unwrap();
    conn.pragma_update(None, "application_id", 0x1234).unwrap();
    drop(conn);
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database at all, but long enough to have a header\n",
    )
    .unwrap();
    let folder = dir.path().join("folder.db");
    std::fs::create_dir(&folder).unwrap();

    for (path, what) in [
        (&theirs, "tables users"),
        (&tagged, "application_id 0x1234"),
        (&text, "not a SQLite database"),
        (&folder, "is a directory"),
    ] {
        let before = std::fs::read(path).ok();
        let err = SqliteStore::open(path).err().expect("refused");
        assert!(matches!(err, StoreError::Foreign(_)), "{err}");
        let message = err.to_string();
        assert!(message.contains(what), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
        assert_eq!(
            ScanError::from(err).kind(),
            ErrorKind::Store,
            "a store error"
        );
        assert_eq!(
            std::fs::read(path).ok(),
            before,
            "{} unchanged",
            path.display()
        );
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        assert!(!std::path::Path::new(&wal).exists(), "no WAL file made");
    }
    let conn = rusqlite::Connection::open(&theirs).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "their journal mode is theirs");

    // Our own stores, new or existing, and an empty file, open.
    let ours = dir.path().join("ours.db");
    drop(SqliteStore::open(&ours).unwrap());
    SqliteStore::open(&ours).unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    SqliteStore::open(&empty).unwrap();
}
