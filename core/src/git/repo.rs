//! Repository open: find the git directory, the common directory, the object directories
//! (alternates included) and every ref, without running `git` or reading any config that could
//! run a program.
//!
//! Accepted inputs: a bare repository, a work tree (`.git` directory), a `.git` *file*
//! (`gitdir: ...`, used by linked worktrees and submodules), or a git directory itself.
//! Refs are read from `packed-refs` and loose files; loose refs win. Symbolic refs are resolved.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use gix_hash::ObjectId;

use crate::git::GitError;

/// Where a repository's parts live on disk.
#[derive(Clone, Debug)]
pub struct RepoLayout {
    /// The git directory of the opened (work)tree: holds `HEAD`.
    pub git_dir: PathBuf,
    /// Shared directory holding refs and objects (equals `git_dir` except in linked worktrees).
    pub common_dir: PathBuf,
    /// The primary object directory first, then alternates in the order found.
    pub object_dirs: Vec<PathBuf>,
}

/// One ref of the start set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefTip {
    /// Full name (`refs/heads/main`, `HEAD`, `worktrees/wt1/HEAD`).
    pub name: String,
    /// What the ref points at, before peeling tags.
    pub target: ObjectId,
}

fn not_found(path: &Path, reason: impl Into<String>) -> GitError {
    GitError::NotFound {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn unreadable(path: &Path, source: std::io::Error) -> GitError {
    GitError::Unreadable {
        path: path.to_path_buf(),
        source,
    }
}

fn looks_like_git_dir(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && (dir.join("objects").is_dir() || dir.join("commondir").is_file())
}

/// Parse a `.git` file (`gitdir: <path>`), relative paths being relative to the file's folder.
fn read_gitdir_file(file: &Path) -> Result<PathBuf, GitError> {
    let text = fs::read_to_string(file).map_err(|e| unreadable(file, e))?;
    let rest = text
        .trim_end_matches(['\n', '\r'])
        .strip_prefix("gitdir: ")
        .ok_or_else(|| not_found(file, "a .git file must start with 'gitdir: '"))?;
    let p = PathBuf::from(rest);
    Ok(if p.is_absolute() {
        p
    } else {
        file.parent().unwrap_or(Path::new(".")).join(p)
    })
}

impl RepoLayout {
    /// Locate the repository at `path`.
    pub fn open(path: &Path) -> Result<RepoLayout, GitError> {
        let meta = fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => not_found(path, "no such file or directory"),
            _ => unreadable(path, e),
        })?;
        let git_dir = if meta.is_file() {
            read_gitdir_file(path)?
        } else {
            let dot_git = path.join(".git");
            if dot_git.is_file() {
                read_gitdir_file(&dot_git)?
            } else if dot_git.is_dir() {
                dot_git
            } else if looks_like_git_dir(path) {
                path.to_path_buf()
            } else {
                return Err(not_found(
                    path,
                    "neither a git directory nor a work tree with .git",
                ));
            }
        };
        if !looks_like_git_dir(&git_dir) {
            return Err(not_found(&git_dir, "missing HEAD or objects directory"));
        }
        let common_dir = match fs::read_to_string(git_dir.join("commondir")) {
            Ok(text) => {
                let p = PathBuf::from(text.trim_end_matches(['\n', '\r']));
                if p.is_absolute() { p } else { git_dir.join(p) }
            }
            Err(_) => git_dir.clone(),
        };
        if common_dir.join("reftable").is_dir() {
            return Err(not_found(
                &common_dir,
                "reftable ref storage is not supported yet (convert with `git refs migrate --ref-format=files`)",
            ));
        }
        let objects = common_dir.join("objects");
        if !objects.is_dir() {
            return Err(not_found(&common_dir, "missing objects directory"));
        }
        let mut object_dirs = vec![objects];
        collect_alternates(&mut object_dirs, 0)?;
        Ok(RepoLayout {
            git_dir,
            common_dir,
            object_dirs,
        })
    }

    /// Every ref (branches, tags, remotes, notes, `refs/pull/*`, stash, ...), `HEAD` of this
    /// worktree and the `HEAD`s of linked worktrees, deduplicated by name, sorted by name.
    pub fn refs(&self) -> Result<Vec<RefTip>, GitError> {
        let mut direct: BTreeMap<String, RawRef> = BTreeMap::new();
        read_packed_refs(&self.common_dir.join("packed-refs"), &mut direct)?;
        read_loose_refs(&self.common_dir, &self.common_dir.join("refs"), &mut direct)?;
        // Per-worktree refs of this worktree (refs/bisect, refs/worktree, refs/rewritten).
        if self.git_dir != self.common_dir {
            read_loose_refs(&self.git_dir, &self.git_dir.join("refs"), &mut direct)?;
        }
        let mut heads = vec![("HEAD".to_string(), self.git_dir.join("HEAD"))];
        if let Ok(rd) = fs::read_dir(self.common_dir.join("worktrees")) {
            let mut names: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
            names.sort();
            for n in names {
                let head = self.common_dir.join("worktrees").join(&n).join("HEAD");
                if head.is_file() && head != self.git_dir.join("HEAD") {
                    heads.push((format!("worktrees/{}/HEAD", n.to_string_lossy()), head));
                }
            }
        }
        for (name, file) in heads {
            if let Ok(text) = fs::read_to_string(&file)
                && let Some(r) = parse_ref_content(&text)
            {
                direct.insert(name, r);
            }
        }
        let mut out = Vec::with_capacity(direct.len());
        for (name, raw) in &direct {
            if let Some(target) = resolve(&direct, raw, 0) {
                out.push(RefTip {
                    name: name.clone(),
                    target,
                });
            }
        }
        Ok(out)
    }

    /// The pack and index files, for detecting concurrent maintenance.
    pub fn pack_dirs(&self) -> impl Iterator<Item = PathBuf> + '_ {
        self.object_dirs.iter().map(|d| d.join("pack"))
    }
}

fn collect_alternates(dirs: &mut Vec<PathBuf>, depth: usize) -> Result<(), GitError> {
    // git itself stops at depth 5; cycles are cut by the `contains` check.
    if depth > 5 {
        return Ok(());
    }
    let base = dirs[dirs.len() - 1].clone();
    let Ok(text) = fs::read_to_string(base.join("info").join("alternates")) else {
        return Ok(());
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let p = PathBuf::from(line);
        let p = if p.is_absolute() { p } else { base.join(p) };
        let p = p.canonicalize().unwrap_or(p);
        // A directory already listed (the primary one too, however it is spelled) is skipped,
        // as git does: alternates naming themselves or each other end here.
        let known = dirs
            .iter()
            .any(|d| *d == p || d.canonicalize().is_ok_and(|d| d == p));
        if p.is_dir() && !known {
            dirs.push(p);
            collect_alternates(dirs, depth + 1)?;
        }
    }
    Ok(())
}

#[derive(Clone, Debug)]
enum RawRef {
    Direct(ObjectId),
    Symbolic(String),
}

fn parse_ref_content(text: &str) -> Option<RawRef> {
    let t = text.trim_end();
    if let Some(target) = t.strip_prefix("ref:") {
        return Some(RawRef::Symbolic(target.trim().to_string()));
    }
    ObjectId::from_hex(t.as_bytes()).ok().map(RawRef::Direct)
}

fn resolve(all: &BTreeMap<String, RawRef>, r: &RawRef, depth: usize) -> Option<ObjectId> {
    match r {
        RawRef::Direct(id) => Some(*id),
        // An unborn branch (HEAD -> refs/heads/main before any commit) resolves to nothing.
        RawRef::Symbolic(name) if depth < 10 => {
            all.get(name).and_then(|t| resolve(all, t, depth + 1))
        }
        RawRef::Symbolic(_) => None,
    }
}

fn read_packed_refs(file: &Path, out: &mut BTreeMap<String, RawRef>) -> Result<(), GitError> {
    let text = match fs::read(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(unreadable(file, e)),
    };
    let lines = text.strip_suffix(b"\n").unwrap_or(&text);
    for (n, line) in lines.split(|&b| b == b'\n').enumerate() {
        // `^<oid>` peeled lines are checked but not used: tags are peeled from the objects.
        if line.first() == Some(&b'#') {
            continue;
        }
        let bad = || {
            GitError::Corrupt(format!(
                "{} line {}: unexpected line {:?} (git refuses this file too)",
                file.display(),
                n + 1,
                String::from_utf8_lossy(&line[..line.len().min(80)])
            ))
        };
        if let Some(peeled) = line.strip_prefix(b"^") {
            ObjectId::from_hex(peeled).map_err(|_| bad())?;
            continue;
        }
        let sp = line.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let id = ObjectId::from_hex(&line[..sp]).map_err(|_| bad())?;
        let name = std::str::from_utf8(&line[sp + 1..]).map_err(|_| bad())?;
        if name.is_empty() || name.contains([' ', '\r', '\0']) {
            return Err(bad());
        }
        out.insert(name.to_string(), RawRef::Direct(id));
    }
    Ok(())
}

/// Loose refs below `dir` (at most this deep: symlinked directories could loop).
const MAX_REF_DEPTH: usize = 64;

fn read_loose_refs(
    root: &Path,
    dir: &Path,
    out: &mut BTreeMap<String, RawRef>,
) -> Result<(), GitError> {
    read_loose_refs_below(root, dir, out, 0)
}

fn read_loose_refs_below(
    root: &Path,
    dir: &Path,
    out: &mut BTreeMap<String, RawRef>,
    depth: usize,
) -> Result<(), GitError> {
    if depth > MAX_REF_DEPTH {
        return Err(GitError::Corrupt(format!(
            "{}: refs nested deeper than {MAX_REF_DEPTH} (a symlink loop?)",
            dir.display()
        )));
    }
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(unreadable(dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| unreadable(dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| unreadable(&path, e))?;
        if ft.is_dir() {
            read_loose_refs_below(root, &path, out, depth + 1)?;
        } else if ft.is_file() {
            read_ref_file(root, &path, out);
        } else if ft.is_symlink() {
            read_symlinked_ref(root, &path, out, depth)?;
        }
    }
    Ok(())
}

fn ref_name(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    Some(
        rel.to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/"),
    )
}

/// A regular loose ref file; lock files and garbage are not refs.
fn read_ref_file(root: &Path, path: &Path, out: &mut BTreeMap<String, RawRef>) {
    if path.extension().is_some_and(|e| e == "lock") {
        return;
    }
    let Ok(text) = fs::read_to_string(path) else {
        return;
    };
    if let (Some(r), Some(name)) = (parse_ref_content(&text), ref_name(root, path)) {
        out.insert(name, r);
    }
}

/// A symlink among the loose refs, read like git does: a link whose target starts with `refs/`
/// is a symbolic ref to that name; any other link is followed (to a ref file, or a directory of
/// refs). A link that leads nowhere readable is an error, never skipped.
fn read_symlinked_ref(
    root: &Path,
    path: &Path,
    out: &mut BTreeMap<String, RawRef>,
    depth: usize,
) -> Result<(), GitError> {
    let Some(name) = ref_name(root, path) else {
        return Ok(());
    };
    if let Ok(target) = fs::read_link(path)
        && let Some(t) = target.to_str()
        && t.starts_with("refs/")
    {
        out.insert(name, RawRef::Symbolic(t.to_string()));
        return Ok(());
    }
    let meta = fs::metadata(path).map_err(|e| {
        GitError::Corrupt(format!(
            "loose ref {name} ({}) is a symlink to nothing readable: {e}",
            path.display()
        ))
    })?;
    if meta.is_dir() {
        read_loose_refs_below(root, path, out, depth + 1)
    } else {
        read_ref_file(root, path, out);
        Ok(())
    }
}

/// Shell-style glob on ref names: `*` matches any run of characters (including `/`), `?` one
/// character. A pattern without glob characters also matches as a prefix followed by `/`
/// (so `refs/heads` selects every branch), like git's ref filters.
pub fn ref_glob_match(pattern: &str, name: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return name == pattern
            || name
                .strip_prefix(pattern)
                .is_some_and(|rest| rest.starts_with('/') || pattern.ends_with('/'));
    }
    fn m(p: &[u8], s: &[u8]) -> bool {
        let (mut pi, mut si) = (0, 0);
        let (mut star, mut mark) = (None, 0);
        while si < s.len() {
            if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
                pi += 1;
                si += 1;
            } else if pi < p.len() && p[pi] == b'*' {
                star = Some(pi);
                mark = si;
                pi += 1;
            } else if let Some(st) = star {
                pi = st + 1;
                mark += 1;
                si = mark;
            } else {
                return false;
            }
        }
        while pi < p.len() && p[pi] == b'*' {
            pi += 1;
        }
        pi == p.len()
    }
    m(pattern.as_bytes(), name.as_bytes())
}

/// Apply include/exclude globs: empty include = everything; exclude wins.
pub fn filter_refs(refs: Vec<RefTip>, include: &[String], exclude: &[String]) -> Vec<RefTip> {
    refs.into_iter()
        .filter(|r| include.is_empty() || include.iter().any(|p| ref_glob_match(p, &r.name)))
        .filter(|r| !exclude.iter().any(|p| ref_glob_match(p, &r.name)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_git_ref_filters() {
        assert!(ref_glob_match("refs/heads/*", "refs/heads/feature/x"));
        assert!(ref_glob_match("refs/tags/v?.*", "refs/tags/v1.2"));
        assert!(!ref_glob_match("refs/tags/v?.*", "refs/tags/v10.2"));
        assert!(ref_glob_match("refs/heads", "refs/heads/main"));
        assert!(!ref_glob_match("refs/heads", "refs/headsx/main"));
        assert!(ref_glob_match("HEAD", "HEAD"));
        assert!(!ref_glob_match("refs/pull/*", "refs/heads/main"));
    }

    #[test]
    fn exclude_wins_over_include() {
        let id = ObjectId::null(gix_hash::Kind::Sha1);
        let refs = vec![
            RefTip {
                name: "refs/heads/a".into(),
                target: id,
            },
            RefTip {
                name: "refs/heads/b".into(),
                target: id,
            },
            RefTip {
                name: "refs/tags/t".into(),
                target: id,
            },
        ];
        let got = filter_refs(refs, &["refs/heads/*".into()], &["refs/heads/b".into()]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "refs/heads/a");
    }
}
