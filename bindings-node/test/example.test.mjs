// examples/node/scan.mjs runs and reports.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT, makeCorpus, tempDir } from '../testlib/helpers.mjs'

const { repo } = makeCorpus(4)
const example = join(ROOT, 'examples', 'node', 'scan.mjs')
const run = (...args) => spawnSync(process.execPath, [example, ...args], { encoding: 'utf8', timeout: 60000 })

test('examples/node/scan.mjs with a SQLite store: the second run reports nothing new', () => {
  const db = join(tempDir(), 'example.db')
  const first = run(repo, '--store', db)
  assert.equal(first.status, 1, first.stderr) // findings
  const m = /complete: (\d+) findings/.exec(first.stdout)
  assert.ok(m && Number(m[1]) > 0, first.stdout)
  const second = run(repo, '--store', db)
  assert.equal(second.status, 0, second.stderr)
  assert.match(second.stdout, /complete: 0 findings/)
})

test('examples/node/scan.mjs with a JS store, and on a bad path', () => {
  const r = run(repo, '--js-store')
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stdout, /second scan[\s\S]*complete: 0 findings/)
  const bad = run(join(tempDir(), 'missing'))
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /repo_not_found/)
})
