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
