//! The object database: every pack (located through multi-pack-indexes where present, else
//! each pack's `.idx`) and every loose object, across alternates.
//!
//! Reads never run `git`. Pack files are memory-mapped; a snapshot of their identity (size and
//! mtime) is taken at open so a concurrent `git gc` can be detected at the end of a scan.
//! Random access goes through [`ReadScratch`], which owns a per-thread delta-base cache; bulk
//! decoding in pack order lives in `pack_walk`.

pub mod cache;
pub mod delta;
pub(crate) mod inflate;
pub mod loose;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

use gix_hash::{ObjectId, oid};
use gix_object::Kind;
use gix_pack::data::entry::Header;

use crate::git::repo::RepoLayout;
pub use cache::DeltaCache;

/// Errors of the object layer, converted to the contract's kinds by the runner.
#[derive(Debug, thiserror::Error)]
pub enum OdbError {
    #[error("corrupt object data: {0}")]
    Corrupt(String),
    #[error("object {0} is missing")]
    Missing(ObjectId),
    #[error("object of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl OdbError {
    pub(crate) fn corrupt(msg: impl Into<String>) -> Self {
        OdbError::Corrupt(msg.into())
    }
}

/// Longest delta chain followed (git writes at most 4,095; its readers have no limit). Memory
/// stays bounded by the object size limit whatever the length: chains are walked iteratively.
pub const MAX_DELTA_CHAIN: usize = 100_000;

/// The largest delta instruction stream accepted for objects of at most `limit` bytes (git's
/// deltas are never much larger than their result).
pub fn delta_limit(limit: u64) -> u64 {
    limit.saturating_mul(2).saturating_add(1 << 20)
}

/// One pack: mapped data and index.
pub struct Pack {
    pub id: u32,
    pub data: gix_pack::data::File,
    pub index: gix_pack::index::File,
    /// (offset, index position) of every entry, sorted by offset: built on the first random
    /// read that needs an entry's CRC32.
    by_offset: OnceLock<Vec<(u64, u32)>>,
}

impl Pack {
    /// Parse the entry header at `offset`.
    pub fn entry(&self, offset: u64) -> Result<gix_pack::data::Entry, OdbError> {
        self.data.entry(offset).map_err(|e| {
            OdbError::corrupt(format!(
                "{}: entry at {offset}: {e}",
                self.data.path().display()
            ))
        })
    }

    /// Every entry as (offset, index position), sorted by offset; built once per pack. A hostile
    /// `.idx` may name several ids at one offset: the run of such rows starts with the one whose
    /// recorded CRC32 matches the bytes there (or, when none does, the lowest id), which is the
    /// row that [`Pack::crc_at_offset`] and the pack table treat as the entry at that offset.
    pub fn offset_order(&self) -> &[(u64, u32)] {
        self.by_offset.get_or_init(|| {
            let idx = &self.index;
            let mut t: Vec<(u64, u32)> = (0..idx.num_objects())
                .map(|i| (idx.pack_offset_at_index(i), i))
                .collect();
            t.sort_unstable();
            let mut run = 0;
            while run < t.len() {
                let end = run + t[run..].partition_point(|x| x.0 == t[run].0);
                if end - run > 1
                    && let Some(actual) = self.raw_crc(t[run].0)
                    && let Some(k) =
                        (run..end).find(|&k| idx.crc32_at_index(t[k].1) == Some(actual))
                {
                    t[run..=k].rotate_right(1);
                }
                run = end;
            }
            t
        })
    }

    /// The CRC32 the `.idx` records for the entry at `offset` (`None` for version-1 indexes,
    /// which have none, and for offsets that are no entry).
    pub fn crc_at_offset(&self, offset: u64) -> Option<u32> {
        let table = self.offset_order();
        let at = table.partition_point(|x| x.0 < offset);
        let &(found, pos) = table.get(at)?;
        if found != offset {
            return None;
        }
        self.index.crc32_at_index(pos)
    }

    /// The CRC32 of the entry's bytes at `offset` (header and compressed data, found by
    /// inflating into a small scratch buffer): `None` if it cannot be parsed.
    fn raw_crc(&self, offset: u64) -> Option<u32> {
        let entry = self.data.entry(offset).ok()?;
        let input = self
            .data
            .entry_slice(entry.data_offset..self.data.pack_end() as u64)?;
        let mut z = gix_zlib::Decompress::new();
        let mut scratch = vec![0u8; 32 << 10];
        loop {
            let before = (z.total_in(), z.total_out());
            let consumed = z.total_in() as usize;
            let status = z
                .decompress(
                    &input[consumed..],
                    &mut scratch,
                    gix_zlib::FlushDecompress::None,
                )
                .ok()?;
            if status == gix_zlib::Status::StreamEnd {
                break;
            }
            if (z.total_in(), z.total_out()) == before {
                return None; // truncated: no progress
            }
        }
        let raw = self
            .data
            .entry_slice(offset..entry.data_offset + z.total_in())?;
        Some(crc32fast::hash(raw))
    }

    /// Inflate the compressed payload of `entry` (the object, or the delta instructions) into
    /// `out`, which must come out at exactly the announced size (refused above `limit`; memory
    /// grows with the bytes that really arrive). With `crc`, the entry's bytes (header and
    /// compressed data) must have that CRC32, as the `.idx` records it.
    pub fn inflate(
        &self,
        entry: &gix_pack::data::Entry,
        z: &mut gix_zlib::Decompress,
        out: &mut Vec<u8>,
        limit: u64,
        crc: Option<u32>,
    ) -> Result<(), OdbError> {
        if entry.decompressed_size > limit {
            return Err(OdbError::TooLarge {
                size: entry.decompressed_size,
                limit,
            });
        }
        let at = entry.pack_offset();
        let bad = |what: String| {
            OdbError::corrupt(format!("{}: entry at {at}: {what}", self.path().display()))
        };
        let size = usize::try_from(entry.decompressed_size)
            .map_err(|_| bad("does not fit in memory".into()))?;
        let input = self
            .data
            .entry_slice(entry.data_offset..self.data.pack_end() as u64)
            .ok_or_else(|| bad("data lies beyond the pack end".into()))?;
        out.clear();
        z.reset();
        inflate::inflate_exact(z, input, out, size).map_err(bad)?;
        if let Some(expected) = crc {
            let raw = self
                .data
                .entry_slice(at..entry.data_offset + z.total_in())
                .ok_or_else(|| bad("data lies beyond the pack end".into()))?;
            let actual = crc32fast::hash(raw);
            if actual != expected {
                return Err(bad(format!(
                    "CRC32 {actual:08x} does not match {expected:08x} recorded in its .idx"
                )));
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        self.data.path()
    }
}

struct Midx {
    file: gix_pack::multi_index::File,
    /// midx pack index → our pack id
    packs: Vec<u32>,
}

/// Where an object is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    Packed { pack: u32, offset: u64 },
    Loose { index: u32 },
}

/// Identity of a file at open time, to notice it being replaced or removed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FileStamp {
    path: PathBuf,
    len: u64,
    mtime: Option<SystemTime>,
}

/// `Io` unless `path` is a regular file this process can open for reading (a pack or index
/// that cannot be read is reported like any unreadable repository file, not as corrupt).
fn readable_file(path: &Path) -> Result<(), OdbError> {
    let io = |source| OdbError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::other("not a regular file")));
    }
    std::fs::File::open(path).map(drop).map_err(io)
}

fn stamp(path: &Path) -> Option<FileStamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        path: path.to_path_buf(),
        len: m.len(),
        mtime: m.modified().ok(),
    })
}

pub struct Odb {
    pub packs: Vec<Pack>,
    midxs: Vec<Midx>,
    /// Packs covered by no multi-pack-index, looked up through their own `.idx`.
    uncovered: Vec<u32>,
    pub loose: loose::LooseObjects,
    stamps: Vec<FileStamp>,
}

impl Odb {
    pub fn open(layout: &RepoLayout) -> Result<Odb, OdbError> {
        let mut packs = Vec::new();
        let mut midxs = Vec::new();
        let mut uncovered = Vec::new();
        let mut stamps = Vec::new();
        for objects in &layout.object_dirs {
            let pack_dir = objects.join("pack");
            let mut idx_paths: Vec<PathBuf> = match std::fs::read_dir(&pack_dir) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "idx"))
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(source) => {
                    return Err(OdbError::Io {
                        path: pack_dir,
                        source,
                    });
                }
            };
            idx_paths.sort();
            let first_id = packs.len() as u32;
            for idx_path in idx_paths {
                let pack_path = idx_path.with_extension("pack");
                match std::fs::metadata(&pack_path) {
                    // An .idx without its pack is debris from an interrupted fetch.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    _ => {
                        readable_file(&pack_path)?;
                        readable_file(&idx_path)?;
                    }
                }
                let index = gix_pack::index::File::at(&idx_path, gix_hash::Kind::Sha1)
                    .map_err(|e| OdbError::corrupt(format!("{}: {e}", idx_path.display())))?;
                let data = gix_pack::data::File::at(&pack_path, gix_hash::Kind::Sha1)
                    .map_err(|e| OdbError::corrupt(format!("{}: {e}", pack_path.display())))?;
                if data.num_objects() != index.num_objects() {
                    return Err(OdbError::corrupt(format!(
                        "{}: pack has {} objects, its index {}",
                        pack_path.display(),
                        data.num_objects(),
                        index.num_objects()
                    )));
                }
                stamps.extend(stamp(&pack_path));
                stamps.extend(stamp(&idx_path));
                packs.push(Pack {
                    id: packs.len() as u32,
                    data,
                    index,
                    by_offset: OnceLock::new(),
                });
            }
            let dir_packs: Vec<u32> = (first_id..packs.len() as u32).collect();
            let mut covered = vec![false; dir_packs.len()];
            let midx_path = pack_dir.join("multi-pack-index");
            if midx_path.is_file()
                && let Ok(file) = gix_pack::multi_index::File::at(&midx_path, None)
            {
                // A multi-pack-index naming a pack that no longer exists is stale: ignore it
                // rather than trusting offsets into a different file.
                let mut map = Vec::new();
                let mut ok = true;
                for name in file.index_names() {
                    let found = dir_packs.iter().position(|&p| {
                        packs[p as usize].index.path().file_name() == name.file_name()
                    });
                    match found {
                        Some(i) => map.push((i, dir_packs[i])),
                        None => ok = false,
                    }
                }
                if ok {
                    for (i, _) in &map {
                        covered[*i] = true;
                    }
                    stamps.extend(stamp(&midx_path));
                    midxs.push(Midx {
                        file,
                        packs: map.into_iter().map(|(_, p)| p).collect(),
                    });
                }
            }
            uncovered.extend(
                dir_packs
                    .iter()
                    .zip(&covered)
                    .filter(|(_, c)| !**c)
                    .map(|(p, _)| *p),
            );
        }
        let loose = loose::LooseObjects::scan(&layout.object_dirs)?;
        Ok(Odb {
            packs,
            midxs,
            uncovered,
            loose,
            stamps,
        })
    }

    /// Total objects in packs (duplicates across packs counted per pack).
    pub fn packed_object_count(&self) -> u64 {
        self.packs
            .iter()
            .map(|p| u64::from(p.index.num_objects()))
            .sum()
    }

    pub fn has_multi_pack_index(&self) -> bool {
        !self.midxs.is_empty()
    }

    /// Where `id` is stored, preferring packs (multi-pack-index first) over loose objects.
    pub fn locate(&self, id: &oid) -> Option<Location> {
        for m in &self.midxs {
            if let Some(i) = m.file.lookup(id)
                && let Ok((p, offset)) = m.file.pack_id_and_pack_offset_at_index(i)
                && let Some(&pack) = m.packs.get(p as usize)
            {
                return Some(Location::Packed { pack, offset });
            }
        }
        for &pack in &self.uncovered {
            let idx = &self.packs[pack as usize].index;
            if let Some(i) = idx.lookup(id) {
                return Some(Location::Packed {
                    pack,
                    offset: idx.pack_offset_at_index(i),
                });
            }
        }
        self.loose.lookup(id).map(|index| Location::Loose { index })
    }

    /// Read the object at `loc` into `out`, resolving delta chains through the scratch cache.
    pub fn read(
        &self,
        loc: Location,
        s: &mut ReadScratch,
        out: &mut Vec<u8>,
    ) -> Result<Kind, OdbError> {
        match loc {
            Location::Loose { index } => self.loose.read(index, &mut s.z, out, s.limit),
            Location::Packed { pack, offset } => {
                let (kind, data) = self.read_packed(pack, offset, s, 0)?;
                out.clear();
                out.extend_from_slice(&data);
                Ok(kind)
            }
        }
    }

    /// Read object `id`; `Missing` if it is nowhere.
    pub fn read_id(
        &self,
        id: &oid,
        s: &mut ReadScratch,
        out: &mut Vec<u8>,
    ) -> Result<Kind, OdbError> {
        let loc = self
            .locate(id)
            .ok_or_else(|| OdbError::Missing(id.to_owned()))?;
        self.read(loc, s, out)
    }

    /// Decode a packed object, returning shared bytes from (or newly put into) the cache.
    ///
    /// Iterative whatever the chain: walks down to a cached or undeltified base (following
    /// ref-deltas into other packs and loose objects), then applies the deltas back up. A chain
    /// longer than [`MAX_DELTA_CHAIN`] or coming back to a ref-delta it already passed (a cycle;
    /// ofs-deltas only point backwards) is corrupt. `_depth` is unused (kept for callers).
    pub(crate) fn read_packed(
        &self,
        pack: u32,
        offset: u64,
        s: &mut ReadScratch,
        _depth: usize,
    ) -> Result<(Kind, cache::Shared), OdbError> {
        if let Some(hit) = s.cache.get(pack, offset) {
            return Ok(hit);
        }
        let mut chain = std::mem::take(&mut s.chain);
        chain.clear();
        let res = self
            .find_base(pack, offset, s, &mut chain)
            .and_then(|(kind, base)| self.apply_chain(kind, base, &mut chain, s));
        chain.clear();
        s.chain = chain;
        res
    }

    /// Walks from the entry at (`pack`, `offset`) down its delta chain, pushing each delta met
    /// onto `chain`, to the base: a cached object, an undeltified entry or a loose object.
    fn find_base(
        &self,
        pack: u32,
        offset: u64,
        s: &mut ReadScratch,
        chain: &mut Vec<(u32, u64, gix_pack::data::Entry)>,
    ) -> Result<(Kind, cache::Shared), OdbError> {
        let (mut p, mut at) = (pack, offset);
        s.ref_hops.clear();
        loop {
            if chain.len() >= MAX_DELTA_CHAIN {
                return Err(OdbError::corrupt(format!(
                    "delta chain of object at {offset} in {} is longer than {MAX_DELTA_CHAIN}",
                    self.packs[pack as usize].path().display()
                )));
            }
            if !chain.is_empty()
                && let Some(hit) = s.cache.get(p, at)
            {
                return Ok(hit);
            }
            let pk = &self.packs[p as usize];
            let e = pk.entry(at)?;
            match e.header {
                Header::OfsDelta { base_distance } => {
                    let base =
                        Header::verified_base_pack_offset(at, base_distance).ok_or_else(|| {
                            OdbError::corrupt(format!(
                                "{}: ofs-delta at {at} points at itself or before the pack",
                                pk.path().display()
                            ))
                        })?;
                    chain.push((p, at, e));
                    at = base;
                }
                Header::RefDelta { base_id } => {
                    if !s.ref_hops.insert((p, at)) {
                        return Err(OdbError::corrupt(format!(
                            "{}: delta cycle through the ref-delta at {at} (base {base_id})",
                            pk.path().display()
                        )));
                    }
                    chain.push((p, at, e));
                    match self.locate(&base_id) {
                        Some(Location::Packed {
                            pack: bp,
                            offset: bo,
                        }) => (p, at) = (bp, bo),
                        Some(Location::Loose { index }) => {
                            let mut buf = Vec::new();
                            let k = self.loose.read(index, &mut s.z, &mut buf, s.limit)?;
                            return Ok((k, cache::Shared::new(buf)));
                        }
                        None => return Err(OdbError::Missing(base_id)),
                    }
                }
                _ => {
                    let kind = e.header.as_kind().expect("base entries have a kind");
                    let mut buf = Vec::new();
                    pk.inflate(&e, &mut s.z, &mut buf, s.limit, pk.crc_at_offset(at))?;
                    let data = cache::Shared::new(buf);
                    s.cache.put(p, at, kind, data.clone());
                    return Ok((kind, data));
                }
            }
        }
    }

    /// Applies the deltas of `chain` (innermost last) to `base`, caching each result.
    fn apply_chain(
        &self,
        kind: Kind,
        base: cache::Shared,
        chain: &mut Vec<(u32, u64, gix_pack::data::Entry)>,
        s: &mut ReadScratch,
    ) -> Result<(Kind, cache::Shared), OdbError> {
        let mut cur = base;
        while let Some((p, at, e)) = chain.pop() {
            let pk = &self.packs[p as usize];
            let mut d = std::mem::take(&mut s.buf_a);
            let limit = s.limit;
            let applied = pk
                .inflate(
                    &e,
                    &mut s.z,
                    &mut d,
                    delta_limit(limit),
                    pk.crc_at_offset(at),
                )
                .and_then(|()| {
                    let size = delta::result_size(&d)?;
                    if size > limit {
                        return Err(OdbError::TooLarge { size, limit });
                    }
                    let mut out = Vec::new();
                    delta::apply(&cur, &d, &mut out)?;
                    Ok(out)
                });
            s.buf_a = d;
            cur = cache::Shared::new(applied?);
            s.cache.put(p, at, kind, cur.clone());
        }
        Ok((kind, cur))
    }

    /// Whether any pack, index or multi-pack-index seen at open was replaced or removed since.
    pub fn artifacts_changed(&self) -> Option<String> {
        for s in &self.stamps {
            match stamp(&s.path) {
                Some(now) if now == *s => {}
                Some(_) => return Some(format!("{} was rewritten", s.path.display())),
                None => return Some(format!("{} was removed", s.path.display())),
            }
        }
        None
    }
}

/// Hasher for keys that are (or start with) object ids: their bytes are already uniformly
/// random, so folding them beats SipHash by a wide margin on hot maps.
#[derive(Default, Clone, Copy)]
pub struct OidHasher(u64);

impl std::hash::Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Some(head) = bytes.first_chunk::<8>() {
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(*head);
        } else {
            for &b in bytes {
                self.0 = self.0.rotate_left(8) ^ u64::from(b);
            }
        }
    }

    fn write_u64(&mut self, v: u64) {
        // Mixed so that small integers (offsets, indices) spread over the buckets too.
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A `HashMap` keyed by object ids (or small integers) using [`OidHasher`].
pub type OidMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<OidHasher>>;

/// Per-thread state for random-access reads.
pub struct ReadScratch {
    pub z: gix_zlib::Decompress,
    pub cache: DeltaCache,
    /// Objects larger than this are refused with `TooLarge`.
    pub limit: u64,
    buf_a: Vec<u8>,
    chain: Vec<(u32, u64, gix_pack::data::Entry)>,
    /// Ref-deltas passed by the current read, to detect cycles.
    ref_hops: HashSet<(u32, u64)>,
}

impl ReadScratch {
    pub fn new(cache_bytes: usize, limit: u64) -> Self {
        Self {
            z: gix_zlib::Decompress::new(),
            cache: DeltaCache::new(cache_bytes),
            limit,
            buf_a: Vec::new(),
            chain: Vec::new(),
            ref_hops: HashSet::new(),
        }
    }
}

/// Parse a loose-object style header `"<type> <size>\0"`.
pub(crate) fn parse_kind(name: &[u8]) -> Option<Kind> {
    Kind::from_bytes(name).ok()
}
