//! The lexer of the CEL subset: source text to tokens (names, numbers, strings, punctuation),
//! each with its byte span so that a disjunct can be quoted exactly in a warning.
//!
//! Strings follow CEL: `"..."`, `'...'`, their tripled forms, `r"raw"` and backticks, with CEL's
//! escapes; numbers are decimal, `0x` hexadecimal (optional `u`) or floats. `//` comments and
//! whitespace are skipped. Anything else is a [`SyntaxError`] naming the byte offset.

use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Punct(&'static str),
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) span: Range<usize>,
}

/// Longest first, so `<=` is not read as `<` then `=`.
const PUNCT: &[&str] = &[
    "&&", "||", "??", "<=", ">=", "==", "!=", "(", ")", "[", "]", "{", "}", ",", ".", "!", "<",
    ">", "?", ":", ";", "=", "+", "-", "*", "/", "%",
];

#[derive(Debug)]
pub(super) struct SyntaxError {
    pub(super) at: usize,
    pub(super) message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.message, self.at)
    }
}

pub(super) fn err<T>(at: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        at,
        message: message.into(),
    })
}

pub(super) fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if src[i..].starts_with("//") {
            i = src[i..].find('\n').map_or(b.len(), |n| i + n + 1);
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' {
            let len = b[i..]
                .iter()
                .take_while(|x| x.is_ascii_alphanumeric() || **x == b'_')
                .count();
            let word = &src[i..i + len];
            // String prefixes: r"raw", b"bytes".
            if matches!(b.get(i + len), Some(b'"' | b'\'')) && len == 1 {
                match word {
                    "r" | "R" => {
                        let (s, end) = quoted(src, i + 1, true)?;
                        out.push(Token {
                            tok: Tok::Str(s),
                            span: start..end,
                        });
                        i = end;
                        continue;
                    }
                    "b" | "B" => return err(i, "bytes literals are not supported"),
                    _ => {}
                }
            }
            out.push(Token {
                tok: Tok::Ident(word.to_owned()),
                span: start..i + len,
            });
            i += len;
            continue;
        }
        if c.is_ascii_digit() {
            let (n, end) = number(src, i)?;
            out.push(Token {
                tok: Tok::Num(n),
                span: start..end,
            });
            i = end;
            continue;
        }
        if c == b'"' || c == b'\'' {
            let (s, end) = quoted(src, i, false)?;
            out.push(Token {
                tok: Tok::Str(s),
                span: start..end,
            });
            i = end;
            continue;
        }
        if c == b'`' {
            // Raw string between backticks (no escapes).
            let Some(n) = src[i + 1..].find('`') else {
                return err(i, "unterminated `...` string");
            };
            out.push(Token {
                tok: Tok::Str(src[i + 1..i + 1 + n].to_owned()),
                span: start..i + n + 2,
            });
            i += n + 2;
            continue;
        }
        match PUNCT.iter().find(|p| src[i..].starts_with(**p)) {
            Some(p) => {
                out.push(Token {
                    tok: Tok::Punct(p),
                    span: start..i + p.len(),
                });
                i += p.len();
            }
            None => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return err(i, format!("unexpected character {ch:?}"));
            }
        }
    }
    Ok(out)
}

/// A CEL number: decimal or `0x` integer (optional `u`), or a float with `.` and/or exponent.
fn number(src: &str, start: usize) -> Result<(f64, usize), SyntaxError> {
    let b = src.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|x| x.is_ascii_digit()).count();
    if src[start..].starts_with("0x") || src[start..].starts_with("0X") {
        let len = b[start + 2..]
            .iter()
            .take_while(|x| x.is_ascii_hexdigit())
            .count();
        let Ok(v) = u64::from_str_radix(&src[start + 2..start + 2 + len], 16) else {
            return err(start, "invalid hexadecimal number");
        };
        let mut end = start + 2 + len;
        if matches!(b.get(end), Some(b'u' | b'U')) {
            end += 1;
        }
        return Ok((v as f64, end));
    }
    let mut end = start + digits(start);
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1 + digits(end + 1);
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(end + 1), Some(b'+' | b'-')));
        let exp = digits(end + 1 + sign);
        if exp == 0 {
            return err(end, "invalid exponent");
        }
        end += 1 + sign + exp;
    }
    let text = &src[start..end];
    let Ok(v) = text.parse::<f64>() else {
        return err(start, format!("invalid number {text:?}"));
    };
    if matches!(b.get(end), Some(b'u' | b'U')) && !text.contains(['.', 'e', 'E']) {
        end += 1;
    }
    Ok((v, end))
}

/// A quoted string starting at `start` (`"`, `'`, or their tripled forms), with CEL's escapes
/// unless `raw`. Returns the value and the end offset.
fn quoted(src: &str, start: usize, raw: bool) -> Result<(String, usize), SyntaxError> {
    let q = &src[start..start + 1];
    let triple = q.repeat(3);
    let (delim, body_start) = if src[start..].starts_with(&triple) {
        (triple.as_str(), start + 3)
    } else {
        (q, start + 1)
    };
    let mut out = String::new();
    let mut i = body_start;
    loop {
        let Some(c) = src[i..].chars().next() else {
            return err(start, "unterminated string");
        };
        if src[i..].starts_with(delim) {
            return Ok((out, i + delim.len()));
        }
        if (c == '\n' || c == '\r') && delim.len() == 1 {
            return err(i, "newline in a string");
        }
        if c != '\\' || raw {
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let Some(e) = src[i + 1..].chars().next() else {
            return err(i, "unterminated escape");
        };
        let simple = match e {
            '\\' => Some('\\'),
            '"' => Some('"'),
            '\'' => Some('\''),
            '`' => Some('`'),
            '?' => Some('?'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            i += 2;
            continue;
        }
        let (radix, len, skip) = match e {
            'x' | 'X' => (16, 2, 2),
            'u' => (16, 4, 2),
            'U' => (16, 8, 2),
            '0'..='3' => (8, 3, 1),
            _ => return err(i, format!("invalid escape \\{e}")),
        };
        let digits = src.get(i + skip..i + skip + len).unwrap_or("");
        let code = u32::from_str_radix(digits, radix)
            .ok()
            .filter(|_| digits.len() == len && digits.bytes().all(|d| (d as char).is_digit(radix)));
        match code.and_then(char::from_u32) {
            Some(ch) => out.push(ch),
            None => return err(i, format!("invalid escape \\{e}{digits}")),
        }
        i += skip + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_follow_cel_escapes() {
        let toks = tokenize(r#""a\\b\"c\x41\u00e9\101" `x\y` r"\d" '\'' """t"q""""#).unwrap();
        let strs: Vec<_> = toks
            .into_iter()
            .map(|t| match t.tok {
                Tok::Str(s) => s,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(strs, ["a\\b\"cAéA", "x\\y", "\\d", "'", "t\"q"]);
        assert!(tokenize(r#""\q""#).is_err());
        assert!(tokenize(r#""open"#).is_err());
        assert!(tokenize("`open").is_err());
        assert!(tokenize("\"\\u12\"").is_err());
    }
}
