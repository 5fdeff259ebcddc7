// AbortSignal, early break and backpressure.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { scan, scanAll } from '../index.js'
import { makeManyFindings, findingKeys } from '../testlib/helpers.mjs'

// ~20k findings: a scan long enough to interrupt, short enough to finish in a test.
const repo = makeManyFindings(20000)
let reference

test('a full scan, for reference', async () => {
  const events = await scanAll(repo, { threads: 2 })
  reference = findingKeys(events)
  assert.equal(events.at(-1).type, 'summary')
  assert.ok(reference.length >= 19000, `${reference.length} findings`)
})

function assertAbortError(err) {
  assert.ok(err instanceof Error)
  assert.equal(err.name, 'AbortError')
  assert.equal(err.code, 'aborted')
  return true
}

test('AbortController aborts a running scan promptly', async () => {
  const ac = new AbortController()
  let seen = 0
  let abortedAt
  await assert.rejects(async () => {
    for await (const e of scan(repo, { signal: ac.signal })) {
      seen++
      if (seen === 100) {
        // Abort from outside the loop, while the consumer waits for more.
        setTimeout(() => {
          abortedAt = performance.now()
          ac.abort()
        }, 0)
        await sleep(5)
      }
      void e
    }
  }, assertAbortError)
  const ms = performance.now() - abortedAt
  assert.ok(ms < 1000, `rejected ${ms.toFixed(0)} ms after abort()`)
  assert.ok(seen < reference.length, 'the scan did not run to the end')
})

test('abort while a batch is being waited for rejects at once', async () => {
  const ac = new AbortController()
  const it = scan(repo, { signal: ac.signal })[Symbol.asyncIterator]()
  await it.next() // the scan runs
  // Drain the current batch so that the next call waits on the native side.
  const pending = (async () => {
    for (;;) await it.next()
  })()
  await sleep(1)
  const t0 = performance.now()
  ac.abort(new Error('stop now'))
  await assert.rejects(pending, (err) => {
    assertAbortError(err)
    assert.equal(err.cause.message, 'stop now', 'cause is the signal reason')
    return true
  })
  assert.ok(performance.now() - t0 < 1000)
  // Further calls are done.
  assert.deepEqual(await it.next(), { value: undefined, done: true })
})

test('an already aborted signal rejects on the first next()', async () => {
  const t0 = performance.now()
  await assert.rejects(scanAll(repo, { signal: AbortSignal.abort() }), assertAbortError)
  assert.ok(performance.now() - t0 < 1000)
})

test('aborting one scan leaves another one running', async () => {
  const ac = new AbortController()
  const a = scanAll(repo, { signal: ac.signal, threads: 1 })
  const b = scanAll(repo, { threads: 1 })
  setTimeout(() => ac.abort(), 20)
  await assert.rejects(a, assertAbortError)
  assert.deepEqual(findingKeys(await b), reference)
})

test('break releases the scan; the next scan works', async () => {
  for (let i = 0; i < 3; i++) {
    let n = 0
    const t0 = performance.now()
    for await (const e of scan(repo)) {
      void e
      if (++n === 10 + i * 1000) break
    }
    assert.ok(performance.now() - t0 < 5000, 'break returned')
  }
  // A scan whose consumer stopped while the native queue was full (backpressure) is
  // released too.
  const it = scan(repo)[Symbol.asyncIterator]()
  await it.next()
  await sleep(300) // the scan fills its queue and blocks
  const t0 = performance.now()
  assert.deepEqual(await it.return(), { value: undefined, done: true })
  assert.ok(performance.now() - t0 < 2000)
  assert.deepEqual(await it.next(), { value: undefined, done: true })
  assert.deepEqual(findingKeys(await scanAll(repo)), reference)
})

test('a slow consumer slows the scan (bounded buffering)', async () => {
  const it = scan(repo, { threads: 2 })[Symbol.asyncIterator]()
  await it.next()
  // Far longer than the whole scan takes when consumed at full speed.
  await sleep(1500)
  const rss0 = process.memoryUsage().rss
  let progress = 0
  let rest = 0
  for (;;) {
    const { value, done } = await it.next()
    if (done) break
    rest++
    if (value.type === 'progress' && value.phase === 'scan') progress++
    if (value.type === 'summary') {
      // The scan could not finish while nobody read: its scan stage lasted through the pause.
      assert.ok(value.timingsMs.scan > 1000, `scan stage ${value.timingsMs.scan} ms`)
    }
  }
  assert.ok(rest > 19000)
  assert.ok(process.memoryUsage().rss - rss0 < 512 << 20)
})

test('many next() calls at once are served one event each', async () => {
  const it = scan(repo)[Symbol.asyncIterator]()
  const results = await Promise.all(Array.from({ length: 2000 }, () => it.next()))
  assert.ok(results.every((r) => !r.done))
  // No event twice, none lost: with the rest, exactly the findings of a whole scan.
  const values = results.map((r) => r.value)
  assert.equal(new Set(values).size, values.length)
  for (;;) {
    const r = await it.next()
    if (r.done) break
    values.push(r.value)
  }
  assert.deepEqual(findingKeys(values), reference)
})
