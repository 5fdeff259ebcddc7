//! What the escape-decoding layers (percent, JSON string escapes, XML/HTML entities) share: runs
//! of a byte class around an escape, and the checks on decoded text.
//!
//! A run is a maximal sequence of bytes for which `in_run(hay, i)` holds, where `in_run` reads
//! `hay[i]` and at most the byte before it. Only runs of `MIN_RUN..=MAX_RUN` bytes that hold a
//! valid escape are decoded. Maximality is a local property, so a run does not depend on where a
//! window was cut, provided the window shows two bytes before the run and `MAX_RUN + 10` bytes
//! after its start (the engine's context covers both: `MAX_RUN` is base64's).

use std::ops::Range;

/// An escape layer: its escapes start with `NEEDLE`; its runs are `MIN_RUN..=MAX_RUN` bytes.
pub(super) trait Escapes {
    const NEEDLE: u8;
    const MIN_RUN: usize;
    /// Whether `hay[i]` belongs to a run (reads at most `hay[i - 1]` besides).
    fn in_run(hay: &[u8], i: usize) -> bool;
    /// Whether a valid escape starts at `p` (`hay[p] == NEEDLE`; all its bytes are `in_run`).
    fn escape_at(hay: &[u8], p: usize) -> bool;
    /// Whether the run `hay[s..e]` is one to decode, given the bytes around it (`hay[s - 1]`
    /// and `hay[e]` at most).
    fn delimited(_hay: &[u8], _s: usize, _e: usize) -> bool {
        true
    }
}

/// The bound on every escape layer's runs (base64's, so the engine's context covers all).
pub(super) const MAX_RUN: usize = super::base64::MAX_RUN;

/// Pushes onto each layer's `out` its runs whose start lies in `starts` and that hold an
/// escape, for the percent, JSON and entity layers at once: one `memchr3` pass finds every
/// escape's first byte (three passes cost as much as the rest of the decoding together).
///
/// The run around an escape is found by scanning back (at most `MAX_RUN + 1` bytes, so an
/// overlong run is recognised as such) and forward. A layer's escapes inside a run it already
/// examined are skipped, so the work is linear in the bytes looked at.
pub(super) fn find_runs(
    hay: &[u8],
    starts: Range<usize>,
    percent_out: &mut Vec<Range<usize>>,
    json_out: &mut Vec<Range<usize>>,
    entity_out: &mut Vec<Range<usize>>,
) {
    use super::{entity::Entities, json::JsonEscapes, percent::PercentEscapes};
    let limit = (starts.end + MAX_RUN).min(hay.len());
    if starts.start >= limit {
        return;
    }
    let mut from = [starts.start; 3];
    for q in memchr::memchr3_iter(
        PercentEscapes::NEEDLE,
        JsonEscapes::NEEDLE,
        Entities::NEEDLE,
        &hay[starts.start..limit],
    ) {
        let p = starts.start + q;
        match hay[p] {
            PercentEscapes::NEEDLE => {
                at::<PercentEscapes>(hay, p, &starts, &mut from[0], percent_out)
            }
            JsonEscapes::NEEDLE => at::<JsonEscapes>(hay, p, &starts, &mut from[1], json_out),
            _ => at::<Entities>(hay, p, &starts, &mut from[2], entity_out),
        }
    }
}

/// The run around the escape byte at `p`, if it is a valid escape past `from` (the end of the
/// last run examined), pushed when it is ours and of the right length.
fn at<E: Escapes>(
    hay: &[u8],
    p: usize,
    starts: &Range<usize>,
    from: &mut usize,
    out: &mut Vec<Range<usize>>,
) {
    if p < *from || !E::escape_at(hay, p) {
        return;
    }
    let lo = p.saturating_sub(MAX_RUN + 1);
    let mut s = p;
    while s > lo && E::in_run(hay, s - 1) {
        s -= 1;
    }
    let hi = (s + MAX_RUN + 1).min(hay.len());
    let mut e = p + 1;
    while e < hi && E::in_run(hay, e) {
        e += 1;
    }
    // Later escapes up to `e` lie in this run (or in its overlong stretch).
    *from = e;
    let overlong = p - s > MAX_RUN || e - s > MAX_RUN;
    if overlong || s < starts.start || s >= starts.end || e - s < E::MIN_RUN {
        return;
    }
    if !E::delimited(hay, s, e) {
        return;
    }
    out.push(s..e);
}

/// The value of a hex digit.
pub(super) fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Printable ASCII or whitespace: what secrets and the text around them are made of.
pub(super) fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t'
}

/// Whether decoded text is worth scanning: at least 8 bytes, at least 90% of them printable.
pub(super) fn worth_scanning(decoded: &[u8]) -> bool {
    decoded.len() >= 8
        && decoded.iter().filter(|&&b| printable(b)).count() * 10 >= decoded.len() * 9
}

/// Appends the UTF-8 encoding of `c` to `out`, with each byte mapped to `at`.
pub(super) fn push_char(c: char, at: usize, out: &mut Vec<u8>, map: &mut Vec<u32>) {
    let mut buf = [0u8; 4];
    for &b in c.encode_utf8(&mut buf).as_bytes() {
        out.push(b);
        map.push(at as u32);
    }
}
