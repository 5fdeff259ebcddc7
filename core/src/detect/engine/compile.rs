//! Compiles a validated [`RuleSet`] into what the scan loop needs: one regex per rule with its
//! maximum match length `L_r`, one case-insensitive keyword automaton over all rules, the content
//! allowlists folded into each rule, the context size `C` and the rules hash.
//!
//! Invariant: every rule is either a keyword rule (its own keywords, or the literal prefixes of its
//! regex when it has none, so every match contains one) or a slow rule (scanned with its regex over
//! the whole region). `C` is derived from the largest `L_r` so that a window with `C` bytes of
//! context on each side of its owned range sees everything a match anchored there depends on.

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use super::base64;
use super::keywords::Keywords;
use crate::detect::rules::{
    AllowCondition, Allowlist, Checksum, ChecksumFailure, RegexTarget, Rule, RuleSet, RulesError,
    Shape,
};

/// Search margin beyond `L_r` on each side of a keyword: gives look-around assertions (`\b`, `$`)
/// real bytes to look at, so results do not depend on where a window was cut.
pub(super) const MARGIN: usize = 8;
/// How far we look for the ends of a match's line (for `gitleaks:allow` and line allowlists).
/// Lines longer than this are truncated to it, deterministically.
pub(super) const LINE_CTX: usize = 512;
/// Match-length cap for regexes whose maximum length is unbounded (or longer than their cap).
/// Matches longer than the cap are not found (or are found truncated to it).
pub(super) const DEFAULT_MAX_LEN: usize = 4096;
/// Bumped whenever matching semantics change, so the rules hash (and persisted results) change.
const ENGINE_VERSION: &str = "scangit-engine-5";

pub(super) struct Allow {
    pub condition: AllowCondition,
    pub target: RegexTarget,
    pub regexes: Vec<Regex>,
    pub stopwords: Vec<Vec<u8>>,
}

/// An allowlist with path or commit criteria, decided once the blob's location is known
/// ([`super::Engine::allowed_at`]). Its content criteria, when its condition is AND, are
/// evaluated by the engine and carried on each match as one bit of [`super::Match::location_bits`].
pub(super) struct LocationAllow {
    pub condition: AllowCondition,
    pub paths: Vec<Regex>,
    /// Lowercase hex commit ids.
    pub commits: Vec<String>,
    /// AND allowlists only: the content criteria, and the bit their verdict sets on matches.
    pub content: Option<(Allow, u32)>,
}

pub(super) struct CompiledRule {
    pub id: String,
    pub description: String,
    /// Built when first needed ([`CompiledRule::regex`]), or at once for a rule set not known
    /// to build (a user's file: its errors are reported when the engine is made).
    regex: OnceLock<Regex>,
    pattern: String,
    pub secret_group: Option<usize>,
    /// `L_r`: no reported match is longer.
    pub max_len: usize,
    pub entropy: Option<f64>,
    pub confidence: f32,
    pub checksum: Option<Checksum>,
    pub checksum_failure: ChecksumFailure,
    pub shape: Option<Shape>,
    pub allow: Vec<Allow>,
    /// Tagged `generic`: yields to any specific rule whose match overlaps it, and reports
    /// nothing assigned to a digest's name.
    pub generic: bool,
    /// Tagged `repeated-chars`: its format has runs of one character, which do not make its
    /// secrets placeholders.
    pub repeats_expected: bool,
    /// gitleaks `path`: the rule reports only in blobs whose (attributed) path matches.
    pub path: Option<Regex>,
    pub location_allow: Vec<LocationAllow>,
    /// For a rule whose every match starts with one of its keywords: the byte sets its
    /// matches start with, which keyword hits must fit ([`super::lead`]).
    pub lead: Option<super::lead::Lead>,
}

impl CompiledRule {
    /// The rule's regex. Most rules of a large set never get a keyword hit in a given
    /// repository, and building all of them up front cost most of a scan's start (0.7 s and
    /// 100 MB for the built-in set).
    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            // Unreachable: a set's regexes are either built in `compile_rule` (so the cell is
            // full) or known to build (`RuleSet::prebuilt_ok`, checked by a test).
            build_regex(&self.pattern).unwrap_or_else(|_| never_matches())
        })
    }
}

/// A regex that matches nothing.
fn never_matches() -> Regex {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"[^\x00-\x{10FFFF}]").unwrap()
}

pub(super) struct Compiled {
    pub rules: Vec<CompiledRule>,
    /// The keyword prefilter over every keyword rule's (lowercase) keywords.
    pub keywords: Option<Keywords>,
    /// For each keyword pattern, the rules it belongs to.
    pub keyword_rules: Vec<Vec<u32>>,
    /// Largest `L_r` over keyword rules (how far past the owned range keyword hits matter).
    pub keyword_reach: usize,
    pub slow_rules: Vec<u32>,
    /// Whether any rule is generic (enables the overlap check in `Engine::scan`).
    pub has_generic: bool,
    /// Largest `L_r` over slow rules.
    pub slow_reach: usize,
    pub context: usize,
    pub hash: [u8; 32],
    /// Whether a cluster of one rule's keyword hits is searched once before confirming each
    /// (see `may_report`); off only in equivalence tests.
    pub shared_confirm: bool,
}

fn regex_error(
    rules: &RuleSet,
    rule: Option<&str>,
    line: usize,
    field: &str,
    e: impl ToString,
) -> RulesError {
    RulesError::BadRegex {
        origin: rules.origin().to_owned(),
        line,
        rule: rule.map(str::to_owned),
        field: field.to_owned(),
        message: e.to_string(),
    }
}

/// Compiles a rule, allowlist or path regex. Perl classes (`\w`, `\d`, `\s`, `\b`) and case
/// folding are ASCII, as in Go's RE2, which gitleaks rules are written for; a Unicode `\w` also
/// makes the lazy DFA far slower (gitleaks' `generic-api-key` over 23.5 MB of a corpus:
/// 9.9 s Unicode, 0.08 s ASCII) and a bounded match up to 4x longer, so windows are wider. A
/// pattern that needs Unicode (`\p{L}`, a non-ASCII class) is compiled with Unicode.
fn build_regex(pattern: &str) -> Result<Regex, String> {
    crate::detect::rules::check_pattern_size(pattern)?;
    let build = |unicode: bool| {
        RegexBuilder::new(pattern)
            .unicode(unicode)
            .size_limit(16 << 20)
            .dfa_size_limit(8 << 20)
            .build()
    };
    build(false)
        .or_else(|_| build(true))
        .map_err(|e| crate::detect::rules::one_line_regex_error(&e.to_string()))
}

/// The syntax tree of a rule's regex, with the same Unicode choice as [`build_regex`].
fn parse_hir(pattern: &str) -> Result<regex_syntax::hir::Hir, String> {
    crate::detect::rules::check_pattern_size(pattern)?;
    let parser = |unicode: bool| {
        regex_syntax::ParserBuilder::new()
            .utf8(false)
            .unicode(unicode)
            .build()
    };
    if let Ok(hir) = parser(false).parse(pattern) {
        return Ok(hir);
    }
    parser(true)
        .parse(pattern)
        .map_err(|e| crate::detect::rules::one_line_regex_error(&e.to_string()))
}

/// Allowlist regexes compiled once per pattern: a global allowlist applies to every rule, and
/// `regex::Regex` clones share the compiled program (betterleaks' default config built its
/// global allowlists once per rule: 1.7 s of its 1.9 s engine build).
#[derive(Default)]
struct RegexMemo(std::collections::HashMap<String, Regex>);

impl RegexMemo {
    fn get(&mut self, pattern: &str) -> Result<Regex, String> {
        if let Some(r) = self.0.get(pattern) {
            return Ok(r.clone());
        }
        let r = build_regex(pattern)?;
        self.0.insert(pattern.to_owned(), r.clone());
        Ok(r)
    }

    /// Every pattern of one allowlist field, compiled; an error names the rule, line and field.
    fn all(
        &mut self,
        patterns: &[String],
        rules: &RuleSet,
        rule: Option<&str>,
        line: usize,
        field: &str,
    ) -> Result<Vec<Regex>, RulesError> {
        patterns
            .iter()
            .map(|p| {
                self.get(p)
                    .map_err(|e| regex_error(rules, rule, line, field, e))
            })
            .collect()
    }
}

/// Literal prefixes every match starts with, if there are few and they are at least 2 bytes.
fn literal_prefixes(hir: &regex_syntax::hir::Hir) -> Option<Vec<String>> {
    let seq = prefix_literals(hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > 64 || lits.iter().any(|l| l.as_bytes().len() < 2) {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for l in lits {
        // Keywords are matched ASCII-case-insensitively; non-UTF-8 prefixes are rare enough to
        // send such a rule down the slow path instead of carrying raw-byte keywords.
        let s = std::str::from_utf8(l.as_bytes()).ok()?.to_ascii_lowercase();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Some(out)
}

/// The literals every match of `hir` starts with one of (infinite when there are too many to
/// list or some match may start anywhere).
pub(super) fn prefix_literals(hir: &regex_syntax::hir::Hir) -> regex_syntax::hir::literal::Seq {
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix);
    ex.extract(hir)
}

/// At most this many AND allowlists mixing content with location per rule (one bit each).
pub(super) const MAX_LOCATION_BITS: u32 = 64;

fn compile_location_allow(
    rules: &RuleSet,
    rule: Option<&str>,
    line: usize,
    al: &Allowlist,
    bits: &mut u32,
    memo: &mut RegexMemo,
) -> Result<Option<LocationAllow>, RulesError> {
    if !al.needs_location() {
        return Ok(None);
    }
    let paths = memo.all(&al.paths, rules, rule, line, "allowlist.paths")?;
    let content = if al.condition == AllowCondition::And && al.has_content_criteria() {
        if *bits >= MAX_LOCATION_BITS {
            return Err(RulesError::BadField {
                origin: rules.origin().to_owned(),
                line,
                rule: rule.map(str::to_owned),
                field: "allowlists".into(),
                message: format!(
                    "more than {MAX_LOCATION_BITS} AND allowlists mixing paths or commits with regexes or stopwords"
                ),
            });
        }
        let allow = content_allow(rules, rule, line, al, memo)?;
        let bit = *bits;
        *bits += 1;
        Some((allow, bit))
    } else {
        None
    };
    Ok(Some(LocationAllow {
        condition: al.condition,
        paths,
        commits: al.commits.iter().map(|c| c.to_ascii_lowercase()).collect(),
        content,
    }))
}

fn compile_allow(
    rules: &RuleSet,
    rule: Option<&str>,
    line: usize,
    al: &Allowlist,
    memo: &mut RegexMemo,
) -> Result<Option<Allow>, RulesError> {
    // AND allowlists that also need a path or commit cannot be decided on bytes: the runner
    // applies them. OR allowlists contribute their content criteria here.
    if !al.has_content_criteria() || (al.condition == AllowCondition::And && al.needs_location()) {
        return Ok(None);
    }
    content_allow(rules, rule, line, al, memo).map(Some)
}

/// The content criteria of an allowlist (regexes, stopwords), compiled.
fn content_allow(
    rules: &RuleSet,
    rule: Option<&str>,
    line: usize,
    al: &Allowlist,
    memo: &mut RegexMemo,
) -> Result<Allow, RulesError> {
    let regexes = memo.all(&al.regexes, rules, rule, line, "allowlist.regexes")?;
    Ok(Allow {
        condition: al.condition,
        target: al.regex_target,
        regexes,
        stopwords: al.stopwords.iter().map(|s| s.as_bytes().to_vec()).collect(),
    })
}

/// Which rules of a set a [`Compiled`] holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// Rules with a regex and no `path`: run on every blob.
    Plain,
    /// Rules with a regex and a `path`: run only on blobs at a matching path (their keywords and
    /// regexes cost nothing elsewhere, so they may be written without distinctive keywords).
    Gated,
}

/// A path-only rule: a blob whose path matches is itself the finding.
pub(super) struct PathRule {
    pub id: String,
    pub description: String,
    pub confidence: f32,
    pub path: Regex,
    pub location_allow: Vec<LocationAllow>,
}

/// The rules decided on a blob's path: which paths open the gated rules, and the path-only
/// rules. `set` holds the gated rules' paths first, then the path-only rules' paths.
#[derive(Default)]
pub(super) struct Gate {
    pub set: Option<regex::bytes::RegexSet>,
    pub gated_paths: usize,
    pub path_only: Vec<PathRule>,
    pub hash: [u8; 32],
}

pub(super) fn gate(set: &RuleSet) -> Result<Gate, RulesError> {
    let mut memo = RegexMemo::default();
    let mut patterns = Vec::new();
    let mut path_only = Vec::new();
    let mut hash = RulesHash::new();
    for r in set.rules().iter().filter(|r| r.regex.is_some()) {
        if let Some(p) = &r.path {
            patterns.push(p.clone());
        }
    }
    let gated_paths = patterns.len();
    for r in set.rules().iter().filter(|r| r.regex.is_none()) {
        let rid = Some(r.id.as_str());
        let Some(p) = &r.path else { continue };
        let path = build_regex(p).map_err(|e| regex_error(set, rid, r.line, "path", e))?;
        let (_, location_allow) = rule_allowlists(set, r, &mut memo)?;
        hash.put(r.id.as_bytes());
        hash.put(r.description.as_bytes());
        hash.put(p.as_bytes());
        hash.put(&r.confidence.map_or(u32::MAX, f32::to_bits).to_le_bytes());
        hash.location_allowlists(&location_allow);
        patterns.push(p.clone());
        path_only.push(PathRule {
            id: r.id.clone(),
            description: r.description.clone(),
            confidence: r.confidence.unwrap_or(0.5),
            path,
            location_allow,
        });
    }
    let set_re = if patterns.is_empty() {
        None
    } else {
        let built = |unicode: bool| {
            regex::bytes::RegexSetBuilder::new(&patterns)
                .unicode(unicode)
                .size_limit(64 << 20)
                .dfa_size_limit(16 << 20)
                .build()
        };
        let re = built(false)
            .or_else(|_| built(true))
            .map_err(|e| regex_error(set, None, 0, "path", e))?;
        Some(re)
    };
    Ok(Gate {
        set: set_re,
        gated_paths,
        path_only,
        hash: hash.finish(false, 0),
    })
}

pub(super) fn compile(set: &RuleSet, part: Part) -> Result<Compiled, RulesError> {
    let mut memo = RegexMemo::default();
    let mut rules = Vec::new();
    let mut index = KeywordIndex::default();
    let mut hash = RulesHash::new();
    for r in set.rules() {
        let Some(pattern) = r.regex.as_deref() else {
            continue; // path-only rule: decided on the path alone (see `gate`)
        };
        if r.path.is_some() != (part == Part::Gated) {
            continue;
        }
        let (rule, keywords) = compile_rule(set, r, pattern, &mut memo)?;
        index.add(rules.len() as u32, &keywords, rule.max_len);
        hash.rule(r, pattern, &rule, &keywords);
        rules.push(rule);
    }

    // Patterns are lowercase; matching is ASCII case-insensitive.
    let keywords = Keywords::new(&index.patterns).map_err(|e| RulesError::BadField {
        origin: set.origin().to_owned(),
        line: 0,
        rule: None,
        field: "keywords".into(),
        message: e.to_string(),
    })?;
    let context = context_bytes(index.keyword_reach, index.slow_reach);
    let has_generic = rules.iter().any(|r| r.generic);
    Ok(Compiled {
        rules,
        keywords,
        keyword_rules: index.keyword_rules,
        keyword_reach: index.keyword_reach,
        slow_rules: index.slow_rules,
        context,
        has_generic,
        slow_reach: index.slow_reach,
        hash: hash.finish(has_generic, context),
        shared_confirm: true,
    })
}

/// One rule with a regex, compiled, and its keywords (its own, else its regex's literal
/// prefixes; none makes it a slow rule).
fn compile_rule(
    set: &RuleSet,
    r: &Rule,
    pattern: &str,
    memo: &mut RegexMemo,
) -> Result<(CompiledRule, Vec<String>), RulesError> {
    let rid = Some(r.id.as_str());
    let hir = parse_hir(pattern).map_err(|e| regex_error(set, rid, r.line, "regex", e))?;
    let regex = OnceLock::new();
    if !set.prebuilt_ok {
        let built = build_regex(pattern).map_err(|e| regex_error(set, rid, r.line, "regex", e))?;
        let _ = regex.set(built);
    }
    let cap = r.max_len.unwrap_or(DEFAULT_MAX_LEN);
    let max_len = hir
        .properties()
        .maximum_len()
        .map_or(cap, |m| m.min(cap))
        .max(1);
    let keywords = if r.keywords.is_empty() {
        literal_prefixes(&hir).unwrap_or_default()
    } else {
        r.keywords.clone()
    };
    let lead = super::lead::starts_with_keyword(&hir, &keywords)
        .then(|| super::lead::Lead::of(&hir))
        .flatten();
    let (allow, location_allow) = rule_allowlists(set, r, memo)?;
    let path = match &r.path {
        Some(p) => Some(build_regex(p).map_err(|e| regex_error(set, rid, r.line, "path", e))?),
        None => None,
    };
    let rule = CompiledRule {
        id: r.id.clone(),
        description: r.description.clone(),
        regex,
        pattern: pattern.to_owned(),
        secret_group: r.secret_group,
        max_len,
        entropy: r.entropy,
        confidence: r.confidence.unwrap_or(0.5),
        checksum: r.checksum,
        checksum_failure: r.checksum_failure,
        shape: r.shape,
        allow,
        generic: r.tags.iter().any(|t| t.eq_ignore_ascii_case("generic")),
        repeats_expected: r
            .tags
            .iter()
            .any(|t| t.eq_ignore_ascii_case("repeated-chars")),
        path,
        location_allow,
        lead,
    };
    Ok((rule, keywords))
}

/// The allowlists that apply to rule `r` (its own, then the global ones targeting it), split
/// into those the engine decides on bytes and those that need the blob's location.
fn rule_allowlists(
    set: &RuleSet,
    r: &Rule,
    memo: &mut RegexMemo,
) -> Result<(Vec<Allow>, Vec<LocationAllow>), RulesError> {
    let mut allow = Vec::new();
    let mut location_allow = Vec::new();
    let mut bits = 0u32;
    let global = set
        .allowlists()
        .iter()
        .filter(|al| al.target_rules.is_empty() || al.target_rules.iter().any(|t| t == &r.id));
    for (al, rid, line) in r
        .allowlists
        .iter()
        .map(|al| (al, Some(r.id.as_str()), r.line))
        .chain(global.map(|al| (al, None, 0)))
    {
        allow.extend(compile_allow(set, rid, line, al, memo)?);
        location_allow.extend(compile_location_allow(set, rid, line, al, &mut bits, memo)?);
    }
    Ok((allow, location_allow))
}

/// Which rules each keyword selects, which rules are slow, and how far matches of each kind
/// reach.
#[derive(Default)]
struct KeywordIndex {
    /// Distinct keywords, in order of first use.
    patterns: Vec<String>,
    /// For each pattern, the rules it belongs to.
    keyword_rules: Vec<Vec<u32>>,
    /// Position of each pattern in `patterns` (a linear search made 100,000 rules quadratic).
    position: std::collections::HashMap<String, usize>,
    slow_rules: Vec<u32>,
    keyword_reach: usize,
    slow_reach: usize,
}

impl KeywordIndex {
    /// Rule `index` with `keywords` (none: a slow rule) and maximum match length `max_len`.
    fn add(&mut self, index: u32, keywords: &[String], max_len: usize) {
        if keywords.is_empty() {
            self.slow_rules.push(index);
            self.slow_reach = self.slow_reach.max(max_len);
            return;
        }
        self.keyword_reach = self.keyword_reach.max(max_len);
        for kw in keywords {
            match self.position.get(kw) {
                Some(&p) => self.keyword_rules[p].push(index),
                None => {
                    self.position.insert(kw.clone(), self.patterns.len());
                    self.patterns.push(kw.clone());
                    self.keyword_rules.push(vec![index]);
                }
            }
        }
    }
}

/// The rules hash: a canonical serialization of everything that changes what is reported (the
/// engine's version and constants, every compiled rule, the context), length-prefixed.
struct RulesHash(blake3::Hasher);

impl RulesHash {
    fn new() -> Self {
        let mut h = RulesHash(blake3::Hasher::new());
        h.put(ENGINE_VERSION.as_bytes());
        for n in [
            MARGIN,
            LINE_CTX,
            DEFAULT_MAX_LEN,
            base64::MIN_RUN,
            base64::MAX_RUN,
            super::percent::MIN_RUN,
            super::json::MIN_RUN,
            super::entity::MIN_RUN,
            super::hex::MIN_RUN,
            super::MAX_DEPTH,
        ] {
            h.put(&(n as u64).to_le_bytes());
        }
        h
    }

    fn put(&mut self, bytes: &[u8]) {
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn rule(&mut self, r: &Rule, pattern: &str, c: &CompiledRule, keywords: &[String]) {
        self.put(r.id.as_bytes());
        self.put(r.description.as_bytes());
        self.put(pattern.as_bytes());
        self.put(&(r.secret_group.map_or(u64::MAX, |g| g as u64)).to_le_bytes());
        self.put(&r.entropy.map_or(u64::MAX, f64::to_bits).to_le_bytes());
        self.put(&r.confidence.map_or(u32::MAX, f32::to_bits).to_le_bytes());
        self.put(&(c.max_len as u64).to_le_bytes());
        self.put(format!("{:?}/{:?}/{:?}", r.checksum, r.checksum_failure, r.shape).as_bytes());
        // The tags the engine reads.
        self.put(&[u8::from(c.generic), u8::from(c.repeats_expected)]);
        let mut sorted_kw = keywords.to_vec();
        sorted_kw.sort();
        for kw in &sorted_kw {
            self.put(kw.as_bytes());
        }
        self.put(b"allow");
        for a in &c.allow {
            self.put(format!("{:?}/{:?}", a.condition, a.target).as_bytes());
            for re in &a.regexes {
                self.put(re.as_str().as_bytes());
            }
            self.put(b"stop");
            for s in &a.stopwords {
                self.put(s);
            }
        }
        self.put(b"path");
        self.put(r.path.as_deref().unwrap_or("").as_bytes());
        self.location_allowlists(&c.location_allow);
        self.put(b"end-rule");
    }

    fn location_allowlists(&mut self, location_allow: &[LocationAllow]) {
        for la in location_allow {
            self.put(format!("loc {:?}", la.condition).as_bytes());
            for p in &la.paths {
                self.put(p.as_str().as_bytes());
            }
            self.put(b"commits");
            for c in &la.commits {
                self.put(c.as_bytes());
            }
            if let Some((a, bit)) = &la.content {
                self.put(format!("{:?}/{bit}", a.target).as_bytes());
                for re in &a.regexes {
                    self.put(re.as_str().as_bytes());
                }
                for w in &a.stopwords {
                    self.put(w);
                }
            }
        }
    }

    fn finish(mut self, has_generic: bool, context: usize) -> [u8; 32] {
        self.put(&[u8::from(has_generic)]);
        self.put(&(context as u64).to_le_bytes());
        *self.0.finalize().as_bytes()
    }
}

/// The context `C` a window needs on each side of its owned range (see the engine docs).
///
/// For a match anchored (starting) at `x` in the owned range, the bytes read are:
/// - keyword rules: keyword hits up to `x + L`; the regex search around a hit spans
///   `[ke - L - MARGIN, ks + L + MARGIN]`, so `x - L - MARGIN ..= x + 2L + MARGIN`;
/// - slow rules: `x - 1 - MARGIN ..= x + L + MARGIN`;
/// - line context: `LINE_CTX` before the match start and after its end (`<= x + L`);
/// - encoded runs (anchor = run start): two bytes before, the run up to `MAX_RUN` plus padding
///   and a few bytes after (an escape's digits; longer runs are skipped either way), plus line
///   context. Every layer's `MAX_RUN` is base64's. The escape layers also scan the raw run for
///   the same rules: matches anchored up to `MAX_RUN` past the anchor, read as above.
///
/// The generic-overlap check re-scans the owned range widened by `L` on each side (a specific
/// match overlapping a generic one is anchored within `L` of it), so `L` more is needed.
pub(super) fn context_bytes(keyword_reach: usize, slow_reach: usize) -> usize {
    let l = keyword_reach.max(slow_reach);
    base_context(keyword_reach, slow_reach) + l
}

fn base_context(keyword_reach: usize, slow_reach: usize) -> usize {
    let l = keyword_reach.max(slow_reach);
    let left = (l + MARGIN + 1).max(LINE_CTX + 1);
    let right = (2 * keyword_reach + MARGIN)
        .max(slow_reach + MARGIN)
        .max(l + LINE_CTX)
        .max(base64::MAX_RUN + 4 + LINE_CTX)
        .max(base64::MAX_RUN + 2 * keyword_reach + MARGIN)
        .max(base64::MAX_RUN + slow_reach + MARGIN);
    left.max(right) + 16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What lets the engine build the built-in rules' regexes lazily: every one of them builds
    /// (a user's rule set is built at once instead, so its errors surface when it is loaded).
    #[test]
    fn every_builtin_regex_builds() {
        let set = RuleSet::builtin();
        assert!(set.prebuilt_ok);
        let mut n = 0;
        for r in set.rules() {
            if let Some(p) = r.regex.as_deref() {
                build_regex(p).unwrap_or_else(|e| panic!("{}: {e}", r.id));
                n += 1;
            }
        }
        assert!(n > 400, "{n} regexes");
        // A set parsed from text is built up front: a regex over the size limit is an error
        // of the set, not of a scan.
        let big =
            "[[rules]]\nid = \"big\"\nregex = '''(?:[a-z]{1000}){1000}x'''\nkeywords = [\"x\"]\n";
        let (user, _) = RuleSet::from_toml_str(big, "user.toml").expect("parses");
        assert!(!user.prebuilt_ok);
        assert!(super::super::Engine::new(&user).is_err());
        // And the lazily built regexes of the built-in set find what the eager ones find.
        let engine = super::super::Engine::builtin().expect("built-in");
        let hay = b"token = ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let mut scratch = engine.new_scratch();
        let mut out = Vec::new();
        engine.scan(hay, 0..hay.len(), &mut scratch, &mut out);
        assert!(out.iter().any(|m| engine.rule_id(m.rule) == "github-pat"));
    }
}
