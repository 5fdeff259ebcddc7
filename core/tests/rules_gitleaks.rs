//! gitleaks compatibility of the rules format: `[extend]` (useDefault, path, disabledRules, rule
//! merging), keys we do not apply (warnings naming them), our checksum policy, and (dev-only)
//! loading gitleaks' own config files.
//!
//! Set `SCANGIT_GITLEAKS_DIR` to a checkout of the gitleaks repository to load its
//! `config/gitleaks.toml` and every `testdata/config/**/*.toml` (the `valid` ones and the
//! top-level ones must load; the `invalid` ones are listed with what we did). A checkout of
//! betterleaks (`config/betterleaks.toml`) works the same; its default config's warnings are
//! printed by kind. Betterleaks' CEL filters have their own tests (`rules_betterleaks.rs`).

use std::path::{Path, PathBuf};

use scangit_core::engine::{Engine, Match};
use scangit_core::rules::{RuleSet, RulesError};

fn scan(engine: &Engine, text: &str) -> Vec<Match> {
    let mut scratch = engine.new_scratch();
    let mut out = Vec::new();
    engine.scan(text.as_bytes(), 0..text.len(), &mut scratch, &mut out);
    out
}

#[test]
fn extend_use_default_merges_overrides_and_disables() {
    let text = r#"
title = "mine"
[extend]
useDefault = true
disabledRules = ["generic-password", "no-such-rule"]

[[rules]]
id = "github-pat"
description = "overridden description"
tags = ["mine"]
[[rules.allowlists]]
regexes = ['''^ghp_BY6''']

[[rules]]
id = "internal-token"
regex = '''itk_[a-z0-9]{16}'''
"#;
    let (set, warnings) = RuleSet::from_toml_str(text, "ext.toml").unwrap();
    let builtin = RuleSet::builtin();
    assert_eq!(set.rules().len(), builtin.rules().len()); // -1 disabled, +1 new
    assert!(set.rule("generic-password").is_none());
    let gh = set.rule("github-pat").unwrap();
    assert_eq!(gh.description, "overridden description");
    assert_eq!(gh.regex, builtin.rule("github-pat").unwrap().regex);
    assert!(gh.tags.contains(&"github".to_string()) && gh.tags.contains(&"mine".to_string()));
    assert_eq!(
        gh.allowlists.len(),
        builtin.rule("github-pat").unwrap().allowlists.len() + 1
    );
    assert!(set.rule("internal-token").is_some());
    assert!(
        warnings
            .iter()
            .any(|w| w.rule_id.as_deref() == Some("no-such-rule")),
        "{warnings:?}"
    );
    let engine = Engine::new(&set).unwrap();
    // The appended allowlist applies; other tokens still match.
    assert!(scan(&engine, "t = 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").is_empty());
    assert_eq!(
        scan(&engine, "t = 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").len(),
        1
    );
    assert_ne!(engine.rules_hash(), Engine::builtin().unwrap().rules_hash());
}

#[test]
fn extend_path_is_resolved_next_to_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("base.toml"),
        "[[rules]]\nid = 'base-rule'\nregex = '''base_[0-9]{8}'''\n[[rules]]\nid = 'off'\nregex = 'zzz'\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("child.toml"),
        "[extend]\npath = 'base.toml'\ndisabledRules = ['off']\n[[rules]]\nid = 'base-rule'\nentropy = 2.5\n",
    )
    .unwrap();
    let (set, _) = RuleSet::from_path(&dir.join("child.toml")).unwrap();
    let ids: Vec<_> = set.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["base-rule"]);
    assert_eq!(set.rules()[0].entropy, Some(2.5));
    std::fs::write(dir.join("bad.toml"), "[extend]\npath = 'missing.toml'\n").unwrap();
    let err = RuleSet::from_path(&dir.join("bad.toml")).unwrap_err();
    assert!(matches!(err, RulesError::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing.toml"), "{err}");
}

#[test]
fn extend_errors_and_partial_rules() {
    // A rule without regex or path that does not extend anything is an error naming it.
    let err = RuleSet::from_toml_str("[[rules]]\nid = 'lonely'\ndescription = 'x'\n", "t.toml")
        .unwrap_err();
    assert!(err.to_string().contains("lonely"), "{err}");
    let err = RuleSet::from_toml_str("[extend]\nuseDefault = true\npath = 'x.toml'\n", "t.toml")
        .unwrap_err();
    assert!(err.to_string().contains("useDefault"), "{err}");
    let err = RuleSet::from_toml_str("[extend]\nuseDefault = 'yes'\n", "t.toml").unwrap_err();
    assert!(err.to_string().contains("useDefault"), "{err}");
}

#[test]
fn unsupported_gitleaks_keys_are_named_in_warnings() {
    let text = r#"
minVersion = "v8.25.0"
[[rules]]
id = "primary-rule"
regex = 'password\s*=\s*"([^"]+)"'
[[rules.required]]
id = "username-rule"
withinLines = 3

[[rules]]
id = "username-rule"
regex = 'username\s*=\s*"([^"]+)"'
skipReport = true
"#;
    let (set, warnings) = RuleSet::from_toml_str(text, "composite.toml").unwrap();
    let all = warnings
        .iter()
        .map(|w| format!("{:?}: {}", w.rule_id, w.message))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("minVersion"), "{all}");
    assert!(
        all.contains("rules.required") && all.contains("primary-rule"),
        "{all}"
    );
    assert!(
        all.contains("skipReport") && all.contains("username-rule"),
        "{all}"
    );
    let ids: Vec<_> = set.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["primary-rule"], "skipReport rules are dropped");
}

#[test]
fn go_regex_braces_and_perl_classes_follow_go() {
    let text =
        "[[rules]]\nid = 'tmpl'\nregex = '''tok=((?:\\d+|{\\d+})x{2}[\\w-]{1,}y{3,4})\\s\\S'''\n";
    let (set, _) = RuleSet::from_toml_str(text, "go.toml").unwrap();
    let engine = Engine::new(&set).unwrap();
    assert_eq!(scan(&engine, "tok={12}xxa-yyy !").len(), 1);
    assert_eq!(scan(&engine, "tok=7xxb_cyyyy !").len(), 1);
    // \d and \w are ASCII, as in Go.
    assert!(scan(&engine, "tok=\u{0663}xxayyy !").is_empty());
}

#[test]
fn checksum_failure_policy_lowers_or_rejects() {
    let rule = |policy: &str| {
        format!(
            "[[rules]]\nid = 'gh'\nregex = '''ghp_[0-9A-Za-z]{{36}}'''\nchecksum = 'github-crc32'\n{policy}\n"
        )
    };
    let valid = "x 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";
    let invalid = "x ghp_BY6rfNcAKEIOUttYpATIk27f4t3tGo0EMKhE";
    let (lower, _) = RuleSet::from_toml_str(&rule(""), "t").unwrap();
    let (reject, _) = RuleSet::from_toml_str(&rule("checksum_failure = 'reject'"), "t").unwrap();
    let (lower, reject) = (Engine::new(&lower).unwrap(), Engine::new(&reject).unwrap());
    assert!(scan(&lower, valid)[0].confidence > 0.9);
    assert!(scan(&lower, invalid)[0].confidence < 0.5);
    assert_eq!(scan(&reject, valid).len(), 1);
    assert!(scan(&reject, invalid).is_empty());
    assert_ne!(lower.rules_hash(), reject.rules_hash());
    let err = RuleSet::from_toml_str(&rule("checksum_failure = 'maybe'"), "t").unwrap_err();
    assert!(err.to_string().contains("checksum_failure") && err.to_string().contains("gh"));
}

/// A warning's message without its line number, shortened: warnings of one kind group together.
fn warning_kind(message: &str) -> String {
    let rest = match message.strip_prefix("line ") {
        Some(r) => r
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start_matches(": "),
        None => message,
    };
    let mut kind: String = rest.chars().take(90).collect();
    if rest.chars().count() > 90 {
        kind.push_str("...");
    }
    kind
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn gitleaks_own_configs_load() {
    let Some(root) = std::env::var_os("SCANGIT_GITLEAKS_DIR") else {
        eprintln!("SCANGIT_GITLEAKS_DIR not set: skipped");
        return;
    };
    let root = PathBuf::from(root);
    // gitleaks resolves `[extend] path` against the working directory of its tests (config/).
    std::env::set_current_dir(root.join("config")).unwrap();
    // The default config: config/gitleaks.toml (gitleaks) or config/betterleaks.toml (betterleaks,
    // which keeps gitleaks' test configs).
    let mut files: Vec<PathBuf> = ["gitleaks.toml", "betterleaks.toml"]
        .iter()
        .map(|f| root.join("config").join(f))
        .filter(|p| p.is_file())
        .collect();
    assert!(
        !files.is_empty(),
        "no default config under {}",
        root.display()
    );
    toml_files(&root.join("testdata/config"), &mut files);
    files.sort();
    let mut failures = Vec::new();
    for f in &files {
        let invalid = f.components().any(|c| c.as_os_str() == "invalid");
        let result =
            RuleSet::from_path(f).and_then(|(set, w)| Engine::new(&set).map(|e| (e, set, w)));
        match result {
            // gitleaks' invalid/ configs are each rejected by its own tests.
            Ok(_) if invalid => failures.push(format!("{}: loaded", f.display())),
            Ok((engine, set, warnings)) if f.parent() == Some(root.join("config").as_path()) => {
                // A default config: the warning count, by kind.
                let mut kinds: Vec<(String, usize)> = Vec::new();
                for w in &warnings {
                    let kind = warning_kind(&w.message);
                    match kinds.iter_mut().find(|(k, _)| *k == kind) {
                        Some((_, n)) => *n += 1,
                        None => kinds.push((kind, 1)),
                    }
                }
                kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
                eprintln!(
                    "{}: {} rules, {} warnings, by kind:{}",
                    f.display(),
                    engine.rule_count(),
                    warnings.len(),
                    kinds
                        .iter()
                        .map(|(k, n)| format!("\n    {n:4} {k}"))
                        .collect::<String>()
                );
                if f.ends_with("betterleaks.toml") {
                    // Its CEL filters are translated: no longer ignored as unknown keys, and the
                    // top-level `filter`/`prefilter` became global allowlists.
                    for w in &warnings {
                        assert!(
                            !w.message.contains("key `filter`")
                                && !w.message.contains("key `prefilter`"),
                            "{w}"
                        );
                    }
                    assert!(set.allowlists().iter().any(|a| !a.paths.is_empty()));
                    assert!(set.allowlists().iter().any(|a| !a.regexes.is_empty()));
                    let with_entropy = set.rules().iter().filter(|r| r.entropy.is_some()).count();
                    eprintln!("    ({with_entropy} rules with an entropy threshold)");
                }
            }
            Ok((engine, _, warnings)) => eprintln!(
                "{}: {} rules, {} warnings{}",
                f.display(),
                engine.rule_count(),
                warnings.len(),
                warnings
                    .iter()
                    .map(|w| format!("\n    {w}"))
                    .collect::<String>()
            ),
            Err(e) if invalid => eprintln!("{}: rejected: {e}", f.display()),
            // Not loadable on their own in gitleaks either: their `[extend]` chain names a file
            // that does not exist (gitleaks only loads them as bases, where depth stops it).
            Err(e)
                if f.ends_with("valid/extend_base_1.toml")
                    || f.ends_with("valid/extend_base_2.toml") =>
            {
                eprintln!("{}: rejected (as in gitleaks): {e}", f.display())
            }
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
