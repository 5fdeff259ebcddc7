//! Pack execution: where each planned blob is read from, the tasks that decode them in pack
//! order, and their dispatch on the scheduler.
//!
//! Packs holding many planned blobs are decoded by delta-tree traversal ([`pack_walk`]), split
//! into several tasks per worker so one big pack spreads over every core; loose objects and the
//! few planned blobs of a sparsely used pack (an incremental scan) are read one at a time, in
//! pack order. Every decoded blob goes to the [`BlobScanner`]; every object that cannot be
//! decoded is skipped with a reason, never silently.

use std::collections::HashMap;

use parking_lot::Mutex;

use super::blob_scan::{BlobScanner, BlobWorker};
use super::budget::Budget;
use super::modes::Plan;
use super::state::ScanState;
use crate::events::{Phase, SkipReason};
use crate::git::odb::{Location, Odb, OdbError, Pack, ReadScratch};
use crate::git::pack_walk::{self, EntryProblem, ExecScratch, Flow, PackTable, Traversal};
use crate::{Engine, ScanError};

/// A pack whose planned blobs are fewer than 1 in this many entries has them read one at a
/// time: building the pack's entry table and delta traversal costs more than that.
const SPARSE_PACK_RATIO: usize = 64;

/// Where planned blobs live.
pub(super) struct Placement {
    /// Per pack: entry index → plan index (for packs holding planned blobs).
    packs: Vec<PackPlacement>,
    /// Read one at a time (location, plan index): loose objects, and the few planned blobs of a
    /// pack where a traversal would cost more than random reads (an incremental scan).
    direct: Vec<(Location, u32)>,
    /// Plan indices of blobs found nowhere.
    pub missing: Vec<u32>,
}

/// One pack traversed for planned blobs.
struct PackPlacement {
    table: PackTable,
    /// Entry index → plan index, or [`pack_walk::NONE`].
    plan_of: Vec<u32>,
    traversal: Traversal,
}

/// Entry tables of every pack, built in parallel (one task per pack).
pub(super) fn build_tables(
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

/// Where each planned blob is read from. `tables` are the entry tables of every pack when the
/// caller built them already; otherwise the ones needed are built here (in parallel).
pub(super) fn place(
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
    let packs = pack_ids
        .into_iter()
        .map(|pid| {
            let table = tables[pid as usize].take().expect("one table per pack");
            traverse_wanted(
                &odb.packs[pid as usize],
                table,
                &per_pack[&pid],
                plan,
                &mut missing,
            )
        })
        .collect();
    Ok(Placement {
        packs,
        direct,
        missing,
    })
}

/// Mark the `wanted` (offset, plan index) entries of one pack for traversal; offsets that are
/// no entry of the table go to `missing`.
fn traverse_wanted(
    pack: &Pack,
    table: PackTable,
    wanted: &[(u64, u32)],
    plan: &Plan,
    missing: &mut Vec<u32>,
) -> PackPlacement {
    let mut plan_of = vec![pack_walk::NONE; table.len()];
    let mut entries = Vec::with_capacity(wanted.len());
    for &(offset, i) in wanted {
        match table.entry_at(pack, offset, &plan.blobs[i as usize].id) {
            Some(e) => {
                plan_of[e as usize] = i;
                entries.push(e);
            }
            None => missing.push(i),
        }
    }
    let traversal = Traversal::new(&table, entries);
    PackPlacement {
        table,
        plan_of,
        traversal,
    }
}

/// One unit of scheduled work.
enum Work {
    Pack { slot: usize, task: pack_walk::Task },
    Direct(Vec<(Location, u32)>),
}

/// Per-worker state of the scan stage.
struct Worker<'e> {
    blob: BlobWorker<'e>,
    exec: ExecScratch,
    rs: ReadScratch,
    buf: Vec<u8>,
}

/// Decode every placed blob and scan it, on `budget.threads` workers.
pub(super) fn execute(
    state: &ScanState<'_>,
    odb: &Odb,
    plan: &Plan,
    placement: &Placement,
    scanner: &BlobScanner<'_>,
    engine: &Engine,
    budget: &Budget,
) -> Result<(), ScanError> {
    state.progress(Phase::Scan, 0, plan.blobs.len() as u64, true);
    let mut work = Vec::new();
    for (slot, p) in placement.packs.iter().enumerate() {
        // Several tasks per worker per pack, so one big pack still spreads over every core and
        // the last tasks are small enough to balance the tail.
        let mut tasks = p.traversal.tasks(budget.threads * 8);
        tasks.sort_by_key(|t| std::cmp::Reverse(t.cost));
        work.extend(tasks.into_iter().map(|task| Work::Pack { slot, task }));
    }
    for chunk in placement.direct.chunks(64) {
        work.push(Work::Direct(chunk.to_vec()));
    }
    let run = Run {
        state,
        odb,
        plan,
        scanner,
        object_limit: budget.object_limit,
    };
    crate::scheduler::run(
        work,
        budget.threads,
        &|| state.should_abort(),
        || state.abort_error(),
        || Worker {
            blob: BlobWorker::new(engine, budget.chunk_bytes, budget.object_limit),
            exec: ExecScratch::default(),
            rs: ReadScratch::new(budget.exec_cache, budget.object_limit),
            buf: Vec::new(),
        },
        |w, item| match item {
            Work::Pack { slot, task } => run.pack_task(w, &placement.packs[slot], &task),
            Work::Direct(items) => run.direct(w, &items),
        },
    )?;
    Ok(())
}

/// What every task of one execution shares.
struct Run<'r> {
    state: &'r ScanState<'r>,
    odb: &'r Odb,
    plan: &'r Plan,
    scanner: &'r BlobScanner<'r>,
    object_limit: u64,
}

impl Run<'_> {
    /// Decode one traversal task of a pack and scan its planned blobs.
    fn pack_task(
        &self,
        w: &mut Worker<'_>,
        p: &PackPlacement,
        task: &pack_walk::Task,
    ) -> Result<(), ScanError> {
        let state = self.state;
        let Worker { blob, exec, rs, .. } = w;
        let mut stop = false;
        let flow = pack_walk::run_task(
            self.odb,
            &p.table,
            &p.traversal,
            task,
            self.object_limit,
            exec,
            rs,
            &mut |e, kind, data| {
                if state.should_abort() {
                    stop = true;
                    return Flow::Stop;
                }
                let plan_idx = p.plan_of[e as usize];
                let planned = &self.plan.blobs[plan_idx as usize];
                if kind != planned.kind {
                    let (id, want) = (&planned.id, planned.kind);
                    self.scanner.skip(plan_idx, SkipReason::Corrupt, || {
                        format!("{id}: is a {kind}, expected a {want}")
                    });
                    return Flow::Continue;
                }
                if self.scanner.scan(blob, plan_idx, kind, data) {
                    Flow::Continue
                } else {
                    stop = true;
                    Flow::Stop
                }
            },
            &mut |problem| self.entry_problem(p, problem),
        );
        if stop || matches!(flow, Flow::Stop) {
            return Err(state.abort_error());
        }
        Ok(())
    }

    /// A planned entry of a pack that could not be decoded.
    fn entry_problem(&self, p: &PackPlacement, problem: EntryProblem) {
        let plan_idx = p.plan_of[problem.entry as usize];
        let id = &self.plan.blobs[plan_idx as usize].id;
        let reason = match problem.error {
            OdbError::TooLarge { .. } => SkipReason::TooLarge,
            OdbError::Missing(_) => SkipReason::Missing,
            _ => SkipReason::Corrupt,
        };
        self.scanner
            .skip(plan_idx, reason, || format!("blob {id}: {}", problem.error));
    }

    /// Read planned blobs one at a time (loose objects, sparse packs) and scan them.
    fn direct(&self, w: &mut Worker<'_>, items: &[(Location, u32)]) -> Result<(), ScanError> {
        let state = self.state;
        for &(loc, plan_idx) in items {
            if state.should_abort() {
                return Err(state.abort_error());
            }
            let max_blob = state.options.max_blob_bytes;
            let res = match loc {
                Location::Loose { index } => {
                    self.odb
                        .loose
                        .read(index, &mut w.rs.z, &mut w.buf, max_blob)
                }
                packed => self.odb.read(packed, &mut w.rs, &mut w.buf),
            };
            let (id, want) = {
                let planned = &self.plan.blobs[plan_idx as usize];
                (planned.id, planned.kind)
            };
            match res {
                Ok(k) if k == want => {
                    if !self.scanner.scan(&mut w.blob, plan_idx, k, &w.buf) {
                        return Err(state.abort_error());
                    }
                }
                Ok(k) => self.scanner.skip(plan_idx, SkipReason::Corrupt, || {
                    format!("{id}: is a {k}, expected a {want}")
                }),
                Err(OdbError::TooLarge { size, .. }) => {
                    self.scanner.skip(plan_idx, SkipReason::TooLarge, || {
                        format!("blob {id}: {size} bytes")
                    })
                }
                Err(e) => self
                    .scanner
                    .skip(plan_idx, SkipReason::Corrupt, || format!("blob {id}: {e}")),
            }
        }
        Ok(())
    }
}
