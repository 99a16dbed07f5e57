/**
 * The JSON results of a run (format version 1) and their aggregation across repetitions.
 * The report, the charts and the terminal table are all rendered from this one structure.
 */
import type { EngineId } from '@alex/compare'
import type { EngineFootprint } from './footprint.js'
import type { Machine } from './machine.js'
import { median, spread } from './measure.js'
import type { WorkloadResult } from './protocol.js'
import type { Durability, WorkloadId } from './workloads.js'

/** Version of the JSON results format. */
export const RESULTS_FORMAT = 1

/** Median figures of one engine on one workload. */
export interface Aggregate {
  readonly engine: EngineId
  readonly workload: WorkloadId
  readonly durability: Durability
  readonly unsupported: boolean
  readonly ops: number
  /** Medians across repetitions. */
  readonly opsPerSec: number
  readonly nsPerOp: number
  readonly p50: number
  readonly p99: number
  readonly p999: number
  /** (max - min) / median of ops/s across repetitions. */
  readonly spread: number
  /** This engine's ns/op divided by the baseline's (> 1: the baseline is faster); null without one. */
  readonly vsBaseline: number | null
  readonly verifiedValues: number
  readonly reps: readonly WorkloadResult[]
}

/** A whole run as saved to JSON. */
export interface BenchResults {
  readonly format: typeof RESULTS_FORMAT
  readonly date: string
  readonly command: string
  readonly durationSec: number
  readonly machine: Machine
  readonly config: {
    readonly scale: number
    readonly reps: number
    readonly valueSize: number
    readonly distribution: string
    readonly seed: number
    readonly durability: string
    readonly quick: boolean
    readonly baseline: string
  }
  readonly engines: readonly {
    readonly id: EngineId
    readonly name: string
    readonly version: string
    readonly durable: string
    readonly fast: string
  }[]
  readonly workloads: readonly {
    readonly id: WorkloadId
    readonly title: string
    readonly description: string
    readonly unit: string
  }[]
  /** ns of a 256-byte append + fdatasync on the stores' disk (10th percentile, before and after). */
  readonly fsyncNs: number
  /** Median harness cost per point read (included in every read figure), in ns. */
  readonly harnessNsPerRead: number
  /** Values read back and checked after all workloads, summed over children. */
  readonly finalVerified: number
  /** True when every read of every child returned what was written. */
  readonly correct: boolean
  readonly results: readonly Aggregate[]
  /** os.loadavg() (1, 5, 15 minutes) before the first child and after the last (absent before 2026-12). */
  readonly load?: { readonly before: readonly number[]; readonly after: readonly number[] }
  /** The estimate printed before the run, in seconds (absent before 2026-12). */
  readonly estimateSec?: number
  /** Per engine: peak RSS and bytes on disk, medians of the repetitions (absent before issue #14). */
  readonly footprints?: readonly EngineFootprint[]
}

/** Workloads reported in a section of their own (readers-report.ts), not in the engines' tables. */
export const OWN_SECTION_WORKLOADS: ReadonlySet<string> = new Set(['readers'])

/**
 * The results without the workloads that have a section of their own: what the engines' tables,
 * charts, warnings and losses are made of. `readers` runs for two engines in one repetition and
 * is read against the issue's targets, not as one more column of figures.
 */
export function withoutOwnSections(results: BenchResults): BenchResults {
  return {
    ...results,
    workloads: results.workloads.filter((w) => !OWN_SECTION_WORKLOADS.has(w.id)),
    results: results.results.filter((r) => !OWN_SECTION_WORKLOADS.has(r.workload)),
  }
}

/** Engines that are in-memory references, not storage engines. */
export const IN_MEMORY_ENGINES: ReadonlySet<string> = new Set(['map', 'btree'])

/** Whether `engine` is an in-memory reference. */
export function isInMemory(engine: string): boolean {
  return IN_MEMORY_ENGINES.has(engine)
}

/**
 * A figure's spread above this (as ± half the range, relative to the median, as the tables
 * print it) gets a warning: its median is not a stable figure.
 */
export const SPREAD_WARN = 0.25

/** ± half of (max - min) / median: the spread as the tables print it. */
export function halfSpread(a: Aggregate): number {
  return a.spread / 2
}

/** Figures whose spread is over SPREAD_WARN (±25%), in report order. */
export function wideSpreads(results: BenchResults, limit = SPREAD_WARN): Aggregate[] {
  return results.results.filter((r) => !r.unsupported && halfSpread(r) > limit)
}

/** At most this many unstable figures are named in a warning (the tables mark every one). */
export const WIDE_LIST_MAX = 8

/** Figures sorted by spread, widest first. */
export function widestFirst(figures: readonly Aggregate[]): Aggregate[] {
  return [...figures].sort((a, b) => b.spread - a.spread)
}

/**
 * Figures whose mean time per operation is above their p99 latency. Not a bug in itself: the
 * mean is wall-clock over the whole loop (it includes the harness's work between operations,
 * garbage-collection pauses and, for the sampled loops, every operation), while percentiles come
 * from timing single operations (every 8th in sub-microsecond loops), so a few long pauses that
 * fall outside the timed operations, or in fewer than 1% of them, lift the mean above the p99.
 */
export function meanAboveP99(results: BenchResults): Aggregate[] {
  return results.results.filter((r) => !r.unsupported && r.nsPerOp > r.p99)
}

/** One workload where the baseline is slower than another engine. */
export interface Loss {
  readonly engine: EngineId
  readonly workload: WorkloadId
  /** How many times as fast the other engine is (1 / vsBaseline). */
  readonly factor: number
  readonly nsPerOp: number
  /** Half-spreads of the other engine's and the baseline's figures. */
  readonly spread: number
  readonly baselineSpread: number
}

/**
 * Where the baseline loses: disk engines first (the real losses, biggest first), then the
 * in-memory references apart, since they write nothing to disk and only mark the limit.
 */
export function lossesOf(results: BenchResults): { real: Loss[]; inMemory: Loss[] } {
  const real: Loss[] = []
  const inMemory: Loss[] = []
  const baseline = results.config.baseline
  for (const r of results.results) {
    if (r.unsupported || r.vsBaseline === null || r.vsBaseline >= 1 || r.engine === baseline)
      continue
    const base = results.results.find((b) => b.engine === baseline && b.workload === r.workload)
    const loss: Loss = {
      engine: r.engine,
      workload: r.workload,
      factor: 1 / r.vsBaseline,
      nsPerOp: r.nsPerOp,
      spread: halfSpread(r),
      baselineSpread: base === undefined ? 0 : halfSpread(base),
    }
    ;(isInMemory(r.engine) ? inMemory : real).push(loss)
  }
  real.sort((a, b) => b.factor - a.factor)
  return { real, inMemory }
}

/**
 * Durable figures that are faster than the disk can sync, so the engine cannot have synced
 * every write: single-writer durable puts whose median latency is under half the probed
 * fdatasync time (in-memory references excepted).
 */
export function suspiciousDurability(results: BenchResults): Aggregate[] {
  return results.results.filter(
    (r) =>
      r.workload === 'durable-put' &&
      !r.unsupported &&
      !isInMemory(r.engine) &&
      r.p50 < results.fsyncNs / 2,
  )
}

/** Medians per (engine, workload) with the ratio to the baseline engine. */
export function aggregate(
  runs: ReadonlyMap<string, WorkloadResult[]>,
  engines: readonly EngineId[],
  workloads: readonly WorkloadId[],
  baseline: string,
): Aggregate[] {
  const out: Aggregate[] = []
  const medianNs = new Map<string, number>()
  for (const workload of workloads) {
    for (const engine of engines) {
      const reps = runs.get(`${engine}/${workload}`) ?? []
      const first = reps[0]
      if (first === undefined) continue
      const unsupported = first.unsupported
      const ns = median(reps.map((r) => r.nsPerOp))
      if (!unsupported) medianNs.set(`${engine}/${workload}`, ns)
      out.push({
        engine,
        workload,
        durability: first.durability,
        unsupported,
        ops: first.ops,
        opsPerSec: median(reps.map((r) => r.opsPerSec)),
        nsPerOp: ns,
        p50: median(reps.map((r) => r.latency.p50)),
        p99: median(reps.map((r) => r.latency.p99)),
        p999: median(reps.map((r) => r.latency.p999)),
        spread: spread(reps.map((r) => r.opsPerSec)),
        vsBaseline: null,
        verifiedValues: reps.reduce((s, r) => s + r.verifiedValues, 0),
        reps,
      })
    }
  }
  return out.map((a) => {
    const base = medianNs.get(`${baseline}/${a.workload}`)
    if (base === undefined || a.unsupported || base === 0) return a
    return { ...a, vsBaseline: a.nsPerOp / base }
  })
}
