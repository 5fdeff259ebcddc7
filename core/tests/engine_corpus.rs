//! Dev-only recall/precision check against a generated corpus (`make_repo.py`).
//!
//! Runs only when `SCANGIT_ENGINE_CORPUS=/path/to/repo.git` is set (the manifest is
//! `/path/to/repo.git.planted.jsonl`). Every blob (`git cat-file --batch-all-objects`; tests may
//! use the git CLI, the library never does) is scanned whole. Checks: every planted secret is
//! found at its blob and line (a finding on any line the planted text spans counts: the AWS row
//! spans the key-id line and the secret-key line); no decoy line yields a finding; every finding
//! is a planted secret (or part of one: later versions of a file carry the same secret on other
//! lines). Binary blobs (NUL in the first 8 KiB) are skipped. Big blobs are also scanned in
//! windows, which must give the same findings as the whole-blob scan.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use scangit_core::engine::{Engine, Match};

/// A finding as the check needs it: (1-based line, rule id, secret, decoded).
type Found = (usize, String, Vec<u8>, bool);

struct Row {
    expect: bool,
    blob: Option<String>,
    line: usize,
    secret: String,
    kind: String,
    strategy: String,
}

fn line_of(data: &[u8], offset: usize) -> usize {
    data[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

fn scan_windowed(engine: &Engine, blob: &[u8], window: usize) -> Vec<Match> {
    let c = engine.context_bytes();
    let step = window - 2 * c;
    let mut scratch = engine.new_scratch();
    let mut out = Vec::new();
    let mut owned_start = 0;
    while owned_start < blob.len() {
        let owned_end = (owned_start + step).min(blob.len());
        let a = owned_start.saturating_sub(c);
        let b = (owned_end + c).min(blob.len());
        let mut part = Vec::new();
        engine.scan(
            &blob[a..b],
            owned_start - a..owned_end - a,
            &mut scratch,
            &mut part,
        );
        out.extend(part.into_iter().map(|mut m| {
            m.start += a;
            m.end += a;
            m
        }));
        owned_start = owned_end;
    }
    out
}

#[test]
fn generated_corpus_recall_and_precision() {
    let Ok(repo) = std::env::var("SCANGIT_ENGINE_CORPUS") else {
        eprintln!("SCANGIT_ENGINE_CORPUS not set: skipped");
        return;
    };
    let manifest = std::fs::read_to_string(format!("{}.planted.jsonl", repo.trim_end_matches('/')))
        .expect("manifest");
    let rows: Vec<Row> = manifest
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Row {
                expect: v["expect"].as_bool().unwrap(),
                blob: v["blob"].as_str().map(str::to_owned),
                line: v["line"].as_u64().unwrap_or(0) as usize,
                secret: v["secret"].as_str().unwrap_or_default().to_owned(),
                kind: v["kind"].as_str().unwrap_or_default().to_owned(),
                strategy: v["strategy"].as_str().unwrap_or_default().to_owned(),
            }
        })
        .collect();

    let engine = Engine::builtin().unwrap();
    let mut child = Command::new("git")
        .args(["-C", &repo, "cat-file", "--batch-all-objects", "--batch"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("git");
    let mut rd = BufReader::new(child.stdout.take().unwrap());
    let mut scratch = engine.new_scratch();
    // blob -> [(line, rule id, secret, decoded)]
    let mut findings: HashMap<String, Vec<Found>> = HashMap::new();
    let (mut blobs, mut bytes, mut windowed) = (0usize, 0usize, 0usize);
    let mut header = String::new();
    let started = std::time::Instant::now();
    loop {
        header.clear();
        if rd.read_line(&mut header).unwrap() == 0 {
            break;
        }
        let parts: Vec<&str> = header.split_whitespace().collect();
        let size: usize = parts[2].parse().unwrap();
        let mut data = vec![0u8; size + 1];
        rd.read_exact(&mut data).unwrap();
        data.truncate(size);
        if parts[1] != "blob" || data[..size.min(8192)].contains(&0) {
            continue;
        }
        blobs += 1;
        bytes += size;
        let mut out = Vec::new();
        engine.scan(&data, 0..data.len(), &mut scratch, &mut out);
        if data.len() > 3 * engine.context_bytes() + 65536 {
            windowed += 1;
            let w = scan_windowed(&engine, &data, 2 * engine.context_bytes() + 65536);
            assert_eq!(w, out, "windowed scan differs in blob {}", parts[0]);
        }
        for m in out {
            let entry = (
                line_of(&data, m.start),
                engine.rule_id(m.rule).to_owned(),
                m.secret,
                !m.decoded_from.is_empty(),
            );
            findings.entry(parts[0].to_owned()).or_default().push(entry);
        }
    }
    child.wait().unwrap();
    eprintln!(
        "{blobs} text blobs, {bytes} bytes ({windowed} also windowed) in {:?}",
        started.elapsed()
    );

    let mut missed = Vec::new();
    let mut expected = 0;
    let mut explained: HashSet<(String, usize)> = HashSet::new();
    for row in rows.iter().filter(|r| r.expect) {
        let Some(blob) = &row.blob else {
            missed.push(format!("row without blob: {} {}", row.kind, row.strategy));
            continue;
        };
        expected += 1;
        let span = row.line..row.line + row.secret.matches('\n').count() + 1;
        let hit = findings
            .get(blob)
            .is_some_and(|f| f.iter().any(|(l, ..)| span.contains(l)));
        if !hit {
            missed.push(format!(
                "missed {} ({}) in {blob} line {}",
                row.kind, row.strategy, row.line
            ));
        }
        for l in span {
            explained.insert((blob.clone(), l));
        }
    }
    let mut stray = Vec::new();
    for row in rows.iter().filter(|r| !r.expect) {
        if let (Some(blob), Some(f)) = (&row.blob, row.blob.as_ref().and_then(|b| findings.get(b)))
        {
            for (l, rule, secret, _) in f {
                if *l == row.line {
                    stray.push(format!(
                        "decoy found by {rule} in {blob} line {l}: {}",
                        String::from_utf8_lossy(secret)
                    ));
                }
            }
        }
    }
    let planted: Vec<&str> = rows
        .iter()
        .filter(|r| r.expect)
        .map(|r| r.secret.as_str())
        .collect();
    let mut total = 0;
    for (blob, f) in &findings {
        for (l, rule, secret, decoded) in f {
            total += 1;
            let s = String::from_utf8_lossy(secret);
            let known = explained.contains(&(blob.clone(), *l))
                || planted.iter().any(|p| p.contains(s.as_ref()));
            if !known {
                stray.push(format!(
                    "stray {rule} (decoded {decoded}) in {blob} line {l}: {s}"
                ));
            }
        }
    }
    eprintln!(
        "found {}/{expected} planted, {total} findings, {} stray",
        expected - missed.len(),
        stray.len()
    );
    assert!(
        missed.is_empty() && stray.is_empty(),
        "{}\n{}",
        missed.join("\n"),
        stray.join("\n")
    );
}
