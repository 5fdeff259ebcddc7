//! Finds percent-encoded runs worth decoding (`%XX` escapes in URLs, form data, query strings)
//! and decodes them.
//!
//! A run is a maximal sequence of URL bytes (unreserved, reserved and `%`) of at most
//! `runs::MAX_RUN` bytes that holds at least one valid `%XX` escape (found by
//! [`runs::find_runs`]). Like base64 runs, runs are defined by the bytes alone, so they do not
//! depend on where a window was cut.

use super::runs::{self, hex};

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

/// The percent layer's escapes: `%XX`.
pub(super) struct PercentEscapes;

impl runs::Escapes for PercentEscapes {
    const NEEDLE: u8 = b'%';
    const MIN_RUN: usize = MIN_RUN;

    fn in_run(hay: &[u8], i: usize) -> bool {
        IS_URL[usize::from(hay[i])]
    }

    fn escape_at(hay: &[u8], p: usize) -> bool {
        p + 2 < hay.len() && hex(hay[p + 1]).is_some() && hex(hay[p + 2]).is_some()
    }
}

/// Decodes `%XX` escapes of `run` into `out` (`map`: for each decoded byte, its offset in the
/// run; then the run's length); true when the result is mostly printable text and differs from
/// the input.
pub(super) fn decode(run: &[u8], out: &mut Vec<u8>, map: &mut Vec<u32>) -> bool {
    out.clear();
    map.clear();
    let mut i = 0;
    let mut changed = false;
    while i < run.len() {
        map.push(i as u32);
        if run[i] == b'%'
            && i + 2 < run.len()
            && let (Some(h), Some(l)) = (hex(run[i + 1]), hex(run[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            changed = true;
        } else {
            out.push(run[i]);
            i += 1;
        }
    }
    map.push(run.len() as u32);
    changed && runs::worth_scanning(out)
}
