//! The CLI's own error type: the core's [`ScanError`] plus what only a command-line tool can get
//! wrong (usage, writing the report).

use std::path::PathBuf;

use scangit_core::ScanError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Anything the library reports, rules errors included (they convert into `ScanError`).
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error("cannot create output file {path}: {source}")]
    CreateOutput {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the report to {target}: {source}")]
    WriteOutput {
        target: String,
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    /// The kind printed after `scangit: error:`; the contract's names for library errors, `io`
    /// for failures writing the report (not a scan error, so not in the contract's set).
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Scan(e) => e.kind().as_str(),
            CliError::CreateOutput { .. } | CliError::WriteOutput { .. } => "io",
        }
    }
}
