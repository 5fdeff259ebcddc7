//! Cost and agreement of commit parsing, hand parsers against gix-object's, over real commits:
//! - the header (tree, parents, committer time; every commit of a walk): `git::commits` keeps
//!   its hand parser, measured here against a `CommitRefIter` version (`gix_header` below);
//! - author/committer/summary (commits with findings): `git::commits` uses gix-object, measured
//!   here against the hand parser it replaced (`hand_info` below).
//!
//! usage: cargo run --release -p scangit-core --example commit_parse_bench -- REPO [COUNT]
//! (REPO: a git directory, e.g. a mirror of git/git; COUNT, the newest commits of every ref, to all).
//! Prints ns per commit, best of 7 rounds, for the header (every commit of a walk) and for
//! author/committer/summary (commits with findings), and how many commits the two disagree on.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use scangit_core::git::commits::{self, CommitHeader, CommitInfo};

/// The raw commit objects of `repo` (`git rev-list --all | git cat-file --batch`).
fn load(repo: &str, count: Option<usize>) -> Vec<Vec<u8>> {
    let mut rev_list = Command::new("git");
    rev_list.args(["-C", repo, "rev-list", "--all"]);
    if let Some(n) = count {
        rev_list.arg(format!("--max-count={n}"));
    }
    let ids = rev_list.output().expect("git rev-list").stdout;
    let mut cat = Command::new("git")
        .args(["-C", repo, "cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("git cat-file");
    let mut stdin = cat.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&ids).unwrap());
    let mut out = BufReader::new(cat.stdout.take().unwrap());
    let mut objects = Vec::new();
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        let size: usize = line.split(' ').nth(2).unwrap().trim().parse().unwrap();
        let mut data = vec![0; size + 1];
        out.read_exact(&mut data).unwrap();
        data.pop();
        objects.push(data);
        line.clear();
    }
    feeder.join().unwrap();
    cat.wait().unwrap();
    objects
}

/// The header through gix-object's `CommitRefIter` (the candidate that was measured slower).
mod gix_header {
    use gix_object::CommitRefIter;
    use gix_object::commit::ref_iter::Token;
    use scangit_core::git::commits::CommitHeader;

    const TREE_LINE: usize = 5 + 40 + 1;
    const PARENT_LINE: usize = 7 + 40 + 1;

    pub fn parse_commit_header(data: &[u8]) -> Option<CommitHeader> {
        let mut tokens = CommitRefIter::from_bytes(data, gix_hash::Kind::Sha1);
        let Some(Ok(Token::Tree { id: tree })) = tokens.next() else {
            return None;
        };
        let mut parents = Vec::new();
        let mut committer_time = 0;
        for token in tokens {
            match token {
                Ok(Token::Parent { id }) => parents.push(id),
                Ok(Token::Author { .. }) => {}
                Ok(Token::Committer { signature }) => {
                    committer_time = signature.seconds();
                    break;
                }
                Ok(_) => break,
                Err(_) => {
                    let next = TREE_LINE + parents.len() * PARENT_LINE;
                    if data.get(next..).is_some_and(|l| l.starts_with(b"parent ")) {
                        return None;
                    }
                    break;
                }
            }
        }
        Some(CommitHeader {
            tree,
            parents,
            committer_time,
        })
    }
}

/// The hand parser of author/committer/summary that gix-object replaced (reference only).
mod hand_info {
    use scangit_core::git::commits::{CommitInfo, Signature};

    pub fn parse_commit_info(data: &[u8]) -> CommitInfo {
        let mut info = CommitInfo::default();
        let (headers, message) = match data.windows(2).position(|w| w == b"\n\n") {
            Some(p) => (&data[..p], &data[p + 2..]),
            None => (data, &b""[..]),
        };
        for line in headers.split(|&b| b == b'\n') {
            if let Some(rest) = line.strip_prefix(b"author ")
                && let Some(s) = parse_signature(rest)
            {
                info.author = s;
            } else if let Some(rest) = line.strip_prefix(b"committer ")
                && let Some(s) = parse_signature(rest)
            {
                info.committer = s;
            }
        }
        let first = message
            .split(|&b| b == b'\n')
            .find(|l| !l.trim_ascii().is_empty())
            .unwrap_or_default();
        info.summary = String::from_utf8_lossy(first.trim_ascii()).into_owned();
        info
    }

    fn parse_signature(s: &[u8]) -> Option<Signature> {
        let lt = s.iter().position(|&b| b == b'<')?;
        let gt = lt + s[lt..].iter().position(|&b| b == b'>')?;
        let name = String::from_utf8_lossy(s[..lt].trim_ascii()).into_owned();
        let email = String::from_utf8_lossy(&s[lt + 1..gt]).into_owned();
        let rest = s.get(gt + 1..).unwrap_or_default().trim_ascii();
        let time = rest
            .split(|&b| b == b' ')
            .next()
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        Some(Signature { name, email, time })
    }
}

/// Best of 7 rounds of `f` over every object, in ns per object.
fn ns_per<T>(objects: &[Vec<u8>], f: impl Fn(&[u8]) -> T) -> f64 {
    (0..7)
        .map(|_| {
            let t = Instant::now();
            for o in objects {
                black_box(f(black_box(o)));
            }
            t.elapsed().as_nanos() as f64 / objects.len() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn same_header(a: &Option<CommitHeader>, b: &Option<CommitHeader>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            (a.tree, &a.parents, a.committer_time) == (b.tree, &b.parents, b.committer_time)
        }
        (None, None) => true,
        _ => false,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(repo) = args.next() else {
        eprintln!("usage: commit_parse_bench REPO [COUNT]");
        std::process::exit(2);
    };
    let count = args.next().map(|n| n.parse().expect("COUNT"));
    let objects = load(&repo, count);
    let bytes: usize = objects.iter().map(Vec::len).sum();
    println!(
        "{} commits of {repo}, {} bytes on average",
        objects.len(),
        bytes / objects.len().max(1)
    );

    let header_diffs = objects
        .iter()
        .filter(|o| {
            !same_header(
                &commits::parse_commit_header(o),
                &gix_header::parse_commit_header(o),
            )
        })
        .count();
    let info_diffs: Vec<(CommitInfo, CommitInfo)> = objects
        .iter()
        .map(|o| {
            (
                hand_info::parse_commit_info(o),
                commits::parse_commit_info(o),
            )
        })
        .filter(|(a, b)| a != b)
        .collect();
    println!(
        "disagreements: header {header_diffs}, author/committer/summary {}",
        info_diffs.len()
    );
    for (a, b) in info_diffs.iter().take(3) {
        println!("  hand {a:?}\n  gix  {b:?}");
    }

    let hand_header = ns_per(&objects, commits::parse_commit_header);
    let gix_hdr = ns_per(&objects, gix_header::parse_commit_header);
    let hand_info = ns_per(&objects, hand_info::parse_commit_info);
    let gix_info = ns_per(&objects, commits::parse_commit_info);
    println!(
        "parse_commit_header: hand {hand_header:.1} ns/commit, gix-object {gix_hdr:.1} ns/commit ({:+.0}%)",
        (gix_hdr / hand_header - 1.0) * 100.0
    );
    println!(
        "parse_commit_info:   hand {hand_info:.1} ns/commit, gix-object {gix_info:.1} ns/commit ({:+.0}%)",
        (gix_info / hand_info - 1.0) * 100.0
    );
}
