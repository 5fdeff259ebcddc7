//! The odb-blob mode (the default): every blob reachable from the selected commits, once.
//!
//! Each commit is diffed against its first parent (a root commit against the empty tree) and
//! every blob is attributed to the earliest commit in topological order that holds it, at its
//! smallest path there. First-parent diffs are enough on a whole history (see [`super`]); when
//! the selection is bounded (a range, `since`, or stored watermarks) a merge may bring a blob in
//! from a parent outside the selection, so merges are then diffed against every parent.
//! Candidates are reduced in memory.

use super::{ExtraRoots, Plan, PlanLimits, WalkConfig, walk};
use crate::ScanError;
use crate::git::commits::CommitGraph;
use crate::git::odb::Odb;

/// Plan every blob of `graph` and `roots`.
pub fn plan_odb_blob(
    odb: &Odb,
    graph: &CommitGraph,
    roots: ExtraRoots<'_>,
    limits: PlanLimits,
    should_abort: &(dyn Fn() -> bool + Sync),
) -> Result<Plan, ScanError> {
    let config = WalkConfig {
        all_parents: graph.bounded,
        spill: None,
    };
    walk(odb, graph, roots, limits, config, should_abort)
}
