//! Every rule's `examples` are found with the marked secret; `negative_examples` find nothing;
//! path examples are opened by the rule's `path` (see `scangit_core::detect::examples`).

use scangit_core::detect::examples;
use scangit_core::engine::Engine;
use scangit_core::rules::{BUILTIN, BUILTIN_FILES, RuleSet};

#[test]
fn builtin_rules_parse_without_warnings() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let mut text = String::new();
    for f in BUILTIN_FILES {
        text.push_str(&std::fs::read_to_string(format!("{dir}/{f}")).unwrap());
        text.push('\n');
    }
    assert_eq!(text, BUILTIN, "BUILTIN joins BUILTIN_FILES in order");
    let (set, warnings) =
        RuleSet::from_toml_str(&text, "builtin.toml").expect("builtin rules parse");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(RuleSet::builtin(), set);
    assert!(set.rules().len() >= 20);
}

#[test]
fn every_builtin_example_is_found_with_its_secret_and_negatives_are_not() {
    let set = RuleSet::builtin();
    let engine = Engine::new(&set).unwrap();
    assert_eq!(engine.rule_count(), set.rules().len());
    let failures = examples::check(&set, &engine);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
