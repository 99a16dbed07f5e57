/**
 * How long a run will take, before it starts: derived from the workload plan (operations and
 * warm-ups of each workload at the chosen scale, engines, repetitions) and the per-operation
 * times of the nearest earlier run (benchmarks/out/results.json or a published
 * benchmarks/results/*.json); built-in per-operation costs when there is none. A busy machine
 * (load average above its core count) runs longer: the estimate says so instead of hiding it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { EngineId } from '@alex/compare'
import { type BenchResults, RESULTS_FORMAT } from './results.js'
import { type WorkloadId, workloadById } from './workloads.js'

/** What the estimate needs of the options. */
export interface Plan {
  readonly engines: readonly EngineId[]
  readonly workloads: readonly WorkloadId[]
  readonly scale: number
  readonly reps: number
  readonly quick: boolean
}

/** The estimate of one run. */
export interface Estimate {
  /** Expected wall time on a quiet machine, in seconds. */
  readonly seconds: number
  /** Seconds of each child (engine, repetition), in run order (repetition-major). */
  readonly children: readonly {
    readonly engine: EngineId
    readonly rep: number
    readonly seconds: number
  }[]
  /** Where the per-operation times come from, in words. */
  readonly source: string
  /** Wall time of the earlier run if it ran exactly this plan, in seconds. */
  readonly lastSameRun: number | undefined
  /** True when the earlier run was itself taken on a busy machine: the estimate is its pace. */
  readonly busyHistory: boolean
}

/**
 * Whether a run was taken on a busy machine: its 1-minute load average before or after was
 * above the core count. Runs that did not record the load count as not busy.
 */
export function wasBusy(r: BenchResults): boolean {
  if (r.load === undefined) return false
  const load = Math.max(r.load.before[0] ?? 0, r.load.after[0] ?? 0)
  return load > r.machine.cores
}

/**
 * Built-in cost per operation (warm-up included) in ns, by workload: about the median of the
 * five disk engines in the 1M-key run of 2026-12-01 on the 2-core VM, rounded up.
 */
export const DEFAULT_NS_PER_OP: Readonly<Record<WorkloadId, number>> = {
  load: 7000,
  // The one bulkLoad call plus the unmeasured reopen and read-back of the fresh store.
  ingest: 4000,
  'read-uniform': 6000,
  'read-zipf': 5000,
  'range-100': 180_000,
  'ycsb-c': 5000,
  'ycsb-b': 6000,
  'ycsb-a': 12_000,
  'ycsb-f': 15_000,
  'ycsb-d': 6000,
  'ycsb-e': 150_000,
  'mixed-80-20': 14_000,
  'mixed-50-50': 20_000,
  'insert-seq': 10_000,
  'durable-put': 300_000,
  'concurrent-64': 100_000,
  // Timed phases, not operations: see `timedSeconds`.
  readers: 0,
}

/**
 * Fixed cost of one child besides its workloads (process start, dataset generation, opening and
 * closing the store, the final read-back), in seconds: a constant plus a part per key. At 1M keys
 * the run of 2026-12-01 spent about 3 s per child outside the measured loops.
 */
export function childOverheadSec(scale: number): number {
  return 1.5 + 2.5 * (scale / 1e6)
}

/** Operations a workload runs at `scale`, warm-up included. */
function opsWithWarmup(id: WorkloadId, scale: number): number {
  const w = workloadById(id)
  return w.ops(scale) + w.warmup(scale)
}

/** Time per measured operation of (engine, workload) in an earlier run, in ns. */
function historyNs(history: BenchResults, engine: string, id: WorkloadId): number | undefined {
  const a = history.results.find((r) => r.engine === engine && r.workload === id)
  if (a === undefined) return undefined
  if (a.unsupported) return 0
  return a.nsPerOp
}

/** Median time per operation of a workload over an earlier run's engines, in ns. */
function historyWorkloadNs(history: BenchResults, id: WorkloadId): number | undefined {
  const xs = history.results
    .filter((r) => r.workload === id && !r.unsupported)
    .map((r) => r.nsPerOp)
    .sort((a, b) => a - b)
  return xs.length === 0 ? undefined : xs[xs.length >> 1]
}

/** Wall time an earlier run spent in the timed workloads (Workload.seconds), in seconds. */
function historyTimedSec(history: BenchResults): number {
  let sec = 0
  for (const a of history.results) {
    for (const r of a.reps) sec += (r.readers?.wallMs ?? 0) / 1e3
  }
  return sec
}

/**
 * Seconds a timed workload (one with `Workload.seconds`) adds to the child of (engine, rep):
 * what the earlier run took for it if that run had the same scale, the built-in figure otherwise.
 */
function timedSeconds(
  plan: Plan,
  history: BenchResults | undefined,
  id: WorkloadId,
  engine: EngineId,
  rep: number,
): number {
  const w = workloadById(id)
  const builtIn = w.seconds?.(plan.scale, engine, rep) ?? 0
  if (builtIn === 0 || history === undefined || history.config.scale !== plan.scale) return builtIn
  const a = history.results.find((r) => r.engine === engine && r.workload === id)
  const wall = a?.reps.find((r) => r.readers !== undefined)?.readers?.wallMs
  return wall !== undefined ? wall / 1e3 : builtIn
}

/** The estimate of `plan`, from `history` (an earlier run) when given. */
export function estimateRun(plan: Plan, history: BenchResults | undefined): Estimate {
  // Per-child overhead: what the earlier run spent outside its measured loops, per child and
  // per key, when it is known; the built-in figure otherwise.
  let overhead = childOverheadSec(plan.scale)
  if (history !== undefined && history.durationSec > 0) {
    let measured = historyTimedSec(history)
    for (const a of history.results) {
      if (a.unsupported || workloadById(a.workload).seconds !== undefined) continue
      const scaleOps = opsWithWarmup(a.workload, history.config.scale) / Math.max(1, a.ops)
      for (const r of a.reps) measured += (r.elapsedMs / 1e3) * scaleOps
    }
    const children = history.engines.length * history.config.reps
    const perChild = (history.durationSec - measured) / Math.max(1, children)
    if (perChild > 0) {
      overhead = Math.max(
        1,
        perChild * (childOverheadSec(plan.scale) / childOverheadSec(history.config.scale)),
      )
    }
  }
  const perEngine = new Map<EngineId, number>()
  for (const engine of plan.engines) {
    let s = overhead
    for (const id of plan.workloads) {
      const ns =
        (history !== undefined
          ? (historyNs(history, engine, id) ?? historyWorkloadNs(history, id))
          : undefined) ?? DEFAULT_NS_PER_OP[id]
      s += (ns * opsWithWarmup(id, plan.scale)) / 1e9
    }
    perEngine.set(engine, s)
  }
  const children: { engine: EngineId; rep: number; seconds: number }[] = []
  for (let rep = 1; rep <= plan.reps; rep++) {
    for (const engine of plan.engines) {
      let timed = 0
      for (const id of plan.workloads) timed += timedSeconds(plan, history, id, engine, rep)
      children.push({ engine, rep, seconds: perEngine.get(engine)! + timed })
    }
  }
  // Two fsync probes of 50 appends each, a second or so.
  const seconds = children.reduce((sum, c) => sum + c.seconds, 0) + 1
  const same =
    history !== undefined &&
    history.config.scale === plan.scale &&
    history.config.reps === plan.reps &&
    sameList(
      history.engines.map((e) => e.id),
      plan.engines,
    ) &&
    sameList(
      history.workloads.map((w) => w.id),
      plan.workloads,
    )
  return {
    seconds,
    children,
    source:
      history === undefined
        ? 'built-in per-operation costs (no earlier run found)'
        : `per-operation times of the run of ${history.date.slice(0, 16).replace('T', ' ')} UTC (${history.config.scale.toLocaleString('en-US')} keys, ${Math.round(history.durationSec)} s${wasBusy(history) ? `, a busy run: load average ${history.load!.before[0]} on ${history.machine.cores} cores` : ''})`,
    lastSameRun: same ? history.durationSec : undefined,
    busyHistory: history !== undefined && wasBusy(history),
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/**
 * The earlier run to estimate from: among the JSON results in `files` (format 1, not --quick
 * unless the plan is), a run taken on a quiet machine before a busy one (see wasBusy), then one
 * that ran every workload of the plan before one that did not, then the one whose scale is
 * nearest the plan's, then the newest.
 */
export function pickHistory(
  plan: Pick<Plan, 'scale' | 'quick'> & { readonly workloads?: readonly WorkloadId[] },
  candidates: readonly BenchResults[],
): BenchResults | undefined {
  let best: BenchResults | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const c of candidates) {
    if (c.format !== RESULTS_FORMAT || !(c.durationSec > 0)) continue
    if (c.config.quick && !plan.quick) continue
    // A busy run sorts after every quiet one, whatever its scale; a run that lacks some of the
    // plan's workloads (a readers-only run) after every one that has them all.
    const has = new Set(c.workloads.map((w) => w.id))
    const partial = (plan.workloads ?? []).some((w) => !has.has(w))
    const d =
      Math.abs(Math.log(c.config.scale / plan.scale)) + (wasBusy(c) ? 1e6 : 0) + (partial ? 1e3 : 0)
    if (d < bestDistance - 1e-9 || (Math.abs(d - bestDistance) <= 1e-9 && c.date > best!.date)) {
      best = c
      bestDistance = d
    }
  }
  return best
}

/** Reads every results JSON in `files` and directories (their *.json), skipping unreadable ones. */
export function loadResults(paths: readonly string[]): BenchResults[] {
  const files: string[] = []
  for (const p of paths) {
    if (!existsSync(p)) continue
    if (p.endsWith('.json')) files.push(p)
    else {
      try {
        for (const f of readdirSync(p)) if (f.endsWith('.json')) files.push(join(p, f))
      } catch {
        // not a directory
      }
    }
  }
  const out: BenchResults[] = []
  for (const f of files) {
    try {
      const r = JSON.parse(readFileSync(f, 'utf8')) as BenchResults
      if (r.format === RESULTS_FORMAT && Array.isArray(r.results)) out.push(r)
    } catch {
      // a partial or foreign file: not history
    }
  }
  return out
}

/**
 * How much longer a busy machine may take: 1 when the 1-minute load average is under half the
 * cores, growing with the load beyond that (the run itself keeps one core busy).
 */
export function loadFactor(load1: number, cores: number): number {
  const extra = load1 - cores / 2
  return extra <= 0 ? 1 : 1 + extra / Math.max(1, cores)
}

/** Seconds as "45 s", "4 min 10 s", "1 h 02 min". */
export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec))
  if (s < 60) return `${s} s`
  if (s < 3600) {
    const m = Math.floor(s / 60)
    const r = s % 60
    return r === 0 ? `${m} min` : `${m} min ${r} s`
  }
  const h = Math.floor(s / 3600)
  const m = Math.round((s % 3600) / 60)
  return `${h} h ${String(m).padStart(2, '0')} min`
}
