#!/usr/bin/env node
// Event throughput of the Node binding: iterating every event of a scan with ~100k findings,
// against the CLI writing the same scan as jsonl to /dev/null.
//
//   node bench/node_events.mjs [REPO] [--runs N]
//
// REPO defaults to /tmp/mf/many.git, made by `python3 bench/many_findings.py` when absent.
// Both sides run as whole processes (start-up, rule compilation, scan, output), alternately, after
// one untimed warm-up each; the median of N runs (default 5) is compared. The CLI is
// $SCANGIT_BIN or target/release/scangit (built with `cargo build --release -p scangit-cli`
// when missing); the addon must be built (`cd bindings-node && npm run build`).
// Acceptance (issue 7): node / cli <= 1.3.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const runsAt = args.indexOf('--runs')
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5
const repo = args.find((a, i) => !a.startsWith('--') && i !== runsAt + 1) ?? '/tmp/mf/many.git'

if (!existsSync(repo)) {
  console.error(`making ${repo} ...`)
  execFileSync('python3', [join(ROOT, 'bench', 'many_findings.py'), repo], { stdio: 'inherit' })
}
const cli = process.env.SCANGIT_BIN ?? join(ROOT, 'target', 'release', 'scangit')
if (!existsSync(cli)) {
  execFileSync('cargo', ['build', '--release', '-p', 'scangit-cli'], { cwd: ROOT, stdio: 'inherit' })
}
const index = join(ROOT, 'bindings-node', 'index.js')
if (!existsSync(join(ROOT, 'bindings-node', 'binding.js'))) {
  console.error('the addon is not built: cd bindings-node && npm install && npm run build')
  process.exit(2)
}

// The Node side: every event becomes a plain object that the loop touches.
const NODE_SCRIPT = `
import { scan } from ${JSON.stringify(pathToFileURL(index).href)}
let events = 0, findings = 0
for await (const e of scan(process.argv[1])) {
  events++
  if (e.type === 'finding' && e.ruleId.length > 0) findings++
}
console.log(JSON.stringify({ events, findings }))
`

function timeIt(cmd, argv) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 20 })
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  // The CLI exits 1 when it finds secrets.
  if (r.status !== 0 && r.status !== 1) {
    throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status}\n${r.stderr}`)
  }
  return { s, stdout: r.stdout }
}

const cliArgs = ['scan', repo, '--format', 'jsonl', '--no-progress', '--output', '/dev/null']
const nodeArgs = ['--input-type=module', '-e', NODE_SCRIPT, repo]
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// Warm-up (page cache, lazy loading), untimed.
timeIt(cli, cliArgs)
const { events, findings } = JSON.parse(timeIt(process.execPath, nodeArgs).stdout)

const cliTimes = []
const nodeTimes = []
for (let i = 0; i < runs; i++) {
  cliTimes.push(timeIt(cli, cliArgs).s)
  nodeTimes.push(timeIt(process.execPath, nodeArgs).s)
}
const c = median(cliTimes)
const n = median(nodeTimes)
const fmt = (xs) => xs.map((x) => x.toFixed(2)).join(' ')
console.log(`repo ${repo}: ${events} events, ${findings} findings; node ${process.version}; median of ${runs}`)
console.log(`cli   (jsonl > /dev/null)  ${c.toFixed(2)} s   [${fmt(cliTimes)}]`)
console.log(`node  (for await, every event)  ${n.toFixed(2)} s   [${fmt(nodeTimes)}]`)
console.log(`ratio node / cli: ${(n / c).toFixed(2)} (acceptance: <= 1.3)`)
