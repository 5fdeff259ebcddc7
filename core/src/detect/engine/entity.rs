//! Finds runs of XML/HTML text or attribute values with character entities (`&amp;`, `&quot;`,
//! `&lt;`, `&gt;`, `&apos;`, `&#47;`, `&#x2F;`) and decodes them: a connection string in a
//! `web.config` attribute, a URL in an HTML page, a PEM key with `&#10;` line ends.
//!
//! A run is a maximal sequence of text bytes (printable ASCII but `<`, `>` and `"`, tabs, and
//! bytes of UTF-8 sequences): an attribute value or the text between two tags. Runs are
//! defined by the bytes alone. Other named entities (`&nbsp;`, ...) stay as written.

use super::runs;

/// Shorter runs cannot hold a secret worth decoding.
pub(crate) const MIN_RUN: usize = 16;

const fn class_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = (b >= 0x20 && b < 0x7f && c != b'<' && c != b'>' && c != b'"')
            || c == b'\t'
            || b >= 0x80;
        b += 1;
    }
    t
}
static IS_TEXT: [bool; 256] = class_table();

/// The character and length of the entity at `hay[p..]` (`hay[p] == b'&'`), if it is one of the
/// five XML entities or a numeric reference to a character other than NUL.
fn entity(hay: &[u8], p: usize) -> Option<(char, usize)> {
    let rest = hay.get(p + 1..(p + 10).min(hay.len()))?;
    for (name, c) in [
        (&b"amp;"[..], '&'),
        (b"lt;", '<'),
        (b"gt;", '>'),
        (b"quot;", '"'),
        (b"apos;", '\''),
    ] {
        if rest.starts_with(name) {
            return Some((c, 1 + name.len()));
        }
    }
    let num = rest.strip_prefix(b"#")?;
    let (radix, digits) = match num.first() {
        Some(b'x' | b'X') => (16, &num[1..]),
        _ => (10, num),
    };
    let n = digits.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if n == 0 || n > 7 || digits.get(n) != Some(&b';') {
        return None;
    }
    let text = std::str::from_utf8(&digits[..n]).ok()?;
    let v = u32::from_str_radix(text, radix).ok()?;
    let c = char::from_u32(v).filter(|&c| c != '\0')?;
    Some((c, num.len() - digits.len() + n + 3))
}

/// The entity layer's escapes.
pub(super) struct Entities;

impl runs::Escapes for Entities {
    const NEEDLE: u8 = b'&';
    const MIN_RUN: usize = MIN_RUN;

    fn in_run(hay: &[u8], i: usize) -> bool {
        IS_TEXT[usize::from(hay[i])]
    }

    fn escape_at(hay: &[u8], p: usize) -> bool {
        // Most `&` in code are `&&`, `&mut`, `&self`: one byte tells.
        matches!(hay.get(p + 1), Some(b'a' | b'l' | b'g' | b'q' | b'#')) && entity(hay, p).is_some()
    }
}

/// Decodes the entities of `run` into `out` (`map`: for each decoded byte, the offset in the run
/// of what it came from; then the run's length). True when the result is mostly printable
/// text and differs from the input.
pub(super) fn decode(run: &[u8], out: &mut Vec<u8>, map: &mut Vec<u32>) -> bool {
    out.clear();
    map.clear();
    let mut i = 0;
    let mut changed = false;
    while i < run.len() {
        if run[i] == b'&'
            && let Some((c, len)) = entity(run, i)
        {
            runs::push_char(c, i, out, map);
            i += len;
            changed = true;
        } else {
            out.push(run[i]);
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

    #[test]
    fn entities_decode_and_others_stay() {
        let run = b"a&amp;b&lt;c&gt;&quot;d&apos;&#47;&#x2F;&#X41;&#0;&nbsp;&#xZZ;&#12345678;";
        let (mut out, mut map) = (Vec::new(), Vec::new());
        assert!(decode(run, &mut out, &mut map));
        assert_eq!(
            String::from_utf8_lossy(&out),
            "a&b<c>\"d'//A&#0;&nbsp;&#xZZ;&#12345678;"
        );
        assert_eq!(map.len(), out.len() + 1);
        assert_eq!(map[1], 1, "the & of &amp; maps to its entity");
        assert_eq!(map[2], 6);
    }
}
