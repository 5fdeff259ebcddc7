//! Atomic persist: a finished scan's records become one finalize batch, committed to the store
//! in one call. Watermarks move only for a complete scan of whole refs (a range or `since` scan
//! covers part of their history, so it moves none).

use super::finalize::{FinalizeInput, RefEntry, build_finalize_ops};
use super::select::{Opened, Selection};
use super::state::ScanState;
use crate::ScanError;
use crate::events::{Outcome, Phase};
use crate::store::persist_finalize_output;

/// Build the finalize batch of this scan and commit it, when there is a store.
pub(super) fn persist(
    state: &ScanState<'_>,
    opened: &Opened,
    sel: &Selection<'_>,
    outcome: Outcome,
) -> Result<(), ScanError> {
    let Some(store) = sel.store.store else {
        return Ok(());
    };
    state.progress(Phase::Finalize, 0, 1, true);
    let records = state.take_records();
    let (start_set, deleted_refs) = if whole_refs(state) {
        watermark_refs(opened, sel)
    } else {
        (Vec::new(), Vec::new())
    };
    let input = FinalizeInput {
        scope: sel.store.scope.clone(),
        scan_seq: sel.store.scan_seq,
        blobs: records.blobs,
        start_set,
        deleted_refs,
        skipped: records.gaps,
        outcome,
    };
    let output = build_finalize_ops(&input);
    state.check()?;
    persist_finalize_output(store, &sel.store.scope, &output)?;
    Ok(())
}

fn whole_refs(state: &ScanState<'_>) -> bool {
    state.options.range.is_none() && state.options.since.is_none()
}

/// The refs whose watermarks a complete scan sets, and the stored ones it deletes: a ref
/// filtered out by include/exclude globs still exists, so only refs gone from the repository
/// lose their watermark.
fn watermark_refs(opened: &Opened, sel: &Selection<'_>) -> (Vec<RefEntry>, Vec<String>) {
    let start_set = sel
        .ref_tips
        .iter()
        .map(|(name, tip)| RefEntry {
            name: name.clone(),
            tip: *tip,
        })
        .collect();
    let deleted = sel
        .store
        .watermarks
        .iter()
        .filter(|w| !opened.all_refs.iter().any(|r| r.name == w.name))
        .map(|w| w.name.clone())
        .collect();
    (start_set, deleted)
}
