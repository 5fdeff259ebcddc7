//! The seen-blob set: a roaring bitmap over a stable ordinal table of blob ids.
//!
//! Each blob id gets a `u32` ordinal the first time any scope marks it seen; ordinals are never
//! reassigned, so bitmaps stay valid forever and new blobs (incremental scans) land in the
//! newest ordinals, which keeps their bitmap updates local.
//!
//! For durable stores the bitmap is cut into chunks of [`CHUNK_ORDINALS`] ordinals (one roaring
//! container each), keyed by `ordinal >> CHUNK_BITS`. A lookup loads only the chunks its batch
//! touches and a commit rewrites only the chunks its delta touches, so neither costs more than
//! O(batch) chunk reads or writes, never the whole set.

use std::collections::{BTreeMap, HashMap};

use gix_hash::ObjectId;
use roaring::RoaringBitmap;

use super::StoreError;

/// Ordinals per chunk are `1 << CHUNK_BITS`: one roaring container, at most 8 KiB serialized.
pub const CHUNK_BITS: u32 = 16;
pub const CHUNK_ORDINALS: u32 = 1 << CHUNK_BITS;

/// The chunk an ordinal belongs to.
pub fn chunk_of(ordinal: u32) -> u32 {
    ordinal >> CHUNK_BITS
}

/// Group ordinals by chunk (sorted, deduplicated within each chunk).
pub fn group_by_chunk(ordinals: impl IntoIterator<Item = u32>) -> BTreeMap<u32, Vec<u32>> {
    let mut out: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for o in ordinals {
        out.entry(chunk_of(o)).or_default().push(o);
    }
    for v in out.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    out
}

/// Serialize one chunk (roaring's portable format, readable by CRoaring and other ports).
pub fn encode_chunk(bitmap: &RoaringBitmap) -> Vec<u8> {
    let mut out = Vec::with_capacity(bitmap.serialized_size());
    bitmap
        .serialize_into(&mut out)
        .expect("writing into a Vec cannot fail");
    out
}

/// Deserialize one chunk, checking that every ordinal belongs to `chunk`.
pub fn decode_chunk(chunk: u32, bytes: &[u8]) -> Result<RoaringBitmap, StoreError> {
    let bitmap = RoaringBitmap::deserialize_from(bytes)
        .map_err(|e| StoreError::Corrupt(format!("seen-set chunk {chunk}: {e}")))?;
    match (bitmap.min(), bitmap.max()) {
        (Some(lo), Some(hi)) if chunk_of(lo) != chunk || chunk_of(hi) != chunk => Err(
            StoreError::Corrupt(format!("seen-set chunk {chunk} holds foreign ordinals")),
        ),
        _ => Ok(bitmap),
    }
}

/// Blob id ↔ ordinal, in memory. Ordinals are dense and assigned in insertion order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrdinalTable {
    by_id: HashMap<ObjectId, u32>,
    ids: Vec<ObjectId>,
}

impl OrdinalTable {
    pub fn get(&self, id: &ObjectId) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// The id's ordinal, assigning the next one if it has none.
    pub fn get_or_insert(&mut self, id: ObjectId) -> Result<u32, StoreError> {
        if let Some(&o) = self.by_id.get(&id) {
            return Ok(o);
        }
        let o = u32::try_from(self.ids.len())
            .map_err(|_| StoreError::Capacity("more than 2^32 distinct blob ids".into()))?;
        self.by_id.insert(id, o);
        self.ids.push(id);
        Ok(o)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Every (ordinal, id) pair, in ordinal order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, ObjectId)> + '_ {
        self.ids.iter().enumerate().map(|(o, id)| (o as u32, *id))
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The blobs of one scope already scanned, as a bitmap over [`OrdinalTable`] ordinals.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeenSet {
    bitmap: RoaringBitmap,
}

impl SeenSet {
    /// Answer a batch: O(batch) hash lookups and bitmap probes.
    pub fn contains_all(&self, table: &OrdinalTable, ids: &[ObjectId]) -> Vec<bool> {
        ids.iter()
            .map(|id| table.get(id).is_some_and(|o| self.bitmap.contains(o)))
            .collect()
    }

    pub fn contains(&self, ordinal: u32) -> bool {
        self.bitmap.contains(ordinal)
    }

    pub fn insert(&mut self, ordinal: u32) -> bool {
        self.bitmap.insert(ordinal)
    }

    pub fn len(&self) -> u64 {
        self.bitmap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bitmap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_and_reject_foreign_ordinals() {
        let grouped = group_by_chunk([5, CHUNK_ORDINALS + 1, 5, 3]);
        assert_eq!(grouped[&0], vec![3, 5]);
        assert_eq!(grouped[&1], vec![CHUNK_ORDINALS + 1]);
        let bm: RoaringBitmap = grouped[&1].iter().copied().collect();
        let bytes = encode_chunk(&bm);
        assert_eq!(decode_chunk(1, &bytes).unwrap(), bm);
        assert!(matches!(
            decode_chunk(0, &bytes),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            decode_chunk(0, b"junk"),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn ordinals_are_stable_and_dense() {
        let mut t = OrdinalTable::default();
        let a = ObjectId::from_bytes_or_panic(&[1; 20]);
        let b = ObjectId::from_bytes_or_panic(&[2; 20]);
        assert_eq!(t.get_or_insert(a).unwrap(), 0);
        assert_eq!(t.get_or_insert(b).unwrap(), 1);
        assert_eq!(t.get_or_insert(a).unwrap(), 0);
        let mut s = SeenSet::default();
        s.insert(1);
        assert_eq!(s.contains_all(&t, &[a, b]), vec![false, true]);
    }
}
