#!/usr/bin/env node
// Before `npm pack`/`npm publish`: the addon must exist, and its debug info (the release
// profile keeps some for profiling) is stripped, which makes it about 5 times smaller.
'use strict'
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const dir = path.resolve(__dirname, '..')
const addons = fs.readdirSync(dir).filter((f) => /^scangit\..*\.node$/.test(f))
if (addons.length === 0 || !fs.existsSync(path.join(dir, 'binding.js'))) {
  console.error('scangit: no built addon; run `npm run build` first')
  process.exit(1)
}
for (const f of addons) {
  // Strip into a new file and rename it over the old one: a process that has the addon loaded
  // keeps its (unchanged) file.
  const file = path.join(dir, f)
  const tmp = `${file}.stripped-${process.pid}`
  const r = spawnSync('strip', ['--strip-debug', '-o', tmp, file], { stdio: 'inherit' })
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { force: true })
    console.error(`scangit: cannot strip ${f}; packing it as it is`)
    continue
  }
  fs.renameSync(tmp, file)
}
