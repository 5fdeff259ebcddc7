//! Finds base64 runs worth decoding and decodes them.
//!
//! A run is a maximal sequence of bytes from `[A-Za-z0-9+/_-]`, plus up to two `=` of padding.
//! Only runs of `MIN_RUN..=MAX_RUN` bytes that use one alphabet (standard or URL-safe), mix
//! letter cases, have a valid length and decode to mostly printable text are decoded. Runs are
//! defined by the bytes alone (maximality is a local property), so they do not depend on where a
//! window was cut, provided the window shows one byte before and `MAX_RUN + 3` bytes after.
//!
//! The finder skips ahead `MIN_RUN` bytes at a time: it only looks at the byte where a long
//! enough run would have to be, so ordinary text costs a fraction of a table look-up per byte.

use std::ops::Range;

pub(crate) const MIN_RUN: usize = 24;
pub(crate) const MAX_RUN: usize = 8192;

const fn class_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'_' || c == b'-';
        b += 1;
    }
    t
}
static IS_B64: [bool; 256] = class_table();

/// Pushes onto `out` the plausible runs whose start lies in `starts` (indices into `hay`), and
/// onto `hex_out` the hex runs whose start lies there ([`super::hex::runs_within`]: hex digits
/// are base64 bytes, so every hex run long enough lies in a base64-class run this loop visits).
pub(super) fn find_runs(
    hay: &[u8],
    starts: Range<usize>,
    out: &mut Vec<Range<usize>>,
    hex_out: &mut Vec<Range<usize>>,
) {
    let end = hay.len();
    // Start one byte early so a run beginning exactly at `starts.start` is seen as maximal.
    let first = starts.start.saturating_sub(1);
    let mut i = first;
    // Invariant: `i == first` or `hay[i - 1]` is not base64, so a run found at `i` starts there.
    while i < starts.end && i + MIN_RUN <= end {
        // Check the next MIN_RUN bytes backwards: the last non-base64 byte among them is where
        // the next candidate starts, which skips most of a line of code in one step.
        if let Some(q) = last_non_b64(&hay[i..i + MIN_RUN]) {
            i += q + 1;
            continue;
        }
        let k = i;
        let e = hay[k + MIN_RUN..]
            .iter()
            .position(|&b| !IS_B64[b as usize])
            .map_or(end, |p| k + MIN_RUN + p);
        if e - k >= super::hex::MIN_RUN {
            super::hex::runs_within(hay, k..e, &starts, hex_out);
        }
        // At `first` with a base64 byte before it, the run began before `starts`: not ours.
        let truncated = k == first && k > 0 && IS_B64[hay[k - 1] as usize];
        if !truncated && k >= starts.start {
            let mut pe = e;
            while pe < end && pe - e < 2 && hay[pe] == b'=' {
                pe += 1;
            }
            if pe - k <= MAX_RUN + 2 && plausible(&hay[k..e], pe - e) {
                out.push(k..pe);
            }
        }
        i = e + 1;
    }
}

/// The offset of the last non-base64 byte of `w` (`MIN_RUN` bytes). Eight bytes at a time from
/// the end, each eight folded into a mask without branching: in text, the last eight bytes
/// usually hold one, and a byte-by-byte loop's exit is a branch the CPU cannot predict.
fn last_non_b64(w: &[u8]) -> Option<usize> {
    let mut end = w.len();
    while end > 0 {
        let start = end.saturating_sub(8);
        let mask = w[start..end].iter().enumerate().fold(0u32, |m, (j, &b)| {
            m | u32::from(!IS_B64[usize::from(b)]) << j
        });
        if mask != 0 {
            return Some(start + 31 - mask.leading_zeros() as usize);
        }
        end = start;
    }
    None
}

const UPPER: u8 = 1;
const LOWER: u8 = 2;
const DIGIT: u8 = 4;
const STD_SYM: u8 = 8;
const URL_SYM: u8 = 16;

const fn shape_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_lowercase() {
            LOWER
        } else if c.is_ascii_digit() {
            DIGIT
        } else if c == b'+' || c == b'/' {
            STD_SYM
        } else {
            URL_SYM
        };
        b += 1;
    }
    t
}
static SHAPE: [u8; 256] = shape_table();

/// Cheap shape checks before decoding: one alphabet, mixed case, digits (or length), length.
fn plausible(run: &[u8], padding: usize) -> bool {
    // Branch-free: one table load and an OR per byte (the run is all base64 bytes).
    let shape = run.iter().fold(0u8, |acc, &b| acc | SHAPE[usize::from(b)]);
    let has = |bit: u8| shape & bit != 0;
    if !(has(UPPER) && has(LOWER))
        || (has(STD_SYM) && has(URL_SYM))
        || !(has(DIGIT) || run.len() >= 40)
    {
        return false;
    }
    let rem = run.len() % 4;
    if padding > 0 {
        (run.len() + padding).is_multiple_of(4)
    } else {
        rem != 1
    }
}

fn sextet(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

/// Decodes a run (either alphabet, padding optional) into `out`; true when the result looks
/// like text (at least 90% printable ASCII or whitespace), which is what secrets are.
pub(super) fn decode(run: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let data = run
        .strip_suffix(b"==")
        .or_else(|| run.strip_suffix(b"="))
        .unwrap_or(run);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &b in data {
        let Some(v) = sextet(b) else { return false };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if out.len() < 8 {
        return false;
    }
    let printable = out
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t')
        .count();
    printable * 10 >= out.len() * 9
}
