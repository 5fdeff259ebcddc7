//! The diff-history mode: the blobs each selected commit introduced, as `git log -p` sees them.
//!
//! A merge's blob counts only where it differs from every parent at that path (or, with
//! `first_parent_only`, from its first parent). Candidates that outgrow the memory budget are
//! spilled to sorted runs on disk and merged at the end ([`super::spill`]), so a huge history
//! plans within a fixed amount of memory and with the same result.

use std::path::Path;

use super::{ExtraRoots, Plan, PlanLimits, WalkConfig, walk};
use crate::ScanError;
use crate::git::commits::CommitGraph;
use crate::git::odb::Odb;

/// What diff-history adds to the plan's limits.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'a> {
    pub first_parent_only: bool,
    /// Bytes of candidates held in memory, all workers together, before spilling.
    pub memory_budget: usize,
    pub spill_dir: &'a Path,
}

/// Plan the blobs introduced by the commits of `graph` (and `roots`).
pub fn plan_diff_history(
    odb: &Odb,
    graph: &CommitGraph,
    roots: ExtraRoots<'_>,
    limits: PlanLimits,
    settings: Settings<'_>,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Plan, ScanError> {
    let config = WalkConfig {
        all_parents: !settings.first_parent_only,
        spill: Some((
            settings.memory_budget / limits.threads.max(1),
            settings.spill_dir,
        )),
    };
    walk(odb, graph, roots, limits, config, should_abort)
}
