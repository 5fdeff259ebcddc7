// Persistence: JS stores (incremental results, failures), SqliteStore, MemoryStore.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { scan, scanAll, SqliteStore, MemoryStore } from '../index.js'
import {
  makeCorpus, copyRepo, addCommit, freshSecretLine, MapStore, tempDir, findingKeys,
} from '../testlib/helpers.mjs'

const corpus = makeCorpus(2)
let baseline

test('baseline scan without a store', async () => {
  baseline = findingKeys(await scanAll(corpus.repo))
  assert.ok(baseline.length > 10)
})

function summary(events) {
  const s = events.at(-1)
  assert.equal(s.type, 'summary')
  return s
}

/** First scan, a new commit, second scan: the second reports only the new secret. */
async function incremental(makeStore, { mode = 'odb-blob' } = {}) {
  const repo = copyRepo(corpus.repo)
  const store = makeStore()
  const first = await scanAll(repo, { store, mode })
  assert.deepEqual(findingKeys(first), baseline)
  assert.equal(summary(first).outcome, 'complete')

  // Nothing new: nothing reported.
  const again = await scanAll(repo, { store, mode })
  assert.deepEqual(findingKeys(again), [])
  assert.equal(summary(again).findings, 0)

  const { blob, commit } = addCommit(repo, 'config/new-secret.py', freshSecretLine())
  const second = await scanAll(repo, { store, mode })
  const findings = second.filter((e) => e.type === 'finding')
  assert.equal(findings.length, 1, JSON.stringify(findings))
  assert.equal(findings[0].blob, blob)
  assert.equal(findings[0].commit, commit)
  assert.equal(findings[0].path, 'config/new-secret.py')
  assert.equal(summary(second).commits, 1, 'only the new commit was walked')
  return store
}

test('a JS store (a Map) gives incremental results', async () => {
  const store = await incremental(() => new MapStore())
  assert.ok(store.map.size > 0)
  assert.ok(store.calls.writeBatch >= 2 && store.calls.getMany > 0 && store.calls.scanPrefix > 0)
})

test('a JS store whose methods return promises', async () => {
  await incremental(() => {
    const inner = new MapStore()
    const later = (f) => (...args) =>
      new Promise((resolve) => setTimeout(() => resolve(f(...args)), 1))
    return {
      getMany: later((keys) => inner.getMany(keys)),
      scanPrefix: later((p) => inner.scanPrefix(p)),
      writeBatch: later((items) => inner.writeBatch(items)),
    }
  }, { mode: 'diff-history' })
})

test('MemoryStore gives incremental results', async () => {
  await incremental(() => new MemoryStore())
})

test('SqliteStore and a path give incremental results', async () => {
  const dir = tempDir()
  const store = await incremental(() => new SqliteStore(join(dir, 'a.db')))
  assert.equal(store.path, join(dir, 'a.db'))
  const rows = store.findings()
  assert.equal(rows.length, baseline.length + 1)
  assert.ok(rows.every((r) => typeof r.fingerprint === 'string' && !('secret' in r)))
  await incremental(() => join(dir, 'b.db'))
  // A path and a SqliteStore on the same file see the same data.
  assert.equal(new SqliteStore(join(dir, 'b.db')).findings().length, baseline.length + 1)
})

function storeError(message, cause) {
  return (err) => {
    assert.ok(err instanceof Error)
    assert.equal(err.code, 'store')
    assert.ok(err.message.includes(message), err.message)
    if (cause !== undefined) assert.equal(err.cause, cause)
    return true
  }
}

for (const how of ['throws', 'rejects']) {
  test(`a JS store whose writeBatch ${how}: store error, nothing persisted`, async () => {
    const store = new MapStore()
    const boom = new Error(`disk full (${how})`)
    store.writeBatch = how === 'throws' ? () => { throw boom } : () => Promise.reject(boom)
    await assert.rejects(scanAll(corpus.repo, { store }), storeError(boom.message, boom))
    assert.equal(store.map.size, 0)
  })

  test(`a JS store whose getMany ${how} on a later scan: store error, Map unchanged`, async () => {
    const store = new MapStore()
    await scanAll(corpus.repo, { store })
    const before = store.snapshot()
    const boom = new TypeError(`lookup failed (${how})`)
    store.getMany = how === 'throws' ? () => { throw boom } : async () => { throw boom }
    await assert.rejects(scanAll(corpus.repo, { store }), storeError(boom.message, boom))
    assert.deepEqual(store.snapshot(), before)
  })
}

test('a JS store answering nonsense: store error', async () => {
  const store = new MapStore()
  store.getMany = (keys) => keys.map(() => 'not bytes')
  await assert.rejects(scanAll(corpus.repo, { store }), storeError('Buffers'))
  const short = new MapStore()
  short.scanPrefix = () => 42
  await assert.rejects(scanAll(corpus.repo, { store: short }), storeError('scanPrefix'))
})

test('two scans into one JS store at once', async () => {
  const store = new MapStore()
  const [a, b] = await Promise.all([scanAll(corpus.repo, { store }), scanAll(corpus.repo, { store })])
  // Both started before either committed: both report everything.
  assert.deepEqual(findingKeys(a), baseline)
  assert.deepEqual(findingKeys(b), baseline)
  assert.deepEqual(findingKeys(await scanAll(corpus.repo, { store })), [])
})

test('break out of a scan with a JS store, then scan again', async () => {
  const store = new MapStore()
  for await (const e of scan(corpus.repo, { store })) {
    void e
    break
  }
  assert.equal(store.calls.writeBatch, 0, 'an aborted scan persists nothing')
  assert.deepEqual(findingKeys(await scanAll(corpus.repo, { store })), baseline)
})

test('SqliteStore on a bad path throws a store error', () => {
  assert.throws(() => new SqliteStore(join(tempDir(), 'no', 'such', 'dir', 'x.db')), (err) => {
    assert.equal(err.code, 'store')
    return true
  })
})
