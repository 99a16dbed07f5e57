/**
 * Messages between the parent (cli) and the child process that runs one engine, and the
 * per-workload result shape that also goes into the JSON results.
 */
import type { EngineId } from '@alex/compare'
import type { Distribution } from './dataset.js'
import type { Footprint } from './footprint.js'
import type { LatencySummary } from './measure.js'
import type { ReadersDetail } from './readers/plan.js'
import type { Durability, WorkloadId } from './workloads.js'

/** What a child runs: one engine, one repetition, the selected workloads in order. */
export interface ChildConfig {
  readonly engine: EngineId
  readonly rep: number
  readonly scale: number
  readonly valueSize: number
  readonly distribution: Distribution
  readonly seed: number
  readonly workloads: readonly WorkloadId[]
  readonly durability: 'default' | 'durable' | 'fast'
  /** Parent directory for the store's fresh temp dir. */
  readonly tmpRoot: string
}

/** The measurement of one workload in one repetition. */
export interface WorkloadResult {
  readonly workload: WorkloadId
  /** Durability its writes ran with. */
  readonly durability: Durability
  /**
   * True when the engine cannot run it (ordered scans on Map) or it is not run for this engine
   * (`readers`: AlexStorage and LMDB only): no figures.
   */
  readonly unsupported: boolean
  readonly ops: number
  readonly elapsedMs: number
  readonly opsPerSec: number
  readonly nsPerOp: number
  readonly latency: LatencySummary
  /** Values compared byte for byte with what was written during the measured phase. */
  readonly verifiedValues: number
  /** `readers` only: every phase's figures (the fields above are its 2-reader-process phase). */
  readonly readers?: ReadersDetail
}

/** Child -> parent messages. */
export type ChildMessage =
  | {
      readonly type: 'progress'
      readonly workload: WorkloadId | 'setup' | 'verify'
      readonly done: number
      readonly total: number
    }
  | { readonly type: 'result'; readonly result: WorkloadResult }
  | {
      readonly type: 'done'
      readonly harnessNsPerRead: number
      /** Values checked by the final read-back of everything written. */
      readonly finalVerified: number
      /** Peak RSS and the store's bytes on disk (issue #14). */
      readonly footprint: Footprint
    }
  | { readonly type: 'error'; readonly message: string; readonly correctness: boolean }
