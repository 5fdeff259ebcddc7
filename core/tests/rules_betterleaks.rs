//! Betterleaks' CEL filters in a rules file: a rule's `filter`, the top-level `filter` and
//! `prefilter`. What has an exact equivalent becomes an entropy threshold or allowlists (checked
//! on the parsed rules and on what the engine then reports); everything else is named in a
//! warning, never silently accepted.

use scangit_core::engine::{Engine, Match};
use scangit_core::rules::{AllowCondition, RegexTarget, Rule, RuleSet, RulesWarning};

/// Entropy exactly 3.0 (8 symbols, each twice).
const LOW: &str = "q7w3e9r2q7w3e9r2";
/// Entropy 4.0 (16 distinct symbols).
const HIGH: &str = "Zx81Qp3LmN7vR2tY";

fn rule_with(extra: &str) -> String {
    format!(
        "[[rules]]\nid = 'tok'\nregex = '''tok_([0-9A-Za-z]{{16}})\\b'''\nsecretGroup = 1\nkeywords = ['tok_']\n{extra}\n"
    )
}

fn load(text: &str) -> (RuleSet, Vec<RulesWarning>, Engine) {
    let (set, warnings) = RuleSet::from_toml_str(text, "bl.toml").unwrap();
    let engine = Engine::new(&set).unwrap();
    (set, warnings, engine)
}

fn scan(engine: &Engine, text: &str) -> Vec<Match> {
    let mut scratch = engine.new_scratch();
    let mut out = Vec::new();
    engine.scan(text.as_bytes(), 0..text.len(), &mut scratch, &mut out);
    out
}

fn reported(engine: &Engine, text: &str) -> bool {
    !scan(engine, text).is_empty()
}

fn rule(set: &RuleSet) -> &Rule {
    set.rule("tok").unwrap()
}

/// All warnings on one line each, for assertion messages.
fn all(warnings: &[RulesWarning]) -> String {
    warnings
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn entropy_less_than_becomes_the_threshold() {
    let (set, warnings, engine) = load(&rule_with(
        "filter = '''\nentropy(finding[\"secret\"]) < 3.5\n'''",
    ));
    assert!(warnings.is_empty(), "{}", all(&warnings));
    assert_eq!(rule(&set).entropy, Some(3.5f64.next_down()));
    assert!(!reported(&engine, &format!("t = tok_{LOW}")));
    assert!(reported(&engine, &format!("t = tok_{HIGH}")));
}

#[test]
fn entropy_bounds_are_exact_at_the_boundary() {
    // `< 3.0` keeps a secret of entropy exactly 3.0; `<= 3.0` drops it.
    let (set, warnings, lt) = load(&rule_with(
        "filter = 'filter.entropy(finding[\"secret\"]) < 3.0'",
    ));
    assert!(warnings.is_empty(), "{}", all(&warnings));
    assert_eq!(rule(&set).entropy, Some(3.0f64.next_down()));
    assert!(reported(&lt, &format!("t = tok_{LOW}")));

    let (set, warnings, le) = load(&rule_with(
        "filter = 'filter.entropy(finding[\"secret\"]) <= 3.0'",
    ));
    assert!(warnings.is_empty(), "{}", all(&warnings));
    assert_eq!(rule(&set).entropy, Some(3.0));
    assert!(!reported(&le, &format!("t = tok_{LOW}")));
    // gitleaks' own `entropy = N` key drops entropy N or less, like `<= N`.
    let (_, _, key) = load(&rule_with("entropy = 3.0"));
    assert!(!reported(&key, &format!("t = tok_{LOW}")));
    assert!(reported(&key, &format!("t = tok_{HIGH}")));
    assert!(reported(&le, &format!("t = tok_{HIGH}")));
}

#[test]
fn the_larger_of_the_entropy_key_and_the_filter_is_kept() {
    let (set, _, _) = load(&rule_with(
        "entropy = 3.2\nfilter = 'entropy(finding[\"secret\"]) < 2.5'",
    ));
    assert_eq!(rule(&set).entropy, Some(3.2));
    let (set, _, engine) = load(&rule_with(
        "filter = 'entropy(finding[\"secret\"]) <= 3.0'\nentropy = 2.0",
    ));
    assert_eq!(rule(&set).entropy, Some(3.0));
    assert!(!reported(&engine, &format!("t = tok_{LOW}")));
}

#[test]
fn matches_any_on_secret_match_and_line() {
    // The secret has no `tok_` prefix, the match has: the target decides.
    let (set, warnings, engine) = load(&rule_with(
        "filter = '''matchesAny(finding[\"secret\"], [`^Zx81`, \"^q7w3\\\\d\"])'''",
    ));
    assert!(warnings.is_empty(), "{}", all(&warnings));
    let al = &rule(&set).allowlists;
    assert_eq!(al.len(), 1);
    assert_eq!(al[0].regex_target, RegexTarget::Secret);
    // `\\d` in a CEL string is `\d`, spelled out as Go's ASCII class.
    assert_eq!(al[0].regexes, ["^Zx81", "^q7w3[0-9]"]);
    assert!(!reported(&engine, &format!("t = tok_{HIGH}")));
    assert!(reported(&engine, "t = tok_Yx81Qp3LmN7vR2tZ"));

    let (set, _, engine) = load(&rule_with(
        "filter = 'matchesAny(finding[\"match\"], [`^tok_Zx`])'",
    ));
    assert_eq!(rule(&set).allowlists[0].regex_target, RegexTarget::Match);
    assert!(!reported(&engine, &format!("t = tok_{HIGH}")));
    assert!(reported(&engine, "t = tok_Yx81Qp3LmN7vR2tZ"));
    let (_, _, by_secret) = load(&rule_with(
        "filter = 'matchesAny(finding[\"secret\"], [`^tok_Zx`])'",
    ));
    assert!(reported(&by_secret, &format!("t = tok_{HIGH}")));

    let (set, _, engine) = load(&rule_with(
        "filter = 'matchesAny(finding.line, [`#[ ]fixture`])'",
    ));
    assert_eq!(rule(&set).allowlists[0].regex_target, RegexTarget::Line);
    assert!(!reported(&engine, &format!("t = tok_{HIGH} # fixture")));
    assert!(reported(&engine, &format!("t = tok_{HIGH}")));
}

#[test]
fn matches_any_on_the_path_in_each_spelling() {
    for path in [
        "get(attributes, \"path\", \"\")",
        "(attributes[\"path\"] ?? \"\")",
        "attributes[\"path\"]",
        "attributes.path",
    ] {
        let (set, warnings, engine) = load(&rule_with(&format!(
            "filter = '''matchesAny({path}, [`(?:^|/)docs/`, `\\.md$`])'''"
        )));
        assert!(warnings.is_empty(), "{path}: {}", all(&warnings));
        let al = &rule(&set).allowlists;
        assert_eq!(al.len(), 1, "{path}");
        assert_eq!(al[0].paths, ["(?:^|/)docs/", "\\.md$"], "{path}");
        assert!(al[0].regexes.is_empty());
        let m = &scan(&engine, &format!("t = tok_{HIGH}"))[0];
        assert!(!engine.allowed_at(m, Some(b"a/docs/x.txt"), None), "{path}");
        assert!(!engine.allowed_at(m, Some(b"README.md"), None), "{path}");
        assert!(engine.allowed_at(m, Some(b"src/main.rs"), None), "{path}");
    }
}

#[test]
fn a_disjunction_becomes_a_threshold_and_several_allowlists() {
    let (set, warnings, engine) = load(&rule_with(
        "filter = '''\nentropy(finding[\"secret\"]) <= 3.0\n|| matchesAny(finding[\"secret\"], [`.+EXAMPLE$`])\n|| (matchesAny((attributes[\"path\"] ?? \"\"), [`(?:^|/)README\\.md$`]))\n|| containsAny(finding[\"secret\"], [\"zzz\", \"Upper\"])\n'''",
    ));
    assert!(warnings.is_empty(), "{}", all(&warnings));
    let r = rule(&set);
    assert_eq!(r.entropy, Some(3.0));
    assert_eq!(r.allowlists.len(), 3);
    assert_eq!(r.allowlists[0].regexes, [".+EXAMPLE$"]);
    assert_eq!(r.allowlists[1].paths, ["(?:^|/)README\\.md$"]);
    // Betterleaks lowercases the text, not the words: `Upper` can never match there.
    assert_eq!(r.allowlists[2].stopwords, ["zzz"]);
    assert!(
        r.allowlists
            .iter()
            .all(|a| a.condition == AllowCondition::Or)
    );
    assert!(!reported(&engine, &format!("t = tok_{LOW}")));
    assert!(!reported(&engine, "t = tok_Zx81Qp3LmEXAMPLE"));
    assert!(!reported(&engine, "t = tok_Zx81Qp3LZZZN7vR2t"));
    assert!(reported(&engine, &format!("t = tok_{HIGH}")));
    let m = &scan(&engine, &format!("t = tok_{HIGH}"))[0];
    assert!(!engine.allowed_at(m, Some(b"pkg/README.md"), None));
    assert!(engine.allowed_at(m, Some(b"pkg/main.go"), None));
}

#[test]
fn a_negated_term_is_ignored_with_a_warning_and_the_rest_applies() {
    let (set, warnings, engine) = load(&rule_with(
        "filter = '''\nfilter.entropy(finding[\"secret\"]) < 3.5\n|| !filter.matchesAny(finding[\"secret\"], [\"^(?:[^0-9]*[0-9]){2}\"])\n'''",
    ));
    assert_eq!(rule(&set).entropy, Some(3.5f64.next_down()));
    assert!(rule(&set).allowlists.is_empty());
    assert_eq!(warnings.len(), 1, "{}", all(&warnings));
    let w = &warnings[0];
    assert_eq!(w.rule_id.as_deref(), Some("tok"));
    for part in [
        "`filter`",
        "!filter.matchesAny",
        "negated",
        "only report more findings",
        "line 6",
    ] {
        assert!(w.message.contains(part), "{part}: {w}");
    }
    // One digit, high entropy: betterleaks drops it, we report it (the safe direction).
    assert!(reported(&engine, "t = tok_ZxA1QpBLmNCvRDtY"));
    assert!(!reported(&engine, &format!("t = tok_{LOW}")));
}

#[test]
fn a_conjunction_is_one_and_allowlist_or_is_ignored_whole() {
    let (set, warnings, engine) = load(&rule_with(
        "filter = '''matchesAny(get(attributes, \"path\", \"\"), [`\\.inc$`]) && matchesAny(finding[\"line\"], [`SRC=`])'''",
    ));
    assert!(warnings.is_empty(), "{}", all(&warnings));
    let al = &rule(&set).allowlists;
    assert_eq!(al.len(), 1);
    assert_eq!(al[0].condition, AllowCondition::And);
    assert_eq!(al[0].paths, ["\\.inc$"]);
    assert_eq!(
        (al[0].regexes.as_slice(), al[0].regex_target),
        (&["SRC=".to_string()][..], RegexTarget::Line)
    );
    let src_line = &scan(&engine, &format!("SRC= tok_{HIGH}"))[0];
    let other_line = &scan(&engine, &format!("KEY= tok_{HIGH}"))[0];
    assert!(!engine.allowed_at(src_line, Some(b"a.inc"), None));
    assert!(engine.allowed_at(src_line, Some(b"a.rs"), None));
    assert!(engine.allowed_at(other_line, Some(b"a.inc"), None));

    // `a && !b` is not `a`: the whole conjunction is ignored, nothing of it applied.
    let (set, warnings, engine) = load(&rule_with(
        "filter = '''entropy(finding[\"secret\"]) < 3.5 && !matchesAny(finding[\"secret\"], [`x`])'''",
    ));
    assert_eq!(rule(&set).entropy, None);
    assert!(rule(&set).allowlists.is_empty());
    assert_eq!(warnings.len(), 1, "{}", all(&warnings));
    assert!(reported(&engine, &format!("t = tok_{LOW}")));
}

#[test]
fn unknown_functions_and_bindings_are_named() {
    let (set, warnings, engine) = load(&rule_with(
        "filter = '''\n// comment\nlet ctx = finding[\"line\"];\nentropy(finding[\"secret\"]) < 3.5\n|| failsTokenEfficiency(finding[\"secret\"])\n|| (matchesAny(finding[\"secret\"], [`^Zx`]) && containsAny(ctx, [\"stripe\"]))\n'''",
    ));
    assert_eq!(rule(&set).entropy, Some(3.5f64.next_down()));
    assert!(rule(&set).allowlists.is_empty());
    let text = all(&warnings);
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(text.contains("2 of its 3 conditions"), "{text}");
    assert!(text.contains("function `failsTokenEfficiency`"), "{text}");
    assert!(text.contains("`ctx`, a `let` binding"), "{text}");
    assert!(reported(&engine, &format!("t = tok_{HIGH}")));
}

#[test]
fn a_pattern_that_does_not_compile_drops_its_term_with_a_warning() {
    let (set, warnings, engine) = load(&rule_with(
        "filter = '''entropy(finding[\"secret\"]) < 3.5 || matchesAny(finding[\"secret\"], [`^Zx`, `*.test.js`])'''",
    ));
    assert_eq!(rule(&set).entropy, Some(3.5f64.next_down()));
    assert!(rule(&set).allowlists.is_empty(), "no partial pattern list");
    let text = all(&warnings);
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        text.contains("`*.test.js`") && text.contains("does not compile"),
        "{text}"
    );
    assert!(reported(&engine, &format!("t = tok_{HIGH}")));
}

#[test]
fn an_expression_that_does_not_parse_is_ignored_whole() {
    let (set, warnings, engine) = load(&rule_with(
        "filter = '''entropy(finding[\"secret\"]) < 3.5 || matchesAny(finding[\"secret\"], [`x`'''",
    ));
    assert_eq!(rule(&set).entropy, None);
    let text = all(&warnings);
    assert!(
        text.contains("not understood") && text.contains("whole expression"),
        "{text}"
    );
    assert!(reported(&engine, &format!("t = tok_{LOW}")));
    // Not a string: an error naming the rule and key, as for any mistyped key.
    let err = RuleSet::from_toml_str(&rule_with("filter = 3"), "bl.toml").unwrap_err();
    assert!(err.to_string().contains("filter") && err.to_string().contains("tok"));
}

#[test]
fn validate_is_still_a_warning() {
    let (_, warnings, _) = load(&rule_with(
        "validate = '''cel.bind(r, http.get(\"https://example.com\"), r.status == 200)'''",
    ));
    assert_eq!(warnings.len(), 1, "{}", all(&warnings));
    assert!(
        warnings[0].message.contains("`validate`"),
        "{}",
        all(&warnings)
    );
    assert_eq!(warnings[0].rule_id.as_deref(), Some("tok"));
}

#[test]
fn top_level_filter_and_prefilter_become_global_allowlists() {
    let text = r#"
prefilter = '''
matchesAny(get(attributes, "path", ""), [
  `(?:^|/)node_modules(?:/.*)?$`,
  `(?i)\.png$`
])
'''
filter = '''
(matchesAny(finding["secret"], [
  `(?i)^true|false|null$`,
  `^Zx81`
]) || containsAny(finding["secret"], [
  "abcdefghijklmnopqrstuvwxyz", "r2tz"
]) || entropy(finding["secret"]) < 3.5)
'''
[[rules]]
id = 'tok'
regex = '''tok_([0-9A-Za-z]{16})\b'''
secretGroup = 1
keywords = ['tok_']
[[rules]]
id = 'other'
regex = '''oth_([0-9A-Za-z]{16})\b'''
secretGroup = 1
entropy = 3.8
"#;
    let (set, warnings, engine) = load(text);
    assert!(warnings.is_empty(), "{}", all(&warnings));
    let g = set.allowlists();
    assert_eq!(g.len(), 3, "{g:?}");
    let find = |f: &dyn Fn(&scangit_core::rules::Allowlist) -> bool| {
        g.iter().filter(|a| f(a)).collect::<Vec<_>>()
    };
    let paths = find(&|a| !a.paths.is_empty());
    let regexes = find(&|a| !a.regexes.is_empty());
    let words = find(&|a| !a.stopwords.is_empty());
    assert_eq!(
        paths[0].paths,
        ["(?:^|/)node_modules(?:/.*)?$", "(?i)\\.png$"],
        "prefilter"
    );
    assert_eq!(regexes[0].regexes, ["(?i)^true|false|null$", "^Zx81"]);
    assert_eq!(words[0].stopwords, ["abcdefghijklmnopqrstuvwxyz", "r2tz"]);
    assert_eq!((paths.len(), regexes.len(), words.len()), (1, 1, 1));
    assert!(g.iter().all(|a| a.target_rules.is_empty()));
    // The global entropy bound applies to every rule; a larger own threshold stays.
    assert_eq!(set.rule("tok").unwrap().entropy, Some(3.5f64.next_down()));
    assert_eq!(set.rule("other").unwrap().entropy, Some(3.8));

    assert!(!reported(&engine, &format!("t = tok_{HIGH}")));
    assert!(!reported(&engine, &format!("t = oth_{HIGH}")));
    assert!(!reported(&engine, &format!("t = tok_{LOW}")));
    // Betterleaks lowercases the secret before `containsAny`.
    assert!(!reported(&engine, "t = tok_Yx81Qp3LmN7vR2TZ"));
    let m = &scan(&engine, "t = tok_Wx81Qp3LmN7vR2tY")[0];
    assert!(!engine.allowed_at(m, Some(b"web/node_modules/x/index.js"), None));
    assert!(!engine.allowed_at(m, Some(b"logo.PNG"), None));
    assert!(engine.allowed_at(m, Some(b"src/index.js"), None));
}

#[test]
fn prefilter_conditions_on_the_finding_are_warned() {
    let text = format!(
        "prefilter = '''matchesAny(finding[\"secret\"], [`x`])'''\n{}",
        rule_with("")
    );
    let (set, warnings, _) = load(&text);
    assert!(set.allowlists().is_empty());
    let text = all(&warnings);
    assert!(
        text.contains("`prefilter`") && text.contains("does not exist in a prefilter"),
        "{text}"
    );
}

#[test]
fn keys_are_case_insensitive_as_in_gitleaks() {
    let text = "[allowList]\npaths = ['''^vendor/''']\n[[rules]]\nID = 'tok'\nRegex = '''tok_([0-9A-Za-z]{16})\\b'''\nSecretGroup = 1\n[[rules.allowLists]]\nregexTarget = 'MATCH'\nREGEXES = ['''^tok_Zx''']\n";
    let (set, warnings, engine) = load(text);
    assert!(warnings.is_empty(), "{}", all(&warnings));
    assert_eq!(set.allowlists()[0].paths, ["^vendor/"]);
    assert_eq!(rule(&set).secret_group, Some(1));
    assert_eq!(rule(&set).allowlists[0].regex_target, RegexTarget::Match);
    assert!(!reported(&engine, &format!("t = tok_{HIGH}")));
    // One key spelled twice: the later is used, with a warning.
    let (set, warnings, _) = load(&rule_with("Entropy = 1.0\nentropy = 2.0"));
    assert_eq!(rule(&set).entropy, Some(2.0));
    assert!(all(&warnings).contains("`Entropy` and `entropy`"));
    // A bad path regex under `[allowList]` is an error (betterleaks' own invalid config).
    let err = RuleSet::from_toml_str("[allowList]\npaths = ['''*.test.js''']\n", "x").unwrap_err();
    assert!(err.to_string().contains("paths"), "{err}");
}
