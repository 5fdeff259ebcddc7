//! Java archives (zip): a small central-directory reader. Stored and deflated entries are read;
//! class files go through the class extractor, nested archives are opened one level deep, text
//! entries are copied, other entries are skipped. Each entry is preceded by a `==> name <==`
//! line. Zip64 and encrypted entries are skipped.

use super::sniff::{self, Content};
use super::{MAX_ENTRY, MAX_OUTPUT, class, push_line};

fn u16_at(d: &[u8], i: usize) -> Option<usize> {
    d.get(i..i + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
}
fn u32_at(d: &[u8], i: usize) -> Option<usize> {
    d.get(i..i + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// Raw deflate of `input` into a buffer of the stated size.
fn inflate(input: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; size];
    let (got, _rc) =
        zlib_rs::decompress_slice(&mut buf, input, zlib_rs::InflateConfig { window_bits: -15 });
    let n = got.len();
    buf.truncate(n);
    (n > 0).then_some(buf)
}

fn is_archive_name(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    [&b".jar"[..], b".war", b".ear", b".aar", b".zip"]
        .iter()
        .any(|s| lower.ends_with(s))
}

pub(super) fn extract(data: &[u8], out: &mut Vec<u8>, depth: usize) -> bool {
    // End of central directory: 22 bytes plus a comment of up to 64 KiB, at the very end.
    let lo = data.len().saturating_sub(22 + 0xFFFF);
    let Some(eocd) = (lo..data.len().saturating_sub(21))
        .rev()
        .find(|&i| data[i..].starts_with(b"PK\x05\x06"))
    else {
        return false;
    };
    let (Some(entries), Some(cd_off)) = (u16_at(data, eocd + 10), u32_at(data, eocd + 16)) else {
        return false;
    };
    let mut p = cd_off;
    for _ in 0..entries {
        if !data.get(p..).is_some_and(|d| d.starts_with(b"PK\x01\x02")) {
            return true;
        }
        let (
            Some(flags),
            Some(method),
            Some(csize),
            Some(usize_),
            Some(nlen),
            Some(elen),
            Some(clen),
            Some(loff),
        ) = (
            u16_at(data, p + 8),
            u16_at(data, p + 10),
            u32_at(data, p + 20),
            u32_at(data, p + 24),
            u16_at(data, p + 28),
            u16_at(data, p + 30),
            u16_at(data, p + 32),
            u32_at(data, p + 42),
        )
        else {
            return true;
        };
        let Some(name) = data.get(p + 46..p + 46 + nlen) else {
            return true;
        };
        p += 46 + nlen + elen + clen;
        let encrypted = flags & 1 != 0;
        if encrypted || usize_ > MAX_ENTRY || name.ends_with(b"/") || out.len() >= MAX_OUTPUT {
            continue;
        }
        // The local header repeats the name and has its own extra field length.
        if !data
            .get(loff..)
            .is_some_and(|d| d.starts_with(b"PK\x03\x04"))
        {
            continue;
        }
        let (Some(ln), Some(le)) = (u16_at(data, loff + 26), u16_at(data, loff + 28)) else {
            continue;
        };
        let start = loff + 30 + ln + le;
        let Some(raw) = data.get(start..start + csize) else {
            continue;
        };
        let body = match method {
            0 => raw.to_vec(),
            8 => match inflate(raw, usize_) {
                Some(b) => b,
                None => continue,
            },
            _ => continue,
        };
        let mut header = b"==> ".to_vec();
        header.extend_from_slice(name);
        header.extend_from_slice(b" <==");
        if name.ends_with(b".class") {
            let mut strings = Vec::new();
            if class::strings(&body, &mut strings) && !strings.is_empty() {
                push_line(out, &header);
                if out.len() + strings.len() <= MAX_OUTPUT {
                    out.extend_from_slice(&strings);
                }
            }
        } else if is_archive_name(name) {
            if depth < 1 {
                push_line(out, &header);
                extract(&body, out, depth + 1);
            }
        } else if sniff::classify(&body) == Content::Text {
            push_line(out, &header);
            push_line(out, &body);
        }
    }
    true
}
