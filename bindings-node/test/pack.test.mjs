// `npm pack` output installs into another project (offline, from the tarball alone) and works
// there, from CommonJS and from an ES module.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { PKG_DIR, makeCorpus, tempDir } from '../testlib/helpers.mjs'

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const quiet = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }

test('npm pack installs into a fresh project and works there', { timeout: 300000 }, () => {
  const { repo } = makeCorpus(2)
  const packDir = tempDir()
  const out = execFileSync(npm, ['pack', '--json', '--pack-destination', packDir], { ...quiet, cwd: PKG_DIR })
  const [info] = JSON.parse(out.slice(out.indexOf('[')))
  const files = info.files.map((f) => f.path).sort()
  for (const f of ['README.md', 'binding.d.ts', 'binding.js', 'index.d.ts', 'index.js', 'package.json']) {
    assert.ok(files.includes(f), `${f} in the tarball (${files})`)
  }
  assert.ok(files.some((f) => /^scangit\..+\.node$/.test(f)), 'the addon is in the tarball')
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test') || f.includes('node_modules')))
  const tgz = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz')))

  const project = tempDir('scangit-consumer-')
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }))
  execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', tgz], { ...quiet, cwd: project })

  writeFileSync(
    join(project, 'cjs.js'),
    `const { scanAll, version, SqliteStore, MemoryStore } = require('scangit')
     scanAll(process.argv[2]).then((events) => {
       const n = events.filter((e) => e.type === 'finding').length
       console.log(JSON.stringify({ version, n, classes: typeof SqliteStore + typeof MemoryStore }))
     }, (err) => { console.error(err); process.exit(1) })`,
  )
  const cjs = JSON.parse(execFileSync(process.execPath, ['cjs.js', repo], { ...quiet, cwd: project }))
  assert.ok(cjs.n > 0)
  assert.equal(cjs.classes, 'functionfunction')

  writeFileSync(
    join(project, 'esm.mjs'),
    `import { scan } from 'scangit'
     let n = 0
     for await (const e of scan(process.argv[2])) if (e.type === 'finding') n++
     console.log(n)`,
  )
  const esm = Number(execFileSync(process.execPath, ['esm.mjs', repo], { ...quiet, cwd: project }))
  assert.equal(esm, cjs.n)
})
