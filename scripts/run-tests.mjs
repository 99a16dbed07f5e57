#!/usr/bin/env node
// Runs every package's tests through turbo, together with the static checks (lint,
// typecheck, publint) so that a change that breaks them fails CI too, then the consumer checks
// (scripts/consumer-check.mjs: the packed tarballs installed into a scratch app, ESM, CJS and
// TypeScript, on the current Node, the floor in "engines" and Node 22 and 24), and prints one
// closing line with the totals from each package's vitest JSON report plus one test per
// consumer check: "N passed, N failed".
// Exits non-zero if any turbo task failed or any test failed.
// `--no-consumer` skips the consumer checks (local runs only; CI runs them); other arguments go
// to turbo (e.g. --filter).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { prefetchNodes, runConsumerChecks } from './consumer-check.mjs'

const root = new URL('..', import.meta.url).pathname
const dirs = []
for (const group of ['packages', 'examples']) {
  const base = join(root, group)
  if (!existsSync(base)) continue
  for (const name of readdirSync(base)) dirs.push(join(base, name))
}
if (existsSync(join(root, 'benchmarks', 'package.json'))) dirs.push(join(root, 'benchmarks'))

const reportOf = (dir) => join(dir, '.vitest', 'report.json')
for (const dir of dirs) rmSync(reportOf(dir), { force: true })

// The S3 test gateway (scripts/s3-gateway.sh): the replication and CLI suites start it (as root)
// when they need it; it is stopped here once every package ran, if it was not up before.
const gateway = join(root, 'scripts', 's3-gateway.sh')
const gatewayUp = () => spawnSync('bash', [gateway, 'status'], { stdio: 'ignore' }).status === 0
const gatewayWasUp = gatewayUp()

const extra = process.argv.slice(2)
const consumer = !extra.includes('--no-consumer')
// The Node binaries of the consumer checks download (once per machine) while turbo runs.
const prefetch = consumer ? prefetchNodes() : undefined

const args = ['run', 'test', 'lint', 'typecheck', 'publint', '--continue']
args.push(...extra.filter((a) => a !== '--no-consumer'))
// Asynchronously, so that the event loop keeps serving the prefetch meanwhile: a spawnSync here
// held every child's exit event back until turbo was done, and on a loaded machine (turbo taking
// minutes) the prefetch's timeouts fired first, failing checks of binaries that were fine.
const turbo = await new Promise((resolve) => {
  const child = spawn('turbo', args, { stdio: 'inherit', cwd: root, shell: false })
  child.on('error', (error) => resolve({ status: 1, error }))
  child.on('close', (code, signal) => resolve({ status: code ?? (signal ? 128 : 1) }))
})
if (turbo.error) console.error(`could not run turbo: ${turbo.error.message}`)
if (!gatewayWasUp && gatewayUp()) {
  const stop = spawnSync('bash', [gateway, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (stop.status !== 0) console.error('scripts/s3-gateway.sh stop failed (see above)')
}

let passed = 0
let failed = 0
const missing = []
for (const dir of dirs) {
  if (!existsSync(join(dir, 'package.json'))) continue
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  if (!pkg.scripts?.test) continue
  const file = reportOf(dir)
  if (!existsSync(file)) {
    missing.push(pkg.name)
    continue
  }
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  // A suite that fails to load reports no failed test; count it as one failure.
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1
  }
}
for (const name of missing) {
  console.error(`no test report from ${name} (its test run did not finish)`)
  failed += 1
}
if (turbo.status !== 0 && failed === 0) {
  // No test failed, so a static check (lint, typecheck, publint) did: count it.
  console.error('a lint, typecheck or publint task failed (see its output above)')
  failed += 1
}
if (consumer) {
  const checks = await runConsumerChecks({ prefetch })
  passed += checks.passed
  failed += checks.failed
}
const ok = turbo.status === 0 && failed === 0
console.log(`${passed} passed, ${failed} failed`)
process.exit(ok ? 0 : 1)
