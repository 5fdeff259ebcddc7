// Findings against a generated corpus manifest (the rules of tests/check_manifest.py), and the
// shape of every event.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { scan, scanAll, version } from '../index.js'
import { makeCorpus, collect } from '../testlib/helpers.mjs'

const FINDING_KEYS = [
  'type', 'ruleId', 'ruleDescription', 'location', 'blob', 'commit', 'path', 'line', 'column', 'start', 'end',
  'fingerprint', 'secret', 'snippet', 'decodedFrom', 'confidence',
].sort()
const COMMIT_KEYS = [
  'type', 'commit', 'authorName', 'authorEmail', 'authorTime', 'committerName', 'committerEmail',
  'committerTime', 'summary',
].sort()
const SUMMARY_KEYS = [
  'type', 'outcome', 'skipped', 'commits', 'blobsPlanned', 'blobsAlreadySeen', 'blobsScanned',
  'bytesScanned', 'findings', 'timingsMs',
].sort()

/** The checks of tests/check_manifest.py; returns the list of problems. */
function checkManifest(rows, events) {
  const findings = events.filter((e) => e.type === 'finding')
  const at = new Map()
  for (const f of findings) {
    const key = `${f.blob}:${f.line}`
    if (!at.has(key)) at.set(key, [])
    at.get(key).push(f)
  }
  const problems = []
  const explained = new Set()
  for (const r of rows) {
    const key = `${r.blob}:${r.line}`
    const hits = at.get(key) ?? []
    if (r.expect) {
      if (hits.length === 0) {
        problems.push(`MISSED id=${r.id} kind=${r.kind} strategy=${r.strategy}`)
      } else {
        explained.add(key)
        if (r.commit && !hits.some((h) => h.commit === r.commit)) {
          problems.push(`WRONG COMMIT id=${r.id} want=${r.commit}`)
        }
      }
    } else if (hits.length > 0) {
      problems.push(`DECOY REPORTED id=${r.id} kind=${r.kind} rules=${hits.map((h) => h.ruleId)}`)
    }
  }
  const goodFp = new Set()
  for (const key of explained) for (const h of at.get(key)) goodFp.add(h.fingerprint)
  for (const r of rows) {
    if (r.expect && r.kind === 'aws-credentials') {
      for (const h of at.get(`${r.blob}:${r.line + 1}`) ?? []) goodFp.add(h.fingerprint)
    }
  }
  for (const f of findings) {
    if (!goodFp.has(f.fingerprint)) problems.push(`STRAY rule=${f.ruleId} path=${f.path} line=${f.line}`)
  }
  const spans = new Map()
  for (const f of findings) {
    let extra = ''
    if (f.decodedFrom.length > 0) {
      if (f.secret === undefined) continue
      extra = f.secret
    }
    const key = `${f.blob}:${f.start}:${f.end}:${extra}`
    if (!spans.has(key)) spans.set(key, new Set())
    spans.get(key).add(f.ruleId)
  }
  for (const [key, rules] of spans) {
    if (rules.size > 1) problems.push(`DUPLICATE RULES ${[...rules].sort()} on ${key}`)
  }
  return problems
}

function checkShapes(events, { reveal }) {
  assert.ok(events.length > 0)
  const last = events.at(-1)
  assert.equal(last.type, 'summary', 'the summary is the last event')
  assert.equal(events.filter((e) => e.type === 'summary').length, 1)
  assert.deepEqual(Object.keys(last).sort(), SUMMARY_KEYS)
  assert.equal(last.outcome, 'complete')
  assert.deepEqual(Object.keys(last.timingsMs).sort(), ['commits', 'finalize', 'index', 'open', 'plan', 'scan', 'total'])
  const findings = events.filter((e) => e.type === 'finding')
  assert.equal(last.findings, findings.length)
  const commits = new Map()
  for (const e of events) {
    if (e.type === 'commit') {
      assert.deepEqual(Object.keys(e).sort(), COMMIT_KEYS)
      assert.ok(!commits.has(e.commit), 'at most one commit event per commit')
      commits.set(e.commit, e)
      assert.match(e.commit, /^[0-9a-f]{40}$/)
      assert.equal(typeof e.authorTime, 'number')
    } else if (e.type === 'finding') {
      const want = reveal ? FINDING_KEYS : FINDING_KEYS.filter((k) => k !== 'secret')
      assert.deepEqual(Object.keys(e).sort(), want)
      assert.match(e.blob, /^[0-9a-f]{40}$/)
      assert.ok(e.line >= 1 && e.column >= 1 && e.end > e.start)
      assert.ok(Array.isArray(e.decodedFrom))
      if (reveal) assert.equal(typeof e.secret, 'string')
    } else if (e.type === 'progress') {
      assert.deepEqual(Object.keys(e).sort(), ['bytesScanned', 'done', 'phase', 'total', 'type'])
    } else {
      assert.equal(e.type, 'summary')
    }
  }
  for (const f of findings) {
    if (f.commit !== null) assert.ok(commits.has(f.commit), `a commit event for ${f.commit}`)
  }
}

test('version', () => {
  assert.match(version, /^\d+\.\d+\.\d+/)
})

for (const [seed, mode] of [[1, 'odb-blob'], [3, 'diff-history']]) {
  test(`corpus seed ${seed}, ${mode}: findings match the manifest`, async () => {
    const { repo, rows } = makeCorpus(seed)
    assert.ok(rows.some((r) => r.expect) && rows.some((r) => !r.expect))
    const events = await collect(scan(repo, { mode, revealSecrets: true, threads: 2 }))
    checkShapes(events, { reveal: true })
    assert.deepEqual(checkManifest(rows, events), [])

    // Without revealSecrets: the same findings, no secret anywhere.
    const hidden = await scanAll(repo, { mode })
    checkShapes(hidden, { reveal: false })
    const strip = (es) =>
      es.filter((e) => e.type === 'finding').map((e) => `${e.blob}:${e.line}:${e.ruleId}:${e.fingerprint}`).sort()
    assert.deepEqual(strip(hidden), strip(events))
    for (const e of hidden) assert.ok(!('secret' in e))
  })
}
