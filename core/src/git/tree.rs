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
    /// Subtree pairs (new, old) already walked in the current [`Self::diff`]: a second
    /// occurrence emits the same blobs at larger paths, so it is skipped (see `diff`).
    walked: std::collections::HashSet<(ObjectId, Option<ObjectId>)>,
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
            walked: Default::default(),
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
    ///
    /// The walk keeps its own stack of [`Frame`]s instead of recursing, so a tree nested
    /// thousands deep costs heap, not the calling thread's stack (which may be a small one of a
    /// host program's).
    pub fn diff(&mut self, new: &oid, old: Option<&oid>, emit: &mut dyn FnMut(&oid, &[u8])) {
        self.walk(new, old, true, emit);
    }

    /// [`Self::diff`], visiting every occurrence of a repeated subtree (for callers that judge
    /// each path on its own, like the merge rule).
    pub fn diff_every_path(
        &mut self,
        new: &oid,
        old: Option<&oid>,
        emit: &mut dyn FnMut(&oid, &[u8]),
    ) {
        self.walk(new, old, false, emit);
    }

    /// With `once`, a subtree pair met again in this diff is not walked again: git's tree order
    /// makes a depth-first walk meet paths in increasing order, so its first occurrence already
    /// emitted every blob at the smallest path (a "git bomb" of 10 levels of 10 entries naming
    /// one subtree costs 100 subtree visits, not 10^10 paths).
    fn walk(
        &mut self,
        new: &oid,
        old: Option<&oid>,
        once: bool,
        emit: &mut dyn FnMut(&oid, &[u8]),
    ) {
        self.path.clear();
        self.walked.clear();
        let mut stack: Vec<Frame> = Vec::new();
        stack.extend(self.enter(new, old, 0));
        while let Some(top) = stack.last_mut() {
            match self.step(top, emit) {
                Step::Next => {}
                Step::Descend { new, old } => {
                    let (depth, parent_len) = (top.depth + 1, top.path_len);
                    let again = once && !self.walked.insert((new, old));
                    match (!again)
                        .then(|| self.enter(&new, old.as_deref(), depth))
                        .flatten()
                    {
                        Some(child) => stack.push(child),
                        None => self.path.truncate(parent_len),
                    }
                }
                Step::Done => {
                    let done = stack.pop().expect("a frame");
                    self.leave(done);
                    if let Some(parent) = stack.last() {
                        self.path.truncate(parent.path_len);
                    }
                }
            }
        }
        self.walked.clear();
    }

    /// Start diffing tree `new` (at the current path) against `old`: `None` when it cannot be
    /// read or nests too deep (both recorded as problems).
    ///
    /// With an `old` tree, the shared byte prefix is skipped up to the last entry boundary
    /// inside it, and the walk stops as soon as both sides sit on entry boundaries with
    /// identical remaining bytes. The new tree's bounds are assembled from the old tree's plus
    /// the parsed middle, so the next diff against it can skip too.
    fn enter(&mut self, new: &oid, old: Option<&oid>, depth: usize) -> Option<Frame> {
        if depth > MAX_TREE_DEPTH {
            self.problems.push((
                new.to_owned(),
                OdbError::corrupt("tree nesting deeper than 4096"),
            ));
            return None;
        }
        let cached_new = self.trees.get(new);
        let data = match &cached_new {
            Some(t) => t.data.clone(),
            None => self.read_tree(new)?,
        };
        let old = old.and_then(|o| self.tree_info(o));
        // Bounds of the new tree are built only when it is not cached yet.
        let mut bounds: Option<Vec<u32>> = cached_new
            .is_none()
            .then(|| Vec::with_capacity(old.as_ref().map_or(64, |t| t.bounds.len() + 8)));
        let shared = shared_runs(&data, old.as_deref());
        if let (Some(nb), Some(t)) = (bounds.as_mut(), &old) {
            nb.extend_from_slice(&t.bounds[..shared.start_idx.min(t.bounds.len())]);
        }
        let od: &[u8] = old.as_ref().map(|t| &t.data[..]).unwrap_or_default();
        Some(Frame {
            a: Cursor::start(&data, shared.start),
            b: Cursor::start(od, shared.start),
            new: new.to_owned(),
            data,
            old,
            bounds,
            suffix: shared.suffix,
            synced: false,
            path_len: self.path.len(),
            depth,
        })
    }

    /// One step of frame `f`: compare its current entries, visit what differs.
    fn step(&mut self, f: &mut Frame, emit: &mut dyn FnMut(&oid, &[u8])) -> Step {
        let nd: &[u8] = &f.data;
        let od: &[u8] = f.old.as_ref().map(|t| &t.data[..]).unwrap_or_default();
        let Some((pa, x)) = f.a.entry(nd) else {
            return Step::Done;
        };
        let eb = f.b.entry(od);
        if let Some((pb, _)) = eb
            && nd.len() - pa == od.len() - pb
            && od.len() - pb <= f.suffix
        {
            // Both on entry boundaries with identical remaining bytes: nothing else changed.
            if let (Some(nb), Some(t)) = (f.bounds.as_mut(), &f.old) {
                let k = t.bounds.partition_point(|&v| (v as usize) < pb);
                nb.extend(t.bounds[k..].iter().map(|&v| (v as usize + pa - pb) as u32));
            }
            f.synced = true;
            return Step::Done;
        }
        if let (Some((pb, _)), Some(t)) = (eb, &f.old)
            && let Some(k) = resync(nd, od, t, pa, pb, &mut f.bounds)
        {
            f.a.jump(nd, pa + (k - pb));
            f.b.jump(od, k);
            return Step::Next;
        }
        if let Some(nb) = f.bounds.as_mut() {
            nb.push(pa as u32);
        }
        let ord = match eb {
            Some((_, y)) => entry_order(&x, &y),
            None => std::cmp::Ordering::Less,
        };
        let old_entry = match ord {
            std::cmp::Ordering::Greater => {
                f.b.advance(od); // only in old: deleted
                if let Some(nb) = f.bounds.as_mut() {
                    nb.pop(); // x is looked at again next step
                }
                return Step::Next;
            }
            std::cmp::Ordering::Equal => {
                let (_, y) = eb.expect("equal implies present");
                f.b.advance(od);
                if x.id == y.id && x.mode == y.mode {
                    f.a.advance(nd);
                    return Step::Next;
                }
                Some(y)
            }
            std::cmp::Ordering::Less => None,
        };
        f.a.advance(nd);
        self.visit(f.path_len, x, old_entry, emit)
    }

    /// Visit entry `x` of a tree at path length `base_len` (`old` is the entry of that name in
    /// the old tree): emit a changed blob, or descend into a changed subtree.
    fn visit(
        &mut self,
        base_len: usize,
        x: TreeEntry<'_>,
        old: Option<TreeEntry<'_>>,
        emit: &mut dyn FnMut(&oid, &[u8]),
    ) -> Step {
        if x.mode == GIT_MODE_COMMIT {
            return Step::Next; // submodule commits live in another repository
        }
        if !self.path.is_empty() {
            self.path.push(b'/');
        }
        self.path.extend_from_slice(x.name);
        if x.is_tree() {
            // The path stays extended for the subtree; it is cut back when the subtree is done.
            return Step::Descend {
                new: x.id.to_owned(),
                old: old.filter(|o| o.is_tree()).map(|o| o.id.to_owned()),
            };
        }
        if old.is_none_or(|o| o.id != x.id || o.is_tree()) {
            emit(x.id, &self.path);
        }
        self.path.truncate(base_len);
        Step::Next
    }

    /// A finished frame: report a malformed tree, and cache it with its bounds when they are
    /// complete.
    fn leave(&mut self, f: Frame) {
        if f.a.corrupt {
            self.malformed(&f.new);
        }
        if let Some(bounds) = f.bounds
            && (f.synced || !f.a.corrupt)
        {
            let info = TreeInfo {
                data: f.data,
                bounds,
            };
            self.trees.put(f.new, Arc::new(info));
        }
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

/// Re-synchronise two sides sitting on entry boundaries `pa` (new) and `pb` (old): bytes that
/// are identical from two boundaries parse into identical entries, so both can jump to the last
/// old boundary inside the shared run. Keeps the work proportional to the changed entries when
/// a commit touches several places of a large tree. Returns that old boundary, if worth a jump.
fn resync(
    nd: &[u8],
    od: &[u8],
    t: &TreeInfo,
    pa: usize,
    pb: usize,
    new_bounds: &mut Option<Vec<u32>>,
) -> Option<usize> {
    let m = common_prefix(&nd[pa..], &od[pb..]);
    if m < 64 {
        return None;
    }
    let i0 = t.bounds.partition_point(|&v| (v as usize) < pb);
    let i1 = t.bounds.partition_point(|&v| (v as usize) <= pb + m) - 1;
    let k = t.bounds[i1] as usize;
    if k <= pb {
        return None;
    }
    if let Some(nb) = new_bounds.as_mut() {
        nb.extend(
            t.bounds[i0..i1]
                .iter()
                .map(|&v| (v as usize + pa - pb) as u32),
        );
    }
    Some(k)
}

/// One tree being diffed and where the walk stands in it: the explicit stack of [`TreeDiff`].
struct Frame {
    new: ObjectId,
    data: Shared,
    old: Option<Arc<TreeInfo>>,
    /// Entry bounds of `new` being assembled (only when `new` was not cached).
    bounds: Option<Vec<u32>>,
    /// Trailing bytes both trees share.
    suffix: usize,
    /// The walk ended on identical remaining bytes.
    synced: bool,
    a: Cursor,
    b: Cursor,
    /// Length of this tree's own path (the diff's path buffer is cut back to it).
    path_len: usize,
    depth: usize,
}

/// What a frame asks of the walk after one step.
enum Step {
    Next,
    Descend {
        new: ObjectId,
        old: Option<ObjectId>,
    },
    Done,
}

/// A position in a raw tree: the start of the current entry (`None` at the end or after a
/// malformed entry) and where the next one starts.
struct Cursor {
    current: Option<usize>,
    next: usize,
    corrupt: bool,
}

impl Cursor {
    fn start(data: &[u8], pos: usize) -> Self {
        let mut c = Cursor {
            current: None,
            next: pos,
            corrupt: false,
        };
        c.advance(data);
        c
    }

    /// Move to the entry after the current one.
    fn advance(&mut self, data: &[u8]) {
        let mut it = TreeIter {
            data,
            pos: self.next,
            corrupt: self.corrupt,
        };
        self.current = it.next_at().map(|(at, _)| at);
        self.next = it.pos;
        self.corrupt = it.corrupt;
    }

    /// Move to the entry starting at `pos` (an entry boundary).
    fn jump(&mut self, data: &[u8], pos: usize) {
        self.next = pos;
        self.advance(data);
    }

    /// The current entry with its start offset (parsed again: it parsed fine before).
    fn entry<'d>(&self, data: &'d [u8]) -> Option<(usize, TreeEntry<'d>)> {
        let at = self.current?;
        TreeIter::at(data, at).next_at()
    }
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
