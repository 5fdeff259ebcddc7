//! Checks rules files against their own examples, reading them at run time (no rebuild while
//! rules are being written):
//! `cargo run --release -p scangit-core --example rules_check -- [FILE...]`.
//! The files are joined in the order given (each followed by a newline) and parsed as one; with
//! no FILE, the built-in files are read from `core/rules/` in their joined order. Prints the
//! warnings, the failures (one per line) and a count; exits 1 when anything failed.

use scangit_core::detect::examples;
use scangit_core::engine::Engine;
use scangit_core::rules::{BUILTIN_FILES, RuleSet};

fn main() {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        files = BUILTIN_FILES.iter().map(|f| format!("{dir}/{f}")).collect();
    }
    let mut text = String::new();
    for f in &files {
        let part = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        text.push_str(&part);
        text.push('\n');
    }
    let (set, warnings) = match RuleSet::from_toml_str(&text, "joined rules") {
        Ok(x) => x,
        Err(e) => {
            // Lines count through the joined text; name the file the line falls in.
            eprintln!("{e}");
            eprintln!("(files joined in order: {files:?})");
            std::process::exit(1);
        }
    };
    for w in &warnings {
        println!("warning: {w}");
    }
    let engine = match Engine::new(&set) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let failures = examples::check(&set, &engine);
    for f in &failures {
        println!("FAIL {f}");
    }
    let with_path = set.rules().iter().filter(|r| r.path.is_some()).count();
    println!(
        "{} rules ({} with a path), {} warnings, {} failures",
        set.rules().len(),
        with_path,
        warnings.len(),
        failures.len()
    );
    if !failures.is_empty() || !warnings.is_empty() {
        std::process::exit(1);
    }
}
