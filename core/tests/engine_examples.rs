//! Every rule's `examples` are found with the marked secret; `negative_examples` find nothing.

use scangit_core::engine::{Engine, Match};
use scangit_core::rules::RuleSet;

const OPEN: &str = "«";
const CLOSE: &str = "»";

/// Removes the « » markers; returns the text and the marked secret (if any).
fn unmark(example: &str) -> (String, Option<String>) {
    match (example.find(OPEN), example.find(CLOSE)) {
        (Some(a), Some(b)) if a < b => {
            let secret = example[a + OPEN.len()..b].to_owned();
            let text = format!("{}{}{}", &example[..a], secret, &example[b + CLOSE.len()..]);
            (text, Some(secret))
        }
        _ => (example.to_owned(), None),
    }
}

fn scan_all(engine: &Engine, text: &[u8]) -> Vec<Match> {
    let mut scratch = engine.new_scratch();
    let mut out = Vec::new();
    engine.scan(text, 0..text.len(), &mut scratch, &mut out);
    out
}

#[test]
fn builtin_rules_parse_without_warnings() {
    let text = include_str!("../rules/builtin.toml");
    let (set, warnings) =
        RuleSet::from_toml_str(text, "builtin.toml").expect("builtin rules parse");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(RuleSet::builtin(), set);
    assert!(set.rules().len() >= 20);
}

#[test]
fn every_builtin_example_is_found_with_its_secret_and_negatives_are_not() {
    let set = RuleSet::builtin();
    let engine = Engine::new(&set).unwrap();
    let mut failures = Vec::new();
    for (index, rule) in set.rules().iter().enumerate() {
        assert_eq!(engine.rule_id(index as u32), rule.id);
        assert!(
            !rule.examples.is_empty(),
            "rule {} has no examples",
            rule.id
        );
        for ex in &rule.examples {
            let (text, secret) = unmark(ex);
            let secret = secret
                .unwrap_or_else(|| panic!("rule {}: example without « » markers: {ex}", rule.id));
            let found = scan_all(&engine, text.as_bytes());
            let hit = found.iter().any(|m| {
                m.rule == index as u32
                    && m.decoded_from.is_empty()
                    && m.secret == secret.as_bytes()
                    && text.as_bytes()[m.start..m.end] == *secret.as_bytes()
            });
            if !hit {
                failures.push(format!(
                    "{}: example not found: {text:?} -> {:?}",
                    rule.id, found
                ));
            }
        }
        for ex in &rule.negative_examples {
            let found: Vec<_> = scan_all(&engine, ex.as_bytes())
                .into_iter()
                .filter(|m| m.rule == index as u32)
                .collect();
            if !found.is_empty() {
                failures.push(format!(
                    "{}: negative example found: {ex:?} -> {found:?}",
                    rule.id
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
