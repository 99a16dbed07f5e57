import { describe, expect, it } from 'vitest'
import type { LatencySummary } from '../measure.js'
import type { BenchResults } from '../results.js'
import { Latencies } from './histogram.js'
import { phaseFigures, type ReaderReport } from './phase-figures.js'
import {
  maxWrites,
  type PhaseResult,
  phasesFor,
  phaseTiming,
  type ReadersDetail,
  readersSeconds,
} from './plan.js'
import { renderReadersChart } from './readers-chart.js'
import { READERS_BEGIN, renderReadersReport, renderReadersText } from './readers-report.js'
import { readerMemory, readersTargets } from './targets.js'

const lat = (p50: number, p99: number): LatencySummary => ({
  p50,
  p99,
  p999: p99,
  max: p99,
  samples: 100,
})

/** A phase with reads/s `rate` (split over its readers), put latency and staleness p99 in ms. */
function ph(id: string, rate: number, put: [number, number], staleP99Ms?: number): PhaseResult {
  const [kind, count] = id.includes('-') && /\d$/.test(id) ? id.split('-') : [id, '0']
  const readers = Number(count)
  return {
    id,
    kind: kind as PhaseResult['kind'],
    readers,
    reads: Math.max(rate, 0),
    readsPerSec: rate,
    perReader:
      rate > 0
        ? Array.from({ length: Math.max(1, readers) }, () => rate / Math.max(1, readers))
        : [],
    readLatency: lat(200, 900),
    puts: 1000,
    putsPerSec: 1000,
    putLatency: lat(put[0], put[1]),
    ...(staleP99Ms !== undefined
      ? { staleness: { ...lat(staleP99Ms * 2e5, staleP99Ms * 1e6), unseen: 0 } }
      : {}),
    ...(readers > 0
      ? {
          memory: {
            storeBytes: Array.from({ length: readers }, () => 30e6),
            processRssBytes: Array.from({ length: readers }, () => 100e6),
            storePrivateBytes: Array.from({ length: readers }, () => 28e6),
            processPrivateBytes: Array.from({ length: readers }, () => 90e6),
            idleRssBytes: Array.from({ length: 4 - readers }, () => 60e6),
            idlePrivateBytes: Array.from({ length: 4 - readers }, () => 55e6),
          },
        }
      : {}),
  }
}

function detail(engine: string, phases: PhaseResult[]): ReadersDetail {
  return {
    engine,
    keys: 1e6,
    valueSize: 128,
    writeRate: 1000,
    warmupMs: 600,
    windowMs: 1500,
    phases,
    bareNodeRssBytes: 40e6,
    verified: 123,
    wallMs: 20_000,
    writerOpenMs: 100,
    writerWarmMs: 900,
  }
}

const alex = detail('alex', [
  ph('writer-get', 1e6, [300e3, 900e3]),
  ph('no-readers', 0, [200e3, 1000e3]),
  ph('processes-1', 900e3, [210e3, 1050e3], 2),
  ph('processes-2', 1700e3, [260e3, 1500e3], 12),
  ph('processes-4', 1800e3, [400e3, 3000e3], 30),
])

describe('readersTargets', () => {
  it('checks the issue’s four targets against figures of the same run', () => {
    const t = readersTargets(alex)
    const by = (what: string) => t.find((x) => x.what.startsWith(what))!
    expect(by('2 reader processes vs 1').value).toBeCloseTo(1700 / 900, 6)
    expect(by('2 reader processes vs 1').ok).toBe(true)
    // 1 reader at 900 k/s: 1.11 µs per get against the writer's 1.00 µs.
    expect(by('time per get: 1 reader process').value).toBeCloseTo(1e6 / 900e3, 6)
    expect(by('time per get: 1 reader process').ok).toBe(true)
    expect(by("writer's durable put p50").value).toBeCloseTo(1.3, 6)
    expect(by("writer's durable put p50").ok).toBe(false)
    expect(by("writer's durable put p99").value).toBeCloseTo(1.5, 6)
    expect(by('staleness p99, 1 reader process').ok).toBe(true)
    expect(by('staleness p99, 2 reader processes').value).toBeCloseTo(12, 6)
    expect(by('staleness p99, 2 reader processes').ok).toBe(false)
    // No thread phases in this detail: no thread targets.
    expect(t.some((x) => x.what.includes('thread'))).toBe(false)
  })

  it('reports a target whose phases are missing as not measured', () => {
    const t = readersTargets(detail('alex', [ph('processes-1', 1e6, [1, 1], 1)]))
    expect(t.find((x) => x.what.startsWith('2 reader processes'))!.ok).toBeUndefined()
  })
})

describe('readerMemory', () => {
  it('compares open reader processes with idle ones of the same pool, and with a bare node', () => {
    const m = readerMemory(alex)
    // processes-2 is the widest phase with idle processes: 100 MB open against 60 MB idle.
    expect(m.processStore).toBe(40e6)
    expect(m.processPrivate).toBe(35e6)
    expect(m.processOverBare).toBe(60e6)
    expect(m.threadStore).toBeUndefined()
  })

  it('falls back to each reader’s growth without idle processes, and sums thread growth', () => {
    const only4 = alex.phases.filter((p) => p.id === 'processes-4')
    const thread = (growthBytes: number, newReaders: number): PhaseResult => ({
      ...ph('threads-1', 1, [1, 1], 1),
      memory: {
        storeBytes: [],
        processRssBytes: [],
        storePrivateBytes: [],
        processPrivateBytes: [],
        idleRssBytes: [],
        idlePrivateBytes: [],
        thread: { growthBytes, newReaders },
      },
    })
    const m = readerMemory({
      ...detail('alex', [...only4, thread(50e6, 1), thread(250e6, 3)]),
      threadBaseBytes: 10e6,
    })
    expect(m.processStore).toBe(30e6)
    expect(m.processPrivate).toBe(28e6)
    expect(m.threadStore).toBe(75e6)
    expect(m.threadTotal).toBe(85e6)
  })
})

describe('phaseFigures', () => {
  it('sums the readers’ rates, merges their latencies and measures staleness per (put, reader)', () => {
    const h = new Latencies()
    h.recordMs(0.0002)
    const report = (reads: number, elapsedMs: number, stamps: number[]): ReaderReport => ({
      type: 'result',
      reads,
      elapsedMs,
      latency: h.encode(),
      verified: reads,
      cpuMs: 0,
      stamps,
      before: { rss: 100, priv: 50 },
      after: { rss: 300, priv: 120 },
    })
    const writer = { puts: 3, latency: new Latencies(), acks: [1, 10, 2, 20, 3, 30] }
    const p = phaseFigures(
      { id: 'processes-2', kind: 'processes', readers: 2 },
      { startMs: 0, endMs: 1000 },
      writer,
      [report(1000, 500, [1, 11, 3, 31]), report(3000, 1000, [3, 35])],
      undefined,
    )
    expect(p.readsPerSec).toBe(2000 + 3000)
    expect(p.perReader).toEqual([2000, 3000])
    expect(p.reads).toBe(4000)
    expect(p.readLatency.samples).toBe(2)
    expect(p.putsPerSec).toBe(3)
    // Reader 1: 1, 11, 1 ms; reader 2: 25, 15, 5 ms.
    expect(p.staleness!.samples).toBe(6)
    expect(p.staleness!.max).toBeGreaterThanOrEqual(25e6 * 0.999)
    expect(p.memory!.storeBytes).toEqual([200, 200])
    expect(p.memory!.storePrivateBytes).toEqual([70, 70])
  })
})

describe('plan', () => {
  it('runs threads for AlexStorage only, and only the first repetition of the two engines', () => {
    expect(phasesFor('alex').map((p) => p.id)).toEqual([
      'writer-get',
      'no-readers',
      'processes-1',
      'processes-2',
      'processes-4',
      'threads-1',
      'threads-2',
      'threads-4',
    ])
    expect(phasesFor('lmdb').some((p) => p.kind === 'threads')).toBe(false)
    expect(readersSeconds(1e6, 'alex', 2)).toBe(0)
    expect(readersSeconds(1e6, 'leveldb', 1)).toBe(0)
    // A few tens of seconds for both engines at 1M keys.
    const both = readersSeconds(1e6, 'alex', 1) + readersSeconds(1e6, 'lmdb', 1)
    expect(both).toBeGreaterThan(20)
    expect(both).toBeLessThan(60)
    expect(phaseTiming(1e6)).toEqual({ warmupMs: 400, windowMs: 1000 })
    expect(phaseTiming(2000).windowMs).toBeGreaterThan(0)
    // The writer can never run out of planned writes at its rate.
    const t = phaseTiming(1e6)
    expect(maxWrites(1e6, 'alex')).toBeGreaterThan((8 * (t.warmupMs + t.windowMs) * 1000) / 1e3)
  })
})

describe('readers report and chart', () => {
  const lmdb = detail('lmdb', [
    ph('writer-get', 500e3, [900e3, 2000e3]),
    ph('no-readers', 0, [900e3, 2000e3]),
    ph('processes-1', 480e3, [900e3, 2000e3], 1),
    ph('processes-2', 950e3, [950e3, 2100e3], 1),
  ])
  const result = (d: ReadersDetail) => {
    const r = {
      workload: 'readers' as const,
      durability: 'durable' as const,
      unsupported: false,
      ops: 1,
      elapsedMs: 1,
      opsPerSec: 1,
      nsPerOp: 1,
      latency: lat(1, 1),
      verifiedValues: 1,
      readers: d,
    }
    return {
      ...r,
      engine: d.engine as 'alex',
      p50: 1,
      p99: 1,
      p999: 1,
      spread: 0,
      vsBaseline: 1,
      reps: [r],
    }
  }
  const results = {
    format: 1,
    date: '2026-12-01T00:00:00.000Z',
    command: 'pnpm bench',
    durationSec: 10,
    machine: { cpu: 'c', cores: 2, memoryGiB: 1, os: 'o', node: 'n', disk: 'd' },
    config: {
      scale: 1e6,
      reps: 1,
      valueSize: 128,
      distribution: 'uniform',
      seed: 1,
      durability: 'default',
      quick: false,
      baseline: 'alex',
    },
    engines: [
      { id: 'alex', name: 'AlexStorage', version: '0', durable: '', fast: '' },
      { id: 'lmdb', name: 'LMDB', version: '3', durable: '', fast: '' },
    ],
    workloads: [{ id: 'readers', title: 'Readers', description: '', unit: 'read' }],
    fsyncNs: 1,
    harnessNsPerRead: 1,
    finalVerified: 1,
    correct: true,
    results: [result(alex), result(lmdb)],
  } as unknown as BenchResults

  it('renders the targets, every phase, the memory and where LMDB was ahead', () => {
    const md = renderReadersReport(results, 'charts')
    expect(md).toContain('![Readers following a live writer](charts/readers.svg)')
    expect(md).toMatch(
      /\| 2 reader processes vs 1: aggregate reads\/s \| ≥ 1\.8× \| 1\.89× \|.*\| met \|/,
    )
    expect(md).toMatch(/staleness p99, 2 reader processes \| ≤ 10 ms \| 12\.00 ms .*\*\*missed\*\*/)
    expect(md).toContain('| AlexStorage: 4 reader processes |')
    expect(md).toContain('| LMDB: 2 reader processes |')
    expect(md).toContain('| AlexStorage, reader process |')
    expect(md).toMatch(/Where LMDB was ahead in this run: .*staleness p99, 2 reader processes/)
    expect(md).not.toContain(READERS_BEGIN)
    expect(renderReadersText(results)).toMatch(/MISSED/)
  })

  it('says in which phases the writer fell behind its rate', () => {
    expect(renderReadersReport(results, 'charts')).not.toContain('did not keep')
    const slowAlex = {
      ...alex,
      phases: alex.phases.map((p) => (p.id === 'processes-2' ? { ...p, putsPerSec: 500 } : p)),
    }
    const slow = {
      ...results,
      results: results.results.map((r) =>
        r.engine === 'alex' ? { ...r, reps: [{ ...r.reps[0]!, readers: slowAlex }] } : r,
      ),
    } as BenchResults
    expect(renderReadersReport(slow, 'charts')).toContain(
      '**The writer did not keep its 1,000 puts/s in 1 phase** — AlexStorage, 2 reader processes (500 /s)',
    )
  })

  it('warns when other processes loaded one engine’s windows more than the other’s', () => {
    expect(renderReadersReport(results, 'charts')).not.toContain('Not like for like')
    const busyLmdb = { ...lmdb, phases: lmdb.phases.map((p) => ({ ...p, otherCores: 1 })) }
    const busy = {
      ...results,
      results: results.results.map((r) =>
        r.engine === 'lmdb' ? { ...r, reps: [{ ...r.reps[0]!, readers: busyLmdb }] } : r,
      ),
    } as BenchResults
    const md = renderReadersReport(busy, 'charts')
    expect(md).toContain(
      '**Not like for like:** other processes kept 0.00 cores busy on average during AlexStorage’s windows and 1.00 during LMDB’s, so the rates and tail latencies of the second are understated',
    )
    expect(md).toContain('**Other processes of the machine kept up to 1.00 of its 2 cores busy')
  })

  it('draws one bar per configuration that read', () => {
    const svg = renderReadersChart(results)!
    expect(svg).toMatch(/^<svg[^>]*>/)
    // AlexStorage: own gets + 3 process phases; LMDB: own gets + 2.
    expect(svg.match(/<rect x=/g)).toHaveLength(7)
  })

  it('renders nothing when the workload did not run', () => {
    const none = { ...results, results: [] } as BenchResults
    expect(renderReadersReport(none, 'charts')).toBe('')
    expect(renderReadersChart(none)).toBeUndefined()
    expect(renderReadersText(none)).toBe('')
  })
})
