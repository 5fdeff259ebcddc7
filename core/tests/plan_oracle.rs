//! The plan (first-parent diffs with byte-level skipping) must equal a brute-force walk: for
//! every commit in topological order, every blob of its full tree, keeping the earliest commit
//! and the smallest path. The oracle lists trees with `git ls-tree -r`, independent of our code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use scangit_core::git::odb::{Odb, ReadScratch};
use scangit_core::git::pack_walk::PackTable;
use scangit_core::git::{commits, repo::RepoLayout};
use scangit_core::scan::modes as plan;

fn corpus_script() -> PathBuf {
    std::env::var_os("SCANGIT_CORPUS_SCRIPT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/make_repo.py")
        })
}

fn make_repo(dir: &Path, args: &[&str]) -> PathBuf {
    let out = dir.join("repo.git");
    let st = Command::new("python3")
        .arg(corpus_script())
        .args(args)
        .arg("--out")
        .arg(&out)
        .status()
        .expect("python3 runs");
    assert!(st.success());
    out
}

fn check(repo: &Path, threads: usize) {
    let layout = RepoLayout::open(repo).unwrap();
    let odb = Odb::open(&layout).unwrap();
    let mut s = ReadScratch::new(16 << 20, u64::MAX);
    let mut buf = Vec::new();
    let mut tips: Vec<_> = layout
        .refs()
        .unwrap()
        .iter()
        .filter_map(|r| match commits::peel(&odb, r.target, &mut s, &mut buf) {
            Ok((id, gix_object::Kind::Commit)) => Some(id),
            _ => None,
        })
        .collect();
    tips.sort();
    tips.dedup();
    let tables: Vec<_> = odb.packs.iter().map(PackTable::build).collect();
    let known = commits::bulk_read(&odb, &tables, threads, &|| false).unwrap();
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
    .unwrap();
    assert!(problems.is_empty());
    // A small cache forces evictions, exercising rebuilt tree bounds.
    let p = plan::plan_odb_blob(
        &odb,
        &graph,
        plan::ExtraRoots::default(),
        plan::PlanLimits {
            threads,
            cache_bytes: 1 << 20,
            object_limit: u64::MAX,
        },
        &|| false,
    )
    .unwrap();
    assert!(p.problems.is_empty());

    let mut oracle: HashMap<String, (u32, Vec<u8>)> = HashMap::new();
    for (i, id) in graph.ids.iter().enumerate() {
        let out = Command::new("git")
            .args(["-C"])
            .arg(repo)
            .args(["ls-tree", "-r", "-z", &id.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success());
        for rec in out.stdout.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let tab = rec.iter().position(|&b| b == b'\t').unwrap();
            let meta: Vec<&[u8]> = rec[..tab].split(|&b| b == b' ').collect();
            if meta[1] != b"blob" {
                continue;
            }
            let blob = String::from_utf8(meta[2].to_vec()).unwrap();
            let path = rec[tab + 1..].to_vec();
            let cand = (i as u32, path);
            match oracle.get(&blob) {
                Some(cur) if *cur <= cand => {}
                _ => {
                    oracle.insert(blob, cand);
                }
            }
        }
    }
    assert_eq!(p.blobs.len(), oracle.len(), "same reachable blob set size");
    for b in &p.blobs {
        let want = oracle
            .get(&b.id.to_string())
            .unwrap_or_else(|| panic!("{} not reachable per git", b.id));
        assert_eq!(
            (b.commit, &b.path[..]),
            (want.0, &want.1[..]),
            "attribution of {}",
            b.id
        );
    }
}

#[test]
fn plan_equals_brute_force_walk_on_generated_histories() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for seed in ["1", "2"] {
        let repo = make_repo(dir, &["--preset", "tiny", "--seed", seed]);
        check(&repo, 1);
        check(&repo, 2);
    }
    // More commits, merges and renames, fewer files: many diffs against cached trees.
    let repo = make_repo(
        dir,
        &[
            "--commits",
            "400",
            "--files",
            "40",
            "--secrets",
            "20",
            "--seed",
            "5",
        ],
    );
    check(&repo, 2);
}
