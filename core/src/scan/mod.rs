//! The runner: open → refs → object index → commits → plan → pack execution → summary.
//!
//! Invariants:
//! - Events stream while the scan runs; `summary` is always the last event of a scan that
//!   returns `Ok`. A failed or aborted scan emits no summary.
//! - The abort token (and a sink asking to stop) is checked before every stage, at commit and
//!   pack-task boundaries and per chunk window; an aborted scan returns `Aborted`.
//! - A commit event is emitted at most once per commit (an atomic bit per commit).
//! - Pack files changing under the scan (a concurrent `git gc`) end it with
//!   `ConcurrentMaintenance`, which is retryable.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gix_hash::ObjectId;
use gix_object::Kind;
use parking_lot::Mutex;

use crate::detect::adapter::EngineAdapter;
use crate::detect::content;
use crate::error::AbortCause;
use crate::events::{
    CommitMeta, Event, Finding, Outcome, Phase, Progress, SinkAction, SkipCount, SkipReason,
    StageTimings, Summary,
};
use crate::git::commits::{self, CommitGraph};
use crate::git::odb::{Location, Odb, OdbError, ReadScratch};
use crate::git::pack_walk::{self, ExecScratch, Flow, PackTable, Traversal};
use crate::git::repo::{self, RepoLayout};
use crate::git::revspec;
use crate::store::codec::{BlobContext, FindingRecord, Scope};
use crate::store::persist_finalize_output;
use crate::{Engine, EventSink, ScanError, ScanMode, ScanOptions};
use finalize::{FinalizeInput, RefEntry, ScannedBlob, build_finalize_ops};
use plan::{NO_COMMIT, Plan};

pub mod finalize;
pub mod plan;
pub mod spill;
pub mod stream;

/// What a finished scan returns (the same data as the final `summary` event).
#[derive(Clone, Debug)]
pub struct ScanReport {
    pub summary: Summary,
}

const MAX_SKIP_EXAMPLES: usize = 5;

/// Shared, thread-safe state of one scan.
struct ScanState<'a> {
    options: &'a ScanOptions,
    sink: &'a dyn EventSink,
    sink_stopped: AtomicBool,
    skips: Mutex<BTreeMap<SkipReason, (u64, Vec<String>)>>,
    blobs_scanned: AtomicU64,
    bytes_scanned: AtomicU64,
    findings: AtomicU64,
    last_progress: Mutex<Instant>,
    fingerprint_key: [u8; 32],
    /// What finalize needs, kept only when a store will receive it.
    records: Option<Mutex<Records>>,
}

/// Scanned blobs and gaps, for finalize.
#[derive(Default)]
struct Records {
    blobs: Vec<ScannedBlob>,
    gaps: Vec<ObjectId>,
}

impl ScanState<'_> {
    fn should_abort(&self) -> bool {
        self.sink_stopped.load(Ordering::Relaxed)
            || self.options.abort.as_ref().is_some_and(|a| a.is_aborted())
    }

    fn abort_error(&self) -> ScanError {
        let cause = if self.sink_stopped.load(Ordering::Relaxed) {
            AbortCause::Sink
        } else {
            AbortCause::Token
        };
        ScanError::Aborted { cause }
    }

    fn check(&self) -> Result<(), ScanError> {
        if self.should_abort() {
            Err(self.abort_error())
        } else {
            Ok(())
        }
    }

    fn emit(&self, e: Event<'_>) {
        if self.sink.event(e) == SinkAction::Stop {
            self.sink_stopped.store(true, Ordering::Relaxed);
        }
    }

    fn skip(&self, reason: SkipReason, example: impl FnOnce() -> String) {
        let mut s = self.skips.lock();
        let slot = s.entry(reason).or_default();
        slot.0 += 1;
        if slot.1.len() < MAX_SKIP_EXAMPLES {
            slot.1.push(example());
        }
    }

    /// Skip a planned blob: counted, and remembered as a gap when the reason makes the scan
    /// partial (so finalize never marks it seen).
    fn skip_blob(&self, reason: SkipReason, id: ObjectId, example: impl FnOnce() -> String) {
        self.skip(reason, example);
        if reason.makes_partial()
            && let Some(r) = &self.records
        {
            r.lock().gaps.push(id);
        }
    }

    fn record(&self, blob: ScannedBlob) {
        if let Some(r) = &self.records {
            r.lock().blobs.push(blob);
        }
    }

    fn progress(&self, phase: Phase, done: u64, total: u64, force: bool) {
        let now = Instant::now();
        {
            let Some(mut last) = self.last_progress.try_lock() else {
                return;
            };
            if !force && now.duration_since(*last) < self.options.progress_interval {
                return;
            }
            *last = now;
        }
        self.emit(Event::Progress(&Progress {
            phase,
            done,
            total,
            bytes_scanned: self.bytes_scanned.load(Ordering::Relaxed),
        }));
    }
}

/// One bit per commit: set once, by whichever worker gets there first.
struct AtomicBitSet(Vec<AtomicU64>);

impl AtomicBitSet {
    fn new(n: usize) -> Self {
        Self((0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect())
    }

    /// True exactly once per index across all threads.
    fn test_and_set(&self, i: usize) -> bool {
        let bit = 1u64 << (i % 64);
        self.0[i / 64].fetch_or(bit, Ordering::AcqRel) & bit == 0
    }
}

fn read_shallow(layout: &RepoLayout) -> HashSet<ObjectId> {
    std::fs::read_to_string(layout.common_dir.join("shallow"))
        .map(|t| {
            t.lines()
                .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The commit event of commit `id` whose raw object is `data`.
fn commit_meta(id: ObjectId, data: &[u8]) -> CommitMeta {
    let commits::CommitInfo {
        author,
        committer,
        summary,
    } = commits::parse_commit_info(data);
    CommitMeta {
        commit: id,
        author_name: author.name,
        author_email: author.email,
        author_time: author.time,
        committer_name: committer.name,
        committer_email: committer.email,
        committer_time: committer.time,
        summary,
    }
}

/// Where planned blobs live.
struct Placement {
    /// Per pack: entry index → plan index (for packs holding planned blobs).
    packs: Vec<(u32, PackTable, Vec<u32>, Traversal)>,
    /// Read one at a time (location, plan index): loose objects, and the few planned blobs of a
    /// pack where a traversal would cost more than random reads (an incremental scan).
    direct: Vec<(Location, u32)>,
    missing: Vec<u32>,
}

/// Scan the repository at `repo` with a compiled `engine`, streaming events to `sink`.
pub fn scan(
    repo: &Path,
    options: &ScanOptions,
    engine: &Engine,
    sink: &dyn EventSink,
) -> Result<ScanReport, ScanError> {
    let state = ScanState {
        options,
        sink,
        sink_stopped: AtomicBool::new(false),
        skips: Mutex::new(BTreeMap::new()),
        blobs_scanned: AtomicU64::new(0),
        bytes_scanned: AtomicU64::new(0),
        findings: AtomicU64::new(0),
        last_progress: Mutex::new(Instant::now() - Duration::from_secs(3600)),
        fingerprint_key: options
            .fingerprint_key
            .unwrap_or_else(crate::detect::fingerprint::default_key),
        records: options
            .store
            .as_ref()
            .map(|_| Mutex::new(Records::default())),
    };
    if options.chunk_bytes == 0 {
        return Err(ScanError::InvalidArgument(
            "chunk_bytes must be positive".into(),
        ));
    }
    let threads = options.effective_threads();
    let mut timings = StageTimings::default();
    let t_start = Instant::now();
    state.check()?;

    // 1. Open and read refs.
    state.progress(Phase::Open, 0, 1, true);
    let t = Instant::now();
    let layout = RepoLayout::open(repo)?;
    let all_refs = layout.refs()?;
    let refs = repo::filter_refs(all_refs.clone(), &options.ref_include, &options.ref_exclude);
    timings.open = t.elapsed();
    state.check()?;

    // 2. Object index.
    state.progress(Phase::Index, 0, 1, true);
    let t = Instant::now();
    let odb = Odb::open(&layout)?;
    timings.index = t.elapsed();
    state.check()?;

    // 3. Peel ref tips; walk commits.
    state.progress(Phase::Commits, 0, 0, true);
    let t = Instant::now();
    let cache_per_worker =
        (options.memory_budget_bytes as usize / threads.max(1) / 2).clamp(16 << 20, 512 << 20);
    let object_limit = options.max_blob_bytes.max(64 << 20);
    let mut rs = ReadScratch::new(cache_per_worker, object_limit);
    let mut buf = Vec::new();
    let (mut tips, mut extra_trees, mut extra_blobs) = (Vec::new(), Vec::new(), Vec::new());
    // Each ref with its peeled commit: the watermarks a complete scan records.
    let mut ref_tips: Vec<(String, ObjectId)> = Vec::new();
    for r in &refs {
        match commits::peel(&odb, r.target, &mut rs, &mut buf) {
            Ok((id, Kind::Commit)) => {
                tips.push(id);
                ref_tips.push((r.name.clone(), id));
            }
            Ok((id, Kind::Tree)) => extra_trees.push(id),
            Ok((id, Kind::Blob)) => extra_blobs.push(id),
            Ok((_, Kind::Tag)) => unreachable!("peel never returns a tag"),
            Err(e) => state.skip(SkipReason::Missing, || format!("ref {}: {e}", r.name)),
        }
    }
    for v in [&mut tips, &mut extra_trees, &mut extra_blobs] {
        v.sort_unstable();
        v.dedup();
    }
    // Persistence: the scope, this scan's sequence number and the stored watermarks.
    let store = options.store.as_ref().map(|s| s.0.as_ref());
    let scope = Scope::new(
        options.repo_id.clone().unwrap_or_else(|| {
            let dir = layout
                .common_dir
                .canonicalize()
                .unwrap_or_else(|_| layout.common_dir.clone());
            dir.to_string_lossy().into_owned()
        }),
        engine.rules_hash(),
    );
    let (scan_seq, watermarks) = match store {
        Some(st) => (st.begin_scan(&scope)?, st.load_watermarks(&scope)?),
        None => (0, Vec::new()),
    };
    // Commit selection: a range replaces the start set; `since` excludes history; stored
    // watermarks exclude what earlier complete scans covered (a watermark whose commit is gone,
    // e.g. after a force-push and gc, excludes nothing).
    let mut exclude: Vec<ObjectId> = watermarks
        .iter()
        .map(|w| w.tip)
        .filter(|t| odb.locate(t).is_some())
        .collect();
    if let Some(range) = &options.range {
        let (a, b) = revspec::split_range(range)?;
        exclude.push(revspec::resolve(a, &all_refs, &odb, &mut rs)?);
        tips = vec![revspec::resolve(b, &all_refs, &odb, &mut rs)?];
        extra_trees.clear();
        extra_blobs.clear();
    }
    if let Some(since) = &options.since {
        exclude.push(revspec::resolve(since, &all_refs, &odb, &mut rs)?);
    }
    let shallow = read_shallow(&layout);
    // Commit headers come from the commit-graph file when there is one; else, for a walk of the
    // whole history, from one sweep over the packs; else (an incremental walk reads only the new
    // commits and a thin boundary) one lookup at a time.
    let mut tables = None;
    let source = match commits::HeaderSource::commit_graph(&layout) {
        Some(g) => g,
        None if exclude.is_empty() => {
            let t = build_tables(&odb, threads, &|| state.should_abort())?;
            let known = commits::bulk_read(&odb, &t, threads, &|| state.should_abort())?;
            tables = Some(t);
            commits::HeaderSource::from_map(known)
        }
        None => commits::HeaderSource::lazy(),
    };
    let selection = commits::Selection {
        tips: &tips,
        exclude: &exclude,
        shallow: &shallow,
        exact: options.range.is_some() || options.since.is_some(),
    };
    let (graph, problems) =
        commits::load(&odb, &selection, source, &mut rs, &|| state.should_abort())?;
    for p in problems {
        let reason = if matches!(p.error, OdbError::Missing(_)) {
            SkipReason::Missing
        } else {
            SkipReason::Corrupt
        };
        state.skip(reason, || format!("commit {}: {}", p.id, p.error));
    }
    timings.commits = t.elapsed();
    state.check()?;

    // 4. Plan: every reachable blob with its introducing commit and path.
    state.progress(Phase::Plan, 0, graph.len() as u64, true);
    let t = Instant::now();
    let mode = match options.mode {
        ScanMode::OdbBlob => plan::PlanMode::OdbBlob,
        ScanMode::DiffHistory => plan::PlanMode::DiffHistory {
            first_parent_only: options.first_parent_only,
            memory_budget: (options.memory_budget_bytes / 4) as usize,
            spill_dir: options.spill_dir.clone().unwrap_or_else(std::env::temp_dir),
        },
    };
    let mut plan = plan::plan(
        &odb,
        &graph,
        &extra_trees,
        &extra_blobs,
        plan::PlanLimits {
            threads,
            cache_bytes: cache_per_worker,
            object_limit,
        },
        &mode,
        &|| state.should_abort(),
    )?;
    for (id, e) in &plan.problems {
        let reason = if matches!(e, OdbError::Missing(_)) {
            SkipReason::Missing
        } else {
            SkipReason::Corrupt
        };
        state.skip(reason, || format!("tree {id}: {e}"));
    }
    timings.plan = t.elapsed();
    state.check()?;

    // Optionally add every other blob, before the store filter so that already-seen
    // unreachable blobs are left out too and reachable ones are never re-added without context.
    if options.all_objects {
        let all = match tables.take() {
            Some(t) => t,
            None => build_tables(&odb, threads, &|| state.should_abort())?,
        };
        add_unreachable_blobs(&odb, &all, &mut plan);
        tables = Some(all);
    }

    // Blobs an earlier scan under the same rules already scanned are left out.
    let mut already_seen = 0u64;
    if let Some(st) = store {
        let mut keep = Vec::with_capacity(plan.blobs.len());
        for chunk in plan.blobs.chunks(8192) {
            state.check()?;
            let ids: Vec<ObjectId> = chunk.iter().map(|b| b.id).collect();
            let seen = st.seen_blobs(&scope, &ids)?;
            if seen.len() != ids.len() {
                return Err(ScanError::Store(format!(
                    "seen_blobs answered {} of {} ids",
                    seen.len(),
                    ids.len()
                )));
            }
            keep.extend(seen.into_iter().map(|s| !s));
        }
        already_seen = keep.iter().filter(|k| !**k).count() as u64;
        let mut it = keep.into_iter();
        plan.blobs.retain(|_| it.next().unwrap_or(true));
    }

    // 5. Locate planned blobs.
    let placement = place(&odb, tables, &plan, threads, &|| state.should_abort())?;
    for &i in &placement.missing {
        let b = &plan.blobs[i as usize];
        state.skip_blob(SkipReason::Missing, b.id, || {
            format!("blob {}: missing from the object database", b.id)
        });
    }
    state.check()?;

    // 6. Decode in pack order and scan, on the scheduler.
    let t = Instant::now();
    execute(
        &state,
        &odb,
        &graph,
        &plan,
        &placement,
        engine,
        threads,
        object_limit,
    )?;
    timings.scan = t.elapsed();

    // 7. Stability and cancellation gates before reporting success.
    if let Some(what) = odb.artifacts_changed() {
        return Err(ScanError::ConcurrentMaintenance(what));
    }
    state.check()?;
    let skips = state.skips.lock();
    let partial = skips.keys().any(|r| r.makes_partial());
    let skipped: Vec<SkipCount> = skips
        .iter()
        .map(|(reason, (count, examples))| SkipCount {
            reason: *reason,
            count: *count,
            examples: examples.clone(),
        })
        .collect();
    drop(skips);
    let outcome = if partial {
        Outcome::Partial
    } else {
        Outcome::Complete
    };

    // 8. Finalize and persist: one atomic batch; watermarks only for a complete scan of refs
    // (a range or `since` scan covers part of their history, so it moves none).
    let t = Instant::now();
    if let (Some(st), Some(records)) = (store, &state.records) {
        state.progress(Phase::Finalize, 0, 1, true);
        let Records { blobs, gaps } = std::mem::take(&mut *records.lock());
        let whole_refs = options.range.is_none() && options.since.is_none();
        let (start_set, deleted_refs) = if whole_refs {
            let start_set: Vec<RefEntry> = ref_tips
                .iter()
                .map(|(name, tip)| RefEntry {
                    name: name.clone(),
                    tip: *tip,
                })
                .collect();
            // A ref filtered out by include/exclude globs still exists: only refs gone from
            // the repository lose their watermark.
            let deleted = watermarks
                .iter()
                .filter(|w| !all_refs.iter().any(|r| r.name == w.name))
                .map(|w| w.name.clone())
                .collect();
            (start_set, deleted)
        } else {
            (Vec::new(), Vec::new())
        };
        let input = FinalizeInput {
            scope: scope.clone(),
            scan_seq,
            blobs,
            start_set,
            deleted_refs,
            skipped: gaps,
            outcome,
        };
        let output = build_finalize_ops(&input);
        state.check()?;
        persist_finalize_output(st, &scope, &output)?;
    }
    timings.finalize = t.elapsed();
    timings.total = t_start.elapsed();
    let summary = Summary {
        outcome,
        skipped,
        commits: graph.len() as u64,
        blobs_planned: plan.blobs.len() as u64,
        blobs_already_seen: already_seen,
        blobs_scanned: state.blobs_scanned.load(Ordering::Relaxed),
        bytes_scanned: state.bytes_scanned.load(Ordering::Relaxed),
        findings: state.findings.load(Ordering::Relaxed),
        timings,
    };
    state.emit(Event::Summary(&summary));
    Ok(ScanReport { summary })
}

/// Entry tables of every pack, built in parallel (one task per pack).
fn build_tables(
    odb: &Odb,
    threads: usize,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<PackTable>, ScanError> {
    let all = (0..odb.packs.len() as u32).collect();
    Ok(build_tables_of(odb, all, threads, should_abort)?
        .into_iter()
        .map(|t| t.expect("every pack has a table"))
        .collect())
}

/// Entry tables of the packs `pids`, built in parallel (one task per pack); one slot per pack of
/// the object database, `None` for the packs not asked for.
fn build_tables_of(
    odb: &Odb,
    pids: Vec<u32>,
    threads: usize,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<Option<PackTable>>, ScanError> {
    let slots: Vec<Mutex<Option<PackTable>>> = odb.packs.iter().map(|_| Mutex::new(None)).collect();
    crate::scheduler::run(
        pids,
        threads,
        should_abort,
        ScanError::aborted,
        || (),
        |_, pid| {
            *slots[pid as usize].lock() = Some(PackTable::build(&odb.packs[pid as usize]));
            Ok(())
        },
    )?;
    Ok(slots.into_iter().map(|s| s.into_inner()).collect())
}

/// Append every blob of every pack and every loose blob that the plan does not hold yet, with no
/// commit (`all_objects`).
fn add_unreachable_blobs(odb: &Odb, tables: &[PackTable], plan: &mut Plan) {
    let planned: HashSet<ObjectId> = plan.blobs.iter().map(|b| b.id).collect();
    let mut extra: Vec<ObjectId> = Vec::new();
    for (pack, table) in odb.packs.iter().zip(tables) {
        for e in 0..table.len() as u32 {
            let id = table.id(pack, e);
            if table.kind[e as usize] == 3 && !planned.contains(id) {
                extra.push(id.to_owned());
            }
        }
    }
    let mut rs = ReadScratch::new(16 << 20, 64 << 10);
    let mut buf = Vec::new();
    for i in 0..odb.loose.len() as u32 {
        let id = odb.loose.id(i).to_owned();
        // Only the kind matters; objects above the small limit are read as TooLarge but
        // still reveal nothing about kind, so read fully when small and sniff otherwise.
        let kind = match odb.loose.read(i, &mut rs.z, &mut buf, u64::MAX) {
            Ok(k) => k,
            Err(_) => continue,
        };
        if kind == Kind::Blob && !planned.contains(&id) {
            extra.push(id);
        }
    }
    extra.sort_unstable();
    extra.dedup();
    plan.blobs
        .extend(extra.into_iter().map(|id| plan::PlannedBlob {
            id,
            commit: NO_COMMIT,
            path: Box::default(),
        }));
}

/// A pack whose planned blobs are fewer than 1 in this many entries has them read one at a
/// time: building the pack's entry table and delta traversal costs more than that.
const SPARSE_PACK_RATIO: usize = 64;

/// Where each planned blob is read from. `tables` are the entry tables of every pack when the
/// caller built them already; otherwise the ones needed are built here (in parallel).
fn place(
    odb: &Odb,
    tables: Option<Vec<PackTable>>,
    plan: &Plan,
    threads: usize,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Placement, ScanError> {
    let mut per_pack: HashMap<u32, Vec<(u64, u32)>> = HashMap::new();
    let mut direct = Vec::new();
    let mut missing = Vec::new();
    for (i, b) in plan.blobs.iter().enumerate() {
        match odb.locate(&b.id) {
            Some(Location::Packed { pack, offset }) => {
                per_pack.entry(pack).or_default().push((offset, i as u32))
            }
            Some(loc @ Location::Loose { .. }) => direct.push((loc, i as u32)),
            None => missing.push(i as u32),
        }
    }
    let mut pack_ids: Vec<u32> = Vec::new();
    for (&pid, wanted) in &per_pack {
        let entries = odb.packs[pid as usize].index.num_objects() as usize;
        if tables.is_none() && wanted.len().saturating_mul(SPARSE_PACK_RATIO) < entries {
            direct.extend(
                wanted
                    .iter()
                    .map(|&(offset, i)| (Location::Packed { pack: pid, offset }, i)),
            );
        } else {
            pack_ids.push(pid);
        }
    }
    pack_ids.sort_unstable();
    // Pack order within each pack for the direct reads too.
    direct.sort_unstable_by_key(|&(loc, _)| match loc {
        Location::Packed { pack, offset } => (0, pack, offset),
        Location::Loose { index } => (1, index, 0),
    });
    let mut tables: Vec<Option<PackTable>> = match tables {
        Some(t) => t.into_iter().map(Some).collect(),
        None => build_tables_of(odb, pack_ids.clone(), threads, should_abort)?,
    };
    let mut packs = Vec::new();
    for pid in pack_ids {
        let wanted = &per_pack[&pid];
        let table = tables[pid as usize].take().expect("one table per pack");
        let mut plan_of = vec![pack_walk::NONE; table.len()];
        let mut entries = Vec::with_capacity(wanted.len());
        for &(offset, i) in wanted {
            match table.entry_at(offset) {
                Some(e) => {
                    plan_of[e as usize] = i;
                    entries.push(e);
                }
                None => missing.push(i),
            }
        }
        let trav = Traversal::new(&table, entries);
        packs.push((pid, table, plan_of, trav));
    }
    Ok(Placement {
        packs,
        direct,
        missing,
    })
}

enum Work {
    Pack { slot: usize, task: pack_walk::Task },
    Direct(Vec<(Location, u32)>),
}

/// Per-worker state for the scan stage.
struct Worker<'e> {
    adapter: EngineAdapter<'e>,
    exec: ExecScratch,
    rs: ReadScratch,
    commit_buf: Vec<u8>,
    loose_buf: Vec<u8>,
}

#[allow(clippy::too_many_arguments)]
fn execute(
    state: &ScanState<'_>,
    odb: &Odb,
    graph: &CommitGraph,
    plan: &Plan,
    placement: &Placement,
    engine: &Engine,
    threads: usize,
    object_limit: u64,
) -> Result<(), ScanError> {
    let total = plan.blobs.len() as u64;
    state.progress(Phase::Scan, 0, total, true);
    let commit_seen = AtomicBitSet::new(graph.len());
    let mut work = Vec::new();
    for (slot, (_, _, _, trav)) in placement.packs.iter().enumerate() {
        // Several tasks per worker per pack, so one big pack still spreads over every core and
        // the last tasks are small enough to balance the tail.
        let mut tasks = trav.tasks(threads * 8);
        tasks.sort_by_key(|t| std::cmp::Reverse(t.cost));
        work.extend(tasks.into_iter().map(|task| Work::Pack { slot, task }));
    }
    for chunk in placement.direct.chunks(64) {
        work.push(Work::Direct(chunk.to_vec()));
    }
    let window = state.options.chunk_bytes;
    let max_blob = state.options.max_blob_bytes;
    let should_abort = || state.should_abort();

    // Rules with `path`, allowlists with `paths`/`commits`: judged with the blob's attribution.
    let location_rules = engine.has_location_criteria();
    // Scan one decoded blob and stream its findings.
    let scan_blob = |w: &mut Worker<'_>, plan_idx: u32, data: &[u8]| -> bool {
        let b = &plan.blobs[plan_idx as usize];
        if data.len() as u64 > max_blob {
            state.skip_blob(SkipReason::TooLarge, b.id, || {
                format!("blob {}: {} bytes", b.id, data.len())
            });
            return true;
        }
        let commit = (b.commit != NO_COMMIT).then(|| graph.ids[b.commit as usize]);
        let context = || BlobContext {
            commit,
            path: b.path.to_vec(),
        };
        let (text, origin) = match content::prepare(data, &b.path) {
            content::Prepared::Binary => {
                state.skip(SkipReason::Binary, || format!("blob {}", b.id));
                // Binary content is policy, not a gap: the blob counts as seen.
                state.record(ScannedBlob {
                    id: b.id,
                    context: context(),
                    findings: Vec::new(),
                });
                return true;
            }
            content::Prepared::Text { bytes, origin } => (bytes, origin),
        };
        let mut new_commit = false;
        let mut records = Vec::new();
        let keep = state.records.is_some();
        let Worker {
            adapter,
            rs,
            commit_buf,
            ..
        } = w;
        let res = adapter.scan_blob(&text, &should_abort, &mut |hit| {
            if location_rules
                && !engine.allowed_at(
                    hit.m,
                    (!b.path.is_empty()).then_some(&b.path[..]),
                    commit.as_ref(),
                )
            {
                return !state.should_abort();
            }
            let rule_id = engine.rule_id(hit.m.rule);
            let fingerprint = crate::detect::fingerprint::fingerprint(
                &state.fingerprint_key,
                rule_id,
                &hit.m.secret,
            );
            let secret_text = || String::from_utf8_lossy(&hit.m.secret).into_owned();
            if keep {
                records.push(FindingRecord {
                    rule_id: rule_id.to_string(),
                    start: hit.start,
                    end: hit.end,
                    line: hit.line,
                    column: hit.column,
                    fingerprint: fingerprint.clone(),
                    secret: state.options.keep_secrets.then(secret_text),
                });
            }
            let finding = Finding {
                rule_id: rule_id.to_string(),
                rule_description: engine.rule_description(hit.m.rule).to_string(),
                blob: b.id,
                commit,
                path: (!b.path.is_empty()).then(|| b.path.to_vec()),
                line: hit.line,
                column: hit.column,
                start: hit.start,
                end: hit.end,
                fingerprint,
                secret: state.options.reveal_secrets.then(secret_text),
                snippet: hit.snippet,
                decoded_from: origin
                    .into_iter()
                    .chain(hit.m.decoded_from.iter().copied())
                    .collect(),
                confidence: hit.m.confidence,
            };
            state.findings.fetch_add(1, Ordering::Relaxed);
            state.emit(Event::Finding(&finding));
            if commit.is_some() && commit_seen.test_and_set(b.commit as usize) {
                new_commit = true;
            }
            !state.should_abort()
        });
        if new_commit && let Some(id) = commit {
            match odb.read_id(&id, rs, commit_buf) {
                Ok(_) => state.emit(Event::Commit(&commit_meta(id, commit_buf))),
                Err(e) => state.skip(SkipReason::Corrupt, || format!("commit {id}: {e}")),
            }
        }
        if res.is_ok() {
            state.record(ScannedBlob {
                id: b.id,
                context: context(),
                findings: records,
            });
        }
        state.blobs_scanned.fetch_add(1, Ordering::Relaxed);
        state
            .bytes_scanned
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        state.progress(
            Phase::Scan,
            state.blobs_scanned.load(Ordering::Relaxed),
            total,
            false,
        );
        res.is_ok()
    };

    let cache_bytes =
        (state.options.memory_budget_bytes as usize / threads.max(1) / 8).clamp(4 << 20, 64 << 20);
    crate::scheduler::run(
        work,
        threads,
        &should_abort,
        || state.abort_error(),
        || Worker {
            adapter: EngineAdapter::new(engine, window),
            exec: ExecScratch::default(),
            rs: ReadScratch::new(cache_bytes, object_limit),
            commit_buf: Vec::new(),
            loose_buf: Vec::new(),
        },
        |w, item| {
            match item {
                Work::Pack { slot, task } => {
                    let (_, table, plan_of, trav) = &placement.packs[slot];
                    let Worker { exec, rs, .. } = w;
                    // The traversal borrows the worker's buffers; collect into the scan closure
                    // through a raw split of the worker.
                    let mut exec_local = std::mem::take(exec);
                    let mut rs_local = std::mem::replace(rs, ReadScratch::new(0, object_limit));
                    let mut stop = false;
                    let flow = pack_walk::run_task(
                        odb,
                        table,
                        trav,
                        &task,
                        object_limit,
                        &mut exec_local,
                        &mut rs_local,
                        &mut |e, kind, data| {
                            if should_abort() {
                                stop = true;
                                return Flow::Stop;
                            }
                            let plan_idx = plan_of[e as usize];
                            if kind != Kind::Blob {
                                let id = &plan.blobs[plan_idx as usize].id;
                                state.skip_blob(SkipReason::Corrupt, *id, || {
                                    format!("{id}: is a {kind}, expected a blob")
                                });
                                return Flow::Continue;
                            }
                            if scan_blob(w, plan_idx, data) {
                                Flow::Continue
                            } else {
                                stop = true;
                                Flow::Stop
                            }
                        },
                        &mut |p| {
                            let plan_idx = plan_of[p.entry as usize];
                            let id = &plan.blobs[plan_idx as usize].id;
                            let reason = match p.error {
                                OdbError::TooLarge { .. } => SkipReason::TooLarge,
                                OdbError::Missing(_) => SkipReason::Missing,
                                _ => SkipReason::Corrupt,
                            };
                            state.skip_blob(reason, *id, || format!("blob {id}: {}", p.error));
                        },
                    );
                    w.exec = exec_local;
                    w.rs = rs_local;
                    if stop || matches!(flow, Flow::Stop) {
                        return Err(state.abort_error());
                    }
                }
                Work::Direct(items) => {
                    for (loc, plan_idx) in items {
                        if should_abort() {
                            return Err(state.abort_error());
                        }
                        let mut buf = std::mem::take(&mut w.loose_buf);
                        let res = match loc {
                            Location::Loose { index } => {
                                odb.loose.read(index, &mut w.rs.z, &mut buf, max_blob)
                            }
                            packed => odb.read(packed, &mut w.rs, &mut buf),
                        };
                        let id = plan.blobs[plan_idx as usize].id;
                        match res {
                            Ok(Kind::Blob) => {
                                let go_on = scan_blob(w, plan_idx, &buf);
                                w.loose_buf = buf;
                                if !go_on {
                                    return Err(state.abort_error());
                                }
                            }
                            Ok(k) => {
                                state.skip_blob(SkipReason::Corrupt, id, || {
                                    format!("{id}: is a {k}, expected a blob")
                                });
                                w.loose_buf = buf;
                            }
                            Err(OdbError::TooLarge { size, .. }) => {
                                state.skip_blob(SkipReason::TooLarge, id, || {
                                    format!("blob {id}: {size} bytes")
                                });
                            }
                            Err(e) => state
                                .skip_blob(SkipReason::Corrupt, id, || format!("blob {id}: {e}")),
                        }
                    }
                }
            }
            Ok(())
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_bits_are_set_exactly_once_across_threads() {
        let bits = AtomicBitSet::new(1000);
        let wins = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for i in 0..1000 {
                        if bits.test_and_set(i) {
                            wins.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(wins.load(Ordering::Relaxed), 1000);
    }

    #[test]
    fn commit_meta_parses_people_and_summary() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Ada <ada@example.com> 100 +0000\ncommitter Bob <bob@example.org> 200 +0100\n\n\nFix the thing\n\nbody\n";
        let m = commit_meta(ObjectId::null(gix_hash::Kind::Sha1), raw);
        assert_eq!(m.author_name, "Ada");
        assert_eq!(m.committer_email, "bob@example.org");
        assert_eq!(m.committer_time, 200);
        assert_eq!(m.summary, "Fix the thing");
    }
}
