//! Content policy: which blobs are text to scan, which hold text we can extract, and which are
//! opaque binaries to skip.
//!
//! Formats with an extractor ([`crate::detect::extract`]: Java class files, jar/war archives,
//! Python bytecode, Jupyter notebooks) are replaced by their extracted text (origin
//! `java-class`, `jar`, `pyc`, `ipynb`). Otherwise the blob is sniffed
//! ([`crate::detect::extract::sniff`]: a NUL in the first 8000 bytes means binary, except for
//! UTF-16 text): UTF-16 text is transcoded (origin `utf16`), other binary blobs are counted with
//! reason `binary`, which does not make a scan partial.
//!
//! Offsets of findings in transcoded or extracted text refer to that text, not to the blob.

use std::borrow::Cow;

use crate::detect::extract;
pub use crate::detect::extract::sniff::{Content, classify};

/// A blob made ready for the engine.
#[derive(Debug)]
pub enum Prepared<'a> {
    /// Scan these bytes. `origin` names a transformation (e.g. `"utf16"`) when the bytes are not
    /// the blob's own; findings then carry it in `decoded_from` and their offsets refer to the
    /// transformed text.
    Text {
        bytes: Cow<'a, [u8]>,
        origin: Option<&'static str>,
    },
    /// Opaque binary: skipped with reason `binary`.
    Binary,
}

/// Classify `data` (a blob found at `path`, empty when unknown) and produce what to scan.
pub fn prepare<'a>(data: &'a [u8], path: &[u8]) -> Prepared<'a> {
    if let Some(kind) = extract::kind(data, path)
        && let Some(text) = extract::extract(kind, data)
    {
        return Prepared::Text {
            bytes: Cow::Owned(text),
            origin: Some(kind.origin()),
        };
    }
    match classify(data) {
        Content::Text => Prepared::Text {
            bytes: Cow::Borrowed(data),
            origin: None,
        },
        Content::Utf16Le => Prepared::Text {
            bytes: Cow::Owned(utf16_to_utf8(data, true)),
            origin: Some("utf16"),
        },
        Content::Utf16Be => Prepared::Text {
            bytes: Cow::Owned(utf16_to_utf8(data, false)),
            origin: Some("utf16"),
        },
        Content::Binary => Prepared::Binary,
    }
}

/// Decode UTF-16 text to UTF-8 (lossy), skipping a byte-order mark; offsets in the result are
/// not blob offsets.
pub fn utf16_to_utf8(data: &[u8], little_endian: bool) -> Vec<u8> {
    let bom: &[u8] = if little_endian {
        b"\xff\xfe"
    } else {
        b"\xfe\xff"
    };
    let body = data.strip_prefix(bom).unwrap_or(data);
    let units = body.chunks_exact(2).map(|c| {
        if little_endian {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .into_bytes()
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
