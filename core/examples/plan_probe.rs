//! Times the open, commit-walk and plan stages on a repository (development probe).
use std::time::Instant;

use scangit_core::odb::{Odb, ReadScratch};
use scangit_core::{commits, plan, repo::RepoLayout};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: plan_probe REPO [threads]");
    let threads: usize = std::env::args()
        .nth(2)
        .map(|t| t.parse().unwrap())
        .unwrap_or(2);
    let t0 = Instant::now();
    let layout = RepoLayout::open(path.as_ref()).unwrap();
    let refs = layout.refs().unwrap();
    let odb = Odb::open(&layout).unwrap();
    let t1 = Instant::now();
    let mut s = ReadScratch::new(64 << 20, u64::MAX);
    let mut buf = Vec::new();
    let mut tips = Vec::new();
    for r in &refs {
        if let Ok((id, gix_object::Kind::Commit)) = commits::peel(&odb, r.target, &mut s, &mut buf)
        {
            tips.push(id);
        }
    }
    tips.sort();
    tips.dedup();
    let (graph, problems) =
        commits::load(&odb, &tips, &Default::default(), &mut s, &|| false).unwrap();
    let t2 = Instant::now();
    let p = plan::plan_odb_blob(
        &odb,
        &graph,
        &[],
        &[],
        threads,
        256 << 20,
        u64::MAX,
        &|| false,
    )
    .unwrap();
    let t3 = Instant::now();
    println!(
        "refs {} tips {} commits {} problems {} | blobs {} trees_read {} plan_problems {}",
        refs.len(),
        tips.len(),
        graph.len(),
        problems.len(),
        p.blobs.len(),
        p.trees_read,
        p.problems.len()
    );
    println!(
        "open {:?} commits {:?} plan {:?} applies {} full_parses {}",
        t1 - t0,
        t2 - t1,
        t3 - t2,
        scangit_core::odb::DEBUG_APPLIES.load(std::sync::atomic::Ordering::Relaxed),
        scangit_core::odb::DEBUG_PARSES.load(std::sync::atomic::Ordering::Relaxed)
    );
}
