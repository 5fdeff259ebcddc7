// Several scans at once, errors with their codes, options, non-UTF-8 paths.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { scan, scanAll, ERROR_CODES } from '../index.js'
import { makeCorpus, tempDir, findingKeys, freshSecretLine } from '../testlib/helpers.mjs'

const one = makeCorpus(1)
const four = makeCorpus(4)

test('two scans at once give what each gives alone', async () => {
  const alone1 = findingKeys(await scanAll(one.repo))
  const alone4 = findingKeys(await scanAll(four.repo))
  assert.notDeepEqual(alone1, alone4)
  // Interleave the two iterations event by event.
  const a = scan(one.repo, { threads: 1 })[Symbol.asyncIterator]()
  const b = scan(four.repo, { threads: 1, mode: 'diff-history' })[Symbol.asyncIterator]()
  const ea = []
  const eb = []
  let doneA = false
  let doneB = false
  while (!doneA || !doneB) {
    const [ra, rb] = await Promise.all([doneA ? null : a.next(), doneB ? null : b.next()])
    if (ra) ra.done ? (doneA = true) : ea.push(ra.value)
    if (rb) rb.done ? (doneB = true) : eb.push(rb.value)
  }
  assert.deepEqual(findingKeys(ea), alone1)
  assert.deepEqual(findingKeys(eb), alone4)
  // Four at once on the same repository.
  const all = await Promise.all([1, 2, 3, 4].map(() => scanAll(one.repo, { threads: 1 })))
  for (const events of all) assert.deepEqual(findingKeys(events), alone1)
})

function withCode(code, includes) {
  return (err) => {
    assert.ok(err instanceof Error, String(err))
    assert.equal(err.code, code, err.message)
    assert.ok(ERROR_CODES.includes(err.code))
    if (includes) assert.ok(err.message.includes(includes), err.message)
    return true
  }
}

test('errors carry the contract codes', async () => {
  await assert.rejects(scanAll(join(tempDir(), 'nope')), withCode('repo_not_found'))
  await assert.rejects(scanAll(''), withCode('invalid_argument'))
  await assert.rejects(scanAll(one.repo, { mode: 'fast' }), withCode('invalid_argument', 'mode'))
  await assert.rejects(scanAll(one.repo, { threads: -1 }), withCode('invalid_argument', 'threads'))
  await assert.rejects(scanAll(one.repo, { revealSecret: true }), withCode('invalid_argument', 'revealSecret'))
  await assert.rejects(scanAll(one.repo, { maxBlobBytes: 1.5 }), withCode('invalid_argument'))
  await assert.rejects(scanAll(one.repo, { store: 42 }), withCode('invalid_argument', 'store'))
  await assert.rejects(scanAll(one.repo, { signal: {} }), withCode('invalid_argument', 'signal'))
  await assert.rejects(scanAll(one.repo, { range: 'nosuch..HEAD' }), withCode('invalid_argument'))
  const rules = join(tempDir(), 'bad.toml')
  writeFileSync(rules, '[[rules]]\nid = "x"\nregex = "("\n')
  await assert.rejects(scanAll(one.repo, { rules }), withCode('rules_invalid'))
  // Errors reject the iteration; scan() itself never throws.
  const it = scan(42)
  await assert.rejects(it.next(), withCode('invalid_argument'))
  assert.deepEqual(await it.next(), { value: undefined, done: true })
})

test('a rules file of our own', async () => {
  const dir = tempDir()
  mkdirSync(join(dir, 'r'))
  const rules = join(dir, 'r', 'rules.toml')
  writeFileSync(
    rules,
    '[[rules]]\nid = "my-github-pat"\ndescription = "GitHub PAT"\nregex = \'\'\'ghp_[0-9a-zA-Z]{36}\'\'\'\nkeywords = ["ghp_"]\n',
  )
  const events = await scanAll(one.repo, { rules, revealSecrets: true })
  const findings = events.filter((e) => e.type === 'finding')
  assert.ok(findings.length >= 2)
  assert.ok(findings.every((f) => f.ruleId === 'my-github-pat'))
  assert.ok(findings.every((f) => /^ghp_/.test(f.secret)))
})

test('refInclude narrows the scan', async () => {
  const all = await scanAll(one.repo)
  const some = await scanAll(one.repo, { refInclude: ['refs/heads/*'] })
  assert.ok(some.at(-1).commits <= all.at(-1).commits)
  assert.ok(findingKeys(some).length <= findingKeys(all).length)
})

test('a path that is not UTF-8: lossy `path` and exact `pathBytes`', async () => {
  const repo = join(tempDir(), 'weird.git')
  execFileSync('git', ['init', '-q', '--bare', repo])
  const env = { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@e' }
  const git = (args, input) => execFileSync('git', ['--git-dir', repo, ...args], { input, env }).toString().trim()
  const blob = git(['hash-object', '-w', '--stdin'], freshSecretLine())
  const name = Buffer.from([0x62, 0x61, 0x64, 0xff, 0x2e, 0x70, 0x79]) // "bad\xff.py"
  const tree = git(['mktree'], Buffer.concat([Buffer.from(`100644 blob ${blob}\t`), name, Buffer.from('\n')]))
  const commit = git(['commit-tree', tree, '-m', 'weird'])
  git(['update-ref', 'refs/heads/main', commit])
  const findings = (await scanAll(repo)).filter((e) => e.type === 'finding')
  assert.equal(findings.length, 1)
  assert.equal(findings[0].path, 'bad\ufffd.py')
  assert.ok(Buffer.isBuffer(findings[0].pathBytes))
  assert.deepEqual(findings[0].pathBytes, name)
  // Valid UTF-8 paths have no pathBytes.
  const normal = (await scanAll(one.repo)).filter((e) => e.type === 'finding')
  assert.ok(normal.every((f) => !('pathBytes' in f)))
})

test('a secret in a commit message is reported with its location and no path', async () => {
  const dir = tempDir()
  const repo = join(dir, 'msg')
  const git = (...args) =>
    execFileSync('git', ['-C', repo, '-c', 'user.name=N', '-c', 'user.email=n@example.com', ...args], {
      encoding: 'utf8',
    }).trim()
  mkdirSync(repo)
  git('init', '-q')
  writeFileSync(join(repo, 'README'), 'hello\n')
  git('add', 'README')
  const line = freshSecretLine().trim()
  git('commit', '-q', '-m', `Configure billing\n\n${line}\n`)
  const commit = git('rev-parse', 'HEAD')
  const findings = (await scanAll(repo, { revealSecrets: true })).filter((e) => e.type === 'finding')
  assert.equal(findings.length, 1)
  const [f] = findings
  assert.equal(f.location, 'commit-message')
  assert.equal(f.blob, commit)
  assert.equal(f.commit, commit)
  assert.equal(f.path, null)
  const raw = git('cat-file', 'commit', commit)
  assert.equal(raw.slice(f.start, f.end), f.secret)
})
