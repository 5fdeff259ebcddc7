//! Text extraction from container and compiled formats, so secrets inside them can be scanned:
//! Java class files (constant-pool strings), `.jar`/`.war`/`.ear`/`.aar` archives (their class
//! files and text entries, nested archives; zip64, deflate and bzip2), Python bytecode (`.pyc`
//! marshalled strings) and Jupyter notebooks (cell sources, text outputs and metadata,
//! JSON-unescaped).
//!
//! Each extractor returns newline-separated text; findings in it carry the extractor's name in
//! `decoded_from` and their offsets (line, column, start, end) refer to the extracted text, not
//! to the blob. Extraction is bounded: at most [`MAX_OUTPUT`] bytes of text per blob, archive
//! entries whose stated size exceeds [`MAX_ENTRY`] are skipped, and an archive inflates at most
//! [`zip::INFLATE_BUDGET`] bytes however its entries repeat or nest (zip bombs).
//!
//! [`sniff`] (text, UTF-16 or binary) lives here because archive entries are sniffed too; the
//! content policy above uses it. Nothing here depends on another part of `detect`.

mod class;
mod ipynb;
mod pyc;
pub mod sniff;
pub mod zip;

/// Upper bound on the text extracted from one blob.
pub const MAX_OUTPUT: usize = 64 << 20;
/// Upper bound on one archive entry's uncompressed size (larger entries are not read: their
/// text could not be kept whole anyway).
pub const MAX_ENTRY: usize = MAX_OUTPUT;

/// Which extractor applies to a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    JavaClass,
    JavaArchive,
    Pyc,
    Notebook,
}

impl Kind {
    /// The name reported in `decoded_from`.
    pub fn origin(self) -> &'static str {
        match self {
            Kind::JavaClass => "java-class",
            Kind::JavaArchive => "jar",
            Kind::Pyc => "pyc",
            Kind::Notebook => "ipynb",
        }
    }
}

fn ends_with_ci(path: &[u8], suffix: &[u8]) -> bool {
    path.len() >= suffix.len() && path[path.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
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
    if data.starts_with(b"PK\x03\x04")
        && [&b".jar"[..], b".war", b".ear", b".aar"]
            .iter()
            .any(|s| ends_with_ci(path, s))
    {
        return Some(Kind::JavaArchive);
    }
    if (ends_with_ci(path, b".pyc") || ends_with_ci(path, b".pyo")) && pyc::looks_like_pyc(data) {
        return Some(Kind::Pyc);
    }
    None
}

/// Extracts the text of `data` with extractor `kind`; `None` when the data is not in that format.
pub fn extract(kind: Kind, data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let ok = match kind {
        Kind::JavaClass => class::strings(data, &mut out),
        Kind::JavaArchive => zip::extract(data, &mut out, 0, &mut zip::Budget::new()),
        Kind::Pyc => pyc::strings(data, &mut out),
        Kind::Notebook => ipynb::text(data, &mut out),
    };
    ok.then_some(out)
}

/// Appends `s` as one line (newlines inside it kept), respecting [`MAX_OUTPUT`].
fn push_line(out: &mut Vec<u8>, s: &[u8]) -> bool {
    if out.len() + s.len() + 1 > MAX_OUTPUT {
        return false;
    }
    out.extend_from_slice(s);
    out.push(b'\n');
    true
}
