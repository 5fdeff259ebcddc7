//! Fault injection at every point of the SQLite store, SQLite's own test idea: a scan with a
//! store runs again and again, its `step`th progress-handler call (every few SQL virtual-machine
//! instructions, in any statement: scope lookup, watermark load, seen-set reads, each insert of
//! the commit, the COMMIT itself) interrupted, until a run reaches no fault point. After each
//! run the store holds either nothing of that scan or all of it (never a watermark without its
//! data), and a clean scan afterwards leaves it holding exactly what one quiet scan stores.

mod pipeline_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use pipeline_support::{temp_dir, tiny_corpus, try_scan};
use scangit_core::store::SqliteStore;
use scangit_core::{ErrorKind, ScanOptions, StoreRef};

/// VM instructions between two progress-handler calls.
const EVERY: i32 = 40;

type Stored = BTreeSet<(String, String, u64, u64)>;

fn stored(db: &Path) -> Stored {
    SqliteStore::open(db)
        .unwrap()
        .stored_findings(Some("r"))
        .unwrap()
        .into_iter()
        .map(|f| (f.rule_id, f.blob, f.start, f.end))
        .collect()
}

fn options(store: &Arc<SqliteStore>, main_only: bool) -> ScanOptions {
    ScanOptions {
        threads: 2,
        store: Some(StoreRef(store.clone())),
        repo_id: Some("r".into()),
        ref_include: if main_only {
            vec!["refs/heads/main".into()]
        } else {
            Vec::new()
        },
        ..ScanOptions::default()
    }
}

/// Scans into `db` (a first scan of `main` only when `main_only`), completing.
fn clean_scan(db: &Path, main_only: bool) {
    let store = Arc::new(SqliteStore::open(db).unwrap());
    let s = try_scan(tiny_corpus(), &options(&store, main_only)).unwrap();
    assert_eq!(s.summary().outcome, scangit_core::Outcome::Complete);
}

/// Runs the faulted scan for every step until one reaches no fault point; `prepare` makes
/// the store's state before the faulted scan, `before` is what it stores then.
fn every_fault_point(name: &str, prepare: impl Fn(&Path), before: &Stored, after: &Stored) -> u64 {
    let dir = temp_dir(name);
    let mut step = 1u64;
    let mut faults = 0;
    loop {
        let db = dir.path().join(format!("s{step}.db"));
        prepare(&db);
        let store = Arc::new(SqliteStore::open(&db).unwrap());
        let calls = store.interrupt_at(step, EVERY);
        let result = try_scan(tiny_corpus(), &options(&store, false));
        let reached = calls.load(Ordering::Relaxed) >= step;
        drop(store);
        if !reached {
            assert!(result.is_ok(), "no fault, yet {:?}", result.err());
            assert_eq!(
                &stored(&db),
                after,
                "step {step}: no fault, everything stored"
            );
            break;
        }
        faults += 1;
        let now = stored(&db);
        match &result {
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Store, "step {step}: {e}");
                assert_eq!(&now, before, "step {step}: a failed scan stores nothing");
            }
            // The interrupted statement may have been one the scan can do without (none today).
            Ok(_) => assert_eq!(&now, after, "step {step}: a scan that succeeded stored all"),
        }
        // The next clean scan brings the store to exactly the quiet result: no watermark or
        // seen blob was recorded without its findings.
        clean_scan(&db, false);
        assert_eq!(
            &stored(&db),
            after,
            "step {step}: the next scan completes the store"
        );
        let _ = std::fs::remove_file(&db);
        step += 1 + step / 64;
    }
    faults
}

#[test]
fn a_fault_at_any_point_of_a_first_scan_stores_all_or_nothing() {
    let dir = temp_dir("quiet");
    let db = dir.path().join("q.db");
    clean_scan(&db, false);
    let all = stored(&db);
    assert!(!all.is_empty());
    let faults = every_fault_point("first", |_| {}, &Stored::new(), &all);
    assert!(faults > 20, "the faults covered the scan ({faults} points)");
}

#[test]
fn a_fault_at_any_point_of_an_incremental_scan_keeps_the_earlier_state() {
    let dir = temp_dir("quiet-incr");
    let (db1, db2) = (dir.path().join("main.db"), dir.path().join("all.db"));
    clean_scan(&db1, true);
    let main_only = stored(&db1);
    clean_scan(&db2, false);
    let all = stored(&db2);
    assert!(main_only.len() < all.len(), "the second scan adds findings");
    let faults = every_fault_point("incr", |db| clean_scan(db, true), &main_only, &all);
    assert!(faults > 20, "the faults covered the scan ({faults} points)");
}
