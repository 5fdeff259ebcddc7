//! The detection engine: compiled rules, a keyword prefilter, regex confirmation around each
//! keyword hit, and recursive decoding (up to `MAX_DEPTH` levels, in any order) of base64,
//! percent-encoding, JSON string escapes, XML/HTML character entities and hex; findings in
//! decoded text are reported at the encoded run, with `decoded_from`.
//!
//! Chunk invariance is the contract everything else relies on. Every decision about a match is a
//! function of the bytes within a bounded distance of its *anchor* (the full-match start, or the
//! start of the encoded run it was decoded from), measured relative to that anchor:
//! - a keyword hit `[ks, ke)` of rule `r` is confirmed by running `r`'s regex over
//!   `hay[ke - L_r - MARGIN .. ks + L_r + MARGIN]` (a sub-slice, so look-around sees exactly those
//!   bytes), iterating leftmost-first matches from its start and keeping the ones that contain the
//!   keyword and are at most `L_r` long; a match is found by every hit it contains;
//! - slow rules (no keyword, no literal prefix) report the leftmost-first match anchored at `x`
//!   (searched over `hay[x - MARGIN .. x + L_r + MARGIN]`) when there is none anchored at `x - 1`;
//! - filters read the match's line, at most `LINE_CTX` bytes either side;
//! - encoded runs are maximal runs of a byte class (at most `MAX_RUN` bytes; membership reads at
//!   most one byte back), decoded and scanned whole; for the escape layers (percent, JSON,
//!   entities), which leave most bytes as they were, a decoded finding is dropped when the same
//!   rule matches the raw run where the finding's bytes came from (checked by scanning the run
//!   itself, so it is chunk-invariant);
//! - generic rules yield to overlapping specific matches and to an earlier generic rule with the
//!   same secret span (checked on matches anchored within `L` of theirs).
//!
//! Hence `scan(window, owned)` equals the whole-blob scan restricted to anchors in `owned` when the
//! window shows `context_bytes()` bytes on each side of `owned` (or reaches the blob's ends).
//! Matches are reported sorted by `(start, end, rule)` and deduplicated.

mod base64;
mod compile;
mod entity;
mod filters;
mod hex;
mod json;
mod keywords;
mod lead;
mod percent;
mod runs;

use std::ops::Range;

use regex::bytes::CaptureLocations;

use gix_hash::ObjectId;

use crate::detect::rules::{AllowCondition, RuleSet, RulesError};
use compile::{CompiledRule, MARGIN};

/// Levels of decoding: a secret encoded twice is still found; thrice is not.
pub(crate) const MAX_DEPTH: usize = 2;

/// One decoding layer: how its runs are decoded, and its name in `decoded_from`.
struct Layer {
    name: &'static str,
    /// Decodes a run into `out`, and for layers that keep most bytes, into `map` the offset in
    /// the run that each decoded byte came from (then the run's length); false when the result
    /// is not worth scanning.
    decode: fn(&[u8], &mut Vec<u8>, &mut Vec<u32>) -> bool,
    /// Decoding leaves most bytes as they were, so a rule may match the raw run as well: the
    /// decoded finding is then dropped (one secret, one finding, at its raw span).
    keeps_raw: bool,
}

/// The decoding layers, in the order their runs are found (see [`Engine::scan_level`]).
const LAYERS: [Layer; 5] = [
    Layer {
        name: "base64",
        decode: |run, out, _| base64::decode(run, out),
        keeps_raw: false,
    },
    Layer {
        name: "percent",
        decode: percent::decode,
        keeps_raw: true,
    },
    Layer {
        name: "json",
        decode: json::decode,
        keeps_raw: true,
    },
    Layer {
        name: "entity",
        decode: entity::decode,
        keeps_raw: true,
    },
    Layer {
        name: "hex",
        decode: hex::decode,
        keeps_raw: false,
    },
];

/// Compiled rules, shared read-only by all worker threads.
///
/// Rules are numbered in three consecutive parts: the plain rules (no `path`), run on every blob
/// by [`Engine::scan`]; the gated rules (a regex and a `path`), run by their own engine
/// ([`Engine::at_path`]) only on blobs at a path one of them names; the path-only rules, for which
/// a matching path is the finding.
pub struct Engine {
    c: compile::Compiled,
    gated: Option<Box<Engine>>,
    gate: compile::Gate,
    hash: [u8; 32],
}

/// What a blob's path opens: the gated rules' engine (its rule numbers start at
/// [`Engine::gated_base`]) and the path-only rules that match.
pub struct AtPath<'e> {
    pub gated: Option<&'e Engine>,
    pub path_only: Vec<u32>,
}

/// A rule of any part, as far as reporting needs it.
enum RuleRef<'e> {
    Regex(&'e CompiledRule),
    PathOnly(&'e compile::PathRule),
}

/// Per-thread reusable buffers (one set per decoding level). Valid for the engine that made it;
/// passing another engine's scratch is harmless (it is rebuilt).
pub struct Scratch {
    levels: Vec<Level>,
    /// Matches around the owned range, for the generic-overlap check.
    around: Vec<Match>,
}

struct Level {
    hits: Vec<Hit>,
    kw: keywords::KeywordScratch,
    runs: Vec<Range<usize>>,
    /// Where each layer's runs end in `runs`.
    layer_ends: [usize; LAYERS.len()],
    /// The runs of the layers after base64, as they are found.
    more_runs: [Vec<Range<usize>>; LAYERS.len() - 1],
    decoded: Vec<u8>,
    /// For each decoded byte, the offset in its run that it came from (escape layers).
    map: Vec<u32>,
    found: Vec<Match>,
    locs: Vec<Option<CaptureLocations>>,
    /// Leftmost-first matches over a cluster of one rule's keyword windows.
    spans: Vec<Range<usize>>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Hit {
    rule: u32,
    start: usize,
    end: usize,
}

/// One finding. `start..end` is the secret's span in the haystack (for decoded findings, the
/// span of the encoded run); `secret` holds the (decoded) secret bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub rule: u32,
    pub start: usize,
    pub end: usize,
    pub secret: Vec<u8>,
    pub decoded_from: Vec<&'static str>,
    pub confidence: f32,
    /// Which AND allowlists mixing content with paths or commits had their content criteria
    /// met (for [`Engine::allowed_at`]).
    pub location_bits: u64,
}

impl Engine {
    /// Whether some rule has criteria on the blob's path or commit (a `path`, or allowlist
    /// `paths`/`commits`), so matches must go through [`Engine::allowed_at`].
    pub fn has_location_criteria(&self) -> bool {
        self.gated.is_some()
            || !self.gate.path_only.is_empty()
            || self.c.rules.iter().any(|r| !r.location_allow.is_empty())
    }

    fn rule_ref(&self, rule: u32) -> Option<RuleRef<'_>> {
        let i = rule as usize;
        let plain = self.c.rules.len();
        let gated = self.gated.as_ref().map_or(0, |g| g.c.rules.len());
        if let Some(r) = self.c.rules.get(i) {
            Some(RuleRef::Regex(r))
        } else if i < plain + gated {
            self.gated
                .as_ref()
                .map(|g| RuleRef::Regex(&g.c.rules[i - plain]))
        } else {
            self.gate
                .path_only
                .get(i - plain - gated)
                .map(RuleRef::PathOnly)
        }
    }

    /// Whether match `m` (numbered as this engine numbers rules: a gated engine's matches
    /// shifted by [`Engine::gated_base`]), in a blob at `path` introduced by `commit`, is
    /// reported: the rule's `path` must match, and no allowlist with path or commit criteria
    /// may suppress it (OR: any criterion; AND: every criterion present, content ones as
    /// recorded in the match). Blobs with no path (reachable from no commit) match no path
    /// regex.
    pub fn allowed_at(&self, m: &Match, path: Option<&[u8]>, commit: Option<&ObjectId>) -> bool {
        let (re, location_allow) = match self.rule_ref(m.rule) {
            None => return true,
            Some(RuleRef::Regex(r)) => (r.path.as_ref(), &r.location_allow),
            Some(RuleRef::PathOnly(r)) => (Some(&r.path), &r.location_allow),
        };
        if let Some(re) = re
            && !path.is_some_and(|p| re.is_match(p))
        {
            return false;
        }
        let commit_hex = commit.map(|c| c.to_string());
        for la in location_allow {
            let path_hit = (!la.paths.is_empty())
                .then(|| path.is_some_and(|p| la.paths.iter().any(|r| r.is_match(p))));
            let commit_hit = (!la.commits.is_empty()).then(|| {
                commit_hex
                    .as_deref()
                    .is_some_and(|c| la.commits.iter().any(|x| x == c))
            });
            let suppressed = match la.condition {
                AllowCondition::Or => path_hit == Some(true) || commit_hit == Some(true),
                AllowCondition::And => {
                    path_hit != Some(false)
                        && commit_hit != Some(false)
                        && la
                            .content
                            .as_ref()
                            .is_none_or(|(_, bit)| m.location_bits & (1 << bit) != 0)
                }
            };
            if suppressed {
                return false;
            }
        }
        true
    }

    pub fn new(rules: &RuleSet) -> Result<Engine, RulesError> {
        let c = compile::compile(rules, compile::Part::Plain)?;
        let g = compile::compile(rules, compile::Part::Gated)?;
        let gate = compile::gate(rules)?;
        let mut h = blake3::Hasher::new();
        h.update(&c.hash);
        h.update(&g.hash);
        h.update(&gate.hash);
        let gated = (!g.rules.is_empty()).then(|| {
            Box::new(Engine {
                hash: g.hash,
                c: g,
                gated: None,
                gate: compile::Gate::default(),
            })
        });
        Ok(Engine {
            c,
            gated,
            gate,
            hash: *h.finalize().as_bytes(),
        })
    }

    /// What a blob at `path` opens besides the plain rules (nothing for an empty path).
    pub fn at_path(&self, path: &[u8]) -> AtPath<'_> {
        let mut at = AtPath {
            gated: None,
            path_only: Vec::new(),
        };
        let Some(set) = self.gate.set.as_ref().filter(|_| !path.is_empty()) else {
            return at;
        };
        let base = self.gated_base() + self.gated.as_ref().map_or(0, |g| g.c.rules.len() as u32);
        for i in set.matches(path).iter() {
            if i < self.gate.gated_paths {
                at.gated = self.gated.as_deref();
            } else {
                at.path_only.push(base + (i - self.gate.gated_paths) as u32);
            }
        }
        at
    }

    /// Whether a match of rule `rule` over `span` yields to one of `others`, the matches of the
    /// other pass over the same text (`gated`: this match comes from the gated pass, the others
    /// from the plain one; else the reverse). One location, one finding:
    /// - a generic match yields to any overlapping specific match, as within one pass;
    /// - a plain generic match yields to a gated generic match of exactly its span (the rule
    ///   that knows the file's format wins);
    /// - a gated specific match yields to a plain specific match of exactly its span (a
    ///   provider's token in a credential file is reported under the provider's rule).
    pub fn yields_across_passes(
        &self,
        (rule, span): (u32, Range<u64>),
        mut others: impl Iterator<Item = (u32, Range<u64>)>,
        gated: bool,
    ) -> bool {
        let generic = self.rule_is_generic(rule);
        others.any(|(r, o)| match (generic, self.rule_is_generic(r)) {
            (true, false) => o.start < span.end && span.start < o.end,
            (true, true) => !gated && o == span,
            (false, false) => gated && o == span,
            (false, true) => false,
        })
    }

    /// Whether rule `rule`'s `path` (if it has one) matches `path`: a gated match whose own
    /// rule's path does not match (the blob opened the gated rules for another rule's path)
    /// is not reported, and must not make others yield either.
    pub fn rule_path_matches(&self, rule: u32, path: &[u8]) -> bool {
        let re = match self.rule_ref(rule) {
            Some(RuleRef::Regex(r)) => r.path.as_ref(),
            Some(RuleRef::PathOnly(r)) => Some(&r.path),
            None => None,
        };
        re.is_none_or(|re| re.is_match(path))
    }

    /// The engine of the gated rules, if there are any (for a worker's second adapter).
    pub fn at_gated_engine(&self) -> Option<&Engine> {
        self.gated.as_deref()
    }

    /// The number of the gated engine's rule 0 in this engine's numbering.
    pub fn gated_base(&self) -> u32 {
        self.c.rules.len() as u32
    }

    /// The confidence of rule `rule` (0.5 when out of range).
    pub fn rule_confidence(&self, rule: u32) -> f32 {
        match self.rule_ref(rule) {
            Some(RuleRef::Regex(r)) => r.confidence,
            Some(RuleRef::PathOnly(r)) => r.confidence,
            None => 0.5,
        }
    }

    /// Whether rule `rule` is generic (yields to specific rules where they overlap).
    pub fn rule_is_generic(&self, rule: u32) -> bool {
        matches!(self.rule_ref(rule), Some(RuleRef::Regex(r)) if r.generic)
    }

    pub fn builtin() -> Result<Engine, RulesError> {
        Self::new(&RuleSet::builtin())
    }

    /// Bytes of context a window needs on each side of its owned range for chunk invariance.
    pub fn context_bytes(&self) -> usize {
        self.c.context
    }

    /// blake3 of a canonical serialization of the compiled rules and the engine's semantics.
    pub fn rules_hash(&self) -> [u8; 32] {
        self.hash
    }

    /// Rules of all three parts.
    pub fn rule_count(&self) -> usize {
        self.c.rules.len()
            + self.gated.as_ref().map_or(0, |g| g.c.rules.len())
            + self.gate.path_only.len()
    }

    /// The id of rule `rule`, or "" when out of range.
    pub fn rule_id(&self, rule: u32) -> &str {
        match self.rule_ref(rule) {
            Some(RuleRef::Regex(r)) => &r.id,
            Some(RuleRef::PathOnly(r)) => &r.id,
            None => "",
        }
    }

    /// The description of rule `rule`, or "" when out of range.
    pub fn rule_description(&self, rule: u32) -> &str {
        match self.rule_ref(rule) {
            Some(RuleRef::Regex(r)) => &r.description,
            Some(RuleRef::PathOnly(r)) => &r.description,
            None => "",
        }
    }

    /// Turns off the shared search over clusters of one rule's keyword hits, so every hit is
    /// confirmed alone (the reference the shared search is tested against; results are equal).
    #[doc(hidden)]
    pub fn confirm_each_hit_alone(&mut self) {
        self.c.shared_confirm = false;
        if let Some(g) = &mut self.gated {
            g.confirm_each_hit_alone();
        }
    }

    pub fn new_scratch(&self) -> Scratch {
        Scratch {
            levels: (0..=MAX_DEPTH)
                .map(|_| Level {
                    hits: Vec::new(),
                    kw: Default::default(),
                    runs: Vec::new(),
                    layer_ends: [0; LAYERS.len()],
                    more_runs: Default::default(),
                    decoded: Vec::new(),
                    map: Vec::new(),
                    found: Vec::new(),
                    spans: Vec::new(),
                    locs: self.c.rules.iter().map(|_| None).collect(),
                })
                .collect(),
            around: Vec::new(),
        }
    }

    /// Appends the matches anchored in `owned` (clamped to `hay`), sorted by (start, end, rule).
    pub fn scan(
        &self,
        hay: &[u8],
        owned: Range<usize>,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        let owned = owned.start.min(hay.len())..owned.end.min(hay.len());
        if owned.is_empty() || self.c.rules.is_empty() {
            return;
        }
        if scratch.levels.len() != MAX_DEPTH + 1
            || scratch.levels[0].locs.len() != self.c.rules.len()
        {
            *scratch = self.new_scratch();
        }
        let first = out.len();
        self.scan_level(hay, owned.clone(), &mut scratch.levels, out);
        sort_dedup(out, first);
        if self.c.has_generic
            && out[first..]
                .iter()
                .any(|m| self.c.rules[m.rule as usize].generic)
        {
            self.drop_generic_overlaps(hay, owned, scratch, out, first);
        }
    }

    /// A generic rule (password assignment, ...) reports nothing where a specific rule matched
    /// an overlapping span, or where an earlier generic rule matched the same secret span: one
    /// location, one finding, under the most precise rule. The
    /// specific match may be anchored up to `L` outside the owned range (the context `C`
    /// accounts for it), so the check looks there too and does not depend on window cuts.
    fn drop_generic_overlaps(
        &self,
        hay: &[u8],
        owned: Range<usize>,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
        first: usize,
    ) {
        let reach = self.c.keyword_reach.max(self.c.slow_reach);
        let wide = owned.start.saturating_sub(reach)..(owned.end + reach).min(hay.len());
        let mut around = std::mem::take(&mut scratch.around);
        around.clear();
        self.scan_level(hay, wide, &mut scratch.levels, &mut around);
        let generic = |r: u32| self.c.rules[r as usize].generic;
        let mut i = first;
        while i < out.len() {
            let m = &out[i];
            let covered = generic(m.rule)
                && around.iter().any(|o| {
                    if generic(o.rule) {
                        o.rule < m.rule && o.start == m.start && o.end == m.end
                    } else {
                        o.start < m.end && m.start < o.end
                    }
                });
            if covered {
                out.remove(i);
            } else {
                i += 1;
            }
        }
        scratch.around = around;
    }

    fn scan_level(
        &self,
        hay: &[u8],
        owned: Range<usize>,
        levels: &mut [Level],
        out: &mut Vec<Match>,
    ) {
        let Some((lvl, deeper)) = levels.split_first_mut() else {
            return;
        };
        self.keyword_pass(hay, &owned, lvl, out);
        for &r in &self.c.slow_rules {
            self.slow_pass(r, hay, &owned, &mut lvl.locs, out);
        }
        if deeper.is_empty() {
            return;
        }
        // Every layer's runs, in `LAYERS` order (hex runs are found by base64's finder, the
        // escape layers' in one pass).
        lvl.runs.clear();
        let [percent, json, entity, hex] = &mut lvl.more_runs;
        for v in [&mut *percent, &mut *json, &mut *entity, &mut *hex] {
            v.clear();
        }
        base64::find_runs(hay, owned.clone(), &mut lvl.runs, hex);
        runs::find_runs(hay, owned, percent, json, entity);
        lvl.layer_ends[0] = lvl.runs.len();
        for (v, end) in lvl.more_runs.iter_mut().zip(&mut lvl.layer_ends[1..]) {
            lvl.runs.append(v);
            *end = lvl.runs.len();
        }
        let mut layer = 0;
        for i in 0..lvl.runs.len() {
            while lvl.layer_ends[layer] <= i {
                layer += 1;
            }
            let Layer {
                name,
                decode,
                keeps_raw,
                ..
            } = LAYERS[layer];
            let run = lvl.runs[i].clone();
            if !decode(&hay[run.clone()], &mut lvl.decoded, &mut lvl.map) {
                continue;
            }
            lvl.found.clear();
            self.scan_level(&lvl.decoded, 0..lvl.decoded.len(), deeper, &mut lvl.found);
            if lvl.found.is_empty() || filters::line_allowed(hay, run.clone()) {
                continue;
            }
            if keeps_raw {
                self.drop_found_raw(hay, run.clone(), &lvl.map, &mut deeper[0], &mut lvl.found);
            }
            for m in lvl.found.drain(..) {
                let mut decoded_from = Vec::with_capacity(1 + m.decoded_from.len());
                decoded_from.push(name);
                decoded_from.extend(m.decoded_from);
                out.push(Match {
                    location_bits: m.location_bits,
                    rule: m.rule,
                    start: run.start,
                    end: run.end,
                    secret: m.secret,
                    decoded_from,
                    confidence: m.confidence,
                });
            }
        }
    }

    /// Removes from `found` (matches in the text decoded from `run`, with `map` from decoded
    /// offsets to offsets in the run) the matches whose rule also matches the raw bytes they
    /// came from: a match of that rule anchored inside the run whose secret overlaps them. Reads
    /// only `run` and its matches' context, so it is chunk-invariant.
    fn drop_found_raw(
        &self,
        hay: &[u8],
        run: Range<usize>,
        map: &[u32],
        tmp: &mut Level,
        found: &mut Vec<Match>,
    ) {
        let mut raw = std::mem::take(&mut tmp.found);
        raw.clear();
        self.keyword_pass(hay, &run, tmp, &mut raw);
        for &r in &self.c.slow_rules {
            self.slow_pass(r, hay, &run, &mut tmp.locs, &mut raw);
        }
        let at = |i: usize| run.start + map.get(i).map_or(run.len(), |&o| o as usize);
        found.retain(|m| {
            let (s, e) = (at(m.start), at(m.end).max(at(m.start) + 1));
            !raw.iter()
                .any(|o| o.rule == m.rule && o.start < e && s < o.end)
        });
        tmp.found = raw;
    }

    /// Keyword hits whose keyword could lie inside a match anchored in `owned`, then confirmation.
    fn keyword_pass(
        &self,
        hay: &[u8],
        owned: &Range<usize>,
        lvl: &mut Level,
        out: &mut Vec<Match>,
    ) {
        let Some(kw) = &self.c.keywords else { return };
        // A keyword inside a match anchored before `owned.end` ends before `owned.end + L`.
        let span_end = (owned.end + self.c.keyword_reach).min(hay.len());
        lvl.hits.clear();
        let hits = &mut lvl.hits;
        kw.for_each(
            hay,
            owned.start..span_end,
            &mut lvl.kw,
            |pattern, start, end| {
                for &rule in &self.c.keyword_rules[pattern] {
                    let l = self.c.rules[rule as usize].max_len;
                    if end <= owned.end + l {
                        hits.push(Hit { rule, start, end });
                    }
                }
            },
        );
        lvl.hits.sort_unstable();
        lvl.hits.dedup();
        self.drop_unled_hits(hay, &mut lvl.hits);
        // Hits are sorted by rule, then position: each rule's hits are split into clusters of
        // overlapping confirmation windows.
        let mut i = 0;
        while i < lvl.hits.len() {
            let rule = &self.c.rules[lvl.hits[i].rule as usize];
            let (mut j, mut g) = (i + 1, self.window(rule, &lvl.hits[i], hay.len()));
            while let Some(next) = lvl.hits.get(j)
                && next.rule == lvl.hits[i].rule
            {
                let w = self.window(rule, next, hay.len());
                if w.start >= g.end {
                    break;
                }
                g = g.start.min(w.start)..g.end.max(w.end);
                j += 1;
            }
            let shared = self.c.shared_confirm && j - i >= SHARED_CONFIRM_MIN_HITS;
            if shared {
                leftmost_matches(rule, hay, g, &mut lvl.spans);
            }
            for k in i..j {
                let hit = lvl.hits[k];
                if !shared || may_report(&lvl.spans, self.window(rule, &hit, hay.len()), &hit) {
                    self.confirm(hit, hay, owned, &mut lvl.locs, out);
                }
            }
            i = j;
        }
    }

    /// Drops the hits (sorted by rule, then position) that no match of their rule can contain,
    /// for rules whose matches all start at a keyword: a hit where the rule's lead does not
    /// fit, with no hit of the rule that fits in the `L` bytes before it (a match containing
    /// the hit would start at one of those).
    fn drop_unled_hits(&self, hay: &[u8], hits: &mut Vec<Hit>) {
        // (rule, start) of the last hit that fits.
        let mut last_fit: Option<(u32, usize)> = None;
        hits.retain(|h| {
            let rule = &self.c.rules[h.rule as usize];
            let Some(lead) = &rule.lead else {
                return true;
            };
            if lead.admits(hay, h.start) {
                last_fit = Some((h.rule, h.start));
                return true;
            }
            matches!(last_fit, Some((r, s)) if r == h.rule && s < h.start && s + rule.max_len >= h.end)
        });
    }

    /// The bytes [`Engine::confirm`] searches for `hit`.
    fn window(&self, rule: &CompiledRule, hit: &Hit, len: usize) -> Range<usize> {
        let l = rule.max_len;
        hit.end.saturating_sub(l + MARGIN)..(hit.start + l + MARGIN).min(len)
    }

    fn confirm(
        &self,
        hit: Hit,
        hay: &[u8],
        owned: &Range<usize>,
        locs: &mut [Option<CaptureLocations>],
        out: &mut Vec<Match>,
    ) {
        let rule = &self.c.rules[hit.rule as usize];
        let l = rule.max_len;
        let window = self.window(rule, &hit, hay.len());
        let base = window.start;
        let sub = &hay[window];
        for m in leftmost(rule, sub) {
            let (ms, me) = (base + m.start, base + m.end);
            if ms > hit.start {
                break;
            }
            if me >= hit.end && me - ms <= l && owned.contains(&ms) {
                self.report(hit.rule, rule, sub, base, m.start, locs, hay, out);
            }
        }
    }

    /// Slow rules: the match anchored at `x` counts when none is anchored at `x - 1`.
    fn slow_pass(
        &self,
        r: u32,
        hay: &[u8],
        owned: &Range<usize>,
        locs: &mut [Option<CaptureLocations>],
        out: &mut Vec<Match>,
    ) {
        let rule = &self.c.rules[r as usize];
        let l = rule.max_len;
        let base = owned.start.saturating_sub(1 + MARGIN);
        let sub = &hay[base..(owned.end + l + MARGIN).min(hay.len())];
        let mut pos = owned.start - base;
        while pos <= sub.len() {
            let Some(m) = rule.regex().find_at(sub, pos) else {
                break;
            };
            let x = base + m.start();
            if x >= owned.end {
                break;
            }
            if anchored_at(rule, hay, x).is_some()
                && (x == 0 || anchored_at(rule, hay, x - 1).is_none())
            {
                let cbase = x.saturating_sub(MARGIN);
                let csub = &hay[cbase..(x + l + MARGIN).min(hay.len())];
                self.report(r, rule, csub, cbase, x - cbase, locs, hay, out);
            }
            pos = m.start() + 1;
        }
    }

    /// Extracts the secret of the match starting at `sub[at..]` and applies the filters.
    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        r: u32,
        rule: &CompiledRule,
        sub: &[u8],
        base: usize,
        at: usize,
        locs: &mut [Option<CaptureLocations>],
        hay: &[u8],
        out: &mut Vec<Match>,
    ) {
        let Some(locs) = locs.get_mut(r as usize) else {
            return;
        };
        let locs = locs.get_or_insert_with(|| rule.regex().capture_locations());
        if rule.regex().captures_read_at(locs, sub, at).is_none() {
            return;
        }
        let Some((ws, we)) = locs.get(0) else { return };
        let group = match rule.secret_group {
            Some(g) => locs.get(g),
            None => (1..locs.len()).find_map(|g| locs.get(g)).or(Some((ws, we))),
        };
        let Some((ss, se)) = group else { return };
        let (whole, secret) = (base + ws..base + we, base + ss..base + se);
        if let Some((confidence, location_bits)) = filters::judge(rule, hay, whole, secret.clone())
        {
            out.push(Match {
                location_bits,
                rule: r,
                start: secret.start,
                end: secret.end,
                secret: hay[secret].to_vec(),
                decoded_from: Vec::new(),
                confidence,
            });
        }
    }
}

/// Keyword hits of one rule with overlapping windows from which one search over their union
/// (instead of one per hit) is worth it.
const SHARED_CONFIRM_MIN_HITS: usize = 4;

/// The leftmost-first matches of `rule` in `sub`, in order: each search resumes where the last
/// match ended (one byte further after an empty match). [`Engine::confirm`] and the search
/// shared by a cluster of hits iterate the same way, which [`may_report`] relies on.
fn leftmost<'a>(rule: &'a CompiledRule, sub: &'a [u8]) -> impl Iterator<Item = Range<usize>> + 'a {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos > sub.len() {
            return None;
        }
        let m = rule.regex().find_at(sub, pos)?;
        pos = if m.end() > m.start() {
            m.end()
        } else {
            m.end() + 1
        };
        Some(m.range())
    })
}

/// The leftmost-first matches of `rule` over `hay[g]` (absolute spans, in order, disjoint).
fn leftmost_matches(
    rule: &CompiledRule,
    hay: &[u8],
    g: Range<usize>,
    spans: &mut Vec<Range<usize>>,
) {
    spans.clear();
    let base = g.start;
    spans.extend(leftmost(rule, &hay[g]).map(|m| base + m.start..base + m.end));
}

/// Whether [`Engine::confirm`] can report anything for `hit`, whose search window is `w`, given
/// `spans`: the leftmost-first matches over a region `G` containing `w` (with `G` starting at
/// the haystack's start when `w` does, and ending at its end when `w` does).
///
/// Why a `false` is exact: a match that `confirm` reports starts at `p <= hit.start` and is at
/// most `L` long while containing the keyword, so it lies at least `MARGIN` bytes inside `w` on
/// both sides (or touches a haystack end that `G` shares); it and its look-around (at most four
/// bytes each way) read the same bytes in `G`, so a match starts at `p` in `G` as well. Iterating
/// leftmost-first over `G` from a start at or before `w.start` cannot step over a position where a
/// match starts without finding a match that starts at or before it, and that match (start at most
/// `hit.start`) then ends after `w.start` unless the iteration resumes from a point still at or
/// before `p`. So some span has `start <= hit.start` and `end > w.start`; without one, nothing.
fn may_report(spans: &[Range<usize>], w: Range<usize>, hit: &Hit) -> bool {
    // Spans are ordered and disjoint, so their ends increase with their starts: the last span
    // starting at or before the keyword reaches furthest.
    let n = spans.partition_point(|s| s.start <= hit.start);
    // (An empty span proves less; it is taken as a possible report.)
    n > 0 && (spans[n - 1].end > w.start || spans[n - 1].is_empty())
}

/// The extent of the leftmost-first match anchored at `x`, searched over a window that depends
/// only on `x` (so the answer is the same in every chunk that shows it).
fn anchored_at(rule: &CompiledRule, hay: &[u8], x: usize) -> Option<usize> {
    let base = x.saturating_sub(MARGIN);
    let sub = &hay[base..(x + rule.max_len + MARGIN).min(hay.len())];
    let m = rule.regex().find_at(sub, x - base)?;
    (m.start() == x - base && m.len() <= rule.max_len).then_some(m.len())
}

/// Sorts `out[first..]` by (start, end, rule, secret) and drops exact repeats (a match is
/// found once per keyword hit it contains).
fn sort_dedup(out: &mut Vec<Match>, first: usize) {
    let tail = &mut out[first..];
    tail.sort_by(|a, b| {
        (a.start, a.end, a.rule, &a.secret, &a.decoded_from).cmp(&(
            b.start,
            b.end,
            b.rule,
            &b.secret,
            &b.decoded_from,
        ))
    });
    let mut w = first;
    for i in first..out.len() {
        let dup = w > first && {
            let (p, c) = (&out[w - 1], &out[i]);
            p.start == c.start
                && p.end == c.end
                && p.rule == c.rule
                && p.secret == c.secret
                && p.decoded_from == c.decoded_from
        };
        if !dup {
            out.swap(w, i);
            w += 1;
        }
    }
    out.truncate(w);
}
