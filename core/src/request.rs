//! The one front door: what a caller asks a scan to be, resolved once into what [`crate::scan`]
//! needs.
//!
//! Every front door (the CLI, the C ABI, Python, Node) converts its native types into a
//! [`ScanRequest`], named as the contract names the options, and calls [`ScanRequest::resolve`].
//! Resolution is the only place that
//! - validates options (mode names, the thread bound, sizes, durations), with one wording per
//!   error: [`ScanError::InvalidArgument`] / [`ScanError::RulesInvalid`] carry the same text in
//!   every language;
//! - loads rules (a file, or the built-in set compiled once per process: [`builtin_engine`]);
//! - opens a store from a spec string ([`StoreSpec::parse`]: `FILE.db`, `sqlite:PATH`).
//!
//! The bindings keep only what is theirs: converting native values, presenting the rules
//! warnings (a stderr line, a `UserWarning`, a process warning, strings on a C handle) and their
//! threading story.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::detect::rules::{LoadOptions, RuleSet, RulesWarning};
use crate::options::{DEFAULT_CHUNK_BYTES, DEFAULT_MAX_BLOB_BYTES, DEFAULT_MEMORY_BUDGET_BYTES};
use crate::scan::stream::StreamConfig;
use crate::store::SqliteStore;
use crate::{AbortToken, Engine, ScanError, ScanMode, ScanOptions, StoreRef};

/// The largest `threads` a request may ask for. Far above any machine's core count; a larger
/// value is a mistake (a size passed as a count), refused before threads are spawned.
pub const MAX_THREADS: i64 = 1024;
/// The smallest `memory_budget_bytes` a request may ask for (1 MiB): below it the decode caches
/// and diff-history's candidate buffer cannot hold even a small repository's working set.
pub const MIN_MEMORY_BUDGET_BYTES: i64 = 1 << 20;

/// Which rules a scan uses.
#[derive(Clone, Default)]
pub enum RulesSpec {
    /// The built-in rules, compiled once per process ([`builtin_engine`]).
    #[default]
    Builtin,
    /// A rules file (our TOML, gitleaks-compatible). With `strict`, every warning the file would
    /// give is a [`ScanError::RulesInvalid`] instead.
    File { path: PathBuf, strict: bool },
    /// An engine the caller compiled already (the C ABI's `scangit_engine`).
    Engine(Arc<Engine>),
}

impl std::fmt::Debug for RulesSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RulesSpec::Builtin => f.write_str("Builtin"),
            RulesSpec::File { path, strict } => f
                .debug_struct("File")
                .field("path", path)
                .field("strict", strict)
                .finish(),
            RulesSpec::Engine(e) => write!(f, "Engine({} rules)", e.rule_count()),
        }
    }
}

impl RulesSpec {
    /// The contract's `rules` and `strict_rules` options: a file, or the built-in rules when
    /// there is no path (which load without warnings, so `strict` has nothing to refuse).
    pub fn from_options(path: Option<PathBuf>, strict: bool) -> Self {
        match path {
            Some(path) => RulesSpec::File { path, strict },
            None => RulesSpec::Builtin,
        }
    }

    /// The compiled engine and the rules file's warnings (in file order).
    pub fn resolve(&self) -> Result<(Arc<Engine>, Vec<RulesWarning>), ScanError> {
        match self {
            RulesSpec::Builtin => Ok((builtin_engine()?, Vec::new())),
            RulesSpec::File { path, strict } => {
                let (set, warnings) = RuleSet::load(Some(path), LoadOptions { strict: *strict })?;
                Ok((Arc::new(Engine::new(&set)?), warnings))
            }
            RulesSpec::Engine(engine) => Ok((engine.clone(), Vec::new())),
        }
    }
}

/// The built-in rules' engine, compiled on first use and shared by every scan of the process
/// (about 240 rules: worth compiling once). Every call returns the same `Arc`.
pub fn builtin_engine() -> Result<Arc<Engine>, ScanError> {
    static BUILTIN: OnceLock<Result<Arc<Engine>, String>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| Engine::builtin().map(Arc::new).map_err(|e| e.to_string()))
        .clone()
        // Unreachable in a released build (core's tests compile the built-in rules); reported
        // as what it would be, a bug.
        .map_err(|e| ScanError::Internal(format!("the built-in rules do not compile: {e}")))
}

/// Where a scan persists its results.
#[derive(Clone, Debug, Default)]
pub enum StoreSpec {
    /// No persistence.
    #[default]
    None,
    /// A store named by a string or path (see [`StoreSpec::parse`]), opened by
    /// [`ScanRequest::resolve`].
    Location(OsString),
    /// A store object the caller made (an open SQLite or in-memory store, a C, Python or JS
    /// store behind an adapter).
    Store(StoreRef),
}

/// A store location after parsing its spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded SQLite store at this path.
    Sqlite(PathBuf),
}

/// URL schemes recognised as stores that are planned but not built in, with what to say.
const NOT_BUILT_IN: &[&str] = &["postgres", "postgresql"];

impl StoreSpec {
    /// A store named by `spec` (a path, or a string such as `sqlite:scans.db`).
    pub fn location(spec: impl Into<OsString>) -> Self {
        StoreSpec::Location(spec.into())
    }

    /// Parses a store spec: `sqlite:PATH`, or any other string without a URL scheme, is the
    /// SQLite file at that path (`FILE.db`). A URL (`scheme://...`) names a store server: none is
    /// built in yet (`postgres://` is reserved for one), so it is an invalid argument.
    pub fn parse(spec: &std::ffi::OsStr) -> Result<StoreLocation, ScanError> {
        let Some(text) = spec.to_str() else {
            // Not UTF-8: only a path can be.
            return Ok(StoreLocation::Sqlite(PathBuf::from(spec)));
        };
        if text.is_empty() {
            return Err(invalid(
                "store must be a file path or sqlite:PATH, got \"\"",
            ));
        }
        if let Some(path) = text.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(invalid("store sqlite: needs a path (sqlite:PATH)"));
            }
            return Ok(StoreLocation::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            let is_scheme = !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if is_scheme {
                let what = if NOT_BUILT_IN.contains(&scheme.to_ascii_lowercase().as_str()) {
                    format!("{scheme} stores are not built in yet")
                } else {
                    format!("unknown store scheme {scheme}://")
                };
                return Err(invalid(format!(
                    "store {text:?}: {what} (use a file path or sqlite:PATH)"
                )));
            }
        }
        Ok(StoreLocation::Sqlite(PathBuf::from(text)))
    }

    /// The store to use, opened when it is named by a location.
    pub fn open(&self) -> Result<Option<StoreRef>, ScanError> {
        match self {
            StoreSpec::None => Ok(None),
            StoreSpec::Store(store) => Ok(Some(store.clone())),
            StoreSpec::Location(spec) => match Self::parse(spec)? {
                StoreLocation::Sqlite(path) => Ok(Some(StoreRef::new(SqliteStore::open(&path)?))),
            },
        }
    }
}

/// A scan as a front door asks for it: the contract's options, unvalidated. `None` (and empty
/// lists, `false`) mean the library defaults. Integers are signed so that a negative value from
/// a language without unsigned integers is refused here, with the same message everywhere.
#[derive(Clone, Debug, Default)]
pub struct ScanRequest {
    /// `odb-blob` (default) or `diff-history`.
    pub mode: Option<String>,
    /// Worker threads, 0 (default) = one per core; at most [`MAX_THREADS`].
    pub threads: Option<i64>,
    pub rules: RulesSpec,
    pub store: StoreSpec,
    pub reveal_secrets: bool,
    pub max_blob_bytes: Option<i64>,
    /// At least [`MIN_MEMORY_BUDGET_BYTES`].
    pub memory_budget_bytes: Option<i64>,
    /// The RingChunker window; positive.
    pub chunk_bytes: Option<i64>,
    pub ref_include: Vec<String>,
    pub ref_exclude: Vec<String>,
    pub all_objects: bool,
    pub since: Option<String>,
    pub range: Option<String>,
    pub first_parent_only: bool,
    pub repo_id: Option<String>,
    pub keep_secrets: bool,
    pub abort: Option<AbortToken>,
    pub spill_dir: Option<PathBuf>,
    /// Seconds between progress events.
    pub progress_interval_secs: Option<f64>,
    /// Events per batch of a [`crate::ScanStream`] (0 is taken as 1).
    pub batch_events: Option<i64>,
    /// Batches a [`crate::ScanStream`] queues before the scan waits for its consumer (0 is
    /// taken as 1).
    pub queue_batches: Option<i64>,
}

/// A request resolved: what [`crate::scan`] or [`crate::ScanStream::start`] takes.
pub struct Resolved {
    pub options: ScanOptions,
    pub engine: Arc<Engine>,
    /// The rules file's warnings, for the front door to present (never dropped).
    pub warnings: Vec<RulesWarning>,
    /// For streaming front doors.
    pub stream: StreamConfig,
}

fn invalid(message: impl Into<String>) -> ScanError {
    ScanError::InvalidArgument(message.into())
}

/// The one check of a thread count (front doors and direct Rust callers alike).
pub(crate) fn check_threads(threads: i64) -> Result<(), ScanError> {
    if !(0..=MAX_THREADS).contains(&threads) {
        return Err(invalid(format!(
            "threads must be from 0 (one per core) to {MAX_THREADS}, got {threads}"
        )));
    }
    Ok(())
}

/// `value` as a byte count of at least `min`, or the error naming `name`.
pub(crate) fn at_least(name: &str, value: i64, min: i64) -> Result<u64, ScanError> {
    if value < min {
        let bound = match min {
            0 => ">= 0".to_owned(),
            1 => "positive".to_owned(),
            m => format!("at least {m}"),
        };
        return Err(invalid(format!("{name} must be {bound}, got {value}")));
    }
    Ok(value as u64)
}

impl ScanRequest {
    /// The options checked and mapped, without loading rules or opening a store (no I/O): what
    /// a front door that starts the scan later (Node) checks at once. `options.store` is unset.
    pub fn check(&self) -> Result<(ScanOptions, StreamConfig), ScanError> {
        let defaults = ScanOptions::default();
        let mode = match self.mode.as_deref() {
            None => defaults.mode,
            Some(name) => ScanMode::parse(name).ok_or_else(|| {
                invalid(format!(
                    "mode must be \"odb-blob\" or \"diff-history\", got {name:?}"
                ))
            })?,
        };
        let threads = self.threads.unwrap_or(0);
        check_threads(threads)?;
        let size = |name: &str, v: Option<i64>, min: i64, default: u64| match v {
            None => Ok(default),
            Some(v) => at_least(name, v, min),
        };
        let max_blob_bytes = size(
            "max_blob_bytes",
            self.max_blob_bytes,
            0,
            DEFAULT_MAX_BLOB_BYTES,
        )?;
        let memory_budget_bytes = size(
            "memory_budget_bytes",
            self.memory_budget_bytes,
            MIN_MEMORY_BUDGET_BYTES,
            DEFAULT_MEMORY_BUDGET_BYTES,
        )?;
        let chunk_bytes = size(
            "chunk_bytes",
            self.chunk_bytes,
            1,
            DEFAULT_CHUNK_BYTES as u64,
        )?;
        let chunk_bytes = usize::try_from(chunk_bytes)
            .map_err(|_| invalid(format!("chunk_bytes is too large, got {chunk_bytes}")))?;
        let progress_interval = match self.progress_interval_secs {
            None => defaults.progress_interval,
            Some(secs) => Duration::try_from_secs_f64(secs).map_err(|_| {
                invalid(format!(
                    "progress_interval must be >= 0 seconds, got {secs}"
                ))
            })?,
        };
        let defaults_stream = StreamConfig::default();
        // 0 is taken as 1, as ScanStream::start does.
        let stream = StreamConfig {
            batch_events: size(
                "batch_events",
                self.batch_events,
                0,
                defaults_stream.batch_events as u64,
            )?
            .max(1) as usize,
            queue_batches: size(
                "queue_batches",
                self.queue_batches,
                0,
                defaults_stream.queue_batches as u64,
            )?
            .max(1) as usize,
        };
        if let StoreSpec::Location(spec) = &self.store {
            StoreSpec::parse(spec)?;
        }
        let options = ScanOptions {
            mode,
            threads: threads as usize,
            reveal_secrets: self.reveal_secrets,
            max_blob_bytes,
            memory_budget_bytes,
            abort: self.abort.clone(),
            ref_include: self.ref_include.clone(),
            ref_exclude: self.ref_exclude.clone(),
            all_objects: self.all_objects,
            since: self.since.clone(),
            range: self.range.clone(),
            first_parent_only: self.first_parent_only,
            chunk_bytes,
            progress_interval,
            spill_dir: self.spill_dir.clone(),
            store: None,
            repo_id: self.repo_id.clone(),
            keep_secrets: self.keep_secrets,
            ..defaults
        };
        Ok((options, stream))
    }

    /// Resolves the request: the options checked ([`ScanRequest::check`]), then the rules
    /// loaded (before the store is opened, so bad rules never create a store file), then the
    /// store opened. Blocking (file I/O, rules compilation): bindings call it off their main
    /// thread or with their interpreter lock released.
    pub fn resolve(&self) -> Result<Resolved, ScanError> {
        let (mut options, stream) = self.check()?;
        let (engine, warnings) = self.rules.resolve()?;
        options.store = self.store.open()?;
        Ok(Resolved {
            options,
            engine,
            warnings,
            stream,
        })
    }
}
