import type { ResolvedOptions } from './options.js'
import type { SegmentSet } from './segment-set.js'
import type { StoreFailure } from './store-failure.js'
import type { WritePipeline } from './write-pipeline.js'

const noop = () => {}

/** What the scheduler runs and checks. */
export interface MaintenanceTasks {
  checkpoint: () => Promise<void>
  compact: () => Promise<void>
  /** True while the store is open (not closing or closed). */
  isOpen: () => boolean
}

/**
 * The maintenance scheduler: checkpoints and compactions run one at a time, in one chain, either
 * on request (`exclusive`) or by themselves once the writes applied since the last checkpoint
 * cross `checkpointRecords`/`checkpointBytes`, or dead bytes cross the compaction thresholds
 * (docs/architecture.md, sections 4 and 5).
 */
export class Maintenance {
  private readonly options: ResolvedOptions
  private readonly segments: SegmentSet
  private readonly writes: () => WritePipeline
  private readonly failure: StoreFailure
  private readonly tasks: MaintenanceTasks
  /** Checkpoints and compactions run one at a time, in this chain. */
  private chain: Promise<void> = Promise.resolve()
  private autoScheduled = false

  /** `writes` is a getter: the pipeline is created after the scheduler it reports to. */
  constructor(
    options: ResolvedOptions,
    segments: SegmentSet,
    writes: () => WritePipeline,
    failure: StoreFailure,
    tasks: MaintenanceTasks,
  ) {
    this.options = options
    this.segments = segments
    this.writes = writes
    this.failure = failure
    this.tasks = tasks
  }

  /** Resolves once every task queued so far has run. */
  idle(): Promise<void> {
    return this.chain
  }

  /**
   * Runs `task` once the ones before it are done. Whatever it throws that is not a validation or
   * corruption error of ours (a failed write, segment creation, seal or fsync, anywhere in it)
   * fails the store: it rejects with ERR_STORE_FAILED.
   */
  exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task).catch((err: unknown) => {
      throw this.failure.failOn(err)
    })
    this.chain = run.then(noop, noop)
    return run
  }

  /** After writes were applied: starts a checkpoint or compaction if one is due. */
  check(): void {
    if (this.autoScheduled) return
    if (!this.tasks.isOpen() || this.failure.error !== undefined || this.options.readOnly) return
    if (!this.needsCheckpoint() && !this.needsCompaction()) return
    this.autoScheduled = true
    this.exclusive(async () => {
      if (!this.tasks.isOpen() || this.failure.error !== undefined) return
      if (this.needsCompaction()) await this.tasks.compact()
      else if (this.needsCheckpoint()) await this.tasks.checkpoint()
    })
      .catch(noop) // a failure is recorded in the store's failure and reported by later calls
      .finally(() => {
        this.autoScheduled = false
        // Writes applied while it ran may have crossed a threshold again.
        this.check()
      })
  }

  private needsCheckpoint(): boolean {
    const writes = this.writes()
    return (
      writes.opsSinceCheckpoint >= this.options.checkpointRecords ||
      writes.bytesSinceCheckpoint >= this.options.checkpointBytes
    )
  }

  private needsCompaction(): boolean {
    if (!this.options.autoCompaction) return false
    const dead = this.segments.dataBytes - this.segments.liveBytes
    return (
      dead >= this.options.compactionMinBytes &&
      dead > 0 &&
      dead >= this.options.compactionThreshold * this.segments.dataBytes
    )
  }
}
