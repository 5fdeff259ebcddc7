//! Git plumbing: everything the scan needs to read a repository, and nothing about secrets.
//!
//! - [`repo`]: open a repository (bare, work tree, `.git` file, alternates) and read its refs.
//! - [`revspec`]: resolve the revisions a caller may name (`A..B`, `since`).
//! - [`odb`]: the object index over packs (multi-pack-index or every `.idx`) and loose objects,
//!   with delta decoding and a base cache.
//! - [`pack_walk`]: per-pack entry tables and the delta-tree traversal that decodes wanted
//!   objects in pack order.
//! - [`commits`]: the selected commit graph in a deterministic topological order, and commit
//!   and tag parsing (tag targets, authors and summaries through gix-object; the header the walk
//!   reads for every commit by hand, for speed).
//! - [`tree`]: tree parsing and the tree diff the plan is built from.

pub mod commits;
pub mod odb;
pub mod pack_walk;
pub mod repo;
pub mod revspec;
pub mod tree;

pub use error::GitError;

mod error {
    use std::path::PathBuf;

    use super::odb::OdbError;

    /// What the plumbing reports; mapped to the contract's kinds in [`crate::error`].
    #[derive(Debug, thiserror::Error)]
    pub enum GitError {
        #[error("not a git repository: {path}: {reason}")]
        NotFound { path: PathBuf, reason: String },
        #[error("cannot read repository {path}: {source}")]
        Unreadable {
            path: PathBuf,
            #[source]
            source: std::io::Error,
        },
        /// A revision or range the caller named does not resolve.
        #[error("{0}")]
        BadRevision(String),
        /// Repository metadata (refs, `packed-refs`) that git itself would refuse.
        #[error("corrupt repository data: {0}")]
        Corrupt(String),
        #[error(transparent)]
        Odb(#[from] OdbError),
        /// The caller's abort check answered yes.
        #[error("aborted")]
        Aborted,
    }
}
