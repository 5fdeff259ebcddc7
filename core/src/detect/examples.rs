//! Checking a rule set's own examples: every `examples` line is found by its rule with the
//! secret marked `«` `»`, no `negative_examples` line is, every `path_examples` path is opened by
//! the rule's `path` and no `path_negative_examples` path is. Rules with a `path` scan their
//! examples as blobs at their first path example, so the gated rules run as they do in a scan.
//!
//! The built-in rules are held to this by a test; `cargo run --example rules_check` runs it on
//! rules files being written.

use crate::detect::engine::{Engine, Match};
use crate::detect::rules::{Rule, RuleSet};

const OPEN: &str = "«";
const CLOSE: &str = "»";

/// Removes the « » markers; returns the text and the marked secret (if any).
pub fn unmark(example: &str) -> (String, Option<String>) {
    match (example.find(OPEN), example.find(CLOSE)) {
        (Some(a), Some(b)) if a < b => {
            let secret = example[a + OPEN.len()..b].to_owned();
            let text = format!("{}{}{}", &example[..a], secret, &example[b + CLOSE.len()..]);
            (text, Some(secret))
        }
        _ => (example.to_owned(), None),
    }
}

/// Every match a whole-text scan of `text`, as a blob at `path` (empty: no path), reports:
/// plain rules, gated rules the path opens (a generic match of one yielding to a specific match
/// of the other that overlaps it) and the location checks of [`Engine::allowed_at`]. Path-only
/// rules are not included (they need no text).
pub fn scan_at(engine: &Engine, path: &str, text: &[u8]) -> Vec<Match> {
    let path = path.as_bytes();
    let mut scratch = engine.new_scratch();
    let mut plain = Vec::new();
    engine.scan(text, 0..text.len(), &mut scratch, &mut plain);
    let mut gated = Vec::new();
    if let Some(g) = engine.at_path(path).gated {
        let mut scratch = g.new_scratch();
        g.scan(text, 0..text.len(), &mut scratch, &mut gated);
        for m in &mut gated {
            m.rule += engine.gated_base();
        }
        gated.retain(|m| engine.rule_path_matches(m.rule, path));
    }
    let span = |m: &Match| (m.rule, m.start as u64..m.end as u64);
    let keep = |m: &Match, others: &[Match], from_gated: bool| {
        !engine.yields_across_passes(span(m), others.iter().map(span), from_gated)
    };
    let mut out: Vec<Match> = plain
        .iter()
        .filter(|m| keep(m, &gated, false))
        .chain(gated.iter().filter(|m| keep(m, &plain, true)))
        .cloned()
        .collect();
    let path = (!path.is_empty()).then_some(path);
    out.retain(|m| engine.allowed_at(m, path, None));
    out
}

/// The failures of every rule's examples in `set`, compiled as `engine`; empty when all pass.
pub fn check(set: &RuleSet, engine: &Engine) -> Vec<String> {
    let mut failures = Vec::new();
    for rule in set.rules() {
        check_rule(engine, rule, &mut failures);
    }
    failures
}

fn check_rule(engine: &Engine, rule: &Rule, failures: &mut Vec<String>) {
    let id = rule.id.as_str();
    let Some(index) = (0..engine.rule_count() as u32).find(|&i| engine.rule_id(i) == id) else {
        failures.push(format!("{id}: not in the engine"));
        return;
    };
    for p in &rule.path_examples {
        let at = engine.at_path(p.as_bytes());
        let opened = if rule.regex.is_some() {
            at.gated.is_some() && path_matches(engine, index, p)
        } else {
            at.path_only.contains(&index) && path_matches(engine, index, p)
        };
        if !opened {
            failures.push(format!("{id}: path example not matched by `path`: {p:?}"));
        }
    }
    for p in &rule.path_negative_examples {
        let hit = if rule.regex.is_some() {
            path_matches(engine, index, p)
        } else {
            engine.at_path(p.as_bytes()).path_only.contains(&index)
                && path_matches(engine, index, p)
        };
        if hit {
            failures.push(format!(
                "{id}: negative path example matched by `path`: {p:?}"
            ));
        }
    }
    if rule.regex.is_none() {
        if rule.path_examples.is_empty() {
            failures.push(format!("{id}: a path-only rule needs `path_examples`"));
        }
        return;
    }
    if rule.examples.is_empty() {
        failures.push(format!("{id}: no examples"));
    }
    if rule.path.is_some() && rule.path_examples.is_empty() {
        failures.push(format!("{id}: a rule with `path` needs `path_examples`"));
    }
    let at = rule.path_examples.first().map_or("", String::as_str);
    for ex in &rule.examples {
        let (text, secret) = unmark(ex);
        let Some(secret) = secret else {
            failures.push(format!("{id}: example without « » markers: {ex:?}"));
            continue;
        };
        let found = scan_at(engine, at, text.as_bytes());
        let hit = found.iter().any(|m| {
            m.rule == index
                && m.decoded_from.is_empty()
                && m.secret == secret.as_bytes()
                && text.as_bytes()[m.start..m.end] == *secret.as_bytes()
        });
        if !hit {
            let got: Vec<String> = found
                .iter()
                .map(|m| {
                    format!(
                        "{}:{:?}",
                        engine.rule_id(m.rule),
                        String::from_utf8_lossy(&m.secret)
                    )
                })
                .collect();
            failures.push(format!("{id}: example not found: {text:?} -> {got:?}"));
        }
    }
    for ex in &rule.negative_examples {
        let found: Vec<_> = scan_at(engine, at, ex.as_bytes())
            .into_iter()
            .filter(|m| m.rule == index)
            .map(|m| String::from_utf8_lossy(&m.secret).into_owned())
            .collect();
        if !found.is_empty() {
            failures.push(format!("{id}: negative example found: {ex:?} -> {found:?}"));
        }
    }
}

/// Whether rule `index` (gated or path-only) reports at `p`: its `path` matches and no path
/// allowlist of its own or a global one suppresses it.
fn path_matches(engine: &Engine, index: u32, p: &str) -> bool {
    let probe = Match {
        rule: index,
        start: 0,
        end: 0,
        secret: Vec::new(),
        decoded_from: Vec::new(),
        confidence: 0.0,
        location_bits: 0,
    };
    engine.allowed_at(&probe, Some(p.as_bytes()), None)
}
