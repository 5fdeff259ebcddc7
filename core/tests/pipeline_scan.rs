//! The scan pipeline through the public Rust API (`scangit_core::scan`): window invariance,
//! commit events under several thread counts, and cancellation (abort token, stopping sink).
//!
//! Repositories are real: a `make_repo.py` tiny corpus generated once per test binary, and a
//! hand-made repository (git CLI) holding a 3 MiB file with secrets straddling many offsets.

mod pipeline_support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pipeline_support::*;
use scangit_core::error::AbortCause;
use scangit_core::events::{CollectSink, Event, SinkAction};
use scangit_core::{AbortToken, EventSink, ScanError, ScanOptions, scan};

const FILLER: &[u8] =
    b"lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n";

/// A planted secret: rule, byte offset in the blob, the secret text.
type Planted = Vec<(String, usize, String)>;
/// Where a finding is: (rule, start, end, line, column).
type Loc = (String, u64, u64, u64, u64);
/// (rule, blob, start, end, line, column), as `Scanned::locations` returns.
type BlobLocs = BTreeSet<(String, String, u64, u64, u64, u64)>;

/// `len` bytes of filler text with `secrets` written over it at the given offsets, each
/// surrounded by spaces (word boundaries).
fn big_text(len: usize, secrets: &[(usize, String)]) -> (Vec<u8>, Planted) {
    let mut data: Vec<u8> = FILLER.iter().copied().cycle().take(len).collect();
    let mut planted = Vec::new();
    let mut last_end = 0;
    for (at, s) in secrets {
        assert!(*at > last_end + 1, "planted secrets must not touch");
        data[at - 1] = b' ';
        data[*at..at + s.len()].copy_from_slice(s.as_bytes());
        data[at + s.len()] = b' ';
        last_end = at + s.len() + 1;
        planted.push((rule_of(s).to_owned(), *at, s.clone()));
    }
    (data, planted)
}

/// Offsets where secrets go: straddling every 64 KiB boundary (at a split point that varies
/// with the boundary), 1 MiB and 2 MiB exactly, plus pseudo-random positions.
fn planted_offsets(len: usize, rng: &mut Rng) -> Vec<usize> {
    let mut at = BTreeSet::new();
    for k in 1..(len >> 16) {
        let boundary = k << 16;
        at.insert(boundary - 1 - (k * 7) % 38);
    }
    for mib in [1usize << 20, 2 << 20] {
        for back in [0usize, 1, 20, 39] {
            at.insert(mib + 1000 * back + 200 - back);
        }
        at.insert(mib - 20);
    }
    for _ in 0..120 {
        at.insert(100 + rng.below(len - 300));
    }
    // Keep 60 bytes between secrets (the longest one here is 51 bytes plus two spaces).
    let mut kept: Vec<usize> = Vec::new();
    for a in at {
        if kept.last().is_none_or(|&l| a >= l + 60) && a + 60 < len {
            kept.push(a);
        }
    }
    kept
}

fn make_secret(i: usize, rng: &mut Rng) -> String {
    match i % 4 {
        0 => github_pat(rng),
        1 => aws_key_id(rng),
        2 => slack_bot_token(rng),
        _ => npm_token(rng),
    }
}

/// Expected (rule, start, end, line, column) of planted secrets in `data`.
fn expected_locations(data: &[u8], planted: &Planted) -> BTreeSet<Loc> {
    planted
        .iter()
        .map(|(rule, at, s)| {
            let line = data[..*at].iter().filter(|&&b| b == b'\n').count() + 1;
            let col = at
                - data[..*at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            (
                rule.clone(),
                *at as u64,
                (at + s.len()) as u64,
                line as u64,
                col as u64,
            )
        })
        .collect()
}

struct BigRepo {
    _tmp: TempDir,
    path: std::path::PathBuf,
    /// blob id → expected findings in it.
    expected: BTreeMap<String, BTreeSet<Loc>>,
}

/// A repository with two versions of a 3 MiB file (the second shifted by 777 bytes, so every
/// secret straddles different boundaries), packed with deltas by `git gc`.
fn big_repo() -> BigRepo {
    let tmp = temp_dir("big");
    let repo = GitRepo::init(&tmp.path().join("work"));
    let mut rng = Rng::new(42);
    let len = 3 << 20;
    let offsets = planted_offsets(len, &mut rng);
    let secrets: Vec<(usize, String)> = offsets
        .iter()
        .enumerate()
        .map(|(i, &a)| (a, make_secret(i, &mut rng)))
        .collect();
    let (v1, p1) = big_text(len, &secrets);
    repo.write("data/big.log", &v1);
    repo.commit("add a big log");
    let shifted: Vec<(usize, String)> = secrets.iter().map(|(a, s)| (a + 777, s.clone())).collect();
    let (v2, p2) = big_text(len + 777, &shifted);
    repo.write("data/big.log", &v2);
    repo.commit("grow the log");
    repo.git(&["gc", "-q"]);
    let mut expected = BTreeMap::new();
    expected.insert(
        repo.blob("HEAD~1", "data/big.log"),
        expected_locations(&v1, &p1),
    );
    expected.insert(
        repo.blob("HEAD", "data/big.log"),
        expected_locations(&v2, &p2),
    );
    BigRepo {
        path: repo.dir.clone(),
        _tmp: tmp,
        expected,
    }
}

fn chunk_sizes() -> Vec<usize> {
    let mut sizes = vec![64, 1000, 4096, 65536, 1 << 20, 2 << 20];
    // A few odd sizes, different on every run (printed, to reproduce a failure).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Rng::new(seed);
    sizes.extend([
        200 + rng.below(3000),
        5000 + rng.below(60_000),
        70_000 + rng.below(3 << 20),
    ]);
    println!("chunk sizes: {sizes:?}");
    sizes
}

fn with_chunk(chunk_bytes: usize) -> ScanOptions {
    ScanOptions {
        chunk_bytes,
        ..reveal()
    }
}

#[test]
fn findings_do_not_depend_on_the_window_size_in_a_big_file() {
    let big = big_repo();
    for chunk in chunk_sizes() {
        let got = scan_ok(&big.path, with_chunk(chunk));
        let mut by_blob: BTreeMap<String, BTreeSet<Loc>> = BTreeMap::new();
        for f in &got.findings {
            by_blob.entry(f.blob.to_string()).or_default().insert((
                f.rule_id.clone(),
                f.start,
                f.end,
                f.line,
                f.column,
            ));
        }
        for (blob, want) in &big.expected {
            let have = by_blob.remove(blob).unwrap_or_default();
            let missed: Vec<_> = want.difference(&have).collect();
            let extra: Vec<_> = have.difference(want).collect();
            assert!(
                missed.is_empty() && extra.is_empty(),
                "chunk_bytes={chunk} blob {blob}: missed {missed:?}, unexpected {extra:?}"
            );
        }
        assert!(by_blob.is_empty(), "findings in other blobs: {by_blob:?}");
        assert_eq!(
            got.findings.len(),
            big.expected.values().map(|s| s.len()).sum::<usize>(),
            "chunk_bytes={chunk}: each secret reported exactly once"
        );
    }
}

#[test]
fn findings_do_not_depend_on_the_window_size_in_a_corpus() {
    let repo = tiny_corpus();
    let reference = scan_ok(repo, with_chunk(1 << 20));
    assert!(
        reference.findings.len() > 10,
        "the tiny corpus has planted secrets"
    );
    let want = reference.locations();
    for chunk in chunk_sizes() {
        let got = scan_ok(repo, with_chunk(chunk));
        let have = got.locations();
        let missed: Vec<_> = want.difference(&have).collect();
        let extra: Vec<_> = have.difference(&want).collect();
        assert!(
            missed.is_empty() && extra.is_empty(),
            "chunk_bytes={chunk}: missed {missed:?}, unexpected {extra:?}"
        );
        assert_eq!(
            got.findings.len(),
            reference.findings.len(),
            "chunk_bytes={chunk}: same number of findings (no duplicates from overlaps)"
        );
    }
}

/// `git show` metadata of commits: id → (an, ae, at, cn, ce, ct, subject).
fn git_commit_meta(repo: &Path, ids: &[String]) -> HashMap<String, Vec<String>> {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args([
            "show",
            "-s",
            "--format=%H%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%s",
        ])
        .args(ids)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut parts: Vec<String> = l.split('\0').map(str::to_owned).collect();
            let id = parts.remove(0);
            (id, parts)
        })
        .collect()
}

#[test]
fn exactly_one_commit_event_per_commit_with_findings_under_any_thread_count() {
    let repo = tiny_corpus();
    let mut reference: Option<BlobLocs> = None;
    for threads in [1, 2, 8] {
        let got = scan_ok(
            repo,
            ScanOptions {
                threads,
                ..ScanOptions::default()
            },
        );
        let mut events: HashMap<String, usize> = HashMap::new();
        for c in &got.commits {
            *events.entry(c.commit.to_string()).or_default() += 1;
        }
        let twice: Vec<_> = events.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "threads={threads}: repeated commit events {twice:?}"
        );
        let with_findings: BTreeSet<String> = got
            .findings
            .iter()
            .map(|f| {
                f.commit
                    .expect("every corpus blob is reachable from a commit")
                    .to_string()
            })
            .collect();
        let with_events: BTreeSet<String> = events.keys().cloned().collect();
        assert!(!with_findings.is_empty());
        assert_eq!(
            with_events, with_findings,
            "threads={threads}: commit events are exactly the commits that have findings"
        );
        // The metadata is the commit's own.
        let ids: Vec<String> = with_events.iter().cloned().collect();
        let meta = git_commit_meta(repo, &ids);
        for c in &got.commits {
            let m = &meta[&c.commit.to_string()];
            let have = vec![
                c.author_name.clone(),
                c.author_email.clone(),
                c.author_time.to_string(),
                c.committer_name.clone(),
                c.committer_email.clone(),
                c.committer_time.to_string(),
                c.summary.clone(),
            ];
            assert_eq!(&have, m, "commit {} metadata", c.commit);
        }
        // And the findings themselves do not depend on the thread count.
        let locs = got.locations();
        match &reference {
            None => reference = Some(locs),
            Some(r) => assert_eq!(r, &locs, "threads={threads}: same findings as threads=1"),
        }
        let s = got.summary();
        assert_eq!(s.findings, got.findings.len() as u64);
    }
}

/// A sink that collects events and, on the first finding, hands control to another thread that
/// triggers the abort token, waiting (bounded) until it has: the abort lands mid-scan for sure.
struct HandshakeSink {
    inner: CollectSink,
    first: AtomicBool,
    to_aborter: mpsc::SyncSender<()>,
    from_aborter: std::sync::Mutex<mpsc::Receiver<()>>,
    after_abort: AtomicUsize,
}

impl EventSink for HandshakeSink {
    fn event(&self, event: Event<'_>) -> SinkAction {
        if matches!(event, Event::Finding(_)) {
            if !self.first.swap(true, Ordering::SeqCst) {
                self.to_aborter.send(()).unwrap();
                let _ = self
                    .from_aborter
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(10));
            } else {
                self.after_abort.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.inner.event(event)
    }
}

#[test]
fn abort_token_from_another_thread_stops_the_scan() {
    let repo = tiny_corpus();
    let token = AbortToken::new();
    let options = ScanOptions {
        threads: 2,
        // Small windows make the scan long enough that most of it is still ahead.
        chunk_bytes: 4096,
        abort: Some(token.clone()),
        ..ScanOptions::default()
    };
    let (to_aborter, aborter_rx) = mpsc::sync_channel(1);
    let (ack_tx, ack_rx) = mpsc::sync_channel(1);
    let sink = HandshakeSink {
        inner: CollectSink::default(),
        first: AtomicBool::new(false),
        to_aborter,
        from_aborter: std::sync::Mutex::new(ack_rx),
        after_abort: AtomicUsize::new(0),
    };
    let (result, done, aborted_at) = std::thread::scope(|s| {
        let aborter = s.spawn(move || {
            aborter_rx.recv().expect("the scan reports a finding");
            token.abort();
            let at = Instant::now();
            ack_tx.send(()).unwrap();
            at
        });
        let r = scan(repo, &options, engine(), &sink);
        let done = Instant::now();
        (r, done, aborter.join().unwrap())
    });
    match result {
        Err(ScanError::Aborted { cause }) => assert_eq!(cause, AbortCause::Token),
        Err(e) => panic!("expected Aborted, got {e:?}"),
        Ok(_) => panic!("expected Aborted, the scan completed"),
    }
    assert!(
        sink.inner.summaries.lock().is_empty(),
        "an aborted scan emits no summary"
    );
    println!(
        "abort latency (abort() to scan returning): {:?}; {} findings delivered after the abort",
        done.saturating_duration_since(aborted_at),
        sink.after_abort.load(Ordering::Relaxed)
    );
}

#[test]
fn abort_token_triggered_before_the_scan_returns_aborted() {
    let token = AbortToken::new();
    token.abort();
    let sink = CollectSink::default();
    let options = ScanOptions {
        abort: Some(token),
        ..ScanOptions::default()
    };
    let r = scan(tiny_corpus(), &options, engine(), &sink);
    assert!(
        matches!(
            r,
            Err(ScanError::Aborted {
                cause: AbortCause::Token
            })
        ),
        "got {r:?}"
    );
    assert!(sink.findings.lock().is_empty() && sink.summaries.lock().is_empty());
}

#[test]
fn a_sink_returning_stop_ends_the_scan_with_aborted() {
    let repo = tiny_corpus();
    let seen = AtomicUsize::new(0);
    let summaries = AtomicUsize::new(0);
    let sink = |e: Event<'_>| match e {
        Event::Finding(_) => {
            seen.fetch_add(1, Ordering::Relaxed);
            SinkAction::Stop
        }
        Event::Summary(_) => {
            summaries.fetch_add(1, Ordering::Relaxed);
            SinkAction::Continue
        }
        _ => SinkAction::Continue,
    };
    let options = ScanOptions {
        threads: 2,
        ..ScanOptions::default()
    };
    let t = Instant::now();
    let r = scan(repo, &options, engine(), &sink);
    match r {
        Err(ScanError::Aborted { cause }) => assert_eq!(cause, AbortCause::Sink),
        other => panic!("expected Aborted by the sink, got {other:?}"),
    }
    assert_eq!(
        summaries.load(Ordering::Relaxed),
        0,
        "no summary after Stop"
    );
    let n = seen.load(Ordering::Relaxed);
    assert!(n >= 1);
    println!(
        "sink stop: {n} findings delivered, returned after {:?}",
        t.elapsed()
    );
}
