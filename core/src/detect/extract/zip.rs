//! Java archives (zip): a small central-directory reader, written from the zip format's public
//! specification (PKWARE APPNOTE). Stored, deflated and bzip2 entries are read, zip64 archives
//! (more than 65,535 entries, offsets or sizes past 4 GiB) included; class files go through the
//! class extractor, nested archives are opened up to [`MAX_DEPTH`] deep, text entries are
//! copied, other entries are skipped. Each entry is preceded by a `==> name <==` line.
//! Encrypted entries are skipped.
//!
//! Zip bombs stay bounded: each local entry is read once however many directory entries point
//! at it, an entry is read only when its stated size fits what is left of the blob's inflate
//! budget ([`INFLATE_BUDGET`], shared by nested archives) and of [`MAX_ENTRY`], and inflation
//! never produces more than the stated size.

use std::collections::HashSet;
use std::io::Read;

use super::sniff::{self, Content};
use super::{MAX_ENTRY, MAX_OUTPUT, class, push_line};

/// Nested archives are opened this many levels deep (a jar in a war in an ear).
const MAX_DEPTH: usize = 3;
/// Bytes inflated per blob, all entries and nested archives together.
pub const INFLATE_BUDGET: usize = 4 * MAX_OUTPUT;

fn u16_at(d: &[u8], i: usize) -> Option<usize> {
    d.get(i..i.checked_add(2)?)
        .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
}
fn u32_at(d: &[u8], i: usize) -> Option<usize> {
    d.get(i..i.checked_add(4)?)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}
fn u64_at(d: &[u8], i: usize) -> Option<usize> {
    let b: [u8; 8] = d.get(i..i.checked_add(8)?)?.try_into().ok()?;
    usize::try_from(u64::from_le_bytes(b)).ok()
}

/// Raw deflate of `input`, at most `size` bytes out.
fn inflate(input: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; size];
    let (got, _rc) =
        zlib_rs::decompress_slice(&mut buf, input, zlib_rs::InflateConfig { window_bits: -15 });
    let n = got.len();
    buf.truncate(n);
    (n > 0).then_some(buf)
}

/// bzip2 (method 12) of `input`, at most `size` bytes out.
fn bunzip(input: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    bzip2::read::BzDecoder::new(input)
        .take(size as u64)
        .read_to_end(&mut out)
        .ok()?;
    (!out.is_empty()).then_some(out)
}

fn is_archive_name(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    [&b".jar"[..], b".war", b".ear", b".aar", b".zip"]
        .iter()
        .any(|s| lower.ends_with(s))
}

/// Where the central directory is and how many entries it lists (zip64 when the classic end
/// record says so).
fn directory(data: &[u8]) -> Option<(usize, usize)> {
    // End of central directory: 22 bytes plus a comment of up to 64 KiB, at the very end.
    let lo = data.len().saturating_sub(22 + 0xFFFF);
    let eocd = (lo..data.len().saturating_sub(21))
        .rev()
        .find(|&i| data[i..].starts_with(b"PK\x05\x06"))?;
    let (entries, offset) = (u16_at(data, eocd + 10)?, u32_at(data, eocd + 16)?);
    if entries != 0xFFFF && offset != 0xFFFF_FFFF {
        return Some((entries, offset));
    }
    // Zip64: a 20-byte locator right before the end record points at the zip64 end record.
    let locator = eocd.checked_sub(20)?;
    if !data[locator..].starts_with(b"PK\x06\x07") {
        return Some((entries, offset));
    }
    let record = u64_at(data, locator + 8)?;
    if !data.get(record..)?.starts_with(b"PK\x06\x06") {
        return None;
    }
    Some((u64_at(data, record + 32)?, u64_at(data, record + 48)?))
}

/// One central-directory entry.
struct Entry<'a> {
    name: &'a [u8],
    flags: usize,
    method: usize,
    compressed: usize,
    size: usize,
    local: usize,
}

/// Reads the entry at `p`; returns it and where the next one starts.
fn entry(data: &[u8], p: usize) -> Option<(Entry<'_>, usize)> {
    if !data.get(p..)?.starts_with(b"PK\x01\x02") {
        return None;
    }
    let (nlen, elen, clen) = (
        u16_at(data, p + 28)?,
        u16_at(data, p + 30)?,
        u16_at(data, p + 32)?,
    );
    let name = data.get(p + 46..p + 46 + nlen)?;
    let mut e = Entry {
        name,
        flags: u16_at(data, p + 8)?,
        method: u16_at(data, p + 10)?,
        compressed: u32_at(data, p + 20)?,
        size: u32_at(data, p + 24)?,
        local: u32_at(data, p + 42)?,
    };
    // Zip64 extra field (id 1): the 8-byte values of the fields that say 0xFFFFFFFF, in order.
    let extra = data.get(p + 46 + nlen..p + 46 + nlen + elen)?;
    let mut x = 0;
    while let (Some(id), Some(len)) = (u16_at(extra, x), u16_at(extra, x + 2)) {
        if id == 1 {
            let mut at = x + 4;
            for field in [&mut e.size, &mut e.compressed, &mut e.local] {
                if *field == 0xFFFF_FFFF {
                    *field = u64_at(extra, at)?;
                    at += 8;
                }
            }
        }
        x += 4 + len;
    }
    Some((e, p + 46 + nlen + elen + clen))
}

/// State shared by an archive and the archives nested in it.
pub(super) struct Budget {
    /// Bytes that may still be inflated.
    inflate: usize,
}

impl Budget {
    pub(super) fn new() -> Self {
        Budget {
            inflate: INFLATE_BUDGET,
        }
    }
}

/// The bytes of `e`, or `None` when it cannot or may not be read.
fn body(data: &[u8], e: &Entry<'_>, budget: &mut Budget) -> Option<Vec<u8>> {
    // The local header repeats the name and has its own extra field length.
    if !data.get(e.local..)?.starts_with(b"PK\x03\x04") {
        return None;
    }
    let (ln, le) = (u16_at(data, e.local + 26)?, u16_at(data, e.local + 28)?);
    let start = e.local + 30 + ln + le;
    let raw = data.get(start..start.checked_add(e.compressed)?)?;
    if e.size > budget.inflate.min(MAX_ENTRY) {
        return None;
    }
    let body = match e.method {
        0 => raw.to_vec(),
        8 => inflate(raw, e.size)?,
        12 => bunzip(raw, e.size)?,
        _ => return None,
    };
    budget.inflate -= body.len().min(budget.inflate);
    Some(body)
}

pub(super) fn extract(data: &[u8], out: &mut Vec<u8>, depth: usize, budget: &mut Budget) -> bool {
    let Some((entries, mut p)) = directory(data) else {
        return false;
    };
    let mut read = HashSet::new();
    for _ in 0..entries {
        let Some((e, next)) = entry(data, p) else {
            return true;
        };
        p = next;
        let encrypted = e.flags & 1 != 0;
        if encrypted || e.name.ends_with(b"/") || out.len() >= MAX_OUTPUT {
            continue;
        }
        // Many directory entries pointing at one local entry: it is read once.
        if !read.insert(e.local) {
            continue;
        }
        let Some(body) = body(data, &e, budget) else {
            continue;
        };
        let mut header = b"==> ".to_vec();
        header.extend_from_slice(e.name);
        header.extend_from_slice(b" <==");
        if e.name.ends_with(b".class") {
            let mut strings = Vec::new();
            if class::strings(&body, &mut strings) && !strings.is_empty() {
                push_line(out, &header);
                if out.len() + strings.len() <= MAX_OUTPUT {
                    out.extend_from_slice(&strings);
                }
            }
        } else if is_archive_name(e.name) {
            if depth < MAX_DEPTH {
                push_line(out, &header);
                extract(&body, out, depth + 1, budget);
            }
        } else if sniff::classify(&body) == Content::Text {
            push_line(out, &header);
            push_line(out, &body);
        }
    }
    true
}
