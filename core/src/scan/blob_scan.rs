//! Scanning one decoded blob: size limit, content preparation, the engine through the
//! EngineAdapter, location allowlists, fingerprints, finding events, exactly-once commit events
//! and the record finalize keeps.
//!
//! [`BlobScanner`] is shared by every worker (it holds only shared state); each worker brings
//! its own [`BlobWorker`] (adapter buffers and a scratch for reading commits). Pack execution
//! feeds it blobs in whatever order they decode; results do not depend on that order.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use gix_hash::ObjectId;
use gix_object::Kind;

use super::finalize::ScannedBlob;
use super::modes::{NO_COMMIT, Plan, PlannedBlob};
use super::state::ScanState;
use crate::Engine;
use crate::detect::adapter::{EngineAdapter, Hit, Stopped};
use crate::detect::content::{self, Prepared};
use crate::detect::engine::AtPath;
use crate::detect::engine::Match;
use crate::detect::extract::Entry;
use crate::events::{CommitMeta, Event, Finding, Location, Phase, SkipReason};
use crate::git::commits::{self, CommitGraph};
use crate::git::odb::{Odb, ReadScratch};
use crate::store::codec::{BlobContext, FindingRecord};

/// One bit per commit: set once, by whichever worker gets there first.
pub(super) struct AtomicBitSet(Vec<AtomicU64>);

impl AtomicBitSet {
    pub fn new(n: usize) -> Self {
        Self((0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect())
    }

    /// True exactly once per index across all threads.
    pub fn test_and_set(&self, i: usize) -> bool {
        let bit = 1u64 << (i % 64);
        self.0[i / 64].fetch_or(bit, Ordering::AcqRel) & bit == 0
    }
}

/// A worker's own buffers for blob scanning.
pub(super) struct BlobWorker<'e> {
    adapter: EngineAdapter<'e>,
    /// For the gated rules (those with a `path`), on blobs whose path opens them.
    gated: Option<EngineAdapter<'e>>,
    /// Reads the commit object of a commit event (rare: once per commit with findings).
    commit_rs: ReadScratch,
    commit_buf: Vec<u8>,
    /// The last path's gate ([`Engine::at_path`]): blobs come in pack order, where the
    /// versions of one file sit together, and the path set is a regex set.
    /// (path, whether it opens the gated rules, the path-only rules it matches)
    last_at: Option<(Box<[u8]>, bool, Vec<u32>)>,
}

impl<'e> BlobWorker<'e> {
    pub fn new(engine: &'e Engine, window: usize, object_limit: u64) -> Self {
        Self {
            adapter: EngineAdapter::new(engine, window),
            gated: engine
                .at_gated_engine()
                .map(|g| EngineAdapter::new(g, window)),
            commit_rs: ReadScratch::new(0, object_limit),
            commit_buf: Vec::new(),
            last_at: None,
        }
    }

    /// `engine.at_path(path)`, remembered for the next blob at the same path.
    fn at_path<'x>(&mut self, engine: &'x Engine, path: &[u8]) -> AtPath<'x> {
        if let Some((last, gated, path_only)) = &self.last_at
            && **last == *path
        {
            return AtPath {
                gated: engine.at_gated_engine().filter(|_| *gated),
                path_only: path_only.clone(),
            };
        }
        let at = engine.at_path(path);
        self.last_at = Some((path.into(), at.gated.is_some(), at.path_only.clone()));
        at
    }
}

/// Scans planned blobs and streams what it finds.
pub(super) struct BlobScanner<'s> {
    state: &'s ScanState<'s>,
    odb: &'s Odb,
    graph: &'s CommitGraph,
    plan: &'s Plan,
    engine: &'s Engine,
    commit_seen: AtomicBitSet,
    /// One bit per planned blob, set when it was scanned or skipped with a reason: the account
    /// that lets a scan tell "complete" from "some planned blob was silently never reached".
    accounted: AtomicBitSet,
    /// Rules with `path`, allowlists with `paths`/`commits`: judged with the blob's attribution.
    location_rules: bool,
}

/// What one blob's findings need to know about where it sits.
struct Place<'p> {
    blob: &'p PlannedBlob,
    commit: Option<ObjectId>,
    origin: Option<&'static str>,
    location: Location,
    /// The blob's path, or for a member of an archive `blob-path!member` (empty: none).
    path: Cow<'p, [u8]>,
    /// For an archive member, the path rules match: `path` with `/` for `!`.
    match_path: Option<Vec<u8>>,
}

impl<'s> BlobScanner<'s> {
    pub fn new(
        state: &'s ScanState<'s>,
        odb: &'s Odb,
        graph: &'s CommitGraph,
        plan: &'s Plan,
        engine: &'s Engine,
    ) -> Self {
        Self {
            state,
            odb,
            graph,
            plan,
            engine,
            commit_seen: AtomicBitSet::new(graph.len()),
            accounted: AtomicBitSet::new(plan.blobs.len()),
            location_rules: engine.has_location_criteria(),
        }
    }

    /// Scan planned blob `plan_idx` whose bytes are `data`. Returns false when the scan must
    /// stop (abort, or the sink asked to stop).
    pub fn scan(&self, w: &mut BlobWorker<'_>, plan_idx: u32, kind: Kind, data: &[u8]) -> bool {
        let state = self.state;
        let b = &self.plan.blobs[plan_idx as usize];
        if kind != Kind::Blob {
            return self.scan_message(w, plan_idx, kind, data);
        }
        if data.len() as u64 > state.options.max_blob_bytes {
            self.skip(plan_idx, SkipReason::TooLarge, || {
                format!("blob {}: {} bytes", b.id, data.len())
            });
            return true;
        }
        self.accounted.test_and_set(plan_idx as usize);
        let commit = (b.commit != NO_COMMIT).then(|| self.graph.ids[b.commit as usize]);
        let context = || BlobContext {
            commit,
            path: b.path.to_vec(),
        };
        let at = w.at_path(self.engine, &b.path);
        let mut place = Place {
            blob: b,
            commit,
            origin: None,
            location: Location::Blob,
            path: Cow::Borrowed(&b.path),
            match_path: None,
        };
        let mut new_commit = false;
        let mut records = Vec::new();
        if !data.is_empty() {
            for &rule in &at.path_only {
                let secret = b.id.to_string().into_bytes();
                let hit = path_only_hit(self.engine, rule, secret, 0..data.len(), 1);
                if let Some(record) = self.on_hit(&place, hit.as_hit(), &mut new_commit) {
                    records.push(record);
                }
            }
        }
        let mut binary = false;
        let res = match content::prepare(data, &b.path) {
            Prepared::Binary => {
                state.skip(SkipReason::Binary, || format!("blob {}", b.id));
                binary = true;
                Ok(())
            }
            Prepared::Text {
                bytes,
                origin,
                entries,
                limits,
            } => {
                place.origin = origin;
                for limit in &limits {
                    // What a limit cut off was not scanned: a gap, named (never its content).
                    state.skip(SkipReason::TooLarge, || format!("blob {}: {limit}", b.id));
                }
                if entries.is_empty() {
                    let sink = &mut |hit: Hit<'_>| {
                        if let Some(record) = self.on_hit(&place, hit, &mut new_commit) {
                            records.push(record);
                        }
                        !state.should_abort()
                    };
                    let gated = at.gated.is_some().then_some(&b.path[..]);
                    self.scan_text(w, &bytes, gated, sink)
                } else {
                    let mut out = (&mut records, &mut new_commit);
                    self.scan_entries(w, &mut place, &bytes, &entries, &mut out)
                }
            }
        };
        if new_commit && let Some(id) = commit {
            self.emit_commit(w, id);
        }
        if res.is_ok() {
            // Binary content is policy, not a gap: the blob counts as seen.
            state.record(ScannedBlob {
                id: b.id,
                context: context(),
                findings: records,
            });
        }
        if !binary {
            self.count(data.len());
        }
        res.is_ok()
    }

    /// Scan the message of commit or tag `plan_idx` (raw object `data`). Only the message is
    /// scanned (not the headers: ids, people, signatures); offsets and lines are reported in
    /// the raw object.
    fn scan_message(&self, w: &mut BlobWorker<'_>, plan_idx: u32, kind: Kind, data: &[u8]) -> bool {
        let state = self.state;
        let b = &self.plan.blobs[plan_idx as usize];
        self.accounted.test_and_set(plan_idx as usize);
        let commit = (b.commit != NO_COMMIT).then(|| self.graph.ids[b.commit as usize]);
        let location = if kind == Kind::Commit {
            Location::CommitMessage
        } else {
            Location::TagMessage
        };
        let place = Place {
            blob: b,
            commit,
            origin: None,
            location,
            path: Cow::Borrowed(&[]),
            match_path: None,
        };
        let mut new_commit = false;
        let mut records = Vec::new();
        let mut res = Ok(());
        if let Some(at) = commits::message_offset(data) {
            let lines_before = memchr::memchr_iter(b'\n', &data[..at]).count() as u64;
            let sink = &mut |h: Hit<'_>| {
                let hit = shifted(h, at as u64, lines_before);
                if let Some(record) = self.on_hit(&place, hit, &mut new_commit) {
                    records.push(record);
                }
                !state.should_abort()
            };
            res = self.scan_text(w, &data[at..], None, sink);
        }
        if new_commit && let Some(id) = commit {
            self.emit_commit(w, id);
        }
        if res.is_ok() {
            state.record(ScannedBlob {
                id: b.id,
                context: BlobContext {
                    commit,
                    path: Vec::new(),
                },
                findings: records,
            });
        }
        res.is_ok()
    }

    /// Scan the members of an archive (`text` is the extracted text, `entries` where each
    /// member's text sits in it): each member as a blob at `blob-path!member`, so path-only and
    /// gated rules apply to the member's own path. Offsets and lines stay those of `text`.
    fn scan_entries(
        &self,
        w: &mut BlobWorker<'_>,
        place: &mut Place<'_>,
        text: &[u8],
        entries: &[Entry],
        out: &mut (&mut Vec<FindingRecord>, &mut bool),
    ) -> Result<(), Stopped> {
        let state = self.state;
        let b = place.blob;
        let (mut line_base, mut counted_to) = (0u64, 0usize);
        for e in entries {
            let mut path = b.path.to_vec();
            if !path.is_empty() {
                path.push(b'!');
            }
            path.extend_from_slice(&e.name);
            // Rules' `path` regexes see `!` as a directory boundary, so `(?:^|/)\.env$` names a
            // member `.env` at an archive's root too.
            let match_path: Vec<u8> = path
                .iter()
                .map(|&c| if c == b'!' { b'/' } else { c })
                .collect();
            let at = self.engine.at_path(&match_path);
            place.path = Cow::Owned(path);
            place.match_path = Some(match_path);
            let range = e.text.start.min(text.len())..e.text.end.min(text.len());
            let from = range.start.max(counted_to);
            line_base += memchr::memchr_iter(b'\n', &text[counted_to..from]).count() as u64;
            counted_to = from;
            // A member without text (binary, an archive) is pointed at by its header line.
            let header = (range.is_empty() && text[..range.start].ends_with(b" <==\n"))
                .then(|| memchr::memrchr(b'\n', &text[..range.start - 1]).map_or(0, |i| i + 1));
            for &rule in &at.path_only {
                let (span, line) = match header {
                    Some(h) => (h..range.start - 1, line_base),
                    None => (range.clone(), line_base + 1),
                };
                let secret = crate::store::codec::hex(&e.digest).into_bytes();
                let hit = path_only_hit(self.engine, rule, secret, span, line);
                if let Some(record) = self.on_hit(place, hit.as_hit(), out.1) {
                    out.0.push(record);
                }
            }
            if range.is_empty() {
                continue;
            }
            let shift = range.start as u64;
            let gated = at
                .gated
                .is_some()
                .then(|| place.match_path.clone().unwrap_or_default());
            let gated = gated.as_deref();
            let place = &*place;
            let sink = &mut |h: Hit<'_>| {
                let hit = shifted(h, shift, line_base);
                if let Some(record) = self.on_hit(place, hit, out.1) {
                    out.0.push(record);
                }
                !state.should_abort()
            };
            self.scan_text(w, &text[range.clone()], gated, sink)?;
        }
        Ok(())
    }

    /// Runs the plain rules over `text` and, when `gated` (the blob's path opens the gated
    /// rules), the gated rules too. Then the hits of both passes are held back until a generic
    /// match of one pass that overlaps a specific match of the other is dropped, as the engine
    /// does within one pass.
    fn scan_text(
        &self,
        w: &mut BlobWorker<'_>,
        text: &[u8],
        gated: Option<&[u8]>,
        sink: &mut dyn FnMut(Hit<'_>) -> bool,
    ) -> Result<(), Stopped> {
        let state = self.state;
        let should_abort = || state.should_abort();
        let (Some(gated_adapter), Some(path)) = (w.gated.as_mut(), gated) else {
            return w.adapter.scan_blob(text, &should_abort, sink);
        };
        let mut held: Vec<OwnedHit> = Vec::new();
        let engine = self.engine;
        let base = engine.gated_base();
        gated_adapter.scan_blob(text, &should_abort, &mut |h| {
            if engine.rule_path_matches(h.m.rule + base, path) {
                held.push(OwnedHit::of(&h, base));
            }
            true
        })?;
        let split = held.len();
        w.adapter.scan_blob(text, &should_abort, &mut |h| {
            held.push(OwnedHit::of(&h, 0));
            true
        })?;
        let (gated_hits, plain_hits) = held.split_at(split);
        let span = |h: &OwnedHit| (h.m.rule, h.start..h.end);
        let yields = |h: &OwnedHit, others: &[OwnedHit], gated: bool| {
            engine.yields_across_passes(span(h), others.iter().map(span), gated)
        };
        let keep: Vec<bool> = gated_hits
            .iter()
            .map(|h| !yields(h, plain_hits, true))
            .chain(plain_hits.iter().map(|h| !yields(h, gated_hits, false)))
            .collect();
        for (h, _) in held.iter().zip(keep).filter(|(_, k)| *k) {
            if !sink(h.as_hit()) {
                return Err(Stopped);
            }
        }
        Ok(())
    }

    /// Report one engine hit (unless a location allowlist drops it); returns the record to keep
    /// for finalize, and sets `new_commit` when this is the first finding of its commit.
    fn on_hit(&self, p: &Place<'_>, hit: Hit<'_>, new_commit: &mut bool) -> Option<FindingRecord> {
        let (state, engine, b) = (self.state, self.engine, p.blob);
        let path = (!p.path.is_empty()).then_some(&p.path[..]);
        let match_path = p.match_path.as_deref().or(path);
        if self.location_rules && !engine.allowed_at(hit.m, match_path, p.commit.as_ref()) {
            return None;
        }
        let rule_id = engine.rule_id(hit.m.rule);
        let fingerprint =
            crate::detect::fingerprint::fingerprint(&state.fingerprint_key, rule_id, &hit.m.secret);
        let secret_text = || String::from_utf8_lossy(&hit.m.secret).into_owned();
        let record = state.keeps_records().then(|| FindingRecord {
            rule_id: rule_id.to_string(),
            start: hit.start,
            end: hit.end,
            line: hit.line,
            column: hit.column,
            fingerprint: fingerprint.clone(),
            secret: state.options.keep_secrets.then(secret_text),
        });
        let finding = Finding {
            location: p.location,
            rule_id: rule_id.to_string(),
            rule_description: engine.rule_description(hit.m.rule).to_string(),
            blob: b.id,
            commit: p.commit,
            path: path.map(<[u8]>::to_vec),
            line: hit.line,
            column: hit.column,
            start: hit.start,
            end: hit.end,
            fingerprint,
            secret: state.options.reveal_secrets.then(secret_text),
            snippet: hit.snippet,
            decoded_from: p
                .origin
                .into_iter()
                .chain(hit.m.decoded_from.iter().copied())
                .collect(),
            confidence: hit.m.confidence,
        };
        state.findings.fetch_add(1, Ordering::Relaxed);
        state.emit(Event::Finding(&finding));
        if p.commit.is_some() && self.commit_seen.test_and_set(b.commit as usize) {
            *new_commit = true;
        }
        record
    }

    /// The commit event of `id` (its first finding was just reported).
    fn emit_commit(&self, w: &mut BlobWorker<'_>, id: ObjectId) {
        match self.odb.read_id(&id, &mut w.commit_rs, &mut w.commit_buf) {
            Ok(_) => self
                .state
                .emit(Event::Commit(&commit_meta(id, &w.commit_buf))),
            Err(e) => self
                .state
                .skip(SkipReason::Corrupt, || format!("commit {id}: {e}")),
        }
    }

    /// Skip planned blob `plan_idx` for `reason` (counted in its account).
    pub fn skip(&self, plan_idx: u32, reason: SkipReason, example: impl FnOnce() -> String) {
        let id = self.plan.blobs[plan_idx as usize].id;
        self.accounted.test_and_set(plan_idx as usize);
        self.state.skip_blob(reason, id, example);
    }

    /// Close the account after execution: every planned blob that was neither scanned nor
    /// skipped (a delta whose base chain never reached a decodable root, two index entries
    /// naming one pack entry, ...) is skipped as corrupt now, so the scan cannot end
    /// `complete` with a blob silently left out. Returns how many there were.
    pub fn close_account(&self) -> u64 {
        let mut unaccounted = 0;
        for (i, b) in self.plan.blobs.iter().enumerate() {
            if self.accounted.test_and_set(i) {
                unaccounted += 1;
                self.state.skip_blob(SkipReason::Corrupt, b.id, || {
                    format!("blob {}: planned but never decoded", b.id)
                });
            }
        }
        unaccounted
    }

    fn count(&self, bytes: usize) {
        let state = self.state;
        state.blobs_scanned.fetch_add(1, Ordering::Relaxed);
        state
            .bytes_scanned
            .fetch_add(bytes as u64, Ordering::Relaxed);
        let done = state.blobs_scanned.load(Ordering::Relaxed);
        state.progress(Phase::Scan, done, self.plan.blobs.len() as u64, false);
    }
}

/// A hit held back until both passes over a gated blob are done (rule numbers are the
/// engine's).
struct OwnedHit {
    m: Match,
    start: u64,
    end: u64,
    line: u64,
    column: u64,
    snippet: String,
}

impl OwnedHit {
    fn of(h: &Hit<'_>, rule_base: u32) -> Self {
        let mut m = h.m.clone();
        m.rule += rule_base;
        OwnedHit {
            m,
            start: h.start,
            end: h.end,
            line: h.line,
            column: h.column,
            snippet: h.snippet.clone(),
        }
    }

    fn as_hit(&self) -> Hit<'_> {
        Hit {
            m: &self.m,
            start: self.start,
            end: self.end,
            line: self.line,
            column: self.column,
            snippet: self.snippet.clone(),
        }
    }
}

/// The finding of path-only rule `rule` on a file (a blob, or an archive member) whose span is
/// `span`, starting at `line`. The secret (what the fingerprint is keyed on) identifies the
/// file's content (the blob's id, the member's digest), so the same file anywhere in history
/// is one secret.
fn path_only_hit(
    engine: &Engine,
    rule: u32,
    secret: Vec<u8>,
    span: Range<usize>,
    line: u64,
) -> OwnedHit {
    OwnedHit {
        m: Match {
            rule,
            start: span.start,
            end: span.end,
            secret,
            decoded_from: Vec::new(),
            confidence: engine.rule_confidence(rule),
            location_bits: 0,
        },
        start: span.start as u64,
        end: span.end as u64,
        line,
        column: 1,
        snippet: String::new(),
    }
}

/// `h` for text that starts `by` bytes and `lines` lines into what is reported (a message
/// inside its object, a member inside the extracted text).
fn shifted(h: Hit<'_>, by: u64, lines: u64) -> Hit<'_> {
    Hit {
        start: h.start + by,
        end: h.end + by,
        line: h.line + lines,
        ..h
    }
}

/// The commit event of commit `id` whose raw object is `data`.
fn commit_meta(id: ObjectId, data: &[u8]) -> CommitMeta {
    let commits::CommitInfo {
        author,
        committer,
        summary,
    } = commits::parse_commit_info(data);
    CommitMeta {
        commit: id,
        author_name: author.name,
        author_email: author.email,
        author_time: author.time,
        committer_name: committer.name,
        committer_email: committer.email,
        committer_time: committer.time,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_bits_are_set_exactly_once_across_threads() {
        let bits = AtomicBitSet::new(1000);
        let wins = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for i in 0..1000 {
                        if bits.test_and_set(i) {
                            wins.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(wins.load(Ordering::Relaxed), 1000);
    }

    #[test]
    fn commit_meta_parses_people_and_summary() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Ada <ada@example.com> 100 +0000\ncommitter Bob <bob@example.org> 200 +0100\n\n\nFix the thing\n\nbody\n";
        let m = commit_meta(ObjectId::null(gix_hash::Kind::Sha1), raw);
        assert_eq!(m.author_name, "Ada");
        assert_eq!(m.committer_email, "bob@example.org");
        assert_eq!(m.committer_time, 200);
        assert_eq!(m.summary, "Fix the thing");
    }
}
