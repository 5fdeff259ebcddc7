//! The store key codec: how a finalize batch is laid out as key/value bytes, and back.
//!
//! Stores receive keys and values as opaque byte strings; this layout is what a store written
//! in C, Python or JavaScript may rely on, and the one place that encodes and decodes it.
//!
//! # Key encoding (format [`KEY_FORMAT`] = 1)
//!
//! Multi-byte integers are big-endian and fixed-width, so lexicographic byte order of keys is the
//! logical order of their fields. Stores written in C, Python or JavaScript receive keys and
//! values as opaque byte strings; this layout is what they may rely on.
//!
//! ```text
//! key    := format:u8 (=1)  namespace:2 ASCII bytes  0x00  scope  fields
//! scope  := u32be(len(repo_id))  repo_id (UTF-8)  rules_hash (32 bytes)
//! oid    := u8(len) bytes            (len 20 for SHA-1, 32 for SHA-256; 0 = absent)
//!
//! namespace "bc" blob context    fields: oid(blob)
//!                                value:  oid(commit or absent)  path bytes (rest of value)
//! namespace "fn" finding         fields: oid(blob)  u64be(start)  u64be(end)  rule_id (rest of key)
//!                                value:  u64be(line)  u64be(column)
//!                                        u32be(len) fingerprint  u8(has_secret)  secret (rest)
//! namespace "sb" seen blob       fields: oid(blob)         value: empty
//! namespace "rw" ref watermark   fields: ref_name  0x00
//!                                value:  u8(kind: 1 = set, 2 = delete)  u64be(scan_seq)
//!                                        oid(tip)   (only for kind 1)
//! ```
//!
//! A store implements "already scanned" by keeping every `sb` key it received for the scope
//! (one key per blob id, values empty); the SQLite store folds them into a roaring bitmap.
//! A store implements "newer never loses" by applying an `rw` op only if its `scan_seq` (value
//! bytes 1..9) is greater than or equal to the one stored for that ref, deletions included
//! (a deletion is kept as a tombstone carrying its sequence).

use std::cmp::Ordering;

use gix_hash::ObjectId;

use crate::events::Outcome;

/// Version of the key and value layout; the first byte of every key.
pub const KEY_FORMAT: u8 = 1;
/// Namespace of the canonical context (commit, path) of each scanned blob.
pub const NS_BLOB_CTX: [u8; 2] = *b"bc";
/// Namespace of findings.
pub const NS_FINDING: [u8; 2] = *b"fn";
/// Namespace of the seen-blob delta.
pub const NS_SEEN_BLOB: [u8; 2] = *b"sb";
/// Namespace of ref watermarks.
pub const NS_REF_WATERMARK: [u8; 2] = *b"rw";

const WATERMARK_SET: u8 = 1;
const WATERMARK_DELETE: u8 = 2;

/// What persisted state is keyed by: changing the rules (hence their hash) starts afresh.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    /// Identifies the repository to the store (a path, URL or any caller-chosen name).
    pub repo_id: String,
    /// Hash of the compiled rules and of every option that changes what a scan finds.
    pub rules_hash: [u8; 32],
}

impl Scope {
    pub fn new(repo_id: impl Into<String>, rules_hash: [u8; 32]) -> Self {
        Self {
            repo_id: repo_id.into(),
            rules_hash,
        }
    }

    /// The scope as it appears in every key (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.repo_id.len() + 32);
        self.encode_into(&mut out);
        out
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.repo_id.len() as u32).to_be_bytes());
        out.extend_from_slice(self.repo_id.as_bytes());
        out.extend_from_slice(&self.rules_hash);
    }

    /// Lowercase hex of the rules hash (how the SQLite store shows it).
    pub fn rules_hash_hex(&self) -> String {
        hex(&self.rules_hash)
    }
}

/// Where a blob was introduced: the commit (absent for blobs reachable from no commit) and path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlobContext {
    pub commit: Option<ObjectId>,
    pub path: Vec<u8>,
}

impl BlobContext {
    /// The canonical-context order: blobs with a commit first, then by commit id, then path.
    pub(crate) fn canonical_cmp(&self, other: &Self) -> Ordering {
        (self.commit.is_none(), &self.commit, &self.path).cmp(&(
            other.commit.is_none(),
            &other.commit,
            &other.path,
        ))
    }
}

/// One finding as persisted (no description, snippet or confidence: those derive from rules).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FindingRecord {
    pub rule_id: String,
    pub start: u64,
    pub end: u64,
    pub line: u64,
    pub column: u64,
    pub fingerprint: String,
    /// The raw secret, only when the caller chose to keep secrets in the store.
    pub secret: Option<String>,
}

impl FindingRecord {
    /// Identity within a blob: two records with the same identity are the same finding.
    pub(crate) fn identity(&self) -> (u64, u64, &str) {
        (self.start, self.end, &self.rule_id)
    }

    pub(crate) fn full_cmp(&self, other: &Self) -> Ordering {
        self.identity()
            .cmp(&other.identity())
            .then_with(|| self.cmp(other))
    }
}

/// One key/value write; keys are opaque to stores beyond the documented layout.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WriteOp {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FinalizeStats {
    /// Unique scanned blobs (one `bc` op each).
    pub blobs: u64,
    /// Extra contexts reported for already-listed blobs (dropped; the minimum wins).
    pub duplicate_contexts: u64,
    /// Unique findings (one `fn` op each).
    pub findings: u64,
    /// Findings dropped as duplicates of another with the same (blob, start, end, rule).
    pub duplicate_findings: u64,
    /// Blobs in the seen-blob delta (`sb` ops).
    pub seen_delta: u64,
    /// Unique blobs skipped for a gap reason.
    pub skipped: u64,
    /// Watermark ops (sets and deletes); 0 when partial.
    pub watermarks: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalizeOutput {
    /// Partial when the input said so or when any blob was skipped for a gap reason.
    pub outcome: Outcome,
    /// Blob contexts, findings, seen-blob delta: strictly increasing by key.
    pub data_ops: Vec<WriteOp>,
    /// Ref watermarks, strictly increasing by key; empty when partial.
    pub watermark_ops: Vec<WriteOp>,
    pub stats: FinalizeStats,
}

/// The `bc` op of blob `id` with its canonical context.
pub fn blob_context_op(scope: &[u8], id: &ObjectId, ctx: &BlobContext) -> WriteOp {
    let mut value = Vec::with_capacity(1 + 32 + ctx.path.len());
    put_opt_oid(&mut value, ctx.commit.as_ref());
    value.extend_from_slice(&ctx.path);
    WriteOp {
        key: key_for(scope, NS_BLOB_CTX, |k| put_oid(k, id)),
        value,
    }
}

/// The `fn` op of finding `f` in blob `id`.
pub fn finding_op(scope: &[u8], id: &ObjectId, f: &FindingRecord) -> WriteOp {
    WriteOp {
        key: key_for(scope, NS_FINDING, |k| {
            put_oid(k, id);
            k.extend_from_slice(&f.start.to_be_bytes());
            k.extend_from_slice(&f.end.to_be_bytes());
            k.extend_from_slice(f.rule_id.as_bytes());
        }),
        value: encode_finding_value(f),
    }
}

/// The `sb` op marking blob `id` seen.
pub fn seen_blob_op(scope: &[u8], id: &ObjectId) -> WriteOp {
    WriteOp {
        key: seen_blob_key(scope, id),
        value: Vec::new(),
    }
}

/// The `rw` op moving ref `name` to `tip` (`Some`) or deleting its watermark (`None`), as of
/// scan `scan_seq`.
pub fn watermark_op(scope: &[u8], name: &str, scan_seq: u64, tip: Option<&ObjectId>) -> WriteOp {
    let mut value = vec![if tip.is_some() {
        WATERMARK_SET
    } else {
        WATERMARK_DELETE
    }];
    value.extend_from_slice(&scan_seq.to_be_bytes());
    if let Some(tip) = tip {
        put_oid(&mut value, tip);
    }
    WriteOp {
        key: watermark_key(scope, name),
        value,
    }
}

/// The key prefix shared by every op of namespace `ns` in the scope encoded as `scope`.
pub fn namespace_prefix(scope: &[u8], ns: [u8; 2]) -> Vec<u8> {
    key_for(scope, ns, |_| {})
}

/// The `sb` key of `blob` in the scope encoded as `scope`.
pub fn seen_blob_key(scope: &[u8], blob: &ObjectId) -> Vec<u8> {
    key_for(scope, NS_SEEN_BLOB, |k| put_oid(k, blob))
}

fn watermark_key(scope: &[u8], name: &str) -> Vec<u8> {
    key_for(scope, NS_REF_WATERMARK, |k| {
        k.extend_from_slice(name.as_bytes());
        k.push(0);
    })
}

fn key_for(scope: &[u8], ns: [u8; 2], fields: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + scope.len() + 64);
    k.push(KEY_FORMAT);
    k.extend_from_slice(&ns);
    k.push(0);
    k.extend_from_slice(scope);
    fields(&mut k);
    k
}

fn put_oid(out: &mut Vec<u8>, id: &ObjectId) {
    let bytes = id.as_bytes();
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

fn put_opt_oid(out: &mut Vec<u8>, id: Option<&ObjectId>) {
    match id {
        Some(id) => put_oid(out, id),
        None => out.push(0),
    }
}

fn encode_finding_value(f: &FindingRecord) -> Vec<u8> {
    let secret = f.secret.as_deref().unwrap_or_default();
    let mut v = Vec::with_capacity(16 + 4 + f.fingerprint.len() + 1 + secret.len());
    v.extend_from_slice(&f.line.to_be_bytes());
    v.extend_from_slice(&f.column.to_be_bytes());
    v.extend_from_slice(&(f.fingerprint.len() as u32).to_be_bytes());
    v.extend_from_slice(f.fingerprint.as_bytes());
    v.push(u8::from(f.secret.is_some()));
    v.extend_from_slice(secret.as_bytes());
    v
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Decoding, for stores (and adapters) that need the fields back.

/// A key or value that does not follow the documented layout.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("key format {found} is not supported (this build reads format {KEY_FORMAT})")]
    UnsupportedFormat { found: u8 },
    #[error("key belongs to another scope than the batch's")]
    ScopeMismatch,
    #[error("malformed {what}")]
    Malformed { what: &'static str },
}

/// A ref watermark as stored and loaded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefWatermark {
    pub name: String,
    pub tip: ObjectId,
    /// The [`FinalizeInput::scan_seq`] of the scan that wrote it.
    pub scan_seq: u64,
}

/// What a watermark op does to its ref.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatermarkChange {
    Set {
        tip: ObjectId,
    },
    /// The ref left the start set; stores keep a tombstone with the sequence.
    Delete,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatermarkOp {
    pub name: String,
    pub scan_seq: u64,
    pub change: WatermarkChange,
}

/// A write op with its fields decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodedOp {
    BlobContext {
        blob: ObjectId,
        context: BlobContext,
    },
    Finding {
        blob: ObjectId,
        record: FindingRecord,
    },
    SeenBlob {
        blob: ObjectId,
    },
    Watermark(WatermarkOp),
    /// A namespace this build does not know: stores keep it as an opaque pair.
    Other {
        namespace: [u8; 2],
    },
}

/// Split `key` into its namespace and the fields after the scope, checking format and scope.
pub fn split_key<'k>(scope: &[u8], key: &'k [u8]) -> Result<([u8; 2], &'k [u8]), DecodeError> {
    let malformed = DecodeError::Malformed { what: "key header" };
    let &format = key.first().ok_or(malformed.clone())?;
    if format != KEY_FORMAT {
        return Err(DecodeError::UnsupportedFormat { found: format });
    }
    if key.len() < 4 || key[3] != 0 {
        return Err(malformed);
    }
    let ns = [key[1], key[2]];
    let rest = key[4..]
        .strip_prefix(scope)
        .ok_or(DecodeError::ScopeMismatch)?;
    Ok((ns, rest))
}

/// Decode one op of a batch whose scope encodes to `scope` (see [`Scope::encode`]).
pub fn decode_op(scope: &[u8], op: &WriteOp) -> Result<DecodedOp, DecodeError> {
    let (ns, fields) = split_key(scope, &op.key)?;
    let mut k = Reader(fields);
    let mut v = Reader(&op.value);
    let decoded = match ns {
        NS_BLOB_CTX => {
            let blob = k.oid("blob context key")?;
            k.end("blob context key")?;
            DecodedOp::BlobContext {
                blob,
                context: decode_blob_context_value(&op.value)?,
            }
        }
        NS_FINDING => {
            let what = "finding";
            let blob = k.oid(what)?;
            let start = k.u64(what)?;
            let end = k.u64(what)?;
            let rule_id = k.utf8(k.0.len(), what)?;
            let line = v.u64(what)?;
            let column = v.u64(what)?;
            let fp_len = v.u32(what)? as usize;
            let fingerprint = v.utf8(fp_len, what)?;
            let secret = match v.u8(what)? {
                0 => {
                    v.end(what)?;
                    None
                }
                1 => Some(v.utf8(v.0.len(), what)?),
                _ => return Err(DecodeError::Malformed { what }),
            };
            DecodedOp::Finding {
                blob,
                record: FindingRecord {
                    rule_id,
                    start,
                    end,
                    line,
                    column,
                    fingerprint,
                    secret,
                },
            }
        }
        NS_SEEN_BLOB => {
            let blob = k.oid("seen blob key")?;
            k.end("seen blob key")?;
            v.end("seen blob value")?;
            DecodedOp::SeenBlob { blob }
        }
        NS_REF_WATERMARK => {
            let what = "ref watermark";
            let name =
                k.0.strip_suffix(&[0])
                    .ok_or(DecodeError::Malformed { what })?;
            let name =
                String::from_utf8(name.to_vec()).map_err(|_| DecodeError::Malformed { what })?;
            let kind = v.u8(what)?;
            let scan_seq = v.u64(what)?;
            let change = match kind {
                WATERMARK_SET => WatermarkChange::Set { tip: v.oid(what)? },
                WATERMARK_DELETE => WatermarkChange::Delete,
                _ => return Err(DecodeError::Malformed { what }),
            };
            v.end(what)?;
            DecodedOp::Watermark(WatermarkOp {
                name,
                scan_seq,
                change,
            })
        }
        namespace => DecodedOp::Other { namespace },
    };
    Ok(decoded)
}

/// A watermark op's fields, borrowed from its key and value (what [`decode_op`] gives for the
/// `rw` namespace, without copying): for adapters that hand a foreign caller pointers into the
/// op's own bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatermarkFields<'a> {
    /// The ref name (UTF-8), without the key's terminating 0.
    pub name: &'a str,
    pub scan_seq: u64,
    /// The tip's object id bytes (20 or 32); `None` for a deletion.
    pub tip: Option<&'a [u8]>,
}

/// Decode a ref watermark (`rw`) op of the scope encoded as `scope` into borrowed fields;
/// an op of another namespace is [`DecodeError::Malformed`].
pub fn decode_watermark_fields<'a>(
    scope: &[u8],
    key: &'a [u8],
    value: &'a [u8],
) -> Result<WatermarkFields<'a>, DecodeError> {
    let what = "ref watermark";
    let (ns, fields) = split_key(scope, key)?;
    if ns != NS_REF_WATERMARK {
        return Err(DecodeError::Malformed {
            what: "ref watermark key (another namespace)",
        });
    }
    let name = fields
        .strip_suffix(&[0])
        .ok_or(DecodeError::Malformed { what })?;
    let name = std::str::from_utf8(name).map_err(|_| DecodeError::Malformed { what })?;
    let mut v = Reader(value);
    let kind = v.u8(what)?;
    let scan_seq = v.u64(what)?;
    let tip = match kind {
        WATERMARK_SET => {
            let len = v.u8(what)? as usize;
            let tip = v.take(len, what)?;
            ObjectId::try_from(tip).map_err(|_| DecodeError::Malformed { what })?;
            Some(tip)
        }
        WATERMARK_DELETE => None,
        _ => return Err(DecodeError::Malformed { what }),
    };
    v.end(what)?;
    Ok(WatermarkFields {
        name,
        scan_seq,
        tip,
    })
}

/// Decode the value of a blob context (`bc`) op.
pub fn decode_blob_context_value(value: &[u8]) -> Result<BlobContext, DecodeError> {
    let mut v = Reader(value);
    let commit = v.opt_oid("blob context value")?;
    Ok(BlobContext {
        commit,
        path: v.rest().to_vec(),
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Malformed { what });
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(
            self.take(4, what)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(
            self.take(8, what)?.try_into().expect("8 bytes"),
        ))
    }

    fn opt_oid(&mut self, what: &'static str) -> Result<Option<ObjectId>, DecodeError> {
        let len = self.u8(what)? as usize;
        if len == 0 {
            return Ok(None);
        }
        ObjectId::try_from(self.take(len, what)?)
            .map(Some)
            .map_err(|_| DecodeError::Malformed { what })
    }

    fn oid(&mut self, what: &'static str) -> Result<ObjectId, DecodeError> {
        self.opt_oid(what)?.ok_or(DecodeError::Malformed { what })
    }

    fn utf8(&mut self, n: usize, what: &'static str) -> Result<String, DecodeError> {
        let bytes = self.take(n, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::Malformed { what })
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }

    fn end(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Malformed { what })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_fields_borrow_what_decode_op_decodes() {
        let scope = Scope::new("repo", [3; 32]).encode();
        let tip = ObjectId::from_bytes_or_panic(&[9; 20]);
        for op in [
            watermark_op(&scope, "refs/heads/main", 42, Some(&tip)),
            watermark_op(&scope, "refs/tags/gone", 7, None),
        ] {
            let f = decode_watermark_fields(&scope, &op.key, &op.value).unwrap();
            let DecodedOp::Watermark(w) = decode_op(&scope, &op).unwrap() else {
                panic!("not a watermark");
            };
            assert_eq!((f.name, f.scan_seq), (w.name.as_str(), w.scan_seq));
            match w.change {
                WatermarkChange::Set { tip: t } => assert_eq!(f.tip, Some(t.as_slice())),
                WatermarkChange::Delete => assert_eq!(f.tip, None),
            }
        }
        let other = Scope::new("other", [3; 32]).encode();
        let op = watermark_op(&scope, "refs/heads/main", 1, Some(&tip));
        assert_eq!(
            decode_watermark_fields(&other, &op.key, &op.value),
            Err(DecodeError::ScopeMismatch)
        );
        let seen = seen_blob_op(&scope, &tip);
        assert!(decode_watermark_fields(&scope, &seen.key, &seen.value).is_err());
        let mut short = op.value.clone();
        short.pop();
        assert!(decode_watermark_fields(&scope, &op.key, &short).is_err());
    }
}
