//! Loose objects: `objects/xx/yyyy…` files, zlib-compressed `"<type> <size>\0<data>"`.
//! Enumerated once at open (so the plan and `all_objects` can list them) and read on demand.

use std::collections::HashMap;
use std::path::PathBuf;

use gix_hash::{ObjectId, oid};
use gix_object::Kind;

use super::OdbError;

#[derive(Default)]
pub struct LooseObjects {
    ids: Vec<ObjectId>,
    dirs: Vec<u16>,
    roots: Vec<PathBuf>,
    by_id: HashMap<ObjectId, u32>,
}

impl LooseObjects {
    pub fn scan(object_dirs: &[PathBuf]) -> Result<Self, OdbError> {
        let mut me = LooseObjects::default();
        for (di, dir) in object_dirs.iter().enumerate() {
            me.roots.push(dir.clone());
            for hi in 0..256u32 {
                let sub = dir.join(format!("{hi:02x}"));
                let Ok(rd) = std::fs::read_dir(&sub) else {
                    continue;
                };
                for e in rd.flatten() {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    if name.len() != 38 {
                        continue; // temporary files from an interrupted write
                    }
                    let Ok(id) = ObjectId::from_hex(format!("{hi:02x}{name}").as_bytes()) else {
                        continue;
                    };
                    if let std::collections::hash_map::Entry::Vacant(v) = me.by_id.entry(id) {
                        v.insert(me.ids.len() as u32);
                        me.ids.push(id);
                        me.dirs.push(di as u16);
                    }
                }
            }
        }
        Ok(me)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn id(&self, index: u32) -> &oid {
        &self.ids[index as usize]
    }

    pub fn lookup(&self, id: &oid) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    fn path(&self, index: u32) -> PathBuf {
        let hex = self.ids[index as usize].to_hex().to_string();
        self.roots[self.dirs[index as usize] as usize]
            .join(&hex[..2])
            .join(&hex[2..])
    }

    /// The kind and size of loose object `index`, from the first bytes of its file only (its
    /// content is neither read nor inflated).
    pub fn header(
        &self,
        index: u32,
        z: &mut gix_zlib::Decompress,
    ) -> Result<(Kind, u64), OdbError> {
        use std::io::Read;
        let path = self.path(index);
        let io = |source| OdbError::Io {
            path: path.clone(),
            source,
        };
        let mut raw = Vec::with_capacity(HEADER_INPUT);
        std::fs::File::open(&path)
            .map_err(io)?
            .take(HEADER_INPUT as u64)
            .read_to_end(&mut raw)
            .map_err(io)?;
        let h = inflate_header(&raw, z, &path)?;
        Ok((h.kind, h.size))
    }

    /// Read and inflate loose object `index` into `out` (header stripped).
    pub fn read(
        &self,
        index: u32,
        z: &mut gix_zlib::Decompress,
        out: &mut Vec<u8>,
        limit: u64,
    ) -> Result<Kind, OdbError> {
        let path = self.path(index);
        let raw = std::fs::read(&path).map_err(|source| OdbError::Io {
            path: path.clone(),
            source,
        })?;
        // Inflate the header first to learn the size, then the rest in one go.
        let Header {
            head,
            produced,
            kind,
            size,
            nul,
        } = inflate_header(&raw, z, &path)?;
        if size > limit {
            return Err(OdbError::TooLarge { size, limit });
        }
        let bad = |what: String| OdbError::corrupt(format!("{}: {what}", path.display()));
        let size = usize::try_from(size).map_err(|_| bad("does not fit in memory".into()))?;
        out.clear();
        out.extend_from_slice(&head[nul + 1..produced]);
        let consumed = z.total_in() as usize;
        super::inflate::inflate_exact(z, &raw[consumed..], out, size).map_err(bad)?;
        // The name is the id: SHA-1 of the header and the content.
        let mut h = gix_hash::hasher(gix_hash::Kind::Sha1);
        h.update(&head[..=nul]);
        h.update(out);
        let actual = h
            .try_finalize()
            .map_err(|e| bad(format!("SHA-1 collision attack detected: {e}")))?;
        let expected = self.id(index);
        if actual.as_ref() != expected {
            return Err(bad(format!(
                "content hashes to {actual}, not to the object id {expected} its name says"
            )));
        }
        Ok(kind)
    }
}

/// Compressed bytes read to learn a loose object's header (its "kind size\0" is at most 32
/// bytes, which zlib emits from far fewer input bytes).
const HEADER_INPUT: usize = 512;

/// The start of a loose object, inflated from `raw` (its compressed bytes, whole or a prefix
/// of [`HEADER_INPUT`] bytes) with a reset `z`, whose totals then count what it took.
struct Header {
    /// The first inflated bytes: "kind size\0" and the content after it.
    head: [u8; 64],
    /// How many bytes of `head` were inflated.
    produced: usize,
    kind: Kind,
    size: u64,
    /// Offset of the header's NUL in `head`.
    nul: usize,
}

/// Inflates the first bytes of `raw` and parses "kind size\0" from them.
fn inflate_header(
    raw: &[u8],
    z: &mut gix_zlib::Decompress,
    path: &std::path::Path,
) -> Result<Header, OdbError> {
    z.reset();
    let mut head = [0u8; 64];
    let _ = z.decompress(raw, &mut head, gix_zlib::FlushDecompress::None);
    let produced = z.total_out() as usize;
    let bad = || OdbError::corrupt(format!("{}: bad loose object header", path.display()));
    let nul = head[..produced]
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(bad)?;
    let header = &head[..nul];
    let sp = header.iter().position(|&b| b == b' ').ok_or_else(bad)?;
    let kind = super::parse_kind(&header[..sp])
        .ok_or_else(|| OdbError::corrupt(format!("{}: unknown object type", path.display())))?;
    let size: u64 = std::str::from_utf8(&header[sp + 1..])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| OdbError::corrupt(format!("{}: bad object size", path.display())))?;
    Ok(Header {
        head,
        produced,
        kind,
        size,
        nul,
    })
}
