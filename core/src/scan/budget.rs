//! The one resource budget: every cache and buffer size of a scan derived from
//! `memory_budget_bytes`, `max_blob_bytes` and the thread count, in this one place.

use crate::{ScanError, ScanOptions};

/// Sizes a scan works with (all per worker unless named otherwise).
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Worker threads (0 resolved to the core count).
    pub threads: usize,
    /// Delta-base plus tree cache of a planning worker, and of the commit walk.
    pub plan_cache: usize,
    /// Delta-base cache of a pack-execution worker.
    pub exec_cache: usize,
    /// Largest object decoded (trees and commits too, so never below 64 MiB).
    pub object_limit: u64,
    /// diff-history: bytes of plan candidates held in memory, all workers together.
    pub spill_threshold: usize,
    /// The RingChunker window asked for (the engine raises it to its minimum).
    pub chunk_bytes: usize,
}

impl Budget {
    /// Derive every size from `options`; rejects a zero chunk window and a thread count past
    /// the bound (with the front door's checks, so direct Rust callers get the same errors).
    pub fn new(options: &ScanOptions) -> Result<Self, ScanError> {
        crate::request::at_least("chunk_bytes", options.chunk_bytes as i64, 1)?;
        crate::request::check_threads(i64::try_from(options.threads).unwrap_or(i64::MAX))?;
        let threads = options.effective_threads();
        let per_worker = options.memory_budget_bytes as usize / threads.max(1);
        Ok(Self {
            threads,
            plan_cache: (per_worker / 2).clamp(16 << 20, 512 << 20),
            exec_cache: (per_worker / 8).clamp(4 << 20, 64 << 20),
            object_limit: options.max_blob_bytes.max(64 << 20),
            spill_threshold: (options.memory_budget_bytes / 4) as usize,
            chunk_bytes: options.chunk_bytes,
        })
    }
}
