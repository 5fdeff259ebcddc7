//! Walks the spanned TOML tree of a rules file into a [`RuleSet`].
//!
//! We walk `toml::de::DeTable` by hand instead of deriving serde structs so that every key we do
//! not apply can be reported (a warning naming it) and every error can carry a line number.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::filter::{self, Scope, Translation};
use super::{
    AllowCondition, Allowlist, Checksum, ChecksumFailure, RegexTarget, Rule, RuleSet, RulesError,
    RulesWarning, Shape,
};

/// Go's RE2 (gitleaks) reads a `{` that does not start a repetition (`{n}`, `{n,}`, `{n,m}`)
/// as a literal; Rust's regex rejects it. Such braces are escaped. Go's `\w`, `\d`, `\s` (and
/// negations) are ASCII classes; they are spelled out as such. Everything else is kept.
fn go_compat(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut i = 0;
    let mut class = 0usize; // nesting depth of `[...]`
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            // Go's Perl classes are ASCII-only (Rust's are Unicode, and much larger compiled).
            let ascii = match (b.get(i + 1), class > 0) {
                (Some(b'w'), false) => Some("[0-9A-Za-z_]"),
                (Some(b'W'), false) => Some("[^0-9A-Za-z_]"),
                (Some(b'd'), false) => Some("[0-9]"),
                (Some(b'D'), false) => Some("[^0-9]"),
                (Some(b's'), false) => Some("[\\t\\n\\f\\r ]"),
                (Some(b'S'), false) => Some("[^\\t\\n\\f\\r ]"),
                (Some(b'w'), true) => Some("0-9A-Za-z_"),
                (Some(b'd'), true) => Some("0-9"),
                (Some(b's'), true) => Some("\\t\\n\\f\\r "),
                _ => None,
            };
            if let Some(a) = ascii {
                out.push_str(a);
                i += 2;
                continue;
            }
            let n = pattern[i + 1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&pattern[i..i + 1 + n]);
            i += 1 + n;
            continue;
        }
        if c == b'[' {
            class += 1;
            out.push('[');
            i += 1;
            // A `]` right after `[` or `[^` is a literal member.
            if b.get(i) == Some(&b'^') {
                out.push('^');
                i += 1;
            }
            if b.get(i) == Some(&b']') {
                out.push(']');
                i += 1;
            }
            continue;
        }
        if c == b']' && class > 0 {
            class -= 1;
        } else if c == b'{' && class == 0 {
            let rest = &b[i + 1..];
            let digits = rest.iter().take_while(|d| d.is_ascii_digit()).count();
            let mut j = digits;
            if digits > 0 && rest.get(j) == Some(&b',') {
                j += 1;
                j += rest[j..].iter().take_while(|d| d.is_ascii_digit()).count();
            }
            if digits == 0 || rest.get(j) != Some(&b'}') {
                out.push_str("\\{");
                i += 1;
                continue;
            }
        }
        let n = pattern[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&pattern[i..i + n]);
        i += n;
    }
    out
}

/// Checks a (Go syntax) pattern the way the engine will compile it; returns the pattern the
/// engine compiles, or the parser's message.
pub(super) fn check_pattern(pattern: &str) -> Result<String, String> {
    check_pattern_size(pattern)?;
    let pattern = go_compat(pattern);
    // The same parser settings as `regex::bytes` (which is what the engine compiles with).
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(&pattern)
        .map(|_| pattern.clone())
        .map_err(|e| one_line_regex_error(&e.to_string()))
}

/// The longest regex accepted (bytes). Real rules are far shorter (the longest built-in one is
/// under 1 KiB); the regex parser's memory grows with the pattern long before the compiled
/// size limit can answer, so a pattern of megabytes is refused before it is parsed.
pub const MAX_PATTERN_BYTES: usize = 64 << 10;

pub(crate) fn check_pattern_size(pattern: &str) -> Result<(), String> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(format!(
            "pattern of {} bytes is longer than the limit of {MAX_PATTERN_BYTES}",
            pattern.len()
        ));
    }
    Ok(())
}

/// The regex crates explain a syntax error over several lines (the pattern, a caret, the
/// error): one line, the error and where it is.
pub(crate) fn one_line_regex_error(message: &str) -> String {
    let lines: Vec<&str> = message.lines().map(str::trim).collect();
    if lines.len() <= 1 {
        return message.trim().to_owned();
    }
    let error = lines
        .iter()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(lines[lines.len() - 1]);
    // The caret line, indented by four, points at the error's column in the pattern.
    let column = message
        .lines()
        .find(|l| l.trim_start().starts_with('^'))
        .map(|l| l.len() - l.trim_start().len());
    match column {
        Some(c) if c >= 4 => format!("{error} (at pattern position {})", c - 4),
        _ => error.to_owned(),
    }
}

/// gitleaks reads keys case-insensitively (viper): `allowList`, `secretGroup` and `SecretGroup`
/// are one key. Keys are matched on this form; messages keep the spelling of the file.
fn key_of(k: &str) -> String {
    k.to_ascii_lowercase()
}

/// A table's value for `name` (lowercase), whatever the case of the key in the file.
fn get_ci<'t, 'i>(t: &'t Table<'i>, name: &str) -> Option<&'t Value<'i>> {
    t.iter()
        .filter(|(k, _)| k.get_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .next_back()
}

/// gitleaks' limit on `[extend]` chains (a config, its base, the base's base).
const MAX_EXTEND_DEPTH: usize = 2;

/// `[extend]`: what this file builds on.
#[derive(Default)]
struct Extend {
    use_default: bool,
    path: Option<String>,
    disabled: Vec<String>,
    line: usize,
}

/// gitleaks rejects a table that has both the deprecated single allowlist and the list.
const OLD_AND_NEW: &str =
    "`allowlist` (deprecated) cannot be used alongside `allowlists` in one table, as in gitleaks";

/// Upper bound on a rule's `max_len`: keeps the engine's context (and so chunk overlap) modest.
pub(crate) const MAX_LEN_LIMIT: usize = 16 * 1024;

struct Ctx<'a> {
    origin: &'a str,
    text: &'a str,
    /// Byte offset of each line's start, for `line` (counting newlines from the file's start
    /// for every rule made loading quadratic: 100,000 rules took minutes).
    line_starts: Vec<usize>,
    warnings: Vec<RulesWarning>,
}

type Table<'i> = DeTable<'i>;
type Value<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<std::borrow::Cow<'i, str>>;

impl<'a> Ctx<'a> {
    fn new(origin: &'a str, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        Ctx {
            origin,
            text,
            line_starts,
            warnings: Vec::new(),
        }
    }

    /// The 1-based line of a span's start.
    fn line(&self, span: Range<usize>) -> usize {
        let at = span.start.min(self.text.len());
        self.line_starts.partition_point(|&s| s <= at)
    }

    fn warn(&mut self, rule: Option<&str>, message: String) {
        self.warnings.push(RulesWarning {
            origin: self.origin.to_owned(),
            rule_id: rule.map(str::to_owned),
            message,
        });
    }

    fn bad(
        &self,
        span: Range<usize>,
        rule: Option<&str>,
        field: &str,
        message: impl Into<String>,
    ) -> RulesError {
        RulesError::BadField {
            origin: self.origin.to_owned(),
            line: self.line(span),
            rule: rule.map(str::to_owned),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn check_regex(
        &self,
        pattern: &str,
        span: Range<usize>,
        rule: Option<&str>,
        field: &str,
    ) -> Result<String, RulesError> {
        check_pattern(pattern).map_err(|message| RulesError::BadRegex {
            origin: self.origin.to_owned(),
            line: self.line(span),
            rule: rule.map(str::to_owned),
            field: field.to_owned(),
            message,
        })
    }

    /// Keys that differ only in case are one key to gitleaks: the later one is used here.
    fn warn_case_duplicates(&mut self, t: &Table<'_>, rule: Option<&str>) {
        let keys: Vec<(&str, Range<usize>)> = t
            .iter()
            .map(|(k, _)| (k.get_ref().as_ref(), k.span()))
            .collect();
        // First key of each lowercased spelling (a linear search per key was quadratic).
        let mut first: HashMap<String, &str> = HashMap::new();
        for (k, span) in &keys {
            if let Some(earlier) = first.get(&k.to_ascii_lowercase()).copied() {
                self.warn(
                    rule,
                    format!(
                        "line {}: keys `{earlier}` and `{k}` are one key to gitleaks (keys are \
                         case-insensitive): the later is used",
                        self.line(span.clone())
                    ),
                );
            } else {
                first.insert(k.to_ascii_lowercase(), k);
            }
        }
    }

    /// A betterleaks CEL expression (`filter`, `prefilter`): what we apply of it, and one
    /// warning naming the parts we do not.
    fn cel(
        &mut self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        v: &Value<'_>,
        rule: Option<&str>,
        scope: Scope,
    ) -> Result<Translation, RulesError> {
        let k: &str = key.get_ref();
        let source = self.string(v, rule, k)?;
        let t = filter::translate(&source, scope, &check_pattern);
        if !t.ignored.is_empty() {
            // Grouped by reason (betterleaks' generic rule has dozens of alike conditions).
            let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
            for (term, why) in &t.ignored {
                match groups.iter_mut().find(|(w, _)| w == why) {
                    Some((_, terms)) => terms.push(term),
                    None => groups.push((why, vec![term])),
                }
            }
            const LISTED: usize = 3;
            let parts = groups
                .iter()
                .map(|(why, terms)| {
                    let mut listed = terms
                        .iter()
                        .take(LISTED)
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    if terms.len() > LISTED {
                        listed.push_str(&format!(" and {} more alike", terms.len() - LISTED));
                    }
                    format!("{listed} ({why})")
                })
                .collect::<Vec<_>>()
                .join("; ");
            let count = if t.terms > 1 {
                format!("{} of its {} conditions ", t.ignored.len(), t.terms)
            } else {
                String::new()
            };
            let what = if scope == Scope::Prefilter {
                "skipping files"
            } else {
                "dropping findings"
            };
            self.warn(
                rule,
                format!(
                    "line {}: betterleaks `{k}`: {count}not applied: {parts}; each is a \
                     condition for {what}, so ignoring it can only report more findings, never \
                     fewer",
                    self.line(key.span())
                ),
            );
        }
        Ok(t)
    }

    fn string(&self, v: &Value<'_>, rule: Option<&str>, field: &str) -> Result<String, RulesError> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            other => Err(self.bad(
                v.span(),
                rule,
                field,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    fn strings(
        &self,
        v: &Value<'_>,
        rule: Option<&str>,
        field: &str,
    ) -> Result<Vec<String>, RulesError> {
        match v.get_ref() {
            DeValue::Array(items) => items.iter().map(|i| self.string(i, rule, field)).collect(),
            other => Err(self.bad(
                v.span(),
                rule,
                field,
                format!("expected an array of strings, found {}", other.type_str()),
            )),
        }
    }

    fn number(&self, v: &Value<'_>, rule: Option<&str>, field: &str) -> Result<f64, RulesError> {
        let parsed = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .ok()
                .map(|i| i as f64),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if n.is_finite() => Ok(n),
            _ => Err(self.bad(
                v.span(),
                rule,
                field,
                format!("expected a number, found {}", v.get_ref().type_str()),
            )),
        }
    }

    fn uint(&self, v: &Value<'_>, rule: Option<&str>, field: &str) -> Result<usize, RulesError> {
        if let DeValue::Integer(i) = v.get_ref()
            && let Ok(n) = usize::from_str_radix(&i.as_str().replace('_', ""), i.radix())
        {
            return Ok(n);
        }
        Err(self.bad(v.span(), rule, field, "expected a non-negative integer"))
    }

    fn table<'t, 'i>(
        &self,
        v: &'t Value<'i>,
        rule: Option<&str>,
        field: &str,
    ) -> Result<&'t Table<'i>, RulesError> {
        match v.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(self.bad(
                v.span(),
                rule,
                field,
                format!("expected a table, found {}", other.type_str()),
            )),
        }
    }

    /// A table or an array of tables (gitleaks accepts both spellings in places).
    fn tables<'t, 'i>(
        &self,
        v: &'t Value<'i>,
        rule: Option<&str>,
        field: &str,
    ) -> Result<Vec<(&'t Table<'i>, Range<usize>)>, RulesError> {
        match v.get_ref() {
            DeValue::Table(t) => Ok(vec![(t, v.span())]),
            DeValue::Array(items) => items
                .iter()
                .map(|i| self.table(i, rule, field).map(|t| (t, i.span())))
                .collect(),
            other => Err(self.bad(
                v.span(),
                rule,
                field,
                format!(
                    "expected a table or an array of tables, found {}",
                    other.type_str()
                ),
            )),
        }
    }
}

pub(super) fn parse(text: &str, origin: &str) -> Result<(RuleSet, Vec<RulesWarning>), RulesError> {
    parse_inner(text, origin, None, 0)
}

pub(super) fn parse_file(
    path: &Path,
    depth: usize,
) -> Result<(RuleSet, Vec<RulesWarning>), RulesError> {
    let origin = path.display().to_string();
    let text = read_rules_file(path).map_err(|source| RulesError::Io {
        origin: origin.clone(),
        source,
    })?;
    parse_inner(&text, &origin, path.parent(), depth)
}

/// The largest rules file read (betterleaks' and gitleaks' default configs are under 300 KiB).
pub const MAX_RULES_FILE_BYTES: u64 = 16 << 20;

/// A rules file's text: a regular file (not a device such as `/dev/zero`, a FIFO or a
/// directory) of at most [`MAX_RULES_FILE_BYTES`], in UTF-8. Reads at most one byte past the
/// limit, whatever the file claims.
fn read_rules_file(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, Read};
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_RULES_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RULES_FILE_BYTES {
        return Err(Error::other(format!(
            "larger than the limit of {MAX_RULES_FILE_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes).map_err(|e| Error::new(std::io::ErrorKind::InvalidData, e))
}

fn parse_inner(
    text: &str,
    origin: &str,
    dir: Option<&Path>,
    depth: usize,
) -> Result<(RuleSet, Vec<RulesWarning>), RulesError> {
    let mut cx = Ctx::new(origin, text);
    let root = DeTable::parse(text).map_err(|e| RulesError::Toml {
        origin: origin.to_owned(),
        line: e.span().map(|s| cx.line(s)).unwrap_or(1),
        message: e.message().to_owned(),
    })?;
    let TopLevel {
        mut set,
        extend,
        skipped,
        global_lines,
        global_entropy,
    } = read_top_level(&mut cx, root.get_ref())?;
    let skipped = drop_replaced_rules(&mut cx, &mut set, skipped);
    if let Some(ext) = extend {
        apply_extend(&mut cx, &mut set, ext, dir, depth)?;
        // A rule that extends nothing and has neither regex nor path has no effect.
        set.rules.retain(|r| {
            let keep = r.regex.is_some() || r.path.is_some();
            if !keep {
                cx.warnings.push(RulesWarning {
                    origin: origin.to_owned(),
                    rule_id: Some(r.id.clone()),
                    message:
                        "rule has neither `regex` nor `path` and extends no base rule: ignored"
                            .into(),
                });
            }
            keep
        });
    }
    if let Some(g) = global_entropy {
        for r in &mut set.rules {
            r.entropy = Some(r.entropy.map_or(g, |e| e.max(g)));
        }
    }
    for r in &set.rules {
        finish_rule(&mut cx, r)?;
    }
    if !skipped.is_empty() {
        let skipped: std::collections::HashSet<&str> = skipped.iter().map(String::as_str).collect();
        set.rules.retain(|r| !skipped.contains(r.id.as_str()));
    }
    check_global_targets(origin, &set, &global_lines, &skipped)?;
    Ok((set, cx.warnings))
}

/// A file's top-level keys, read.
struct TopLevel {
    set: RuleSet,
    extend: Option<Extend>,
    /// Rules with `skipReport = true` only feed composite rules, which we do not support. One
    /// entry per rule, in order (the id of a skipped rule, else None).
    skipped: Vec<Option<String>>,
    /// The line of each global allowlist of this file.
    global_lines: Vec<usize>,
    /// Entropy bounds of the top-level betterleaks `filter`: for every rule, once merged.
    global_entropy: Option<f64>,
}

/// Reads the top-level keys: title, rules, global allowlists, `[extend]`, betterleaks filters.
fn read_top_level(cx: &mut Ctx<'_>, root: &Table<'_>) -> Result<TopLevel, RulesError> {
    let mut set = RuleSet {
        origin: cx.origin.to_owned(),
        ..RuleSet::default()
    };
    let mut extend: Option<Extend> = None;
    let mut skipped: Vec<Option<String>> = Vec::new();
    // Where `[allowlist]`/`[[allowlists]]` keys are (both at once is an error, as in gitleaks).
    let mut old_and_new: Vec<Range<usize>> = Vec::new();
    let mut global_lines: Vec<usize> = Vec::new();
    let mut global_entropy: Option<f64> = None;
    cx.warn_case_duplicates(root, None);
    for (key, value) in root.iter() {
        let k: &str = key.get_ref();
        match key_of(k).as_str() {
            "title" => set.title = Some(cx.string(value, None, k)?),
            "rules" => {
                for (t, span) in cx.tables(value, None, k)? {
                    let (rule, skip) = parse_rule(cx, t, span)?;
                    skipped.push(skip.then(|| rule.id.clone()));
                    set.rules.push(rule);
                }
            }
            "allowlist" | "allowlists" => {
                old_and_new.push(key.span());
                for (t, span) in cx.tables(value, None, k)? {
                    global_lines.push(cx.line(span.clone()));
                    let al = parse_allowlist(cx, t, span, None, true)?;
                    set.allowlists.push(al);
                }
            }
            "extend" => {
                let t = cx.table(value, None, k)?;
                extend = Some(parse_extend(cx, t, key.span())?);
            }
            // betterleaks: CEL expressions dropping findings (`filter`) or skipping files
            // (`prefilter`); what has an equivalent becomes global allowlists.
            "filter" | "prefilter" => {
                let scope = if key_of(k) == "filter" {
                    Scope::Global
                } else {
                    Scope::Prefilter
                };
                let t = cx.cel(key, value, None, scope)?;
                if let Some(e) = t.entropy {
                    global_entropy = Some(global_entropy.map_or(e, |g| g.max(e)));
                }
                for al in t.allowlists {
                    global_lines.push(cx.line(key.span()));
                    set.allowlists.push(al);
                }
            }
            _ => cx.warn(
                None,
                format!(
                    "line {}: unknown top-level key `{k}` ignored",
                    cx.line(key.span())
                ),
            ),
        }
    }

    if let [_, second, ..] = old_and_new.as_slice() {
        return Err(cx.bad(second.clone(), None, "allowlist", OLD_AND_NEW));
    }
    Ok(TopLevel {
        set,
        extend,
        skipped,
        global_lines,
        global_entropy,
    })
}

/// A rule id defined twice: gitleaks keeps the later definition (its rules live in a map by
/// id), so a gitleaks config with a collision loads the same here, but never silently (in
/// strict loading the warning is an error). Returns the ids of the `skipReport` rules left.
fn drop_replaced_rules(
    cx: &mut Ctx<'_>,
    set: &mut RuleSet,
    mut skipped: Vec<Option<String>>,
) -> Vec<String> {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut replaced: Vec<usize> = Vec::new();
    for (i, r) in set.rules.iter().enumerate() {
        if let Some(earlier) = first.insert(r.id.clone(), i) {
            replaced.push(earlier);
            let first_line = set.rules[earlier].line;
            cx.warn(
                Some(&r.id),
                format!(
                    "duplicate rule id (lines {first_line} and {}): the later definition replaces \
                     the earlier, as in gitleaks",
                    r.line
                ),
            );
        }
    }
    if !replaced.is_empty() {
        let replaced: std::collections::HashSet<usize> = replaced.into_iter().collect();
        let mut i = 0;
        set.rules.retain(|_| {
            i += 1;
            !replaced.contains(&(i - 1))
        });
        let mut j = 0;
        skipped.retain(|_| {
            j += 1;
            !replaced.contains(&(j - 1))
        });
    }
    skipped.into_iter().flatten().collect()
}

/// Every `targetRules` id of this file's global allowlists names a rule (an extended file's
/// allowlists come after these and were checked there).
fn check_global_targets(
    origin: &str,
    set: &RuleSet,
    global_lines: &[usize],
    skipped: &[String],
) -> Result<(), RulesError> {
    let ids: std::collections::HashSet<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
    for (al, &line) in set.allowlists.iter().zip(global_lines) {
        for t in &al.target_rules {
            if !ids.contains(&t.as_str()) && !skipped.contains(t) {
                return Err(RulesError::BadField {
                    origin: origin.to_owned(),
                    line,
                    rule: None,
                    field: "targetRules".into(),
                    message: format!(
                        "global allowlist targets rule id {t:?}, which does not exist"
                    ),
                });
            }
        }
    }
    Ok(())
}

fn parse_extend(cx: &mut Ctx<'_>, t: &Table<'_>, span: Range<usize>) -> Result<Extend, RulesError> {
    let mut ext = Extend {
        line: cx.line(span),
        ..Extend::default()
    };
    cx.warn_case_duplicates(t, None);
    for (key, v) in t.iter() {
        let k: &str = key.get_ref();
        match key_of(k).as_str() {
            "usedefault" => match v.get_ref() {
                DeValue::Boolean(b) => ext.use_default = *b,
                other => {
                    return Err(cx.bad(
                        v.span(),
                        None,
                        "extend.useDefault",
                        format!("expected a boolean, found {}", other.type_str()),
                    ));
                }
            },
            "path" => ext.path = Some(cx.string(v, None, "extend.path")?),
            "disabledrules" => ext.disabled = cx.strings(v, None, "extend.disabledRules")?,
            _ => cx.warn(
                None,
                format!(
                    "line {}: unsupported `[extend]` key `{k}` ignored",
                    cx.line(key.span())
                ),
            ),
        }
    }
    Ok(ext)
}

/// gitleaks' `[extend]`: the base's rules are added (minus `disabledRules`); a rule of this file
/// with a base rule's id is merged into it (non-empty fields override, tags, keywords and
/// allowlists are appended); global allowlists are appended.
fn apply_extend(
    cx: &mut Ctx<'_>,
    set: &mut RuleSet,
    ext: Extend,
    dir: Option<&Path>,
    depth: usize,
) -> Result<(), RulesError> {
    let bad = |cx: &Ctx<'_>, msg: String| RulesError::BadField {
        origin: cx.origin.to_owned(),
        line: ext.line,
        rule: None,
        field: "extend".into(),
        message: msg,
    };
    if ext.use_default && ext.path.is_some() {
        return Err(bad(cx, "`useDefault` and `path` cannot both be set".into()));
    }
    if !ext.use_default && ext.path.is_none() {
        if !ext.disabled.is_empty() {
            cx.warn(
                None,
                "`[extend]` without `useDefault` or `path`: `disabledRules` has no effect".into(),
            );
        }
        return Ok(());
    }
    if depth >= MAX_EXTEND_DEPTH {
        cx.warn(
            None,
            format!("`[extend]` nested deeper than {MAX_EXTEND_DEPTH} levels is ignored (as gitleaks does)"),
        );
        return Ok(());
    }
    let (base, warnings) = match &ext.path {
        None => parse_inner(super::BUILTIN, "builtin.toml", None, depth + 1)?,
        Some(p) => {
            let p = Path::new(p);
            let candidates: Vec<PathBuf> = match dir {
                Some(d) if p.is_relative() => vec![d.join(p), p.to_path_buf()],
                _ => vec![p.to_path_buf()],
            };
            let found = candidates
                .iter()
                .find(|c| c.is_file())
                .unwrap_or(&candidates[0]);
            parse_file(found, depth + 1)?
        }
    };
    cx.warnings.extend(warnings);
    for d in &ext.disabled {
        if base.rule(d).is_none() {
            cx.warn(
                Some(d),
                "`disabledRules` names a rule the extended config does not have".into(),
            );
        }
    }
    let mine = std::mem::take(&mut set.rules);
    let mut merged: Vec<Rule> = Vec::with_capacity(base.rules.len() + mine.len());
    for b in base.rules {
        if ext.disabled.contains(&b.id) {
            continue;
        }
        merged.push(b);
    }
    let mut at: HashMap<String, usize> = merged
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id.clone(), i))
        .collect();
    for r in mine {
        match at.get(&r.id) {
            Some(&i) => merge_rule(&mut merged[i], r),
            None => {
                at.insert(r.id.clone(), merged.len());
                merged.push(r);
            }
        }
    }
    set.rules = merged;
    set.allowlists.extend(base.allowlists);
    if set.title.is_none() {
        set.title = base.title;
    }
    Ok(())
}

fn merge_rule(base: &mut Rule, over: Rule) {
    if !over.description.is_empty() {
        base.description = over.description;
    }
    if over.entropy.is_some_and(|e| e != 0.0) {
        base.entropy = over.entropy;
    }
    if over.secret_group.is_some_and(|g| g != 0) {
        base.secret_group = over.secret_group;
    }
    if over.regex.is_some() {
        base.regex = over.regex;
    }
    if over.path.is_some() {
        base.path = over.path;
    }
    base.tags.extend(over.tags);
    for k in over.keywords {
        if !base.keywords.contains(&k) {
            base.keywords.push(k);
        }
    }
    base.allowlists.extend(over.allowlists);
    base.confidence = over.confidence.or(base.confidence);
    base.max_len = over.max_len.or(base.max_len);
    base.checksum = over.checksum.or(base.checksum);
    base.shape = over.shape.or(base.shape);
    if !over.examples.is_empty() {
        base.examples = over.examples;
    }
    if !over.negative_examples.is_empty() {
        base.negative_examples = over.negative_examples;
    }
    if !over.path_examples.is_empty() {
        base.path_examples = over.path_examples;
    }
    if !over.path_negative_examples.is_empty() {
        base.path_negative_examples = over.path_negative_examples;
    }
}

/// Checks that need the whole (possibly merged) rule: a regex or a path, a valid secret group.
fn finish_rule(cx: &mut Ctx<'_>, rule: &Rule) -> Result<(), RulesError> {
    let rid = Some(rule.id.as_str());
    if rule.regex.is_none() && rule.path.is_none() {
        return Err(RulesError::MissingField {
            origin: cx.origin.to_owned(),
            line: rule.line,
            rule: rule.id.clone(),
            field: "regex",
        });
    }
    if let (Some(g), Some(re)) = (rule.secret_group, rule.regex.as_deref()) {
        // Validate the group index now so the error names the rule and line.
        let groups = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(re)
            .map(|h| h.properties().explicit_captures_len())
            .unwrap_or(0);
        if g > groups {
            return Err(RulesError::BadField {
                origin: cx.origin.to_owned(),
                line: rule.line,
                rule: rid.map(str::to_owned),
                field: "secretGroup".into(),
                message: format!("group {g} does not exist (the regex has {groups})"),
            });
        }
    }
    Ok(())
}

/// What reading a rule's keys gathers besides the rule itself.
#[derive(Default)]
struct RuleKeys {
    /// `allowlist` or `allowlists` was met (both at once is an error).
    seen_allowlist_key: bool,
    /// `skipReport = true`: the rule is dropped once the file is read.
    skip: bool,
    /// Entropy bounds of a betterleaks `filter`: the larger of them and `entropy` is kept.
    filter_entropy: Option<f64>,
}

/// One `[[rules]]` table, and whether it is a `skipReport` rule.
fn parse_rule(
    cx: &mut Ctx<'_>,
    t: &Table<'_>,
    span: Range<usize>,
) -> Result<(Rule, bool), RulesError> {
    let line = cx.line(span.clone());
    let id = rule_id(cx, t, span, line)?;
    let rid = Some(id.as_str());
    let mut rule = Rule {
        id: id.clone(),
        description: String::new(),
        regex: None,
        secret_group: None,
        entropy: None,
        keywords: Vec::new(),
        path: None,
        tags: Vec::new(),
        allowlists: Vec::new(),
        examples: Vec::new(),
        negative_examples: Vec::new(),
        path_examples: Vec::new(),
        path_negative_examples: Vec::new(),
        confidence: None,
        max_len: None,
        checksum: None,
        checksum_failure: ChecksumFailure::Lower,
        shape: None,
        line,
    };
    let mut keys = RuleKeys::default();
    cx.warn_case_duplicates(t, rid);
    for (key, v) in t.iter() {
        rule_key(cx, &mut rule, &mut keys, key, v, rid)?;
    }
    if let Some(f) = keys.filter_entropy {
        rule.entropy = Some(rule.entropy.map_or(f, |e| e.max(f)));
    }
    Ok((rule, keys.skip))
}

/// A rule's `id`: required, not blank.
fn rule_id(
    cx: &Ctx<'_>,
    t: &Table<'_>,
    span: Range<usize>,
    line: usize,
) -> Result<String, RulesError> {
    let id = match get_ci(t, "id") {
        Some(v) => cx.string(v, None, "id")?,
        None => {
            return Err(RulesError::MissingField {
                origin: cx.origin.to_owned(),
                line,
                rule: "(without id)".into(),
                field: "id",
            });
        }
    };
    if id.trim().is_empty() {
        return Err(cx.bad(span, None, "id", "rule id is empty"));
    }
    Ok(id)
}

/// One key of a rule table, applied to `rule` (or to `keys`).
fn rule_key(
    cx: &mut Ctx<'_>,
    rule: &mut Rule,
    keys: &mut RuleKeys,
    key: &Key<'_>,
    v: &Value<'_>,
    rid: Option<&str>,
) -> Result<(), RulesError> {
    let k: &str = key.get_ref();
    match key_of(k).as_str() {
        "id" => {}
        "description" => rule.description = cx.string(v, rid, k)?,
        name @ ("regex" | "secretgroup" | "entropy" | "keywords" | "path") => {
            match_key(cx, rule, name, k, v, rid)?;
        }
        "tags" => rule.tags = cx.strings(v, rid, k)?,
        "allowlist" | "allowlists" => {
            // A table's keys are unique: a second one here means both spellings.
            if keys.seen_allowlist_key {
                return Err(cx.bad(key.span(), rid, k, OLD_AND_NEW));
            }
            keys.seen_allowlist_key = true;
            for (at, aspan) in cx.tables(v, rid, k)? {
                let al = parse_allowlist(cx, at, aspan, rid, false)?;
                rule.allowlists.push(al);
            }
        }
        "examples" => rule.examples = cx.strings(v, rid, k)?,
        "negative_examples" => rule.negative_examples = cx.strings(v, rid, k)?,
        "path_examples" => rule.path_examples = cx.strings(v, rid, k)?,
        "path_negative_examples" => rule.path_negative_examples = cx.strings(v, rid, k)?,
        name @ ("confidence" | "max_len" | "checksum" | "checksum_failure" | "shape") => {
            extension_key(cx, rule, name, k, v, rid)?;
        }
        "filter" => {
            let t = cx.cel(key, v, rid, Scope::Rule)?;
            if let Some(e) = t.entropy {
                keys.filter_entropy = Some(keys.filter_entropy.map_or(e, |f| f.max(e)));
            }
            rule.allowlists.extend(t.allowlists);
        }
        _ => unsupported_rule_key(cx, keys, key, v, rid),
    }
    Ok(())
}

/// What a rule matches: `regex`, `secretGroup`, `entropy`, `keywords`, `path`.
fn match_key(
    cx: &mut Ctx<'_>,
    rule: &mut Rule,
    name: &str,
    k: &str,
    v: &Value<'_>,
    rid: Option<&str>,
) -> Result<(), RulesError> {
    match name {
        "regex" => {
            let re = cx.string(v, rid, k)?;
            rule.regex = Some(cx.check_regex(&re, v.span(), rid, k)?);
        }
        "secretgroup" => rule.secret_group = Some(cx.uint(v, rid, k)?),
        "entropy" => {
            let e = cx.number(v, rid, k)?;
            if e < 0.0 {
                return Err(cx.bad(v.span(), rid, k, "entropy must not be negative"));
            }
            if e > 8.0 {
                cx.warn(
                    rid,
                    format!(
                        "line {}: entropy {e} exceeds 8 bits per byte: the rule can never report",
                        cx.line(v.span())
                    ),
                );
            }
            rule.entropy = Some(e);
        }
        "keywords" => {
            for kw in cx.strings(v, rid, k)? {
                if kw.is_empty() {
                    cx.warn(rid, "empty keyword ignored".into());
                    continue;
                }
                let kw = kw.to_ascii_lowercase();
                if !rule.keywords.contains(&kw) {
                    rule.keywords.push(kw);
                }
            }
        }
        "path" => {
            let p = cx.string(v, rid, k)?;
            rule.path = Some(cx.check_regex(&p, v.span(), rid, k)?);
        }
        _ => unreachable!("rule_key dispatches only these keys"),
    }
    Ok(())
}

/// Our extensions: `confidence`, `max_len`, `checksum`, `checksum_failure`, `shape`.
fn extension_key(
    cx: &mut Ctx<'_>,
    rule: &mut Rule,
    name: &str,
    k: &str,
    v: &Value<'_>,
    rid: Option<&str>,
) -> Result<(), RulesError> {
    match name {
        "confidence" => {
            let c = cx.number(v, rid, k)?;
            if !(0.0..=1.0).contains(&c) {
                return Err(cx.bad(v.span(), rid, k, "confidence must lie in 0..=1"));
            }
            rule.confidence = Some(c as f32);
        }
        "max_len" => {
            let n = cx.uint(v, rid, k)?;
            if n == 0 {
                return Err(cx.bad(v.span(), rid, k, "max_len must be positive"));
            }
            if n > MAX_LEN_LIMIT {
                cx.warn(
                    rid,
                    format!("max_len {n} lowered to the limit {MAX_LEN_LIMIT}"),
                );
            }
            rule.max_len = Some(n.min(MAX_LEN_LIMIT));
        }
        "checksum" => {
            rule.checksum = Some(match cx.string(v, rid, k)?.as_str() {
                "github-crc32" => Checksum::GithubCrc32,
                other => {
                    return Err(cx.bad(
                        v.span(),
                        rid,
                        k,
                        format!("unknown checksum {other:?} (known: \"github-crc32\")"),
                    ));
                }
            })
        }
        "checksum_failure" => {
            rule.checksum_failure = match cx.string(v, rid, k)?.as_str() {
                "lower" => ChecksumFailure::Lower,
                "reject" => ChecksumFailure::Reject,
                other => {
                    return Err(cx.bad(
                        v.span(),
                        rid,
                        k,
                        format!(
                            "unknown checksum_failure {other:?} (known: \"lower\", \"reject\")"
                        ),
                    ));
                }
            }
        }
        "shape" => {
            rule.shape = Some(match cx.string(v, rid, k)?.as_str() {
                "random" => Shape::Random,
                other => {
                    return Err(cx.bad(
                        v.span(),
                        rid,
                        k,
                        format!("unknown shape {other:?} (known: \"random\")"),
                    ));
                }
            })
        }
        _ => unreachable!("rule_key dispatches only these keys"),
    }
    Ok(())
}

/// Keys we do not apply (`skipReport`, `required`, `validate`, unknown ones): a warning each;
/// `skipReport = true` marks the rule to be dropped.
fn unsupported_rule_key(
    cx: &mut Ctx<'_>,
    keys: &mut RuleKeys,
    key: &Key<'_>,
    v: &Value<'_>,
    rid: Option<&str>,
) {
    let k: &str = key.get_ref();
    match key_of(k).as_str() {
            "skipreport" => {
                if matches!(v.get_ref(), DeValue::Boolean(true)) {
                    keys.skip = true;
                    cx.warn(
                        rid,
                        format!(
                            "line {}: `skipReport` rules only feed composite rules, which are not supported: the rule is dropped",
                            cx.line(key.span())
                        ),
                    );
                }
            }
            "required" => cx.warn(
                rid,
                format!(
                    "line {}: composite rules (`[[rules.required]]`) are not supported: the rule reports on its own, without its required rules",
                    cx.line(key.span())
                ),
            ),
            "validate" => cx.warn(
                rid,
                format!(
                    "line {}: `{k}` (betterleaks' live validation over the network) is not \
                     supported: ignored, findings are reported unvalidated",
                    cx.line(key.span())
                ),
            ),
            _ => cx.warn(
                rid,
                format!(
                    "line {}: unsupported rule key `{k}` ignored",
                    cx.line(key.span())
                ),
            ),
    }
}

fn parse_allowlist(
    cx: &mut Ctx<'_>,
    t: &Table<'_>,
    span: Range<usize>,
    rule: Option<&str>,
    global: bool,
) -> Result<Allowlist, RulesError> {
    let line = cx.line(span);
    let mut al = Allowlist::default();
    cx.warn_case_duplicates(t, rule);
    for (key, v) in t.iter() {
        let k: &str = key.get_ref();
        match key_of(k).as_str() {
            "description" => al.description = Some(cx.string(v, rule, k)?),
            "condition" => {
                al.condition = match cx.string(v, rule, k)?.to_ascii_uppercase().as_str() {
                    "OR" => AllowCondition::Or,
                    "AND" => AllowCondition::And,
                    other => {
                        return Err(cx.bad(
                            v.span(),
                            rule,
                            k,
                            format!("expected \"OR\" or \"AND\", found {other:?}"),
                        ));
                    }
                }
            }
            "regextarget" => {
                al.regex_target = match cx.string(v, rule, k)?.to_ascii_lowercase().as_str() {
                    "secret" | "" => RegexTarget::Secret,
                    "match" => RegexTarget::Match,
                    "line" => RegexTarget::Line,
                    other => {
                        return Err(cx.bad(
                            v.span(),
                            rule,
                            k,
                            format!("expected secret, match or line, found {other:?}"),
                        ));
                    }
                }
            }
            "regexes" => {
                al.regexes = cx
                    .strings(v, rule, k)?
                    .iter()
                    .map(|re| cx.check_regex(re, v.span(), rule, k))
                    .collect::<Result<_, _>>()?;
            }
            "stopwords" => {
                al.stopwords = cx
                    .strings(v, rule, k)?
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.to_ascii_lowercase())
                    .collect()
            }
            "paths" => {
                al.paths = cx
                    .strings(v, rule, k)?
                    .iter()
                    .map(|re| cx.check_regex(re, v.span(), rule, k))
                    .collect::<Result<_, _>>()?;
            }
            "commits" => al.commits = cx.strings(v, rule, k)?,
            "targetrules" if global => al.target_rules = cx.strings(v, rule, k)?,
            _ => cx.warn(
                rule,
                format!(
                    "line {}: unsupported allowlist key `{k}` ignored",
                    cx.line(key.span())
                ),
            ),
        }
    }
    if !al.has_content_criteria() && !al.needs_location() {
        return Err(RulesError::BadField {
            origin: cx.origin.to_owned(),
            line,
            rule: rule.map(str::to_owned),
            field: "allowlists".into(),
            message: "an allowlist needs at least one of commits, paths, regexes or stopwords"
                .into(),
        });
    }
    Ok(al)
}
