#!/usr/bin/env node
// Scan a repository's whole history and print what was found.
//
//   node examples/node/scan.mjs REPO [--store FILE.db] [--js-store] [--reveal-secrets]
//
// --store FILE.db   remember what was scanned in a SQLite file: the next run reports only what
//                   is new (run it twice to see)
// --js-store        the same with a store written in JavaScript (a Map), scanning twice
// Ctrl-C aborts the scan through an AbortSignal.
//
// In a project that depends on the package, import from 'scangit' instead.
import { scan, SqliteStore } from '../../bindings-node/index.js'

const args = process.argv.slice(2)
const repo = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--store')
if (!repo) {
  console.error('usage: node examples/node/scan.mjs REPO [--store FILE.db] [--js-store] [--reveal-secrets]')
  process.exit(2)
}
const storeAt = args.indexOf('--store')
const revealSecrets = args.includes('--reveal-secrets')

/** A store written in JavaScript: three methods over byte-string keys, kept in a Map. */
class MapStore {
  map = new Map() // key bytes (as a latin1 string) -> value Buffer
  getMany(keys) {
    return keys.map((k) => this.map.get(k.toString('latin1')) ?? null)
  }
  scanPrefix(prefix) {
    const p = prefix.toString('latin1')
    const out = []
    for (const [k, v] of this.map) if (k.startsWith(p)) out.push([Buffer.from(k, 'latin1'), v])
    return out
  }
  writeBatch(items) {
    // All or nothing: nothing here can fail halfway. (A real store would use a transaction;
    // each method may also return a promise.)
    for (const [k, v] of items) this.map.set(k.toString('latin1'), Buffer.from(v))
  }
}

async function run(store) {
  const ac = new AbortController()
  const onSigint = () => ac.abort()
  process.once('SIGINT', onSigint)
  const commits = new Map()
  let findings = 0
  try {
    for await (const e of scan(repo, { store, revealSecrets, signal: ac.signal })) {
      if (e.type === 'finding') {
        findings++
        const where = `${e.path ?? '(no path)'}:${e.line}:${e.column}`
        const secret = e.secret !== undefined ? `  ${e.secret}` : ''
        console.log(`${e.ruleId.padEnd(28)} ${where}  ${(e.commit ?? '-').slice(0, 10)}${secret}`)
      } else if (e.type === 'commit') {
        commits.set(e.commit, e)
      } else if (e.type === 'summary') {
        const skipped = e.skipped.map((s) => `${s.count} ${s.reason}`).join(', ') || 'nothing'
        console.log(
          `\n${e.outcome}: ${e.findings} findings in ${e.blobsScanned} blobs of ${e.commits} commits ` +
            `(${e.blobsAlreadySeen} already seen, skipped ${skipped}), ${e.timingsMs.total.toFixed(0)} ms; ` +
            `${commits.size} commits with findings`,
        )
      }
    }
  } catch (err) {
    console.error(`scan failed [${err.code}]: ${err.message}`)
    process.exitCode = 2
    return
  } finally {
    process.off('SIGINT', onSigint)
  }
  if (findings > 0 && process.exitCode === undefined) process.exitCode = 1
}

if (args.includes('--js-store')) {
  const store = new MapStore()
  console.log('first scan, with a JS store:')
  await run(store)
  console.log(`\nsecond scan, same store (${store.map.size} keys): only what is new`)
  await run(store)
} else {
  await run(storeAt >= 0 ? new SqliteStore(args[storeAt + 1]) : undefined)
}
