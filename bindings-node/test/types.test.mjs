// index.d.ts type-checks real uses (testlib/types-check.ts) under `tsc --strict`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { PKG_DIR } from '../testlib/helpers.mjs'

test('index.d.ts: tsc --strict accepts the typed uses and rejects the wrong ones', { timeout: 120000 }, () => {
  const tsc = createRequire(join(PKG_DIR, 'package.json')).resolve('typescript/bin/tsc')
  const r = spawnSync(
    process.execPath,
    [
      tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext',
      '--moduleResolution', 'nodenext', '--types', 'node', '--skipLibCheck', 'false',
      join(PKG_DIR, 'testlib', 'types-check.ts'),
    ],
    { cwd: PKG_DIR, encoding: 'utf8' },
  )
  assert.equal(r.status, 0, r.stdout + r.stderr)
})

// The declared types are a hand-kept copy of the field names core writes (core/src/events_json.rs):
// real events of a real scan, written as object literals typed with index.d.ts, must compile under
// tsc --strict (excess-property checks catch a field the types lack; a declared required field
// that events lack fails too).
test('index.d.ts: real events and stored findings have exactly the declared fields', { timeout: 180000 }, async () => {
  const { scan, SqliteStore } = await import('../index.js')
  const { makeCorpus, tempDir, collect } = await import('../testlib/helpers.mjs')
  const { writeFileSync } = await import('node:fs')
  const { repo } = makeCorpus(1)
  const dir = tempDir()
  const store = new SqliteStore(join(dir, 'f.db'))
  const events = await collect(scan(repo, { store, revealSecrets: true, keepSecrets: true }))
  const first = (type) => events.find((e) => e.type === type)
  const samples = [
    ['FindingEvent', first('finding')],
    ['CommitEvent', first('commit')],
    ['ProgressEvent', first('progress')],
    ['SummaryEvent', first('summary')],
    ['StoredFinding', store.findings()[0]],
  ]
  const lines = ["import type { FindingEvent, CommitEvent, ProgressEvent, SummaryEvent, StoredFinding } from '../index.js'"]
  samples.forEach(([type, value], i) => {
    assert.ok(value !== undefined, `the scan produced no ${type}`)
    lines.push(`export const v${i}: ${type} = ${JSON.stringify(value)}`)
  })
  const file = join(PKG_DIR, 'testlib', 'events-check.gen.ts')
  writeFileSync(file, lines.join('\n') + '\n')
  try {
    const tsc = createRequire(join(PKG_DIR, 'package.json')).resolve('typescript/bin/tsc')
    const r = spawnSync(
      process.execPath,
      [
        tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext',
        '--moduleResolution', 'nodenext', '--types', 'node', file,
      ],
      { cwd: PKG_DIR, encoding: 'utf8' },
    )
    assert.equal(r.status, 0, r.stdout + r.stderr)
  } finally {
    (await import('node:fs')).rmSync(file, { force: true })
  }
})
