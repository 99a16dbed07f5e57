import { type Channel, channel } from 'node:diagnostics_channel'
import type { AlexStorage } from './alex-storage.js'
import type { AlexStorageError } from './errors.js'
import type { StorageRecoveryReport } from './recovery-report.js'

/**
 * The store's diagnostics channels (`node:diagnostics_channel`, the convention of undici and
 * Node core): every name and every message's fields are here, in one place. Subscribe with
 * `diagnostics_channel.subscribe(name, fn)`; each message carries the `store` it is about, so a
 * subscriber can tell several stores of one process apart.
 *
 * A message is built and published only while its channel has a subscriber: without one the
 * store pays one property check (`channel.hasSubscribers`) at each publishing site, and no
 * publishing site is per operation (the commit channel is per group of writes). Messages are
 * published synchronously, from inside the store; a subscriber must be quick and must not call
 * back into the store's writes. What a subscriber throws is rethrown on the next tick by Node
 * (an `uncaughtException`), as for every diagnostics channel: the store is not affected.
 */
export const channels = {
  /** One group write of the log (group commit): `CommitMessage`. */
  commit: 'alexstorage:commit',
  /** A completed checkpoint (also the last step of a compaction): `CheckpointMessage`. */
  checkpoint: 'alexstorage:checkpoint',
  /** A completed compaction: `CompactionMessage`. */
  compaction: 'alexstorage:compaction',
  /** A store opened (writer or reader), after its recovery: `RecoveryMessage`. */
  recovery: 'alexstorage:recovery',
  /** The store failed and refuses writes from now on: `FailedMessage`. */
  failed: 'alexstorage:failed',
  /** A following reader reloaded from the writer's newer snapshot: `ReaderReloadMessage`. */
  readerReload: 'alexstorage:reader:reload',
} as const

/** `alexstorage:commit`: one group write (or bare fdatasync) of the store's write-ahead log. */
export interface CommitMessage {
  store: AlexStorage
  /**
   * Operations in the group (each operation of a batch counts once). 0 for a group that carried
   * only a checkpoint frame, or for an fdatasync with nothing new to write (`sync()`, the
   * `'interval'` timer).
   */
  ops: number
  /** Bytes written to the log by the group's one `write()` (0 for a bare fdatasync). */
  bytes: number
  /**
   * Duration of the fdatasync that made the group durable, in ms; `undefined` when the group was
   * not synced (sync `'none'`, or `'interval'` between its syncs).
   */
  fsyncMs: number | undefined
}

/** `alexstorage:checkpoint`: a checkpoint completed (the snapshot is durable, the log trimmed). */
export interface CheckpointMessage {
  store: AlexStorage
  /** The LSN the new snapshot covers. */
  lsn: number
  /** The snapshot file's size in bytes. */
  bytes: number
  /**
   * From the capture of the index to the last deletion, in ms (waiting for pending writes to
   * settle before it is not counted).
   */
  durationMs: number
  /** True for the checkpoint that ends a compaction (a `CompactionMessage` follows). */
  compaction: boolean
}

/** `alexstorage:compaction`: a compaction completed (its final checkpoint included). */
export interface CompactionMessage {
  store: AlexStorage
  /** Sealed segments it rewrote. */
  segments: number
  /**
   * Record bytes it reclaimed: the inputs' record bytes minus the live ones it copied. Files an
   * open snapshot still reads are deleted when it is released (their bytes count here already).
   */
  reclaimedBytes: number
  /** Live record bytes it copied into new segments. */
  copiedBytes: number
  /** From its start (after pending writes settled) to the end of its checkpoint, in ms. */
  durationMs: number
}

/** `alexstorage:recovery`: a store was opened; what its recovery found and did. */
export interface RecoveryMessage {
  store: AlexStorage
  /** True for a read-only open (a reader). */
  readOnly: boolean
  /** Where the index came from (`db.recovery.source`). */
  source: StorageRecoveryReport['source']
  /** Log operations applied on top of the base. */
  replayed: number
  /** From the call of `open` to the store being ready (before the open's checkpoint), in ms. */
  durationMs: number
  /**
   * True if the open found something to repair or skip: damaged snapshots, truncated segment
   * tails, log bytes dropped, lost log, a stale lock taken over.
   */
  repaired: boolean
  /** The whole report (`db.recovery`). */
  report: StorageRecoveryReport
}

/** `alexstorage:failed`: the store failed (a write, fsync or file operation failed). */
export interface FailedMessage {
  store: AlexStorage
  /** The store's error code: always `ERR_STORE_FAILED`. */
  code: string
  /**
   * The code of the root cause (the end of the `cause` chain), the OS error's when there is one
   * (`ENOSPC`, `EIO`, ...).
   */
  causeCode: string | undefined
  /** The root cause's message. */
  causeMessage: string
  /** The error every later write rejects with. */
  error: AlexStorageError
}

/** `alexstorage:reader:reload`: a following reader rebuilt its view from a newer snapshot. */
export interface ReaderReloadMessage {
  store: AlexStorage
  /** The reader's LSN before and after the reload. */
  fromLsn: number
  lsn: number
  /** The reload's duration (reading the snapshot and the log up to `lsn`), in ms. */
  durationMs: number
}

/** The channel objects, created once (a channel is looked up by name, so they are shared). */
export const commitChannel: Channel = channel(channels.commit)
export const checkpointChannel: Channel = channel(channels.checkpoint)
export const compactionChannel: Channel = channel(channels.compaction)
export const recoveryChannel: Channel = channel(channels.recovery)
export const failedChannel: Channel = channel(channels.failed)
export const readerReloadChannel: Channel = channel(channels.readerReload)

/** A recovery report's "something was repaired or skipped" summary (`RecoveryMessage.repaired`). */
export function repairedSomething(report: StorageRecoveryReport): boolean {
  return (
    report.damagedSnapshots.length > 0 ||
    report.truncated.length > 0 ||
    report.logLoss !== undefined ||
    report.lockTakenOver ||
    (report.wal?.dropped.length ?? 0) > 0
  )
}

/** The `FailedMessage` of a failed store: the cause is the root of its `cause` chain. */
export function failedMessage(store: AlexStorage, error: AlexStorageError): FailedMessage {
  let cause = error.cause as { code?: unknown; message?: unknown; cause?: unknown } | undefined
  // A log failure is ERR_WAL_FAILED with the OS error as its cause: report the OS error.
  for (let depth = 0; depth < 8 && cause?.cause !== undefined; depth++) {
    cause = cause.cause as typeof cause
  }
  return {
    store,
    code: error.code,
    causeCode: typeof cause?.code === 'string' ? cause.code : undefined,
    causeMessage:
      typeof cause?.message === 'string' ? cause.message : String(cause ?? error.message),
    error,
  }
}
