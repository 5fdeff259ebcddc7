//! Pack execution: decode wanted objects in pack order by walking delta trees.
//!
//! For one pack, [`PackTable`] parses every entry header once (offset order) and links each
//! delta to its base, giving a forest whose roots are undeltified objects; a delta's kind is its
//! root's. A traversal marks the wanted entries and their ancestors, splits the needed roots into
//! tasks of balanced cost (so a single-pack repository still uses every core), and each task
//! decodes its trees depth-first, applying every delta once to its parent's bytes. No object is
//! decoded twice and no per-object lookup happens: that is what makes this ~15× faster than
//! random access.
//!
//! Failures are per object: a corrupt entry or an oversized object skips that entry and the
//! wanted entries below it (reported through the callback), never the whole pack.

use gix_hash::ObjectId;
use gix_object::Kind;
use gix_pack::data::entry::Header;

use crate::git::odb::{Odb, OdbError, Pack, ReadScratch, delta, delta_limit};

pub const NONE: u32 = u32::MAX;

/// Every entry of one pack, in offset order, linked to its delta base.
pub struct PackTable {
    pub pack: u32,
    pub offsets: Vec<u64>,
    /// Base entry index, or [`NONE`] for roots and external bases.
    pub base: Vec<u32>,
    /// Resolved object kind (0 = unknown: base missing or corrupt).
    pub kind: Vec<u8>,
    /// Decompressed size from the entry header (object size, or delta instruction size).
    pub size: Vec<u64>,
    /// Ref-delta bases that live outside this pack: (entry index, base id).
    pub external: Vec<(u32, ObjectId)>,
    /// Entries whose headers could not be parsed.
    pub corrupt: Vec<(u32, String)>,
    /// Entry index of each index position (idx order → offset order).
    pub by_index_pos: Vec<u32>,
    /// Index position of each entry (offset order → idx order), to name entries.
    pub index_pos: Vec<u32>,
}

fn kind_code(k: Kind) -> u8 {
    match k {
        Kind::Commit => 1,
        Kind::Tree => 2,
        Kind::Blob => 3,
        Kind::Tag => 4,
    }
}

pub fn kind_from_code(c: u8) -> Option<Kind> {
    Some(match c {
        1 => Kind::Commit,
        2 => Kind::Tree,
        3 => Kind::Blob,
        4 => Kind::Tag,
        _ => return None,
    })
}

impl PackTable {
    pub fn build(pack: &Pack) -> PackTable {
        let idx = &pack.index;
        let n = idx.num_objects() as usize;
        let order = pack.offset_order();
        let offsets: Vec<u64> = order.iter().map(|o| o.0).collect();
        let mut by_index_pos = vec![NONE; n];
        for (e, (_, pos)) in order.iter().enumerate() {
            by_index_pos[*pos as usize] = e as u32;
        }
        let index_pos: Vec<u32> = order.iter().map(|o| o.1).collect();
        let mut t = PackTable {
            pack: pack.id,
            offsets,
            base: vec![NONE; n],
            kind: vec![0; n],
            size: vec![0; n],
            external: Vec::new(),
            corrupt: Vec::new(),
            by_index_pos,
            index_pos,
        };
        let mut pending_ref = Vec::new();
        for e in 0..n {
            let off = t.offsets[e];
            if e > 0 && t.offsets[e - 1] == off {
                // A lying `.idx`: another id was already given this offset (the one whose CRC32
                // matches the bytes there, see `Pack::offset_order`).
                let first = t.first_at(off).expect("an entry at this offset");
                t.corrupt.push((
                    e as u32,
                    format!(
                        "the .idx also names {} at offset {off}, whose bytes are not this object",
                        pack.index.oid_at_index(t.index_pos[first as usize])
                    ),
                ));
                continue;
            }
            let entry = match pack.entry(off) {
                Ok(x) => x,
                Err(err) => {
                    t.corrupt.push((e as u32, err.to_string()));
                    continue;
                }
            };
            t.size[e] = entry.decompressed_size;
            match entry.header {
                Header::OfsDelta { base_distance } => {
                    match Header::verified_base_pack_offset(off, base_distance)
                        .and_then(|b| t.first_at(b))
                        .map(|b| b as usize)
                    {
                        Some(b) => {
                            t.base[e] = b as u32;
                            t.kind[e] = t.kind[b];
                        }
                        None => t
                            .corrupt
                            .push((e as u32, format!("ofs-delta at {off} has no base entry"))),
                    }
                }
                Header::RefDelta { base_id } => match idx.lookup(base_id) {
                    Some(pos) => {
                        let b = t.by_index_pos[pos as usize];
                        t.base[e] = b;
                        pending_ref.push(e);
                    }
                    None => t.external.push((e as u32, base_id)),
                },
                h => t.kind[e] = kind_code(h.as_kind().expect("undeltified entries have a kind")),
            }
        }
        if !pending_ref.is_empty() {
            t.settle_kinds();
        }
        t
    }

    /// Ofs-delta bases precede their deltas, but ref-delta bases may come later: give every
    /// delta its root's kind by following base links. Entries on a cycle of base links (only
    /// ref-deltas can close one) become corrupt roots, so the deltas above them are skipped
    /// with the reason instead of never being reached.
    fn settle_kinds(&mut self) {
        const FREE: u32 = u32::MAX;
        let mut on_path = vec![FREE; self.len()];
        let mut path = Vec::new();
        for e in 0..self.len() {
            if self.kind[e] != 0 || self.base[e] == NONE {
                continue;
            }
            path.clear();
            let mut cur = e;
            while self.kind[cur] == 0 && self.base[cur] != NONE && on_path[cur] != e as u32 {
                on_path[cur] = e as u32;
                path.push(cur);
                cur = self.base[cur] as usize;
            }
            if on_path[cur] == e as u32 {
                // `cur` is on a cycle: cut it there.
                let mut x = cur;
                loop {
                    let next = self.base[x] as usize;
                    self.base[x] = NONE;
                    let offset = self.offsets[x];
                    self.corrupt.push((
                        x as u32,
                        format!("delta cycle: the ref-delta at {offset} depends on itself"),
                    ));
                    if next == cur {
                        break;
                    }
                    x = next;
                }
                continue; // the entries leading to the cycle stay kind 0, below a corrupt root
            }
            let kind = self.kind[cur];
            for &x in &path {
                self.kind[x] = kind;
            }
        }
    }

    /// Why entry `e` is corrupt, when its header or its base link is.
    pub fn corrupt_reason(&self, e: u32) -> Option<&str> {
        self.corrupt
            .iter()
            .find(|(x, _)| *x == e)
            .map(|(_, why)| why.as_str())
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Entry index of the object at `offset` (the first of a run that a lying `.idx` gave one
    /// offset).
    fn first_at(&self, offset: u64) -> Option<u32> {
        let e = self.offsets.partition_point(|&o| o < offset);
        (self.offsets.get(e) == Some(&offset)).then_some(e as u32)
    }

    /// Entry index of object `id` at `offset`: the entry there, or, when the `.idx` gave that
    /// offset to several ids, the one it names `id`.
    pub fn entry_at(&self, pack: &Pack, offset: u64, id: &gix_hash::oid) -> Option<u32> {
        let first = self.first_at(offset)?;
        (first..self.len() as u32)
            .take_while(|&e| self.offsets[e as usize] == offset)
            .find(|&e| self.id(pack, e) == id)
            .or(Some(first))
    }

    /// The id of entry `e`.
    pub fn id<'p>(&self, pack: &'p Pack, e: u32) -> &'p gix_hash::oid {
        pack.index.oid_at_index(self.index_pos[e as usize])
    }
}

/// A unit of work: a run of delta-tree roots of one pack.
#[derive(Clone, Debug)]
pub struct Task {
    pub pack: u32,
    pub roots: std::ops::Range<usize>,
    pub cost: u64,
}

/// The needed part of one pack's delta forest for a set of wanted entries.
pub struct Traversal {
    pub pack: u32,
    pub wanted: Vec<bool>,
    /// Needed roots in offset order.
    pub roots: Vec<u32>,
    /// Children of each needed entry (CSR: `child_start[e]..child_start[e+1]` into `children`).
    child_start: Vec<u32>,
    children: Vec<u32>,
    /// Estimated decode cost of each root's needed subtree.
    pub root_cost: Vec<u64>,
}

impl Traversal {
    /// Mark `wanted` entries and every base they depend on.
    pub fn new(table: &PackTable, wanted_entries: impl IntoIterator<Item = u32>) -> Traversal {
        let n = table.len();
        let mut wanted = vec![false; n];
        let mut needed = vec![false; n];
        for e in wanted_entries {
            wanted[e as usize] = true;
            // Base links form no cycle (`PackTable::build` cuts them), so this ends.
            let mut cur = e as usize;
            while !needed[cur] {
                needed[cur] = true;
                match table.base[cur] {
                    NONE => break,
                    b => cur = b as usize,
                }
            }
        }
        let mut counts = vec![0u32; n + 1];
        let mut roots = Vec::new();
        for (e, (&need, &base)) in needed.iter().zip(&table.base).enumerate() {
            if !need {
                continue;
            }
            match base {
                NONE => roots.push(e as u32),
                b => counts[b as usize + 1] += 1,
            }
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let child_start = counts.clone();
        let mut fill = counts;
        let mut children = vec![0u32; child_start[n] as usize];
        for (e, (&need, &base)) in needed.iter().zip(&table.base).enumerate() {
            if need && base != NONE {
                let b = base as usize;
                children[fill[b] as usize] = e as u32;
                fill[b] += 1;
            }
        }
        let mut t = Traversal {
            pack: table.pack,
            wanted,
            roots,
            child_start,
            children,
            root_cost: Vec::new(),
        };
        t.root_cost = t
            .roots
            .iter()
            .map(|&r| {
                // Every node of a delta tree is roughly the root's size to produce.
                let mut nodes = 0u64;
                let mut stack = vec![r];
                while let Some(x) = stack.pop() {
                    nodes += 1;
                    stack.extend_from_slice(t.kids(x));
                }
                nodes * (table.size[r as usize] + 256)
            })
            .collect();
        t
    }

    fn kids(&self, e: u32) -> &[u32] {
        let s = self.child_start[e as usize] as usize;
        let end = self.child_start[e as usize + 1] as usize;
        &self.children[s..end]
    }

    /// Split the roots into about `parts` tasks of similar cost, keeping offset order.
    pub fn tasks(&self, parts: usize) -> Vec<Task> {
        let total: u64 = self.root_cost.iter().sum();
        let target = (total / parts.max(1) as u64).max(1);
        let mut out = Vec::new();
        let mut start = 0;
        let mut acc = 0u64;
        for (i, c) in self.root_cost.iter().enumerate() {
            acc += c;
            if acc >= target {
                out.push(Task {
                    pack: self.pack,
                    roots: start..i + 1,
                    cost: acc,
                });
                start = i + 1;
                acc = 0;
            }
        }
        if start < self.roots.len() {
            out.push(Task {
                pack: self.pack,
                roots: start..self.roots.len(),
                cost: acc,
            });
        }
        out
    }
}

/// What happened to one wanted entry that could not be delivered.
#[derive(Debug)]
pub struct EntryProblem {
    pub entry: u32,
    pub error: OdbError,
}

/// Per-worker buffers for [`run_task`].
#[derive(Default)]
pub struct ExecScratch {
    z: Option<gix_zlib::Decompress>,
    delta: Vec<u8>,
    /// One buffer per depth level of the current delta tree.
    levels: Vec<Vec<u8>>,
}

/// Whether the traversal should go on.
pub enum Flow {
    Continue,
    Stop,
}

/// Decode every wanted entry under `task`'s roots, calling `on_object(entry, kind, bytes)`.
/// Problems with wanted entries go to `on_problem`. `limit` caps any single object's size.
#[allow(clippy::too_many_arguments)]
pub fn run_task(
    odb: &Odb,
    table: &PackTable,
    trav: &Traversal,
    task: &Task,
    limit: u64,
    scratch: &mut ExecScratch,
    rs: &mut ReadScratch,
    on_object: &mut dyn FnMut(u32, Kind, &[u8]) -> Flow,
    on_problem: &mut dyn FnMut(EntryProblem),
) -> Flow {
    let pack = &odb.packs[task.pack as usize];
    for &root in &trav.roots[task.roots.clone()] {
        if scratch.levels.is_empty() {
            scratch.levels.push(Vec::new());
        }
        let kind = match decode_root(odb, table, pack, root, limit, scratch, rs) {
            Ok(kind) => kind,
            Err(err) => {
                skip_subtree(trav, root, &err, on_problem);
                continue;
            }
        };
        if trav.wanted[root as usize]
            && matches!(on_object(root, kind, &scratch.levels[0]), Flow::Stop)
        {
            return Flow::Stop;
        }
        let deltas = DeltaTree {
            table,
            trav,
            pack,
            kind,
            limit,
        };
        if let Flow::Stop = deltas.walk(root, scratch, on_object, on_problem) {
            return Flow::Stop;
        }
    }
    Flow::Continue
}

/// Decodes entry `root` into `scratch.levels[0]` and returns its kind: from this pack, or for a
/// ref-delta whose base is in another pack or loose, by reading that base at random (its kind
/// is the delta's) and applying the delta. Every entry's CRC32 is checked against the `.idx`.
fn decode_root(
    odb: &Odb,
    table: &PackTable,
    pack: &Pack,
    root: u32,
    limit: u64,
    scratch: &mut ExecScratch,
    rs: &mut ReadScratch,
) -> Result<Kind, OdbError> {
    if let Some(why) = table.corrupt_reason(root) {
        return Err(OdbError::corrupt(format!(
            "{}: {why}",
            pack.path().display()
        )));
    }
    let z = scratch.z.get_or_insert_with(gix_zlib::Decompress::new);
    let offset = table.offsets[root as usize];
    let crc = pack.index.crc32_at_index(table.index_pos[root as usize]);
    let e = pack.entry(offset)?;
    if let Some(ext) = table.external.iter().find(|x| x.0 == root) {
        let mut base = Vec::new();
        let kind = odb.read_id(&ext.1, rs, &mut base)?;
        pack.inflate(&e, z, &mut scratch.delta, delta_limit(limit), crc)?;
        check_size(&scratch.delta, limit)?;
        delta::apply(&base, &scratch.delta, &mut scratch.levels[0])?;
        Ok(kind)
    } else {
        let kind = kind_from_code(table.kind[root as usize])
            .ok_or_else(|| OdbError::corrupt("object kind unknown"))?;
        pack.inflate(&e, z, &mut scratch.levels[0], limit, crc)?;
        Ok(kind)
    }
}

/// The needed delta tree below one decoded root, all of one object kind.
struct DeltaTree<'a> {
    table: &'a PackTable,
    trav: &'a Traversal,
    pack: &'a Pack,
    kind: Kind,
    limit: u64,
}

impl DeltaTree<'_> {
    /// Depth-first below `root` (decoded in `scratch.levels[0]`): each child is its base, one
    /// level up, with its delta applied. A child that does not decode is skipped with the
    /// entries below it. A last child takes its base's level (the base is not needed any more),
    /// so a chain thousands deep holds two buffers, not one per link: levels are only kept for
    /// bases that still have children to decode.
    fn walk(
        &self,
        root: u32,
        scratch: &mut ExecScratch,
        on_object: &mut dyn FnMut(u32, Kind, &[u8]) -> Flow,
        on_problem: &mut dyn FnMut(EntryProblem),
    ) -> Flow {
        let (table, trav, pack, limit) = (self.table, self.trav, self.pack, self.limit);
        let z = scratch.z.get_or_insert_with(gix_zlib::Decompress::new);
        // `stack` holds (entry, level, next child).
        let mut stack: Vec<(u32, usize, usize)> = vec![(root, 0, 0)];
        while let Some(top) = stack.last_mut() {
            let (e, depth, next) = *top;
            let kids = trav.kids(e);
            if next >= kids.len() {
                stack.pop();
                continue;
            }
            top.2 += 1;
            let last = next + 1 == kids.len();
            let child = kids[next];
            if scratch.levels.len() <= depth + 1 {
                scratch.levels.push(Vec::new());
            }
            let (lo, hi) = scratch.levels.split_at_mut(depth + 1);
            let base = &lo[depth];
            let out = &mut hi[0];
            let offset = table.offsets[child as usize];
            let crc = pack.index.crc32_at_index(table.index_pos[child as usize]);
            let res = pack.entry(offset).and_then(|en| {
                pack.inflate(&en, z, &mut scratch.delta, delta_limit(limit), crc)?;
                check_size(&scratch.delta, limit)?;
                delta::apply(base, &scratch.delta, out)
            });
            if let Err(err) = res {
                skip_subtree(trav, child, &err, on_problem);
                continue;
            }
            if trav.wanted[child as usize] && matches!(on_object(child, self.kind, out), Flow::Stop)
            {
                return Flow::Stop;
            }
            if trav.kids(child).is_empty() {
                continue;
            }
            if last {
                stack.pop();
                scratch.levels.swap(depth, depth + 1);
                stack.push((child, depth, 0));
            } else {
                stack.push((child, depth + 1, 0));
            }
        }
        Flow::Continue
    }
}

/// Skips entry `e` and the wanted entries below it, reporting `e` with `err` and the entries
/// below with the base that could not be decoded.
fn skip_subtree(
    trav: &Traversal,
    e: u32,
    err: &OdbError,
    on_problem: &mut dyn FnMut(EntryProblem),
) {
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        if trav.wanted[x as usize] {
            on_problem(EntryProblem {
                entry: x,
                error: match err {
                    OdbError::TooLarge { size, limit } => OdbError::TooLarge {
                        size: *size,
                        limit: *limit,
                    },
                    other if x == e => OdbError::corrupt(other.to_string()),
                    other => {
                        OdbError::corrupt(format!("a delta base could not be decoded: {other}"))
                    }
                },
            });
        }
        stack.extend_from_slice(trav.kids(x));
    }
}

fn check_size(delta_data: &[u8], limit: u64) -> Result<(), OdbError> {
    let size = delta::result_size(delta_data)?;
    if size > limit {
        return Err(OdbError::TooLarge { size, limit });
    }
    Ok(())
}
