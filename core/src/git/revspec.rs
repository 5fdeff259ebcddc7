//! Resolving revisions for commit ranges (`--since REV`, `A..B`), without running git.
//!
//! Accepted: a full or abbreviated (≥ 4 hex digits, unambiguous) object id; a ref name as git
//! resolves it (`HEAD`, `main`, `heads/main`, `refs/heads/main`, tags and remote-tracking
//! branches by short name, in git's order); followed by any number of `^`, `^N`, `~`, `~N`
//! navigation steps. Tags are peeled to commits.

use gix_hash::ObjectId;
use gix_object::Kind;

use crate::git::GitError;
use crate::git::commits::{self, parse_commit_header};
use crate::git::odb::{Odb, ReadScratch};
use crate::git::repo::RefTip;

fn invalid(spec: &str, why: impl std::fmt::Display) -> GitError {
    GitError::BadRevision(format!("cannot resolve revision '{spec}': {why}"))
}

/// Split `A..B` into its ends; `A..` means `A..HEAD`.
pub fn split_range(spec: &str) -> Result<(&str, &str), GitError> {
    match spec.split_once("..") {
        Some((a, b)) if !a.is_empty() && !b.starts_with('.') => {
            Ok((a, if b.is_empty() { "HEAD" } else { b }))
        }
        _ => Err(GitError::BadRevision(format!(
            "range '{spec}' must look like A..B (commits reachable from B but not from A)"
        ))),
    }
}

/// Resolve `spec` to a commit id.
pub fn resolve(
    spec: &str,
    refs: &[RefTip],
    odb: &Odb,
    s: &mut ReadScratch,
) -> Result<ObjectId, GitError> {
    let cut = spec.find(['^', '~']).unwrap_or(spec.len());
    let (base, mut steps) = spec.split_at(cut);
    let mut id =
        resolve_base(base, refs, odb).ok_or_else(|| invalid(spec, "no such ref or object"))?;
    let mut buf = Vec::new();
    id = peel_commit(spec, id, odb, s, &mut buf)?;
    while let Some(op) = steps.chars().next() {
        // Anything but `^`/`~` here (a multi-byte character included: slicing after it would
        // split it; the fuzzer found that panic) is syntax we do not support.
        if op != '^' && op != '~' {
            return Err(invalid(spec, "unsupported syntax"));
        }
        let rest = &steps[1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: usize = if digits == 0 {
            1
        } else {
            rest[..digits]
                .parse()
                .map_err(|_| invalid(spec, "bad number"))?
        };
        steps = &rest[digits..];
        match op {
            '^' if n == 0 => {}
            '^' => id = parent(spec, id, n - 1, odb, s, &mut buf)?,
            _ => {
                for _ in 0..n {
                    id = parent(spec, id, 0, odb, s, &mut buf)?;
                }
            }
        }
    }
    Ok(id)
}

fn resolve_base(base: &str, refs: &[RefTip], odb: &Odb) -> Option<ObjectId> {
    // git's ref lookup order for a short name.
    for candidate in [
        base.to_string(),
        format!("refs/{base}"),
        format!("refs/tags/{base}"),
        format!("refs/heads/{base}"),
        format!("refs/remotes/{base}"),
        format!("refs/remotes/{base}/HEAD"),
    ] {
        if let Some(r) = refs.iter().find(|r| r.name == candidate) {
            return Some(r.target);
        }
    }
    if base.len() >= 4 && base.len() <= 40 && base.bytes().all(|b| b.is_ascii_hexdigit()) {
        if let Ok(id) = ObjectId::from_hex(base.as_bytes()) {
            return odb.locate(&id).map(|_| id);
        }
        return unique_prefix(base, odb);
    }
    None
}

/// The one object whose id starts with `prefix`, if exactly one does.
fn unique_prefix(prefix: &str, odb: &Odb) -> Option<ObjectId> {
    let p = gix_hash::Prefix::from_hex(prefix).ok()?;
    let mut found: Option<ObjectId> = None;
    for pack in &odb.packs {
        match pack.index.lookup_prefix(p, None) {
            Some(Ok(i)) => {
                let id = pack.index.oid_at_index(i).to_owned();
                if found.is_some_and(|f| f != id) {
                    return None;
                }
                found = Some(id);
            }
            Some(Err(())) => return None,
            None => {}
        }
    }
    for i in 0..odb.loose.len() as u32 {
        let id = odb.loose.id(i);
        if id
            .to_hex()
            .to_string()
            .starts_with(&prefix.to_ascii_lowercase())
        {
            if found.is_some_and(|f| f != id) {
                return None;
            }
            found = Some(id.to_owned());
        }
    }
    found
}

fn peel_commit(
    spec: &str,
    id: ObjectId,
    odb: &Odb,
    s: &mut ReadScratch,
    buf: &mut Vec<u8>,
) -> Result<ObjectId, GitError> {
    match commits::peel(odb, id, s, buf) {
        Ok((c, Kind::Commit)) => Ok(c),
        Ok((_, k)) => Err(invalid(spec, format!("names a {k}, not a commit"))),
        Err(e) => Err(invalid(spec, e)),
    }
}

fn parent(
    spec: &str,
    id: ObjectId,
    nth: usize,
    odb: &Odb,
    s: &mut ReadScratch,
    buf: &mut Vec<u8>,
) -> Result<ObjectId, GitError> {
    odb.read_id(&id, s, buf).map_err(|e| invalid(spec, e))?;
    let h =
        parse_commit_header(buf).ok_or_else(|| invalid(spec, format!("{id} is not a commit")))?;
    h.parents
        .get(nth)
        .copied()
        .ok_or_else(|| invalid(spec, format!("{id} has no parent number {}", nth + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_like_git() {
        assert_eq!(split_range("v1..v2").unwrap(), ("v1", "v2"));
        assert_eq!(
            split_range("origin/main..").unwrap(),
            ("origin/main", "HEAD")
        );
        assert!(split_range("..v2").is_err());
        assert!(split_range("a...b").is_err());
        assert!(split_range("main").is_err());
    }
}
