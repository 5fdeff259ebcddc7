//! The plan: every blob to scan, each with the commit and path that introduced it, in one of
//! two modes ([`odb_blob`], the default, and [`diff_history`]); both share this walk.
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

//!
//! The modes differ in how merges count and in memory: see [`WalkConfig`].

pub mod diff_history;
pub mod odb_blob;
pub mod spill;

use std::collections::hash_map::Entry;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gix_hash::{ObjectId, oid};
use parking_lot::Mutex;

use std::collections::HashSet;

use gix_object::Kind;

use crate::ScanError;
use crate::git::commits::CommitGraph;
use crate::git::odb::{Odb, OdbError, OidMap, ReadScratch};
use crate::git::pack_walk::PackTable;
use crate::git::tree::TreeDiff;
use spill::{Candidate, Runs, SpillError};

pub use diff_history::plan_diff_history;
pub use odb_blob::plan_odb_blob;

/// `commit` value of blobs reachable from no commit (tags on trees or blobs, `all_objects`).
pub const NO_COMMIT: u32 = u32::MAX;

/// One object to scan: a blob, or a commit or annotated tag whose message is scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedBlob {
    pub id: ObjectId,
    /// Topological index into the [`CommitGraph`], or [`NO_COMMIT`]: for a blob, the commit
    /// that introduced it; for a commit, itself; for a tag, the commit it peels to.
    pub commit: u32,
    /// Path in that commit's tree (empty when there is no commit, and for messages).
    pub path: Box<[u8]>,
    /// `Blob`, or `Commit` / `Tag` for a message.
    pub kind: Kind,
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

/// Resources for planning.
#[derive(Clone, Copy, Debug)]
pub struct PlanLimits {
    pub threads: usize,
    /// Per worker: split between the delta-base cache and the tree cache.
    pub cache_bytes: usize,
    /// Largest tree decoded.
    pub object_limit: u64,
}

/// How the plan treats commits (the scan mode with its settings).
#[derive(Clone, Debug)]
pub enum PlanMode {
    /// Every reachable blob once: see [`odb_blob`].
    OdbBlob,
    /// Blobs introduced by the selected commits: see [`diff_history`].
    DiffHistory {
        first_parent_only: bool,
        memory_budget: usize,
        spill_dir: std::path::PathBuf,
    },
}

/// Trees and blobs that refs name directly (not through a commit).
#[derive(Clone, Copy, Debug, Default)]
pub struct ExtraRoots<'a> {
    pub trees: &'a [ObjectId],
    pub blobs: &'a [ObjectId],
}

/// What a mode sets for the shared walk.
pub struct WalkConfig<'a> {
    /// A merge's blob counts only where it differs from every parent at that path (else
    /// merges are diffed against their first parent only).
    pub all_parents: bool,
    /// Spill candidates as sorted runs to this directory beyond this many bytes per worker.
    pub spill: Option<(usize, &'a Path)>,
}

/// Build the plan for `graph` in `mode`.
pub fn plan(
    odb: &Odb,
    graph: &CommitGraph,
    roots: ExtraRoots<'_>,
    limits: PlanLimits,
    mode: &PlanMode,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Plan, ScanError> {
    match mode {
        PlanMode::OdbBlob => plan_odb_blob(odb, graph, roots, limits, should_abort),
        PlanMode::DiffHistory {
            first_parent_only,
            memory_budget,
            spill_dir,
        } => plan_diff_history(
            odb,
            graph,
            roots,
            limits,
            diff_history::Settings {
                first_parent_only: *first_parent_only,
                memory_budget: *memory_budget,
                spill_dir,
            },
            should_abort,
        ),
    }
}

/// A blob candidate reduced per worker: (commit index, path).
type Candidates = OidMap<ObjectId, (u32, Box<[u8]>)>;

/// Keep the smaller `(commit, path)` for `id`.
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

/// One worker's walk: its tree differ and its reduced candidates.
struct Walker<'a> {
    trees: TreeDiff<'a>,
    cands: Candidates,
    runs: Runs,
    spill_error: Option<SpillError>,
}

impl<'a> Walker<'a> {
    fn new(odb: &'a Odb, limits: &PlanLimits) -> Self {
        let c = limits.cache_bytes;
        Self {
            trees: TreeDiff::new(odb, ReadScratch::new(c / 4, limits.object_limit), c - c / 4),
            cands: Candidates::default(),
            runs: Runs::default(),
            spill_error: None,
        }
    }

    /// Diff commit `c` against its parents and offer its candidates. With `all_parents` a
    /// merge's blob counts only where it differs from every parent at that path.
    fn commit(&mut self, graph: &CommitGraph, c: usize, all_parents: bool) {
        let parents = graph.parents_trees(c);
        let cands = &mut self.cands;
        let commit = c as u32;
        if !all_parents || parents.len() < 2 {
            let first = parents.first().map(|p| p.as_ref());
            self.trees.diff(&graph.trees[c], first, &mut |id, path| {
                offer(cands, id, commit, path)
            });
            return;
        }
        let mut pending: Vec<(ObjectId, Box<[u8]>)> = Vec::new();
        self.trees
            .diff_every_path(&graph.trees[c], Some(&parents[0]), &mut |id, path| {
                pending.push((id.to_owned(), path.into()))
            });
        for (blob, path) in pending {
            if parents[1..]
                .iter()
                .all(|p| self.trees.lookup(p, &path) != Some(blob))
            {
                offer(&mut self.cands, &blob, commit, &path);
            }
        }
    }

    /// Spill the candidate map as a sorted run when it outgrows `budget` bytes.
    fn maybe_spill(&mut self, budget: usize, dir: &Path) {
        const ENTRY: usize = 20 + 4 + 16 + 24 + 32; // id, commit, box, typical path, map overhead
        if self.spill_error.is_some() || self.cands.len() * ENTRY <= budget {
            return;
        }
        let items: Vec<Candidate> = self.cands.drain().map(|(id, (c, p))| (id, c, p)).collect();
        if let Err(e) = self.runs.spill(dir, items) {
            self.spill_error = Some(e);
        }
    }
}

/// Walk every commit of `graph` (plus `roots`) on `limits.threads` workers as `config` says,
/// and reduce the candidates to one `(commit, path)` per blob.
fn walk(
    odb: &Odb,
    graph: &CommitGraph,
    roots: ExtraRoots<'_>,
    limits: PlanLimits,
    config: WalkConfig<'_>,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Plan, ScanError> {
    let mut walkers = walk_commits(odb, graph, &limits, &config, should_abort)?;
    // Trees and blobs that refs name directly: NO_COMMIT sorts after every commit, so the
    // reduction keeps a commit wherever one also reaches the blob.
    let w = &mut walkers[0];
    for t in roots.trees {
        let cands = &mut w.cands;
        w.trees
            .diff(t, None, &mut |id, path| offer(cands, id, NO_COMMIT, path));
    }
    for b in roots.blobs {
        offer(&mut w.cands, b, NO_COMMIT, b"");
    }
    reduce(walkers)
}

/// The parallel part of [`walk`]: contiguous segments of the topological order, each walked
/// oldest-first so a commit's first parent (usually just before it) is in the tree cache when
/// the commit is diffed. Returns at least one walker.
fn walk_commits<'a>(
    odb: &'a Odb,
    graph: &CommitGraph,
    limits: &PlanLimits,
    config: &WalkConfig<'_>,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<Walker<'a>>, ScanError> {
    let threads = limits.threads.max(1);
    let n = graph.len();
    let segments = (threads * 8).min(n.div_ceil(256).max(1));
    let seg_len = n.div_ceil(segments.max(1)).max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Walker<'a>>> = Mutex::new(Vec::new());
    let aborted = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut w = Walker::new(odb, limits);
                'segments: loop {
                    let lo = next.fetch_add(1, Ordering::Relaxed) * seg_len;
                    if lo >= n {
                        break;
                    }
                    for c in lo..(lo + seg_len).min(n) {
                        if c % 256 == 0 && should_abort() {
                            aborted.store(true, Ordering::Relaxed);
                            break 'segments;
                        }
                        w.commit(graph, c, config.all_parents);
                        if let Some((budget, dir)) = config.spill
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
        return Err(ScanError::aborted());
    }
    let mut walkers = results.into_inner();
    if walkers.is_empty() {
        walkers.push(Walker::new(odb, limits));
    }
    Ok(walkers)
}

/// Merge the walkers' candidates (in memory, or through their spilled runs) into the plan.
fn reduce(walkers: Vec<Walker<'_>>) -> Result<Plan, ScanError> {
    let mut problems = Vec::new();
    let mut trees_read = 0;
    let mut runs = Runs::default();
    let mut rest: Vec<Candidate> = Vec::new();
    let mut merged = Candidates::default();
    let spilled = walkers.iter().any(|w| !w.runs.is_empty());
    for mut w in walkers {
        trees_read += w.trees.trees_read;
        problems.append(&mut w.trees.problems);
        if let Some(e) = w.spill_error.take() {
            return Err(ScanError::ResourceLimit(format!(
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
                ScanError::ResourceLimit(format!("cannot merge spilled plan candidates: {e}"))
            })?
            .into_iter()
            .map(|(id, commit, path)| PlannedBlob {
                id,
                commit,
                path,
                kind: Kind::Blob,
            })
            .collect()
    } else {
        merged
            .into_iter()
            .map(|(id, (commit, path))| PlannedBlob {
                id,
                commit,
                path,
                kind: Kind::Blob,
            })
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

/// Append every blob of every pack and every loose blob that the plan does not hold yet, with no
/// commit (`all_objects`). Objects that cannot be read far enough to know their kind (corrupt
/// pack entries, loose objects with a bad header) are appended too: the scan skips them with
/// the reason, so nothing the repository holds leaves the account unseen.
pub fn add_unreachable_blobs(odb: &Odb, tables: &[PackTable], plan: &mut Plan) {
    let planned: HashSet<ObjectId> = plan.blobs.iter().map(|b| b.id).collect();
    let mut extra: Vec<ObjectId> = Vec::new();
    for (pack, table) in odb.packs.iter().zip(tables) {
        let unreadable: HashSet<u32> = table.corrupt.iter().map(|c| c.0).collect();
        for e in 0..table.len() as u32 {
            let id = table.id(pack, e);
            let wanted = table.kind[e as usize] == 3 || unreadable.contains(&e);
            if wanted && !planned.contains(id) {
                extra.push(id.to_owned());
            }
        }
    }
    let mut z = gix_zlib::Decompress::new();
    for i in 0..odb.loose.len() as u32 {
        let id = odb.loose.id(i);
        if planned.contains(id) {
            continue;
        }
        // Only the kind matters: read from the header, whatever the object's size. An object
        // whose header cannot be read is planned all the same: the scan then reads it, fails
        // and skips it with the reason, instead of the object vanishing from the account.
        match odb.loose.header(i, &mut z) {
            Ok((Kind::Blob, _)) | Err(_) => extra.push(id.to_owned()),
            Ok(_) => {}
        }
    }
    extra.sort_unstable();
    extra.dedup();
    plan.blobs.extend(extra.into_iter().map(|id| PlannedBlob {
        id,
        commit: NO_COMMIT,
        path: Box::default(),
        kind: Kind::Blob,
    }));
}

/// Append the messages to scan: every commit of the graph, and every annotated tag the refs
/// pass through (`tags`: each tag with the commit it peels to, if that commit is selected).
/// Returns how many were appended. They go through placement, pack execution, the store's
/// seen-filter and finalize like blobs, under their own object ids.
pub fn add_messages(plan: &mut Plan, graph: &CommitGraph, tags: &[(ObjectId, u32)]) -> u64 {
    let before = plan.blobs.len();
    plan.blobs
        .extend(graph.ids.iter().enumerate().map(|(i, id)| PlannedBlob {
            id: *id,
            commit: i as u32,
            path: Box::default(),
            kind: Kind::Commit,
        }));
    plan.blobs
        .extend(tags.iter().map(|&(id, commit)| PlannedBlob {
            id,
            commit,
            path: Box::default(),
            kind: Kind::Tag,
        }));
    (plan.blobs.len() - before) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

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
