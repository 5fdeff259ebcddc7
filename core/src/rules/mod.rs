//! Rule definitions: parsing and validating the TOML rules format (gitleaks-compatible).
//! PLACEHOLDER: replaced by the engine/rules work.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{0}")]
    Invalid(String),
}

#[derive(Clone, Debug)]
pub struct RulesWarning {
    pub rule_id: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct RuleSet {}

impl RuleSet {
    pub fn builtin() -> RuleSet {
        RuleSet {}
    }
    pub fn from_toml_str(_text: &str, _origin: &str) -> Result<(RuleSet, Vec<RulesWarning>), RulesError> {
        Ok((RuleSet {}, Vec::new()))
    }
    pub fn from_path(path: &Path) -> Result<(RuleSet, Vec<RulesWarning>), RulesError> {
        let text = std::fs::read_to_string(path).map_err(|e| RulesError::Invalid(format!("{}: {e}", path.display())))?;
        Self::from_toml_str(&text, &path.display().to_string())
    }
}
