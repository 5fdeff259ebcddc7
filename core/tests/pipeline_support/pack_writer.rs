//! A small writer of hand-made packs (`.pack` version 2 with its `.idx` version 2), for tests
//! that need entries git would never write: delta cycles, lying sizes, chains deeper than git's
//! 4,095, ids that do not match their content.
//!
//! Each [`Entry`] says what its header claims (type, declared size, delta base) and what its
//! payload is (compressed here with zlib); nothing is checked, so an entry can lie in every way a
//! pack can. The `.idx` lists every entry under the id it is given, with the CRC32 of the entry's
//! bytes as written (so CRC checks pass unless a test edits the pack afterwards), 4-byte offsets
//! (packs under 2 GiB) and correct trailing checksums.
//!
//! ```ignore
//! let base = Entry::object(3, b"hello\n").with_id_of_content();
//! let d = Entry::ofs_delta(0, delta(6, 12, &[Op::Copy(0, 6), Op::Insert(b"world\n")]));
//! write_pack(&repo_git_dir.join("objects/pack"), &[base, d.with_id(id_of(3, b"hello\nworld\n"))]);
//! ```
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// Pack entry type codes.
pub const COMMIT: u8 = 1;
pub const TREE: u8 = 2;
pub const BLOB: u8 = 3;
pub const TAG: u8 = 4;
pub const OFS_DELTA: u8 = 6;
pub const REF_DELTA: u8 = 7;

/// What an entry's header says about its base.
#[derive(Clone, Debug)]
pub enum Base {
    /// An undeltified object of this type (1..=4, or anything to make it lie).
    None,
    /// An ofs-delta on the entry with this index in the list (written as the distance back).
    Entry(usize),
    /// An ofs-delta with this raw distance (0 = itself; larger than the offset = out of range).
    Distance(u64),
    /// A ref-delta on this object id.
    Id([u8; 20]),
}

/// One entry of a hand-made pack.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The id the `.idx` lists this entry under.
    pub id: [u8; 20],
    /// The type code written in the header (see the constants above).
    pub type_code: u8,
    pub base: Base,
    /// The size written in the header; the payload's length unless a test makes it lie.
    pub declared_size: u64,
    /// The uncompressed payload (object bytes, or delta instructions).
    pub payload: Vec<u8>,
}

impl Entry {
    /// An undeltified object of type `type_code` (1..=4), listed under its true id.
    pub fn object(type_code: u8, data: &[u8]) -> Entry {
        Entry {
            id: id_of(type_code, data),
            type_code,
            base: Base::None,
            declared_size: data.len() as u64,
            payload: data.to_vec(),
        }
    }

    /// An ofs-delta on entry `base` (an index into the list given to [`write_pack`]).
    pub fn ofs_delta(base: usize, delta: Vec<u8>) -> Entry {
        Entry {
            id: [0; 20],
            type_code: OFS_DELTA,
            base: Base::Entry(base),
            declared_size: delta.len() as u64,
            payload: delta,
        }
    }

    /// A ref-delta on the object `base`.
    pub fn ref_delta(base: [u8; 20], delta: Vec<u8>) -> Entry {
        Entry {
            id: [0; 20],
            type_code: REF_DELTA,
            base: Base::Id(base),
            declared_size: delta.len() as u64,
            payload: delta,
        }
    }

    /// List the entry under `id` in the `.idx`.
    pub fn with_id(mut self, id: [u8; 20]) -> Entry {
        self.id = id;
        self
    }

    /// Write `size` in the header instead of the payload's length.
    pub fn declaring(mut self, size: u64) -> Entry {
        self.declared_size = size;
        self
    }
}

/// One delta instruction.
#[derive(Clone, Debug)]
pub enum Op<'a> {
    /// Copy `len` bytes of the base from `offset`.
    Copy(u64, u64),
    /// Insert these bytes (any length; split into runs of 127).
    Insert(&'a [u8]),
}

fn size_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Delta instructions turning a base of `base_size` bytes into `result_size` bytes with `ops`
/// (the sizes are written as given, so they can lie).
pub fn delta(base_size: u64, result_size: u64, ops: &[Op<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    size_varint(&mut out, base_size);
    size_varint(&mut out, result_size);
    for op in ops {
        match *op {
            Op::Copy(offset, len) => {
                assert!(len > 0 && len <= 0xff_ffff && offset <= u32::MAX as u64);
                let mut cmd = 0x80u8;
                let mut args = Vec::new();
                for i in 0..4 {
                    let b = (offset >> (8 * i)) as u8;
                    if b != 0 {
                        cmd |= 1 << i;
                        args.push(b);
                    }
                }
                for i in 0..3 {
                    let b = (len >> (8 * i)) as u8;
                    if b != 0 {
                        cmd |= 0x10 << i;
                        args.push(b);
                    }
                }
                out.push(cmd);
                out.extend_from_slice(&args);
            }
            Op::Insert(bytes) => {
                for run in bytes.chunks(127) {
                    out.push(run.len() as u8);
                    out.extend_from_slice(run);
                }
            }
        }
    }
    out
}

/// The git object id of `data` stored as type `type_code` (1..=4).
pub fn id_of(type_code: u8, data: &[u8]) -> [u8; 20] {
    let name = match type_code {
        COMMIT => "commit",
        TREE => "tree",
        BLOB => "blob",
        TAG => "tag",
        other => panic!("no object type {other}"),
    };
    sha1(&[format!("{name} {}\0", data.len()).as_bytes(), data])
}

/// SHA-1 of the concatenation of `parts`.
pub fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = gix_hash::hasher(gix_hash::Kind::Sha1);
    for p in parts {
        h.update(p);
    }
    let id = h.try_finalize().expect("no collision");
    id.as_bytes().try_into().unwrap()
}

pub fn hex(id: &[u8; 20]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut w =
        gix_zlib::stream::deflate::Write::new(Vec::new(), gix_zlib::Compression::BEST_SPEED);
    w.write_all(data).unwrap();
    w.flush().unwrap();
    w.into_inner()
}

fn entry_header(out: &mut Vec<u8>, type_code: u8, size: u64) {
    let mut b = (type_code & 7) << 4 | (size & 0x0f) as u8;
    let mut rest = size >> 4;
    while rest != 0 {
        out.push(b | 0x80);
        b = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(b);
}

/// Git's ofs-delta distance encoding (big-endian base-128 with an offset of one per byte).
fn ofs_distance(out: &mut Vec<u8>, mut d: u64) {
    let mut bytes = vec![(d & 0x7f) as u8];
    d >>= 7;
    while d != 0 {
        d -= 1;
        bytes.push(0x80 | (d & 0x7f) as u8);
        d >>= 7;
    }
    bytes.reverse();
    out.extend_from_slice(&bytes);
}

/// The bytes of a pack holding `entries` in order, and each entry's (offset, CRC32).
pub fn pack_bytes(entries: &[Entry]) -> (Vec<u8>, Vec<(u64, u32)>) {
    let mut pack = b"PACK".to_vec();
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    let mut placed = Vec::with_capacity(entries.len());
    for e in entries {
        let offset = pack.len() as u64;
        let mut raw = Vec::new();
        entry_header(&mut raw, e.type_code, e.declared_size);
        match e.base {
            Base::None => {}
            Base::Entry(b) => ofs_distance(&mut raw, offset - placed_offset(&placed, b)),
            Base::Distance(d) => ofs_distance(&mut raw, d),
            Base::Id(id) => raw.extend_from_slice(&id),
        }
        raw.extend_from_slice(&zlib(&e.payload));
        placed.push((offset, crc32fast::hash(&raw)));
        pack.extend_from_slice(&raw);
    }
    let sum = sha1(&[&pack]);
    pack.extend_from_slice(&sum);
    (pack, placed)
}

fn placed_offset(placed: &[(u64, u32)], b: usize) -> u64 {
    placed
        .get(b)
        .unwrap_or_else(|| panic!("ofs-delta base {b} must come earlier"))
        .0
}

/// The `.idx` (version 2) of a pack whose entries are listed under `ids` at `placed`.
pub fn idx_bytes(ids: &[[u8; 20]], placed: &[(u64, u32)], pack_sum: &[u8]) -> Vec<u8> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| ids[i]);
    let mut idx = b"\xfftOc".to_vec();
    idx.extend_from_slice(&2u32.to_be_bytes());
    for first in 0..=255u8 {
        let n = ids.iter().filter(|id| id[0] <= first).count() as u32;
        idx.extend_from_slice(&n.to_be_bytes());
    }
    for &i in &order {
        idx.extend_from_slice(&ids[i]);
    }
    for &i in &order {
        idx.extend_from_slice(&placed[i].1.to_be_bytes());
    }
    for &i in &order {
        let off = u32::try_from(placed[i].0).expect("pack under 2 GiB");
        idx.extend_from_slice(&off.to_be_bytes());
    }
    idx.extend_from_slice(pack_sum);
    let sum = sha1(&[&idx]);
    idx.extend_from_slice(&sum);
    idx
}

/// Write `entries` as `pack-<checksum>.pack` and `.idx` into `pack_dir` (created if needed);
/// returns the path of the `.pack`.
pub fn write_pack(pack_dir: &Path, entries: &[Entry]) -> PathBuf {
    let (pack, placed) = pack_bytes(entries);
    let sum = &pack[pack.len() - 20..];
    let ids: Vec<[u8; 20]> = entries.iter().map(|e| e.id).collect();
    let idx = idx_bytes(&ids, &placed, sum);
    std::fs::create_dir_all(pack_dir).unwrap();
    let name = format!("pack-{}", hex(sum.try_into().unwrap()));
    let pack_path = pack_dir.join(format!("{name}.pack"));
    std::fs::write(&pack_path, &pack).unwrap();
    std::fs::write(pack_dir.join(format!("{name}.idx")), &idx).unwrap();
    pack_path
}
