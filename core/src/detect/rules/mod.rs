//! Rule definitions: the gitleaks-compatible TOML rules format, parsed and validated.
//!
//! A [`RuleSet`] is plain data (ids, regex sources, allowlists, our extra keys) that has been
//! checked: every regex parses, ids are unique, secret groups and enum-like fields are valid. It
//! is not compiled; the engine (`detect::engine`, which depends on this module and not the other
//! way round) does that. Anything in the file that we do not apply becomes a [`RulesWarning`]
//! naming it, never silently ignored. Path and commit allowlists are kept here for the runner,
//! which knows paths and commits; the engine only sees bytes. Nothing here depends on another
//! part of `detect`.
//!
//! Keys are read case-insensitively, as gitleaks (viper) reads them: `[allowList]` is
//! `[allowlist]`. Betterleaks' CEL expressions (a rule's `filter`, the top-level `filter` and
//! `prefilter`) are translated where they have an exact equivalent (entropy thresholds and
//! allowlists, see `filter`); the rest of them is named in warnings.

mod filter;
mod parse;

pub use parse::{MAX_PATTERN_BYTES, MAX_RULES_FILE_BYTES};
pub(crate) use parse::{check_pattern_size, one_line_regex_error};

use std::path::Path;

/// Why a rules file was rejected. Messages name the origin, the line and the rule id when known.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{origin}: cannot read rules file: {source}")]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: line {line}: invalid TOML: {message}")]
    Toml {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("{origin}: line {line}: rule {rule}: missing required field `{field}`")]
    MissingField {
        origin: String,
        line: usize,
        rule: String,
        field: &'static str,
    },
    #[error("{origin}: line {line}: {}field `{field}`: {message}", rule_prefix(.rule))]
    BadField {
        origin: String,
        line: usize,
        rule: Option<String>,
        field: String,
        message: String,
    },
    #[error("{origin}: line {line}: {}invalid regex in `{field}`: {message}", rule_prefix(.rule))]
    BadRegex {
        origin: String,
        line: usize,
        rule: Option<String>,
        field: String,
        message: String,
    },
    /// Loading in strict mode ([`LoadOptions::strict`]): something the file has would not be
    /// (fully) applied, or a rule id is defined twice. The message is the warning's own.
    #[error("{origin}: {}{message} (strict rules: every warning is an error)", rule_prefix(.rule))]
    Strict {
        origin: String,
        rule: Option<String>,
        message: String,
    },
}

fn rule_prefix(rule: &Option<String>) -> String {
    match rule {
        Some(id) => format!("rule {id}: "),
        None => String::new(),
    }
}

/// Something in a rules file that was accepted but is not (fully) applied, or that gitleaks
/// accepts silently and we do not (a rule id defined twice).
#[derive(Clone, Debug, PartialEq)]
pub struct RulesWarning {
    /// The file it is in (a path, or "builtin.toml"): an `[extend]`ed file names itself.
    pub origin: String,
    pub rule_id: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RulesWarning {
    /// `origin: rule ID: message`, the form every front door prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}{}",
            self.origin,
            rule_prefix(&self.rule_id),
            self.message
        )
    }
}

/// How a rules file is loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Every warning is an error ([`RulesError::Strict`]): for checking a rules file in CI, or
    /// refusing a gitleaks config whose rule ids collide instead of letting the later win.
    pub strict: bool,
}

/// How the criteria of one allowlist combine (gitleaks `condition`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AllowCondition {
    /// Any one criterion suppresses the finding (gitleaks default).
    #[default]
    Or,
    /// Every criterion present must hold.
    And,
}

/// What an allowlist regex is matched against (gitleaks `regexTarget`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RegexTarget {
    #[default]
    Secret,
    Match,
    Line,
}

/// One allowlist, per rule or global.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Allowlist {
    pub description: Option<String>,
    pub condition: AllowCondition,
    pub regexes: Vec<String>,
    pub regex_target: RegexTarget,
    /// Lowercased; a finding whose secret contains one (case-insensitively) is suppressed.
    pub stopwords: Vec<String>,
    /// Path regexes: applied by the runner (the engine has no paths).
    pub paths: Vec<String>,
    /// Commit ids: applied by the runner (the engine has no commits).
    pub commits: Vec<String>,
    /// For global allowlists: only these rule ids (empty = all rules).
    pub target_rules: Vec<String>,
}

impl Allowlist {
    /// True when this allowlist has criteria only the runner can evaluate (paths, commits).
    pub fn needs_location(&self) -> bool {
        !self.paths.is_empty() || !self.commits.is_empty()
    }
    /// True when it has criteria the engine evaluates on bytes (regexes, stopwords).
    pub fn has_content_criteria(&self) -> bool {
        !self.regexes.is_empty() || !self.stopwords.is_empty()
    }
}

/// Extra validation of a secret's own structure (our extension, key `checksum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    /// GitHub tokens (and npm tokens, which use the same scheme): `<prefix>_` + 30 base62
    /// chars + base62 CRC32 of those 30 (6 chars).
    GithubCrc32,
}

/// What a failing checksum does to a match (our extension, key `checksum_failure`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ChecksumFailure {
    /// Report with lowered confidence (a look-alike or a hand-made test value).
    #[default]
    Lower,
    /// Do not report.
    Reject,
}

/// Extra shape requirements on the secret (our extension, key `shape`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The secret must look machine-generated: at least three character classes (or two with
    /// letters and digits and length >= 16), and not a phrase of words such as `X-Token-Auth`.
    Random,
}

/// One rule, as written in the file (keywords lowercased).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub id: String,
    pub description: String,
    /// `None` for path-only rules: a blob whose path matches `path` is itself the finding.
    pub regex: Option<String>,
    pub secret_group: Option<usize>,
    /// A match whose secret has this Shannon entropy (bits per byte) or less is dropped, as in
    /// gitleaks (the engine tests `entropy <= max`). Betterleaks'
    /// `filter = 'entropy(finding["secret"]) < N'` is stored as `N.next_down()`, which drops
    /// exactly the secrets with entropy `< N`.
    pub entropy: Option<f64>,
    pub keywords: Vec<String>,
    /// Path regex (gitleaks `path`): applied by the runner.
    pub path: Option<String>,
    pub tags: Vec<String>,
    pub allowlists: Vec<Allowlist>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    /// Paths `path` must match (our extension): a rule with `path` scans its `examples` as
    /// blobs at the first of them; for a path-only rule they are the examples.
    pub path_examples: Vec<String>,
    /// Paths `path` must not match (our extension).
    pub path_negative_examples: Vec<String>,
    pub confidence: Option<f32>,
    /// Cap on the match length for regexes without a bounded maximum length.
    pub max_len: Option<usize>,
    pub checksum: Option<Checksum>,
    pub checksum_failure: ChecksumFailure,
    pub shape: Option<Shape>,
    /// 1-based line of the rule's table in its origin.
    pub line: usize,
}

/// Parsed and validated rules. Cheap to clone; compiled by the engine's `Engine::new`.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    origin: String,
    title: Option<String>,
    rules: Vec<Rule>,
    allowlists: Vec<Allowlist>,
    /// The built-in set, whose every regex a test builds: the engine may then build each
    /// rule's regex when it is first needed, since none can fail (see `Engine::new`).
    pub(crate) prebuilt_ok: bool,
}

/// The files of the built-in rules in `core/rules/`, in the order they are joined: the first
/// holds the title and the global allowlist, the others only `[[rules]]` tables.
pub const BUILTIN_FILES: [&str; 5] = [
    "builtin.toml",
    "files-config.toml",
    "files-tools.toml",
    "providers-infra.toml",
    "providers-apps.toml",
];

/// The built-in rules (embedded at build time): the [`BUILTIN_FILES`] joined, each followed by
/// a newline.
pub const BUILTIN: &str = concat!(
    include_str!("../../../rules/builtin.toml"),
    "\n",
    include_str!("../../../rules/files-config.toml"),
    "\n",
    include_str!("../../../rules/files-tools.toml"),
    "\n",
    include_str!("../../../rules/providers-infra.toml"),
    "\n",
    include_str!("../../../rules/providers-apps.toml"),
    "\n",
);

/// Two sets are equal when their rules are: how the engine may build them is not compared.
impl PartialEq for RuleSet {
    fn eq(&self, other: &Self) -> bool {
        (&self.origin, &self.title, &self.rules, &self.allowlists)
            == (&other.origin, &other.title, &other.rules, &other.allowlists)
    }
}

impl RuleSet {
    /// The built-in rules. A test proves the file parses and every example behaves, so the
    /// fallback (an empty set) is unreachable in a released build; we never panic here.
    pub fn builtin() -> RuleSet {
        match Self::from_toml_str(BUILTIN, "builtin.toml") {
            Ok((set, _)) => RuleSet {
                prebuilt_ok: true,
                ..set
            },
            Err(_) => RuleSet {
                origin: "builtin.toml".into(),
                ..RuleSet::default()
            },
        }
    }

    /// Parses and validates `text`; `origin` names it in messages (a path or "builtin.toml").
    pub fn from_toml_str(
        text: &str,
        origin: &str,
    ) -> Result<(RuleSet, Vec<RulesWarning>), RulesError> {
        parse::parse(text, origin)
    }

    /// Parses the file at `path`. An `[extend] path` in it is resolved against the file's
    /// directory first, then the current directory (gitleaks resolves it against the latter).
    pub fn from_path(path: &Path) -> Result<(RuleSet, Vec<RulesWarning>), RulesError> {
        parse::parse_file(path, 0)
    }

    /// Loads the file at `path`, or the built-in rules when `path` is `None`, per `options`:
    /// the one entry point of the CLI and the bindings.
    pub fn load(
        path: Option<&Path>,
        options: LoadOptions,
    ) -> Result<(RuleSet, Vec<RulesWarning>), RulesError> {
        let (set, warnings) = match path {
            Some(p) => Self::from_path(p)?,
            None => Self::from_toml_str(BUILTIN, "builtin.toml")?,
        };
        let mut rest = warnings.into_iter();
        match rest.next() {
            Some(w) if options.strict => Err(RulesError::Strict {
                origin: w.origin,
                rule: w.rule_id,
                message: w.message,
            }),
            first => Ok((set, first.into_iter().chain(rest).collect())),
        }
    }

    /// Where the rules came from (a path or "builtin.toml").
    pub fn origin(&self) -> &str {
        &self.origin
    }
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
    /// Global allowlists (`[allowlist]` and `[[allowlists]]`), in file order.
    pub fn allowlists(&self) -> &[Allowlist] {
        &self.allowlists
    }
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}
