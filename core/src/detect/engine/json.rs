//! Finds runs of JSON string content with backslash escapes (`\/`, `\"`, `\\`, `\n`, `\uXXXX`,
//! ...) and decodes them: a PEM key pasted into a JSON string with `\n`, a URL written
//! `https:\/\/user:pass@host`, a JSON document stringified inside another.
//!
//! A run is a maximal sequence of string-content bytes (printable ASCII but `"`, and bytes of
//! UTF-8 sequences), where a `"` right after a backslash counts as content (it is escaped, or
//! the string ends after an escaped backslash: the run then goes on to the next unescaped `"`,
//! harmlessly), with a `"` on each side. Membership reads one byte back, so runs are defined
//! by the bytes alone.

use super::runs::{self, hex};

/// Shorter runs cannot hold a secret worth decoding (`"\n"`, `"%s\n"` are short).
pub(crate) const MIN_RUN: usize = 16;

const fn class_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b >= 0x20 && b != 0x7f && b != b'"' as usize) || b >= 0x80;
        b += 1;
    }
    t
}
static IS_CONTENT: [bool; 256] = class_table();

/// The four hex digits of a `\uXXXX` escape whose `u` is at `at`.
fn unit(hay: &[u8], at: usize) -> Option<u32> {
    let d = hay.get(at + 1..at + 5)?;
    d.iter()
        .try_fold(0u32, |acc, &b| Some(acc << 4 | u32::from(hex(b)?)))
}

/// The JSON layer's escapes: `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`.
pub(super) struct JsonEscapes;

impl runs::Escapes for JsonEscapes {
    const NEEDLE: u8 = b'\\';
    const MIN_RUN: usize = MIN_RUN;

    fn in_run(hay: &[u8], i: usize) -> bool {
        IS_CONTENT[usize::from(hay[i])] || (hay[i] == b'"' && i > 0 && hay[i - 1] == b'\\')
    }

    fn escape_at(hay: &[u8], p: usize) -> bool {
        match hay.get(p + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => true,
            Some(b'u') => unit(hay, p + 1).is_some(),
            _ => false,
        }
    }

    /// A JSON string is quoted: a run that does not start and end at a `"` is code or text
    /// with an escape in it (`c == '\n'`), not a string. And its escapes must change more than
    /// whitespace at its ends ([`escapes_inside`]).
    fn delimited(hay: &[u8], s: usize, e: usize) -> bool {
        s > 0 && hay[s - 1] == b'"' && hay.get(e) == Some(&b'"') && escapes_inside(&hay[s..e])
    }
}

/// Whether decoding `run` changes more than whitespace at its ends: it has an escape other than
/// `\n`, `\r`, `\t`, or one of those between text. `"usage: %s\n"` decodes to the text the raw
/// scan saw followed by a newline, which holds nothing new, and such strings are most of the
/// escapes in C, shell or Python sources.
fn escapes_inside(run: &[u8]) -> bool {
    let is_text = |seg: &[u8]| seg.iter().any(|b| !b.is_ascii_whitespace());
    // Text seen so far; a whitespace escape seen after text (it counts once text follows).
    let (mut text, mut ws_escape) = (false, false);
    let mut i = 0;
    loop {
        let next = memchr::memchr(b'\\', &run[i..]).map_or(run.len(), |q| i + q);
        if is_text(&run[i..next]) {
            if ws_escape {
                return true;
            }
            text = true;
        }
        match run.get(next + 1) {
            None => return false,
            Some(b'n' | b'r' | b't') => ws_escape |= text,
            Some(_) if <JsonEscapes as runs::Escapes>::escape_at(run, next) => return true,
            // Not an escape (`\x`, `\uZZ`): it stays as written, text.
            Some(_) if ws_escape => return true,
            Some(_) => text = true,
        }
        i = next + 2;
    }
}

/// Decodes the escapes of `run` into `out` (`map`: for each decoded byte, the offset in the run
/// of what it came from; then the run's length). Invalid escapes stay as written; a `\u`
/// surrogate pair becomes one character, a lone surrogate U+FFFD. True when the result is
/// mostly printable text and differs from the input.
pub(super) fn decode(run: &[u8], out: &mut Vec<u8>, map: &mut Vec<u32>) -> bool {
    out.clear();
    map.clear();
    let mut i = 0;
    let mut changed = false;
    while i < run.len() {
        let b = run[i];
        let simple = match run.get(i + 1) {
            Some(_) if b != b'\\' => None,
            Some(b'"') => Some(b'"'),
            Some(b'\\') => Some(b'\\'),
            Some(b'/') => Some(b'/'),
            Some(b'b') => Some(0x08),
            Some(b'f') => Some(0x0c),
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            map.push(i as u32);
            i += 2;
            changed = true;
        } else if b == b'\\'
            && run.get(i + 1) == Some(&b'u')
            && let Some(u) = unit(run, i + 1)
        {
            let (c, len) = match u {
                0xD800..=0xDBFF => match run
                    .get(i + 6..i + 8)
                    .filter(|x| *x == b"\\u")
                    .and_then(|_| unit(run, i + 7))
                {
                    Some(lo @ 0xDC00..=0xDFFF) => (
                        char::from_u32(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)),
                        12,
                    ),
                    _ => (None, 6),
                },
                _ => (char::from_u32(u), 6),
            };
            runs::push_char(c.unwrap_or('\u{FFFD}'), i, out, map);
            i += len;
            changed = true;
        } else {
            out.push(b);
            map.push(i as u32);
            i += 1;
        }
    }
    map.push(run.len() as u32);
    changed && runs::worth_scanning(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(s: &str) -> Option<String> {
        let (mut out, mut map) = (Vec::new(), Vec::new());
        decode(s.as_bytes(), &mut out, &mut map).then(|| {
            assert_eq!(map.len(), out.len() + 1);
            String::from_utf8_lossy(&out).into_owned()
        })
    }

    #[test]
    fn escapes_decode_and_invalid_ones_stay() {
        assert_eq!(
            decoded(r#"https:\/\/u:p@h \"q\" a\\b\tc\u0041\x"#).as_deref(),
            Some("https://u:p@h \"q\" a\\b\tcA\\x")
        );
        // Non-ASCII characters count against the 90% printable.
        assert_eq!(
            decoded(r"a pair of surrogates \ud83d\ude00 is one character").as_deref(),
            Some("a pair of surrogates \u{1F600} is one character")
        );
        assert_eq!(
            decoded(r"a lone surrogate \ud800 is a replacement character").as_deref(),
            Some("a lone surrogate \u{FFFD} is a replacement character")
        );
        assert_eq!(decoded("no escapes at all here"), None);
    }

    #[test]
    fn whitespace_escapes_count_only_between_text() {
        // A C or shell string with newlines at its ends decodes to nothing the raw scan missed.
        assert!(!escapes_inside(br"usage: git frobnicate [<options>]\n"));
        assert!(!escapes_inside(br"\n\t[GNUPG:] EXPKEYSIG \r\n"));
        assert!(!escapes_inside(br"not an escape \x, then a newline\n"));
        // Between text they split lines (a PEM body), so the text is decoded.
        assert!(escapes_inside(br"-----BEGIN KEY-----\nAAAA\n"));
        assert!(escapes_inside(br"password:\t  hunter2-and-more"));
        assert!(escapes_inside(br"\n  a\n\x"));
        // Any other escape changes the text.
        assert!(escapes_inside(br"https:\/\/u:p@h"));
        assert!(escapes_inside(br#"say \"hi\"\n"#));
        assert!(escapes_inside(br"\u0067hp_"));
        assert!(!escapes_inside(br"\uZZ is not an escape\n"));
        let hay =
            br#"x = "usage: frobnicate <file>\n"; y = "{\"password\": \"hunter2-and-more\"}""#;
        let (mut out, mut percent, mut entity) = (Vec::new(), Vec::new(), Vec::new());
        runs::find_runs(hay, 0..hay.len(), &mut percent, &mut out, &mut entity);
        let got: Vec<_> = out.iter().map(|r| &hay[r.clone()]).collect();
        assert_eq!(got, [&br#"{\"password\": \"hunter2-and-more\"}"#[..]]);
    }

    #[test]
    fn runs_end_at_unescaped_quotes() {
        let hay = br#"{"k": "-----BEGIN KEY-----\nAAAA\n", "u": "https:\/\/a:b@c.d", "x": "\n"}"#;
        let (mut out, mut percent, mut entity) = (Vec::new(), Vec::new(), Vec::new());
        runs::find_runs(hay, 0..hay.len(), &mut percent, &mut out, &mut entity);
        let got: Vec<_> = out.iter().map(|r| &hay[r.clone()]).collect();
        assert_eq!(
            got,
            [&br"-----BEGIN KEY-----\nAAAA\n"[..], br"https:\/\/a:b@c.d"]
        );
    }
}
