//! Selection: which commits a scan covers. Refs (filtered by the caller's globs), their peeled
//! tips, the store's scope and watermarks, a range or `since`, and the shallow boundary become
//! the commit graph to plan from.
//!
//! Invariants: a range replaces the start set; `since` and stored watermarks only exclude
//! history; a watermark whose commit is gone (a force-push followed by gc) excludes nothing.

use std::collections::HashSet;
use std::path::Path;

use gix_hash::ObjectId;
use gix_object::Kind;

use super::budget::Budget;
use super::exec;
use super::modes::NO_COMMIT;
use super::state::ScanState;
use crate::events::SkipReason;
use crate::git::commits::{self, CommitGraph};
use crate::git::odb::{Odb, OdbError, ReadScratch};
use crate::git::pack_walk::PackTable;
use crate::git::repo::{self, RefTip, RepoLayout};
use crate::git::revspec;
use crate::store::{PersistenceStore, RefWatermark, Scope};
use crate::{Engine, ScanError};

/// The opened repository and its refs.
pub(super) struct Opened {
    pub layout: RepoLayout,
    /// Every ref of the repository.
    pub all_refs: Vec<RefTip>,
    /// The refs the caller's include/exclude globs select.
    pub refs: Vec<RefTip>,
}

/// Open the repository at `path` and read its refs.
pub(super) fn open(path: &Path, state: &ScanState<'_>) -> Result<Opened, ScanError> {
    let layout = RepoLayout::open(path)?;
    let all_refs = layout.refs()?;
    let o = state.options;
    let refs = repo::filter_refs(all_refs.clone(), &o.ref_include, &o.ref_exclude);
    Ok(Opened {
        layout,
        all_refs,
        refs,
    })
}

/// The store's view of this scan: its scope, sequence number and stored watermarks.
pub(super) struct StoreScope<'a> {
    pub store: Option<&'a dyn PersistenceStore>,
    pub scope: Scope,
    pub scan_seq: u64,
    pub watermarks: Vec<RefWatermark>,
}

/// What the selection yields.
pub(super) struct Selection<'a> {
    pub graph: CommitGraph,
    /// Each selected ref with its peeled commit: the watermarks a complete scan records.
    pub ref_tips: Vec<(String, ObjectId)>,
    /// Trees and blobs that refs point at directly.
    pub extra_trees: Vec<ObjectId>,
    pub extra_blobs: Vec<ObjectId>,
    /// Annotated tags the refs pass through, each with the commit it peels to (index into the
    /// graph, or `NO_COMMIT`): their messages are scanned.
    pub tags: Vec<(ObjectId, u32)>,
    pub store: StoreScope<'a>,
    /// Every pack's entry table, when the commit walk had to build them.
    pub tables: Option<Vec<PackTable>>,
}

/// Peeled ref tips, split by what they point at.
#[derive(Default)]
struct Tips {
    commits: Vec<ObjectId>,
    trees: Vec<ObjectId>,
    blobs: Vec<ObjectId>,
    ref_tips: Vec<(String, ObjectId)>,
    /// Tag objects passed while peeling, with what they finally name.
    tags: Vec<(ObjectId, ObjectId)>,
}

/// Select the commits to scan and load their graph.
pub(super) fn select<'a>(
    opened: &Opened,
    odb: &Odb,
    engine: &Engine,
    state: &ScanState<'a>,
    budget: &Budget,
) -> Result<Selection<'a>, ScanError> {
    let options = state.options;
    let mut rs = ReadScratch::new(budget.plan_cache, budget.object_limit);
    let mut tips = peel_refs(&opened.refs, odb, &mut rs, state);
    let store = open_store_scope(opened, engine, state)?;
    let mut exclude: Vec<ObjectId> = store
        .watermarks
        .iter()
        .map(|w| w.tip)
        .filter(|t| odb.locate(t).is_some())
        .collect();
    if let Some(range) = &options.range {
        let (a, b) = revspec::split_range(range)?;
        exclude.push(revspec::resolve(a, &opened.all_refs, odb, &mut rs)?);
        tips.commits = vec![revspec::resolve(b, &opened.all_refs, odb, &mut rs)?];
        tips.trees.clear();
        tips.blobs.clear();
        tips.tags.clear();
    }
    if let Some(since) = &options.since {
        exclude.push(revspec::resolve(since, &opened.all_refs, odb, &mut rs)?);
    }
    let (graph, tables) = load_graph(opened, odb, &tips.commits, &exclude, &mut rs, state, budget)?;
    let tags = tips
        .tags
        .iter()
        .map(|(tag, target)| {
            let commit = graph.index.get(target).copied().unwrap_or(NO_COMMIT);
            (*tag, commit)
        })
        .collect();
    Ok(Selection {
        tags,
        graph,
        ref_tips: tips.ref_tips,
        extra_trees: tips.trees,
        extra_blobs: tips.blobs,
        store,
        tables,
    })
}

/// Peel every ref to the object it finally names; unreadable refs are skipped as missing.
fn peel_refs(refs: &[RefTip], odb: &Odb, rs: &mut ReadScratch, state: &ScanState<'_>) -> Tips {
    let mut buf = Vec::new();
    let mut t = Tips::default();
    let mut passed = Vec::new();
    for r in refs {
        passed.clear();
        let peeled = commits::peel_through(odb, r.target, rs, &mut buf, &mut passed);
        if let Ok((id, _)) = &peeled {
            t.tags.extend(passed.iter().map(|tag| (*tag, *id)));
        }
        match peeled {
            Ok((id, Kind::Commit)) => {
                t.commits.push(id);
                t.ref_tips.push((r.name.clone(), id));
            }
            Ok((id, Kind::Tree)) => t.trees.push(id),
            Ok((id, Kind::Blob)) => t.blobs.push(id),
            Ok((_, Kind::Tag)) => unreachable!("peel never returns a tag"),
            Err(e) => report_unreadable(state, &format!("ref {}:", r.name), &r.target, &e),
        }
    }
    for v in [&mut t.commits, &mut t.trees, &mut t.blobs] {
        v.sort_unstable();
        v.dedup();
    }
    t.tags.sort_unstable();
    t.tags.dedup();
    t
}

/// The scope this scan persists under, with its sequence number and stored watermarks.
fn open_store_scope<'a>(
    opened: &Opened,
    engine: &Engine,
    state: &ScanState<'a>,
) -> Result<StoreScope<'a>, ScanError> {
    let options = state.options;
    let store = options.store.as_ref().map(|s| s.0.as_ref());
    let repo_id = options.repo_id.clone().unwrap_or_else(|| {
        let dir = &opened.layout.common_dir;
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        dir.to_string_lossy().into_owned()
    });
    let scope = Scope::new(repo_id, engine.rules_hash());
    let (scan_seq, watermarks) = match store {
        Some(st) => (st.begin_scan(&scope)?, st.load_watermarks(&scope)?),
        None => (0, Vec::new()),
    };
    Ok(StoreScope {
        store,
        scope,
        scan_seq,
        watermarks,
    })
}

/// Load the commit graph from `tips` down to `exclude`. Headers come from the commit-graph
/// file when there is one; else, for a walk of the whole history, from one sweep over the
/// packs (whose entry tables are returned for reuse); else one lookup at a time (an
/// incremental walk reads only the new commits and a thin boundary).
fn load_graph(
    opened: &Opened,
    odb: &Odb,
    tips: &[ObjectId],
    exclude: &[ObjectId],
    rs: &mut ReadScratch,
    state: &ScanState<'_>,
    budget: &Budget,
) -> Result<(CommitGraph, Option<Vec<PackTable>>), ScanError> {
    let should_abort = || state.should_abort();
    let mut tables = None;
    let source = match commits::HeaderSource::commit_graph(&opened.layout) {
        Some(g) => g,
        None if exclude.is_empty() => {
            let t = exec::build_tables(odb, budget.threads, &should_abort)?;
            let known = commits::bulk_read(odb, &t, budget.threads, &should_abort)?;
            tables = Some(t);
            commits::HeaderSource::from_map(known)
        }
        None => commits::HeaderSource::lazy(),
    };
    let shallow = read_shallow(&opened.layout);
    let options = state.options;
    let selection = commits::Selection {
        tips,
        exclude,
        shallow: &shallow,
        exact: options.range.is_some() || options.since.is_some(),
    };
    let (graph, problems) = commits::load(odb, &selection, source, rs, &should_abort)?;
    for p in problems {
        report_unreadable(state, "commit", &p.id, &p.error);
    }
    Ok((graph, tables))
}

/// Report an object the walk could not read: `missing` or `corrupt`.
pub(super) fn report_unreadable(state: &ScanState<'_>, what: &str, id: &ObjectId, e: &OdbError) {
    let reason = if matches!(e, OdbError::Missing(_)) {
        SkipReason::Missing
    } else {
        SkipReason::Corrupt
    };
    state.skip(reason, || format!("{what} {id}: {e}"));
}

/// Commits listed in `shallow`: their parents are not walked, as in git.
fn read_shallow(layout: &RepoLayout) -> HashSet<ObjectId> {
    std::fs::read_to_string(layout.common_dir.join("shallow"))
        .map(|t| {
            t.lines()
                .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
                .collect()
        })
        .unwrap_or_default()
}
