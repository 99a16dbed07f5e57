import type { RecoveryReport } from '@alex/wal'

/** What opening a store found and did (`db.recovery`). */
export interface StorageRecoveryReport {
  /**
   * Where the index came from: `'empty'` (a new store), `'snapshot'`, or `'scan'` (no usable
   * snapshot: rebuilt from the data segments).
   */
  source: 'empty' | 'snapshot' | 'scan'
  /** Sequence number of the snapshot used, if any. */
  snapshot: number | undefined
  /** Snapshots that failed validation and were skipped. */
  damagedSnapshots: { file: string; offset: number; message: string }[]
  /** Data segment bytes dropped (untrusted tails). */
  truncated: { file: string; offset: number; bytesDropped: number; reason: string }[]
  /** Files deleted: interrupted temp files and segments no snapshot names. */
  removedFiles: string[]
  /** Log operations applied on top of the base. */
  replayed: number
  /** The write-ahead log's own recovery report. */
  wal: RecoveryReport
  /**
   * Set when the log ends before operations the data files prove existed (log segments or the
   * whole `wal/` directory deleted or lost): the operations only the lost log held are gone. Only
   * `recovery: 'point-in-time'` opens such a store; the other modes refuse with `ERR_CORRUPTION`.
   */
  logLoss: { logEndLsn: number; dataLsn: number; message: string } | undefined
  /** True if a stale lock (its owner died) was taken over. */
  lockTakenOver: boolean
}

/** A report with nothing found yet. */
export function emptyReport(lockTakenOver: boolean): StorageRecoveryReport {
  return {
    source: 'empty',
    snapshot: undefined,
    damagedSnapshots: [],
    truncated: [],
    removedFiles: [],
    replayed: 0,
    wal: undefined as unknown as RecoveryReport, // set once the log is open
    logLoss: undefined,
    lockTakenOver,
  }
}
