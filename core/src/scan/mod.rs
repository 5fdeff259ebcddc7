//! The scan: open → refs and watermarks → object index → commit graph → plan (one of two
//! modes) → pack execution on the scheduler → blob scanning → finalize → atomic persist.
//!
//! Each stage is one call below, returning what the next needs:
//! - [`select`]: open the repository, read refs, peel tips, load the store's scope and
//!   watermarks, resolve a range or `since`, and load the commit graph;
//! - [`modes`]: the plan, every blob to scan with the commit and path that introduced it
//!   ([`modes::odb_blob`] or [`modes::diff_history`]);
//! - `exec`: where each planned blob is read from, and the pack tasks on the scheduler;
//! - `blob_scan`: one blob through the engine to events and finalize records;
//! - [`finalize`]: the pure function from records to a write batch; `persist` commits it.
//!
//! Invariants:
//! - Events stream while the scan runs; `summary` is always the last event of a scan that
//!   returns `Ok`. A failed or aborted scan emits no summary.
//! - The abort token (and a sink asking to stop) is checked before every stage, at commit and
//!   pack-task boundaries and per chunk window; an aborted scan returns `Aborted` and persists
//!   nothing.
//! - A commit event is emitted at most once per commit.
//! - Pack files changing under the scan (a concurrent `git gc`) end it with
//!   `ConcurrentMaintenance`, which is retryable.

pub mod finalize;
pub mod modes;
pub mod stream;

mod blob_scan;
mod budget;
mod exec;
mod persist;
mod select;
mod state;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use gix_hash::ObjectId;

use crate::events::{Event, Phase, SkipReason, StageTimings, Summary};
use crate::git::odb::Odb;
use crate::git::pack_walk::PackTable;
use crate::{Engine, EventSink, ScanError, ScanMode, ScanOptions};
use blob_scan::BlobScanner;
use budget::Budget;
use modes::{ExtraRoots, Plan, PlanLimits, PlanMode};
use select::Selection;
use state::ScanState;

/// What a finished scan returns (the same data as the final `summary` event).
#[derive(Clone, Debug)]
pub struct ScanReport {
    pub summary: Summary,
}

/// Scan the repository at `repo` with a compiled `engine`, streaming events to `sink`.
pub fn scan(
    repo: &Path,
    options: &ScanOptions,
    engine: &Engine,
    sink: &dyn EventSink,
) -> Result<ScanReport, ScanError> {
    let budget = Budget::new(options)?;
    let state = ScanState::new(options, sink);
    let mut timings = StageTimings::default();
    let started = Instant::now();
    state.check()?;

    state.progress(Phase::Open, 0, 1, true);
    let opened = timed(&mut timings.open, || select::open(repo, &state))?;
    state.check()?;

    state.progress(Phase::Index, 0, 1, true);
    let odb = timed(&mut timings.index, || Odb::open(&opened.layout))?;
    state.check()?;

    state.progress(Phase::Commits, 0, 0, true);
    let mut sel = timed(&mut timings.commits, || {
        select::select(&opened, &odb, engine, &state, &budget)
    })?;
    state.check()?;

    state.progress(Phase::Plan, 0, sel.graph.len() as u64, true);
    let (mut plan, tables) = timed(&mut timings.plan, || {
        make_plan(&odb, &mut sel, &state, &budget)
    })?;
    modes::add_messages(&mut plan, &sel.graph, &sel.tags);
    state.check()?;
    let planned_blobs = count_blobs(&plan);
    drop_already_seen(&sel, &mut plan, &state)?;
    let blobs_planned = count_blobs(&plan);
    let already_seen = planned_blobs - blobs_planned;

    let scanner = BlobScanner::new(&state, &odb, &sel.graph, &plan, engine);
    let placement = exec::place(&odb, tables, &plan, budget.threads, &|| {
        state.should_abort()
    })?;
    for &i in &placement.missing {
        let id = plan.blobs[i as usize].id;
        scanner.skip(i, SkipReason::Missing, || {
            format!("blob {id}: missing from the object database")
        });
    }
    state.check()?;

    timed(&mut timings.scan, || {
        exec::execute(&state, &odb, &plan, &placement, &scanner, engine, &budget)
    })?;
    // Every planned blob was scanned or skipped with a reason, else it is a gap now.
    scanner.close_account();

    // Stability and cancellation gates before reporting success.
    if let Some(what) = odb.artifacts_changed() {
        return Err(ScanError::ConcurrentMaintenance(what));
    }
    state.check()?;
    // Nothing is stored that the consumer did not receive.
    state.delivered()?;
    let (outcome, skipped) = state.outcome();
    timed(&mut timings.finalize, || {
        persist::persist(&state, &opened, &sel, outcome)
    })?;

    timings.total = started.elapsed();
    let summary = Summary {
        outcome,
        skipped,
        commits: sel.graph.len() as u64,
        blobs_planned,
        blobs_already_seen: already_seen,
        blobs_scanned: state.blobs_scanned.load(Ordering::Relaxed),
        bytes_scanned: state.bytes_scanned.load(Ordering::Relaxed),
        findings: state.findings.load(Ordering::Relaxed),
        timings,
    };
    state.emit(Event::Summary(&summary));
    Ok(ScanReport { summary })
}

/// Planned blobs, not counting messages (commits and tags).
fn count_blobs(plan: &Plan) -> u64 {
    plan.blobs
        .iter()
        .filter(|b| b.kind == gix_object::Kind::Blob)
        .count() as u64
}

/// Run `stage`, adding its wall time to `slot`.
fn timed<T>(slot: &mut Duration, stage: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = stage();
    *slot += t.elapsed();
    out
}

/// The plan in the scan's mode, plus every unreachable blob with `all_objects`. Returns the
/// pack entry tables built on the way, for placement to reuse.
fn make_plan(
    odb: &Odb,
    sel: &mut Selection<'_>,
    state: &ScanState<'_>,
    budget: &Budget,
) -> Result<(Plan, Option<Vec<PackTable>>), ScanError> {
    let options = state.options;
    let mode = match options.mode {
        ScanMode::OdbBlob => PlanMode::OdbBlob,
        ScanMode::DiffHistory => PlanMode::DiffHistory {
            first_parent_only: options.first_parent_only,
            memory_budget: budget.spill_threshold,
            spill_dir: options.spill_dir.clone().unwrap_or_else(std::env::temp_dir),
        },
    };
    let limits = PlanLimits {
        threads: budget.threads,
        cache_bytes: budget.plan_cache,
        object_limit: budget.object_limit,
    };
    let roots = ExtraRoots {
        trees: &sel.extra_trees,
        blobs: &sel.extra_blobs,
    };
    let should_abort = || state.should_abort();
    let mut plan = modes::plan(odb, &sel.graph, roots, limits, &mode, &should_abort)?;
    for (id, e) in &plan.problems {
        select::report_unreadable(state, "tree", id, e);
    }
    let mut tables = sel.tables.take();
    // Before the store filter, so already-seen unreachable blobs are left out too and reachable
    // ones are never re-added without their context.
    if options.all_objects {
        let all = match tables.take() {
            Some(t) => t,
            None => exec::build_tables(odb, budget.threads, &should_abort)?,
        };
        modes::add_unreachable_blobs(odb, &all, &mut plan);
        tables = Some(all);
    }
    Ok((plan, tables))
}

/// Leave out the blobs an earlier scan under the same rules already scanned; returns how many.
fn drop_already_seen(
    sel: &Selection<'_>,
    plan: &mut Plan,
    state: &ScanState<'_>,
) -> Result<u64, ScanError> {
    let Some(store) = sel.store.store else {
        return Ok(0);
    };
    let mut keep = Vec::with_capacity(plan.blobs.len());
    for chunk in plan.blobs.chunks(8192) {
        state.check()?;
        let ids: Vec<ObjectId> = chunk.iter().map(|b| b.id).collect();
        let seen = store.seen_blobs(&sel.store.scope, &ids)?;
        if seen.len() != ids.len() {
            return Err(ScanError::Store(format!(
                "seen_blobs answered {} of {} ids",
                seen.len(),
                ids.len()
            )));
        }
        keep.extend(seen.into_iter().map(|s| !s));
    }
    let already_seen = keep.iter().filter(|k| !**k).count() as u64;
    let mut it = keep.into_iter();
    plan.blobs.retain(|_| it.next().unwrap_or(true));
    Ok(already_seen)
}
