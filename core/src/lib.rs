//! libscangit core: scans every object a git repository ever held for leaked credentials.
//!
//! The pipeline reads top-down, one module per stage, imports pointing down the list only:
//!
//! 1. [`repo`]: open a repository (bare, work tree, `.git` file, alternates) and read its refs.
//! 2. [`odb`]: the object index over packs (multi-pack-index or every `.idx`) and loose objects,
//!    plus delta decoding with a base cache.
//! 3. [`commits`]: the reachable commit graph in a deterministic topological order.
//! 4. [`plan`]: which blobs to scan, each with the commit and path that introduced it.
//! 5. [`pack_exec`]: decode planned blobs in pack order (delta-tree traversal), split into tasks.
//! 6. [`scheduler`]: run pack tasks on worker threads with a shared error/abort latch.
//! 7. [`adapter`]: the EngineAdapter and RingChunker, feeding blob bytes to the engine.
//! 8. [`engine`]: compiled detection rules (prefilter + regex confirmation).
//! 9. [`runner`]: orchestrates the stages and streams [`events`] to an [`EventSink`];
//!    [`stream`] runs it on its own thread for consumers that pull batches (the bindings).
//!
//! Long operations take an [`AbortToken`]; every stage checks it at its boundaries.

pub mod abort;
pub mod adapter;
pub mod commits;
pub mod content;
pub mod engine;
pub mod error;
pub mod events;
pub mod events_json;
pub mod extract;
pub mod finalize;
pub mod fingerprint;
pub mod odb;
pub mod options;
pub mod pack_exec;
pub mod persist;
pub mod plan;
pub mod repo;
pub mod revspec;
pub mod rules;
pub mod runner;
pub mod scheduler;
pub mod spill;
pub mod stream;

pub use abort::AbortToken;
pub use engine::Engine;
pub use error::{ErrorKind, ScanError};
pub use events::{CommitMeta, Event, EventSink, Finding, Outcome, Progress, SinkAction, Summary};
pub use options::{ScanMode, ScanOptions, StoreRef};
pub use runner::{ScanReport, scan};

/// The library version, as in `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
