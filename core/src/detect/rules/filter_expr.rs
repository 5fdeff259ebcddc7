//! Betterleaks' CEL filters (`filter` on a rule or at the top level, top-level `prefilter`):
//! the part that has an exact equivalent in our rules format, translated into it.
//!
//! Betterleaks (a gitleaks fork) drops a finding when its rule's `filter` or the top-level
//! `filter` (a CEL expression over `finding` and `attributes`) is true, and does not scan a file
//! when the top-level `prefilter` (over `attributes`) is true. We do not evaluate CEL. The
//! expression is parsed (a CEL subset wide enough for every expression of betterleaks' default
//! config, `let` bindings and `//` comments included), split into its top-level disjuncts
//! (`a || b || (c || d)`: drop when any holds) and each disjunct with an exact equivalent becomes
//! that equivalent:
//!
//! | disjunct | becomes |
//! |---|---|
//! | `[filter.]entropy(finding["secret"]) <= N` | entropy threshold `N` (the engine drops `entropy <= max`, as gitleaks) |
//! | `[filter.]entropy(finding["secret"]) < N` | threshold `next_down(N)`: for every `f64` `e`, `e <= next_down(N)` iff `e < N`, so exact |
//! | `[filter.]matchesAny(finding["secret"\|"match"\|"line"], [re, ...])` | an allowlist with those `regexes` and `regexTarget` |
//! | `[filter.]matchesAny(PATH, [re, ...])` | an allowlist with those `paths` |
//! | `[filter.]containsAny(finding["secret"], [word, ...])` | an allowlist with those `stopwords` |
//! | `[filter.]containsAny(finding["match"\|"line"] or PATH, [word, ...])` | regexes matching the words |
//! | `a && b && ...` of the above, at most one regex list, one path list, one word list | one allowlist with condition AND |
//!
//! where PATH is `attributes["path"]`, `attributes.path`, `(attributes["path"] ?? "")` or
//! `get(attributes, "path", "")`. Several entropy disjuncts keep the largest threshold; the caller
//! also keeps the larger of it and the rule's `entropy` key.
//!
//! Anything else makes its whole disjunct ignored, and the caller warns naming it: a disjunct is
//! a condition for dropping findings, so ignoring it can only report more findings, never fewer.
//! A part of a disjunct is never applied alone (`a && !b` is not `a`). A negated disjunct (`!x`:
//! drop when x does not hold) has no allowlist equivalent, nor do `let` bound values, other
//! functions (`failsTokenEfficiency`, `len`, ...) and other `finding` fields.
//!
//! Betterleaks' own semantics followed here: `matchesAny` joins its patterns into one regex, and
//! a pattern that does not compile makes the whole call false, so a list with a pattern we
//! cannot compile is ignored as a whole. `containsAny` lowercases the text and searches the words
//! as written, so a word with an uppercase letter never matches and is left out (as is an empty
//! word); the remaining words are lowercase, which our stopwords compare ASCII-case-insensitively,
//! the same thing for ASCII text. Patterns are Go RE2 syntax and pass through the same
//! compatibility layer as the rest of the file.

use std::ops::Range;

use super::{AllowCondition, Allowlist, RegexTarget};

/// Which expression is being translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// A rule's `filter`: allowlists for that rule.
    Rule,
    /// The top-level `filter`: global allowlists, and an entropy threshold for every rule.
    Global,
    /// The top-level `prefilter`: `attributes` only; path conditions become global path
    /// allowlists (dropping every finding of a file is, for the results, not scanning it).
    Prefilter,
}

/// What an expression became.
#[derive(Debug, Default)]
pub(super) struct Translation {
    /// Drop a finding whose secret has a lower entropy (the engine's `entropy < min`).
    pub entropy: Option<f64>,
    pub allowlists: Vec<Allowlist>,
    /// The parts not applied: `(the source text, shortened; why)`. When the expression did not
    /// parse, one entry holds the whole expression.
    pub ignored: Vec<(String, String)>,
    /// How many top-level disjuncts the expression has (0 when it did not parse).
    pub terms: usize,
}

/// Validates one pattern (Go syntax) and returns the pattern the engine compiles.
pub(super) type CheckPattern<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Translates `source`; never fails: what is not understood is listed in `ignored`.
pub(super) fn translate(source: &str, scope: Scope, check: CheckPattern<'_>) -> Translation {
    let mut out = Translation::default();
    let program = match Parser::new(source).and_then(|mut p| p.program()) {
        Ok(p) => p,
        Err(e) => {
            out.ignored.push((
                excerpt(source),
                format!("not understood ({e}): the whole expression is ignored"),
            ));
            return out;
        }
    };
    if let Some(name) = program
        .bindings
        .iter()
        .find(|b| matches!(b.as_str(), "finding" | "attributes" | "filter"))
    {
        out.ignored.push((
            excerpt(source),
            format!("`let {name}` rebinds a name the translation relies on: the whole expression is ignored"),
        ));
        return out;
    }
    let tr = Translator {
        source,
        scope,
        check,
        bindings: &program.bindings,
    };
    let mut terms = Vec::new();
    disjuncts(&program.body, &mut terms);
    out.terms = terms.len();
    for term in terms {
        match tr.disjunct(term) {
            Ok(Applied::Entropy(t)) => {
                out.entropy = Some(out.entropy.map_or(t, |e: f64| e.max(t)));
            }
            Ok(Applied::Allow(al)) => out.allowlists.push(al),
            Ok(Applied::Nothing) => {}
            Err(why) => out
                .ignored
                .push((excerpt(source.get(term.span.clone()).unwrap_or("")), why)),
        }
    }
    out
}

/// The source text of a term on one line, shortened for a message.
fn excerpt(text: &str) -> String {
    const MAX: usize = 100;
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        return one_line;
    }
    let mut s: String = one_line.chars().take(MAX).collect();
    s.push_str("...");
    s
}

// ---------------------------------------------------------------------------------------------
// Syntax: tokens and a tree. Every construct is parsed (so a disjunct we do not translate is
// still delimited exactly); only some have a meaning below.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Punct(&'static str),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    span: Range<usize>,
}

/// Longest first, so `<=` is not read as `<` then `=`.
const PUNCT: &[&str] = &[
    "&&", "||", "??", "<=", ">=", "==", "!=", "(", ")", "[", "]", "{", "}", ",", ".", "!", "<",
    ">", "?", ":", ";", "=", "+", "-", "*", "/", "%",
];

#[derive(Debug)]
struct SyntaxError {
    at: usize,
    message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.message, self.at)
    }
}

fn err<T>(at: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        at,
        message: message.into(),
    })
}

fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
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

#[derive(Clone, Debug)]
enum Ex {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Cmp(Box<Node>, &'static str, Box<Node>),
    /// `name(args)` or `recv.name(args)`.
    Call {
        recv: Option<Box<Node>>,
        name: String,
        args: Vec<Node>,
    },
    Ident(String),
    /// `x.field`.
    Select(Box<Node>, String),
    /// `x[key]`.
    Index(Box<Node>, Box<Node>),
    Str(String),
    Num(f64),
    List(Vec<Node>),
    /// `x ?? default`.
    Coalesce(Box<Node>, Box<Node>),
    /// Parsed, without a meaning here (arithmetic, `?:`, maps, slices, literals, `in`).
    Other(&'static str),
}

#[derive(Clone, Debug)]
struct Node {
    ex: Ex,
    span: Range<usize>,
    /// 1 for a leaf.
    height: usize,
}

struct Program {
    /// Names bound with `let name = ...;` before the expression.
    bindings: Vec<String>,
    body: Node,
}

/// Deeper nesting (of the parser's recursion and of the tree) is refused: a bound on recursion
/// for hostile input.
const MAX_DEPTH: usize = 200;

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    len: usize,
}

impl Parser {
    fn new(src: &str) -> Result<Parser, SyntaxError> {
        Ok(Parser {
            toks: tokenize(src)?,
            pos: 0,
            depth: 0,
            len: src.len(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }
    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|t| &t.tok)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.span.start)
    }
    fn end_of_prev(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.toks.get(p))
            .map_or(0, |t| t.span.end)
    }
    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }
    fn eat(&mut self, p: &str) -> bool {
        let hit = self.is(p);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn expect(&mut self, p: &str) -> Result<(), SyntaxError> {
        if self.eat(p) {
            Ok(())
        } else {
            err(self.at(), format!("expected `{p}`"))
        }
    }
    /// A node over the tokens from `start` to the last one read. Its height is bounded, so that
    /// walking or dropping a tree never recurses deeply (`a.b.c...` nests without recursion).
    fn node(&self, ex: Ex, start: usize) -> Result<Node, SyntaxError> {
        let below = match &ex {
            Ex::Or(v) | Ex::And(v) | Ex::List(v) => v.iter().map(|n| n.height).max().unwrap_or(0),
            Ex::Not(a) | Ex::Select(a, _) => a.height,
            Ex::Cmp(a, _, b) | Ex::Index(a, b) | Ex::Coalesce(a, b) => a.height.max(b.height),
            Ex::Call { recv, args, .. } => args
                .iter()
                .chain(recv.as_deref())
                .map(|n| n.height)
                .max()
                .unwrap_or(0),
            Ex::Ident(_) | Ex::Str(_) | Ex::Num(_) | Ex::Other(_) => 0,
        };
        if below >= MAX_DEPTH {
            return err(start, "nested too deeply");
        }
        Ok(Node {
            ex,
            span: start..self.end_of_prev(),
            height: below + 1,
        })
    }

    fn program(&mut self) -> Result<Program, SyntaxError> {
        let mut bindings = Vec::new();
        while matches!(self.peek(), Some(Tok::Ident(k)) if k == "let")
            && matches!(self.peek_at(1), Some(Tok::Ident(_)))
            && matches!(self.peek_at(2), Some(Tok::Punct("=")))
        {
            let name = match self.peek_at(1) {
                Some(Tok::Ident(n)) => n.clone(),
                _ => String::new(),
            };
            self.pos += 3;
            self.expr()?;
            self.expect(";")?;
            bindings.push(name);
        }
        let body = self.expr()?;
        if self.pos < self.toks.len() {
            return err(self.at(), "unexpected text after the expression");
        }
        Ok(Program { bindings, body })
    }

    fn expr(&mut self) -> Result<Node, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(self.at(), "nested too deeply");
        }
        let start = self.at();
        let cond = self.coalesce()?;
        let out = if self.eat("?") {
            self.coalesce()?;
            self.expect(":")?;
            self.expr()?;
            self.node(Ex::Other("a conditional `?:`"), start)?
        } else {
            cond
        };
        self.depth -= 1;
        Ok(out)
    }

    fn coalesce(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.or()?;
        while self.eat("??") {
            let rhs = self.or()?;
            lhs = self.node(Ex::Coalesce(Box::new(lhs), Box::new(rhs)), start)?;
        }
        Ok(lhs)
    }

    fn or(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut items = vec![self.and()?];
        while self.eat("||") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            self.node(Ex::Or(items), start)?
        })
    }

    fn and(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut items = vec![self.relation()?];
        while self.eat("&&") {
            items.push(self.relation()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            self.node(Ex::And(items), start)?
        })
    }

    fn relation(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.additive()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Punct(p @ ("<" | "<=" | ">" | ">=" | "==" | "!="))) => *p,
                Some(Tok::Ident(k)) if k == "in" => "in",
                _ => return Ok(lhs),
            };
            self.pos += 1;
            let rhs = self.additive()?;
            lhs = self.node(Ex::Cmp(Box::new(lhs), op, Box::new(rhs)), start)?;
        }
    }

    fn additive(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.multiplicative()?;
        while self.eat("+") || self.eat("-") {
            self.multiplicative()?;
            lhs = self.node(Ex::Other("arithmetic"), start)?;
        }
        Ok(lhs)
    }

    fn multiplicative(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.unary()?;
        while self.eat("*") || self.eat("/") || self.eat("%") {
            self.unary()?;
            lhs = self.node(Ex::Other("arithmetic"), start)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(start, "nested too deeply");
        }
        let out = if self.eat("!") {
            let inner = self.unary()?;
            self.node(Ex::Not(Box::new(inner)), start)?
        } else if self.eat("-") {
            let inner = self.unary()?;
            let ex = match inner.ex {
                Ex::Num(n) => Ex::Num(-n),
                _ => Ex::Other("arithmetic"),
            };
            self.node(ex, start)?
        } else {
            self.member()?
        };
        self.depth -= 1;
        Ok(out)
    }

    fn member(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let mut lhs = self.primary()?;
        loop {
            if self.eat(".") {
                let Some(Tok::Ident(name)) = self.peek().cloned() else {
                    return err(self.at(), "expected a name after `.`");
                };
                self.pos += 1;
                if self.eat("(") {
                    let args = self.args(")")?;
                    lhs = self.node(
                        Ex::Call {
                            recv: Some(Box::new(lhs)),
                            name,
                            args,
                        },
                        start,
                    )?;
                } else {
                    lhs = self.node(Ex::Select(Box::new(lhs), name), start)?;
                }
            } else if self.eat("[") {
                let key = if self.is(":") {
                    None
                } else {
                    Some(self.expr()?)
                };
                if self.eat(":") {
                    if !self.is("]") {
                        self.expr()?;
                    }
                    self.expect("]")?;
                    lhs = self.node(Ex::Other("a slice"), start)?;
                } else {
                    self.expect("]")?;
                    let Some(key) = key else {
                        return err(self.at(), "expected an index");
                    };
                    lhs = self.node(Ex::Index(Box::new(lhs), Box::new(key)), start)?;
                }
            } else {
                return Ok(lhs);
            }
        }
    }

    /// Comma-separated expressions up to `close` (a trailing comma is allowed).
    fn args(&mut self, close: &str) -> Result<Vec<Node>, SyntaxError> {
        let mut out = Vec::new();
        while !self.eat(close) {
            out.push(self.expr()?);
            if !self.eat(",") {
                self.expect(close)?;
                break;
            }
        }
        Ok(out)
    }

    fn primary(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at();
        let Some(tok) = self.peek().cloned() else {
            return err(start, "unexpected end of the expression");
        };
        self.pos += 1;
        let ex = match tok {
            Tok::Num(n) => Ex::Num(n),
            Tok::Str(s) => Ex::Str(s),
            Tok::Ident(k) if matches!(k.as_str(), "true" | "false" | "null") => {
                Ex::Other("a literal")
            }
            Tok::Ident(name) => {
                if self.eat("(") {
                    let args = self.args(")")?;
                    Ex::Call {
                        recv: None,
                        name,
                        args,
                    }
                } else {
                    Ex::Ident(name)
                }
            }
            Tok::Punct("(") => {
                // Parentheses only group: the inner node keeps its own span.
                let inner = self.expr()?;
                self.expect(")")?;
                return Ok(inner);
            }
            Tok::Punct("[") => Ex::List(self.args("]")?),
            Tok::Punct("{") => {
                while !self.eat("}") {
                    self.expr()?;
                    self.expect(":")?;
                    self.expr()?;
                    if !self.eat(",") {
                        self.expect("}")?;
                        break;
                    }
                }
                Ex::Other("a map")
            }
            Tok::Punct(p) => return err(start, format!("unexpected `{p}`")),
        };
        self.node(ex, start)
    }
}

/// The top-level disjuncts of `node` (nested `||` flattened, parentheses being transparent).
fn disjuncts<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    match &node.ex {
        Ex::Or(items) => items.iter().for_each(|n| disjuncts(n, out)),
        _ => out.push(node),
    }
}

fn conjuncts<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    match &node.ex {
        Ex::And(items) => items.iter().for_each(|n| conjuncts(n, out)),
        _ => out.push(node),
    }
}

// ---------------------------------------------------------------------------------------------
// Meaning.

/// What a text-valued argument is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    Finding(RegexTarget),
    Path,
}

/// One understood condition.
enum Atom {
    /// Drop when the secret's entropy is below this (the engine's comparison).
    EntropyBelow(f64),
    Regexes(Subject, Vec<String>),
    /// Lowercase words searched in the secret.
    Words(Vec<String>),
}

enum Applied {
    Entropy(f64),
    Allow(Allowlist),
    /// A condition that is never true (nothing to apply, nothing lost).
    Nothing,
}

/// Why a disjunct is ignored; the caller adds that ignoring it can only report more.
type Why = String;

const NEGATED: &str =
    "a negated condition (drop when something does NOT hold) has no allowlist equivalent";

struct Translator<'a> {
    source: &'a str,
    scope: Scope,
    check: CheckPattern<'a>,
    bindings: &'a [String],
}

impl Translator<'_> {
    fn text(&self, node: &Node) -> String {
        excerpt(self.source.get(node.span.clone()).unwrap_or(""))
    }

    fn disjunct(&self, node: &Node) -> Result<Applied, Why> {
        match &node.ex {
            Ex::And(_) => {
                let mut parts = Vec::new();
                conjuncts(node, &mut parts);
                self.conjunction(&parts)
            }
            Ex::Not(_) => Err(NEGATED.into()),
            _ => Ok(match self.atom(node)? {
                Atom::EntropyBelow(t) if t > 0.0 => Applied::Entropy(t),
                // No entropy is below 0: never true.
                Atom::EntropyBelow(_) => Applied::Nothing,
                Atom::Regexes(subject, regexes) => {
                    let mut al = Allowlist::default();
                    put_regexes(&mut al, subject, regexes);
                    Applied::Allow(self.described(al))
                }
                Atom::Words(words) if words.is_empty() => Applied::Nothing,
                Atom::Words(words) => Applied::Allow(self.described(Allowlist {
                    stopwords: words,
                    ..Allowlist::default()
                })),
            }),
        }
    }

    fn described(&self, mut al: Allowlist) -> Allowlist {
        let key = if self.scope == Scope::Prefilter {
            "prefilter"
        } else {
            "filter"
        };
        al.description = Some(format!("betterleaks `{key}`"));
        al
    }

    /// `a && b && ...`: one AND allowlist when each kind of criterion occurs at most once.
    fn conjunction(&self, parts: &[&Node]) -> Result<Applied, Why> {
        let mut al = Allowlist {
            condition: AllowCondition::And,
            ..Allowlist::default()
        };
        let (mut content, mut path, mut words) = (false, false, false);
        for part in parts {
            match part.ex {
                Ex::Not(_) => return Err(format!("in `&&`, {NEGATED}")),
                Ex::Or(_) => return Err("a disjunction inside `&&` is not expressible".into()),
                _ => {}
            }
            let atom = self.atom(part)?;
            let clash = match atom {
                Atom::EntropyBelow(_) => {
                    return Err("an entropy condition combined with `&&` is not expressible".into());
                }
                Atom::Words(w) if w.is_empty() => return Ok(Applied::Nothing),
                Atom::Words(w) => {
                    al.stopwords = w;
                    std::mem::replace(&mut words, true)
                }
                Atom::Regexes(Subject::Path, r) => {
                    put_regexes(&mut al, Subject::Path, r);
                    std::mem::replace(&mut path, true)
                }
                Atom::Regexes(s, r) => {
                    put_regexes(&mut al, s, r);
                    std::mem::replace(&mut content, true)
                }
            };
            if clash {
                return Err(
                    "`&&` of two conditions of one kind (two pattern lists on the finding, two \
                     on the path, or two word lists) is not expressible as one allowlist"
                        .into(),
                );
            }
        }
        Ok(Applied::Allow(self.described(al)))
    }

    fn atom(&self, node: &Node) -> Result<Atom, Why> {
        match &node.ex {
            Ex::Cmp(lhs, op, rhs) => self.entropy(lhs, op, rhs),
            Ex::Call { recv, name, args } => {
                let name = self.function(recv.as_deref(), name)?;
                match (name, args.as_slice()) {
                    ("matchesAny", [subject, list]) => {
                        let subject = self.subject(subject)?;
                        let patterns = self.strings(list)?;
                        if patterns.is_empty() {
                            return Err("`matchesAny` with an empty list is never true".into());
                        }
                        let mut regexes = Vec::with_capacity(patterns.len());
                        for p in &patterns {
                            regexes.push((self.check)(p).map_err(|e| {
                                format!("pattern `{}` does not compile here ({e})", excerpt(p))
                            })?);
                        }
                        Ok(Atom::Regexes(subject, regexes))
                    }
                    ("containsAny", [subject, list]) => {
                        let subject = self.subject(subject)?;
                        // Betterleaks lowercases the text, not the words: a word with an
                        // uppercase letter never matches.
                        let words: Vec<String> = self
                            .strings(list)?
                            .into_iter()
                            .filter(|w| !w.is_empty() && *w == w.to_lowercase())
                            .collect();
                        match subject {
                            Subject::Finding(RegexTarget::Secret) => Ok(Atom::Words(words)),
                            _ if words.is_empty() => Ok(Atom::Words(words)),
                            _ => {
                                let mut regexes = Vec::with_capacity(words.len());
                                for w in &words {
                                    regexes.push((self.check)(&ascii_ci_literal(w)).map_err(
                                        |e| format!("word `{}` gives no pattern ({e})", excerpt(w)),
                                    )?);
                                }
                                Ok(Atom::Regexes(subject, regexes))
                            }
                        }
                    }
                    ("matchesAny" | "containsAny", _) => {
                        Err(format!("`{name}` expects 2 arguments"))
                    }
                    ("entropy", _) => Err("`entropy` outside a comparison".into()),
                    (other, _) => Err(format!("function `{other}` has no equivalent")),
                }
            }
            _ => Err(self.unknown(node)),
        }
    }

    /// `entropy(finding["secret"]) < N` (or `<=`, or `N > entropy(...)`, `N >= entropy(...)`).
    fn entropy(&self, lhs: &Node, op: &str, rhs: &Node) -> Result<Atom, Why> {
        let (call, op, bound) = match (&lhs.ex, &rhs.ex) {
            (_, Ex::Num(n)) => (lhs, op, *n),
            (Ex::Num(n), _) => {
                let flipped = match op {
                    ">" => "<",
                    ">=" => "<=",
                    "<" => ">",
                    "<=" => ">=",
                    other => other,
                };
                (rhs, flipped, *n)
            }
            _ => return Err("a comparison other than `entropy(finding[\"secret\"]) < N`".into()),
        };
        let Ex::Call { recv, name, args } = &call.ex else {
            return Err(self.unknown(call));
        };
        if self.function(recv.as_deref(), name)? != "entropy" {
            return Err(format!("a comparison of `{name}(...)` has no equivalent"));
        }
        match args.as_slice() {
            [arg] if self.subject(arg)? == Subject::Finding(RegexTarget::Secret) => {}
            _ => return Err("only the entropy of `finding[\"secret\"]` has an equivalent".into()),
        }
        match op {
            // e < N  <=>  e <= next_down(N), for every f64 e.
            "<" => Ok(Atom::EntropyBelow(bound.next_down())),
            "<=" => Ok(Atom::EntropyBelow(bound)),
            _ => Err(format!(
                "`entropy(...) {op} N` has no equivalent (only `<` and `<=` drop low entropy)"
            )),
        }
    }

    /// A known function's name: `name(...)` or `filter.name(...)`.
    fn function<'n>(&self, recv: Option<&Node>, name: &'n str) -> Result<&'n str, Why> {
        match recv.map(|r| &r.ex) {
            None => Ok(name),
            Some(Ex::Ident(ns)) if ns == "filter" => Ok(name),
            Some(_) => Err(format!("method `.{name}(...)` has no equivalent")),
        }
    }

    fn subject(&self, node: &Node) -> Result<Subject, Why> {
        if self.is_path(node) {
            return Ok(Subject::Path);
        }
        let field = match &node.ex {
            Ex::Index(base, key) => match (&base.ex, &key.ex) {
                (Ex::Ident(b), Ex::Str(k)) if b == "finding" => Some(k.as_str()),
                _ => None,
            },
            Ex::Select(base, k) => match &base.ex {
                Ex::Ident(b) if b == "finding" => Some(k.as_str()),
                _ => None,
            },
            _ => None,
        };
        let Some(field) = field else {
            return Err(self.unknown(node));
        };
        if self.scope == Scope::Prefilter {
            return Err("`finding` does not exist in a prefilter".into());
        }
        match field {
            "secret" => Ok(Subject::Finding(RegexTarget::Secret)),
            "match" => Ok(Subject::Finding(RegexTarget::Match)),
            "line" => Ok(Subject::Finding(RegexTarget::Line)),
            other => Err(format!("`finding[{other:?}]` has no equivalent")),
        }
    }

    /// `attributes["path"]`, `attributes.path`, `(attributes["path"] ?? "")`,
    /// `get(attributes, "path", "")`.
    fn is_path(&self, node: &Node) -> bool {
        let attributes = |n: &Node| matches!(&n.ex, Ex::Ident(a) if a == "attributes");
        match &node.ex {
            Ex::Index(base, key) => {
                attributes(base) && matches!(&key.ex, Ex::Str(k) if k == "path")
            }
            Ex::Select(base, k) => attributes(base) && k == "path",
            Ex::Coalesce(value, default) => {
                self.is_path(value) && matches!(&default.ex, Ex::Str(d) if d.is_empty())
            }
            Ex::Call { recv, name, args } => {
                self.function(recv.as_deref(), name) == Ok("get")
                    && matches!(args.as_slice(), [a, k, d]
                        if attributes(a)
                            && matches!(&k.ex, Ex::Str(k) if k == "path")
                            && matches!(&d.ex, Ex::Str(d) if d.is_empty()))
            }
            _ => false,
        }
    }

    fn strings(&self, node: &Node) -> Result<Vec<String>, Why> {
        let Ex::List(items) = &node.ex else {
            return Err(format!("`{}` is not a list of strings", self.text(node)));
        };
        items
            .iter()
            .map(|i| match &i.ex {
                Ex::Str(s) => Ok(s.clone()),
                _ => Err(format!("list element `{}` is not a string", self.text(i))),
            })
            .collect()
    }

    /// Why `node` is not understood, naming the most telling part.
    fn unknown(&self, node: &Node) -> Why {
        if let Some(name) = self.binding_used(node) {
            return format!("uses `{name}`, a `let` binding (not evaluated here)");
        }
        match &node.ex {
            Ex::Other(what) => format!("{what} has no equivalent"),
            Ex::Ident(name) => format!("unknown name `{name}`"),
            _ => format!("`{}` has no equivalent", self.text(node)),
        }
    }

    fn binding_used(&self, node: &Node) -> Option<String> {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match &n.ex {
                Ex::Ident(name) if self.bindings.contains(name) => return Some(name.clone()),
                Ex::Or(v) | Ex::And(v) | Ex::List(v) => stack.extend(v),
                Ex::Not(a) | Ex::Select(a, _) => stack.push(a),
                Ex::Cmp(a, _, b) | Ex::Index(a, b) | Ex::Coalesce(a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                Ex::Call { recv, args, .. } => {
                    stack.extend(recv.as_deref());
                    stack.extend(args);
                }
                _ => {}
            }
        }
        None
    }
}

fn put_regexes(al: &mut Allowlist, subject: Subject, regexes: Vec<String>) {
    match subject {
        Subject::Path => al.paths = regexes,
        Subject::Finding(target) => {
            al.regexes = regexes;
            al.regex_target = target;
        }
    }
}

/// A pattern matching `word` (lowercase) in text of any ASCII case, as betterleaks' containsAny
/// does after lowercasing the text.
fn ascii_ci_literal(word: &str) -> String {
    let mut out = String::with_capacity(word.len() * 2);
    for c in word.chars() {
        if c.is_ascii_alphabetic() {
            out.push('[');
            out.push(c.to_ascii_lowercase());
            out.push(c.to_ascii_uppercase());
            out.push(']');
        } else {
            out.push_str(&regex_syntax::escape(c.encode_utf8(&mut [0; 4])));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &str) -> Result<String, String> {
        regex_syntax::Parser::new()
            .parse(p)
            .map(|_| p.to_owned())
            .map_err(|e| e.to_string())
    }

    fn tr(src: &str, scope: Scope) -> Translation {
        translate(src, scope, &ok)
    }

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

    #[test]
    fn entropy_bounds_map_exactly() {
        let t = tr(r#"entropy(finding["secret"]) < 3.5"#, Scope::Rule);
        assert_eq!(t.entropy, Some(3.5f64.next_down()));
        let t = tr(r#"filter.entropy(finding["secret"]) <= 3.0"#, Scope::Rule);
        assert_eq!(t.entropy, Some(3.0));
        let t = tr(
            r#"3.0 > entropy(finding.secret) || entropy(finding["secret"]) < 2"#,
            Scope::Rule,
        );
        assert_eq!(t.entropy, Some(3.0f64.next_down()));
        assert!(t.ignored.is_empty());
        let t = tr(r#"entropy(finding["secret"]) > 3.0"#, Scope::Rule);
        assert_eq!(t.entropy, None);
        assert_eq!(t.ignored.len(), 1);
        let t = tr(r#"entropy(finding["match"]) < 3.0"#, Scope::Rule);
        assert_eq!((t.entropy, t.ignored.len()), (None, 1));
    }

    #[test]
    fn negation_conjunction_and_bindings() {
        let src = "// c\nlet ctx = finding[\"line\"];\nentropy(finding[\"secret\"]) < 3.5\n|| !matchesAny(finding[\"secret\"], [\"[0-9]\"])\n|| (matchesAny(get(attributes, \"path\", \"\"), [`\\.inc$`]) && matchesAny(finding[\"line\"], [`SRC=`]))\n|| (matchesAny(finding[\"secret\"], [`^x`]) && containsAny(ctx, [\"y\"]))\n|| failsTokenEfficiency(finding[\"secret\"])";
        let t = tr(src, Scope::Rule);
        assert_eq!(t.entropy, Some(3.5f64.next_down()));
        assert_eq!(t.allowlists.len(), 1);
        let al = &t.allowlists[0];
        assert_eq!(al.condition, AllowCondition::And);
        assert_eq!(al.paths, ["\\.inc$"]);
        assert_eq!(al.regexes, ["SRC="]);
        assert_eq!(al.regex_target, RegexTarget::Line);
        let why: Vec<_> = t.ignored.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(why.len(), 3, "{why:?}");
        assert!(why[0].contains("negated"));
        assert!(why[1].contains("`ctx`"), "{why:?}");
        assert!(why[2].contains("failsTokenEfficiency"));
        // A conjunction is never applied in part.
        let t = tr(
            r#"matchesAny(finding["secret"], [`a`]) && !matchesAny(finding["line"], [`b`])"#,
            Scope::Rule,
        );
        assert!(t.allowlists.is_empty() && t.ignored.len() == 1);
        let t = tr("let finding = 1; matchesAny(finding, [`a`])", Scope::Rule);
        assert!(t.allowlists.is_empty() && t.ignored.len() == 1);
    }

    #[test]
    fn contains_any_words() {
        let t = tr(
            r#"containsAny(finding["secret"], ["abc", "Upper", ""]) || containsAny(finding["line"], ["a.b"])"#,
            Scope::Global,
        );
        assert_eq!(t.allowlists[0].stopwords, ["abc"]);
        assert_eq!(t.allowlists[1].regexes, ["[aA]\\.[bB]"]);
        assert_eq!(t.allowlists[1].regex_target, RegexTarget::Line);
    }

    #[test]
    fn bad_input_never_panics() {
        for src in [
            "",
            "(",
            ")",
            "matchesAny(",
            "a ? b",
            "[1,2",
            "{1:2",
            "x[",
            "x.",
            "1e",
            "0x",
            "\"\\",
            "é",
            &"(".repeat(10_000),
            &"!".repeat(10_000),
            &format!("x{}", ".a".repeat(100_000)),
            &format!("x{}", "[0]".repeat(100_000)),
            &"a < ".repeat(100_000),
            &"a ?? ".repeat(100_000),
            &format!("{}x{}", "(".repeat(150), ").a".repeat(150)),
            "a[:]",
            "let x = 1",
            "let = 2; x",
        ] {
            let t = tr(src, Scope::Rule);
            assert!(t.entropy.is_none() && t.allowlists.is_empty(), "{src}");
        }
    }
}
