//! Content policy: which blobs are text to scan and which are opaque binaries to skip.
//!
//! A blob is binary when its first 8000 bytes hold a NUL byte (git's own heuristic), except for
//! UTF-16 text, recognised by its byte-order mark. Binary blobs are counted with reason
//! `binary`, which does not make a scan partial.

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
pub fn prepare<'a>(data: &'a [u8], _path: &[u8]) -> Prepared<'a> {
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
    if head.contains(&0) {
        Content::Binary
    } else {
        Content::Text
    }
}

/// Decode UTF-16 text to UTF-8 (lossy); offsets in the result are not blob offsets.
pub fn utf16_to_utf8(data: &[u8], little_endian: bool) -> Vec<u8> {
    let units = data[2..].chunks_exact(2).map(|c| {
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
    }
}
