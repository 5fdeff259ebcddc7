//! Hostile rules files: sizes that must not drive memory, devices instead of files, regexes
//! nested past the parser's limit. Each is a clear one-line error, found before the work that
//! the hostile size would have cost.

use std::path::Path;

use scangit_core::engine::Engine;
use scangit_core::rules::{RuleSet, RulesError};

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hostile-rules-")
        .tempdir()
        .unwrap()
}

fn load(path: &Path) -> Result<Engine, RulesError> {
    let (set, _) = RuleSet::from_path(path)?;
    Engine::new(&set)
}

fn one_line_error(path: &Path) -> String {
    let err = load(path).err().expect("refused");
    let message = err.to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    message
}

#[test]
fn an_extend_path_naming_a_device_is_refused_without_reading_it() {
    let dir = temp_dir();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[extend]\npath = \"/dev/zero\"\n").unwrap();
    let message = one_line_error(&rules);
    assert!(message.contains("/dev/zero"), "{message}");
    assert!(message.contains("not a regular file"), "{message}");
    // A directory neither.
    std::fs::write(
        &rules,
        format!("[extend]\npath = {:?}\n", dir.path().display().to_string()),
    )
    .unwrap();
    assert!(one_line_error(&rules).contains("not a regular file"));
}

#[test]
fn a_rules_file_past_the_size_limit_is_refused() {
    let dir = temp_dir();
    let rules = dir.path().join("big.toml");
    let limit = scangit_core::rules::MAX_RULES_FILE_BYTES as usize;
    let mut text = String::from("# padding\n");
    while text.len() <= limit {
        text.push_str(&"#".repeat(1023));
        text.push('\n');
    }
    std::fs::write(&rules, &text).unwrap();
    let message = one_line_error(&rules);
    assert!(message.contains("larger than the limit"), "{message}");
}

#[test]
fn a_regex_of_megabytes_is_refused_before_it_is_parsed() {
    let dir = temp_dir();
    let rules = dir.path().join("huge-regex.toml");
    let pattern = "a".repeat(10 << 20);
    std::fs::write(
        &rules,
        format!("[[rules]]\nid = \"huge\"\nregex = '''{pattern}'''\n"),
    )
    .unwrap();
    let message = one_line_error(&rules);
    assert!(message.contains("huge"), "names the rule: {message}");
    assert!(message.contains("longer than the limit"), "{message}");
    assert!(message.len() < 500, "the pattern is not echoed: {message}");
}

#[test]
fn a_regex_nested_a_thousand_deep_is_a_one_line_error() {
    let dir = temp_dir();
    let rules = dir.path().join("nested.toml");
    let pattern = format!("{}a{}", "(".repeat(1000), ")".repeat(1000));
    std::fs::write(
        &rules,
        format!("[[rules]]\nid = \"nested\"\nregex = '''{pattern}'''\n"),
    )
    .unwrap();
    let message = one_line_error(&rules);
    assert!(message.contains("nested"), "names the rule: {message}");
    assert!(message.contains("nest"), "says what is wrong: {message}");
    assert!(message.len() < 500, "the pattern is not echoed: {message}");
}

#[test]
fn an_ordinary_regex_error_keeps_its_position() {
    let dir = temp_dir();
    let rules = dir.path().join("bad.toml");
    std::fs::write(&rules, "[[rules]]\nid = \"bad\"\nregex = '''abc[d'''\n").unwrap();
    let message = one_line_error(&rules);
    assert!(
        message.contains("line 3") || message.contains("line 1"),
        "{message}"
    );
    assert!(message.contains("unclosed character class"), "{message}");
    assert!(message.contains("position 3"), "{message}");
}
