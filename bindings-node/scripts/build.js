#!/usr/bin/env node
// `npm test` builds first: `napi build --release --platform` (the `build` script), in the
// workspace's target directory. Cargo decides what is stale, so an up-to-date build costs a
// few seconds. napi-rs passes `--target <host>`, so artifacts land in target/<host triple>/
// release; CARGO_BUILD_TARGET is set to that triple (when unset) so that other builds of the
// workspace that use it (the Python binding's, for instance) share those artifacts.
// SCANGIT_NODE_SKIP_BUILD=1 skips the build (an addon built elsewhere is used as it is).
'use strict'
const { execFileSync, spawnSync } = require('node:child_process')
const path = require('node:path')

if (process.env.SCANGIT_NODE_SKIP_BUILD === '1') process.exit(0)

const env = { ...process.env }
if (!env.CARGO_BUILD_TARGET) {
  try {
    const host = /^host: (\S+)$/m.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))
    if (host) env.CARGO_BUILD_TARGET = host[1]
  } catch {
    // No rustc on PATH: napi build reports it.
  }
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const r = spawnSync(npm, ['run', '--silent', 'build'], {
  cwd: path.resolve(__dirname, '..'),
  env,
  stdio: 'inherit',
})
process.exit(r.status ?? 1)
