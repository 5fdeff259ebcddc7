//! The reachable commit graph, in a deterministic topological order.
//!
//! Starting from the peeled ref tips, every selected commit is read once: from the commit-graph
//! file when there is one, else from one sweep over the packs for a whole-history walk, else one
//! lookup at a time (an incremental walk reads only what lies above its watermarks). The order
//! is Kahn's algorithm from the roots: a commit comes after all its parents, and among commits
//! that are ready at the same time the one with the smaller (committer time, id) goes first. That order is what "earliest in
//! topological order from the roots" means everywhere in the library, so attribution does not
//! depend on thread count, pack layout or ref order.
//!
//! Missing parents (partial or broken clones) end the walk on that side and are reported; the
//! parents of commits listed in `shallow` are ignored, like git does. A commit whose `tree` or
//! a `parent` line does not parse is unreadable (reported); a malformed committer only loses its
//! time, and the author, committer and summary reported from a malformed header on are empty.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use gix_actor::SignatureRef;
use gix_hash::ObjectId;
use gix_object::commit::ref_iter::Token;
use gix_object::{CommitRefIter, Kind, TagRefIter};

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

/// Parse `tree`, `parent` and the committer time from a commit object; `None` (the commit is
/// unreadable) without a valid `tree` line or with a `parent` line that does not parse. A
/// malformed committer only loses the time (0).
///
/// A hand parser, not gix-object's: it runs for every commit of a walk, and gix-object's
/// `CommitRefIter` (which validates every header in order, author included) took about twice
/// as long on git.git's 203k commits (~700-1000 ns against ~310-370 ns per commit;
/// `examples/commit_parse_bench.rs`), with the same results on all of them.
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
            committer_time = signature_seconds(rest);
        }
    }
    Some(CommitHeader {
        tree: tree?,
        parents,
        committer_time,
    })
}

fn hex_id(line: &[u8]) -> Option<ObjectId> {
    ObjectId::from_hex(line.get(..40)?).ok()
}

/// The time of a `Name <email> time tz` signature: the first word after the `>` that closes the
/// email, 0 when there is none or it is not a number.
fn signature_seconds(s: &[u8]) -> i64 {
    let Some(lt) = s.iter().position(|&b| b == b'<') else {
        return 0;
    };
    let Some(gt) = s[lt..].iter().position(|&b| b == b'>') else {
        return 0;
    };
    s[lt + gt + 1..]
        .trim_ascii()
        .split(|&b| b == b' ')
        .next()
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

/// A parsed `Name <email> time tz` signature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub email: String,
    pub time: i64,
}

impl From<SignatureRef<'_>> for Signature {
    /// The name trimmed of whitespace, the email as written, the time in seconds (0 when it
    /// does not parse).
    fn from(s: SignatureRef<'_>) -> Self {
        Signature {
            name: String::from_utf8_lossy(s.name.trim_ascii()).into_owned(),
            email: String::from_utf8_lossy(s.email).into_owned(),
            time: s.seconds(),
        }
    }
}

/// Who made a commit and its summary line, for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitInfo {
    pub author: Signature,
    pub committer: Signature,
    /// The first non-blank line of the message, trimmed.
    pub summary: String,
}

/// Parse author, committer and summary of a commit. Parts from the first malformed header on
/// stay empty (gix-object reads headers in order and stops at the first it cannot parse).
pub fn parse_commit_info(data: &[u8]) -> CommitInfo {
    let mut info = CommitInfo::default();
    for token in CommitRefIter::from_bytes(data, gix_hash::Kind::Sha1) {
        match token {
            Ok(Token::Author { signature }) => info.author = signature.into(),
            Ok(Token::Committer { signature }) => info.committer = signature.into(),
            Ok(Token::Message(message)) => info.summary = summary(message),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    info
}

/// Where the message of a raw commit or tag object starts: after the first empty line that
/// ends the headers (header continuation lines, as in `gpgsig`, are never empty). `None` when
/// the object has no message.
pub fn message_offset(data: &[u8]) -> Option<usize> {
    if data.starts_with(b"\n") {
        return Some(1);
    }
    memchr::memmem::find(data, b"\n\n")
        .map(|i| i + 2)
        .filter(|&at| at < data.len())
}

/// The first non-blank line of `message`, trimmed.
fn summary(message: &[u8]) -> String {
    let first = message
        .split(|&b| b == b'\n')
        .find(|l| !l.trim_ascii().is_empty())
        .unwrap_or_default();
    String::from_utf8_lossy(first.trim_ascii()).into_owned()
}

/// Parse a `Name <email> time tz` signature; `None` without `<` and `>`.
pub fn parse_signature(s: &[u8]) -> Option<Signature> {
    SignatureRef::from_bytes(s).ok().map(Signature::from)
}

/// Tags on tags followed at most this deep (git sets no limit; each step is one object read).
pub const MAX_TAG_CHAIN: usize = 10_000;

/// Follow tags until a non-tag object. Returns the final id and kind, or the problem: a tag
/// chain that comes back to a tag it passed (possible only with ids that lie) or is longer
/// than [`MAX_TAG_CHAIN`].
pub fn peel(
    odb: &Odb,
    id: ObjectId,
    s: &mut ReadScratch,
    buf: &mut Vec<u8>,
) -> Result<(ObjectId, Kind), OdbError> {
    peel_through(odb, id, s, buf, &mut Vec::new())
}

/// [`peel`], also appending to `tags` every tag object passed on the way.
pub fn peel_through(
    odb: &Odb,
    id: ObjectId,
    s: &mut ReadScratch,
    buf: &mut Vec<u8>,
    tags: &mut Vec<ObjectId>,
) -> Result<(ObjectId, Kind), OdbError> {
    let mut cur = id;
    let mut passed = std::collections::HashSet::new();
    for _ in 0..MAX_TAG_CHAIN {
        let kind = odb.read_id(&cur, s, buf)?;
        if kind != Kind::Tag {
            return Ok((cur, kind));
        }
        if !passed.insert(cur) {
            return Err(OdbError::corrupt(format!(
                "tag chain from {id} comes back to tag {cur}"
            )));
        }
        tags.push(cur);
        cur = TagRefIter::from_bytes(buf, gix_hash::Kind::Sha1)
            .target_id()
            .map_err(|_| OdbError::corrupt(format!("tag {cur} has no object line")))?;
    }
    Err(OdbError::corrupt(format!(
        "tag chain from {id} is longer than {MAX_TAG_CHAIN}"
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
/// one queue ordered by `QueueKey`; exclusion spreads to parents; the walk stops once no
/// selected commit is left in the queue and no excluded commit still queued can reach a selected
/// one (with generation numbers, exactly: an excluded commit of generation `g` only reaches
/// commits below `g`; with [`Selection::exact`], only once the queue is empty). So an incremental
/// scan reads the new commits and a thin boundary, not the history below its watermarks. A
/// selected commit later found excluded is dropped again.
pub fn load(
    odb: &Odb,
    sel: &Selection<'_>,
    source: HeaderSource,
    s: &mut ReadScratch,
    should_abort: &dyn Fn() -> bool,
) -> Result<(CommitGraph, Vec<WalkProblem>), GitError> {
    let mut walk = SelectionWalk::new(sel, source);
    walk.run(odb, sel, s, should_abort)?;
    let (graph, stuck) = topological_order(&walk.visits);
    let mut problems = walk.problems;
    problems.extend(stuck.into_iter().map(|id| WalkProblem {
        id,
        error: OdbError::corrupt(format!(
            "commit {id} is on a parent cycle, or below one (a lying commit-graph or commit)"
        )),
    }));
    Ok((graph, problems))
}

/// The state of the selection walk (see [`load`]).
struct SelectionWalk {
    source: HeaderSource,
    visits: OidMap<ObjectId, Visit>,
    queue: BinaryHeap<QueueKey>,
    /// Queued commits not excluded: the walk goes on while there are any.
    live: usize,
    /// Commits met but not yet read, and whether they are reached from an exclusion.
    pending: Vec<(ObjectId, bool)>,
    /// Lowest key among selected (popped, not excluded) commits: excluded commits queued below
    /// it cannot reach any of them.
    lowest_selected: Option<QueueKey>,
    problems: Vec<WalkProblem>,
    /// Commits met so far (the abort check runs every 4096).
    met: usize,
    buf: Vec<u8>,
}

impl SelectionWalk {
    fn new(sel: &Selection<'_>, source: HeaderSource) -> Self {
        let starts = sel
            .exclude
            .iter()
            .map(|id| (*id, true))
            .chain(sel.tips.iter().map(|id| (*id, false)));
        SelectionWalk {
            source,
            visits: OidMap::default(),
            queue: BinaryHeap::new(),
            live: 0,
            pending: starts.collect(),
            lowest_selected: None,
            problems: Vec::new(),
            met: 0,
            buf: Vec::new(),
        }
    }

    fn run(
        &mut self,
        odb: &Odb,
        sel: &Selection<'_>,
        s: &mut ReadScratch,
        should_abort: &dyn Fn() -> bool,
    ) -> Result<(), GitError> {
        loop {
            self.discover(odb, sel, s, should_abort)?;
            let Some(&top) = self.queue.peek() else {
                return Ok(());
            };
            if self.done(sel, top) {
                return Ok(());
            }
            self.queue.pop();
            self.take(top);
        }
    }

    /// Reads the headers of newly met commits and queues them; spreads exclusion to commits met
    /// again.
    fn discover(
        &mut self,
        odb: &Odb,
        sel: &Selection<'_>,
        s: &mut ReadScratch,
        should_abort: &dyn Fn() -> bool,
    ) -> Result<(), GitError> {
        while let Some((id, excluded)) = self.pending.pop() {
            self.met += 1;
            if self.met.is_multiple_of(4096) && should_abort() {
                return Err(GitError::Aborted);
            }
            if self.visits.contains_key(&id) {
                self.meet_again(id, excluded);
                continue;
            }
            let (mut header, generation) = match self.source.get(odb, &id, s, &mut self.buf) {
                Ok(h) => h,
                Err(error) => {
                    self.problems.push(WalkProblem { id, error });
                    continue;
                }
            };
            if sel.shallow.contains(&id) {
                header.parents.clear();
            }
            self.queue.push((generation, header.committer_time, id));
            if !excluded {
                self.live += 1;
            }
            self.visits.insert(
                id,
                Visit {
                    header,
                    excluded,
                    done: false,
                },
            );
        }
        Ok(())
    }

    /// A visited commit met again: reached from an exclusion now, it is excluded, and if it was
    /// selected already, dropped again with the exclusion spread below it.
    fn meet_again(&mut self, id: ObjectId, excluded: bool) {
        let v = self.visits.get_mut(&id).expect("met again means visited");
        if excluded && !v.excluded {
            v.excluded = true;
            if v.done {
                // Selected too early: drop it and spread the exclusion below it.
                self.pending
                    .extend(v.header.parents.iter().map(|p| (*p, true)));
            } else {
                self.live -= 1;
            }
        }
    }

    /// Whether the walk may stop with `top` next: no selected commit is queued, and no queued
    /// excluded commit can still reach a selected one.
    fn done(&self, sel: &Selection<'_>, top: QueueKey) -> bool {
        self.live == 0
            && (self.lowest_selected.is_none()
                || (!sel.exact && self.lowest_selected.is_some_and(|low| top < low)))
    }

    /// Takes `top` off the queue: it is selected unless excluded, and its parents are met.
    fn take(&mut self, top: QueueKey) {
        let v = self
            .visits
            .get_mut(&top.2)
            .expect("queued commits are visited");
        v.done = true;
        if !v.excluded {
            self.live -= 1;
            self.lowest_selected = Some(self.lowest_selected.map_or(top, |low| low.min(top)));
        }
        let excluded = v.excluded;
        self.pending
            .extend(v.header.parents.iter().map(|p| (*p, excluded)));
    }
}

/// The selected commits of a walk in topological order (Kahn's algorithm from the roots, ties
/// by (committer time, id)), with the trees of every readable parent, selected or not (a
/// range's boundary commits are diffed against their excluded parents). Commits that never
/// become ready (on a parent cycle, which only lying data can make, or above one) are returned
/// apart, sorted, to be reported: never dropped silently.
fn topological_order(visits: &OidMap<ObjectId, Visit>) -> (CommitGraph, Vec<ObjectId>) {
    let headers: OidMap<ObjectId, &CommitHeader> = visits
        .iter()
        .filter(|(_, v)| v.done && !v.excluded)
        .map(|(id, v)| (*id, &v.header))
        .collect();
    let (children, mut pending) = selected_children(&headers);
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId)>> = pending
        .iter()
        .filter(|(_, c)| **c == 0)
        .map(|(id, _)| Reverse((headers[id].committer_time, *id)))
        .collect();
    let mut graph = CommitGraph::with_capacity(headers.len());
    while let Some(Reverse((time, id))) = ready.pop() {
        graph.push(id, time, headers[&id], visits);
        for k in children.get(&id).into_iter().flatten() {
            let c = pending.get_mut(k).expect("every child is pending");
            *c -= 1;
            if *c == 0 {
                ready.push(Reverse((headers[k].committer_time, *k)));
            }
        }
    }
    let mut stuck: Vec<ObjectId> = pending
        .iter()
        .filter(|(_, c)| **c > 0)
        .map(|(id, _)| *id)
        .collect();
    stuck.sort_unstable();
    (graph, stuck)
}

/// For each selected commit, its selected children, and how many distinct selected parents it
/// waits for. Parents that could not be read are left out (the problem is reported).
type ChildLinks = (OidMap<ObjectId, Vec<ObjectId>>, OidMap<ObjectId, usize>);

fn selected_children(headers: &OidMap<ObjectId, &CommitHeader>) -> ChildLinks {
    let mut children: OidMap<ObjectId, Vec<ObjectId>> = OidMap::default();
    let mut pending: OidMap<ObjectId, usize> = OidMap::default();
    for (id, h) in headers {
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
    (children, pending)
}

impl CommitGraph {
    fn with_capacity(n: usize) -> Self {
        let mut graph = CommitGraph {
            ids: Vec::with_capacity(n),
            trees: Vec::with_capacity(n),
            first_parent: Vec::with_capacity(n),
            parent_start: Vec::with_capacity(n + 1),
            parent_trees: Vec::with_capacity(n),
            commit_time: Vec::with_capacity(n),
            index: OidMap::default(),
            bounded: false,
        };
        graph.parent_start.push(0);
        graph
    }

    /// Appends commit `id` (all its selected parents are in already).
    fn push(
        &mut self,
        id: ObjectId,
        time: i64,
        h: &CommitHeader,
        visits: &OidMap<ObjectId, Visit>,
    ) {
        let first_parent = h
            .parents
            .first()
            .and_then(|p| self.index.get(p).copied())
            .unwrap_or(NO_PARENT);
        for p in &h.parents {
            if let Some(pv) = visits.get(p) {
                self.parent_trees.push(pv.header.tree);
                self.bounded |= pv.excluded;
            }
        }
        self.parent_start.push(self.parent_trees.len() as u32);
        self.index.insert(id, self.ids.len() as u32);
        self.ids.push(id);
        self.trees.push(h.tree);
        self.first_parent.push(first_parent);
        self.commit_time.push(time);
    }
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
        let info = parse_commit_info(c);
        assert_eq!(info.author.name, "A U Thor");
        assert_eq!(info.committer.time, 1_600_000_000);
        assert_eq!(info.summary, "subject");
    }

    /// What a malformed commit loses: a bad tree or parent line makes it unreadable (skipped and
    /// reported by the walk); a bad signature only loses the time.
    #[test]
    fn malformed_commits_are_skipped_or_lose_the_time() {
        let tree = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n";
        let parent = "parent 1111111111111111111111111111111111111111\n";
        let author = "author A <a@example.com> 1500000000 +0200\n";
        let committer = "committer C <c@example.com> 1600000000 -0100\n";
        let commit = |lines: &[&str]| format!("{}\nmessage\n", lines.concat());
        let header = |lines: &[&str]| parse_commit_header(commit(lines).as_bytes());
        let h = header(&[tree, parent, author, committer]).unwrap();
        assert_eq!((h.parents.len(), h.committer_time), (1, 1_600_000_000));
        assert!(header(&[parent, author, committer]).is_none(), "no tree");
        assert!(header(&["tree 4b825dc6\n", author, committer]).is_none());
        assert!(header(&[tree, parent, "parent 12zz\n", author, committer]).is_none());
        let h = header(&[tree, parent, author, "committer C <c@example.com> soon\n"]).unwrap();
        assert_eq!((h.parents.len(), h.committer_time), (1, 0));
        let h = header(&[tree, parent]).unwrap();
        assert_eq!((h.parents.len(), h.committer_time), (1, 0));
        let info = parse_commit_info(commit(&[tree, "author nobody\n", committer]).as_bytes());
        assert_eq!(info, CommitInfo::default());
    }
}
