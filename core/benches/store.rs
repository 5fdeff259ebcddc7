//! Persistence benchmark: finalize and commit of a 300k-blob first scan, a 100-blob incremental
//! commit on top (should cost O(delta), not O(set)), and seen-blob lookups of 300k ids.
//!
//! `cargo bench -p scangit-core --bench store` (prints a table; no statistics framework).
//! `SCANGIT_BENCH_BLOBS` overrides the base size.

use std::time::{Duration, Instant};

use gix_hash::ObjectId;
use scangit_core::Outcome;
use scangit_core::scan::finalize::{FinalizeInput, RefEntry, ScannedBlob, build_finalize_ops};
use scangit_core::store::codec::{BlobContext, Scope};
use scangit_core::store::{MemoryStore, PersistenceStore, SqliteStore, persist_finalize_output};

fn oid(n: u64) -> ObjectId {
    ObjectId::from_bytes_or_panic(&blake3::hash(&n.to_le_bytes()).as_bytes()[..20])
}

fn input(scope: &Scope, seq: u64, range: std::ops::Range<u64>) -> FinalizeInput {
    FinalizeInput {
        scope: scope.clone(),
        scan_seq: seq,
        blobs: range
            .map(|n| ScannedBlob {
                id: oid(n),
                context: BlobContext {
                    commit: Some(oid(u64::MAX - n / 20)),
                    path: format!("src/module{}/file{n}.rs", n % 97).into_bytes(),
                },
                findings: Vec::new(),
            })
            .collect(),
        start_set: vec![RefEntry {
            name: "refs/heads/main".into(),
            tip: oid(u64::MAX - seq),
        }],
        deleted_refs: Vec::new(),
        skipped: Vec::new(),
        outcome: Outcome::Complete,
    }
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

fn row(what: &str, d: Duration, items: u64) {
    println!(
        "{what:<58} {:>10.1} ms  {:>8.2} us/item",
        d.as_secs_f64() * 1e3,
        d.as_secs_f64() * 1e6 / items.max(1) as f64
    );
}

fn bench_store(name: &str, store: &dyn PersistenceStore, base: u64) {
    let scope = Scope::new("bench-repo", [1; 32]);
    let first = input(&scope, 1, 0..base);
    let (out, d) = time(|| build_finalize_ops(&first));
    row(&format!("[{name}] finalize {base} blobs"), d, base);
    let ((), d) = time(|| persist_finalize_output(store, &scope, &out).unwrap());
    row(
        &format!("[{name}] commit {base} blobs (first scan)"),
        d,
        base,
    );

    for round in 0..3u64 {
        let lo = base + round * 100;
        let delta = build_finalize_ops(&input(&scope, 2 + round, lo..lo + 100));
        let ((), d) = time(|| persist_finalize_output(store, &scope, &delta).unwrap());
        row(
            &format!("[{name}] commit 100-blob delta on top (round {round})"),
            d,
            100,
        );
    }

    let ids: Vec<ObjectId> = (0..base).map(oid).collect();
    let (hits, d) = time(|| {
        ids.chunks(4096)
            .map(|c| {
                store
                    .seen_blobs(&scope, c)
                    .unwrap()
                    .iter()
                    .filter(|&&b| b)
                    .count()
            })
            .sum::<usize>()
    });
    assert_eq!(hits as u64, base);
    row(
        &format!("[{name}] seen_blobs {base} ids (batches of 4096)"),
        d,
        base,
    );
    let misses: Vec<ObjectId> = (10 * base..11 * base).map(oid).collect();
    let (seen, d) = time(|| store.seen_blobs(&scope, &misses).unwrap());
    assert!(seen.iter().all(|&b| !b));
    row(
        &format!("[{name}] seen_blobs {base} unknown ids (one batch)"),
        d,
        base,
    );
    let (_, d) = time(|| store.seen_blobs(&scope, &ids[..100]).unwrap());
    row(&format!("[{name}] seen_blobs 100 ids"), d, 100);
}

fn main() {
    let base: u64 = std::env::var("SCANGIT_BENCH_BLOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let dir = std::env::temp_dir().join(format!("scangit-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.db");
    {
        let sqlite = SqliteStore::open(&path).unwrap();
        bench_store("sqlite", &sqlite, base);
    }
    println!(
        "[sqlite] file size {:.1} MiB (plus WAL)",
        std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / (1 << 20) as f64
    );
    // Delta cost must not grow with the stored set: repeat on a store four times larger.
    {
        let path = dir.join("bench4x.db");
        let sqlite = SqliteStore::open(&path).unwrap();
        bench_store("sqlite 4x", &sqlite, base * 4);
    }
    bench_store("memory", &MemoryStore::new(), base);
    let _ = std::fs::remove_dir_all(&dir);
}
