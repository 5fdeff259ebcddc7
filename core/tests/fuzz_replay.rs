//! Replays the fuzz targets on stable (`fuzz/harness`, the same code the libFuzzer binaries
//! run): every input of the regression corpus `fuzz/regressions/TARGET/` (crashes the fuzzer
//! found, kept after their fix), then each target's seeds and a few hundred deterministic
//! mutations of them. A failure names the target and the input (written to a file for the
//! generated ones, so `cargo fuzz run TARGET FILE` reproduces it).

#[path = "../../fuzz/harness/mod.rs"]
mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs `input` through `target`; on a panic, keeps the input in a temporary file and fails
/// naming it.
fn run(target: &str, input: &[u8], what: &str) {
    let f = harness::target(target);
    if catch_unwind(AssertUnwindSafe(|| f(input))).is_err() {
        let keep = std::env::temp_dir().join(format!("scangit-fuzz-{target}-{}.bin", input.len()));
        std::fs::write(&keep, input).unwrap();
        panic!(
            "fuzz target {target} failed on {what} (input kept at {})",
            keep.display()
        );
    }
}

/// How many mutations per seed a target gets: repository targets cost a scan each.
fn mutations(target: &str) -> usize {
    let heavy = matches!(target, "pack_files" | "loose" | "repo_files" | "scan_repo");
    match (heavy, cfg!(debug_assertions)) {
        (true, true) => 10,
        (true, false) => 60,
        (false, true) => 100,
        (false, false) => 600,
    }
}

fn replay(target: &str) {
    for file in regressions(target) {
        let input = std::fs::read(&file).unwrap();
        run(target, &input, &file.display().to_string());
    }
    let seeds = harness::seeds(target);
    // `fuzz/run` asks for the seeds as files, to start each fuzzer's corpus from them.
    if let Some(dir) = std::env::var_os("SCANGIT_FUZZ_SEEDS_DIR") {
        let dir = Path::new(&dir).join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), seed).unwrap();
        }
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ target.len() as u64;
    for (i, seed) in seeds.iter().enumerate() {
        run(target, seed, &format!("seed {i}"));
        for m in 0..mutations(target) {
            let input = harness::mutate(seed, &mut state);
            run(target, &input, &format!("mutation {m} of seed {i}"));
        }
    }
}

macro_rules! replay_tests {
    ($($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )*
        /// Every harness target has its replay test here.
        #[test]
        fn every_target_is_replayed() {
            let here = [$(stringify!($name)),*];
            for (name, _) in harness::TARGETS {
                assert!(here.contains(name), "{name} has no replay test");
            }
        }
    };
}

replay_tests!(
    delta,
    tree,
    objects,
    extract,
    engine_windows,
    rules,
    pack_files,
    loose,
    repo_files,
    scan_repo
);
