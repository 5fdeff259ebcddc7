//! The detection engine. PLACEHOLDER: replaced by the engine/rules work; the API is fixed.

use std::ops::Range;

use crate::rules::{RuleSet, RulesError};

pub struct Engine {}

#[derive(Default)]
pub struct Scratch {}

#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub rule: u32,
    pub start: usize,
    pub end: usize,
    pub secret: Vec<u8>,
    pub decoded_from: Vec<&'static str>,
    pub confidence: f32,
}

impl Engine {
    pub fn new(_rules: &RuleSet) -> Result<Engine, RulesError> {
        Ok(Engine {})
    }
    pub fn builtin() -> Result<Engine, RulesError> {
        Self::new(&RuleSet::builtin())
    }
    pub fn context_bytes(&self) -> usize {
        4096
    }
    pub fn rules_hash(&self) -> [u8; 32] {
        [0; 32]
    }
    pub fn rule_count(&self) -> usize {
        0
    }
    pub fn rule_id(&self, _rule: u32) -> &str {
        ""
    }
    pub fn rule_description(&self, _rule: u32) -> &str {
        ""
    }
    pub fn new_scratch(&self) -> Scratch {
        Scratch {}
    }
    pub fn scan(&self, _hay: &[u8], _owned: Range<usize>, _scratch: &mut Scratch, _out: &mut Vec<Match>) {}
}
