//! The error taxonomy shared by every front door.
//!
//! Each layer has its own error enum; all of them convert into [`ScanError`], whose
//! [`ErrorKind`] is the contract's fixed set of kinds (mapped once, here).

use std::path::PathBuf;

use crate::detect::rules::RulesError;
use crate::git::GitError;
use crate::git::odb::OdbError;
use crate::store::StoreError;

/// The contract's error kinds, identical in Rust, C, Python, Node and the CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidArgument,
    RepoNotFound,
    Corrupt,
    ConcurrentMaintenance,
    Aborted,
    Store,
    RulesInvalid,
    ResourceLimit,
    /// A bug (for example a caught panic); never expected.
    Internal,
}

impl ErrorKind {
    /// Stable snake_case name used in JSON, C, Python and Node (`err.code`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::RepoNotFound => "repo_not_found",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::ConcurrentMaintenance => "concurrent_maintenance",
            ErrorKind::Aborted => "aborted",
            ErrorKind::Store => "store",
            ErrorKind::RulesInvalid => "rules_invalid",
            ErrorKind::ResourceLimit => "resource_limit",
            ErrorKind::Internal => "internal",
        }
    }

    /// Whether retrying the same call may succeed (only concurrent maintenance).
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::ConcurrentMaintenance)
    }
}

/// Why a scan stopped early at the caller's request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbortCause {
    /// The [`crate::AbortToken`] was triggered.
    Token,
    /// The event sink asked to stop.
    Sink,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("not a git repository: {path}: {reason}")]
    RepoNotFound { path: PathBuf, reason: String },
    #[error("cannot read repository {path}: {source}")]
    RepoUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt repository data: {0}")]
    Corrupt(String),
    #[error(
        "pack files changed during the scan (concurrent maintenance such as git gc); retry: {0}"
    )]
    ConcurrentMaintenance(String),
    #[error("scan aborted ({cause:?})")]
    Aborted { cause: AbortCause },
    #[error("store failure: {0}")]
    Store(String),
    #[error("invalid rules: {0}")]
    RulesInvalid(#[from] RulesError),
    #[error("resource limit exceeded: {0}")]
    ResourceLimit(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ScanError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ScanError::InvalidArgument(_) => ErrorKind::InvalidArgument,
            ScanError::RepoNotFound { .. } | ScanError::RepoUnreadable { .. } => {
                ErrorKind::RepoNotFound
            }
            ScanError::Corrupt(_) => ErrorKind::Corrupt,
            ScanError::ConcurrentMaintenance(_) => ErrorKind::ConcurrentMaintenance,
            ScanError::Aborted { .. } => ErrorKind::Aborted,
            ScanError::Store(_) => ErrorKind::Store,
            ScanError::RulesInvalid(_) => ErrorKind::RulesInvalid,
            ScanError::ResourceLimit(_) => ErrorKind::ResourceLimit,
            ScanError::Internal(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn aborted() -> Self {
        ScanError::Aborted {
            cause: AbortCause::Token,
        }
    }
}

// The one place where each layer's errors become the contract's kinds.

impl From<GitError> for ScanError {
    fn from(e: GitError) -> Self {
        match e {
            GitError::NotFound { path, reason } => ScanError::RepoNotFound { path, reason },
            GitError::Unreadable { path, source } => ScanError::RepoUnreadable { path, source },
            GitError::BadRevision(why) => ScanError::InvalidArgument(why),
            GitError::Corrupt(why) => ScanError::Corrupt(why),
            GitError::Odb(e) => e.into(),
            GitError::Aborted => ScanError::aborted(),
        }
    }
}

impl From<OdbError> for ScanError {
    fn from(e: OdbError) -> Self {
        match e {
            OdbError::Io { path, source } => ScanError::RepoUnreadable { path, source },
            OdbError::TooLarge { .. } => ScanError::ResourceLimit(e.to_string()),
            other => ScanError::Corrupt(other.to_string()),
        }
    }
}

impl From<StoreError> for ScanError {
    fn from(e: StoreError) -> Self {
        ScanError::Store(e.to_string())
    }
}
