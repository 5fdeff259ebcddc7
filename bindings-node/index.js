'use strict'
// scangit for Node.js: the public API over the native addon (see index.d.ts for the types).
//
// scan(repo, options) returns an async iterable of plain event objects. The scan runs on native
// threads; events come in batches (one `nextBatch()` per batch, a promise resolved off a libuv
// worker), and the scan blocks while its queue of batches is full, so a slow consumer slows
// the scan down instead of growing memory. `break`/`return` aborts the scan and releases it;
// an AbortSignal aborts it and the iteration rejects with an AbortError. Warnings of a rules
// file (a rule id defined twice, ...) are emitted as process warnings of type
// 'ScangitRulesWarning' when the scan starts (`strictRules` makes them errors instead).

const native = require('./binding.js')

const ERROR_CODES = Object.freeze([
  'invalid_argument',
  'repo_not_found',
  'corrupt',
  'concurrent_maintenance',
  'aborted',
  'store',
  'rules_invalid',
  'resource_limit',
  'internal',
])

/** An Error with the contract's `code`; `name` is 'AbortError' for `code: 'aborted'`. */
function scanError(code, message, cause) {
  const err = cause === undefined ? new Error(message) : new Error(message, { cause })
  if (code === 'aborted') err.name = 'AbortError'
  err.code = code
  return err
}

/** The `type` of the process warnings a rules file's warnings are emitted as. */
const RULES_WARNING = 'ScangitRulesWarning'

function abortError(signal) {
  return scanError('aborted', 'The scan was aborted', signal && signal.reason)
}

// ------------------------------------------------------------------------------------ stores

const kNative = Symbol('scangit.native')

/** The embedded SQLite store: a file whose findings can be read with plain SQL. */
class SqliteStore {
  constructor(path) {
    if (typeof path !== 'string' || path === '') {
      throw scanError('invalid_argument', 'SqliteStore needs a file path (a non-empty string)')
    }
    this[kNative] = new native.NativeSqliteStore(path)
  }

  /** The store's file path. */
  get path() {
    return this[kNative].path
  }

  /** Every finding recorded in the store (of one repository when `repoId` is given). */
  findings(repoId) {
    if (repoId !== undefined && repoId !== null && typeof repoId !== 'string') {
      throw scanError('invalid_argument', 'repoId must be a string')
    }
    const rows = JSON.parse(this[kNative].findingsJson(repoId ?? null))
    for (const row of rows) {
      if (row.pathBytes !== undefined) row.pathBytes = Buffer.from(row.pathBytes)
    }
    return rows
  }
}

/** An in-memory store: incremental scans within one process, nothing on disk. */
class MemoryStore {
  constructor() {
    this[kNative] = new native.NativeMemoryStore()
  }
}

// A JS store object -> a small integer, so that the native side serializes commits of
// concurrent scans into the same object.
const storeIds = new WeakMap()
let nextStoreId = 1

const OP_GET_MANY = 0
const OP_SCAN_PREFIX = 1

function isBytes(v) {
  return v instanceof Uint8Array
}

function packAnswer(items) {
  // items: (Uint8Array | null)[] -> one Buffer and the lengths (-1 = missing).
  const lens = new Array(items.length)
  const parts = []
  let total = 0
  for (let i = 0; i < items.length; i++) {
    const v = items[i]
    if (v === null || v === undefined) {
      lens[i] = -1
    } else {
      if (!isBytes(v)) throw new TypeError('store values must be Buffers or Uint8Arrays')
      lens[i] = v.length
      parts.push(v)
      total += v.length
    }
  }
  return [Buffer.concat(parts, total), lens]
}

/**
 * The function the native side calls (on the main thread) for each store operation:
 * `op`, the keys or pairs packed into `data` by `lens`, and a `reply` to answer exactly once.
 * It never throws: whatever the store throws or rejects with is recorded (it becomes the
 * `cause` of the scan's store error) and reported through `reply.fail`.
 */
function makeDispatcher(store, state) {
  const fail = (reply, err) => {
    if (state.storeError === undefined) state.storeError = err
    let message
    try {
      message = err instanceof Error ? err.message : String(err)
    } catch {
      message = 'unprintable error'
    }
    reply.fail(message)
  }
  return (op, data, lens, reply) => {
    let result
    try {
      const items = new Array(lens.length)
      let at = 0
      for (let i = 0; i < lens.length; i++) {
        items[i] = data.subarray(at, at + lens[i])
        at += lens[i]
      }
      if (op === OP_GET_MANY) {
        result = store.getMany(items)
      } else if (op === OP_SCAN_PREFIX) {
        result = store.scanPrefix(items[0])
      } else {
        const pairs = new Array(items.length / 2)
        for (let i = 0; i < pairs.length; i++) pairs[i] = [items[2 * i], items[2 * i + 1]]
        result = store.writeBatch(pairs)
      }
    } catch (err) {
      fail(reply, err)
      return
    }
    const answer = (value) => {
      try {
        if (op === OP_GET_MANY) {
          if (!Array.isArray(value)) throw new TypeError('getMany must return an array')
          if (value.length !== lens.length) {
            throw new TypeError(`getMany returned ${value.length} values for ${lens.length} keys`)
          }
          const [buf, l] = packAnswer(value)
          reply.ok(buf, l)
        } else if (op === OP_SCAN_PREFIX) {
          if (value == null || typeof value[Symbol.iterator] !== 'function') {
            throw new TypeError('scanPrefix must return an array of [key, value] pairs')
          }
          const flat = []
          for (const pair of value) {
            if (!Array.isArray(pair) || !isBytes(pair[0]) || !isBytes(pair[1])) {
              throw new TypeError('scanPrefix must return [Buffer, Buffer] pairs')
            }
            flat.push(pair[0], pair[1])
          }
          const [buf, l] = packAnswer(flat)
          reply.ok(buf, l)
        } else {
          reply.ok(null, null)
        }
      } catch (err) {
        fail(reply, err)
      }
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      Promise.resolve(result).then(answer, (err) => fail(reply, err))
    } else {
      answer(result)
    }
  }
}

// ------------------------------------------------------------------------------------ options

const STRING_OPTIONS = ['mode', 'rules', 'since', 'range', 'repoId']
const BOOL_OPTIONS = ['strictRules', 'revealSecrets', 'allObjects', 'firstParentOnly', 'keepSecrets']
const SIZE_OPTIONS = ['maxBlobBytes', 'memoryBudgetBytes', 'chunkBytes']
const LIST_OPTIONS = ['refInclude', 'refExclude']
const KNOWN_OPTIONS = new Set([
  ...STRING_OPTIONS,
  ...BOOL_OPTIONS,
  ...SIZE_OPTIONS,
  ...LIST_OPTIONS,
  'threads',
  'store',
  'signal',
])

/** Type-check the options; returns [nativeOptions, store, signal] or throws invalid_argument. */
function checkOptions(options) {
  const bad = (msg) => scanError('invalid_argument', msg)
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object') throw bad('options must be an object')
  const out = {}
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw bad(`unknown option ${JSON.stringify(key)}`)
  }
  for (const key of STRING_OPTIONS) {
    const v = options[key]
    if (v === undefined || v === null) continue
    if (typeof v !== 'string') throw bad(`${key} must be a string`)
    out[key] = v
  }
  if (out.mode !== undefined && out.mode !== 'odb-blob' && out.mode !== 'diff-history') {
    throw bad(`unknown mode ${JSON.stringify(out.mode)} (use "odb-blob" or "diff-history")`)
  }
  for (const key of BOOL_OPTIONS) {
    const v = options[key]
    if (v === undefined || v === null) continue
    if (typeof v !== 'boolean') throw bad(`${key} must be a boolean`)
    out[key] = v
  }
  for (const key of SIZE_OPTIONS) {
    const v = options[key]
    if (v === undefined || v === null) continue
    // The range is checked by the core, with the same words in every binding.
    if (!Number.isSafeInteger(v)) throw bad(`${key} must be an integer`)
    out[key] = v
  }
  for (const key of LIST_OPTIONS) {
    const v = options[key]
    if (v === undefined || v === null) continue
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
      throw bad(`${key} must be an array of strings`)
    }
    out[key] = v.slice()
  }
  if (options.threads !== undefined && options.threads !== null) {
    const t = options.threads
    if (!Number.isSafeInteger(t)) throw bad('threads must be an integer')
    out.threads = t
  }
  const store = options.store ?? undefined
  if (
    store !== undefined &&
    typeof store !== 'string' &&
    !(store instanceof SqliteStore) &&
    !(store instanceof MemoryStore) &&
    !(
      typeof store === 'object' &&
      typeof store.getMany === 'function' &&
      typeof store.scanPrefix === 'function' &&
      typeof store.writeBatch === 'function'
    )
  ) {
    throw bad(
      'store must be a file path, a SqliteStore, a MemoryStore or an object with getMany, ' +
        'scanPrefix and writeBatch methods',
    )
  }
  const signal = options.signal ?? undefined
  if (
    signal !== undefined &&
    (typeof signal !== 'object' ||
      typeof signal.aborted !== 'boolean' ||
      typeof signal.addEventListener !== 'function')
  ) {
    throw bad('signal must be an AbortSignal')
  }
  return [out, store, signal]
}

// ------------------------------------------------------------------------------------ scan

const DONE = Object.freeze({ value: undefined, done: true })

/**
 * One scan: an async iterable (and its own iterator) of events. Created by `scan()`; the
 * native scan starts on the first `next()`.
 */
class Scan {
  #native = null
  #error = null // an error to reject the first next() with (bad options)
  #signal
  #onAbort = null
  #abortPromise = null // rejects when the signal fires
  #state = { storeError: undefined }
  #buffer = []
  #index = 0
  #finished = false
  #released = null // the promise of the native release, once asked for
  #pulling = null // the promise of the pull in progress (next() calls are serialized)

  constructor(repo, options) {
    try {
      if (typeof repo !== 'string' || repo === '') {
        throw scanError('invalid_argument', 'repo must be a path (a non-empty string)')
      }
      const [nativeOptions, store, signal] = checkOptions(options)
      this.#signal = signal
      this.#native = new native.NativeScan(repo, nativeOptions)
      if (typeof store === 'string') {
        this.#native.useSqlitePath(store)
      } else if (store instanceof SqliteStore) {
        this.#native.useSqliteStore(store[kNative])
      } else if (store instanceof MemoryStore) {
        this.#native.useMemoryStore(store[kNative])
      } else if (store !== undefined) {
        let id = storeIds.get(store)
        if (id === undefined) {
          id = nextStoreId++
          storeIds.set(store, id)
        }
        this.#native.useJsStore(makeDispatcher(store, this.#state), id)
      }
    } catch (err) {
      this.#error = toScanError(err)
      this.#signal = undefined
      return
    }
    const signal = this.#signal
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#error = abortError(signal)
        this.#native.abort()
      } else {
        this.#abortPromise = new Promise((_, reject) => {
          this.#onAbort = () => {
            this.#native.abort()
            reject(abortError(signal))
          }
        })
        // Only observed through Promise.race below; never an unhandled rejection.
        this.#abortPromise.catch(() => {})
        signal.addEventListener('abort', this.#onAbort, { once: true })
      }
    }
  }

  [Symbol.asyncIterator]() {
    return this
  }

  next() {
    // Fast path: events already pulled.
    if (this.#pulling === null && this.#index < this.#buffer.length && !this.#signalAborted()) {
      return Promise.resolve({ value: this.#buffer[this.#index++], done: false })
    }
    if (this.#pulling === null) {
      this.#pulling = this.#pull().finally(() => {
        this.#pulling = null
      })
      return this.#pulling
    }
    // A next() while another is pending: run after it.
    return this.#pulling.then(
      () => this.next(),
      () => this.next(),
    )
  }

  #signalAborted() {
    return this.#signal !== undefined && this.#signal.aborted
  }

  async #pull() {
    if (this.#finished) return DONE
    if (this.#error !== null) {
      const err = this.#error
      this.#error = null
      this.#finishSoon()
      throw err
    }
    for (;;) {
      if (this.#signalAborted()) {
        this.#finishSoon()
        throw abortError(this.#signal)
      }
      if (this.#index < this.#buffer.length) {
        return { value: this.#buffer[this.#index++], done: false }
      }
      let batch
      try {
        const pending = this.#native.nextBatch()
        batch = await (this.#abortPromise ? Promise.race([pending, this.#abortPromise]) : pending)
      } catch (err) {
        // The signal fired (or the addon failed): reject now; the native scan is released in
        // the background (and `return()` waits for that).
        this.#finishSoon()
        throw toScanError(err)
      }
      // The rules warnings come with the result of the call that started the scan.
      if (batch.warnings !== undefined && batch.warnings !== null) {
        for (const message of batch.warnings) process.emitWarning(message, { type: RULES_WARNING })
      }
      if (batch.events !== undefined && batch.events !== null) {
        const events = JSON.parse(batch.events)
        if (batch.hasPathBytes) {
          for (const e of events) {
            if (e.pathBytes !== undefined) e.pathBytes = Buffer.from(e.pathBytes)
          }
        }
        this.#buffer = events
        this.#index = 0
        continue
      }
      if (batch.done) {
        const code = batch.errorCode
        this.#detach()
        this.#finished = true
        this.#buffer = []
        if (code === undefined || code === null) return DONE
        if (code === 'aborted') throw abortError(this.#signal)
        const cause = code === 'store' ? this.#state.storeError : undefined
        throw scanError(code, batch.errorMessage, cause)
      }
      // Nothing yet: ask again.
    }
  }

  /** Stop the scan (if it runs) and wait until its native threads have ended. */
  async return(value) {
    if (this.#pulling !== null) {
      // Abort first, so that the pull in progress ends promptly.
      if (this.#native !== null) this.#native.abort()
      await this.#pulling.catch(() => {})
    }
    await this.#finish()
    return { value, done: true }
  }

  async throw(err) {
    await this.#finish()
    throw err
  }

  #detach() {
    if (this.#onAbort !== null) {
      this.#signal.removeEventListener('abort', this.#onAbort)
      this.#onAbort = null
    }
  }

  /** Mark the iteration finished and release the native scan (once); resolves when released. */
  #finish() {
    this.#detach()
    this.#finished = true
    this.#buffer = []
    this.#index = 0
    if (this.#released === null) {
      const n = this.#native
      if (n === null) {
        this.#released = Promise.resolve()
      } else {
        n.abort()
        this.#released = n.release()
      }
    }
    return this.#released
  }

  #finishSoon() {
    this.#finish().catch(() => {})
  }
}

function toScanError(err) {
  if (err instanceof Error && ERROR_CODES.includes(err.code)) {
    if (err.code === 'aborted') err.name = 'AbortError'
    return err
  }
  const message = err instanceof Error ? err.message : String(err)
  return scanError('internal', message, err)
}

/**
 * Scan `repo` (a path to a git repository, bare or with a work tree) and return an async
 * iterable of events: `for await (const event of scan(repo, options)) { ... }`.
 */
function scan(repo, options) {
  return new Scan(repo, options)
}

/** Every event of a scan, collected (convenient for small repositories). */
async function scanAll(repo, options) {
  const events = []
  for await (const event of scan(repo, options)) events.push(event)
  return events
}

const version = native.coreVersion()

module.exports = {
  scan,
  scanAll,
  SqliteStore,
  MemoryStore,
  ERROR_CODES,
  version,
}
