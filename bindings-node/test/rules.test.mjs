// Rules files: their warnings reach the user as process warnings; `strictRules` refuses them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { scanAll, ERROR_CODES } from '../index.js'
import {
  INDEX_URL,
  addCommit,
  copyRepo,
  findingKeys,
  makeCorpus,
  runChild,
  tempDir,
} from '../testlib/helpers.mjs'

// A rule id defined twice: gitleaks loads it and the later definition wins; we warn (or, with
// strictRules, refuse). The first definition never matches; the second matches the two lines
// of the commit added below.
const FIRST = `[[rules]]
id = "dup"
description = "first definition"
regex = '''never-matches-[0-9]{40}'''
keywords = ["never-matches"]
`
const SECOND = `[[rules]]
id = "dup"
description = "second definition"
regex = '''dupsecret_[0-9a-f]{32}'''
keywords = ["dupsecret_"]
`

const repo = copyRepo(makeCorpus(1).repo)
const added = addCommit(
  repo,
  'dup.env',
  'a = "dupsecret_0123456789abcdef0123456789abcdef"\nb = "dupsecret_fedcba9876543210fedcba9876543210"\n',
)

function rulesFile(text, name = 'rules.toml') {
  const path = join(tempDir(), name)
  writeFileSync(path, text)
  return path
}

/** Runs `fn` and returns what it returned and the ScangitRulesWarnings emitted meanwhile. */
async function withWarnings(fn) {
  const warnings = []
  const listener = (w) => {
    if (w.name === 'ScangitRulesWarning') warnings.push(w)
  }
  process.on('warning', listener)
  try {
    const result = await fn()
    // 'warning' is emitted on a later tick than process.emitWarning.
    await new Promise((r) => setImmediate(r))
    return { result, warnings }
  } finally {
    process.off('warning', listener)
  }
}

test('a rule id defined twice: a ScangitRulesWarning naming the rule; the later rule reports', async () => {
  const rules = rulesFile(FIRST + '\n' + SECOND)
  const { result: events, warnings } = await withWarnings(() => scanAll(repo, { rules }))
  assert.equal(warnings.length, 1, warnings.map(String).join('\n'))
  const message = warnings[0].message
  assert.ok(message.includes(rules), message)
  assert.ok(message.includes('rule dup: duplicate rule id'), message)
  const findings = events.filter((e) => e.type === 'finding').sort((a, b) => a.line - b.line)
  assert.deepEqual(
    findings.map((f) => [f.ruleId, f.ruleDescription, f.blob, f.commit, f.path, f.line]),
    [
      ['dup', 'second definition', added.blob, added.commit, 'dup.env', 1],
      ['dup', 'second definition', added.blob, added.commit, 'dup.env', 2],
    ],
  )
  assert.equal(events.at(-1).type, 'summary')
})

test('the rules warning is printed by default', async () => {
  const rules = rulesFile(FIRST + '\n' + SECOND)
  const r = await runChild(`
    import { scanAll } from ${JSON.stringify(INDEX_URL)}
    const events = await scanAll(${JSON.stringify(repo)}, { rules: ${JSON.stringify(rules)} })
    console.log(events.filter((e) => e.type === 'finding').length)
  `)
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.trim(), '2')
  assert.match(r.stderr, /ScangitRulesWarning: .*rule dup: duplicate rule id/)
})

test('strictRules: a rule id defined twice rejects with rules_invalid naming the rule', async () => {
  const rules = rulesFile(FIRST + '\n' + SECOND)
  const { warnings } = await withWarnings(() =>
    assert.rejects(scanAll(repo, { rules, strictRules: true }), (err) => {
      assert.ok(err instanceof Error)
      assert.equal(err.code, 'rules_invalid', err.message)
      assert.ok(ERROR_CODES.includes(err.code))
      assert.ok(err.message.includes('rule dup'), err.message)
      assert.ok(err.message.includes('duplicate rule id'), err.message)
      assert.ok(err.message.includes(rules), err.message)
      return true
    }),
  )
  assert.deepEqual(warnings, [])
})

test('strictRules with clean rules (built-in or a file): no warning, no error', async () => {
  const { result, warnings } = await withWarnings(async () => [
    await scanAll(repo),
    await scanAll(repo, { strictRules: true }),
    await scanAll(repo, { rules: rulesFile(SECOND), strictRules: true }),
  ])
  const [builtin, strictBuiltin, strictFile] = result
  assert.deepEqual(warnings, [])
  assert.ok(findingKeys(builtin).length > 0)
  assert.deepEqual(findingKeys(strictBuiltin), findingKeys(builtin))
  assert.equal(strictBuiltin.at(-1).type, 'summary')
  assert.deepEqual(
    strictFile
      .filter((e) => e.type === 'finding')
      .map((f) => [f.ruleId, f.blob, f.line])
      .sort((a, b) => a[2] - b[2]),
    [
      ['dup', added.blob, 1],
      ['dup', added.blob, 2],
    ],
  )
})

test('strictRules must be a boolean', async () => {
  await assert.rejects(scanAll(repo, { strictRules: 'yes' }), (err) => {
    assert.equal(err.code, 'invalid_argument')
    assert.ok(err.message.includes('strictRules'), err.message)
    return true
  })
})
