//! Detection: what a secret is, and how bytes are searched for one. Knows nothing of git.
//!
//! - [`rules`]: the rules file format (ours, gitleaks- and betterleaks-compatible) and the
//!   built-in set.
//! - [`engine`]: rules compiled into a keyword prefilter plus regex confirmation, with
//!   base64/percent decoding and filters.
//! - [`content`] and [`extract`]: which bytes are text (sniffed by `extract::sniff`), and text
//!   pulled out of known binary formats (class files, `.pyc`, notebooks, archives: zip, tar,
//!   gzip, bzip2, xz, nested).
//! - [`adapter`]: the EngineAdapter and RingChunker, feeding a blob to the engine in
//!   overlap-safe windows.
//! - [`fingerprint`]: keyed, stable fingerprints of secrets.
//! - [`examples`]: checking a rule set against its own examples (positive, negative, paths).
//!
//! Imports point one way: `rules` depends on nothing else here, `engine` on `rules`, `adapter`
//! on `engine`; `extract` on nothing above it, `content` on `extract`.

pub mod adapter;
pub mod content;
pub mod engine;
pub mod examples;
pub mod extract;
pub mod fingerprint;
pub mod rules;
