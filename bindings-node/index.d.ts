// Types of the `scangit` package (the public API of index.js).

/// <reference types="node" />

/** The contract's error kinds, as `err.code`. */
export type ErrorCode =
  | 'invalid_argument'
  | 'repo_not_found'
  | 'corrupt'
  | 'concurrent_maintenance'
  | 'aborted'
  | 'store'
  | 'rules_invalid'
  | 'resource_limit'
  | 'internal'

/** Every error code, in the contract's order. */
export declare const ERROR_CODES: readonly ErrorCode[]

/**
 * What a scan rejects with (and what the constructors throw): an `Error` with a `code`.
 * For `code: 'aborted'`, `name` is `'AbortError'` and `cause` is the signal's reason.
 * For `code: 'store'` raised by a JS store, `cause` is what the store threw or rejected with.
 */
export interface ScanError extends Error {
  code: ErrorCode
  cause?: unknown
}

/** One occurrence of a secret in one blob. */
export interface FindingEvent {
  type: 'finding'
  ruleId: string
  ruleDescription: string
  /** Hex id of the blob the secret was found in. */
  blob: string
  /**
   * Hex id of the commit that introduced the blob at `path`; `null` only for blobs reachable
   * from no commit.
   */
  commit: string | null
  /** Path in that commit's tree (lossy UTF-8 when the git path is not valid UTF-8); null for
   * messages. */
  path: string | null
  /** The exact path bytes, present only when the path is not valid UTF-8. */
  pathBytes?: Buffer
  /** 1-based line of `start`. */
  line: number
  /** 1-based column of `start`, in bytes. */
  column: number
  /** Byte offsets in the blob of the reported span. */
  start: number
  end: number
  /** Keyed hash of (rule, secret): stable across runs; no secret is recoverable from it. */
  fingerprint: string
  /** The raw secret, only with `revealSecrets: true`. */
  secret?: string
  /** The matched line with the secret masked. */
  snippet: string
  /** How the text was decoded before matching (`'base64'`, ...), outermost first. */
  decodedFrom: string[]
  /** 0 to 1. */
  confidence: number
  /** What the secret sits in: a file's content, or a commit's or annotated tag's message
   * (`blob` is then the commit's or tag's id). */
  location: 'blob' | 'commit-message' | 'tag-message'
}

/** Metadata of a commit that has findings; at most once per commit, possibly after them. */
export interface CommitEvent {
  type: 'commit'
  commit: string
  authorName: string
  authorEmail: string
  /** Seconds since the Unix epoch. */
  authorTime: number
  committerName: string
  committerEmail: string
  committerTime: number
  /** First line of the message. */
  summary: string
}

export type Phase = 'open' | 'index' | 'commits' | 'plan' | 'scan' | 'finalize'

/** Throttled progress. */
export interface ProgressEvent {
  type: 'progress'
  phase: Phase
  done: number
  total: number
  bytesScanned: number
}

export type SkipReason = 'binary' | 'too_large' | 'corrupt' | 'missing'

export interface SkipCount {
  reason: SkipReason
  count: number
  /** A few examples (object id and message). */
  examples: string[]
}

/** Wall time per pipeline stage, in milliseconds. */
export interface Timings {
  open: number
  index: number
  commits: number
  plan: number
  scan: number
  finalize: number
  total: number
}

/** Always the last event of a successful scan. */
export interface SummaryEvent {
  type: 'summary'
  /** `'partial'` when something was skipped for a reason other than `binary`. */
  outcome: 'complete' | 'partial'
  skipped: SkipCount[]
  commits: number
  blobsPlanned: number
  /** Planned blobs left out because the store says an earlier scan already scanned them. */
  blobsAlreadySeen: number
  blobsScanned: number
  bytesScanned: number
  findings: number
  timingsMs: Timings
}

/** A scan event; switch on `type`. */
export type ScanEvent = FindingEvent | CommitEvent | ProgressEvent | SummaryEvent

/**
 * A key/value store written in JavaScript. Keys and values are opaque byte strings (the
 * library's versioned layout); a store only has to keep them. Each method may return a
 * promise. A throw or rejection ends the scan with a `code: 'store'` error, and the scan then
 * persists nothing.
 *
 * Keys arrive as Buffers that may share memory with others: copy them (or convert them, for
 * example with `key.toString('latin1')` as a Map key) before keeping them.
 */
export interface KvStore {
  /** The value of each key (`null` or `undefined` when absent); result[i] answers keys[i]. */
  getMany(
    keys: Buffer[],
  ): Array<Uint8Array | null | undefined> | Promise<Array<Uint8Array | null | undefined>>
  /** Every [key, value] pair whose key starts with `prefix`, in any order. */
  scanPrefix(
    prefix: Buffer,
  ): Iterable<[Uint8Array, Uint8Array]> | Promise<Iterable<[Uint8Array, Uint8Array]>>
  /**
   * Store every pair, all or nothing: if it throws or rejects, nothing of the batch may
   * remain. Calls are serialized within the process for one store object; a store shared by
   * several processes must serialize them itself.
   */
  writeBatch(items: Array<[Buffer, Buffer]>): void | Promise<void>
}

/** The embedded SQLite store. Opening it creates the file if needed. */
export declare class SqliteStore {
  #private
  /** Throws a `code: 'store'` error when the file cannot be opened or is not a store. */
  constructor(path: string)
  readonly path: string
  /** Every finding recorded in the store (of one repository when `repoId` is given). */
  findings(repoId?: string): StoredFinding[]
}

/** A finding as recorded in a SqliteStore. */
export interface StoredFinding {
  repoId: string
  /** Hex of the rules hash the finding was recorded under. */
  rulesHash: string
  ruleId: string
  commit: string | null
  path: string | null
  pathBytes?: Buffer
  line: number
  column: number
  start: number
  end: number
  blob: string
  fingerprint: string
  /** Unix seconds of the commit that first recorded it. */
  firstSeen: number
  /** Only when the scan kept secrets (`keepSecrets`). */
  secret?: string
}

/** An in-memory store: incremental scans within one process, nothing on disk. */
export declare class MemoryStore {
  #private
  constructor()
}

export interface ScanOptions {
  /** `'odb-blob'` (default: every unique blob once) or `'diff-history'` (per-commit diffs). */
  mode?: 'odb-blob' | 'diff-history'
  /** Worker threads; 0 (default) = one per core; at most 1024. */
  threads?: number
  /**
   * Path of a rules file (TOML, gitleaks-compatible); default: the built-in rules. Its warnings
   * (a rule id defined twice, where the later definition wins as in gitleaks; something not
   * fully applied) are emitted when the scan starts, as process warnings of type
   * `'ScangitRulesWarning'` (`process.on('warning', ...)`), each naming the file and the rule.
   */
  rules?: string
  /**
   * Refuse a rules file with any warning: the iteration rejects with a `code: 'rules_invalid'`
   * error naming the rule instead. Default false.
   */
  strictRules?: boolean
  /**
   * Persistence: a SQLite file path, a SqliteStore, a MemoryStore or a JS store. With a store,
   * a scan skips what earlier complete scans (with the same rules) already covered.
   */
  store?: string | SqliteStore | MemoryStore | KvStore
  /** Put the raw secret in finding events (`secret`). Default false. */
  revealSecrets?: boolean
  /** Aborts the scan: the iteration rejects with an AbortError (`code: 'aborted'`). */
  signal?: AbortSignal
  /** Blobs larger than this are skipped (reason `too_large`). Default 256 MiB. */
  maxBlobBytes?: number
  /** Upper bound for decode caches. Default 1 GiB. */
  memoryBudgetBytes?: number
  /** Ref globs to scan (`refs/heads/*`, `HEAD`, ...); default every ref. */
  refInclude?: string[]
  refExclude?: string[]
  /** Also scan objects reachable from no ref. */
  allObjects?: boolean
  /** Leave out commits reachable from this revision. */
  since?: string
  /** Scan only the commits of `A..B`. */
  range?: string
  /** diff-history: diff merges against their first parent only. */
  firstParentOnly?: boolean
  /** Chunk window of the scanner, in bytes (raised to the rules' minimum). */
  chunkBytes?: number
  /** How the store names this repository; default the canonical path of its git directory. */
  repoId?: string
  /** Keep raw secrets in the store (off by default: stores hold fingerprints only). */
  keepSecrets?: boolean
}

/**
 * A scan: an async iterable of events and its own iterator. The scan starts on the first
 * `next()`. `break` (or `return()`) aborts it and resolves once its native threads have ended.
 */
export interface Scan extends AsyncIterableIterator<ScanEvent> {
  next(): Promise<IteratorResult<ScanEvent, undefined>>
  return(value?: unknown): Promise<IteratorResult<ScanEvent, undefined>>
  throw(err?: unknown): Promise<IteratorResult<ScanEvent, undefined>>
  [Symbol.asyncIterator](): Scan
}

/**
 * Scan the history of the repository at `repo` (bare or with a work tree). Errors, including
 * invalid options, reject the iteration with a {@link ScanError}.
 *
 * ```js
 * for await (const event of scan('/path/to/repo')) {
 *   if (event.type === 'finding') console.log(event.ruleId, event.path, event.line)
 * }
 * ```
 */
export declare function scan(repo: string, options?: ScanOptions): Scan

/** Every event of a scan, collected (convenient for small repositories). */
export declare function scanAll(repo: string, options?: ScanOptions): Promise<ScanEvent[]>

/** The library version. */
export declare const version: string
