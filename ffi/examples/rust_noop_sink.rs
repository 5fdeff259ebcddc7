//! Overhead baseline: scan a repository with a Rust sink that only counts events, and print
//! events and wall time (compare with `ffi/tests/bench_sink.c`, the same through the C ABI).
//!
//!   cargo run --release -p scangit-ffi --example rust_noop_sink -- REPO

use std::sync::atomic::{AtomicU64, Ordering};

use scangit_core::{Engine, Event, ScanOptions, SinkAction};

fn main() {
    let repo = std::env::args().nth(1).expect("usage: rust_noop_sink REPO");
    let engine = Engine::builtin().expect("built-in rules");
    let events = AtomicU64::new(0);
    let sink = |_: Event<'_>| {
        events.fetch_add(1, Ordering::Relaxed);
        SinkAction::Continue
    };
    let t = std::time::Instant::now();
    let report =
        scangit_core::scan(repo.as_ref(), &ScanOptions::default(), &engine, &sink).expect("scan");
    let secs = t.elapsed().as_secs_f64();
    let n = events.load(Ordering::Relaxed);
    println!(
        "rust sink: {n} events ({} findings) in {secs:.3} s",
        report.summary.findings
    );
}
