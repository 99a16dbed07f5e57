import { describe, expect, it } from 'vitest'
import { renderCharts } from './charts.js'
import { BEGIN_MARKER, END_MARKER, renderReport, replaceBetweenMarkers } from './report.js'
import type { Aggregate, BenchResults } from './results.js'
import { aggregate } from './results.js'

const latency = { p50: 1000, p99: 2000, p999: 3000, max: 4000, samples: 10 }
const rep = (workload: 'read-uniform', nsPerOp: number) => ({
  workload,
  durability: 'none' as const,
  unsupported: false,
  ops: 100,
  elapsedMs: (nsPerOp * 100) / 1e6,
  opsPerSec: 1e9 / nsPerOp,
  nsPerOp,
  latency,
  verifiedValues: 100,
})

function results(rows: Aggregate[], engines: string[]): BenchResults {
  return {
    format: 1,
    date: '2025-01-01T00:00:00.000Z',
    command: 'pnpm bench',
    durationSec: 10,
    machine: { cpu: 'CPU', cores: 2, memoryGiB: 8, os: 'Linux', node: 'v20', disk: 'ext4' },
    config: {
      scale: 1000,
      reps: 1,
      valueSize: 128,
      distribution: 'uniform',
      seed: 1,
      durability: 'default',
      quick: false,
      baseline: 'alex',
    },
    engines: engines.map((id) => ({
      id: id as never,
      name: id.toUpperCase(),
      version: '1.0.0',
      durable: 'sync',
      fast: 'nosync',
    })),
    workloads: [{ id: 'read-uniform', title: 'Reads <uniform>', description: 'd', unit: 'op' }],
    fsyncNs: 200_000,
    harnessNsPerRead: 50,
    finalVerified: 5,
    correct: true,
    results: rows,
  }
}

describe('report', () => {
  it('replaces only the text between the markers', () => {
    const doc = `# A\n\nmine\n\n## B\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\n## C\ntheirs\n`
    const next = replaceBetweenMarkers(doc, 'new text')
    expect(next).toBe(
      `# A\n\nmine\n\n## B\n\n${BEGIN_MARKER}\nnew text\n${END_MARKER}\n\n## C\ntheirs\n`,
    )
    expect(() => replaceBetweenMarkers('# no markers', 'x')).toThrow(/markers/)
  })

  it('computes ratios to the baseline and lists where it loses', () => {
    const runs = new Map([
      ['alex/read-uniform', [rep('read-uniform', 1000)]],
      ['leveldb/read-uniform', [rep('read-uniform', 4000)]],
      ['map/read-uniform', [rep('read-uniform', 500)]],
    ])
    const rows = aggregate(runs, ['alex', 'leveldb', 'map'], ['read-uniform'], 'alex')
    expect(rows.map((r) => r.vsBaseline)).toEqual([1, 4, 0.5])
    const md = renderReport(results(rows, ['alex', 'leveldb', 'map']), 'charts')
    expect(md).toContain('4.00×')
    expect(md).toContain('MAP (in-memory reference) is 2.00× as fast')
    expect(md).not.toContain('LEVELDB (in-memory')
    expect(md).toContain('![Reads <uniform>](charts/read-uniform.svg)')
  })

  it('says so when the baseline was not measured', () => {
    const runs = new Map([['leveldb/read-uniform', [rep('read-uniform', 4000)]]])
    const rows = aggregate(runs, ['leveldb'], ['read-uniform'], 'alex')
    expect(rows[0]!.vsBaseline).toBeNull()
    const md = renderReport(results(rows, ['leveldb']), 'charts')
    expect(md).toContain('is not in this run')
    expect(md).toContain('Not known yet')
  })

  it('renders one escaped SVG bar chart per workload', () => {
    const runs = new Map([
      ['alex/read-uniform', [rep('read-uniform', 1000)]],
      ['leveldb/read-uniform', [rep('read-uniform', 100_000)]],
    ])
    const rows = aggregate(runs, ['alex', 'leveldb'], ['read-uniform'], 'alex')
    const charts = renderCharts(results(rows, ['alex', 'leveldb']))
    const svg = charts.get('read-uniform.svg')!
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('Reads &lt;uniform&gt;')
    expect(svg).toContain('log scale')
    expect((svg.match(/<rect /g) ?? []).length).toBe(3)
  })
})
