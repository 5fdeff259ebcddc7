//! libscangit core: scans every object a git repository ever held for leaked credentials.
//!
//! The folders are the pipeline, imports pointing down only (scan → detect, git, store):
//!
//! - [`scan`]: the runner family. `scan/mod.rs` orchestrates open → refs and watermarks →
//!   object index → commit graph → plan (the two modes) → pack execution on the scheduler →
//!   blob scanning → finalize → atomic persist, streaming [`events`] to an [`EventSink`].
//! - `git`: plumbing (repository, refs, object database, packs, commits, trees). Knows nothing
//!   of secrets.
//! - `detect`: rules, engine, content policy and extraction, the EngineAdapter. Knows nothing
//!   of git.
//! - [`store`]: the [`PersistenceStore`](store::PersistenceStore) trait, its key codec and the
//!   SQLite, in-memory and key-value stores.
//!
//! - [`request`]: the one front door. The CLI and the bindings describe a scan as a
//!   [`ScanRequest`] and resolve it here (options checked, rules loaded, store opened).
//!
//! Long operations take an [`AbortToken`]; every stage checks it at its boundaries.

pub mod abort;
#[doc(hidden)]
pub mod detect;
pub mod error;
pub mod events;
pub mod events_json;
#[doc(hidden)]
pub mod git;
pub mod options;
pub mod request;
pub mod scan;
pub(crate) mod scheduler;
pub mod store;

pub use abort::AbortToken;
pub use detect::engine::{self, Engine};
pub use detect::rules::{self, LoadOptions, RuleSet, RulesError, RulesWarning};
pub use error::{ErrorKind, ScanError};
pub use events::{
    CommitMeta, Event, EventSink, Finding, Location, Outcome, Progress, SinkAction, Summary,
};
pub use options::{ScanMode, ScanOptions, StoreRef};
pub use request::{Resolved, RulesSpec, ScanRequest, StoreSpec};
pub use scan::stream::{self, ScanStream};
pub use scan::{ScanReport, scan};

/// The library version, as in `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
