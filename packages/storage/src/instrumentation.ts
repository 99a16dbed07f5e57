import type { CommitObserver } from '@alex/wal'
import type { AlexStorage } from './alex-storage.js'
import type { CompactionResult } from './compaction.js'
import type { AlexStorageError } from './errors.js'
import {
  checkpointChannel,
  commitChannel,
  compactionChannel,
  failedChannel,
  failedMessage,
  readerReloadChannel,
  recoveryChannel,
  repairedSomething,
} from './events.js'
import type { MeterLike, MetricsSource } from './metrics.js'
import { StoreMetrics } from './metrics.js'

/**
 * One store's hooks into its diagnostics channels (events.ts) and metrics (metrics.ts): the store
 * calls these at the few places something worth reporting ends (a group write, a checkpoint, a
 * compaction, an open, a failure, a reload); each publishes only while its channel has a
 * subscriber and records only if metrics are on. Nothing here runs per operation except
 * `StoreMetrics.timePut`, which the store calls only when metrics are on.
 */
export class Instrumentation {
  private readonly store: AlexStorage
  /** The store's metrics, `undefined` when off. */
  readonly metrics: StoreMetrics | undefined

  constructor(
    store: AlexStorage,
    meter: MeterLike | undefined,
    readOnly: boolean,
    source: MetricsSource,
  ) {
    this.store = store
    this.metrics =
      meter === undefined
        ? undefined
        : new StoreMetrics(meter, store.dir, readOnly ? 'reader' : 'writer', source)
  }

  /** The log's commit observer (`Wal.observeCommits`). */
  readonly commit: CommitObserver = (ops, bytes, syncMs) => {
    if (commitChannel.hasSubscribers) {
      commitChannel.publish({
        store: this.store,
        ops,
        bytes,
        fsyncMs: syncMs >= 0 ? syncMs : undefined,
      })
    }
    this.metrics?.commit(ops, bytes, syncMs)
  }

  /** A checkpoint completed (`Checkpointer`'s observer). */
  readonly checkpointed = (lsn: number, bytes: number, durationMs: number, compaction: boolean) => {
    if (checkpointChannel.hasSubscribers) {
      checkpointChannel.publish({ store: this.store, lsn, bytes, durationMs, compaction })
    }
    this.metrics?.checkpoint(durationMs)
  }

  /** A compaction completed. */
  compacted(result: CompactionResult, durationMs: number): void {
    const reclaimedBytes = result.inputBytes - result.copiedBytes
    if (compactionChannel.hasSubscribers) {
      compactionChannel.publish({
        store: this.store,
        segments: result.segments,
        reclaimedBytes,
        copiedBytes: result.copiedBytes,
        durationMs,
      })
    }
    this.metrics?.compaction(durationMs, reclaimedBytes)
  }

  /** The store was opened (its recovery done), `durationMs` after `open` was called. */
  recovered(readOnly: boolean, durationMs: number): void {
    if (!recoveryChannel.hasSubscribers) return
    const report = this.store.recovery
    recoveryChannel.publish({
      store: this.store,
      readOnly,
      source: report.source,
      replayed: report.replayed,
      durationMs,
      repaired: repairedSomething(report),
      report,
    })
  }

  /** The store failed with `error` (`StoreFailure`'s callback, once). */
  failed(error: AlexStorageError | undefined): void {
    if (error === undefined || !failedChannel.hasSubscribers) return
    failedChannel.publish(failedMessage(this.store, error))
  }

  /** A following reader reloaded from `fromLsn` to `lsn`. */
  reloaded(fromLsn: number, lsn: number, durationMs: number): void {
    if (readerReloadChannel.hasSubscribers) {
      readerReloadChannel.publish({ store: this.store, fromLsn, lsn, durationMs })
    }
  }

  /** The store closed: its observable metrics stop. */
  close(): void {
    this.metrics?.close()
  }
}
