//! Finds hex-encoded text worth decoding (`6768705f...` for `ghp_...`) and decodes it.
//!
//! A run is a maximal sequence of hex digits, of even length in `MIN_RUN..=MAX_RUN`. Runs are
//! found by base64's finder, inside the runs of base64 bytes it visits anyway. Digests,
//! ids and keys are hex too, so a run is only scanned when it decodes to mostly printable text,
//! and decoding gives up as soon as it cannot (a random byte is printable with probability
//! 0.38, so a digest is given up on within a few bytes). Like base64 runs, runs are defined by
//! the bytes alone, provided the window shows one byte before and `MAX_RUN + 1` after.

use std::ops::Range;

use super::runs::{self, hex};

/// 16 decoded bytes: shorter text holds no token worth the cost of decoding every short id.
pub(crate) const MIN_RUN: usize = 32;
/// Same bound as base64 runs, so the engine's context covers both.
pub(crate) const MAX_RUN: usize = super::base64::MAX_RUN;

const fn class_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_hexdigit();
        b += 1;
    }
    t
}
static IS_HEX: [bool; 256] = class_table();

/// Pushes onto `out` the runs that lie in `span` (a maximal run of base64 bytes, or the part of
/// one from `starts.start - 1` on) and start in `starts`. A hex run ends inside the base64 run
/// that holds it; its start is checked against the byte before it, which may precede `span`.
pub(super) fn runs_within(
    hay: &[u8],
    span: Range<usize>,
    starts: &Range<usize>,
    out: &mut Vec<Range<usize>>,
) {
    let mut i = span.start;
    while i + MIN_RUN <= span.end && i < starts.end {
        // As base64's finder: skip to after the last non-hex byte of the next MIN_RUN.
        if let Some(q) = hay[i..i + MIN_RUN]
            .iter()
            .rposition(|&b| !IS_HEX[usize::from(b)])
        {
            i += q + 1;
            continue;
        }
        let s = i;
        let e = hay[s + MIN_RUN..span.end]
            .iter()
            .position(|&b| !IS_HEX[usize::from(b)])
            .map_or(span.end, |p| s + MIN_RUN + p);
        let maximal = s == 0 || !IS_HEX[usize::from(hay[s - 1])];
        if maximal && starts.contains(&s) && e - s <= MAX_RUN && (e - s).is_multiple_of(2) {
            out.push(s..e);
        }
        i = e + 1;
    }
}

/// Decodes a run of hex digit pairs into `out`; true when the result is mostly printable text
/// (at most one byte in ten is not), given up at the first byte that makes that impossible.
pub(super) fn decode(run: &[u8], out: &mut Vec<u8>, map: &mut Vec<u32>) -> bool {
    out.clear();
    map.clear();
    let n = run.len() / 2;
    let allowed = n / 10;
    let mut bad = 0;
    for pair in run.chunks_exact(2) {
        let (Some(h), Some(l)) = (hex(pair[0]), hex(pair[1])) else {
            return false;
        };
        let b = h << 4 | l;
        if !runs::printable(b) {
            bad += 1;
            if bad > allowed {
                return false;
            }
        }
        out.push(b);
    }
    runs::worth_scanning(out)
}
