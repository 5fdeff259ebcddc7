//! Zip archives (`.jar`, `.apk`, `.whl`, `.docx`… and anything starting `PK\x03\x04`): a small
//! central-directory reader, written from the zip format's public specification (PKWARE
//! APPNOTE). Stored, deflated and bzip2 entries are read, zip64 archives (more than 65,535
//! entries, offsets or sizes past 4 GiB) included; each file entry goes to the archive walker
//! ([`super::archive`]), which extracts its text or opens it as a nested archive. Encrypted
//! entries and unknown methods are listed unread.
//!
//! Zip bombs stay bounded: each local entry is read once however many directory entries point
//! at it; an entry is decompressed as a stream, never past its stated size nor [`MAX_ENTRY`],
//! under the blob's decompression budget ([`super::INFLATE_BUDGET`], shared by nested archives)
//! and the ratio limit ([`super::MAX_RATIO`] times its compressed size); nothing is allocated
//! from a stated size.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::io::Read;

use super::MAX_ENTRY;
use super::archive::{Cut, Metered, Walk, joined};

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

/// The bytes of `e` (at most [`MAX_ENTRY`], never past its stated size), whether it was cut
/// short and by what; `None` when it cannot be read (encrypted, unknown method, outside the
/// archive).
fn body<'d>(data: &'d [u8], e: &Entry<'_>, w: &Walk<'_>) -> Option<(Cow<'d, [u8]>, Option<Cut>)> {
    if e.flags & 1 != 0 {
        return None;
    }
    // The local header repeats the name and has its own extra field length.
    if !data.get(e.local..)?.starts_with(b"PK\x03\x04") {
        return None;
    }
    let (ln, le) = (u16_at(data, e.local + 26)?, u16_at(data, e.local + 28)?);
    let start = e.local.checked_add(30 + ln + le)?;
    let raw = data.get(start..start.checked_add(e.compressed)?)?;
    let cap = e.size.min(MAX_ENTRY);
    let over = e.size > MAX_ENTRY;
    let cut = Cell::new(None);
    let mut out = Vec::new();
    let decoder: Box<dyn Read + '_> = match e.method {
        0 => {
            let size_cut = (raw.len() > MAX_ENTRY).then_some(Cut::Size);
            return Some((Cow::Borrowed(&raw[..raw.len().min(MAX_ENTRY)]), size_cut));
        }
        8 => Box::new(flate2::read::DeflateDecoder::new(raw)),
        12 => Box::new(bzip2::read::BzDecoder::new(raw)),
        _ => return None,
    };
    let read = Metered::new(decoder, raw.len(), w.budget(), &cut)
        .take(cap as u64)
        .read_to_end(&mut out);
    if read.is_err() && out.is_empty() {
        return None;
    }
    let cut = cut
        .get()
        .or((over && out.len() == MAX_ENTRY).then_some(Cut::Size));
    Some((Cow::Owned(out), cut))
}

/// Hands every file entry of the zip `data` to the walk, named under `prefix`; `false` when
/// `data` has no central directory.
pub(super) fn members(w: &mut Walk<'_>, data: &[u8], prefix: &[u8], depth: usize) -> bool {
    let Some((entries, mut p)) = directory(data) else {
        return false;
    };
    let mut read = HashSet::new();
    for _ in 0..entries {
        let Some((e, next)) = entry(data, p) else {
            return true;
        };
        p = next;
        if e.name.ends_with(b"/") {
            continue;
        }
        // Many directory entries pointing at one local entry: it is read once.
        if !read.insert(e.local) {
            continue;
        }
        let name = joined(prefix, e.name);
        if !w.admit(&name) {
            return true;
        }
        match body(data, &e, w) {
            None => w.unread(name),
            Some((bytes, cut)) => {
                w.member(name.clone(), &bytes, depth);
                if let Some(c) = cut {
                    w.cut(&name, c);
                }
            }
        }
        if w.stopped() {
            return true;
        }
    }
    true
}
