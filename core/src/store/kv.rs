//! A [`PersistenceStore`] over any ordered key/value backend, so a store written in Python or
//! JavaScript is three small methods instead of the whole finalize key layout.
//!
//! A [`KvBackend`] answers point lookups, lists a key prefix and applies a batch of puts
//! atomically. [`KvStore`] does the rest, once, here:
//! - `seen_blobs` looks up the `sb` key of each id (O(batch));
//! - `load_watermarks` lists the scope's `rw` prefix and decodes it, tombstones left out;
//! - `commit` keeps the first write of every data key (findings keep their first sighting),
//!   applies a watermark op only if its sequence is at least the stored one ("newer never
//!   loses", tombstones included), and hands the resulting puts to the backend in one call.
//!
//! The read-then-write of `commit` is serialized within the process by a lock. Bindings that wrap
//! one foreign store object in a new `KvStore` per scan share that lock through
//! [`shared_commit_lock`] (keyed by the object's identity), so concurrent scans into the same
//! object keep "newer never loses"; a backend shared by several processes must serialize
//! `write_batch` calls itself.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use gix_hash::ObjectId;
use parking_lot::Mutex;

use super::{FinalizeOutput, PersistenceStore, RefWatermark, Scope, StoreError};
use crate::store::codec::{
    DecodedOp, NS_REF_WATERMARK, WatermarkChange, WriteOp, decode_op, namespace_prefix,
    seen_blob_key,
};

/// Key/value pairs, as [`KvBackend::scan_prefix`] returns them and
/// [`KvBackend::write_batch`] takes them.
pub type KvPairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Ordered byte-string keys to byte-string values.
pub trait KvBackend: Send + Sync {
    /// The value of each key (`None` when absent); `result[i]` answers `keys[i]`.
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    /// Every pair whose key starts with `prefix`, in any order.
    fn scan_prefix(&self, prefix: &[u8]) -> Result<KvPairs, StoreError>;
    /// Store every pair, all or nothing (later pairs of one batch never repeat a key).
    fn write_batch(&self, puts: KvPairs) -> Result<(), StoreError>;
}

/// See the module documentation.
pub struct KvStore<B> {
    backend: B,
    commit_lock: Arc<Mutex<()>>,
}

/// The commit lock of every live [`KvStore`] built over the foreign store identified by `key`
/// (e.g. an object's address, or an id a binding hands out): one lock per identity while any
/// store holds it.
pub fn shared_commit_lock(key: u64) -> Arc<Mutex<()>> {
    static LOCKS: Mutex<Option<HashMap<u64, Weak<Mutex<()>>>>> = Mutex::new(None);
    let mut locks = LOCKS.lock();
    let locks = locks.get_or_insert_with(HashMap::new);
    if let Some(lock) = locks.get(&key).and_then(Weak::upgrade) {
        return lock;
    }
    locks.retain(|_, w| w.strong_count() > 0);
    let lock = Arc::new(Mutex::new(()));
    locks.insert(key, Arc::downgrade(&lock));
    lock
}

impl<B: KvBackend> KvStore<B> {
    pub fn new(backend: B) -> Self {
        Self::with_commit_lock(backend, Arc::new(Mutex::new(())))
    }

    /// A store whose commits are serialized with every other holder of `lock` (see
    /// [`shared_commit_lock`]).
    pub fn with_commit_lock(backend: B, lock: Arc<Mutex<()>>) -> Self {
        Self {
            backend,
            commit_lock: lock,
        }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }
}

fn answer_count(what: &str, want: usize, got: usize) -> StoreError {
    StoreError::Corrupt(format!(
        "the store's {what} returned {got} answers for {want} keys"
    ))
}

/// The sequence of a stored watermark value (byte 0 is the kind, bytes 1..9 the sequence).
fn stored_seq(value: &[u8]) -> Result<u64, StoreError> {
    value
        .get(1..9)
        .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
        .ok_or_else(|| StoreError::Corrupt("stored watermark value too short".into()))
}

impl<B: KvBackend> PersistenceStore for KvStore<B> {
    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError> {
        let encoded = scope.encode();
        let mut out = Vec::new();
        for (key, value) in self
            .backend
            .scan_prefix(&namespace_prefix(&encoded, NS_REF_WATERMARK))?
        {
            let op = WriteOp { key, value };
            if let DecodedOp::Watermark(w) = decode_op(&encoded, &op)?
                && let WatermarkChange::Set { tip } = w.change
            {
                out.push(RefWatermark {
                    name: w.name,
                    tip,
                    scan_seq: w.scan_seq,
                });
            }
        }
        out.sort();
        Ok(out)
    }

    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let encoded = scope.encode();
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| seen_blob_key(&encoded, id)).collect();
        let values = self.backend.get_many(&keys)?;
        if values.len() != keys.len() {
            return Err(answer_count("get_many", keys.len(), values.len()));
        }
        Ok(values.iter().map(Option::is_some).collect())
    }

    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
        let encoded = scope.encode();
        // Decode everything first: a malformed batch changes nothing.
        for op in output.data_ops.iter().chain(&output.watermark_ops) {
            decode_op(&encoded, op)?;
        }
        let _serial = self.commit_lock.lock();
        let keys: Vec<Vec<u8>> = output
            .data_ops
            .iter()
            .chain(&output.watermark_ops)
            .map(|op| op.key.clone())
            .collect();
        let stored = if keys.is_empty() {
            Vec::new()
        } else {
            self.backend.get_many(&keys)?
        };
        if stored.len() != keys.len() {
            return Err(answer_count("get_many", keys.len(), stored.len()));
        }
        let (data_stored, wm_stored) = stored.split_at(output.data_ops.len());
        let mut puts = Vec::new();
        for (op, old) in output.data_ops.iter().zip(data_stored) {
            if old.is_none() {
                puts.push((op.key.clone(), op.value.clone()));
            }
        }
        for (op, old) in output.watermark_ops.iter().zip(wm_stored) {
            let newer = match old {
                None => true,
                Some(old) => stored_seq(&op.value)? >= stored_seq(old)?,
            };
            if newer {
                puts.push((op.key.clone(), op.value.clone()));
            }
        }
        if puts.is_empty() {
            return Ok(());
        }
        self.backend.write_batch(puts)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Default)]
    struct MapBackend(Mutex<BTreeMap<Vec<u8>, Vec<u8>>>);

    impl KvBackend for MapBackend {
        fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
            let m = self.0.lock();
            Ok(keys.iter().map(|k| m.get(k).cloned()).collect())
        }
        fn scan_prefix(&self, prefix: &[u8]) -> Result<KvPairs, StoreError> {
            let m = self.0.lock();
            Ok(m.range(prefix.to_vec()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect())
        }
        fn write_batch(&self, puts: KvPairs) -> Result<(), StoreError> {
            self.0.lock().extend(puts);
            Ok(())
        }
    }

    fn oid(b: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[b; 20])
    }

    fn batch(scope: &Scope, seq: u64, tip: u8, blobs: &[u8]) -> FinalizeOutput {
        use crate::events::Outcome;
        use crate::scan::finalize::{FinalizeInput, RefEntry, ScannedBlob};
        use crate::store::codec::BlobContext;
        crate::scan::finalize::build_finalize_ops(&FinalizeInput {
            scope: scope.clone(),
            scan_seq: seq,
            blobs: blobs
                .iter()
                .map(|&b| ScannedBlob {
                    id: oid(b),
                    context: BlobContext {
                        commit: Some(oid(tip)),
                        path: b"a".to_vec(),
                    },
                    findings: Vec::new(),
                })
                .collect(),
            start_set: vec![RefEntry {
                name: "refs/heads/main".into(),
                tip: oid(tip),
            }],
            deleted_refs: Vec::new(),
            skipped: Vec::new(),
            outcome: Outcome::Complete,
        })
    }

    #[test]
    fn seen_watermarks_and_newer_never_loses() {
        let store = KvStore::new(MapBackend::default());
        let scope = Scope::new("repo", [7; 32]);
        let other = Scope::new("repo", [8; 32]);
        store
            .commit(&scope, &batch(&scope, 5, 1, &[10, 11]))
            .unwrap();
        assert_eq!(
            store
                .seen_blobs(&scope, &[oid(10), oid(12), oid(11)])
                .unwrap(),
            vec![true, false, true]
        );
        assert_eq!(store.seen_blobs(&other, &[oid(10)]).unwrap(), vec![false]);
        // An older scan committing late does not move the watermark back.
        store.commit(&scope, &batch(&scope, 3, 2, &[12])).unwrap();
        let w = store.load_watermarks(&scope).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].tip, w[0].scan_seq), (oid(1), 5));
        assert_eq!(store.seen_blobs(&scope, &[oid(12)]).unwrap(), vec![true]);
        store.commit(&scope, &batch(&scope, 9, 3, &[])).unwrap();
        assert_eq!(store.load_watermarks(&scope).unwrap()[0].tip, oid(3));
    }

    /// A shared map whose writes are slow, so two commits overlap.
    struct SlowBackend(Arc<MapBackend>);

    impl KvBackend for SlowBackend {
        fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
            self.0.get_many(keys)
        }
        fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
            self.0.scan_prefix(prefix)
        }
        fn write_batch(&self, puts: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), StoreError> {
            std::thread::sleep(std::time::Duration::from_millis(200));
            self.0.write_batch(puts)
        }
    }

    #[test]
    fn stores_over_one_object_sharing_a_lock_keep_newer_never_loses() {
        // Scan seq 5 commits first; scan seq 3 starts its commit while 5's write is in flight.
        // With separate locks, 3 reads no watermark and its write lands last: the tip moves
        // back. With the shared lock, 3 waits, sees 5 and keeps it.
        for shared in [true, false] {
            let map = Arc::new(MapBackend::default());
            let lock = |k| {
                if shared {
                    shared_commit_lock(k)
                } else {
                    Arc::new(Mutex::new(()))
                }
            };
            let key = 0x5eed_0000 + u64::from(shared);
            let a = KvStore::with_commit_lock(SlowBackend(map.clone()), lock(key));
            let b = KvStore::with_commit_lock(SlowBackend(map.clone()), lock(key));
            let scope = Scope::new("repo", [1; 32]);
            std::thread::scope(|s| {
                s.spawn(|| a.commit(&scope, &batch(&scope, 5, 1, &[])).unwrap());
                std::thread::sleep(std::time::Duration::from_millis(50));
                s.spawn(|| b.commit(&scope, &batch(&scope, 3, 2, &[])).unwrap());
            });
            let w = KvStore::new(SlowBackend(map))
                .load_watermarks(&scope)
                .unwrap();
            assert_eq!(w[0].scan_seq == 5, shared, "shared lock {shared}: {w:?}");
        }
    }
}
