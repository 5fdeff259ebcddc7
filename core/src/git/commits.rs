//! The reachable commit graph, in a deterministic topological order.
//!
//! Starting from the peeled ref tips, every selected commit is read once: from the commit-graph
//! file when there is one, else from one sweep over the packs for a whole-history walk, else one
//! lookup at a time (an incremental walk reads only what lies above its watermarks). The order is Kahn's algorithm from the roots:
//! a commit comes after all its parents, and among commits that are ready at the same time the
//! one with the smaller (committer time, id) goes first. That order is what "earliest in
//! topological order from the roots" means everywhere in the library, so attribution does not
//! depend on thread count, pack layout or ref order.
//!
//! Missing parents (partial or broken clones) end the walk on that side and are reported; the
//! parents of commits listed in `shallow` are ignored, like git does.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use gix_hash::ObjectId;
use gix_object::Kind;

use crate::git::GitError;
use crate::git::odb::{Odb, OdbError, OidMap, ReadScratch};
use crate::git::pack_walk::{self, ExecScratch, Flow, PackTable, Traversal};
use crate::git::repo::RepoLayout;

pub const NO_PARENT: u32 = u32::MAX;

/// Reachable commits, indexed by topological position.
pub struct CommitGraph {
    pub ids: Vec<ObjectId>,
    pub trees: Vec<ObjectId>,
    /// Index of the first parent, or [`NO_PARENT`] (root commit, or parent outside the
    /// selection).
    pub first_parent: Vec<u32>,
    /// Root trees of each commit's parents, in parent order, including parents outside the
    /// selection: `parent_trees[parent_start[c]..parent_start[c + 1]]`.
    pub parent_start: Vec<u32>,
    pub parent_trees: Vec<ObjectId>,
    pub commit_time: Vec<i64>,
    pub index: OidMap<ObjectId, u32>,
    /// Some selected commit has a parent outside the selection (an excluded one: a range, or an
    /// incremental walk below watermarks). The proof that first-parent diffs find each blob's
    /// introduction needs every parent in the selection; without that, a merge may bring in a
    /// blob its excluded side introduced, so the plan checks every parent (see `plan`).
    pub bounded: bool,
}

impl CommitGraph {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Root trees of commit `c`'s parents.
    pub fn parents_trees(&self, c: usize) -> &[ObjectId] {
        &self.parent_trees[self.parent_start[c] as usize..self.parent_start[c + 1] as usize]
    }
}

/// An object that could not be read while walking commits.
#[derive(Debug)]
pub struct WalkProblem {
    pub id: ObjectId,
    pub error: OdbError,
}

/// The minimal parse of a commit needed for the walk.
pub struct CommitHeader {
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub committer_time: i64,
}

fn hex_id(line: &[u8]) -> Option<ObjectId> {
    ObjectId::from_hex(line.get(..40)?).ok()
}

/// Parse `tree`, `parent` and the committer time from a commit object.
pub fn parse_commit_header(data: &[u8]) -> Option<CommitHeader> {
    let mut tree = None;
    let mut parents = Vec::new();
    let mut committer_time = 0;
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            break; // end of headers
        }
        if let Some(rest) = line.strip_prefix(b"tree ") {
            tree = hex_id(rest);
        } else if let Some(rest) = line.strip_prefix(b"parent ") {
            parents.push(hex_id(rest)?);
        } else if let Some(rest) = line.strip_prefix(b"committer ") {
            committer_time = parse_signature(rest).map(|s| s.time).unwrap_or(0);
        }
    }
    Some(CommitHeader {
        tree: tree?,
        parents,
        committer_time,
    })
}

/// A parsed `Name <email> time tz` signature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub email: String,
    pub time: i64,
}

/// Who made a commit and its summary line, for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitInfo {
    pub author: Signature,
    pub committer: Signature,
    /// The first non-blank line of the message, trimmed.
    pub summary: String,
}

/// Parse author, committer and summary of a commit (missing or malformed parts stay empty).
pub fn parse_commit_info(data: &[u8]) -> CommitInfo {
    let mut info = CommitInfo::default();
    let (headers, message) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(p) => (&data[..p], &data[p + 2..]),
        None => (data, &b""[..]),
    };
    for line in headers.split(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"author ")
            && let Some(s) = parse_signature(rest)
        {
            info.author = s;
        } else if let Some(rest) = line.strip_prefix(b"committer ")
            && let Some(s) = parse_signature(rest)
        {
            info.committer = s;
        }
    }
    let first = message
        .split(|&b| b == b'\n')
        .find(|l| !l.trim_ascii().is_empty())
        .unwrap_or_default();
    info.summary = String::from_utf8_lossy(first.trim_ascii()).into_owned();
    info
}

pub fn parse_signature(s: &[u8]) -> Option<Signature> {
    let lt = s.iter().position(|&b| b == b'<')?;
    let gt = lt + s[lt..].iter().position(|&b| b == b'>')?;
    let name = String::from_utf8_lossy(s[..lt].trim_ascii()).into_owned();
    let email = String::from_utf8_lossy(&s[lt + 1..gt]).into_owned();
    let rest = s.get(gt + 1..).unwrap_or_default().trim_ascii();
    let time = rest
        .split(|&b| b == b' ')
        .next()
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    Some(Signature { name, email, time })
}

/// Follow tags until a non-tag object. Returns the final id and kind, or the problem.
pub fn peel(
    odb: &Odb,
    id: ObjectId,
    s: &mut ReadScratch,
    buf: &mut Vec<u8>,
) -> Result<(ObjectId, Kind), OdbError> {
    let mut cur = id;
    for _ in 0..64 {
        let kind = odb.read_id(&cur, s, buf)?;
        if kind != Kind::Tag {
            return Ok((cur, kind));
        }
        let target = buf
            .split(|&b| b == b'\n')
            .find_map(|l| l.strip_prefix(b"object "))
            .and_then(hex_id)
            .ok_or_else(|| OdbError::corrupt(format!("tag {cur} has no object line")))?;
        cur = target;
    }
    Err(OdbError::corrupt(format!(
        "tag chain from {id} is longer than 64"
    )))
}

/// Decode every commit stored in the packs, in pack order on `threads` workers (a sequential
/// sweep instead of one random lookup per commit). Unparseable commits are left out; the walk
/// reads them again and reports them.
pub fn bulk_read(
    odb: &Odb,
    tables: &[PackTable],
    threads: usize,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<OidMap<ObjectId, CommitHeader>, GitError> {
    let mut work = Vec::new();
    let travs: Vec<Traversal> = tables
        .iter()
        .map(|t| Traversal::new(t, (0..t.len() as u32).filter(|&e| t.kind[e as usize] == 1)))
        .collect();
    for (i, tr) in travs.iter().enumerate() {
        work.extend(tr.tasks(threads * 4).into_iter().map(|task| (i, task)));
    }
    let maps = crate::scheduler::run(
        work,
        threads,
        should_abort,
        || GitError::Aborted,
        || {
            (
                OidMap::<ObjectId, CommitHeader>::default(),
                ExecScratch::default(),
                ReadScratch::new(1 << 20, 64 << 20),
            )
        },
        |(map, exec, rs), (i, task)| {
            let table = &tables[i];
            let pack = &odb.packs[table.pack as usize];
            let flow = pack_walk::run_task(
                odb,
                table,
                &travs[i],
                &task,
                64 << 20,
                exec,
                rs,
                &mut |e, kind, data| {
                    if e % 1024 == 0 && should_abort() {
                        return Flow::Stop;
                    }
                    if kind == Kind::Commit
                        && let Some(h) = parse_commit_header(data)
                    {
                        map.insert(table.id(pack, e).to_owned(), h);
                    }
                    Flow::Continue
                },
                &mut |_| {},
            );
            match flow {
                Flow::Continue => Ok(()),
                Flow::Stop => Err(GitError::Aborted),
            }
        },
    )?;
    let mut maps = maps.into_iter().map(|m| m.0);
    let mut all = maps.next().unwrap_or_default();
    for m in maps {
        all.extend(m);
    }
    Ok(all)
}

/// Where commit headers come from: headers decoded ahead of time ([`bulk_read`]), the
/// repository's commit-graph file (looked up one commit at a time: parents, root tree, committer
/// time and generation without decoding a commit object), and otherwise the object database.
/// A stale graph is harmless (commits it lacks are read from the packs); a commit whose graph
/// entry does not decode is read from the packs too.
#[derive(Default)]
pub struct HeaderSource {
    known: OidMap<ObjectId, CommitHeader>,
    graph: Option<gix_commitgraph::Graph>,
}

impl HeaderSource {
    /// Headers read ahead of time (e.g. by [`bulk_read`]).
    pub fn from_map(known: OidMap<ObjectId, CommitHeader>) -> Self {
        Self { known, graph: None }
    }

    /// The repository's commit-graph file(s), when present and readable.
    pub fn commit_graph(layout: &RepoLayout) -> Option<Self> {
        let info = layout.object_dirs.first()?.join("info");
        if !info.join("commit-graph").is_file() && !info.join("commit-graphs").is_dir() {
            return None;
        }
        let graph = gix_commitgraph::at(&info, gix_hash::Kind::Sha1, Some(1 << 30)).ok()?;
        Some(Self {
            known: OidMap::default(),
            graph: Some(graph),
        })
    }

    /// Nothing ahead of time: every header is read from the object database when needed.
    pub fn lazy() -> Self {
        Self::default()
    }

    /// The header of `id` and its generation number (`u32::MAX` when unknown: commits outside
    /// the commit-graph are never parents of commits inside it, so "above all of them" is a
    /// consistent topological rank).
    fn get(
        &mut self,
        odb: &Odb,
        id: &ObjectId,
        s: &mut ReadScratch,
        buf: &mut Vec<u8>,
    ) -> Result<(CommitHeader, u32), OdbError> {
        if let Some(h) = self.known.remove(id) {
            return Ok((h, u32::MAX));
        }
        if let Some(g) = &self.graph
            && let Some(c) = g.commit_by_id(id)
        {
            let parents: Result<Vec<ObjectId>, _> = c
                .iter_parents()
                .map(|p| p.map(|pos| g.id_at(pos).to_owned()))
                .collect();
            if let Ok(parents) = parents {
                let header = CommitHeader {
                    tree: c.root_tree_id().to_owned(),
                    parents,
                    committer_time: c.committer_timestamp() as i64,
                };
                return Ok((header, c.generation()));
            }
        }
        match odb.read_id(id, s, buf)? {
            Kind::Commit => parse_commit_header(buf)
                .map(|h| (h, u32::MAX))
                .ok_or_else(|| OdbError::corrupt(format!("commit {id} has no tree line"))),
            other => Err(OdbError::corrupt(format!(
                "{id} is a {other}, expected a commit"
            ))),
        }
    }
}

/// Which commits to walk: everything reachable from `tips` and not from `exclude`.
pub struct Selection<'a> {
    pub tips: &'a [ObjectId],
    /// Commits reachable from these are left out (a range `A..B` excludes `A`).
    pub exclude: &'a [ObjectId],
    /// Commits whose parents are ignored (`shallow`).
    pub shallow: &'a HashSet<ObjectId>,
    /// Exclusions must be exact (a user's range): walk everything below them. Otherwise (ref
    /// watermarks) the walk may stop early when only committer times order it, at worst
    /// selecting a few commits below a watermark (skewed clocks), which an incremental scan
    /// absorbs through its seen-blob set.
    pub exact: bool,
}

/// A commit met by the selection walk.
struct Visit {
    header: CommitHeader,
    /// Reachable from an exclusion.
    excluded: bool,
    /// Taken off the queue (its parents were queued).
    done: bool,
}

/// Queue order: highest generation first, then latest committer time, then id (a commit's
/// children come before it when generations are known, and usually when only times are).
type QueueKey = (u32, i64, ObjectId);

/// Read every selected commit and order them topologically.
///
/// The selection is walked like `git rev-list TIPS --not EXCLUDE`: tips and exclusions go into
/// one queue ordered by [`QueueKey`]; exclusion spreads to parents; the walk stops once no
/// selected commit is left in the queue and no excluded commit still queued can reach a selected
/// one (with generation numbers, exactly: an excluded commit of generation `g` only reaches
/// commits below `g`; with [`Selection::exact`], only once the queue is empty). So an incremental
/// scan reads the new commits and a thin boundary, not the history below its watermarks. A
/// selected commit later found excluded is dropped again.
pub fn load(
    odb: &Odb,
    sel: &Selection<'_>,
    mut source: HeaderSource,
    s: &mut ReadScratch,
    should_abort: &dyn Fn() -> bool,
) -> Result<(CommitGraph, Vec<WalkProblem>), GitError> {
    let mut problems = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0usize;
    let mut visits: OidMap<ObjectId, Visit> = OidMap::default();
    let mut queue: BinaryHeap<QueueKey> = BinaryHeap::new();
    // Queued commits not excluded: the walk goes on while there are any.
    let mut live = 0usize;
    let starts = sel
        .exclude
        .iter()
        .map(|id| (id, true))
        .chain(sel.tips.iter().map(|id| (id, false)));
    let mut pending: Vec<(ObjectId, bool)> = starts.map(|(id, ex)| (*id, ex)).collect();
    // Lowest key among selected (popped, not excluded) commits: excluded commits queued below it
    // cannot reach any of them.
    let mut lowest_selected: Option<QueueKey> = None;
    loop {
        // Discover: read headers of newly met commits and queue them; spread exclusion.
        while let Some((id, excluded)) = pending.pop() {
            n += 1;
            if n.is_multiple_of(4096) && should_abort() {
                return Err(GitError::Aborted);
            }
            if let Some(v) = visits.get_mut(&id) {
                if excluded && !v.excluded {
                    v.excluded = true;
                    if v.done {
                        // Selected too early: drop it and spread the exclusion below it.
                        pending.extend(v.header.parents.iter().map(|p| (*p, true)));
                    } else {
                        live -= 1;
                    }
                }
                continue;
            }
            let (mut header, generation) = match source.get(odb, &id, s, &mut buf) {
                Ok(h) => h,
                Err(error) => {
                    problems.push(WalkProblem { id, error });
                    continue;
                }
            };
            if sel.shallow.contains(&id) {
                header.parents.clear();
            }
            queue.push((generation, header.committer_time, id));
            if !excluded {
                live += 1;
            }
            visits.insert(
                id,
                Visit {
                    header,
                    excluded,
                    done: false,
                },
            );
        }
        let Some(&top) = queue.peek() else { break };
        if live == 0
            && (lowest_selected.is_none()
                || (!sel.exact && lowest_selected.is_some_and(|low| top < low)))
        {
            break;
        }
        queue.pop();
        let v = visits.get_mut(&top.2).expect("queued commits are visited");
        v.done = true;
        if !v.excluded {
            live -= 1;
            lowest_selected = Some(lowest_selected.map_or(top, |low| low.min(top)));
        }
        let excluded = v.excluded;
        pending.extend(v.header.parents.iter().map(|p| (*p, excluded)));
    }
    // Selected commits, and the headers of every visited commit for parent trees (a range's
    // boundary commits are diffed against their excluded parents).
    let headers: OidMap<ObjectId, &CommitHeader> = visits
        .iter()
        .filter(|(_, v)| v.done && !v.excluded)
        .map(|(id, v)| (*id, &v.header))
        .collect();
    // Parents that could not be read are dropped from the graph (the problem is reported).
    let mut children: OidMap<ObjectId, Vec<ObjectId>> = OidMap::default();
    let mut pending: OidMap<ObjectId, usize> = OidMap::default();
    for (id, h) in &headers {
        let mut count = 0;
        let mut seen_parent = HashSet::new();
        for p in &h.parents {
            if headers.contains_key(p) && seen_parent.insert(*p) {
                children.entry(*p).or_default().push(*id);
                count += 1;
            }
        }
        pending.insert(*id, count);
    }
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId)>> = pending
        .iter()
        .filter(|(_, c)| **c == 0)
        .map(|(id, _)| Reverse((headers[id].committer_time, *id)))
        .collect();
    let mut graph = CommitGraph {
        ids: Vec::with_capacity(headers.len()),
        trees: Vec::with_capacity(headers.len()),
        first_parent: Vec::with_capacity(headers.len()),
        parent_start: Vec::with_capacity(headers.len() + 1),
        parent_trees: Vec::with_capacity(headers.len()),
        commit_time: Vec::with_capacity(headers.len()),
        index: OidMap::default(),
        bounded: false,
    };
    graph.parent_start.push(0);
    while let Some(Reverse((time, id))) = ready.pop() {
        let h = &headers[&id];
        let first_parent = h
            .parents
            .first()
            .and_then(|p| graph.index.get(p).copied())
            .unwrap_or(NO_PARENT);
        // Trees of every readable parent, in or out of the selection (a range's boundary
        // commits are diffed against their excluded parents).
        for p in &h.parents {
            if let Some(pv) = visits.get(p) {
                graph.parent_trees.push(pv.header.tree);
                graph.bounded |= pv.excluded;
            }
        }
        graph.parent_start.push(graph.parent_trees.len() as u32);
        graph.index.insert(id, graph.ids.len() as u32);
        graph.ids.push(id);
        graph.trees.push(h.tree);
        graph.first_parent.push(first_parent);
        graph.commit_time.push(time);
        if let Some(kids) = children.get(&id) {
            for k in kids {
                let c = pending.get_mut(k).expect("every child is pending");
                *c -= 1;
                if *c == 0 {
                    ready.push(Reverse((headers[k].committer_time, *k)));
                }
            }
        }
    }
    debug_assert_eq!(
        graph.ids.len(),
        headers.len(),
        "a commit graph has no cycles"
    );
    Ok((graph, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commit_headers_and_signatures() {
        let c = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\nparent 2222222222222222222222222222222222222222\nauthor A U Thor <a@example.com> 1500000000 +0200\ncommitter C O Mitter <c@example.com> 1600000000 -0100\n\nsubject\n";
        let h = parse_commit_header(c).unwrap();
        assert_eq!(h.parents.len(), 2);
        assert_eq!(h.committer_time, 1_600_000_000);
        let s = parse_signature(b"A U Thor <a@example.com> 1500000000 +0200").unwrap();
        assert_eq!(
            (s.name.as_str(), s.email.as_str(), s.time),
            ("A U Thor", "a@example.com", 1_500_000_000)
        );
        assert!(parse_commit_header(b"parent zz\n").is_none());
    }
}
