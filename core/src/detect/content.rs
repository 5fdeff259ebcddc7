//! Content policy: which blobs are text to scan, which hold text we can extract, and which are
//! opaque binaries to skip.
//!
//! Formats with an extractor ([`crate::detect::extract`]: Java class files, archives, Python
//! bytecode, Jupyter notebooks) are replaced by their extracted text (origin `java-class`, `pyc`,
//! `ipynb`; for archives the outermost format: `jar` for `.jar`/`.war`/`.ear`/`.aar`, else `zip`,
//! `tar`, `gzip`, `bzip2`, `xz`), with the archive's members and the limits met. Otherwise the blob is sniffed
//! ([`crate::detect::extract::sniff`]: a NUL in the first 8000 bytes means binary, except for
//! UTF-16 text): UTF-16 text is transcoded (origin `utf16`), other binary blobs are counted with
//! reason `binary`, which does not make a scan partial.
//!
//! Offsets of findings in transcoded or extracted text refer to that text, not to the blob.

use std::borrow::Cow;

pub use crate::detect::extract::sniff::{Content, classify, utf16_to_utf8};
use crate::detect::extract::{self, Entry};

/// A blob made ready for the engine.
#[derive(Debug)]
pub enum Prepared<'a> {
    /// Scan these bytes. `origin` names a transformation (e.g. `"utf16"`) when the bytes are not
    /// the blob's own; findings then carry it in `decoded_from` and their offsets refer to the
    /// transformed text.
    Text {
        bytes: Cow<'a, [u8]>,
        origin: Option<&'static str>,
        /// Archives: every member that is a file, with where its text sits in `bytes` (see
        /// [`extract::Extracted::entries`]); empty otherwise.
        entries: Vec<Entry>,
        /// Archives: the limits that cut the extraction short, one line each; empty otherwise.
        limits: Vec<String>,
    },
    /// Opaque binary: skipped with reason `binary`.
    Binary,
}

/// Classify `data` (a blob found at `path`, empty when unknown) and produce what to scan.
pub fn prepare<'a>(data: &'a [u8], path: &[u8]) -> Prepared<'a> {
    if let Some(kind) = extract::kind(data, path)
        && let Some(x) = extract::extract_at(kind, data, path)
    {
        return Prepared::Text {
            bytes: Cow::Owned(x.text),
            origin: Some(kind.origin()),
            entries: x.entries,
            limits: x.limits,
        };
    }
    let text = |bytes, origin| Prepared::Text {
        bytes,
        origin,
        entries: Vec::new(),
        limits: Vec::new(),
    };
    match classify(data) {
        Content::Text => text(Cow::Borrowed(data), None),
        Content::Utf16Le => text(Cow::Owned(utf16_to_utf8(data, true)), Some("utf16")),
        Content::Utf16Be => text(Cow::Owned(utf16_to_utf8(data, false)), Some("utf16")),
        Content::Binary => Prepared::Binary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcodes_utf16() {
        assert_eq!(utf16_to_utf8(b"\xff\xfeh\0i\0", true), b"hi");
        let le: Vec<u8> = "token = abcdefgh\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(utf16_to_utf8(&le, true), b"token = abcdefgh\n");
        let be: Vec<u8> = "token = abcdefgh\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(utf16_to_utf8(&be, false), b"token = abcdefgh\n");
        assert!(matches!(
            prepare(b"\xff\xfeh\0i\0", b""),
            Prepared::Text {
                origin: Some("utf16"),
                ..
            }
        ));
    }
}
