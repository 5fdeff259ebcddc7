// The process exits by itself after every way a scan can end: no dangling handles or threads
// keep it alive. Each case runs in a child `node` that must exit 0 within the timeout.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { INDEX_URL, makeCorpus, makeManyFindings, runChild } from '../testlib/helpers.mjs'

const { repo } = makeCorpus(1)
const many = makeManyFindings(20000)

const HEADER = `
import { scan, scanAll, MemoryStore } from ${JSON.stringify(INDEX_URL)}
const repo = ${JSON.stringify(repo)}
const many = ${JSON.stringify(many)}
class MapStore {
  map = new Map()
  getMany(keys) { return keys.map((k) => this.map.get(k.toString('latin1')) ?? null) }
  scanPrefix(p) {
    const s = p.toString('latin1')
    return [...this.map].filter(([k]) => k.startsWith(s)).map(([k, v]) => [Buffer.from(k, 'latin1'), v])
  }
  async writeBatch(items) { for (const [k, v] of items) this.map.set(k.toString('latin1'), Buffer.from(v)) }
}
`

const CASES = {
  'a complete scan': `
    const events = await scanAll(repo)
    if (events.at(-1).type !== 'summary') process.exit(3)
  `,
  'break after the first event': `
    for await (const e of scan(many)) break
  `,
  'an abandoned iterator (no break, no return)': `
    const it = scan(many)[Symbol.asyncIterator]()
    await it.next()
    await it.next()
    // ... and never touched again, with the scan blocked on its full queue.
  `,
  'an iterator never started': `
    scan(many)
  `,
  'an AbortSignal': `
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 30)
    try { for await (const e of scan(many, { signal: ac.signal })) {} } catch (err) {
      if (err.name !== 'AbortError') throw err
    }
  `,
  'a signal that outlives the scan': `
    const ac = new AbortController()
    await scanAll(repo, { signal: ac.signal })
  `,
  'a JS store, twice, and a MemoryStore': `
    const store = new MapStore()
    await scanAll(repo, { store })
    await scanAll(repo, { store })
    await scanAll(repo, { store: new MemoryStore() })
  `,
  'a JS store that throws': `
    const store = new MapStore()
    store.writeBatch = () => { throw new Error('no') }
    await scanAll(repo, { store }).then(() => process.exit(3), (err) => { if (err.code !== 'store') process.exit(4) })
  `,
  'a JS store abandoned mid-scan': `
    const store = new MapStore()
    const it = scan(many, { store })[Symbol.asyncIterator]()
    await it.next()
  `,
  'two scans at once, one broken off': `
    const a = scanAll(repo)
    for await (const e of scan(many)) break
    await a
  `,
}

for (const [name, body] of Object.entries(CASES)) {
  test(`exits cleanly: ${name}`, async () => {
    const r = await runChild(`${HEADER}\n${body}\n`, { timeoutMs: 30000 })
    assert.equal(r.timedOut, false, `did not exit within 30 s\n${r.stderr}`)
    assert.equal(r.code, 0, `exit code ${r.code} signal ${r.signal}\n${r.stderr}`)
  })
}
