//! Corpus acceptance: generated repositories with planted secrets (`make_repo.py`), scanned by
//! the built `scangit` binary with `--format jsonl`, checked against the generator's manifest
//! (the logic of `tests/check_manifest.py`, in Rust).
//!
//! Corpora (tiny seeds 1-4, small seeds 1-3) are generated in parallel once per test binary into
//! Cargo's per-target temp dir, never committed. The generator is `tests/corpus/make_repo.py`
//! (`$SCANGIT_CORPUS_SCRIPT` overrides it).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

const CORPORA: &[(&str, u64)] = &[
    ("tiny", 1),
    ("tiny", 2),
    ("tiny", 3),
    ("tiny", 4),
    ("small", 1),
    ("small", 2),
    ("small", 3),
];

struct Row {
    id: u64,
    expect: bool,
    kind: String,
    strategy: String,
    secret: String,
    commit: Option<String>,
    blob: String,
    line: u64,
}

/// One scan of one corpus: the jsonl events and the exit code.
struct Run {
    events: Vec<Value>,
    exit: Option<i32>,
    stderr: String,
}

impl Run {
    fn findings(&self) -> impl Iterator<Item = &Value> {
        self.events.iter().filter(|e| e["type"] == "finding")
    }
}

struct Corpus {
    name: String,
    rows: Vec<Row>,
    plain: Run,
    revealed: Run,
}

fn script() -> PathBuf {
    if let Some(p) = std::env::var_os("SCANGIT_CORPUS_SCRIPT") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/make_repo.py")
}

fn generate(preset: &str, seed: u64, out: &Path) -> Result<(), String> {
    let script = script();
    let o = Command::new("python3")
        .arg(&script)
        .args(["--preset", preset, "--seed", &seed.to_string(), "--out"])
        .arg(out)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .map_err(|e| format!("python3 {}: {e}", script.display()))?;
    if !o.status.success() {
        return Err(format!(
            "{} --preset {preset} --seed {seed}: {}",
            script.display(),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(())
}

fn run_scan(repo: &Path, reveal: bool) -> Result<Run, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scangit"));
    cmd.arg("scan")
        .arg(repo)
        .args(["--format", "jsonl", "--no-progress"]);
    if reveal {
        cmd.arg("--reveal-secrets");
    }
    let o = cmd.output().map_err(|e| format!("run scangit: {e}"))?;
    let stdout = String::from_utf8(o.stdout).map_err(|e| format!("stdout not UTF-8: {e}"))?;
    let events = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad jsonl line {l:?}: {e}")))
        .collect::<Result<Vec<Value>, String>>()?;
    Ok(Run {
        events,
        exit: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    })
}

fn read_manifest(path: &Path) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).map_err(|e| format!("manifest {l:?}: {e}"))?;
            Ok(Row {
                id: v["id"].as_u64().unwrap_or(0),
                expect: v["expect"].as_bool().ok_or("manifest row without expect")?,
                kind: v["kind"].as_str().unwrap_or_default().to_owned(),
                strategy: v["strategy"].as_str().unwrap_or_default().to_owned(),
                secret: v["secret"].as_str().unwrap_or_default().to_owned(),
                commit: v["commit"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                blob: v["blob"].as_str().unwrap_or_default().to_owned(),
                line: v["line"].as_u64().unwrap_or(0),
            })
        })
        .collect()
}

/// Every corpus, generated (in parallel) and scanned once per test binary. An error is kept and
/// reported by every test rather than poisoning the lock.
fn corpora() -> Result<&'static [Corpus], String> {
    static ALL: OnceLock<Result<Vec<Corpus>, String>> = OnceLock::new();
    ALL.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("corpus-acceptance");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let repos: Vec<(String, PathBuf)> = CORPORA
            .iter()
            .map(|(p, s)| (format!("{p}-{s}"), dir.join(format!("{p}-{s}.git"))))
            .collect();
        std::thread::scope(|scope| {
            let jobs: Vec<_> = CORPORA
                .iter()
                .zip(&repos)
                .map(|((preset, seed), (_, out))| scope.spawn(move || generate(preset, *seed, out)))
                .collect();
            jobs.into_iter()
                .map(|j| j.join().expect("generator thread"))
                .collect::<Result<Vec<()>, String>>()
        })?;
        let mut all = Vec::new();
        for (name, repo) in repos {
            let manifest = PathBuf::from(format!("{}.planted.jsonl", repo.display()));
            all.push(Corpus {
                rows: read_manifest(&manifest)?,
                plain: run_scan(&repo, false)?,
                revealed: run_scan(&repo, true)?,
                name,
            });
        }
        Ok(all)
    })
    .as_ref()
    .map(Vec::as_slice)
    .map_err(Clone::clone)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// Findings indexed by (blob, line).
fn by_location(run: &Run) -> HashMap<(String, u64), Vec<&Value>> {
    let mut at: HashMap<(String, u64), Vec<&Value>> = HashMap::new();
    for f in run.findings() {
        at.entry((
            str_of(f, "blob").to_owned(),
            f["line"].as_u64().unwrap_or(0),
        ))
        .or_default()
        .push(f);
    }
    at
}

/// Runs `check` on every corpus; fails listing every problem of every corpus.
fn for_each_corpus(check: impl Fn(&Corpus) -> Vec<String>) {
    let all = corpora().unwrap_or_else(|e| panic!("corpus setup failed: {e}"));
    let mut problems = Vec::new();
    for c in all {
        for p in check(c) {
            problems.push(format!("[{}] {p}", c.name));
        }
    }
    let shown: Vec<&String> = problems.iter().take(40).collect();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_planted_secret_is_reported_at_its_blob_line_and_commit() {
    for_each_corpus(|c| {
        let at = by_location(&c.plain);
        let mut bad = Vec::new();
        let mut expected = 0;
        for r in c.rows.iter().filter(|r| r.expect) {
            expected += 1;
            let hits = at
                .get(&(r.blob.clone(), r.line))
                .cloned()
                .unwrap_or_default();
            if hits.is_empty() {
                bad.push(format!(
                    "MISSED id={} kind={} strategy={} blob={} line={}",
                    r.id, r.kind, r.strategy, r.blob, r.line
                ));
            } else if let Some(want) = &r.commit
                && !hits.iter().any(|h| str_of(h, "commit") == want)
            {
                let got: Vec<&str> = hits.iter().map(|h| str_of(h, "commit")).collect();
                bad.push(format!(
                    "WRONG COMMIT id={} kind={} strategy={} want={want} got={got:?}",
                    r.id, r.kind, r.strategy
                ));
            }
        }
        if expected == 0 {
            bad.push("the manifest plants no secrets".into());
        }
        bad
    });
}

#[test]
fn no_decoy_is_reported() {
    for_each_corpus(|c| {
        let at = by_location(&c.plain);
        let decoys: Vec<&Row> = c.rows.iter().filter(|r| !r.expect).collect();
        let mut bad: Vec<String> = decoys
            .iter()
            .filter_map(|r| {
                let hits = at.get(&(r.blob.clone(), r.line))?;
                let rules: Vec<&str> = hits.iter().map(|h| str_of(h, "rule_id")).collect();
                Some(format!(
                    "DECOY REPORTED id={} text={:?} rules={rules:?}",
                    r.id, r.secret
                ))
            })
            .collect();
        if decoys.is_empty() {
            bad.push("the manifest has no decoys".into());
        }
        bad
    });
}

#[test]
fn every_finding_belongs_to_a_planted_secret() {
    for_each_corpus(|c| {
        let at = by_location(&c.plain);
        // The same secret in later versions of a file (or in another file) is one secret: a
        // finding is explained when its fingerprint group holds a finding at a manifest location.
        let mut good_fp: HashSet<&str> = HashSet::new();
        for r in c.rows.iter().filter(|r| r.expect) {
            let mut keys = vec![(r.blob.clone(), r.line)];
            // The two halves of an AWS key pair sit on consecutive lines of one row.
            if r.kind == "aws-credentials" {
                keys.push((r.blob.clone(), r.line + 1));
            }
            for k in keys {
                for h in at.get(&k).into_iter().flatten() {
                    good_fp.insert(str_of(h, "fingerprint"));
                }
            }
        }
        c.plain
            .findings()
            .filter(|f| !good_fp.contains(str_of(f, "fingerprint")))
            .map(|f| {
                let snippet: String = str_of(f, "snippet").chars().take(120).collect();
                format!(
                    "STRAY rule={} blob={} line={} path={} snippet={snippet:?}",
                    str_of(f, "rule_id"),
                    str_of(f, "blob"),
                    f["line"],
                    str_of(f, "path")
                )
            })
            .collect()
    });
}

/// One location, one secret: two rules reporting the same span is a duplicate report. A span of
/// encoded text (base64) may hold several secrets (an AWS key id and its secret key), so for
/// decoded findings the secret itself is part of the location (from the `--reveal-secrets` run).
#[test]
fn no_two_rules_report_the_same_span() {
    for_each_corpus(|c| {
        let mut spans: BTreeMap<(String, u64, u64, String), BTreeSet<String>> = BTreeMap::new();
        for f in c.revealed.findings() {
            let decoded = f["decoded_from"].as_array().is_some_and(|d| !d.is_empty());
            let secret = if decoded { str_of(f, "secret") } else { "" };
            spans
                .entry((
                    str_of(f, "blob").to_owned(),
                    f["start"].as_u64().unwrap_or(0),
                    f["end"].as_u64().unwrap_or(0),
                    secret.to_owned(),
                ))
                .or_default()
                .insert(str_of(f, "rule_id").to_owned());
        }
        spans
            .into_iter()
            .filter(|(_, rules)| rules.len() > 1)
            .map(|((blob, s, e, _), rules)| {
                format!("DUPLICATE RULES {rules:?} on blob={blob} {s}..{e}")
            })
            .collect()
    });
}

/// What the revealed secret of `row` must be: the manifest's secret (its first line for
/// multi-line secrets such as private keys); for database URIs the rules report the password
/// (`scheme://user:PASSWORD@host`), the credential inside the URI.
fn expected_secret(row: &Row) -> String {
    let first = row.secret.lines().next().unwrap_or_default();
    if row.kind.ends_with("-uri")
        && let Some((_, rest)) = first.split_once("://")
        && let Some((userinfo, _)) = rest.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
    {
        return password.to_owned();
    }
    first.to_owned()
}

#[test]
fn revealed_secrets_match_the_manifest() {
    for_each_corpus(|c| {
        let at = by_location(&c.revealed);
        let mut bad = Vec::new();
        for r in c.rows.iter().filter(|r| r.expect) {
            let Some(hits) = at.get(&(r.blob.clone(), r.line)) else {
                continue; // reported by the recall test
            };
            let want = expected_secret(r);
            let matching: Vec<&&Value> = hits
                .iter()
                .filter(|h| str_of(h, "secret").lines().next().unwrap_or_default() == want)
                .collect();
            if matching.is_empty() {
                let got: Vec<&str> = hits.iter().map(|h| str_of(h, "secret")).collect();
                bad.push(format!(
                    "SECRET MISMATCH id={} kind={} strategy={} want={want:?} got={got:?}",
                    r.id, r.kind, r.strategy
                ));
                continue;
            }
            if r.strategy == "base64" {
                let decoded = matching.iter().any(|h| {
                    h["decoded_from"]
                        .as_array()
                        .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("base64")))
                });
                if !decoded {
                    bad.push(format!(
                        "NOT DECODED id={} kind={}: decoded_from lacks base64",
                        r.id, r.kind
                    ));
                }
            }
        }
        // Without --reveal-secrets no secret text is printed at all, and the findings are the
        // same ones.
        for f in c.plain.findings() {
            if f.get("secret").is_some_and(|s| !s.is_null()) {
                bad.push(format!("secret printed without --reveal-secrets: {f}"));
                break;
            }
        }
        let key = |f: &Value| {
            (
                str_of(f, "rule_id").to_owned(),
                str_of(f, "blob").to_owned(),
                f["start"].as_u64(),
                f["end"].as_u64(),
                str_of(f, "fingerprint").to_owned(),
            )
        };
        let plain: BTreeSet<_> = c.plain.findings().map(key).collect();
        let revealed: BTreeSet<_> = c.revealed.findings().map(key).collect();
        if plain != revealed {
            bad.push("findings differ between plain and --reveal-secrets runs".into());
        }
        bad
    });
}

#[test]
fn summary_is_the_last_line_complete_and_exit_code_is_1() {
    for_each_corpus(|c| {
        let mut bad = Vec::new();
        for (label, run) in [("plain", &c.plain), ("revealed", &c.revealed)] {
            if run.exit != Some(1) {
                bad.push(format!(
                    "{label}: exit code {:?}, want 1 (findings); stderr: {}",
                    run.exit, run.stderr
                ));
            }
            let Some(last) = run.events.last() else {
                bad.push(format!("{label}: no output"));
                continue;
            };
            if last["type"] != "summary" || last["outcome"] != "complete" {
                bad.push(format!(
                    "{label}: last line is not a complete summary: {last}"
                ));
            }
            let summaries = run.events.iter().filter(|e| e["type"] == "summary").count();
            if summaries != 1 {
                bad.push(format!("{label}: {summaries} summary lines"));
            }
            let n = run.findings().count() as u64;
            if last["findings"].as_u64() != Some(n) {
                bad.push(format!(
                    "{label}: summary counts {} findings, {n} printed",
                    last["findings"]
                ));
            }
            if run.events.iter().any(|e| e["type"] == "progress") {
                bad.push(format!("{label}: progress events printed in jsonl"));
            }
            // Commit events: at most one per commit, one for each commit with findings.
            let mut commit_events: HashMap<&str, usize> = HashMap::new();
            for e in run.events.iter().filter(|e| e["type"] == "commit") {
                *commit_events.entry(str_of(e, "commit")).or_default() += 1;
            }
            if let Some((id, n)) = commit_events.iter().find(|(_, n)| **n > 1) {
                bad.push(format!("{label}: commit {id} has {n} commit events"));
            }
            let with_findings: BTreeSet<&str> =
                run.findings().map(|f| str_of(f, "commit")).collect();
            let with_events: BTreeSet<&str> = commit_events.keys().copied().collect();
            if with_findings != with_events {
                bad.push(format!(
                    "{label}: commits with findings but no event: {:?}; events without findings: {:?}",
                    with_findings.difference(&with_events).collect::<Vec<_>>(),
                    with_events.difference(&with_findings).collect::<Vec<_>>()
                ));
            }
        }
        bad
    });
}
