// Compiled (not run) by test/types.test.mjs with `tsc --noEmit --strict`: the public types
// accept real uses and reject wrong ones (each @ts-expect-error must be an error).
import { scan, scanAll, SqliteStore, MemoryStore, ERROR_CODES, version } from '../index.js'
import type { KvStore, ScanEvent, ScanError, ScanOptions, FindingEvent } from '../index.js'

class MapStore implements KvStore {
  map = new Map<string, Buffer>()
  getMany(keys: Buffer[]) {
    return keys.map((k) => this.map.get(k.toString('latin1')) ?? null)
  }
  scanPrefix(prefix: Buffer): Array<[Buffer, Buffer]> {
    const p = prefix.toString('latin1')
    return [...this.map]
      .filter(([k]) => k.startsWith(p))
      .map(([k, v]): [Buffer, Buffer] => [Buffer.from(k, 'latin1'), v])
  }
  async writeBatch(items: Array<[Buffer, Buffer]>) {
    for (const [k, v] of items) this.map.set(k.toString('latin1'), Buffer.from(v))
  }
}

async function main(): Promise<number> {
  const ac = new AbortController()
  const options: ScanOptions = {
    mode: 'diff-history',
    threads: 2,
    store: new MapStore(),
    revealSecrets: true,
    signal: ac.signal,
    refInclude: ['refs/heads/*'],
  }
  let total = 0
  for await (const e of scan('/repo', options)) {
    switch (e.type) {
      case 'finding': {
        const f: FindingEvent = e
        total += f.line + f.column
        const s: string | undefined = e.secret
        void s
        const p: Buffer | undefined = e.pathBytes
        void p
        break
      }
      case 'commit':
        total += e.authorTime
        break
      case 'progress':
        total += e.done
        break
      case 'summary':
        total += e.timingsMs.total + e.blobsAlreadySeen
        if (e.outcome === 'partial') total += e.skipped[0].count
        break
    }
    // @ts-expect-error ruleId exists on findings only
    void e.ruleId
  }
  const events: ScanEvent[] = await scanAll('/repo', { store: new SqliteStore('x.db') })
  await scanAll('/repo', { store: new MemoryStore() })
  await scanAll('/repo', { store: 'file.db' })
  await scanAll('/repo', { rules: 'rules.toml', strictRules: true })
  // @ts-expect-error strictRules is a boolean
  await scanAll('/repo', { strictRules: 'yes' })
  // @ts-expect-error unknown mode
  await scanAll('/repo', { mode: 'fast' })
  // @ts-expect-error not a store
  await scanAll('/repo', { store: 42 })
  try {
    await scanAll('/repo')
  } catch (err) {
    const e = err as ScanError
    if (e.code === 'aborted' || e.code === 'store') total++
    // @ts-expect-error not an error code
    if (e.code === 'nope') total++
  }
  const rows = new SqliteStore('x.db').findings('repo')
  total += rows.length + ERROR_CODES.length + version.length + events.length
  return total
}

void main
