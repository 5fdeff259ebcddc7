//! Spilling candidate sets: sorted runs on disk, merged keeping the minimum per blob.
//!
//! A diff-history walk over a huge history produces more `(blob, commit, path)` candidates than
//! fit a memory budget. Each worker reduces candidates in a map; when the map outgrows its share
//! of the budget it is sorted by blob id and written out as a run. The final k-way merge reads
//! all runs in id order and keeps, per blob, the minimum `(commit, path)` — the same strict
//! total order as the in-memory reduction, so spilling never changes the result.
//!
//! Run record: blob id (20 bytes) · commit index (u32 BE) · path length (u32 BE) · path.
//! Files live in the caller's spill directory and are removed when the [`Runs`] is dropped.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use gix_hash::ObjectId;

/// One candidate: the blob and its best context so far.
pub type Candidate = (ObjectId, u32, Box<[u8]>);

/// A candidate in the merge heap, with the index of the run it came from.
type HeapItem = (ObjectId, u32, Box<[u8]>, usize);

#[derive(Debug, thiserror::Error)]
#[error("spill file {path}: {source}")]
pub struct SpillError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

static NEXT_RUN: AtomicU64 = AtomicU64::new(0);

/// Sorted runs written so far; deletes its files on drop.
#[derive(Default)]
pub struct Runs {
    files: Vec<PathBuf>,
    /// Candidates written in all runs (for statistics).
    pub records: u64,
}

impl Drop for Runs {
    fn drop(&mut self) {
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}

impl Runs {
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Take over `other`'s runs (they are then deleted with `self`).
    pub fn absorb(&mut self, mut other: Runs) {
        self.files.append(&mut other.files);
        self.records += other.records;
    }

    /// Write `items` (any order; sorted here) as a new run in `dir`.
    pub fn spill(&mut self, dir: &Path, mut items: Vec<Candidate>) -> Result<(), SpillError> {
        items.sort_unstable_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
        let path = dir.join(format!(
            "scangit-spill-{}-{}.run",
            std::process::id(),
            NEXT_RUN.fetch_add(1, Ordering::Relaxed)
        ));
        let err = |source| SpillError {
            path: path.clone(),
            source,
        };
        let file = File::create(&path).map_err(err)?;
        self.files.push(path.clone());
        let mut w = BufWriter::with_capacity(1 << 20, file);
        for (id, commit, p) in &items {
            w.write_all(id.as_bytes()).map_err(err)?;
            w.write_all(&commit.to_be_bytes()).map_err(err)?;
            w.write_all(&(p.len() as u32).to_be_bytes()).map_err(err)?;
            w.write_all(p).map_err(err)?;
        }
        w.flush().map_err(err)?;
        self.records += items.len() as u64;
        Ok(())
    }

    /// Merge every run with `extra` (an in-memory remainder), keeping the minimum context per
    /// blob, and return the result sorted by blob id.
    pub fn merge(self, mut extra: Vec<Candidate>) -> Result<Vec<Candidate>, SpillError> {
        extra.sort_unstable_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
        let mut readers = Vec::with_capacity(self.files.len());
        for f in &self.files {
            let file = File::open(f).map_err(|source| SpillError {
                path: f.clone(),
                source,
            })?;
            readers.push((BufReader::with_capacity(1 << 20, file), f.clone()));
        }
        // Heap of (candidate, source): source = run index, or usize::MAX for `extra`.
        let mut heap: BinaryHeap<Reverse<HeapItem>> = BinaryHeap::new();
        let mut extra = extra.into_iter();
        if let Some((id, c, p)) = extra.next() {
            heap.push(Reverse((id, c, p, usize::MAX)));
        }
        for (i, (r, path)) in readers.iter_mut().enumerate() {
            if let Some((id, c, p)) = read_record(r, path)? {
                heap.push(Reverse((id, c, p, i)));
            }
        }
        let mut out: Vec<Candidate> = Vec::new();
        while let Some(Reverse((id, c, p, src))) = heap.pop() {
            let next = if src == usize::MAX {
                extra.next()
            } else {
                let (r, path) = &mut readers[src];
                read_record(r, path)?
            };
            if let Some((nid, nc, np)) = next {
                heap.push(Reverse((nid, nc, np, src)));
            }
            // Records pop in (id, commit, path) order: the first of each id is its minimum.
            if out.last().is_none_or(|last| last.0 != id) {
                out.push((id, c, p));
            }
        }
        Ok(out)
    }
}

fn read_record(r: &mut BufReader<File>, path: &Path) -> Result<Option<Candidate>, SpillError> {
    let err = |source| SpillError {
        path: path.to_path_buf(),
        source,
    };
    let mut head = [0u8; 28];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(err(e)),
    }
    let id = ObjectId::from_bytes_or_panic(&head[..20]);
    let commit = u32::from_be_bytes(head[20..24].try_into().expect("4 bytes"));
    let len = u32::from_be_bytes(head[24..28].try_into().expect("4 bytes")) as usize;
    let mut p = vec![0u8; len];
    r.read_exact(&mut p).map_err(err)?;
    Ok(Some((id, commit, p.into_boxed_slice())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    #[test]
    fn merge_keeps_the_minimum_per_blob_across_runs_and_memory() {
        let dir = std::env::temp_dir();
        let mut runs = Runs::default();
        runs.spill(
            &dir,
            vec![
                (id(3), 9, b"z".as_slice().into()),
                (id(1), 5, b"b".as_slice().into()),
            ],
        )
        .unwrap();
        runs.spill(
            &dir,
            vec![
                (id(1), 5, b"a".as_slice().into()),
                (id(2), 7, b"x".as_slice().into()),
            ],
        )
        .unwrap();
        let files = runs.files.clone();
        let got = runs
            .merge(vec![
                (id(3), 2, b"q".as_slice().into()),
                (id(4), 1, b"".as_slice().into()),
            ])
            .unwrap();
        let want: Vec<Candidate> = vec![
            (id(1), 5, b"a".as_slice().into()),
            (id(2), 7, b"x".as_slice().into()),
            (id(3), 2, b"q".as_slice().into()),
            (id(4), 1, b"".as_slice().into()),
        ];
        assert_eq!(got, want);
        assert!(
            files.iter().all(|f| !f.exists()),
            "runs are deleted after the merge"
        );
    }
}
