import { describe, expect, it } from 'vitest'
import { niceStep, renderCharts, tickLabel } from './charts.js'
import { READERS_BEGIN, READERS_END } from './readers/readers-report.js'
import {
  BEGIN_MARKER,
  END_MARKER,
  renderReport,
  replaceBetweenMarkers,
  standaloneReport,
} from './report.js'
import type { Aggregate, BenchResults } from './results.js'
import { aggregate, halfSpread, lossesOf, meanAboveP99, wideSpreads } from './results.js'
import { renderTable } from './table.js'

const latency = { p50: 1000, p99: 2000, p999: 3000, max: 4000, samples: 10 }
type W = 'read-uniform' | 'durable-put'
const rep = (workload: W, nsPerOp: number, lat = latency) => ({
  workload,
  durability: workload === 'durable-put' ? ('durable' as const) : ('none' as const),
  unsupported: false,
  ops: 100,
  elapsedMs: (nsPerOp * 100) / 1e6,
  opsPerSec: 1e9 / nsPerOp,
  nsPerOp,
  latency: lat,
  verifiedValues: 100,
})

const WORKLOADS = {
  'read-uniform': { id: 'read-uniform', title: 'Reads <uniform>', description: 'd', unit: 'op' },
  'durable-put': { id: 'durable-put', title: 'Durable puts', description: 'd', unit: 'op' },
} as const

function results(
  rows: Aggregate[],
  engines: string[],
  workloads: W[] = ['read-uniform'],
): BenchResults {
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
    workloads: workloads.map((w) => WORKLOADS[w]),
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
    expect(md).toContain('Against the disk engines: nowhere in this run')
    expect(md).toContain(
      'The in-memory references, which write nothing to disk, are faster in: MAP — Reads <uniform> (2.00×)',
    )
    expect(md).toContain('![Reads <uniform>](charts/read-uniform.svg)')
    // No footprints (results from before issue #14): no memory and disk table.
    expect(md).not.toContain('### Memory and disk')
  })

  it('puts the memory and disk table after the speed tables, in the report and the terminal', () => {
    const rows = aggregate(
      new Map([['alex/read-uniform', [rep('read-uniform', 1000)]]]),
      ['alex'],
      ['read-uniform'],
      'alex',
    )
    const disk = { apparent: 2_000_000, allocated: 1_500_000 }
    const f = {
      peakRssBytes: 300 * 1024 * 1024,
      harnessRssBytes: 120 * 1024 * 1024,
      keysAfterLoad: 10_000,
      diskAfterLoad: disk,
      keysAfterWorkloads: 10_000,
      diskAfterWorkloads: disk,
    }
    const all = { ...results(rows, ['alex']), footprints: [{ ...f, engine: 'alex', reps: [f] }] }
    const md = renderReport(all, 'charts')
    expect(md.indexOf('### Memory and disk')).toBeGreaterThan(md.indexOf('### Reads <uniform>'))
    expect(md).toContain('| ALEX | 300 MiB | 120 MiB | 1.43 MiB | 150.0 | 1.43 MiB | 1.91 MiB |')
    expect(renderTable(all)).toMatch(/ALEX\s+300 MiB\s+120 MiB\s+1\.43 MiB\s+150\.0/)
  })

  it('leaves the readers workload to its own section: no table, chart or loss in the engines’ one', () => {
    const runs = new Map([
      ['alex/read-uniform', [rep('read-uniform', 1000)]],
      ['lmdb/read-uniform', [rep('read-uniform', 2000)]],
      ['alex/readers', [{ ...rep('read-uniform', 3000), workload: 'readers' as const }]],
      ['lmdb/readers', [{ ...rep('read-uniform', 1000), workload: 'readers' as const }]],
    ])
    const rows = aggregate(runs, ['alex', 'lmdb'], ['read-uniform', 'readers'], 'alex')
    const r = results(rows, ['alex', 'lmdb'])
    const all = {
      ...r,
      workloads: [
        ...r.workloads,
        { id: 'readers' as const, title: 'Readers', description: 'd', unit: 'read' },
      ],
    }
    const md = renderReport(all, 'charts')
    expect(md).not.toContain('Readers')
    expect(md).toContain('Against the disk engines: nowhere in this run')
    expect([...renderCharts(all).keys()]).toEqual(['read-uniform.svg'])
    expect(standaloneReport('engines', 'readers here')).toContain(
      `## Readers following a live writer\n\n${READERS_BEGIN}\nreaders here\n${READERS_END}`,
    )
    expect(standaloneReport('engines')).not.toContain(READERS_BEGIN)
    const doc = `${BEGIN_MARKER}\na\n${END_MARKER}\n${READERS_BEGIN}\nb\n${READERS_END}\n`
    expect(replaceBetweenMarkers(doc, 'c', READERS_BEGIN, READERS_END)).toBe(
      `${BEGIN_MARKER}\na\n${END_MARKER}\n${READERS_BEGIN}\nc\n${READERS_END}\n`,
    )
  })

  it('says so when the baseline was not measured', () => {
    const runs = new Map([['leveldb/read-uniform', [rep('read-uniform', 4000)]]])
    const rows = aggregate(runs, ['leveldb'], ['read-uniform'], 'alex')
    expect(rows[0]!.vsBaseline).toBeNull()
    const md = renderReport(results(rows, ['leveldb']), 'charts')
    expect(md).toContain('is not in this run')
    expect(md).toContain('Not known')
  })

  it('lists the losses to disk engines first, biggest first, and the in-memory ones on their own line', () => {
    const runs = new Map([
      ['alex/read-uniform', [rep('read-uniform', 1000)]],
      ['leveldb/read-uniform', [rep('read-uniform', 800)]],
      ['map/read-uniform', [rep('read-uniform', 10)]],
      ['alex/durable-put', [rep('durable-put', 300_000)]],
      ['leveldb/durable-put', [rep('durable-put', 100_000)]],
      ['map/durable-put', [rep('durable-put', 1000)]],
    ])
    const engines = ['alex', 'leveldb', 'map'] as const
    const rows = aggregate(runs, [...engines], ['read-uniform', 'durable-put'], 'alex')
    const r = results(rows, [...engines], ['read-uniform', 'durable-put'])
    const { real, inMemory } = lossesOf(r)
    expect(real.map((l) => [l.engine, l.workload])).toEqual([
      ['leveldb', 'durable-put'],
      ['leveldb', 'read-uniform'],
    ])
    expect(inMemory.map((l) => l.workload)).toEqual(['read-uniform', 'durable-put'])
    const md = renderReport(r, 'charts')
    const section = md.slice(md.indexOf('### Where'))
    const lines = section.split('\n')
    const first = lines.findIndex((l) => l.startsWith('- Durable puts: LEVELDB is 3.00× as fast'))
    const second = lines.findIndex((l) =>
      l.startsWith('- Reads <uniform>: LEVELDB is 1.25× as fast'),
    )
    const mem = lines.findIndex((l) => l.startsWith('The in-memory references'))
    expect(first).toBeGreaterThan(0)
    expect(second).toBeGreaterThan(first)
    expect(mem).toBeGreaterThan(second)
    // One line for every in-memory loss, not one line each.
    expect(lines.filter((l) => l.includes('MAP')).length).toBe(1)
    expect(lines[mem]).toContain('MAP — Reads <uniform> (100.0×), Durable puts (300.0×)')
  })

  it("calls a loss within the two figures' spread not a clear loss", () => {
    const runs = new Map([
      ['alex/read-uniform', [rep('read-uniform', 1000), rep('read-uniform', 1600)]],
      ['leveldb/read-uniform', [rep('read-uniform', 900), rep('read-uniform', 1300)]],
    ])
    const rows = aggregate(runs, ['alex', 'leveldb'], ['read-uniform'], 'alex')
    const md = renderReport(results(rows, ['alex', 'leveldb']), 'charts')
    expect(md).toMatch(/LEVELDB is 1\.18× as fast .* within the spread/)
  })

  it('warns about figures whose spread is over ±25%, in the report and the table', () => {
    const runs = new Map([
      ['alex/read-uniform', [rep('read-uniform', 1000), rep('read-uniform', 1100)]],
      // 1e6, 2.5e5 ops/s: median 6.25e5, spread (1e6-2.5e5)/6.25e5 = 1.2 -> ±60%
      ['leveldb/read-uniform', [rep('read-uniform', 1000), rep('read-uniform', 4000)]],
    ])
    const rows = aggregate(runs, ['alex', 'leveldb'], ['read-uniform'], 'alex')
    const r = results(rows, ['alex', 'leveldb'])
    expect(wideSpreads(r).map((a) => a.engine)).toEqual(['leveldb'])
    expect(halfSpread(rows[1]!)).toBeCloseTo(0.6)
    const md = renderReport(r, 'charts')
    expect(md).toContain('**Warning: 1 figure varies by more than ±25% between repetitions**')
    expect(md).toContain('LEVELDB in Reads <uniform> ±60.0%')
    expect(md).toContain('±60.0% ⚠')
    expect(md).not.toContain('±4.8% ⚠')
    expect(renderTable(r)).toMatch(/±60\.0% !/)
    // A spread at the limit is not flagged.
    const calm = aggregate(
      new Map([['alex/read-uniform', [rep('read-uniform', 1000), rep('read-uniform', 1000)]]]),
      ['alex'],
      ['read-uniform'],
      'alex',
    )
    expect(wideSpreads(results(calm, ['alex']))).toEqual([])
    expect(renderReport(results(calm, ['alex']), 'c')).not.toContain('**Warning')
  })

  it('names at most the widest eight unstable figures, and calls a mostly unstable run busy', () => {
    const runs = new Map<string, ReturnType<typeof rep>[]>()
    const engines = ['alex', 'leveldb', 'rocksdb', 'lmdb', 'sqlite', 'map', 'btree', 'x', 'y', 'z']
    engines.forEach((e, i) => {
      // Spreads grow with i: rates 1e6 and 1e6 / (2 + i).
      runs.set(`${e}/read-uniform`, [
        rep('read-uniform', 1000),
        rep('read-uniform', 1000 * (2 + i)),
      ])
    })
    const rows = aggregate(runs, engines as never, ['read-uniform'], 'alex')
    const r = results(rows, engines)
    expect(wideSpreads(r).length).toBe(10)
    const md = renderReport(r, 'charts')
    const warning = md.split('\n').find((l) => l.startsWith('**Warning: 10 figures'))!
    expect(warning).toContain('the widest: Z in Reads <uniform>')
    expect(warning).toContain(', and 2 more.')
    expect(warning).not.toContain('ALEX in')
    expect(warning).toContain('That is 10 of 10 figures: the machine was busy')
  })

  it('explains a mean above p99 and names the figures where it happened', () => {
    const slowLoop = rep('read-uniform', 5000, { ...latency, p99: 2000 })
    const runs = new Map([['alex/read-uniform', [slowLoop]]])
    const rows = aggregate(runs, ['alex'], ['read-uniform'], 'alex')
    const r = results(rows, ['alex'])
    expect(meanAboveP99(r).length).toBe(1)
    const md = renderReport(r, 'charts')
    expect(md).toContain('**Time per op can exceed p99.**')
    expect(md).toContain('In this run: ALEX in Reads <uniform> (5.00 µs per op, p99 2.00 µs)')
  })

  it('records the duration, the estimate and the load average', () => {
    const rows = aggregate(
      new Map([['alex/read-uniform', [rep('read-uniform', 1000)]]]),
      ['alex'],
      ['read-uniform'],
      'alex',
    )
    const quiet = {
      ...results(rows, ['alex']),
      durationSec: 250,
      estimateSec: 240,
      load: { before: [0.5, 0.4, 0.3], after: [1.1, 0.6, 0.4] },
    }
    const md = renderReport(quiet, 'charts')
    expect(md).toContain('in 4 min 10 s of wall time (estimated before the start: 4 min)')
    expect(md).toContain('0.50 / 0.40 / 0.30 before the run, 1.10 / 0.60 / 0.40 after.')
    const busy = renderReport({ ...quiet, load: { before: [5, 4, 3], after: [6, 5, 4] } }, 'c')
    expect(busy).toContain('the machine was busy')
    expect(renderReport(results(rows, ['alex']), 'c')).toContain('Load average: not recorded')
  })

  it('charts disk engines on a linear scale with the spread, in-memory references left out', () => {
    const runs = new Map([
      ['alex/durable-put', [rep('durable-put', 300_000), rep('durable-put', 200_000)]],
      ['leveldb/durable-put', [rep('durable-put', 250_000), rep('durable-put', 250_000)]],
      ['map/durable-put', [rep('durable-put', 1000), rep('durable-put', 1000)]],
    ])
    const rows = aggregate(runs, ['alex', 'leveldb', 'map'], ['durable-put'], 'alex')
    const svg = renderCharts(results(rows, ['alex', 'leveldb', 'map'], ['durable-put'])).get(
      'durable-put.svg',
    )!
    expect(svg).not.toContain('log')
    expect(svg).toContain('linear scale from 0')
    expect(tickLabel(2000)).toBe('2 k')
    expect(tickLabel(1_500_000)).toBe('1.5 M')
    expect(svg).toContain('in-memory references not shown')
    expect(svg).not.toContain('>MAP<')
    // Two bars (plus the background), one whisker (alex's repetitions differ).
    expect((svg.match(/<rect /g) ?? []).length).toBe(3)
    expect((svg.match(/class="spread"/g) ?? []).length).toBe(1)
    // Linear: bar widths are proportional to the throughputs.
    const widths = [...svg.matchAll(/<rect x="230" y="[\d.]+" width="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    )
    const alex = rows.find((r) => r.engine === 'alex')!.opsPerSec
    const level = rows.find((r) => r.engine === 'leveldb')!.opsPerSec
    expect(widths[0]! / widths[1]!).toBeCloseTo(alex / level, 2)
  })

  it('picks nice axis steps', () => {
    expect(niceStep(4200)).toBe(2000)
    expect(niceStep(946_000)).toBe(500_000)
    expect(niceStep(120)).toBe(50)
    expect(niceStep(0)).toBe(1)
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
    // A 100x gap stays on a linear scale.
    expect(svg).not.toContain('log')
    expect((svg.match(/<rect /g) ?? []).length).toBe(3)
  })
})
