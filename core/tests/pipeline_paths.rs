//! Rules decided on a blob's path, in real scans of real repositories: gated rules (a regex and
//! a `path`) report only at matching paths, whichever mode and however the blob is attributed;
//! path-only rules report a non-empty blob at a matching path as a whole; a generic match yields
//! to an overlapping gated one (and the other way round), as within one pass.

mod pipeline_support;

use pipeline_support::*;
use scangit_core::{Engine, RuleSet, ScanMode, ScanOptions};

const RULES: &str = r#"
[[rules]]
id = "pgpass-password"
description = "password field of a .pgpass line"
path = '''(?:^|/)\.pgpass$'''
regex = '''(?m-u)^[^:#\n]{1,64}:[^:\n]{1,8}:[^:\n]{1,64}:[^:\n]{1,64}:([^\n]{6,128})$'''
examples = ['db.internal:5432:app:svc:«Tz8qWm3vLp0x»']
path_examples = ['.pgpass']

[[rules]]
id = "assigned-password"
description = "generic assignment"
regex = '''(?i-u)password\s{0,3}[:=]\s{0,3}([A-Za-z0-9]{8,40})'''
keywords = ["password"]
tags = ["generic"]
examples = ['password = «Hq4nVx81rTzz»']

[[rules]]
id = "env-password"
description = "PASSWORD= in a .env file"
path = '''(?:^|/)\.env$'''
regex = '''(?m-u)^[A-Z_]{0,30}PASSWORD=([A-Za-z0-9]{8,40})$'''
examples = ['DB_PASSWORD=«Hq4nVx81rTzz»']
path_examples = ['.env']

[[rules]]
id = "rsa-key-file"
description = "an SSH private key file, by name"
path = '''(?:^|/)id_rsa$'''
path_examples = ['home/.ssh/id_rsa']
path_negative_examples = ['home/.ssh/id_rsa.pub']
"#;

fn engine_of(rules: &str) -> Engine {
    let (set, warnings) = RuleSet::from_toml_str(rules, "test").unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    Engine::new(&set).unwrap()
}

fn repo() -> (TempDir, GitRepo) {
    let tmp = temp_dir("paths");
    let repo = GitRepo::init(&tmp.path().join("r"));
    let line = "db.internal:5432:app:svc:Tz8qWm3vLp0x\n";
    repo.write("home/.pgpass", line);
    // The same line elsewhere: no `.pgpass`, so no finding.
    repo.write("notes/pgpass.txt", format!("see\n{line}"));
    repo.write(
        "home/.ssh/id_rsa",
        "not really a key, but the name says it is\n",
    );
    repo.write("home/.ssh/id_rsa.pub", "ssh-rsa AAAA public\n");
    repo.write("svc/.env", "DB_PASSWORD=Hq4nVx81rTzz\n");
    // Other content than `.env` (one blob is attributed to one path in odb-blob mode).
    repo.write("svc/env.sample", "DB_PASSWORD=Wc7kPd20yQmm\n");
    repo.write("empty/id_rsa", "");
    repo.commit("c1");
    (tmp, repo)
}

fn found(s: &Scanned) -> Vec<(String, String, u64, u64, Option<String>)> {
    let mut v: Vec<_> = s
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                String::from_utf8_lossy(f.path.as_deref().unwrap_or_default()).into_owned(),
                f.start,
                f.end,
                f.secret.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn gated_and_path_only_rules_report_at_their_paths_only_in_both_modes() {
    let (_tmp, repo) = repo();
    let engine = engine_of(RULES);
    let key_blob = repo.blob("HEAD", "home/.ssh/id_rsa");
    let mut first = None;
    for mode in [ScanMode::OdbBlob, ScanMode::DiffHistory] {
        let opts = ScanOptions { mode, ..reveal() };
        let s = try_scan_with(&repo.dir, &opts, &engine).unwrap();
        let got = found(&s);
        let expect = vec![
            (
                "assigned-password".to_string(),
                "svc/env.sample".to_string(),
                12,
                24,
                Some("Wc7kPd20yQmm".to_string()),
            ),
            (
                "env-password".into(),
                "svc/.env".into(),
                12,
                24,
                Some("Hq4nVx81rTzz".into()),
            ),
            (
                "pgpass-password".into(),
                "home/.pgpass".into(),
                25,
                37,
                Some("Tz8qWm3vLp0x".into()),
            ),
            (
                "rsa-key-file".into(),
                "home/.ssh/id_rsa".into(),
                0,
                42,
                Some(key_blob.clone()),
            ),
        ];
        assert_eq!(got, expect, "{mode:?}");
        assert_eq!(s.summary().findings, 4);
        if let Some(f) = &first {
            assert_eq!(f, &got);
        }
        first = Some(got);
    }
}

#[test]
fn a_path_only_finding_is_one_secret_wherever_the_file_sits() {
    let (_tmp, repo) = repo();
    repo.write(
        "backup/id_rsa",
        "not really a key, but the name says it is\n",
    );
    repo.write("other/id_rsa", "a different key\n");
    repo.commit("c2");
    let engine = engine_of(RULES);
    let opts = ScanOptions {
        mode: ScanMode::DiffHistory,
        ..reveal()
    };
    let s = try_scan_with(&repo.dir, &opts, &engine).unwrap();
    let keys: Vec<_> = s
        .findings
        .iter()
        .filter(|f| f.rule_id == "rsa-key-file")
        .collect();
    // diff-history reports the first blob once (its first path); the second blob is new.
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_ne!(keys[0].fingerprint, keys[1].fingerprint);
    assert!(keys.iter().all(|f| f.snippet.is_empty() && f.line == 1));
}

#[test]
fn rules_with_paths_change_the_rules_hash() {
    let a = engine_of(RULES);
    let b = engine_of(&RULES.replace("(?:^|/)id_rsa$", "(?:^|/)id_dsa$"));
    let c = engine_of(&RULES.replace("(?:^|/)\\.env$", "(?:^|/)\\.envrc$"));
    assert_ne!(a.rules_hash(), b.rules_hash());
    assert_ne!(a.rules_hash(), c.rules_hash());
    assert_eq!(a.rules_hash(), engine_of(RULES).rules_hash());
}

#[test]
fn a_provider_token_in_a_credential_file_is_reported_once_under_the_provider_rule() {
    let rules = r#"
[[rules]]
id = "acme-token"
description = "a provider token"
regex = '''\b(acme[0-9a-z]{12})\b'''
keywords = ["acme"]
examples = ['x «acme0123456789ab»']

[[rules]]
id = "env-secret"
description = "any *_SECRET= value in a .env file"
path = '''(?:^|/)\.env$'''
regex = '''(?m-u)^[A-Z_]{0,30}SECRET=([a-z0-9]{8,40})$'''
examples = ['APP_SECRET=«q8w7e6r5t4y3»']
path_examples = ['.env']
"#;
    let tmp = temp_dir("paths-dedupe");
    let repo = GitRepo::init(&tmp.path().join("r"));
    repo.write(
        ".env",
        "ACME_SECRET=acme0123456789ab\nAPP_SECRET=q8w7e6r5t4y3\n",
    );
    repo.commit("env");
    let engine = engine_of(rules);
    let s = try_scan_with(&repo.dir, &reveal(), &engine).unwrap();
    let got: Vec<(String, String)> = s
        .findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.secret.clone().unwrap()))
        .collect();
    assert_eq!(
        got.len(),
        2,
        "the provider's token once, the other value under the file rule: {got:?}"
    );
    assert!(got.contains(&("acme-token".into(), "acme0123456789ab".into())));
    assert!(got.contains(&("env-secret".into(), "q8w7e6r5t4y3".into())));
}
