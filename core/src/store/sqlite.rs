//! The embedded default store: one SQLite file (WAL mode), findings readable with plain SQL.
//!
//! Schema (version [`SCHEMA_VERSION`], applied by numbered migrations recorded in
//! `schema_version`):
//! - `scopes`: one row per (repo id, rules hash), with the scan-sequence counter.
//! - `findings`: one row per finding, for people and tools: `repo_id`, `rules_hash` (hex),
//!   `rule_id`, `commit_id` (hex, NULL for blobs reachable from no commit; `commit` is an SQL
//!   keyword), `path` (TEXT, or BLOB when the git path is not UTF-8), `line`, `column`,
//!   `start_offset`, `end_offset`, `blob_id` (hex), `fingerprint`, `first_seen` (Unix seconds of
//!   the commit that first stored it) and `secret` (NULL unless the caller kept secrets).
//! - Opaque state: `blob_ordinals` (stable `u32` ordinal per raw blob id, shared by all scopes),
//!   `seen_sets` (per scope, the roaring bitmap of seen ordinals cut into 2^16-ordinal chunks),
//!   `watermarks` (per scope and ref: tip hex and `scan_seq`; a NULL tip is a deletion
//!   tombstone) and `kv` (blob contexts and ops of namespaces this build does not interpret,
//!   keyed by the op key with the scope cut out).
//!
//! Invariants:
//! - One `BEGIN IMMEDIATE` transaction per commit: all of a batch or none of it is visible,
//!   including after a crash (SQLite's WAL recovery) — readers never see watermarks without data.
//! - A commit costs O(delta): it touches only the ordinals of its blobs and the bitmap chunks
//!   they fall in; ordinals are handed out in increasing order, so new blobs share new chunks.
//! - Several processes may use one file: writers queue on the busy timeout, and a watermark is
//!   replaced only by an op with an equal or larger `scan_seq` (newer never loses).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use gix_hash::ObjectId;
use parking_lot::Mutex;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::seen::{chunk_of, decode_chunk, encode_chunk, group_by_chunk};
use super::{FinalizeOutput, PersistenceStore, RefWatermark, Scope, StoreError};
use crate::store::codec::{
    BlobContext, DecodedOp, KEY_FORMAT, NS_BLOB_CTX, WatermarkChange, WriteOp,
    decode_blob_context_value, decode_op,
};

/// The schema this build writes; files with a larger version are refused.
pub const SCHEMA_VERSION: i64 = 1;

/// Migration `i` moves the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE scopes (
    scope_id      INTEGER PRIMARY KEY,
    scope_key     BLOB NOT NULL UNIQUE,
    repo_id       TEXT NOT NULL,
    rules_hash    TEXT NOT NULL,
    last_scan_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE findings (
    finding_id   INTEGER PRIMARY KEY,
    scope_id     INTEGER NOT NULL REFERENCES scopes (scope_id),
    repo_id      TEXT NOT NULL,
    rules_hash   TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    commit_id    TEXT,
    path         TEXT,
    line         INTEGER NOT NULL,
    column       INTEGER NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset   INTEGER NOT NULL,
    blob_id      TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    secret       TEXT,
    UNIQUE (scope_id, blob_id, start_offset, end_offset, rule_id)
);
CREATE INDEX findings_by_fingerprint ON findings (fingerprint);
CREATE INDEX findings_by_commit ON findings (commit_id);
CREATE TABLE blob_ordinals (
    ordinal INTEGER PRIMARY KEY,
    blob    BLOB NOT NULL UNIQUE
);
CREATE TABLE seen_sets (
    scope_id INTEGER NOT NULL REFERENCES scopes (scope_id),
    chunk    INTEGER NOT NULL,
    bitmap   BLOB NOT NULL,
    PRIMARY KEY (scope_id, chunk)
) WITHOUT ROWID;
CREATE TABLE watermarks (
    scope_id INTEGER NOT NULL REFERENCES scopes (scope_id),
    ref_name TEXT NOT NULL,
    tip      TEXT,
    scan_seq INTEGER NOT NULL,
    PRIMARY KEY (scope_id, ref_name)
) WITHOUT ROWID;
CREATE TABLE kv (
    scope_id INTEGER NOT NULL REFERENCES scopes (scope_id),
    key      BLOB NOT NULL,
    value    BLOB NOT NULL,
    PRIMARY KEY (scope_id, key)
) WITHOUT ROWID;
"#];

#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// How long a writer waits for another connection's transaction before failing.
    pub busy_timeout: Duration,
    /// `synchronous=FULL` (survives power loss with the last commit) instead of `NORMAL`
    /// (survives any process crash; a power loss may drop the last commits, never corrupt).
    pub synchronous_full: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(60),
            synchronous_full: false,
        }
    }
}

/// One row of the `findings` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFinding {
    pub repo_id: String,
    /// Hex of the rules hash the finding was recorded under.
    pub rules_hash: String,
    pub rule_id: String,
    /// Hex commit id, when the blob was reached from a commit.
    pub commit: Option<String>,
    pub path: Option<Vec<u8>>,
    pub line: u64,
    pub column: u64,
    pub start: u64,
    pub end: u64,
    /// Hex blob id.
    pub blob: String,
    pub fingerprint: String,
    /// Unix seconds of the commit that first recorded it.
    pub first_seen: i64,
    /// Only when the scan kept secrets.
    pub secret: Option<String>,
}

pub struct SqliteStore {
    // rusqlite connections are Send but not Sync; one connection serializes this process's
    // calls, other processes (and other `SqliteStore`s) coordinate through SQLite's locks.
    conn: Mutex<Connection>,
    path: PathBuf,
}

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::backend(format!("sqlite: {context}"), e)
}

const BUSY_RETRY: Duration = Duration::from_millis(5);

fn is_busy(e: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        e.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Run `f` until it does not fail with SQLITE_BUSY/LOCKED, for at most `timeout`.
fn retry_busy<T>(
    timeout: Duration,
    mut f: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match f() {
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(BUSY_RETRY)
            }
            other => return other,
        }
    }
}

fn seq_to_sql(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq)
        .map_err(|_| StoreError::InvalidBatch(format!("scan_seq {seq} exceeds 2^63-1")))
}

fn now_unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl SqliteStore {
    /// Open (creating if needed) the store at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, &SqliteOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        // Before anything writes (WAL, the schema): another program's file stays untouched.
        refuse_foreign(&path, options.busy_timeout)?;
        let mut conn = Connection::open(&path)
            .map_err(|e| StoreError::backend(format!("sqlite: open {}", path.display()), e))?;
        conn.busy_timeout(options.busy_timeout)
            .map_err(sql("busy_timeout"))?;
        // Switching a new file to WAL takes a shared then an exclusive lock; connections doing it
        // at once deadlock and SQLite answers BUSY to one at once, without the busy handler. Retry
        // until the busy timeout, as a commit would wait.
        let mode: String = retry_busy(options.busy_timeout, || {
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        })
        .map_err(sql("journal_mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt(format!(
                "{}: cannot enable WAL (journal_mode is {mode})",
                path.display()
            )));
        }
        let sync = if options.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        conn.pragma_update(None, "synchronous", sync)
            .map_err(sql("synchronous"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql("foreign_keys"))?;
        // Ordinal lookups are random probes into a B-tree of hashes: a larger page cache and
        // memory-mapped reads keep them off the read() path (both are per connection).
        conn.pragma_update(None, "cache_size", -32_768)
            .map_err(sql("cache_size"))?;
        conn.pragma_update(None, "mmap_size", 256i64 << 20)
            .map_err(sql("mmap_size"))?;
        let deadline = std::time::Instant::now() + options.busy_timeout;
        loop {
            match migrate(&mut conn) {
                Err(StoreError::Backend { source, .. })
                    if is_busy(source.as_ref()) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(BUSY_RETRY);
                }
                other => break other?,
            }
        }
        Ok(Self {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// Every stored finding (of one repository when `repo_id` is given), ordered by repository,
    /// rule, path, line and blob: what `scangit findings` lists.
    pub fn stored_findings(&self, repo_id: Option<&str>) -> Result<Vec<StoredFinding>, StoreError> {
        let conn = self.conn.lock();
        let mut stmt = conn
            .prepare(
                "SELECT repo_id, rules_hash, rule_id, commit_id, path, line, column, start_offset,
                        end_offset, blob_id, fingerprint, first_seen, secret
                 FROM findings WHERE ?1 IS NULL OR repo_id = ?1
                 ORDER BY repo_id, rule_id, path, line, blob_id, start_offset",
            )
            .map_err(sql("prepare findings listing"))?;
        let rows = stmt
            .query_map([repo_id], |r| {
                let path: Option<rusqlite::types::Value> = r.get(4)?;
                let path = match path {
                    Some(rusqlite::types::Value::Text(t)) => Some(t.into_bytes()),
                    Some(rusqlite::types::Value::Blob(b)) => Some(b),
                    _ => None,
                };
                Ok(StoredFinding {
                    repo_id: r.get(0)?,
                    rules_hash: r.get(1)?,
                    rule_id: r.get(2)?,
                    commit: r.get(3)?,
                    path,
                    line: r.get::<_, i64>(5)? as u64,
                    column: r.get::<_, i64>(6)? as u64,
                    start: r.get::<_, i64>(7)? as u64,
                    end: r.get::<_, i64>(8)? as u64,
                    blob: r.get(9)?,
                    fingerprint: r.get(10)?,
                    first_seen: r.get(11)?,
                    secret: r.get(12)?,
                })
            })
            .map_err(sql("list findings"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(sql("read a finding row"))
    }

    /// Fault injection for tests (SQLite's own test idea, at the statement-execution level):
    /// SQLite calls a progress handler every `every` virtual-machine instructions; the `step`th
    /// call (1-based) interrupts whatever statement is running (`SQLITE_INTERRUPT`), once, as a
    /// transient failure would. Returns the running count of handler calls, so a test sees
    /// whether the fault point was reached. `step = 0` removes the handler.
    #[cfg(feature = "testing")]
    pub fn interrupt_at(
        &self,
        step: u64,
        every: i32,
    ) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        use std::sync::atomic::{AtomicU64, Ordering};
        let calls = std::sync::Arc::new(AtomicU64::new(0));
        let counter = calls.clone();
        let conn = self.conn.lock();
        if step == 0 {
            conn.progress_handler(0, None::<fn() -> bool>).ok();
        } else {
            let handler = move || counter.fetch_add(1, Ordering::Relaxed) + 1 == step;
            conn.progress_handler(every, Some(handler)).ok();
        }
        calls
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `PRAGMA application_id` of the files this library creates ("SCGT").
const APPLICATION_ID: i64 = 0x5343_4754;

/// Refuses, read-only, a file that exists and is not a store of ours: not a SQLite database, a
/// database whose `application_id` names another program, or one holding tables but not our
/// `schema_version` (stores made before the application id was set have it). A new or empty
/// file is ours to initialise.
fn refuse_foreign(path: &Path, busy_timeout: Duration) -> Result<(), StoreError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::backend(
                format!("sqlite: open {}", path.display()),
                e,
            ));
        }
    };
    let foreign = |why: String| StoreError::Foreign(format!("{}: {why}", path.display()));
    if meta.is_dir() {
        return Err(foreign("is a directory".into()));
    }
    if meta.len() == 0 {
        return Ok(());
    }
    let mut magic = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut magic))
        .map_err(|e| StoreError::backend(format!("sqlite: open {}", path.display()), e))?;
    if read < 16 || &magic != b"SQLite format 3\0" {
        return Err(foreign("not a SQLite database".into()));
    }
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::backend(format!("sqlite: open {}", path.display()), e))?;
    conn.busy_timeout(busy_timeout)
        .map_err(sql("busy_timeout"))?;
    let app: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(sql("application_id"))?;
    if app != 0 && app != APPLICATION_ID {
        return Err(foreign(format!(
            "a SQLite database of another program (application_id {app:#x})"
        )));
    }
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(sql("list tables"))?;
    if !tables.is_empty() && !tables.iter().any(|t| t == "schema_version") {
        let mut names = tables
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if tables.len() > 3 {
            names.push_str(", ...");
        }
        return Err(foreign(format!(
            "a SQLite database of another program (tables {names})"
        )));
    }
    Ok(())
}

/// Bring the schema up to [`SCHEMA_VERSION`]; concurrent openers serialize on the write lock.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("begin migration"))?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(sql("schema_version"))?;
    let found: Option<i64> = tx
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .map_err(sql("read schema_version"))?;
    let found = found.unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == 0 {
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(sql("application_id"))?;
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(migration).map_err(sql("migration"))?;
        tx.execute("DELETE FROM schema_version", [])
            .map_err(sql("schema_version"))?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [i as i64 + 1],
        )
        .map_err(sql("schema_version"))?;
    }
    tx.commit().map_err(sql("commit migration"))
}

fn find_scope(tx: &Transaction<'_>, scope: &Scope) -> Result<Option<i64>, StoreError> {
    tx.prepare_cached("SELECT scope_id FROM scopes WHERE scope_key = ?1")
        .and_then(|mut s| s.query_row([scope.encode()], |r| r.get(0)).optional())
        .map_err(sql("find scope"))
}

fn ensure_scope(tx: &Transaction<'_>, scope: &Scope) -> Result<i64, StoreError> {
    if let Some(id) = find_scope(tx, scope)? {
        return Ok(id);
    }
    tx.execute(
        "INSERT INTO scopes (scope_key, repo_id, rules_hash) VALUES (?1, ?2, ?3)",
        params![scope.encode(), scope.repo_id, scope.rules_hash_hex()],
    )
    .map_err(sql("insert scope"))?;
    Ok(tx.last_insert_rowid())
}

/// The `kv` key of an op: its key without the scope (every row already names its scope).
fn kv_key(ns: [u8; 2], fields: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + fields.len());
    k.extend_from_slice(&[KEY_FORMAT, ns[0], ns[1], 0]);
    k.extend_from_slice(fields);
    k
}

fn oid_field(id: &ObjectId) -> Vec<u8> {
    let mut f = vec![id.as_bytes().len() as u8];
    f.extend_from_slice(id.as_bytes());
    f
}

fn path_value(path: &[u8]) -> Value {
    if path.is_empty() {
        Value::Null
    } else {
        match std::str::from_utf8(path) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => Value::Blob(path.to_vec()),
        }
    }
}

fn ordinal_of(tx: &Transaction<'_>, blob: &ObjectId) -> Result<Option<u32>, StoreError> {
    let found: Option<i64> = tx
        .prepare_cached("SELECT ordinal FROM blob_ordinals WHERE blob = ?1")
        .and_then(|mut s| s.query_row([blob.as_bytes()], |r| r.get(0)).optional())
        .map_err(sql("read ordinal"))?;
    found
        .map(|o| u32::try_from(o).map_err(|_| StoreError::Corrupt(format!("ordinal {o}"))))
        .transpose()
}

fn ordinal_or_insert(tx: &Transaction<'_>, blob: &ObjectId) -> Result<u32, StoreError> {
    if let Some(o) = ordinal_of(tx, blob)? {
        return Ok(o);
    }
    tx.prepare_cached("INSERT INTO blob_ordinals (blob) VALUES (?1)")
        .and_then(|mut s| s.execute([blob.as_bytes()]))
        .map_err(sql("insert ordinal"))?;
    u32::try_from(tx.last_insert_rowid())
        .map_err(|_| StoreError::Capacity("more than 2^32 distinct blob ids".into()))
}

impl PersistenceStore for SqliteStore {
    fn begin_scan(&self, scope: &Scope) -> Result<u64, StoreError> {
        let mut conn = self.conn.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("begin"))?;
        let scope_id = ensure_scope(&tx, scope)?;
        let seq: i64 = tx
            .query_row(
                "UPDATE scopes SET last_scan_seq = last_scan_seq + 1 WHERE scope_id = ?1 \
                 RETURNING last_scan_seq",
                [scope_id],
                |r| r.get(0),
            )
            .map_err(sql("next scan_seq"))?;
        tx.commit().map_err(sql("commit"))?;
        Ok(seq as u64)
    }

    fn load_watermarks(&self, scope: &Scope) -> Result<Vec<RefWatermark>, StoreError> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction().map_err(sql("begin"))?;
        let Some(scope_id) = find_scope(&tx, scope)? else {
            return Ok(Vec::new());
        };
        let rows: Vec<(String, String, i64)> = tx
            .prepare_cached(
                "SELECT ref_name, tip, scan_seq FROM watermarks \
                 WHERE scope_id = ?1 AND tip IS NOT NULL ORDER BY ref_name",
            )
            .and_then(|mut s| {
                s.query_map([scope_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(sql("read watermarks"))?;
        rows.into_iter()
            .map(|(name, tip, seq)| {
                let tip = ObjectId::from_hex(tip.as_bytes())
                    .map_err(|e| StoreError::Corrupt(format!("watermark tip of {name}: {e}")))?;
                Ok(RefWatermark {
                    name,
                    tip,
                    scan_seq: seq as u64,
                })
            })
            .collect()
    }

    fn seen_blobs(&self, scope: &Scope, ids: &[ObjectId]) -> Result<Vec<bool>, StoreError> {
        let mut conn = self.conn.lock();
        // One read transaction: ordinals and chunks come from the same snapshot.
        let tx = conn.transaction().map_err(sql("begin"))?;
        let Some(scope_id) = find_scope(&tx, scope)? else {
            return Ok(vec![false; ids.len()]);
        };
        // Probe in id order: consecutive probes then share B-tree pages.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&i| ids[i]);
        let mut ordinals: Vec<Option<u32>> = vec![None; ids.len()];
        for i in order {
            ordinals[i] = ordinal_of(&tx, &ids[i])?;
        }
        let mut chunks = HashMap::new();
        let mut read = tx
            .prepare_cached("SELECT bitmap FROM seen_sets WHERE scope_id = ?1 AND chunk = ?2")
            .map_err(sql("prepare"))?;
        for &chunk in group_by_chunk(ordinals.iter().flatten().copied()).keys() {
            let bytes: Option<Vec<u8>> = read
                .query_row(params![scope_id, chunk], |r| r.get(0))
                .optional()
                .map_err(sql("read seen chunk"))?;
            if let Some(bytes) = bytes {
                chunks.insert(chunk, decode_chunk(chunk, &bytes)?);
            }
        }
        Ok(ordinals
            .into_iter()
            .map(|o| o.is_some_and(|o| chunks.get(&chunk_of(o)).is_some_and(|bm| bm.contains(o))))
            .collect())
    }

    fn commit(&self, scope: &Scope, output: &FinalizeOutput) -> Result<(), StoreError> {
        let enc = scope.encode();
        let first_seen = now_unix_secs();
        let mut conn = self.conn.lock();
        // IMMEDIATE takes the write lock up front (waiting on busy_timeout), so the transaction
        // never fails half-way on a read-to-write upgrade. Dropping `tx` on any error rolls back.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("begin"))?;
        let scope_id = ensure_scope(&tx, scope)?;
        let mut contexts: HashMap<ObjectId, BlobContext> = HashMap::new();
        let mut seen: Vec<ObjectId> = Vec::new();
        let mut max_seq = 0u64;
        for op in output.data_ops.iter().chain(&output.watermark_ops) {
            match decode_op(&enc, op)? {
                DecodedOp::BlobContext { blob, context } => {
                    insert_kv(&tx, scope_id, op, &enc, false)?;
                    contexts.insert(blob, context);
                }
                DecodedOp::Finding { blob, record } => {
                    let context = match contexts.get(&blob) {
                        Some(c) => c.clone(),
                        None => stored_context(&tx, scope_id, &blob)?.unwrap_or_default(),
                    };
                    tx.prepare_cached(
                        "INSERT INTO findings (scope_id, repo_id, rules_hash, rule_id, commit_id, \
                         path, line, column, start_offset, end_offset, blob_id, fingerprint, \
                         first_seen, secret) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
                         ON CONFLICT DO UPDATE SET secret = coalesce(secret, excluded.secret)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            scope_id,
                            scope.repo_id,
                            scope.rules_hash_hex(),
                            record.rule_id,
                            context.commit.map(|c| c.to_hex().to_string()),
                            path_value(&context.path),
                            record.line as i64,
                            record.column as i64,
                            record.start as i64,
                            record.end as i64,
                            blob.to_hex().to_string(),
                            record.fingerprint,
                            first_seen,
                            record.secret,
                        ])
                    })
                    .map_err(sql("insert finding"))?;
                }
                DecodedOp::SeenBlob { blob } => seen.push(blob),
                DecodedOp::Watermark(w) => {
                    max_seq = max_seq.max(w.scan_seq);
                    let seq = seq_to_sql(w.scan_seq)?;
                    let tip = match w.change {
                        WatermarkChange::Set { tip } => Some(tip.to_hex().to_string()),
                        WatermarkChange::Delete => None,
                    };
                    // Newer never loses: an older scan's op leaves a newer watermark alone.
                    tx.prepare_cached(
                        "INSERT INTO watermarks (scope_id, ref_name, tip, scan_seq) \
                         VALUES (?1, ?2, ?3, ?4) \
                         ON CONFLICT (scope_id, ref_name) DO UPDATE \
                         SET tip = excluded.tip, scan_seq = excluded.scan_seq \
                         WHERE excluded.scan_seq >= watermarks.scan_seq",
                    )
                    .and_then(|mut s| s.execute(params![scope_id, w.name, tip, seq]))
                    .map_err(sql("upsert watermark"))?;
                }
                DecodedOp::Other { .. } => insert_kv(&tx, scope_id, op, &enc, true)?,
            }
        }
        fold_seen(&tx, scope_id, &seen)?;
        if max_seq > 0 {
            // Keep the counter ahead of every committed sequence, whoever issued it.
            tx.execute(
                "UPDATE scopes SET last_scan_seq = max(last_scan_seq, ?2) WHERE scope_id = ?1",
                params![scope_id, seq_to_sql(max_seq)?],
            )
            .map_err(sql("update scan_seq"))?;
        }
        tx.commit().map_err(sql("commit"))
    }
}

fn insert_kv(
    tx: &Transaction<'_>,
    scope_id: i64,
    op: &WriteOp,
    scope: &[u8],
    replace: bool,
) -> Result<(), StoreError> {
    let (ns, fields) = crate::store::codec::split_key(scope, &op.key)?;
    // Blob contexts keep their first write (like findings); unknown namespaces are plain KV.
    let statement = if replace {
        "INSERT OR REPLACE INTO kv (scope_id, key, value) VALUES (?1, ?2, ?3)"
    } else {
        "INSERT OR IGNORE INTO kv (scope_id, key, value) VALUES (?1, ?2, ?3)"
    };
    tx.prepare_cached(statement)
        .and_then(|mut s| s.execute(params![scope_id, kv_key(ns, fields), op.value]))
        .map_err(sql("insert kv"))?;
    Ok(())
}

/// The context stored by an earlier batch, for findings whose batch lacks the blob's context.
fn stored_context(
    tx: &Transaction<'_>,
    scope_id: i64,
    blob: &ObjectId,
) -> Result<Option<BlobContext>, StoreError> {
    let key = kv_key(NS_BLOB_CTX, &oid_field(blob));
    let value: Option<Vec<u8>> = tx
        .prepare_cached("SELECT value FROM kv WHERE scope_id = ?1 AND key = ?2")
        .and_then(|mut s| s.query_row(params![scope_id, key], |r| r.get(0)).optional())
        .map_err(sql("read blob context"))?;
    value
        .map(|v| decode_blob_context_value(&v).map_err(StoreError::from))
        .transpose()
}

/// Fold seen blobs into the scope's bitmap, rewriting only the chunks they fall in.
fn fold_seen(tx: &Transaction<'_>, scope_id: i64, blobs: &[ObjectId]) -> Result<(), StoreError> {
    if blobs.is_empty() {
        return Ok(());
    }
    let ordinals: Vec<u32> = blobs
        .iter()
        .map(|b| ordinal_or_insert(tx, b))
        .collect::<Result<_, _>>()?;
    let grouped: BTreeMap<u32, Vec<u32>> = group_by_chunk(ordinals);
    let mut read = tx
        .prepare_cached("SELECT bitmap FROM seen_sets WHERE scope_id = ?1 AND chunk = ?2")
        .map_err(sql("prepare"))?;
    let mut write = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO seen_sets (scope_id, chunk, bitmap) VALUES (?1, ?2, ?3)",
        )
        .map_err(sql("prepare"))?;
    for (chunk, members) in grouped {
        let existing: Option<Vec<u8>> = read
            .query_row(params![scope_id, chunk], |r| r.get(0))
            .optional()
            .map_err(sql("read seen chunk"))?;
        let mut bitmap = match existing {
            Some(bytes) => decode_chunk(chunk, &bytes)?,
            None => Default::default(),
        };
        let before = bitmap.len();
        bitmap.extend(members);
        if bitmap.len() != before {
            write
                .execute(params![scope_id, chunk, encode_chunk(&bitmap)])
                .map_err(sql("write seen chunk"))?;
        }
    }
    Ok(())
}
