import { describe, expect, it } from 'vitest'
import {
  childOverheadSec,
  DEFAULT_NS_PER_OP,
  estimateRun,
  formatDuration,
  loadFactor,
  pickHistory,
  wasBusy,
} from './estimate.js'
import { secondsLeft } from './progress.js'
import { readersSeconds } from './readers/plan.js'
import type { BenchResults } from './results.js'
import { workloadById } from './workloads.js'

const latency = { p50: 1, p99: 1, p999: 1, max: 1, samples: 1 }

/** An earlier run: every (engine, workload) at `ns` per op, `extra` seconds outside the loops. */
function history(
  scale: number,
  ns: number,
  extra: number,
  date = '2026-12-01T00:00:00.000Z',
): BenchResults {
  const engines = ['alex', 'leveldb'] as const
  const workloads = ['read-uniform', 'durable-put'] as const
  const reps = 2
  let measured = 0
  const results = []
  for (const w of workloads) {
    const wl = workloadById(w)
    for (const e of engines) {
      const ops = wl.ops(scale)
      const r = {
        workload: w,
        durability: 'none' as const,
        unsupported: false,
        ops,
        elapsedMs: (ns * ops) / 1e6,
        opsPerSec: 1e9 / ns,
        nsPerOp: ns,
        latency,
        verifiedValues: 0,
      }
      measured += (reps * (ns * (ops + wl.warmup(scale)))) / 1e9
      results.push({
        engine: e,
        workload: w,
        durability: 'none' as const,
        unsupported: false,
        ops,
        opsPerSec: 1e9 / ns,
        nsPerOp: ns,
        p50: 1,
        p99: 1,
        p999: 1,
        spread: 0,
        vsBaseline: 1,
        verifiedValues: 0,
        reps: [r, r],
      })
    }
  }
  return {
    format: 1,
    date,
    command: 'x',
    durationSec: measured + extra,
    machine: { cpu: 'c', cores: 2, memoryGiB: 1, os: 'o', node: 'n', disk: 'd' },
    config: {
      scale,
      reps,
      valueSize: 128,
      distribution: 'uniform',
      seed: 1,
      durability: 'default',
      quick: false,
      baseline: 'alex',
    },
    engines: engines.map((id) => ({ id, name: id, version: '1', durable: '', fast: '' })),
    workloads: workloads.map((id) => ({ id, title: id, description: '', unit: 'op' })),
    fsyncNs: 1,
    harnessNsPerRead: 1,
    finalVerified: 1,
    correct: true,
    results,
  }
}

const plan = {
  engines: ['alex', 'leveldb'] as const,
  workloads: ['read-uniform', 'durable-put'] as const,
  scale: 1_000_000,
  reps: 2,
  quick: false,
}

describe('estimate', () => {
  it('reproduces the wall time of an earlier run of the same plan', () => {
    const h = history(1_000_000, 10_000, 12)
    const e = estimateRun(
      { ...plan, engines: [...plan.engines], workloads: [...plan.workloads] },
      h,
    )
    expect(e.seconds).toBeGreaterThan(h.durationSec * 0.97)
    expect(e.seconds).toBeLessThan(h.durationSec * 1.03 + 1)
    expect(e.lastSameRun).toBe(h.durationSec)
    expect(e.children.map((c) => `${c.engine}${c.rep}`)).toEqual([
      'alex1',
      'leveldb1',
      'alex2',
      'leveldb2',
    ])
    expect(e.source).toContain('2026-12-01 00:00 UTC')
  })

  it('scales with the plan: more reps, more keys, unknown engines from the workload median', () => {
    const h = history(1_000_000, 10_000, 12)
    const base = estimateRun(
      { ...plan, engines: ['alex'], workloads: ['read-uniform'], reps: 1 },
      h,
    )
    const twice = estimateRun(
      { ...plan, engines: ['alex'], workloads: ['read-uniform'], reps: 2 },
      h,
    )
    expect(twice.seconds - 1).toBeCloseTo(2 * (base.seconds - 1), 5)
    const small = estimateRun(
      { ...plan, engines: ['alex'], workloads: ['read-uniform'], reps: 1, scale: 100_000 },
      h,
    )
    expect(small.seconds).toBeLessThan(base.seconds)
    const lmdb = estimateRun(
      { ...plan, engines: ['lmdb'], workloads: ['read-uniform'], reps: 1 },
      h,
    )
    expect(lmdb.seconds).toBeCloseTo(base.seconds, 5)
    expect(lmdb.lastSameRun).toBeUndefined()
  })

  it('falls back to built-in per-operation costs without history', () => {
    const e = estimateRun(
      { ...plan, engines: ['alex'], workloads: ['durable-put'], reps: 1 },
      undefined,
    )
    const w = workloadById('durable-put')
    const ops = w.ops(1e6) + w.warmup(1e6)
    expect(e.seconds).toBeCloseTo(
      1 + childOverheadSec(1e6) + (ops * DEFAULT_NS_PER_OP['durable-put']) / 1e9,
      5,
    )
    expect(e.source).toContain('built-in')
  })

  it('picks the earlier run nearest in scale, the newest of equals, never a smoke run for a real one', () => {
    const a = history(1_000_000, 1, 1, '2026-11-25T00:00:00.000Z')
    const b = history(1_000_000, 1, 1, '2026-12-01T00:00:00.000Z')
    const c = history(100_000, 1, 1, '2026-12-02T00:00:00.000Z')
    const q = {
      ...history(1_000_000, 1, 1, '2026-12-03T00:00:00.000Z'),
      config: { ...b.config, quick: true },
    }
    expect(pickHistory({ scale: 1_000_000, quick: false }, [a, b, c, q])).toBe(b)
    expect(pickHistory({ scale: 200_000, quick: false }, [a, b, c])).toBe(c)
    expect(pickHistory({ scale: 2000, quick: true }, [a, q])).toBe(q)
    expect(pickHistory({ scale: 1_000_000, quick: false }, [])).toBeUndefined()
    // A newer run at the same scale taken on a busy machine loses to the quiet one.
    const busy = {
      ...history(1_000_000, 1, 1, '2026-12-04T00:00:00.000Z'),
      load: { before: [8.1, 8, 6], after: [5, 6, 7] },
    }
    expect(wasBusy(busy)).toBe(true)
    expect(wasBusy(b)).toBe(false)
    expect(pickHistory({ scale: 1_000_000, quick: false }, [a, b, busy])).toBe(b)
    expect(pickHistory({ scale: 1_000_000, quick: false }, [busy])).toBe(busy)
    const e = estimateRun(
      { ...plan, engines: [...plan.engines], workloads: [...plan.workloads] },
      busy,
    )
    expect(e.busyHistory).toBe(true)
    expect(e.source).toContain('a busy run: load average 8.1 on 2 cores')
  })

  it('adds the timed readers workload to the first repetition of AlexStorage and LMDB only', () => {
    const p = {
      ...plan,
      engines: ['alex', 'lmdb', 'leveldb'] as const,
      workloads: ['readers'] as const,
      reps: 2,
    }
    const e = estimateRun({ ...p, engines: [...p.engines], workloads: [...p.workloads] }, undefined)
    const by = (engine: string, rep: number) =>
      e.children.find((c) => c.engine === engine && c.rep === rep)!.seconds
    const overhead = childOverheadSec(plan.scale)
    expect(by('alex', 1)).toBeCloseTo(overhead + readersSeconds(plan.scale, 'alex', 1), 6)
    expect(by('lmdb', 1)).toBeCloseTo(overhead + readersSeconds(plan.scale, 'lmdb', 1), 6)
    expect(by('alex', 2)).toBeCloseTo(overhead, 6)
    expect(by('leveldb', 1)).toBeCloseTo(overhead, 6)
    expect(DEFAULT_NS_PER_OP.readers).toBe(0)
  })

  it('prefers an earlier run that measured every workload of the plan', () => {
    const full = history(1_000_000, 10_000, 12, '2026-12-01T00:00:00.000Z')
    const partial = {
      ...history(1_000_000, 10_000, 12, '2026-12-02T00:00:00.000Z'),
      workloads: [{ id: 'readers' as const, title: '', description: '', unit: 'read' }],
    }
    const wanted = { scale: 1_000_000, quick: false, workloads: ['read-uniform' as const] }
    expect(pickHistory(wanted, [full, partial])).toBe(full)
    expect(pickHistory({ ...wanted, workloads: ['readers' as const] }, [full, partial])).toBe(
      partial,
    )
  })

  it('formats durations and scales for load', () => {
    expect(formatDuration(45)).toBe('45 s')
    expect(formatDuration(246)).toBe('4 min 6 s')
    expect(formatDuration(300)).toBe('5 min')
    expect(formatDuration(3725)).toBe('1 h 02 min')
    expect(loadFactor(0.5, 2)).toBe(1)
    expect(loadFactor(9, 2)).toBeCloseTo(5)
  })

  it('corrects the time left by the pace of the finished children', () => {
    expect(secondsLeft([10, 10, 10, 10], 0, 0)).toBe(40)
    // Two children took 40 s against 20 estimated: the rest will take twice as long too.
    expect(secondsLeft([10, 10, 10, 10], 2, 40)).toBe(40)
    expect(secondsLeft([10, 10], 2, 25)).toBe(0)
  })
})
