//! `scangit`: the command-line front door. Parses arguments, builds the engine and options,
//! runs `scangit_core::scan`, and prints events in the chosen format. No scanning logic lives
//! here.
//!
//! Exit codes (contract): 0 no findings, 1 findings, 2 error. Errors are one line on stderr,
//! `scangit: error: <kind>: <message>`.

mod error;
mod output;
mod progress;
mod units;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use scangit_core::request::{StoreLocation, builtin_engine};
use scangit_core::store::SqliteStore;
use scangit_core::store::stored::{replay_summary, stored_to_findings};
use scangit_core::{Outcome, RulesSpec, ScanError, ScanMode, ScanRequest, StoreSpec};

use crate::error::CliError;
use crate::output::{Format, OutputSink, RenderOptions};
use crate::progress::ProgressLine;

const EXIT_CLEAN: u8 = 0;
const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "scangit",
    version,
    about = "Scan every object a git repository ever held for leaked credentials"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan a repository's history. Exit code: 0 no findings, 1 findings, 2 error.
    Scan(ScanArgs),
    /// List the findings recorded in a store (same formats as `scan`). Exit code: 0 none,
    /// 1 some, 2 error.
    Findings(FindingsArgs),
}

#[derive(Args, Debug)]
struct FindingsArgs {
    /// The SQLite store written by `scan --store`.
    #[arg(long, value_name = "FILE.db")]
    store: PathBuf,
    /// Only findings of this repository (as recorded: `--repo-id`, or the git directory's path).
    #[arg(long, value_name = "ID")]
    repo_id: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Include raw secrets (only present when the scans kept them with `--keep-secrets`).
    #[arg(long)]
    reveal_secrets: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModeArg {
    /// Each unique reachable blob once, in pack order.
    OdbBlob,
    /// Per-commit tree diffs.
    DiffHistory,
}

impl From<ModeArg> for ScanMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::OdbBlob => ScanMode::OdbBlob,
            ModeArg::DiffHistory => ScanMode::DiffHistory,
        }
    }
}

#[derive(Args, Debug)]
struct ScanArgs {
    /// Repository to scan (bare, work tree, or `.git` file).
    #[arg(value_name = "REPO")]
    repo: PathBuf,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Scan strategy.
    #[arg(long, value_enum, default_value_t = ModeArg::OdbBlob)]
    mode: ModeArg,
    /// Worker threads; 0 = one per core.
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Rules file (TOML, gitleaks-compatible) instead of the built-in rules.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Refuse a rules file with anything not fully applied or a rule id defined twice (which
    /// otherwise warns, the later definition winning as in gitleaks).
    #[arg(long)]
    strict_rules: bool,
    /// Persist results in a SQLite file and scan incrementally: only commits after the stored
    /// ref watermarks, only blobs not scanned before under the same rules.
    #[arg(long, value_name = "FILE.db")]
    store: Option<PathBuf>,
    /// How the store names this repository (default: the canonical path of its git directory).
    #[arg(long, value_name = "ID", requires = "store")]
    repo_id: Option<String>,
    /// Keep raw secrets in the store (default: fingerprints only).
    #[arg(long, requires = "store")]
    keep_secrets: bool,
    /// Include the raw secret text in the report.
    #[arg(long)]
    reveal_secrets: bool,
    /// Only scan refs matching GLOB (repeatable; e.g. `refs/heads/*`, `HEAD`).
    #[arg(long = "include-ref", value_name = "GLOB")]
    include_ref: Vec<String>,
    /// Skip refs matching GLOB (repeatable).
    #[arg(long = "exclude-ref", value_name = "GLOB")]
    exclude_ref: Vec<String>,
    /// Also scan objects reachable from no ref (dangling, unreachable).
    #[arg(long)]
    all_objects: bool,
    /// Only scan commits not reachable from REV (e.g. `origin/main`, `HEAD~20`, a commit id).
    #[arg(long, value_name = "REV")]
    since: Option<String>,
    /// Only scan the commits of A..B (reachable from B, not from A), e.g. a pushed range.
    #[arg(long, value_name = "A..B")]
    range: Option<String>,
    /// diff-history: diff merge commits against their first parent only.
    #[arg(long)]
    first_parent: bool,
    /// Skip blobs larger than this (bytes; K/M/G suffixes are powers of 1024).
    #[arg(long, value_name = "N", value_parser = parse_size)]
    max_blob_bytes: Option<u64>,
    /// Memory budget for decode caches (bytes; K/M/G suffixes are powers of 1024).
    #[arg(long, value_name = "N", value_parser = parse_size)]
    memory_budget_bytes: Option<u64>,
    /// Never show the progress line (it is only shown when stderr is a terminal anyway).
    #[arg(long)]
    no_progress: bool,
}

/// `4096`, `64K`, `256M`, `1G` (also `KiB`/`MiB`/`GiB`): sizes are easier to type with units.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(digits_end);
    let n: u64 = num.parse().map_err(|_| format!("not a size: {s:?}"))?;
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("unknown size suffix in {s:?} (use K, M or G)")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("size too large: {s:?}"))
}

fn warn(message: &str) {
    eprintln!("scangit: warning: {message}");
}

/// The report's destination (a file, or stdout) and how to render it: colour only for text on a
/// terminal, and never under `NO_COLOR`.
fn open_output(
    output: Option<&PathBuf>,
    format: Format,
    reveal_secrets: bool,
) -> Result<(Box<dyn Write + Send>, String, RenderOptions), CliError> {
    let stdout_tty = output.is_none() && io::stdout().is_terminal();
    let (writer, target): (Box<dyn Write + Send>, String) = match output {
        Some(path) => {
            let file = File::create(path).map_err(|source| CliError::CreateOutput {
                path: path.clone(),
                source,
            })?;
            (Box::new(BufWriter::new(file)), path.display().to_string())
        }
        None => (Box::new(BufWriter::new(io::stdout())), "stdout".to_owned()),
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let render = RenderOptions {
        reveal_secrets,
        color: format == Format::Text && stdout_tty && !no_color,
    };
    Ok((writer, target, render))
}

/// A size from the command line as the request's signed count (anything past `i64::MAX` bytes
/// is unlimited in practice).
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The scan the arguments ask for, as core's one request type.
fn scan_request(args: &ScanArgs) -> ScanRequest {
    ScanRequest {
        mode: Some(ScanMode::from(args.mode).as_str().to_owned()),
        threads: Some(i64::try_from(args.threads).unwrap_or(i64::MAX)),
        rules: RulesSpec::from_options(args.rules.clone(), args.strict_rules),
        store: args
            .store
            .as_ref()
            .map_or(StoreSpec::None, StoreSpec::location),
        reveal_secrets: args.reveal_secrets,
        max_blob_bytes: args.max_blob_bytes.map(count),
        memory_budget_bytes: args.memory_budget_bytes.map(count),
        ref_include: args.include_ref.clone(),
        ref_exclude: args.exclude_ref.clone(),
        all_objects: args.all_objects,
        since: args.since.clone(),
        range: args.range.clone(),
        first_parent_only: args.first_parent,
        repo_id: args.repo_id.clone(),
        keep_secrets: args.keep_secrets,
        ..ScanRequest::default()
    }
}

fn scan_command(args: ScanArgs) -> Result<output::Finished, CliError> {
    let resolved = scan_request(&args).resolve()?;
    for w in &resolved.warnings {
        warn(&format!("rules {w}"));
    }

    let stdout_tty = args.output.is_none() && io::stdout().is_terminal();
    // Opened before scanning so a bad path fails in a second, not after a long scan.
    let (writer, target, render) =
        open_output(args.output.as_ref(), args.format, args.reveal_secrets)?;
    // jsonl streaming to the same terminal would interleave with the progress line; the lines
    // themselves show progress then.
    let show_progress = !args.no_progress
        && io::stderr().is_terminal()
        && !(args.format == Format::Jsonl && stdout_tty);
    let progress = show_progress.then(ProgressLine::new);

    let sink = OutputSink::new(args.format, render, writer, target, progress);
    let result = scangit_core::scan(&args.repo, &resolved.options, &resolved.engine, &sink);
    let finished = sink.finish(result)?;

    // Machine formats keep stdout clean; say on stderr that the result has gaps. (The text
    // report on a terminal already says so in its summary line.)
    if finished.outcome == Outcome::Partial && !(args.format == Format::Text && stdout_tty) {
        warn("the scan is partial: some objects were skipped (see the summary's `skipped`)");
    }
    Ok(finished)
}

/// Clap's own errors, reworded into our one-line-prefix convention. Help and version are not
/// errors and keep clap's behaviour.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    if matches!(
        e.kind(),
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() {
            EXIT_ERROR
        } else {
            EXIT_CLEAN
        });
    }
    let rendered = e.render().to_string();
    let message = rendered.trim_start_matches("error: ").trim_end();
    eprintln!(
        "scangit: error: {}: {message}",
        scangit_core::ErrorKind::InvalidArgument.as_str()
    );
    ExitCode::from(EXIT_ERROR)
}

fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match cli.command {
        Command::Scan(args) => exit_code(scan_command(args)),
        Command::Findings(args) => exit_code(findings_command(args)),
    }
}

fn exit_code(r: Result<output::Finished, CliError>) -> ExitCode {
    match r {
        Ok(f) if f.findings > 0 => ExitCode::from(EXIT_FINDINGS),
        Ok(_) => ExitCode::from(EXIT_CLEAN),
        Err(e) => {
            eprintln!("scangit: error: {}: {e}", e.kind());
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Replay the stored findings through the same output formats as a scan.
fn findings_command(args: FindingsArgs) -> Result<output::Finished, CliError> {
    use scangit_core::events::Event;
    // The same store specs as `scan --store` (`FILE.db`, `sqlite:PATH`).
    let StoreLocation::Sqlite(path) = StoreSpec::parse(args.store.as_os_str())?;
    if !path.is_file() {
        return Err(CliError::from(ScanError::Store(format!(
            "{}: no such store file",
            path.display()
        ))));
    }
    let store = SqliteStore::open(&path).map_err(ScanError::from)?;
    let rows = store
        .stored_findings(args.repo_id.as_deref())
        .map_err(ScanError::from)?;
    // Descriptions of built-in rules; a custom rules file's ids are shown without one.
    let builtin = builtin_engine().ok();
    let findings = stored_to_findings(rows, builtin.as_deref(), args.reveal_secrets);
    let (writer, target, render) =
        open_output(args.output.as_ref(), args.format, args.reveal_secrets)?;
    let sink = OutputSink::new(args.format, render, writer, target, None);
    for finding in &findings {
        scangit_core::EventSink::event(&sink, Event::Finding(finding));
    }
    let summary = replay_summary(findings.len() as u64);
    sink.finish(Ok(scangit_core::ScanReport { summary }))
}

/// Replaces Rust's default panic output (message, backtrace or backtrace hint) with one clear
/// line. No backtrace even under RUST_BACKTRACE: CI environments often set it globally, and
/// file:line is enough to find the bug.
fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // A progress line may be showing; start the message on a clean line.
        let clear = if io::stderr().is_terminal() {
            "\r\x1b[2K"
        } else {
            ""
        };
        eprintln!(
            "{clear}scangit: error: internal: unexpected failure{at}: {message} (this is a bug in scangit; please report it)"
        );
    }));
}

fn main() -> ExitCode {
    install_panic_hook();
    // The hook has already explained the panic; all that is left is the contract's exit code.
    panic::catch_unwind(AssertUnwindSafe(run)).unwrap_or(ExitCode::from(EXIT_ERROR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("1T").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn args_map_to_options() {
        let cli = Cli::try_parse_from([
            "scangit",
            "scan",
            "repo",
            "--format",
            "sarif",
            "--mode",
            "diff-history",
            "--include-ref",
            "refs/heads/*",
            "--include-ref",
            "HEAD",
            "--exclude-ref",
            "refs/tags/*",
            "--max-blob-bytes",
            "1M",
            "--threads",
            "3",
        ])
        .unwrap();
        let Command::Scan(args) = cli.command else {
            panic!("parsed as scan")
        };
        assert_eq!(args.format, Format::Sarif);
        assert_eq!(ScanMode::from(args.mode), ScanMode::DiffHistory);
        assert_eq!(args.include_ref, vec!["refs/heads/*", "HEAD"]);
        assert_eq!(args.exclude_ref, vec!["refs/tags/*"]);
        assert_eq!(args.max_blob_bytes, Some(1 << 20));
        assert_eq!(args.threads, 3);
        let options = scan_request(&args).check().unwrap().0;
        assert_eq!(options.mode, ScanMode::DiffHistory);
        assert_eq!(options.max_blob_bytes, 1 << 20);
        assert_eq!(options.threads, 3);
        assert_eq!(options.ref_include, vec!["refs/heads/*", "HEAD"]);
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
