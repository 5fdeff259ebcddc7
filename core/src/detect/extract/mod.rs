//! Text extraction from container and compiled formats, so secrets inside them can be scanned:
//! Java class files (constant-pool strings), archives (zip and everything built on it — `.jar`,
//! `.war`, `.apk`, `.whl`, `.docx`, `.odt`…; tar; gzip, bzip2 and xz streams, alone or around a
//! tar or zip; archives inside archives), Python bytecode (`.pyc` marshalled strings) and Jupyter
//! notebooks (cell sources, text outputs and metadata, JSON-unescaped).
//!
//! Each extractor returns newline-separated text ([`Extracted`]); findings in it carry the
//! extractor's name in `decoded_from` and their offsets (line, column, start, end) refer to the
//! extracted text, not to the blob. An archive's text is its members' text, each after a
//! `==> name <==` line, and [`Extracted::entries`] says which member each range of the text
//! comes from (nested members are named `outer!inner`).
//!
//! # Formats and crates
//!
//! Archives are recognised by their magic bytes, whatever the blob's name (the checks are a few
//! byte comparisons at fixed offsets, so plain text pays nothing): zip `PK\x03\x04`, gzip
//! `1f 8b 08`, bzip2 `BZh1`-`BZh9` followed by a block or end-of-stream magic, xz
//! `FD 37 7A 58 5A 00`, tar `ustar` at offset 257 (POSIX and GNU). Zip is read by our own
//! central-directory reader ([`zip`]: it is fuzzed and bounded, and random access lets it read
//! each local entry once whatever the directory repeats); the others are streams, decoded by
//! maintained crates through the bounded readers of [`archive`]:
//!
//! - `flate2`, over the `zlib-rs` backend already in the tree: gzip (multi-member) and zip's raw
//!   deflate, streamed (no C library, no second inflate implementation).
//! - `bzip2` (pure Rust, `libbz2-rs-sys`): bzip2 streams and zip method 12.
//! - `lzma-rust2` (pure Rust, xz feature only): xz streams. Its LZMA2 window grows with the
//!   output instead of being allocated from the dictionary size the header declares, so a
//!   hostile header costs nothing; `lzma-rs` is unmaintained and `liblzma` is a C library.
//! - `tar` (no default features: nothing is unpacked to disk): ustar/GNU/PAX headers, read in
//!   its raw mode so that GNU long names and PAX paths, which it would otherwise read whole from
//!   a size the input declares, are read here under a bound ([`archive::MAX_NAME`]).
//!
//! # Bounds
//!
//! Nothing is allocated from a size the input declares. Per blob: at most [`MAX_OUTPUT`] bytes
//! of text, [`MAX_ENTRIES`] members, [`INFLATE_BUDGET`] bytes decompressed over every member and
//! nesting level, archives nested [`MAX_DEPTH`] deep; per member at most [`MAX_ENTRY`] bytes, and
//! a member or stream stops once it has produced more than [`MAX_RATIO`] times its compressed
//! size past [`RATIO_FLOOR`]. Each limit that triggers adds one line to [`Extracted::limits`]
//! (naming the member, never its content) and skips the rest of that member or archive; what was
//! read before stays.
//!
//! [`sniff`] (text, UTF-16 or binary) lives here because archive members are sniffed too; the
//! content policy above uses it. Nothing here depends on another part of `detect`.

mod archive;
mod class;
mod ipynb;
mod pyc;
pub mod sniff;
mod zip;

use std::ops::Range;

/// Upper bound on the text extracted from one blob.
pub const MAX_OUTPUT: usize = 64 << 20;
/// Upper bound on the bytes of one archive member kept in memory (a longer member is read that
/// far; its text could not be kept whole anyway).
pub const MAX_ENTRY: usize = MAX_OUTPUT;
/// Bytes decompressed per blob, all members and nested archives together.
pub const INFLATE_BUDGET: usize = 4 * MAX_OUTPUT;
/// Members listed per blob, nested archives included.
pub const MAX_ENTRIES: usize = 100_000;
/// Nested archives are opened this many levels deep (a jar in a war in an ear); a compression
/// stream around a tar or zip (`.tar.gz`) is one level with it.
pub const MAX_DEPTH: usize = 3;
/// A member or stream stops once its output exceeds this many times its compressed size…
pub const MAX_RATIO: usize = 1000;
/// …and this many bytes (small members may be as repetitive as they like).
pub const RATIO_FLOOR: usize = 1 << 20;

/// Which extractor applies to a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    JavaClass,
    /// A zip named `.jar`, `.war`, `.ear` or `.aar`.
    JavaArchive,
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Pyc,
    Notebook,
}

impl Kind {
    /// The name reported in `decoded_from` (for archives, the outermost format).
    pub fn origin(self) -> &'static str {
        match self {
            Kind::JavaClass => "java-class",
            Kind::JavaArchive => "jar",
            Kind::Zip => "zip",
            Kind::Tar => "tar",
            Kind::Gzip => "gzip",
            Kind::Bzip2 => "bzip2",
            Kind::Xz => "xz",
            Kind::Pyc => "pyc",
            Kind::Notebook => "ipynb",
        }
    }

    fn is_archive(self) -> bool {
        matches!(
            self,
            Kind::JavaArchive | Kind::Zip | Kind::Tar | Kind::Gzip | Kind::Bzip2 | Kind::Xz
        )
    }
}

/// What an extractor made of a blob.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    /// The text to scan (entries separated by their `==> name <==` header lines).
    pub text: Vec<u8>,
    /// Archives only: every member that is a file, in order (binary ones too, with an empty
    /// range). A nested archive is listed itself (empty range), then its members.
    pub entries: Vec<Entry>,
    /// Limits that cut the extraction short (a bomb, too many entries, too deep, output full):
    /// one human-readable line each, naming the entry, never its content.
    pub limits: Vec<String>,
}

/// One member of an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The member's path inside the blob; nested archives joined with '!':
    /// `config/.env`, `lib/app.jar!com/acme/Config.class`, `dump.sql` for a .gz of one file
    /// (named after the blob's path without its `.gz`, else after the name the gzip header
    /// stores).
    pub name: Vec<u8>,
    /// Where the member's text sits in `text` (empty for binary, nested-archive or skipped
    /// members; the header line is not part of it).
    pub text: Range<usize>,
    /// blake3 of the member's own bytes (decompressed), first 20 bytes; of the bytes read when a
    /// limit cut the member short, of nothing when it could not be read (encrypted, unknown
    /// compression).
    pub digest: [u8; 20],
}

fn ends_with_ci(path: &[u8], suffix: &[u8]) -> bool {
    path.len() >= suffix.len() && path[path.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// The archive format of `data` by its magic bytes alone: a handful of fixed-offset compares.
fn archive_kind(data: &[u8]) -> Option<Kind> {
    match data.first()? {
        b'P' if data.starts_with(b"PK\x03\x04") => return Some(Kind::Zip),
        0x1f if data.starts_with(&[0x1f, 0x8b, 0x08]) => return Some(Kind::Gzip),
        b'B' if data.starts_with(b"BZh")
            && matches!(data.get(3), Some(b'1'..=b'9'))
            && data.get(4..10).is_some_and(|m| {
                m == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
                    || m == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90]
            }) =>
        {
            return Some(Kind::Bzip2);
        }
        0xfd if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) => return Some(Kind::Xz),
        _ => {}
    }
    is_tar(data).then_some(Kind::Tar)
}

/// A tar header: `ustar\0` (POSIX) or `ustar  \0` (GNU) at offset 257 of the first block.
fn is_tar(data: &[u8]) -> bool {
    data.len() >= 512 && (&data[257..263] == b"ustar\0" || &data[257..265] == b"ustar  \0")
}

/// The extractor for a blob at `path` (empty when unknown), by magic bytes and extension.
pub fn kind(data: &[u8], path: &[u8]) -> Option<Kind> {
    if ends_with_ci(path, b".ipynb") {
        return Some(Kind::Notebook);
    }
    if data.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE])
        && data.len() >= 10
        && (ends_with_ci(path, b".class") || path.is_empty())
    {
        return Some(Kind::JavaClass);
    }
    if let Some(k) = archive_kind(data) {
        let java = [&b".jar"[..], b".war", b".ear", b".aar"]
            .iter()
            .any(|s| ends_with_ci(path, s));
        return Some(if k == Kind::Zip && java {
            Kind::JavaArchive
        } else {
            k
        });
    }
    if (ends_with_ci(path, b".pyc") || ends_with_ci(path, b".pyo")) && pyc::looks_like_pyc(data) {
        return Some(Kind::Pyc);
    }
    None
}

/// Extracts the text of `data` with extractor `kind`; `None` when the data is not in that format.
pub fn extract(kind: Kind, data: &[u8]) -> Option<Extracted> {
    extract_at(kind, data, b"")
}

/// As [`extract`], for a blob found at `path`: a compressed single file (`dump.sql.gz`) is
/// named after it (`dump.sql`).
pub fn extract_at(kind: Kind, data: &[u8], path: &[u8]) -> Option<Extracted> {
    if kind.is_archive() {
        return archive::extract(kind, data, path);
    }
    let mut out = Out::new();
    let ok = match kind {
        Kind::JavaClass => class::strings(data, &mut out),
        Kind::Pyc => pyc::strings(data, &mut out),
        Kind::Notebook => ipynb::text(data, &mut out),
        _ => false,
    };
    if !ok {
        return None;
    }
    let mut limits = Vec::new();
    if out.full {
        limits.push(format!(
            "output limit ({} MiB of text) reached: the rest of the blob is not extracted",
            MAX_OUTPUT >> 20
        ));
    }
    Some(Extracted {
        text: out.buf,
        entries: Vec::new(),
        limits,
    })
}

/// Extracted text under [`MAX_OUTPUT`], remembering whether a line was refused.
struct Out {
    buf: Vec<u8>,
    /// A line did not fit: the output is full.
    full: bool,
}

impl Out {
    fn new() -> Self {
        Out {
            buf: Vec::new(),
            full: false,
        }
    }
}

/// Appends `s` as one line (newlines inside it kept), respecting [`MAX_OUTPUT`]; `false` (and
/// the output marked full) when it does not fit.
fn push_line(out: &mut Out, s: &[u8]) -> bool {
    if out.buf.len() + s.len() + 1 > MAX_OUTPUT {
        out.full = true;
        return false;
    }
    out.buf.extend_from_slice(s);
    out.buf.push(b'\n');
    true
}
