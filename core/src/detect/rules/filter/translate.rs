//! The meaning of a parsed expression: each top-level disjunct becomes an entropy threshold or
//! an allowlist when it has an exact equivalent (see the table in the parent module), else the
//! reason it is ignored.
//!
//! A disjunct is translated whole or not at all: a conjunction becomes one AND allowlist only
//! when every part is understood and each kind of criterion occurs once; a negation, a `let`
//! bound value or an unknown function makes the disjunct ignored.

use super::parser::{Ex, Node, conjuncts};
use super::{CheckPattern, Scope, excerpt};
use crate::detect::rules::{AllowCondition, Allowlist, RegexTarget};

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

pub(super) enum Applied {
    Entropy(f64),
    Allow(Allowlist),
    /// A condition that is never true (nothing to apply, nothing lost).
    Nothing,
}

/// Why a disjunct is ignored; the caller adds that ignoring it can only report more.
type Why = String;

const NEGATED: &str =
    "a negated condition (drop when something does NOT hold) has no allowlist equivalent";

pub(super) struct Translator<'a> {
    pub(super) source: &'a str,
    pub(super) scope: Scope,
    pub(super) check: CheckPattern<'a>,
    pub(super) bindings: &'a [String],
}

impl Translator<'_> {
    fn text(&self, node: &Node) -> String {
        excerpt(self.source.get(node.span.clone()).unwrap_or(""))
    }

    /// What one top-level disjunct becomes, or why it is ignored.
    pub(super) fn disjunct(&self, node: &Node) -> Result<Applied, Why> {
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
