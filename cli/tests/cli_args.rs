//! Runs the built `scangit` binary: argument handling, exit codes and error messages.

use std::path::PathBuf;
use std::process::{Command, Output};

fn scangit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scangit"))
        .args(args)
        .output()
        .expect("run scangit")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh empty directory under Cargo's per-target temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli_args-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every error is one `scangit: error: <kind>: ...` line and never a panic or backtrace.
fn assert_clean_error(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(err.starts_with("scangit: error: "), "stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "stderr: {err}"
    );
    assert!(o.stdout.is_empty(), "no report on error");
    err
}

#[test]
fn not_a_repository_exits_2_with_a_clear_message() {
    let dir = temp_dir("not-a-repo");
    let o = scangit(&["scan", dir.to_str().unwrap(), "--no-progress"]);
    let err = assert_clean_error(&o);
    assert!(
        err.starts_with("scangit: error: repo_not_found: "),
        "stderr: {err}"
    );
}

#[test]
fn bogus_format_exits_2() {
    let o = scangit(&["scan", ".", "--format", "bogus"]);
    let err = assert_clean_error(&o);
    assert!(
        err.starts_with("scangit: error: invalid_argument: "),
        "stderr: {err}"
    );
    assert!(
        err.contains("bogus") && err.contains("jsonl"),
        "names the value and the choices: {err}"
    );
}

#[test]
fn unknown_flag_and_missing_repo_exit_2() {
    assert_clean_error(&scangit(&["scan", ".", "--frobnicate"]));
    assert_clean_error(&scangit(&["scan"]));
    assert_clean_error(&scangit(&["scan", ".", "--threads", "many"]));
}

/// A repository under `dir` with one commit holding `files`.
fn new_repo(dir: &std::path::Path, files: &[(&str, &str)]) -> PathBuf {
    let repo = dir.join("repo");
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    std::fs::create_dir_all(&repo).unwrap();
    git(&["init", "-q", "-b", "main"]);
    for (name, text) in files {
        std::fs::write(repo.join(name), text).unwrap();
    }
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "add files"]);
    repo
}

/// A rules file whose rule id repeats (gitleaks keeps the later rule) loads with a warning
/// naming the rule; `--strict-rules` refuses it, and any other warning, as rules_invalid.
#[test]
fn duplicate_rule_ids_warn_and_strict_rules_refuses_them() {
    let dir = temp_dir("dup-rules");
    let repo = new_repo(&dir, &[("a.txt", "key = dup_A7x9Q2m4\n")]);
    let rules = dir.join("dup.toml");
    std::fs::write(
        &rules,
        "[[rules]]\nid = 'dup'\nregex = 'never_[0-9]{8}'\n\n\
         [[rules]]\nid = 'dup'\nregex = '''dup_[A-Za-z0-9]{8}'''\n",
    )
    .unwrap();
    let (r, f) = (repo.to_str().unwrap(), rules.to_str().unwrap());
    let o = scangit(&[
        "scan",
        r,
        "--rules",
        f,
        "--format",
        "jsonl",
        "--no-progress",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let want = format!(
        "scangit: warning: rules {f}: rule dup: duplicate rule id (lines 1 and 5): the later \
         definition replaces the earlier"
    );
    assert!(stderr(&o).starts_with(&want), "{}", stderr(&o));
    let findings: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["type"] == "finding")
        .collect();
    assert_eq!(findings.len(), 1, "the later definition is the one applied");
    assert_eq!(findings[0]["rule_id"], "dup");

    let strict = scangit(&["scan", r, "--rules", f, "--strict-rules", "--no-progress"]);
    let err = assert_clean_error(&strict);
    assert!(
        err.starts_with("scangit: error: rules_invalid: ")
            && err.contains("rule dup: duplicate rule id (lines 1 and 5)"),
        "{err}"
    );
    // The built-in rules pass strict loading.
    let builtin = scangit(&["scan", r, "--strict-rules", "--no-progress"]);
    assert_eq!(builtin.status.code(), Some(0), "{}", stderr(&builtin));
}

/// `--store` makes scans incremental and `findings --store` lists what was recorded.
#[test]
fn store_makes_rescans_incremental_and_findings_lists_them() {
    let dir = temp_dir("store");
    let token = "glpat-Zq3xV8mK2pL9wR4tY7uB";
    let repo = new_repo(&dir, &[("ci.env", &format!("GITLAB_TOKEN={token}\n"))]);
    let db = dir.join("findings.db");
    let (r, d) = (repo.to_str().unwrap(), db.to_str().unwrap());
    let jsonl = |o: &Output| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };

    let first = scangit(&["scan", r, "--store", d, "--format", "jsonl"]);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    assert_eq!(
        jsonl(&first)
            .iter()
            .filter(|e| e["type"] == "finding")
            .count(),
        1
    );

    let again = scangit(&["scan", r, "--store", d, "--format", "jsonl"]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "nothing new: {}",
        stderr(&again)
    );
    let events = jsonl(&again);
    let summary = events.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["blobs_scanned"], 0);
    assert_eq!(summary["commits"], 0, "no commit after the watermark");

    let listed = scangit(&["findings", "--store", d, "--format", "jsonl"]);
    assert_eq!(listed.status.code(), Some(1), "{}", stderr(&listed));
    let rows: Vec<_> = jsonl(&listed)
        .into_iter()
        .filter(|e| e["type"] == "finding")
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["rule_id"], "gitlab-pat");
    assert_eq!(rows[0]["path"], "ci.env");
    assert!(rows[0].get("secret").is_none(), "no secret kept by default");

    let missing = scangit(&["findings", "--store", dir.join("none.db").to_str().unwrap()]);
    assert_clean_error(&missing);
}

#[test]
fn unreadable_rules_file_is_rules_invalid() {
    let dir = temp_dir("rules");
    let out = dir.join("report.json");
    let rules = dir.join("missing.toml");
    let o = scangit(&[
        "scan",
        dir.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let err = assert_clean_error(&o);
    assert!(
        err.starts_with("scangit: error: rules_invalid: "),
        "stderr: {err}"
    );
    assert!(
        !out.exists(),
        "rules are checked before the output file is created"
    );
}

#[test]
fn unwritable_output_is_an_io_error() {
    let dir = temp_dir("output");
    let out = dir.join("no-such-dir").join("report.json");
    let o = scangit(&[
        "scan",
        dir.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let err = assert_clean_error(&o);
    assert!(
        err.starts_with("scangit: error: io: cannot create output file"),
        "stderr: {err}"
    );
}

#[test]
fn version_and_help() {
    let o = scangit(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("scangit {}", env!("CARGO_PKG_VERSION"))
    );
    let o = scangit(&["scan", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--format",
        "--output",
        "--mode",
        "--threads",
        "--rules",
        "--strict-rules",
        "--store",
        "--reveal-secrets",
        "--include-ref",
        "--exclude-ref",
        "--all-objects",
        "--max-blob-bytes",
        "--no-progress",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
}
