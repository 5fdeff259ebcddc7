// Shared by the tests in ../test (kept outside test/ so that `node --test test/` does not run
// it as a test file).
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync, cpSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const PKG_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const ROOT = resolve(PKG_DIR, '..')
export const INDEX_URL = pathToFileURL(join(PKG_DIR, 'index.js')).href
export const CORPUS_SCRIPT =
  process.env.SCANGIT_CORPUS_SCRIPT || join(ROOT, 'tests', 'corpus', 'make_repo.py')

const tempDirs = []
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

/** A temporary directory, removed when the process exits. */
export function tempDir(prefix = 'scangit-node-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

/** A tiny corpus repository (bare) and its manifest rows (tests/corpus/make_repo.py). */
export function makeCorpus(seed, dir = tempDir()) {
  const repo = join(dir, `tiny${seed}.git`)
  execFileSync('python3', [CORPUS_SCRIPT, '--preset', 'tiny', '--seed', String(seed), '--out', repo], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const rows = readFileSync(`${repo}.planted.jsonl`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l))
  return { repo, rows }
}

/** A bare repository whose scan yields about `findings` findings (bench/many_findings.py). */
export function makeManyFindings(findings, dir = tempDir()) {
  const repo = join(dir, `many${findings}.git`)
  execFileSync(
    'python3',
    [join(ROOT, 'bench', 'many_findings.py'), repo, '--findings', String(findings), '--per-file', '500'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  return repo
}

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
}

export function git(repo, args, input, env = {}) {
  return execFileSync('git', ['--git-dir', repo, ...args], {
    input,
    env: { ...GIT_ENV, ...env },
    encoding: 'utf8',
  }).trim()
}

/** Copy a repository (a directory) to a new temporary place. */
export function copyRepo(repo) {
  const to = join(tempDir(), 'copy.git')
  cpSync(repo, to, { recursive: true })
  return to
}

/**
 * Add a commit on top of HEAD with git plumbing: `path` gets `content`. Returns the ids of the
 * new blob and commit.
 */
export function addCommit(repo, path, content) {
  const blob = git(repo, ['hash-object', '-w', '--stdin'], content)
  const index = join(tempDir(), 'index')
  const env = { GIT_INDEX_FILE: index }
  git(repo, ['read-tree', 'HEAD'], undefined, env)
  git(repo, ['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], undefined, env)
  const tree = git(repo, ['write-tree'], undefined, env)
  const commit = git(repo, ['commit-tree', tree, '-p', 'HEAD', '-m', 'add a secret'])
  const ref = git(repo, ['symbolic-ref', 'HEAD'])
  git(repo, ['update-ref', ref, commit])
  return { blob, commit }
}

/** A Stripe-live-key line the built-in rules report (random, so never a known decoy). */
export function freshSecretLine() {
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  let key = ''
  for (let i = 0; i < 24; i++) key += alnum[Math.floor(Math.random() * alnum.length)]
  return `stripe.api_key = "sk_live_${key}"\n`
}

/** A store written in JS over a Map (the example of the README). */
export class MapStore {
  constructor() {
    this.map = new Map() // key bytes as a latin1 string -> value Buffer
    this.calls = { getMany: 0, scanPrefix: 0, writeBatch: 0 }
  }
  getMany(keys) {
    this.calls.getMany++
    return keys.map((k) => this.map.get(k.toString('latin1')) ?? null)
  }
  scanPrefix(prefix) {
    this.calls.scanPrefix++
    const p = prefix.toString('latin1')
    const out = []
    for (const [k, v] of this.map) if (k.startsWith(p)) out.push([Buffer.from(k, 'latin1'), v])
    return out
  }
  writeBatch(items) {
    this.calls.writeBatch++
    // Synchronous, so all or nothing.
    for (const [k, v] of items) this.map.set(k.toString('latin1'), Buffer.from(v))
  }
  /** A copy of the contents, to compare. */
  snapshot() {
    return new Map([...this.map].map(([k, v]) => [k, Buffer.from(v)]))
  }
}

/** Run `source` (an ES module) in a child `node`; resolves with how it ended. */
export function runChild(source, { timeoutMs = 30000 } = {}) {
  const file = join(tempDir(), 'child.mjs')
  writeFileSync(file, source)
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const started = Date.now()
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({
        code,
        signal,
        stdout,
        stderr,
        ms: Date.now() - started,
        timedOut: signal === 'SIGKILL',
      })
    })
  })
}

/** Every event of a scan, in order. */
export async function collect(iterable) {
  const events = []
  for await (const e of iterable) events.push(e)
  return events
}

/** Findings as sorted "blob:line:rule:fingerprint" strings, to compare scans. */
export function findingKeys(events) {
  return events
    .filter((e) => e.type === 'finding')
    .map((e) => `${e.blob}:${e.line}:${e.column}:${e.ruleId}:${e.fingerprint}`)
    .sort()
}
