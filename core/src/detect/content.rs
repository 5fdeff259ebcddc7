//! Content policy: which blobs are text to scan, which hold text we can extract, and which are
//! opaque binaries to skip.
//!
//! A blob is binary when its first 8000 bytes hold a NUL byte (git's own heuristic), except for
//! UTF-16 text, recognised by its byte-order mark or, without one, by NULs in every other byte
//! of mostly-ASCII text (transcoded, origin `utf16`). Formats with an extractor
//! ([`crate::detect::extract`]: Java class files, jar/war archives, Python bytecode, Jupyter notebooks)
//! are replaced by their extracted text (origin `java-class`, `jar`, `pyc`, `ipynb`). Other
//! binary blobs are counted with reason `binary`, which does not make a scan partial.
//!
//! Offsets of findings in transcoded or extracted text refer to that text, not to the blob.

use std::borrow::Cow;

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
    if let Some(kind) = crate::detect::extract::kind(data, path)
        && let Some(text) = crate::detect::extract::extract(kind, data)
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    Text,
    Utf16Le,
    Utf16Be,
    Binary,
}

pub fn classify(data: &[u8]) -> Content {
    if data.starts_with(&[0xFF, 0xFE]) {
        return Content::Utf16Le;
    }
    if data.starts_with(&[0xFE, 0xFF]) {
        return Content::Utf16Be;
    }
    let head = &data[..data.len().min(8000)];
    if !head.contains(&0) {
        return Content::Text;
    }
    utf16_without_bom(head).unwrap_or(Content::Binary)
}

/// UTF-16 text without a byte-order mark: mostly ASCII, so one byte of nearly every pair is NUL
/// (the odd ones for little-endian) and the other almost never is.
fn utf16_without_bom(head: &[u8]) -> Option<Content> {
    if head.len() < 16 {
        return None;
    }
    let pairs = head.len() / 2;
    let text = |b: u8| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e);
    let (mut even_nul, mut odd_nul, mut even_text, mut odd_text) = (0usize, 0usize, 0usize, 0usize);
    for p in head.chunks_exact(2) {
        even_nul += usize::from(p[0] == 0);
        odd_nul += usize::from(p[1] == 0);
        even_text += usize::from(text(p[0]));
        odd_text += usize::from(text(p[1]));
    }
    let mostly = |n: usize| n * 10 >= pairs * 9;
    let rarely = |n: usize| n * 50 <= pairs;
    if mostly(odd_nul) && rarely(even_nul) && mostly(even_text) {
        Some(Content::Utf16Le)
    } else if mostly(even_nul) && rarely(odd_nul) && mostly(odd_text) {
        Some(Content::Utf16Be)
    } else {
        None
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
    fn sniffs_binaries_and_text() {
        assert_eq!(classify(b"fn main() {}\n"), Content::Text);
        assert_eq!(classify(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Content::Binary);
        assert_eq!(classify(b""), Content::Text);
        let mut late_nul = vec![b'a'; 9000];
        late_nul.push(0);
        assert_eq!(
            classify(&late_nul),
            Content::Text,
            "only the first 8000 bytes are sniffed"
        );
        assert_eq!(classify(b"\xff\xfeh\0i\0"), Content::Utf16Le);
        assert_eq!(utf16_to_utf8(b"\xff\xfeh\0i\0", true), b"hi");
        let le: Vec<u8> = "token = abcdefgh\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(classify(&le), Content::Utf16Le);
        assert_eq!(utf16_to_utf8(&le, true), b"token = abcdefgh\n");
        let be: Vec<u8> = "token = abcdefgh\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(classify(&be), Content::Utf16Be);
        assert_eq!(utf16_to_utf8(&be, false), b"token = abcdefgh\n");
    }
}
