//! Times the open, commit-walk and plan stages on a repository (development probe):
//! `cargo run --release -p scangit-core --example plan_probe -- REPO [threads]`.
use std::time::Instant;

use scangit_core::git::odb::{Odb, ReadScratch};
use scangit_core::git::pack_walk::PackTable;
use scangit_core::git::{commits, repo::RepoLayout};
use scangit_core::scan::modes as plan;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: plan_probe REPO [threads]");
    let threads: usize = std::env::args()
        .nth(2)
        .map(|t| t.parse().expect("a number"))
        .unwrap_or(2);
    let t0 = Instant::now();
    let layout = RepoLayout::open(path.as_ref()).expect("a repository");
    let refs = layout.refs().expect("refs");
    let odb = Odb::open(&layout).expect("objects");
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
    let tables: Vec<_> = odb.packs.iter().map(PackTable::build).collect();
    let t_tables = Instant::now();
    let known = commits::bulk_read(&odb, &tables, threads, &|| false).expect("bulk read");
    eprintln!(
        "bulk read {:?} ({} commits)",
        t_tables.elapsed(),
        known.len()
    );
    let (graph, problems) = commits::load(
        &odb,
        &commits::Selection {
            tips: &tips,
            exclude: &[],
            shallow: &Default::default(),
            exact: true,
        },
        commits::HeaderSource::from_map(known),
        &mut s,
        &|| false,
    )
    .expect("walk");
    let t2 = Instant::now();
    let p = plan::plan_odb_blob(
        &odb,
        &graph,
        plan::ExtraRoots::default(),
        plan::PlanLimits {
            threads,
            cache_bytes: 256 << 20,
            object_limit: u64::MAX,
        },
        &|| false,
    )
    .expect("plan");
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
        "open {:?} tables {:?} commits {:?} plan {:?}",
        t1 - t0,
        t_tables - t1,
        t2 - t_tables,
        t3 - t2
    );
}
