//! Byte sniffing: whether a byte string is text, UTF-16 text, or an opaque binary.
//!
//! A string is binary when its first 8000 bytes hold a NUL byte (git's own heuristic), except
//! for UTF-16 text, recognised by its byte-order mark or, without one, by NULs in every other
//! byte of mostly-ASCII text. Only the head is looked at, so the cost is bounded per blob.
//! Used by the content policy (`detect::content`, above) and by the archive extractor (which
//! copies an entry only when it is text); it depends on nothing else in `detect`.

/// What a byte string holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    Text,
    Utf16Le,
    Utf16Be,
    Binary,
}

/// Sniffs the head of `data`.
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
        let le: Vec<u8> = "token = abcdefgh\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(classify(&le), Content::Utf16Le);
        let be: Vec<u8> = "token = abcdefgh\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(classify(&be), Content::Utf16Be);
    }
}
