//! Walks the spanned TOML tree of a rules file into a [`RuleSet`].
//!
//! We walk `toml::de::DeTable` by hand instead of deriving serde structs so that every key we do
//! not apply can be reported (a warning naming it) and every error can carry a line number.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{
    AllowCondition, Allowlist, Checksum, RegexTarget, Rule, RuleSet, RulesError, RulesWarning,
    Shape,
};

/// Upper bound on a rule's `max_len`: keeps the engine's context (and so chunk overlap) modest.
pub(crate) const MAX_LEN_LIMIT: usize = 16 * 1024;

struct Ctx<'a> {
    origin: &'a str,
    text: &'a str,
    warnings: Vec<RulesWarning>,
}

type Table<'i> = DeTable<'i>;
type Value<'i> = Spanned<DeValue<'i>>;

impl Ctx<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn warn(&mut self, rule: Option<&str>, message: String) {
        self.warnings.push(RulesWarning {
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
    ) -> Result<(), RulesError> {
        // The same parser settings as `regex::bytes` (which is what the engine compiles with).
        regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .map(|_| ())
            .map_err(|e| RulesError::BadRegex {
                origin: self.origin.to_owned(),
                line: self.line(span),
                rule: rule.map(str::to_owned),
                field: field.to_owned(),
                message: e.to_string(),
            })
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
    let mut cx = Ctx {
        origin,
        text,
        warnings: Vec::new(),
    };
    let root = DeTable::parse(text).map_err(|e| RulesError::Toml {
        origin: origin.to_owned(),
        line: e.span().map(|s| cx.line(s)).unwrap_or(1),
        message: e.message().to_owned(),
    })?;
    let root = root.get_ref();

    let mut set = RuleSet {
        origin: origin.to_owned(),
        ..RuleSet::default()
    };
    for (key, value) in root.iter() {
        let k: &str = key.get_ref();
        match k {
            "title" => set.title = Some(cx.string(value, None, k)?),
            "rules" => {
                for (t, span) in cx.tables(value, None, k)? {
                    set.rules.push(parse_rule(&mut cx, t, span)?);
                }
            }
            "allowlist" | "allowlists" => {
                for (t, span) in cx.tables(value, None, k)? {
                    let al = parse_allowlist(&mut cx, t, span, None, true)?;
                    set.allowlists.push(al);
                }
            }
            "extend" => cx.warn(
                None,
                format!("line {}: `[extend]` is not supported: rules are used as written, without gitleaks' defaults", cx.line(key.span())),
            ),
            other => cx.warn(None, format!("line {}: unknown top-level key `{other}` ignored", cx.line(key.span()))),
        }
    }

    // Duplicate ids are an error: findings, fingerprints and allowlists are keyed by id.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for r in &set.rules {
        if let Some(&first_line) = seen.get(r.id.as_str()) {
            return Err(RulesError::DuplicateId {
                origin: origin.to_owned(),
                line: r.line,
                rule: r.id.clone(),
                first_line,
            });
        }
        seen.insert(&r.id, r.line);
    }
    for al in &set.allowlists {
        for t in &al.target_rules {
            if !seen.contains_key(t.as_str()) {
                cx.warn(
                    None,
                    format!("global allowlist targets unknown rule id {t:?}"),
                );
            }
        }
    }
    Ok((set, cx.warnings))
}

fn parse_rule(cx: &mut Ctx<'_>, t: &Table<'_>, span: Range<usize>) -> Result<Rule, RulesError> {
    let line = cx.line(span.clone());
    let id = match t.get("id") {
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
        confidence: None,
        max_len: None,
        checksum: None,
        shape: None,
        line,
    };
    for (key, v) in t.iter() {
        let k: &str = key.get_ref();
        match k {
            "id" => {}
            "description" => rule.description = cx.string(v, rid, k)?,
            "regex" => {
                let re = cx.string(v, rid, k)?;
                cx.check_regex(&re, v.span(), rid, k)?;
                rule.regex = Some(re);
            }
            "secretGroup" => rule.secret_group = Some(cx.uint(v, rid, k)?),
            "entropy" => {
                let e = cx.number(v, rid, k)?;
                if !(0.0..=8.0).contains(&e) {
                    return Err(cx.bad(
                        v.span(),
                        rid,
                        k,
                        "entropy must lie in 0..=8 bits per byte",
                    ));
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
                cx.check_regex(&p, v.span(), rid, k)?;
                rule.path = Some(p);
            }
            "tags" => rule.tags = cx.strings(v, rid, k)?,
            "allowlist" | "allowlists" => {
                for (at, aspan) in cx.tables(v, rid, k)? {
                    let al = parse_allowlist(cx, at, aspan, rid, false)?;
                    rule.allowlists.push(al);
                }
            }
            "examples" => rule.examples = cx.strings(v, rid, k)?,
            "negative_examples" => rule.negative_examples = cx.strings(v, rid, k)?,
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
            other => cx.warn(
                rid,
                format!(
                    "line {}: unsupported rule key `{other}` ignored",
                    cx.line(key.span())
                ),
            ),
        }
    }
    if rule.regex.is_none() {
        if rule.path.is_none() {
            return Err(RulesError::MissingField {
                origin: cx.origin.to_owned(),
                line,
                rule: id,
                field: "regex",
            });
        }
        cx.warn(
            rid,
            "path-only rule: kept for the runner, the content engine does not apply it".into(),
        );
    }
    if rule.secret_group.is_some() && rule.regex.is_some() {
        // Validate the group index now so the error names the rule and line.
        let re = rule.regex.as_deref().unwrap_or_default();
        let groups = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(re)
            .map(|h| h.properties().explicit_captures_len())
            .unwrap_or(0);
        if let Some(g) = rule.secret_group
            && g > groups
        {
            return Err(cx.bad(
                span,
                rid,
                "secretGroup",
                format!("group {g} does not exist (the regex has {groups})"),
            ));
        }
    }
    Ok(rule)
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
    for (key, v) in t.iter() {
        let k: &str = key.get_ref();
        match k {
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
            "regexTarget" => {
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
                let list = cx.strings(v, rule, k)?;
                for re in &list {
                    cx.check_regex(re, v.span(), rule, k)?;
                }
                al.regexes = list;
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
                let list = cx.strings(v, rule, k)?;
                for re in &list {
                    cx.check_regex(re, v.span(), rule, k)?;
                }
                al.paths = list;
            }
            "commits" => al.commits = cx.strings(v, rule, k)?,
            "targetRules" if global => al.target_rules = cx.strings(v, rule, k)?,
            other => cx.warn(
                rule,
                format!(
                    "line {}: unsupported allowlist key `{other}` ignored",
                    cx.line(key.span())
                ),
            ),
        }
    }
    if !al.has_content_criteria() && !al.needs_location() {
        cx.warn(
            rule,
            format!("line {line}: allowlist without criteria has no effect"),
        );
    }
    if al.condition == AllowCondition::And && al.needs_location() && al.has_content_criteria() {
        cx.warn(
            rule,
            format!(
                "line {line}: AND allowlist mixing paths/commits with regexes/stopwords is applied by the runner only"
            ),
        );
    }
    Ok(al)
}
