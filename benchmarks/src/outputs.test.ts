import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseArgs } from './args.js'
import { outputsFor } from './outputs.js'

const PKG = '/repo/benchmarks'
const REPO = '/repo'
const DATE = '2026-12-01T12:00:00.000Z'
const outputs = (argv: string[]) => outputsFor(parseArgs(argv), DATE, PKG, REPO)

describe('outputs', () => {
  it('by default go to benchmarks/out (git-ignored), never to docs/ or the committed results', () => {
    const o = outputs([])
    expect(o).toEqual({
      json: join(PKG, 'out', 'results.json'),
      report: join(PKG, 'out', 'benchmarks.md'),
      shared: false,
      charts: join(PKG, 'out', 'charts'),
      published: false,
    })
  })

  it('--quick goes to benchmarks/out/quick, --out DIR to DIR', () => {
    expect(outputs(['--quick']).json).toBe(join(PKG, 'out', 'quick', 'results.json'))
    const o = outputs(['--out', '/tmp/x'])
    expect(o.report).toBe('/tmp/x/benchmarks.md')
    expect(o.charts).toBe('/tmp/x/charts')
    expect(o.published).toBe(false)
  })

  it('--publish writes docs/benchmarks.md (shared, between markers), docs/charts and the dated results JSON', () => {
    const o = outputs(['--publish', '--scale', '100k'])
    expect(o).toEqual({
      json: join(PKG, 'results', '2026-12-01-100k.json'),
      report: join(REPO, 'docs', 'benchmarks.md'),
      shared: true,
      charts: join(REPO, 'docs', 'charts'),
      published: true,
    })
    expect(outputs(['--publish', '--json', '/tmp/r.json']).json).toBe('/tmp/r.json')
  })

  it('--publish of the readers workload alone gets its own results file name', () => {
    expect(outputs(['--publish', '--workloads', 'readers']).json).toBe(
      join(PKG, 'results', '2026-12-01-1m-readers.json'),
    )
    expect(outputs(['--publish', '--workloads', 'readers,load']).json).toBe(
      join(PKG, 'results', '2026-12-01-1m.json'),
    )
  })

  it('refuses to publish a smoke run or to publish into --out', () => {
    expect(() => parseArgs(['--publish', '--quick'])).toThrow(/not publishable/)
    expect(() => parseArgs(['--publish', '--out', 'x'])).toThrow(/leave out --out/)
    expect(parseArgs(['--no-build']).publish).toBe(false)
  })
})
