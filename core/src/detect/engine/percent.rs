//! Finds percent-encoded runs worth decoding (`%XX` escapes in URLs, form data, query strings)
//! and decodes them.
//!
//! A run is a maximal sequence of URL bytes (unreserved, reserved and `%`) of at most
//! `MAX_RUN` bytes that holds at least one valid `%XX` escape. Like base64 runs, runs are
//! defined by the bytes alone, so they do not depend on where a window was cut provided the
//! window shows one byte before a run and `MAX_RUN + 1` bytes after its start.

use std::ops::Range;

/// Same bound as base64 runs, so the engine's context covers both.
pub(crate) const MAX_RUN: usize = super::base64::MAX_RUN;
/// Shorter runs cannot hold a secret worth decoding (and `"%02x"` format strings are short).
pub(crate) const MIN_RUN: usize = 16;

const fn class_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
                    | b'#'
            );
        b += 1;
    }
    t
}
static IS_URL: [bool; 256] = class_table();

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn escape_at(hay: &[u8], p: usize) -> bool {
    p + 2 < hay.len() && hex(hay[p + 1]).is_some() && hex(hay[p + 2]).is_some()
}

/// Pushes onto `out` the runs with a valid escape whose start lies in `starts`.
pub(super) fn find_runs(hay: &[u8], starts: Range<usize>, out: &mut Vec<Range<usize>>) {
    let limit = (starts.end + MAX_RUN).min(hay.len());
    let mut covered = 0usize; // runs end before this offset were already examined
    let mut from = starts.start;
    while from < limit {
        let Some(q) = memchr::memchr(b'%', &hay[from..limit]) else {
            break;
        };
        let p = from + q;
        from = p + 1;
        if p < covered || !escape_at(hay, p) {
            continue;
        }
        // The run's start: scan back (bounded), so overlong runs are recognised as such.
        let lo = p.saturating_sub(MAX_RUN + 1);
        let s = hay[lo..p]
            .iter()
            .rposition(|&b| !IS_URL[b as usize])
            .map_or(lo, |i| lo + i + 1);
        let hi = (s + MAX_RUN + 1).min(hay.len());
        let e = hay[p..hi]
            .iter()
            .position(|&b| !IS_URL[b as usize])
            .map_or(hi, |i| p + i);
        covered = e;
        from = from.max(e);
        let overlong = p - s > MAX_RUN || e - s > MAX_RUN;
        if overlong || s < starts.start || s >= starts.end || e - s < MIN_RUN {
            continue;
        }
        out.push(s..e);
    }
}

/// Decodes `%XX` escapes of `run` into `out`; true when the result is mostly printable text and
/// differs from the input.
pub(super) fn decode(run: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut i = 0;
    let mut changed = false;
    while i < run.len() {
        if run[i] == b'%'
            && i + 2 < run.len()
            && let (Some(h), Some(l)) = (
                run.get(i + 1).copied().and_then(hex),
                run.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            changed = true;
        } else {
            out.push(run[i]);
            i += 1;
        }
    }
    if !changed || out.len() < 8 {
        return false;
    }
    let printable = out
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t')
        .count();
    printable * 10 >= out.len() * 9
}
