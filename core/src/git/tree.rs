//! Trees: parsing raw tree objects and diffing two trees.
//!
//! [`TreeDiff::diff`] reports every blob of a new tree that is not identical at the same path
//! in an old one, descending only into subtrees whose ids differ. Identical byte runs of the two
//! trees are skipped without parsing: from two entry boundaries, identical bytes parse into
//! identical entries, so a diff costs about the changed entries, not the tree's size. Decoded
//! trees are kept with their entry boundaries in a byte-bounded cache, so the next diff against
//! them skips too.
//!
//! Unreadable or malformed trees are recorded in [`TreeDiff::problems`] and the walk goes on
//! with what it could read.

use std::sync::Arc;

use gix_hash::{ObjectId, oid};
use gix_object::Kind;

use crate::git::odb::{Location, Odb, OdbError, OidMap, ReadScratch, cache::Shared};

pub const GIT_MODE_TREE: u32 = 0o040000;
pub const GIT_MODE_COMMIT: u32 = 0o160000;

/// One parsed tree entry.
#[derive(Clone, Copy)]
pub struct TreeEntry<'a> {
    pub mode: u32,
    pub name: &'a [u8],
    pub id: &'a oid,
}

impl TreeEntry<'_> {
    pub fn is_tree(&self) -> bool {
        self.mode == GIT_MODE_TREE
    }
}

/// Iterate the entries of a raw tree object from a byte position; stops at the first
/// malformed entry (and sets `corrupt`).
pub struct TreeIter<'a> {
    data: &'a [u8],
    pos: usize,
    pub corrupt: bool,
}

impl<'a> TreeIter<'a> {
    /// An iterator starting at byte `pos` (an entry boundary).
    pub fn at(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            corrupt: false,
        }
    }

    /// Parse the entry at the current position; returns it with its start offset.
    pub fn next_at(&mut self) -> Option<(usize, TreeEntry<'a>)> {
        let d = self.data;
        let at = self.pos;
        if at >= d.len() {
            return None;
        }
        // Modes are 5 ("40000") or 6 ("100644", "100755", "120000", "160000") octal digits.
        let sp = match d.get(at + 5) {
            Some(b' ') => at + 5,
            _ if d.get(at + 6) == Some(&b' ') => at + 6,
            _ => return self.fail(),
        };
        let mut mode = 0u32;
        for &b in &d[at..sp] {
            if !b.is_ascii_digit() {
                return self.fail();
            }
            mode = mode * 8 + u32::from(b - b'0');
        }
        let Some(nul) = d[sp + 1..].iter().position(|&b| b == 0).map(|p| p + sp + 1) else {
            return self.fail();
        };
        let Some(id) = d.get(nul + 1..nul + 21) else {
            return self.fail();
        };
        self.pos = nul + 21;
        Some((
            at,
            TreeEntry {
                mode,
                name: &d[sp + 1..nul],
                id: oid::from_bytes_unchecked(id),
            },
        ))
    }

    fn fail<T>(&mut self) -> Option<T> {
        self.corrupt = true;
        self.pos = self.data.len();
        None
    }
}

impl<'a> Iterator for TreeIter<'a> {
    type Item = TreeEntry<'a>;

    fn next(&mut self) -> Option<TreeEntry<'a>> {
        self.next_at().map(|(_, e)| e)
    }
}

pub fn tree_iter(data: &[u8]) -> TreeIter<'_> {
    TreeIter::at(data, 0)
}

/// Length of the common prefix of `a` and `b` (word-wise; trees share long prefixes).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Length of the common suffix of `a` and `b`.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_be_bytes(a[n - i - 8..n - i].try_into().expect("8 bytes"));
        let y = u64::from_be_bytes(b[n - i - 8..n - i].try_into().expect("8 bytes"));
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[n - 1 - i] == b[n - 1 - i] {
        i += 1;
    }
    i
}

/// A decoded tree with the start offset of every entry, so a later diff against it can skip
/// the bytes both trees share without parsing them.
struct TreeInfo {
    data: Shared,
    bounds: Vec<u32>,
}

/// Byte-bounded cache of [`TreeInfo`] by tree id (two generations, like the delta cache).
struct TreeCache {
    young: OidMap<ObjectId, Arc<TreeInfo>>,
    old: OidMap<ObjectId, Arc<TreeInfo>>,
    young_bytes: usize,
    budget: usize,
}

impl TreeCache {
    fn new(budget: usize) -> Self {
        Self {
            young: OidMap::default(),
            old: OidMap::default(),
            young_bytes: 0,
            budget,
        }
    }

    fn get(&mut self, id: &oid) -> Option<Arc<TreeInfo>> {
        if let Some(t) = self.young.get(id) {
            return Some(t.clone());
        }
        let t = self.old.remove(id)?;
        self.put(id.to_owned(), t.clone());
        Some(t)
    }

    fn put(&mut self, id: ObjectId, t: Arc<TreeInfo>) {
        let len = t.data.len() + t.bounds.len() * 4 + 96;
        if self.young_bytes + len > self.budget / 2 {
            self.old = std::mem::take(&mut self.young);
            self.young_bytes = 0;
        }
        if self.young.insert(id, t).is_none() {
            self.young_bytes += len;
        }
    }
}

/// git's tree order: names compare bytewise, a tree's name as if followed by '/'.
pub fn entry_order(a: &TreeEntry<'_>, b: &TreeEntry<'_>) -> std::cmp::Ordering {
    let n = a.name.len().min(b.name.len());
    match a.name[..n].cmp(&b.name[..n]) {
        std::cmp::Ordering::Equal => {}
        o => return o,
    }
    let tail = |e: &TreeEntry<'_>| {
        if e.name.len() > n {
            e.name[n]
        } else if e.is_tree() {
            b'/'
        } else {
            0
        }
    };
    tail(a).cmp(&tail(b))
}

/// Nesting deeper than this is reported as corrupt (git itself refuses far less).
const MAX_TREE_DEPTH: usize = 4096;

/// Diffs trees of one object database, with a tree cache and the problems it met.
pub struct TreeDiff<'a> {
    odb: &'a Odb,
    scratch: ReadScratch,
    trees: TreeCache,
    /// Trees that could not be read or parsed (their blobs may be missing from the output).
    pub problems: Vec<(ObjectId, OdbError)>,
    /// Trees decoded (for statistics).
    pub trees_read: u64,
    /// Path of the entry being visited, `/`-separated.
    path: Vec<u8>,
}

/// Where two trees start to differ: the new tree's first entry that may differ (`start`), the
/// index of that boundary in the old tree's bounds, and how many trailing bytes both share.
struct SharedRuns {
    start: usize,
    start_idx: usize,
    suffix: usize,
}

impl<'a> TreeDiff<'a> {
    /// `scratch` decodes objects; `tree_cache_bytes` bounds the tree cache.
    pub fn new(odb: &'a Odb, scratch: ReadScratch, tree_cache_bytes: usize) -> Self {
        Self {
            odb,
            scratch,
            trees: TreeCache::new(tree_cache_bytes),
            problems: Vec::new(),
            trees_read: 0,
            path: Vec::new(),
        }
    }

    fn read_tree(&mut self, id: &oid) -> Option<Shared> {
        let res = match self.odb.locate(id) {
            Some(Location::Packed { pack, offset }) => {
                self.odb.read_packed(pack, offset, &mut self.scratch, 0)
            }
            Some(loc @ Location::Loose { .. }) => {
                let mut buf = Vec::new();
                self.odb
                    .read(loc, &mut self.scratch, &mut buf)
                    .map(|k| (k, Shared::new(buf)))
            }
            None => Err(OdbError::Missing(id.to_owned())),
        };
        self.trees_read += 1;
        match res {
            Ok((Kind::Tree, d)) => Some(d),
            Ok((k, _)) => {
                self.problems.push((
                    id.to_owned(),
                    OdbError::corrupt(format!("{id} is a {k}, expected a tree")),
                ));
                None
            }
            Err(e) => {
                self.problems.push((id.to_owned(), e));
                None
            }
        }
    }

    /// The tree with its entry bounds, from the cache or decoded and fully parsed.
    fn tree_info(&mut self, id: &oid) -> Option<Arc<TreeInfo>> {
        if let Some(t) = self.trees.get(id) {
            return Some(t);
        }
        let data = self.read_tree(id)?;
        let mut it = tree_iter(&data);
        let mut bounds = Vec::new();
        while let Some((at, _)) = it.next_at() {
            bounds.push(at as u32);
        }
        if it.corrupt {
            self.malformed(id);
        }
        let t = Arc::new(TreeInfo { data, bounds });
        self.trees.put(id.to_owned(), t.clone());
        Some(t)
    }

    fn malformed(&mut self, id: &oid) {
        self.problems.push((
            id.to_owned(),
            OdbError::corrupt(format!("tree {id} is malformed")),
        ));
    }

    /// Call `emit(blob, path)` for every blob of tree `new` that is not identical at the same
    /// path in tree `old` (every blob when `old` is `None`); submodule entries are left out.
    pub fn diff(&mut self, new: &oid, old: Option<&oid>, emit: &mut dyn FnMut(&oid, &[u8])) {
        self.path.clear();
        self.diff_at(new, old, 0, emit);
    }

    /// [`Self::diff`] below the current path.
    ///
    /// With an `old` tree, the shared byte prefix is skipped up to the last entry boundary
    /// inside it, and the walk stops as soon as both sides sit on entry boundaries with
    /// identical remaining bytes. The new tree's bounds are assembled from the old tree's plus
    /// the parsed middle, so the next diff against it can skip too.
    fn diff_at(
        &mut self,
        new: &oid,
        old: Option<&oid>,
        depth: usize,
        emit: &mut dyn FnMut(&oid, &[u8]),
    ) {
        if depth > MAX_TREE_DEPTH {
            self.problems.push((
                new.to_owned(),
                OdbError::corrupt("tree nesting deeper than 4096"),
            ));
            return;
        }
        let cached_new = self.trees.get(new);
        let new_data = match &cached_new {
            Some(t) => t.data.clone(),
            None => match self.read_tree(new) {
                Some(d) => d,
                None => return,
            },
        };
        let old_info = old.and_then(|o| self.tree_info(o));
        // Bounds of the new tree are built only when it is not cached yet.
        let mut new_bounds: Option<Vec<u32>> = cached_new
            .is_none()
            .then(|| Vec::with_capacity(old_info.as_ref().map_or(64, |t| t.bounds.len() + 8)));
        let (synced, corrupt) =
            self.diff_entries(&new_data, old_info.as_deref(), &mut new_bounds, depth, emit);
        if corrupt {
            self.malformed(new);
        }
        if let Some(bounds) = new_bounds
            && (synced || !corrupt)
        {
            let info = TreeInfo {
                data: new_data.clone(),
                bounds,
            };
            self.trees.put(new.to_owned(), Arc::new(info));
        }
    }

    /// Walk the entries of `nd` against `old`, visiting what differs. Returns whether the walk
    /// ended on identical remaining bytes, and whether `nd` is malformed.
    fn diff_entries(
        &mut self,
        nd: &[u8],
        old: Option<&TreeInfo>,
        new_bounds: &mut Option<Vec<u32>>,
        depth: usize,
        emit: &mut dyn FnMut(&oid, &[u8]),
    ) -> (bool, bool) {
        let od: &[u8] = old.map(|t| &t.data[..]).unwrap_or_default();
        let shared = shared_runs(nd, old);
        if let (Some(nb), Some(t)) = (new_bounds.as_mut(), old) {
            nb.extend_from_slice(&t.bounds[..shared.start_idx.min(t.bounds.len())]);
        }
        let base_len = self.path.len();
        let mut a = TreeIter::at(nd, shared.start);
        let mut b = TreeIter::at(od, shared.start);
        let mut ea = a.next_at();
        let mut eb = b.next_at();
        while let Some((pa, x)) = ea {
            if let Some((pb, _)) = eb
                && nd.len() - pa == od.len() - pb
                && od.len() - pb <= shared.suffix
            {
                // Both on entry boundaries with identical remaining bytes: nothing else changed.
                if let (Some(nb), Some(t)) = (new_bounds.as_mut(), old) {
                    let k = t.bounds.partition_point(|&v| (v as usize) < pb);
                    nb.extend(t.bounds[k..].iter().map(|&v| (v as usize + pa - pb) as u32));
                }
                return (true, a.corrupt);
            }
            if let (Some((pb, _)), Some(t)) = (eb, old)
                && resync(nd, od, t, pa, pb, &mut a, &mut b, new_bounds)
            {
                ea = a.next_at();
                eb = b.next_at();
                continue;
            }
            if let Some(nb) = new_bounds.as_mut() {
                nb.push(pa as u32);
            }
            let ord = match eb {
                Some((_, y)) => entry_order(&x, &y),
                None => std::cmp::Ordering::Less,
            };
            match ord {
                std::cmp::Ordering::Greater => {
                    eb = b.next_at(); // only in old: deleted
                    if let Some(nb) = new_bounds.as_mut() {
                        nb.pop(); // x is looked at again next round
                    }
                    continue;
                }
                std::cmp::Ordering::Equal => {
                    let (_, y) = eb.expect("equal implies present");
                    eb = b.next_at();
                    if !(x.id == y.id && x.mode == y.mode) {
                        self.visit(x, Some(y), depth, base_len, emit);
                    }
                }
                std::cmp::Ordering::Less => self.visit(x, None, depth, base_len, emit),
            }
            ea = a.next_at();
        }
        (false, a.corrupt)
    }

    fn visit(
        &mut self,
        x: TreeEntry<'_>,
        old: Option<TreeEntry<'_>>,
        depth: usize,
        base_len: usize,
        emit: &mut dyn FnMut(&oid, &[u8]),
    ) {
        if x.mode == GIT_MODE_COMMIT {
            return; // submodule commits live in another repository
        }
        if !self.path.is_empty() {
            self.path.push(b'/');
        }
        self.path.extend_from_slice(x.name);
        if x.is_tree() {
            let old_id = old.filter(|o| o.is_tree()).map(|o| o.id.to_owned());
            self.diff_at(x.id, old_id.as_deref(), depth + 1, emit);
        } else if old.is_none_or(|o| o.id != x.id || o.is_tree()) {
            emit(x.id, &self.path);
        }
        self.path.truncate(base_len);
    }

    /// The blob at `path` in tree `root`, if any.
    pub fn lookup(&mut self, root: &oid, path: &[u8]) -> Option<ObjectId> {
        let mut tree = root.to_owned();
        let mut parts = path.split(|&b| b == b'/').peekable();
        while let Some(name) = parts.next() {
            let info = self.tree_info(&tree)?;
            let last = parts.peek().is_none();
            let e = tree_iter(&info.data).find(|e| e.name == name && e.is_tree() != last)?;
            if last {
                return Some(e.id.to_owned());
            }
            tree = e.id.to_owned();
        }
        None
    }
}

/// Where `nd` and the old tree start to differ (see [`SharedRuns`]).
fn shared_runs(nd: &[u8], old: Option<&TreeInfo>) -> SharedRuns {
    let Some(t) = old else {
        return SharedRuns {
            start: 0,
            start_idx: 0,
            suffix: 0,
        };
    };
    let od: &[u8] = &t.data;
    let m = common_prefix(nd, od);
    let start_idx = t
        .bounds
        .partition_point(|&b| (b as usize) <= m)
        .saturating_sub(1);
    let start = t.bounds.get(start_idx).map_or(0, |&b| b as usize);
    let suffix = common_suffix(&nd[start..], &od[start..]);
    SharedRuns {
        start,
        start_idx,
        suffix,
    }
}

/// Re-synchronise two iterators sitting on entry boundaries `pa` (new) and `pb` (old): bytes
/// that are identical from two boundaries parse into identical entries, so jump to the last
/// old boundary inside the shared run. Keeps the work proportional to the changed entries
/// when a commit touches several places of a large tree. Returns whether it jumped.
#[allow(clippy::too_many_arguments)]
fn resync(
    nd: &[u8],
    od: &[u8],
    t: &TreeInfo,
    pa: usize,
    pb: usize,
    a: &mut TreeIter<'_>,
    b: &mut TreeIter<'_>,
    new_bounds: &mut Option<Vec<u32>>,
) -> bool {
    let m = common_prefix(&nd[pa..], &od[pb..]);
    if m < 64 {
        return false;
    }
    let i0 = t.bounds.partition_point(|&v| (v as usize) < pb);
    let i1 = t.bounds.partition_point(|&v| (v as usize) <= pb + m) - 1;
    let k = t.bounds[i1] as usize;
    if k <= pb {
        return false;
    }
    if let Some(nb) = new_bounds.as_mut() {
        nb.extend(
            t.bounds[i0..i1]
                .iter()
                .map(|&v| (v as usize + pa - pb) as u32),
        );
    }
    a.pos = pa + (k - pb);
    b.pos = k;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_tree(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut v = Vec::new();
        for (mode, name, fill) in entries {
            v.extend_from_slice(mode.as_bytes());
            v.push(b' ');
            v.extend_from_slice(name.as_bytes());
            v.push(0);
            v.extend_from_slice(&[*fill; 20]);
        }
        v
    }

    #[test]
    fn tree_entries_parse_and_order_like_git() {
        let t = raw_tree(&[("100644", "a.c", 1), ("40000", "a", 2), ("100755", "b", 3)]);
        let e: Vec<_> = tree_iter(&t).collect();
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].mode, GIT_MODE_TREE);
        assert_eq!(e[2].mode, 0o100755);
        // "a.c" < "a/" because '.' < '/'; a blob "a" would sort before both.
        assert_eq!(entry_order(&e[0], &e[1]), std::cmp::Ordering::Less);
        let blob_a = TreeEntry {
            mode: 0o100644,
            name: b"a",
            id: e[0].id,
        };
        assert_eq!(entry_order(&blob_a, &e[0]), std::cmp::Ordering::Less);
        assert_ne!(
            entry_order(&blob_a, &e[1]),
            std::cmp::Ordering::Equal,
            "file and dir of one name differ"
        );
    }

    #[test]
    fn malformed_trees_stop_iteration_and_are_flagged() {
        let mut t = raw_tree(&[("100644", "ok", 1)]);
        t.extend_from_slice(b"100644 trunc\0abc");
        let mut it = tree_iter(&t);
        assert!(it.next().is_some());
        assert!(it.next().is_none());
        assert!(it.corrupt);
    }

    #[test]
    fn common_prefix_and_suffix_are_exact() {
        let a = b"0123456789abcdefXYZ-tail-0123456789";
        for cut in 0..a.len() {
            let mut b = a.to_vec();
            b[cut] ^= 1;
            assert_eq!(common_prefix(a, &b), cut);
            assert_eq!(common_suffix(a, &b), a.len() - 1 - cut);
        }
        assert_eq!(common_prefix(b"abc", b"abcdef"), 3);
        assert_eq!(common_suffix(b"xyz", b"wxyz"), 3);
        assert_eq!(common_prefix(b"", b"a"), 0);
    }
}
