//! Engine throughput on real text: `cargo bench -p scangit-core --bench engine`.
//!
//! Reads source and documentation files (default: the Python standard library and /usr/share/doc,
//! override with `SCANGIT_BENCH_DIRS=dir1:dir2`) up to `SCANGIT_BENCH_MB` (default 200) MB,
//! concatenates them into 1 MiB windows and reports MB/s of `Engine::scan` with the builtin rules
//! on one thread.

use std::path::{Path, PathBuf};
use std::time::Instant;

use scangit_core::engine::Engine;

fn collect(dir: &Path, out: &mut Vec<u8>, limit: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if out.len() >= limit {
            return;
        }
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            collect(&p, out, limit);
        } else if meta.is_file()
            && meta.len() < (8 << 20)
            && let Ok(data) = std::fs::read(&p)
            && !data[..data.len().min(8192)].contains(&0)
        {
            out.extend_from_slice(&data);
        }
    }
}

fn main() {
    let limit = std::env::var("SCANGIT_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200usize)
        << 20;
    let dirs = std::env::var("SCANGIT_BENCH_DIRS")
        .unwrap_or_else(|_| "/usr/lib/python3:/usr/share/doc:/usr/include:/usr/share".into());
    let mut corpus = Vec::new();
    for d in dirs.split(':') {
        let mut base = PathBuf::from(d);
        if !base.exists() && d == "/usr/lib/python3" {
            // e.g. /usr/lib/python3.12
            if let Ok(rd) = std::fs::read_dir("/usr/lib")
                && let Some(p) = rd.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("python3."))
                })
            {
                base = p;
            }
        }
        collect(&base, &mut corpus, limit);
    }
    let unique = corpus.len();
    while corpus.len() < limit && unique > 0 {
        let extra = unique.min(limit - corpus.len());
        corpus.extend_from_within(..extra);
    }
    if corpus.is_empty() {
        eprintln!("no corpus found");
        return;
    }
    let engine = Engine::builtin().expect("builtin rules");
    let mut scratch = engine.new_scratch();
    let c = engine.context_bytes();
    let window = 1 << 20;
    let mut out = Vec::new();
    for round in 0..3 {
        out.clear();
        let t = Instant::now();
        let mut p = 0;
        while p < corpus.len() {
            let q = (p + window).min(corpus.len());
            let a = p.saturating_sub(c);
            let b = (q + c).min(corpus.len());
            engine.scan(&corpus[a..b], p - a..q - a, &mut scratch, &mut out);
            p = q;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "round {round}: {:.0} MB ({:.0} MB unique) in {:.3}s = {:.0} MB/s, {} findings",
            corpus.len() as f64 / 1e6,
            unique as f64 / 1e6,
            secs,
            corpus.len() as f64 / 1e6 / secs,
            out.len()
        );
    }
}
