//! Java class files: every CONSTANT_Utf8 entry of the constant pool (string literals, names,
//! descriptors), one per line. Modified UTF-8 is passed through as bytes.

use super::{Out, push_line};

/// Appends the constant-pool strings of the class file `data`; false when it does not parse.
pub(super) fn strings(data: &[u8], out: &mut Out) -> bool {
    let u16_at = |i: usize| -> Option<usize> {
        data.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    };
    if !data.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE]) {
        return false;
    }
    let Some(count) = u16_at(8) else { return false };
    let mut pos = 10;
    let mut index = 1;
    while index < count {
        let Some(&tag) = data.get(pos) else {
            return false;
        };
        pos += 1;
        let size = match tag {
            1 => {
                let Some(len) = u16_at(pos) else { return false };
                let Some(s) = data.get(pos + 2..pos + 2 + len) else {
                    return false;
                };
                if !s.is_empty() && !push_line(out, s) {
                    return true;
                }
                2 + len
            }
            3 | 4 => 4,
            5 | 6 => {
                index += 1; // longs and doubles take two slots
                8
            }
            7 | 8 | 16 | 19 | 20 => 2,
            9 | 10 | 11 | 12 | 17 | 18 => 4,
            15 => 3,
            _ => return false,
        };
        pos += size;
        index += 1;
    }
    pos <= data.len()
}
