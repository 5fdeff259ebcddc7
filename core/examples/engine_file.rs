//! Engine throughput on one file, in 1 MiB windows, one thread:
//! `cargo run --release -p scangit-core --example engine_file -- FILE [RULES.toml]`.
//! Prints MB/s and the number of matches per rule (top 10); for profiling the prefilter on
//! real history (e.g. a slice of `git cat-file --batch-all-objects --batch` output).
//! `SCANGIT_CONFIRM_ALONE=1` confirms every keyword hit with its own search (the reference).

use std::collections::BTreeMap;
use std::time::Instant;

use scangit_core::engine::Engine;
use scangit_core::rules::RuleSet;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: engine_file FILE [RULES.toml]");
    let data = std::fs::read(&path).expect("read FILE");
    let mut engine = match args.next() {
        Some(r) => Engine::new(&RuleSet::from_path(r.as_ref()).expect("rules").0).expect("compile"),
        None => Engine::builtin().expect("built-in rules"),
    };
    if std::env::var_os("SCANGIT_CONFIRM_ALONE").is_some() {
        // The reference: every keyword hit confirmed by its own search.
        engine.confirm_each_hit_alone();
    }
    let window = 1 << 20;
    let mut scratch = engine.new_scratch();
    let mut out = Vec::new();
    let mut per_rule: BTreeMap<String, u64> = BTreeMap::new();
    let t = Instant::now();
    for start in (0..data.len()).step_by(window) {
        let end = (start + window).min(data.len());
        out.clear();
        engine.scan(&data[start..end], 0..end - start, &mut scratch, &mut out);
        for m in &out {
            *per_rule
                .entry(engine.rule_id(m.rule).to_owned())
                .or_default() += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} rules, {:.1} MB in {:.3} s: {:.1} MB/s",
        engine.rule_count(),
        data.len() as f64 / 1e6,
        secs,
        data.len() as f64 / 1e6 / secs
    );
    let mut top: Vec<_> = per_rule.into_iter().collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    for (rule, n) in top.iter().take(10) {
        println!("{n:>8} {rule}");
    }
}
