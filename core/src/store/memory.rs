//! An in-memory [`PersistenceStore`], for tests and for callers who want nothing on disk.
//!
//! Same semantics as the SQLite store: a commit decodes and checks the whole batch before
//! changing anything (so a bad batch leaves the store as it was), findings and blob contexts keep
//! their first write, the seen set is a roaring bitmap over a shared ordinal table, and
//! watermarks obey "newer never loses".

use std::collections::{BTreeMap, HashMap};

use gix_hash::ObjectId;
use parking_lot::Mutex;

use super::seen::{OrdinalTable, SeenSet};
use super::{FinalizeOutput, PersistenceStore, RefWatermark, Scope, StoreError};
use crate::store::codec::{
    BlobContext, DecodedOp, FindingRecord, NS_BLOB_CTX, NS_FINDING, WatermarkChange, decode_op,
};

#[derive(Clone, Debug, Default, PartialEq)]
struct ScopeState {
    last_seq: u64,
    seen: SeenSet,
    /// Ref name → (scan_seq, tip); `None` is a deletion tombstone.
    watermarks: BTreeMap<String, (u64, Option<ObjectId>)>,
    /// Blob contexts, findings and ops of unknown namespaces, by full key.
    data: BTreeMap<Vec<u8>, Vec<u8>>,
}

#[derive(Default)]
struct State {
    ordinals: OrdinalTable,
    scopes: HashMap<Scope, ScopeState>,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

/// Everything a [`MemoryStore`] holds for one scope, comparable for "left as before" checks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemorySnapshot {
    pub seen: Vec<ObjectId>,
    /// Ref name → (scan_seq, tip or `None` for a tombstone).
    pub watermarks: BTreeMap<String, (u64, Option<ObjectId>)>,
    pub data: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The state of `scope`, with seen blobs listed in id order.
    pub fn snapshot(&self, scope: &Scope) -> MemorySnapshot {
        let state = self.state.lock();
        let Some(s) = state.scopes.get(scope) else {
            return MemorySnapshot::default();
        };
        let mut seen: Vec<ObjectId> = state
            .ordinals_ids()
            .filter(|(o, _)| s.seen.contains(*o))
            .map(|(_, id)| id)
            .collect();
        seen.sort_unstable();
        MemorySnapshot {
            seen,
            watermarks: s.watermarks.clone(),
            data: s.data.clone(),
        }
    }

    /// Stored findings of `scope`, in key order (blob, start, end, rule).
    pub fn findings(&self, scope: &Scope) -> Vec<(ObjectId, FindingRecord)> {
        self.decoded(scope, NS_FINDING)
            .filter_map(|op| match op {
                DecodedOp::Finding { blob, record } => Some((blob, record)),
                _ => None,
            })
            .collect()
    }

    /// Stored blob contexts of `scope`, in blob id order.
    pub fn blob_contexts(&self, scope: &Scope) -> Vec<(ObjectId, BlobContext)> {
        self.decoded(scope, NS_BLOB_CTX)
            .filter_map(|op| match op {
                DecodedOp::BlobContext { blob, context } => Some((blob, context)),
                _ => None,
            })
            .collect()
    }

    fn decoded(&self, scope: &Scope, ns: [u8; 2]) -> impl Iterator<Item = DecodedOp> {
        let enc = scope.encode();
        let data = self.snapshot(scope).data;
        data.into_iter().filter_map(move |(key, value)| {
            let op = crate::store::codec::WriteOp { key, value };
            (op.key.get(1..3) == Some(&ns[..]))
                .then(|| decode_op(&enc, &op).ok())
                .flatten()
        })
    }
}

impl State {
    fn ordinals_ids(&self) -> impl Iterator<Item = (u32, ObjectId)> + '_ {
        self.ordinals.iter()
    }
}

impl PersistenceStore for MemoryStore {
    fn begin_scan(&self, scope: &Scope) -> Result<u64, StoreError> {
        let mut state = self.state.lock();
        let s = state.scopes.entry(scope.clone()).or_default();
        s.last_seq += 1;
        Ok(s.last_seq)
    }

    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError> {
        let state = self.state.lock();
        Ok(state
            .scopes
            .get(scope)
            .map(|s| {
                s.watermarks
                    .iter()
                    .filter_map(|(name, &(scan_seq, tip))| {
                        tip.map(|tip| RefWatermark {
                            name: name.clone(),
                            tip,
                            scan_seq,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError> {
        let state = self.state.lock();
        Ok(match state.scopes.get(scope) {
            Some(s) => s.seen.contains_all(&state.ordinals, ids),
            None => vec![false; ids.len()],
        })
    }

    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
        let enc = scope.encode();
        // Decode everything first: a bad op must fail the commit before anything changes.
        let decoded: Vec<(usize, DecodedOp)> = output
            .data_ops
            .iter()
            .chain(&output.watermark_ops)
            .enumerate()
            .map(|(i, op)| Ok((i, decode_op(&enc, op)?)))
            .collect::<Result<_, StoreError>>()?;
        let ops: Vec<&crate::store::codec::WriteOp> = output
            .data_ops
            .iter()
            .chain(&output.watermark_ops)
            .collect();

        let mut state = self.state.lock();
        let new_ids = decoded
            .iter()
            .filter(|(_, d)| matches!(d, DecodedOp::SeenBlob { blob } if state.ordinals.get(blob).is_none()))
            .count();
        if state.ordinals.len() + new_ids > u32::MAX as usize {
            return Err(StoreError::Capacity(
                "more than 2^32 distinct blob ids".into(),
            ));
        }
        let State { ordinals, scopes } = &mut *state;
        let s = scopes.entry(scope.clone()).or_default();
        for (i, d) in decoded {
            match d {
                DecodedOp::SeenBlob { blob } => {
                    let o = ordinals.get_or_insert(blob)?;
                    s.seen.insert(o);
                }
                DecodedOp::Watermark(w) => {
                    let newer = s
                        .watermarks
                        .get(&w.name)
                        .is_none_or(|&(seq, _)| w.scan_seq >= seq);
                    if newer {
                        let tip = match w.change {
                            WatermarkChange::Set { tip } => Some(tip),
                            WatermarkChange::Delete => None,
                        };
                        s.watermarks.insert(w.name, (w.scan_seq, tip));
                    }
                }
                DecodedOp::BlobContext { .. } | DecodedOp::Finding { .. } => {
                    // First write wins: a finding keeps the scan that first saw it.
                    s.data
                        .entry(ops[i].key.clone())
                        .or_insert_with(|| ops[i].value.clone());
                }
                DecodedOp::Other { .. } => {
                    s.data.insert(ops[i].key.clone(), ops[i].value.clone());
                }
            }
        }
        Ok(())
    }
}
