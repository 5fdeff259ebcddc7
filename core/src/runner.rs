//! The runner: orchestrates open → index → commits → plan → pack execution → summary.

use std::path::Path;

use crate::events::Summary;
use crate::{Engine, EventSink, ScanError, ScanOptions};

/// What a finished scan returns (the same data as the final `summary` event).
#[derive(Clone, Debug)]
pub struct ScanReport {
    pub summary: Summary,
}

/// Scan the repository at `repo` with a compiled `engine`, streaming events to `sink`.
pub fn scan(_repo: &Path, _options: &ScanOptions, _engine: &Engine, _sink: &dyn EventSink) -> Result<ScanReport, ScanError> {
    Err(ScanError::Internal("runner not wired yet".into()))
}
