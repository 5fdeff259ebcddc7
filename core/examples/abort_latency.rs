//! Measures how long a scan takes to return after its abort token fires, at several points of
//! the scan: `cargo run --release -p scangit-core --example abort_latency -- REPO`.
use std::time::{Duration, Instant};

use scangit_core::events::{Event, SinkAction};
use scangit_core::{AbortToken, Engine, ScanError, ScanOptions, scan};

fn main() {
    let repo = std::env::args().nth(1).expect("usage: abort_latency REPO");
    let engine = Engine::builtin().expect("builtin rules compile");
    let full = Instant::now();
    let ok = scan(
        repo.as_ref(),
        &ScanOptions::default(),
        &engine,
        &|_: Event<'_>| SinkAction::Continue,
    );
    let total = full.elapsed();
    assert!(ok.is_ok());
    println!("full scan: {total:?}");
    let mut worst = Duration::ZERO;
    for pct in [2u32, 10, 25, 40, 55, 70, 85, 95] {
        let token = AbortToken::new();
        let opts = ScanOptions {
            abort: Some(token.clone()),
            ..ScanOptions::default()
        };
        let at = total * pct / 100;
        let fired = std::sync::Mutex::new(None);
        let r = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(at);
                *fired.lock().unwrap() = Some(Instant::now());
                token.abort();
            });
            scan(repo.as_ref(), &opts, &engine, &|_: Event<'_>| {
                SinkAction::Continue
            })
        });
        let returned = Instant::now();
        match (r, *fired.lock().unwrap()) {
            (Err(ScanError::Aborted { .. }), Some(f)) => {
                let lat = returned.saturating_duration_since(f);
                worst = worst.max(lat);
                println!("abort at {pct:>2}% ({at:?}): returned Aborted after {lat:?}");
            }
            (other, _) => println!(
                "abort at {pct:>2}%: scan ended first ({:?})",
                other.map(|r| r.summary.outcome)
            ),
        }
    }
    println!("worst latency: {worst:?}");
}
