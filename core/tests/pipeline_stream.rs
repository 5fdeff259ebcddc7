//! The pull-style front door ([`scangit_core::stream`]) the Python and Node bindings iterate:
//! same events as a push sink, order kept, backpressure, abort and drop semantics.

mod pipeline_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pipeline_support::{engine, reveal, scan_ok, tiny_corpus};
use scangit_core::stream::{NextBatch, OwnedEvent, ScanStream, StreamConfig};
use scangit_core::{AbortToken, Engine, ErrorKind, ScanOptions};

fn shared_engine() -> Arc<Engine> {
    static E: std::sync::OnceLock<Arc<Engine>> = std::sync::OnceLock::new();
    E.get_or_init(|| Arc::new(Engine::builtin().unwrap()))
        .clone()
}

fn start(options: ScanOptions, config: StreamConfig) -> ScanStream {
    ScanStream::start(
        tiny_corpus().to_path_buf(),
        options,
        shared_engine(),
        config,
    )
    .unwrap()
}

/// Drain a stream: every event, then the result.
fn drain(
    mut s: ScanStream,
) -> (
    Vec<OwnedEvent>,
    Result<scangit_core::ScanReport, scangit_core::ScanError>,
) {
    let mut events = Vec::new();
    loop {
        match s.next_batch(Duration::from_millis(5)) {
            NextBatch::Events(b) => {
                assert!(!b.is_empty(), "a batch is never empty");
                events.extend(b)
            }
            NextBatch::Pending => {}
            NextBatch::Done(r) => {
                assert!(matches!(s.next_batch(Duration::ZERO), NextBatch::Finished));
                return (events, r);
            }
            NextBatch::Finished => unreachable!(),
        }
    }
}

#[test]
fn streamed_events_equal_the_push_sink_and_the_summary_comes_last() {
    let _ = engine();
    let pushed = scan_ok(tiny_corpus(), reveal());
    for batch_events in [1, 3, 512] {
        let config = StreamConfig {
            batch_events,
            queue_batches: 2,
        };
        let (events, result) = drain(start(reveal(), config));
        let report = result.unwrap();
        let last = events.last().expect("events");
        assert!(
            matches!(last, OwnedEvent::Summary(s) if *s == report.summary),
            "the summary is the last event"
        );
        assert_eq!(
            events.iter().filter(|e| e.type_name() == "summary").count(),
            1
        );
        let mut streamed: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                OwnedEvent::Finding(f) => {
                    Some((f.blob, f.start, f.rule_id.clone(), f.secret.clone()))
                }
                _ => None,
            })
            .collect();
        let mut expected: Vec<_> = pushed
            .findings
            .iter()
            .map(|f| (f.blob, f.start, f.rule_id.clone(), f.secret.clone()))
            .collect();
        streamed.sort();
        expected.sort();
        assert!(!expected.is_empty());
        assert_eq!(streamed, expected, "batch_events {batch_events}");
        let commits = events.iter().filter(|e| e.type_name() == "commit").count();
        assert_eq!(commits, pushed.commits.len());
    }
}

#[test]
fn a_consumer_that_does_not_read_holds_the_scan_back() {
    // One-event batches and a one-batch queue: without a reader, the scan cannot get past its
    // first few events, so it is still running long after an unthrottled scan would have ended.
    let config = StreamConfig {
        batch_events: 1,
        queue_batches: 1,
    };
    let t = Instant::now();
    let (_, r) = drain(start(reveal(), StreamConfig::default()));
    r.unwrap();
    let free_run = t.elapsed();
    let s = start(reveal(), config);
    std::thread::sleep(free_run * 4 + Duration::from_millis(200));
    assert!(s.is_running(), "the scan waits for its reader");
    let (rest, r) = drain(s);
    r.unwrap();
    assert!(
        rest.len() > 3,
        "the scan resumed once read: {} events",
        rest.len()
    );
}

#[test]
fn dropping_a_stream_mid_scan_aborts_and_joins_without_touching_the_callers_token() {
    let token = AbortToken::new();
    let options = ScanOptions {
        abort: Some(token.clone()),
        ..reveal()
    };
    let config = StreamConfig {
        batch_events: 1,
        queue_batches: 1,
    };
    let mut s = start(options, config);
    assert!(matches!(
        s.next_batch(Duration::from_secs(10)),
        NextBatch::Events(_)
    ));
    let t = Instant::now();
    drop(s);
    assert!(t.elapsed() < Duration::from_secs(5), "drop joined promptly");
    assert!(
        !token.is_aborted(),
        "a stream's own abort leaves the caller's token alone"
    );
}

#[test]
fn a_shared_token_aborts_every_stream_using_it() {
    let token = AbortToken::new();
    let config = StreamConfig {
        batch_events: 1,
        queue_batches: 1,
    };
    let streams: Vec<_> = (0..2)
        .map(|_| {
            start(
                ScanOptions {
                    abort: Some(token.clone()),
                    ..reveal()
                },
                config,
            )
        })
        .collect();
    token.abort();
    for s in streams {
        let (_, r) = drain(s);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Aborted);
    }
}

#[test]
fn stream_abort_ends_with_aborted_and_errors_arrive_as_done() {
    let mut s = start(
        reveal(),
        StreamConfig {
            batch_events: 1,
            queue_batches: 1,
        },
    );
    let _ = s.next_batch(Duration::from_secs(10));
    s.abort();
    let (_, r) = drain(s);
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Aborted);

    let missing = std::env::temp_dir().join("scangit-no-such-repo-for-stream");
    let s = ScanStream::start(missing, reveal(), shared_engine(), StreamConfig::default()).unwrap();
    let (events, r) = drain(s);
    assert_eq!(r.unwrap_err().kind(), ErrorKind::RepoNotFound);
    assert!(events.iter().all(|e| e.type_name() == "progress"));
}

#[test]
fn a_consumer_that_stops_reading_part_way_gets_nothing_persisted() {
    // Batches of one event in a queue deep enough for the whole scan: without a delivery check,
    // the scan would run to its end and persist while its consumer has read one event.
    let store = Arc::new(scangit_core::store::MemoryStore::new());
    let with_store = || ScanOptions {
        store: Some(scangit_core::StoreRef(store.clone())),
        ..reveal()
    };
    let config = StreamConfig {
        batch_events: 1,
        queue_batches: 100_000,
    };
    let everything = scan_ok(tiny_corpus(), reveal()).secrets().len();
    assert!(everything > 1, "the corpus has findings");

    let mut s = start(with_store(), config);
    assert!(matches!(
        s.next_batch(Duration::from_secs(10)),
        NextBatch::Events(_)
    ));
    // Give the scan every chance to finish on its own.
    let t = Instant::now();
    while s.is_running() && t.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        s.is_running(),
        "the scan waits for its consumer before it persists"
    );
    drop(s); // the consumer stops reading: a `break` out of a Python or JS loop

    // Nothing was stored, so the next scan into the same store reports every finding again.
    let (events, result) = drain(start(with_store(), StreamConfig::default()));
    result.unwrap();
    let mut secrets: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            OwnedEvent::Finding(f) => Some(f.secret.clone()),
            _ => None,
        })
        .collect();
    secrets.sort();
    secrets.dedup();
    assert_eq!(secrets.len(), everything);
    // And that scan, read to its end, persisted: a third one has nothing new.
    let (events, result) = drain(start(with_store(), StreamConfig::default()));
    result.unwrap();
    assert_eq!(
        events.iter().filter(|e| e.type_name() == "finding").count(),
        0
    );
}
