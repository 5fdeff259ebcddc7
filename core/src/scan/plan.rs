//! The plan: every blob to scan, each with the commit and path that introduced it.
//!
//! One pass over the commit graph: each commit's tree is diffed against its first parent's
//! (a root commit against the empty tree), descending only into subtrees whose ids differ, and
//! every added or modified blob becomes a candidate `(blob, commit, path)`. Candidates reduce to
//! the minimum `(topological index, path bytes)` per blob.
//!
//! Why first-parent diffs are enough: let `c` be the earliest commit (topological order) whose
//! tree holds blob `b`. Every parent of `c` is earlier, so no parent holds `b` anywhere, hence
//! `b` shows up in `c`'s diff against its first parent at every path it has in `c`. Later
//! commits only produce larger candidates. So the reduction yields exactly the earliest commit
//! and, within it, the smallest path — the same answer as walking every tree in full, while
//! touching only changed entries (git/git's trees decode to 5.8 GB; their changes are tiny).
//!
//! Commits are processed in parallel blocks; each worker keeps its own delta cache and reduces
//! locally, then the maps merge, so the result is independent of the thread count.

use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gix_hash::{ObjectId, oid};
use gix_object::Kind;
use parking_lot::Mutex;

use crate::git::commits::CommitGraph;
use crate::git::odb::{Location, Odb, OdbError, OidMap, ReadScratch, cache::Shared};
use crate::scan::spill::{Candidate, Runs, SpillError};

/// `commit` value of blobs reachable from no commit (tags on trees or blobs, `all_objects`).
pub const NO_COMMIT: u32 = u32::MAX;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedBlob {
    pub id: ObjectId,
    /// Topological index into the [`CommitGraph`], or [`NO_COMMIT`].
    pub commit: u32,
    /// Path in that commit's tree (empty when there is no commit).
    pub path: Box<[u8]>,
}

/// The blobs to scan, sorted by id.
pub struct Plan {
    pub blobs: Vec<PlannedBlob>,
    /// Trees that could not be read; their blobs may be missing from the plan.
    pub problems: Vec<(ObjectId, OdbError)>,
    /// Unique trees decoded (for statistics).
    pub trees_read: u64,
    /// Sorted runs written to disk (diff-history under a small memory budget).
    pub spilled_runs: usize,
}

const GIT_MODE_TREE: u32 = 0o040000;
const GIT_MODE_COMMIT: u32 = 0o160000;

/// One parsed tree entry.
#[derive(Clone, Copy)]
struct TreeEntry<'a> {
    mode: u32,
    name: &'a [u8],
    id: &'a oid,
}

impl TreeEntry<'_> {
    fn is_tree(&self) -> bool {
        self.mode == GIT_MODE_TREE
    }
}

/// Iterate the entries of a raw tree object from a byte position; stops at the first
/// malformed entry (and sets `corrupt`).
struct TreeIter<'a> {
    data: &'a [u8],
    pos: usize,
    corrupt: bool,
}

impl<'a> TreeIter<'a> {
    /// Parse the entry at the current position; returns it with its start offset.
    fn next_at(&mut self) -> Option<(usize, TreeEntry<'a>)> {
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

fn tree_iter(data: &[u8]) -> TreeIter<'_> {
    TreeIter {
        data,
        pos: 0,
        corrupt: false,
    }
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
fn entry_order(a: &TreeEntry<'_>, b: &TreeEntry<'_>) -> std::cmp::Ordering {
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

/// A blob candidate reduced per worker: (commit index, path).
type Candidates = OidMap<ObjectId, (u32, Box<[u8]>)>;

fn offer(map: &mut Candidates, id: &oid, commit: u32, path: &[u8]) {
    match map.entry(id.to_owned()) {
        Entry::Vacant(v) => {
            v.insert((commit, path.into()));
        }
        Entry::Occupied(mut o) => {
            let cur = o.get();
            if (commit, path) < (cur.0, &cur.1[..]) {
                o.insert((commit, path.into()));
            }
        }
    }
}

struct Walker<'a> {
    odb: &'a Odb,
    scratch: ReadScratch,
    trees: TreeCache,
    cands: Candidates,
    /// When set, candidates of the current commit are collected here instead of offered (a
    /// merge's candidates are filtered against its other parents first).
    pending: Option<Vec<(ObjectId, Box<[u8]>)>>,
    problems: Vec<(ObjectId, OdbError)>,
    trees_read: u64,
    path: Vec<u8>,
    runs: Runs,
    spill_error: Option<SpillError>,
}

impl Walker<'_> {
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
            self.problems.push((
                id.to_owned(),
                OdbError::corrupt(format!("tree {id} is malformed")),
            ));
        }
        let t = Arc::new(TreeInfo { data, bounds });
        self.trees.put(id.to_owned(), t.clone());
        Some(t)
    }

    /// Emit every blob of `new` that is not identical at the same path in `old`.
    ///
    /// With an `old` tree, the shared byte prefix is skipped up to the last entry boundary
    /// inside it (identical bytes parse identically), and the walk stops as soon as both
    /// sides sit on entry boundaries with identical remaining bytes. The new tree's bounds are
    /// assembled from the old tree's plus the parsed middle, so the next diff can skip too.
    fn diff(&mut self, new: &oid, old: Option<&oid>, commit: u32, depth: usize) {
        if depth > 4096 {
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
        let build = cached_new.is_none();
        let mut new_bounds: Vec<u32> = if build {
            Vec::with_capacity(old_info.as_ref().map_or(64, |t| t.bounds.len() + 8))
        } else {
            Vec::new()
        };
        let nd: &[u8] = &new_data;
        let od: &[u8] = old_info.as_ref().map(|t| &t.data[..]).unwrap_or_default();
        // Start of the first entry that may differ, and how many trailing bytes both share.
        let (start, start_idx, suffix) = match &old_info {
            Some(t) => {
                let m = common_prefix(nd, od);
                let idx = t
                    .bounds
                    .partition_point(|&b| (b as usize) <= m)
                    .saturating_sub(1);
                let q = t.bounds.get(idx).map_or(0, |&b| b as usize);
                let suffix = common_suffix(&nd[q..], &od[q..]);
                (q, idx, suffix)
            }
            None => (0, 0, 0),
        };
        if build && let Some(t) = &old_info {
            new_bounds.extend_from_slice(&t.bounds[..start_idx.min(t.bounds.len())]);
        }
        let base_len = self.path.len();
        let mut a = TreeIter {
            data: nd,
            pos: start,
            corrupt: false,
        };
        let mut b = TreeIter {
            data: od,
            pos: start,
            corrupt: false,
        };
        let mut ea = a.next_at();
        let mut eb = b.next_at();
        let mut synced = false;
        while let Some((pa, x)) = ea {
            if let Some((pb, _)) = eb
                && nd.len() - pa == od.len() - pb
                && od.len() - pb <= suffix
            {
                // Both on entry boundaries with identical remaining bytes: nothing else changed.
                if build && let Some(t) = &old_info {
                    let k = t.bounds.partition_point(|&v| (v as usize) < pb);
                    new_bounds.extend(t.bounds[k..].iter().map(|&v| (v as usize + pa - pb) as u32));
                }
                synced = true;
                break;
            }
            // Re-synchronise: from two entry boundaries, bytes that are identical parse into
            // identical entries, so jump to the last old boundary inside the shared run. This
            // keeps the work proportional to the changed entries when a commit touches
            // several places of a large tree.
            if let (Some((pb, _)), Some(t)) = (eb, &old_info) {
                let m = common_prefix(&nd[pa..], &od[pb..]);
                if m >= 64 {
                    let i0 = t.bounds.partition_point(|&v| (v as usize) < pb);
                    let i1 = t.bounds.partition_point(|&v| (v as usize) <= pb + m) - 1;
                    let k = t.bounds[i1] as usize;
                    if k > pb {
                        if build {
                            new_bounds.extend(
                                t.bounds[i0..i1]
                                    .iter()
                                    .map(|&v| (v as usize + pa - pb) as u32),
                            );
                        }
                        a.pos = pa + (k - pb);
                        b.pos = k;
                        ea = a.next_at();
                        eb = b.next_at();
                        continue;
                    }
                }
            }
            if build {
                new_bounds.push(pa as u32);
            }
            let ord = match eb {
                Some((_, y)) => entry_order(&x, &y),
                None => std::cmp::Ordering::Less,
            };
            match ord {
                std::cmp::Ordering::Greater => {
                    eb = b.next_at(); // only in old: deleted
                    if build {
                        new_bounds.pop(); // x is looked at again next round
                    }
                    continue;
                }
                std::cmp::Ordering::Equal => {
                    let (_, y) = eb.expect("equal implies present");
                    eb = b.next_at();
                    if !(x.id == y.id && x.mode == y.mode) {
                        self.visit(x, Some(y), commit, depth, base_len);
                    }
                }
                std::cmp::Ordering::Less => self.visit(x, None, commit, depth, base_len),
            }
            ea = a.next_at();
        }
        if a.corrupt {
            self.problems.push((
                new.to_owned(),
                OdbError::corrupt(format!("tree {new} is malformed")),
            ));
        }
        if build && (synced || !a.corrupt) {
            self.trees.put(
                new.to_owned(),
                Arc::new(TreeInfo {
                    data: new_data.clone(),
                    bounds: new_bounds,
                }),
            );
        }
    }

    /// The blob at `path` in tree `root`, if any (for the merge rule).
    fn lookup(&mut self, root: &oid, path: &[u8]) -> Option<ObjectId> {
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

    /// Diff commit `c` against its parents and offer its candidates. In `all_parents` mode a
    /// merge's blob counts only where it differs from every parent at that path.
    fn commit(&mut self, graph: &CommitGraph, c: usize, all_parents: bool) {
        let parents = graph.parents_trees(c);
        self.path.clear();
        if !all_parents || parents.len() < 2 {
            self.diff(
                &graph.trees[c],
                parents.first().map(|p| p.as_ref()),
                c as u32,
                0,
            );
            return;
        }
        self.pending = Some(Vec::new());
        self.diff(&graph.trees[c], Some(&parents[0]), c as u32, 0);
        let pending = self.pending.take().unwrap_or_default();
        for (blob, path) in pending {
            if parents[1..]
                .iter()
                .all(|p| self.lookup(p, &path) != Some(blob))
            {
                offer(&mut self.cands, &blob, c as u32, &path);
            }
        }
    }

    /// Spill the candidate map as a sorted run when it outgrows `budget` bytes.
    fn maybe_spill(&mut self, budget: usize, dir: &std::path::Path) {
        const ENTRY: usize = 20 + 4 + 16 + 24 + 32; // id, commit, box, typical path, map overhead
        if self.spill_error.is_some() || self.cands.len() * ENTRY <= budget {
            return;
        }
        let items: Vec<Candidate> = self.cands.drain().map(|(id, (c, p))| (id, c, p)).collect();
        if let Err(e) = self.runs.spill(dir, items) {
            self.spill_error = Some(e);
        }
    }

    fn visit(
        &mut self,
        x: TreeEntry<'_>,
        old: Option<TreeEntry<'_>>,
        commit: u32,
        depth: usize,
        base_len: usize,
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
            self.diff(x.id, old_id.as_deref(), commit, depth + 1);
        } else if old.is_none_or(|o| o.id != x.id || o.is_tree()) {
            match &mut self.pending {
                Some(p) => p.push((x.id.to_owned(), self.path.as_slice().into())),
                None => offer(&mut self.cands, x.id, commit, &self.path),
            }
        }
        self.path.truncate(base_len);
    }
}

/// Resources for [`plan_odb_blob`].
#[derive(Clone, Copy, Debug)]
pub struct PlanLimits {
    pub threads: usize,
    /// Per worker: split between the delta-base cache and the tree cache.
    pub cache_bytes: usize,
    /// Largest tree decoded.
    pub object_limit: u64,
}

/// How the plan treats commits.
#[derive(Clone, Debug)]
pub enum PlanMode {
    /// Every reachable blob once: each commit diffed against its first parent, reduced in memory.
    OdbBlob,
    /// Blobs introduced by the selected commits: a merge's blob counts only where it differs
    /// from every parent (or from the first parent only), and candidates spill to sorted runs
    /// in `spill_dir` beyond `memory_budget` bytes.
    DiffHistory {
        first_parent_only: bool,
        memory_budget: usize,
        spill_dir: std::path::PathBuf,
    },
}

/// Build the plan for `graph`, plus extra roots (trees and blobs that refs or tags point at
/// directly).
pub fn plan_odb_blob(
    odb: &Odb,
    graph: &CommitGraph,
    extra_trees: &[ObjectId],
    extra_blobs: &[ObjectId],
    limits: PlanLimits,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Plan, crate::ScanError> {
    plan(
        odb,
        graph,
        extra_trees,
        extra_blobs,
        limits,
        &PlanMode::OdbBlob,
        should_abort,
    )
}

/// Build the plan for `graph` in `mode`; see [`PlanMode`].
pub fn plan(
    odb: &Odb,
    graph: &CommitGraph,
    extra_trees: &[ObjectId],
    extra_blobs: &[ObjectId],
    limits: PlanLimits,
    mode: &PlanMode,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Plan, crate::ScanError> {
    let PlanLimits {
        threads,
        cache_bytes,
        object_limit,
    } = limits;
    let (all_parents, spill) = match mode {
        // First-parent diffs suffice when every parent is in the selection (module docs).
        PlanMode::OdbBlob => (graph.bounded, None),
        PlanMode::DiffHistory {
            first_parent_only,
            memory_budget,
            spill_dir,
        } => (
            !first_parent_only,
            Some((memory_budget / threads.max(1), spill_dir.as_path())),
        ),
    };
    let n = graph.len();
    // Contiguous segments of the topological order, each walked oldest-first so a commit's
    // first parent (usually just before it) is in the tree cache when the commit is diffed.
    let segments = (threads.max(1) * 8).min(n.div_ceil(256).max(1));
    let seg_len = n.div_ceil(segments.max(1)).max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Walker<'_>>> = Mutex::new(Vec::new());
    let aborted = std::sync::atomic::AtomicBool::new(false);
    let new_walker = || Walker {
        odb,
        scratch: ReadScratch::new(cache_bytes / 4, object_limit),
        trees: TreeCache::new(cache_bytes - cache_bytes / 4),
        cands: Candidates::default(),
        pending: None,
        problems: Vec::new(),
        trees_read: 0,
        path: Vec::new(),
        runs: Runs::default(),
        spill_error: None,
    };
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut w = new_walker();
                'segments: loop {
                    let seg = next.fetch_add(1, Ordering::Relaxed);
                    let lo = seg * seg_len;
                    if lo >= n {
                        break;
                    }
                    for c in lo..(lo + seg_len).min(n) {
                        if c % 256 == 0 && should_abort() {
                            aborted.store(true, Ordering::Relaxed);
                            break 'segments;
                        }
                        w.commit(graph, c, all_parents);
                        if let Some((budget, dir)) = spill
                            && c % 64 == 0
                        {
                            w.maybe_spill(budget, dir);
                        }
                    }
                }
                results.lock().push(w);
            });
        }
    });
    if aborted.load(Ordering::Relaxed) {
        return Err(crate::ScanError::aborted());
    }
    let mut walkers = results.into_inner();
    if walkers.is_empty() {
        walkers.push(new_walker());
    }
    // Trees and blobs that refs name directly: NO_COMMIT sorts after every commit, so the
    // reduction keeps a commit wherever one also reaches the blob.
    let w = &mut walkers[0];
    for t in extra_trees {
        w.path.clear();
        w.diff(t, None, NO_COMMIT, 0);
    }
    for b in extra_blobs {
        offer(&mut w.cands, b, NO_COMMIT, b"");
    }
    let mut problems = Vec::new();
    let mut trees_read = 0;
    let mut runs = Runs::default();
    let mut rest: Vec<Candidate> = Vec::new();
    let mut merged = Candidates::default();
    let spilled = walkers.iter().any(|w| !w.runs.is_empty());
    for mut w in walkers {
        trees_read += w.trees_read;
        problems.append(&mut w.problems);
        if let Some(e) = w.spill_error.take() {
            return Err(crate::ScanError::ResourceLimit(format!(
                "cannot spill plan candidates: {e}"
            )));
        }
        runs.absorb(std::mem::take(&mut w.runs));
        let cands = std::mem::take(&mut w.cands);
        if spilled {
            rest.extend(cands.into_iter().map(|(id, (c, p))| (id, c, p)));
        } else if merged.is_empty() {
            merged = cands;
        } else {
            for (id, (c, p)) in cands {
                offer(&mut merged, &id, c, &p);
            }
        }
    }
    let spilled_runs = runs.len();
    let mut blobs: Vec<PlannedBlob> = if spilled {
        runs.merge(rest)
            .map_err(|e| {
                crate::ScanError::ResourceLimit(format!(
                    "cannot merge spilled plan candidates: {e}"
                ))
            })?
            .into_iter()
            .map(|(id, commit, path)| PlannedBlob { id, commit, path })
            .collect()
    } else {
        merged
            .into_iter()
            .map(|(id, (commit, path))| PlannedBlob { id, commit, path })
            .collect()
    };
    blobs.sort_unstable_by_key(|b| b.id);
    problems.sort_by_key(|p| p.0);
    problems.dedup_by(|a, b| a.0 == b.0);
    Ok(Plan {
        blobs,
        problems,
        trees_read,
        spilled_runs,
    })
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

    #[test]
    fn candidates_keep_the_earliest_commit_then_smallest_path() {
        let mut m = Candidates::default();
        let id = ObjectId::null(gix_hash::Kind::Sha1);
        offer(&mut m, &id, 5, b"z");
        offer(&mut m, &id, 3, b"y");
        offer(&mut m, &id, 3, b"b");
        offer(&mut m, &id, 4, b"a");
        assert_eq!(m[&id], (3, Box::from(&b"b"[..])));
    }
}
