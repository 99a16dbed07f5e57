/**
 * Runs the children: for each repetition, each engine in its own process, one after another
 * (never two at once: they would compete for the same cores and disk). Collects results,
 * forwards progress, and stops the whole run at the first error or wrong answer.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { EngineId } from '@alex/compare'
import type { BenchOptions } from './args.js'
import { type Footprint, formatBytes } from './footprint.js'
import { formatNs, formatRate } from './format.js'
import { median } from './measure.js'
import type { Progress } from './progress.js'
import type { ChildConfig, ChildMessage, WorkloadResult } from './protocol.js'

/** What all children reported. */
export interface Collected {
  /** `${engine}/${workload}` -> one result per repetition. */
  readonly runs: Map<string, WorkloadResult[]>
  readonly harnessNsPerRead: number
  readonly finalVerified: number
  /** Engine -> its footprint in each repetition. */
  readonly footprints: Map<EngineId, Footprint[]>
}

/** A child failed; `correctness` when a read returned the wrong value. */
export class RunFailed extends Error {
  readonly correctness: boolean
  constructor(message: string, correctness: boolean) {
    super(message)
    this.name = 'RunFailed'
    this.correctness = correctness
  }
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))

type ChildDone = Omit<Extract<ChildMessage, { type: 'done' }>, 'type'>

function runChild(
  config: ChildConfig,
  progress: Progress,
  onResult: (r: WorkloadResult) => void,
): Promise<ChildDone> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--max-old-space-size=8192', '--import', 'tsx', CHILD, JSON.stringify(config)],
      { cwd: PACKAGE_DIR, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    )
    let done: ChildDone | undefined
    let failure: RunFailed | undefined
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') progress.update(m.workload, m.done, m.total)
      else if (m.type === 'result') onResult(m.result)
      else if (m.type === 'done') done = m
      else if (m.type === 'error') failure = new RunFailed(m.message, m.correctness)
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (failure !== undefined) reject(failure)
      else if (done !== undefined && code === 0) resolve(done)
      else {
        reject(
          new RunFailed(
            `${config.engine} (rep ${config.rep}) exited with ${signal ?? `code ${code}`} before finishing`,
            false,
          ),
        )
      }
    })
  })
}

/** Runs every (repetition, engine) child and collects the results. */
export async function runAll(
  options: BenchOptions,
  tmpRoot: string,
  progress: Progress,
): Promise<Collected> {
  const runs = new Map<string, WorkloadResult[]>()
  const harness: number[] = []
  let finalVerified = 0
  const footprints = new Map<EngineId, Footprint[]>()
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const engine of options.engines as EngineId[]) {
      progress.start(`${engine} rep ${rep}/${options.reps}`)
      const config: ChildConfig = {
        engine,
        rep,
        scale: options.scale,
        valueSize: options.valueSize,
        distribution: options.distribution,
        seed: options.seed,
        workloads: options.workloads,
        durability: options.durability,
        tmpRoot,
      }
      const done = await runChild(config, progress, (r) => {
        const key = `${engine}/${r.workload}`
        const list = runs.get(key) ?? []
        list.push(r)
        runs.set(key, list)
        progress.finished(
          r.unsupported
            ? `${engine.padEnd(8)} ${r.workload.padEnd(14)} n/a`
            : `${engine.padEnd(8)} ${r.workload.padEnd(14)} ${formatRate(r.opsPerSec).padStart(10)}  ${formatNs(r.nsPerOp).padStart(9)}/op  p99 ${formatNs(r.latency.p99)}`,
        )
      })
      harness.push(done.harnessNsPerRead)
      finalVerified += done.finalVerified
      const f = done.footprint
      footprints.set(engine, [...(footprints.get(engine) ?? []), f])
      progress.finished(
        `${engine.padEnd(8)} peak RSS ${formatBytes(f.peakRssBytes)} (${formatBytes(f.harnessRssBytes)} before the store opened), on disk ${formatBytes(f.diskAfterLoad.allocated)} after the load, ${formatBytes(f.diskAfterWorkloads.allocated)} after the workloads (apparent ${formatBytes(f.diskAfterWorkloads.apparent)})`,
      )
      progress.childDone()
    }
  }
  return { runs, harnessNsPerRead: median(harness), finalVerified, footprints }
}
