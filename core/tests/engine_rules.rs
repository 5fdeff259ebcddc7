//! Rules parsing, validation and matching semantics (allowlists, entropy, gitleaks:allow,
//! secret groups, slow-path rules, rules hash).

use scangit_core::engine::{Engine, Match};
use scangit_core::rules::{AllowCondition, LoadOptions, RegexTarget, RuleSet, RulesError};

fn engine(toml: &str) -> Engine {
    let (set, _) = RuleSet::from_toml_str(toml, "test.toml").expect("rules parse");
    Engine::new(&set).expect("rules compile")
}

fn scan(engine: &Engine, text: &str) -> Vec<Match> {
    let mut scratch = engine.new_scratch();
    let mut out = Vec::new();
    engine.scan(text.as_bytes(), 0..text.len(), &mut scratch, &mut out);
    out
}

const TOKEN_RULE: &str = r#"
[[rules]]
id = "tok"
description = "test token"
regex = '''tok_([a-zA-Z0-9]{12})'''
keywords = ["tok_"]
"#;

#[test]
fn bad_regex_error_names_rule_and_line() {
    let err = RuleSet::from_toml_str(
        "title = 'x'\n\n[[rules]]\nid = 'broken'\nregex = 'a(b'\n",
        "r.toml",
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RulesError::BadRegex { .. }), "{err:?}");
    assert!(
        msg.contains("broken") && msg.contains("r.toml") && msg.contains("line 5"),
        "{msg}"
    );
}

#[test]
fn duplicate_ids_warn_and_the_later_wins_and_strict_loading_rejects_them() {
    // gitleaks keeps the later of two rules with one id (its own testdata/config/simple.toml
    // has two `google` rules); we do the same, never silently.
    let text = "[[rules]]\nid = 'a'\nregex = 'x'\n[[rules]]\nid = 'b'\nregex = 'z'\n\
                [[rules]]\nid = 'a'\nregex = 'y'\n";
    let (set, warnings) = RuleSet::from_toml_str(text, "d.toml").unwrap();
    let ids: Vec<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["b", "a"]);
    assert_eq!(set.rule("a").unwrap().regex.as_deref(), Some("y"));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = warnings[0].to_string();
    assert!(
        w.starts_with("d.toml: rule a: duplicate rule id (lines 1 and 7)"),
        "{w}"
    );

    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("d.toml");
    std::fs::write(&path, text).unwrap();
    let (lenient, w) = RuleSet::load(Some(&path), LoadOptions::default()).unwrap();
    assert_eq!((lenient.rules().len(), w.len()), (2, 1));
    let err = RuleSet::load(Some(&path), LoadOptions { strict: true }).unwrap_err();
    assert!(
        matches!(&err, RulesError::Strict { rule: Some(r), .. } if r == "a"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("d.toml") && msg.contains("rule a") && msg.contains("lines 1 and 7"),
        "{msg}"
    );
    // The built-in set loads strictly: every key in it is applied, no id repeats.
    let (builtin, w) = RuleSet::load(None, LoadOptions { strict: true }).unwrap();
    assert!(builtin.rules().len() >= 150 && w.is_empty());
}

#[test]
fn allowlist_mistakes_gitleaks_rejects_are_errors_naming_the_place() {
    // The allowlist mistakes gitleaks' own tests reject (its testdata/config/invalid).
    let base = TOKEN_RULE.to_string();
    let cases = [
        (
            format!("{base}[[rules.allowlists]]\ndescription = 'nothing'\n"),
            "rule tok: field `allowlists`: an allowlist needs at least one of",
        ),
        (
            "[[allowlists]]\ndescription = 'nothing'\n".to_string(),
            "field `allowlists`: an allowlist needs at least one of",
        ),
        (
            format!("{base}[[allowlists]]\ntargetRules = ['tok', 'nope']\nregexes = ['x']\n"),
            "rule id \"nope\", which does not exist",
        ),
        (
            "[allowlist]\nregexes = ['1']\n[[allowlists]]\nregexes = ['2']\n".to_string(),
            "cannot be used alongside",
        ),
        (
            format!(
                "{base}[rules.allowlist]\nregexes = ['1']\n[[rules.allowlists]]\nregexes = ['2']\n"
            ),
            "rule tok: field `allowlists`: `allowlist` (deprecated) cannot be used alongside",
        ),
    ];
    for (text, want) in cases {
        let err = RuleSet::from_toml_str(&text, "a.toml").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("a.toml: line ") && msg.contains(want),
            "{msg}\n---\n{text}"
        );
    }
}

#[test]
fn a_skip_report_rule_replaced_by_a_later_definition_is_reported() {
    let text = "[[rules]]\nid = 'a'\nregex = 'x'\nskipReport = true\n\
                [[rules]]\nid = 'a'\nregex = 'y'\n";
    let (set, _) = RuleSet::from_toml_str(text, "s.toml").unwrap();
    assert_eq!(set.rules().len(), 1);
    assert_eq!(set.rule("a").unwrap().regex.as_deref(), Some("y"));
}

#[test]
fn invalid_toml_and_wrong_types_are_errors_with_lines() {
    let err = RuleSet::from_toml_str("[[rules]\nid=1", "t.toml").unwrap_err();
    assert!(matches!(err, RulesError::Toml { line: 1, .. }), "{err:?}");
    let err = RuleSet::from_toml_str(
        "[[rules]]\nid = 'a'\nregex = 'x'\nentropy = 'high'\n",
        "t.toml",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("entropy") && err.to_string().contains("rule a"),
        "{err}"
    );
    let err = RuleSet::from_toml_str(
        "[[rules]]\nid = 'a'\nregex = 'x'\nsecretGroup = 2\n",
        "t.toml",
    )
    .unwrap_err();
    assert!(err.to_string().contains("secretGroup"), "{err}");
    let err = RuleSet::from_toml_str("[[rules]]\ndescription = 'no id'\nregex = 'x'\n", "t.toml")
        .unwrap_err();
    assert!(
        matches!(err, RulesError::MissingField { field: "id", .. }),
        "{err:?}"
    );
}

#[test]
fn unknown_fields_produce_warnings_naming_them() {
    let text = "foo = 1\n[extend]\nuseDefault = true\nweird = 1\n[[rules]]\nid = 'a'\nregex = 'abc'\nsmartFilter = true\n[[rules.allowlists]]\nregexes = ['x']\nbogus = 2\n";
    let (_, warnings) = RuleSet::from_toml_str(text, "w.toml").unwrap();
    let all: Vec<String> = warnings.iter().map(|w| w.message.clone()).collect();
    assert!(all.iter().any(|m| m.contains("`foo`")), "{all:?}");
    assert!(
        all.iter()
            .any(|m| m.contains("`[extend]`") && m.contains("`weird`")),
        "{all:?}"
    );
    assert!(all.iter().any(|m| m.contains("`smartFilter`")), "{all:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.message.contains("`bogus`") && w.rule_id.as_deref() == Some("a")),
        "{warnings:?}"
    );
}

#[test]
fn path_and_commit_allowlists_are_decided_with_the_location() {
    let text = r#"
[[rules]]
id = "a"
regex = '''q[0-9a-z]{6}'''
path = '''\.env$'''
[rules.allowlist]
paths = ['''^vendor/''']
commits = ["0123abcd"]
[[allowlists]]
condition = "AND"
paths = ['''^test/''']
regexes = ['x$']
regexTarget = "line"
targetRules = ["a"]
"#;
    let (set, warnings) = RuleSet::from_toml_str(text, "p.toml").unwrap();
    let rule = set.rule("a").unwrap();
    assert_eq!(rule.path.as_deref(), Some(r"\.env$"));
    assert_eq!(rule.allowlists[0].paths, vec!["^vendor/".to_string()]);
    assert_eq!(rule.allowlists[0].commits, vec!["0123abcd".to_string()]);
    assert_eq!(set.allowlists()[0].condition, AllowCondition::And);
    assert_eq!(set.allowlists()[0].target_rules, vec!["a".to_string()]);
    assert!(warnings.is_empty(), "{warnings:?}");
    // The AND allowlist needs a path, so the engine must not apply its regex alone; the
    // location verdict comes from `allowed_at`.
    let e = Engine::new(&set).unwrap();
    assert!(e.has_location_criteria());
    // A rule with a `path` is gated: it runs in the gated engine, only at paths it names.
    assert!(scan(&e, "qa7k2m9 x").is_empty());
    let gated = e.at_gated_engine().expect("a rule with a path is gated");
    let mut found = scan(gated, "qa7k2m9 x");
    for m in &mut found {
        m.rule += e.gated_base();
    }
    assert_eq!(found.len(), 1);
    let m = &found[0];
    assert!(e.allowed_at(m, Some(b"app/.env"), None));
    assert!(!e.allowed_at(m, Some(b"app/config.txt"), None), "rule path");
    assert!(
        !e.allowed_at(m, None, None),
        "no path, no match of a rule path"
    );
    assert!(
        !e.allowed_at(m, Some(b"vendor/x.env"), None),
        "allowlist path"
    );
    assert!(
        !e.allowed_at(m, Some(b"test/x.env"), None),
        "AND: path and regex hold"
    );
    let mut clean = scan(gated, "qa7k2m9 y");
    clean[0].rule += e.gated_base();
    let clean = &clean[0];
    assert!(
        e.allowed_at(clean, Some(b"test/x.env"), None),
        "AND: regex fails"
    );
}

#[test]
fn secret_group_entropy_and_spans() {
    let e = engine(&format!("{TOKEN_RULE}entropy = 3.0\n"));
    let text = "let a = tok_Ab3dE5gH7jK9;";
    let m = scan(&e, text);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].secret, b"Ab3dE5gH7jK9");
    assert_eq!(&text[m[0].start..m[0].end], "Ab3dE5gH7jK9");
    assert_eq!(e.rule_id(m[0].rule), "tok");
    assert_eq!(e.rule_description(m[0].rule), "test token");
    // Low entropy: rejected.
    assert!(scan(&e, "tok_abababababab").is_empty());
}

#[test]
fn allowlists_per_rule_and_global_suppress() {
    let base = TOKEN_RULE.to_string();
    let stop = engine(&format!(
        "{base}[[rules.allowlists]]\nstopwords = ['K9Z']\n"
    ));
    assert!(scan(&stop, "tok_Ab3dE5gH7k9z").is_empty());
    assert_eq!(scan(&stop, "tok_Ab3dE5gH7jK9").len(), 1);
    let line = engine(&format!(
        "{base}[[rules.allowlists]]\nregexTarget = 'line'\nregexes = ['''^#''']\n"
    ));
    assert!(scan(&line, "# tok_Ab3dE5gH7jK9").is_empty());
    assert_eq!(scan(&line, "x = tok_Ab3dE5gH7jK9\n# other").len(), 1);
    let whole = engine(&format!(
        "{base}[[rules.allowlists]]\nregexTarget = 'match'\nregexes = ['''^tok_Ab''']\n"
    ));
    assert!(scan(&whole, "tok_Ab3dE5gH7jK9").is_empty());
    let global = engine(&format!("{base}[allowlist]\nregexes = ['''^Ab3d''']\n"));
    assert!(scan(&global, "tok_Ab3dE5gH7jK9").is_empty());
    let other_target = engine(&format!(
        "{base}[[rules]]\nid = 'zzz'\nregex = 'zzz_[0-9]{{8}}'\n\
         [[allowlists]]\ntargetRules = ['zzz']\nregexes = ['''^Ab3d''']\n"
    ));
    assert_eq!(scan(&other_target, "tok_Ab3dE5gH7jK9").len(), 1);
    let and = engine(&format!(
        "{base}[[rules.allowlists]]\ncondition = 'AND'\nregexes = ['''^Ab''']\nstopwords = ['nomatch']\n"
    ));
    assert_eq!(
        scan(&and, "tok_Ab3dE5gH7jK9").len(),
        1,
        "AND needs both criteria"
    );
}

#[test]
fn gitleaks_allow_marker_suppresses_its_line_only() {
    let e = engine(TOKEN_RULE);
    let text = "a = tok_Ab3dE5gH7jK9 # gitleaks:allow\nb = tok_Zx8cV6bN4mQ2\n";
    let m = scan(&e, text);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].secret, b"Zx8cV6bN4mQ2");
}

#[test]
fn base64_encoded_secrets_are_reported_at_the_encoded_span() {
    let e = Engine::builtin().unwrap();
    // base64("GITHUB_TOKEN=ghp_...") with a valid checksum token from the builtin examples.
    let set = RuleSet::builtin();
    let ex = set.rule("github-pat").unwrap().examples[0].replace(['«', '»'], "");
    let token = ex.split('"').nth(1).unwrap().to_string();
    let encoded = {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let data = ex.as_bytes();
        let mut s = String::new();
        for c in data.chunks(3) {
            let n = (c[0] as u32) << 16
                | (*c.get(1).unwrap_or(&0) as u32) << 8
                | *c.get(2).unwrap_or(&0) as u32;
            for i in 0..4 {
                s.push(if i <= c.len() {
                    A[(n >> (18 - 6 * i) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        s
    };
    let text = format!("data:\n  credentials: {encoded}\n");
    let m = scan(&e, &text);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].decoded_from, vec!["base64"]);
    assert_eq!(m[0].secret, token.as_bytes());
    assert_eq!(&text[m[0].start..m[0].end], encoded);
    assert!(m[0].confidence > 0.9, "valid checksum raises confidence");
}

#[test]
fn rules_without_keywords_use_literal_prefixes_or_the_slow_path() {
    // Literal prefix extracted from the regex.
    let e = engine("[[rules]]\nid = 'p'\nregex = '''zq_[0-9]{8}'''\n");
    assert_eq!(scan(&e, "x zq_12345678 y").len(), 1);
    // No literal prefix: slow path, one match per run (anchored where no match starts before).
    let e = engine("[[rules]]\nid = 's'\nregex = '''[0-9]{6}[a-f]{6}'''\n");
    // "9876543fedcba": no match starts at 9, the one at 8 counts.
    let m = scan(&e, "id 123456abcdef and 9876543fedcba.");
    assert_eq!(
        m.iter().map(|m| m.secret.clone()).collect::<Vec<_>>(),
        vec![b"123456abcdef".to_vec(), b"876543fedcba".to_vec()]
    );
}

#[test]
fn rules_hash_changes_with_any_rule_change() {
    let a = engine(TOKEN_RULE).rules_hash();
    assert_eq!(a, engine(TOKEN_RULE).rules_hash());
    assert_ne!(a, engine(&TOKEN_RULE.replace("{12}", "{13}")).rules_hash());
    assert_ne!(
        a,
        engine(&TOKEN_RULE.replace("test token", "other")).rules_hash()
    );
    assert_ne!(
        a,
        engine(&format!("{TOKEN_RULE}entropy = 1.0\n")).rules_hash()
    );
    assert_ne!(
        a,
        engine(&format!(
            "{TOKEN_RULE}[[rules.allowlists]]\nstopwords=['x']\n"
        ))
        .rules_hash()
    );
    assert_ne!(a, Engine::builtin().unwrap().rules_hash());
}

#[test]
fn builtin_engine_metadata() {
    let e = Engine::builtin().unwrap();
    let c = e.context_bytes();
    // Twice the longest match (private keys, ~7 KB) plus margins; well under 64 KiB.
    assert!(c > 2 * 6000 && c < 32 * 1024, "C = {c}");
    assert_eq!(e.rule_count(), RuleSet::builtin().rules().len());
    assert_eq!(e.rule_id(u32::MAX), "");
    assert_eq!(RegexTarget::default(), RegexTarget::Secret);
}

#[test]
fn generated_corpus_filler_and_decoys_are_not_reported() {
    let e = Engine::builtin().unwrap();
    let text = r#"
    secret_password: "token"
    password_key = token_auth(secret, 123)
    log.debug("auth secret %s", token_key)
    aws_access_key_id = AKIAXXXXXXXXXXXXXXXX
GITHUB_TOKEN = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
password = "${DB_PASSWORD}"
api_key = os.environ["API_KEY"]
STRIPE_KEY = "sk_live_" + key_suffix
token = "<your-token-here>"
secret: "{{ .Values.secret }}"
password = "aaaaaaaaaaaaaaaa"
OPENAI_API_KEY = "sk-..."
auth_token = None
        secret_token_header = "X-Secret-Token"
"#;
    assert_eq!(scan(&e, text), vec![]);
}

#[test]
fn engine_is_shared_across_threads_and_scratch_moves() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Engine>();
    send::<scangit_core::engine::Scratch>();
    let e = std::sync::Arc::new(Engine::builtin().unwrap());
    let text = "token = \"k7Hf9#Qz2pLm4!wX8r\"";
    let results: Vec<Vec<Match>> = (0..2)
        .map(|_| {
            let e = e.clone();
            std::thread::spawn(move || scan(&e, text))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0].len(), 1);
}
