//! A byte-bounded cache of decoded pack objects keyed by (pack, offset), for random access.
//!
//! Two generations approximate LRU at O(1) per operation: inserts go to the young map; when it
//! holds half the budget, the old map is dropped and the young one becomes old. A hit in the old
//! generation is promoted. Objects above a quarter of the budget are not cached.

use std::sync::Arc;

use gix_object::Kind;

/// Decoded object bytes shared between the cache and readers (moved in, never copied).
pub type Shared = Arc<Vec<u8>>;

type Map = super::OidMap<(u32, u64), (Kind, Shared)>;

pub struct DeltaCache {
    young: Map,
    old: Map,
    young_bytes: usize,
    budget: usize,
}

impl DeltaCache {
    pub fn new(budget: usize) -> Self {
        Self {
            young: Map::default(),
            old: Map::default(),
            young_bytes: 0,
            budget,
        }
    }

    pub fn get(&mut self, pack: u32, offset: u64) -> Option<(Kind, Shared)> {
        if let Some((k, d)) = self.young.get(&(pack, offset)) {
            return Some((*k, d.clone()));
        }
        let (k, d) = self.old.remove(&(pack, offset))?;
        self.put(pack, offset, k, d.clone());
        Some((k, d))
    }

    pub fn put(&mut self, pack: u32, offset: u64, kind: Kind, data: Shared) {
        let len = data.len() + 64;
        if len > self.budget / 4 {
            return;
        }
        if self.young_bytes + len > self.budget / 2 {
            self.old = std::mem::take(&mut self.young);
            self.young_bytes = 0;
        }
        if self.young.insert((pack, offset), (kind, data)).is_none() {
            self.young_bytes += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_by_generation_and_promotes_hits() {
        // Budget 4096: the young generation holds up to 2048 bytes, each entry costs 564.
        let mut c = DeltaCache::new(4 * 1024);
        let blob = |n: usize| -> Shared { Arc::new(vec![7u8; n]) };
        for off in 1..=3 {
            c.put(0, off, Kind::Blob, blob(500));
        }
        c.put(0, 4, Kind::Blob, blob(500)); // young overflows: 1, 2, 3 become old
        assert!(
            c.get(0, 1).is_some(),
            "old entries still hit, and are promoted"
        );
        c.put(0, 5, Kind::Blob, blob(500));
        c.put(0, 6, Kind::Blob, blob(500)); // second rotation drops 2 and 3
        assert!(c.get(0, 2).is_none(), "unpromoted old entries are evicted");
        assert!(c.get(0, 3).is_none());
        assert!(
            c.get(0, 1).is_some(),
            "the promoted entry survived the rotation"
        );
        c.put(0, 9, Kind::Blob, blob(2000));
        assert!(
            c.get(0, 9).is_none(),
            "objects above a quarter of the budget are not cached"
        );
    }
}
