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
//!
//! The work is in three steps, one file each: [`lexer`] (text to tokens), [`parser`] (tokens to
//! a tree, every construct of the subset) and [`translate`] (a disjunct to its equivalent).

mod lexer;
mod parser;
mod translate;

use parser::{Parser, disjuncts};
use translate::{Applied, Translator};

use super::Allowlist;

/// Which expression is being translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::detect::rules) enum Scope {
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
pub(in crate::detect::rules) struct Translation {
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
pub(in crate::detect::rules) type CheckPattern<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Translates `source`; never fails: what is not understood is listed in `ignored`.
pub(in crate::detect::rules) fn translate(
    source: &str,
    scope: Scope,
    check: CheckPattern<'_>,
) -> Translation {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rules::{AllowCondition, RegexTarget};

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
