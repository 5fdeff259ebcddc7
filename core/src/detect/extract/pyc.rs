//! Python bytecode (`.pyc`): the strings of the marshalled code object, one per line.
//!
//! Rather than interpreting every marshal type, the walker recognises string objects by their
//! type byte (`s`, `t`, `u`, `a`, `A` with a 4-byte length; `z`, `Z` with a 1-byte length; the
//! 0x80 reference flag allowed) followed by that many bytes of UTF-8 text, and skips one byte
//! otherwise. Marshal stores string contents verbatim, so every literal is found.

use super::{Out, push_line};

/// A 16-byte header (Python 3.7+: magic, flags, and mtime/size or hash) whose magic ends `\r\n`.
pub(super) fn looks_like_pyc(data: &[u8]) -> bool {
    data.len() >= 16 && &data[2..4] == b"\r\n"
}

fn texty(s: &[u8]) -> bool {
    std::str::from_utf8(s).is_ok_and(|t| {
        t.chars()
            .all(|c| !c.is_control() || c == '\n' || c == '\t' || c == '\r')
    })
}

pub(super) fn strings(data: &[u8], out: &mut Out) -> bool {
    if !looks_like_pyc(data) {
        return false;
    }
    let mut i = 16;
    while i < data.len() {
        let t = data[i] & 0x7f;
        let (len, head) = match t {
            b's' | b't' | b'u' | b'a' | b'A' => match data.get(i + 1..i + 5) {
                Some(b) => (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 5),
                None => break,
            },
            b'z' | b'Z' => match data.get(i + 1) {
                Some(&n) => (n as usize, 2),
                None => break,
            },
            _ => {
                i += 1;
                continue;
            }
        };
        match data.get(i + head..i + head + len) {
            Some(s) if len >= 4 && texty(s) => {
                if !push_line(out, s) {
                    break;
                }
                i += head + len;
            }
            _ => i += 1,
        }
    }
    true
}
