import type { FileSystem } from './file-system.js'

/**
 * When an append counts as durable.
 * - `'always'`: the append's promise resolves only after its bytes are fdatasync'ed (default).
 * - `'interval'`: resolves once the OS has the bytes; an fdatasync runs at most every
 *   `syncIntervalMs`. A power cut can lose up to that window; a process crash loses nothing.
 * - `'none'`: resolves once the OS has the bytes; never syncs except at `sync()`, `checkpoint()`,
 *   segment rotation and `close()`. For bulk loads and tests.
 */
export type SyncMode = 'always' | 'interval' | 'none'

/**
 * What `Wal.open` does with a damaged log (after RocksDB's WAL recovery modes).
 * - `'tolerate-torn-tail'` (default): a bad or partial record at the very end of the newest
 *   segment is a torn write from a crash: it is truncated and reported. A bad record followed
 *   by valid data is corruption: `ERR_CORRUPTION`.
 * - `'absolute-consistency'`: any bad or partial record, even a torn tail, is `ERR_CORRUPTION`.
 * - `'point-in-time'`: recovery stops at the first bad record; it and everything after it are
 *   dropped (and reported). For salvaging a damaged log.
 */
export type RecoveryMode = 'tolerate-torn-tail' | 'absolute-consistency' | 'point-in-time'

/** Options for `Wal.open`. */
export interface WalOptions {
  /** Durability of an append (default `'always'`). */
  sync?: SyncMode
  /** For `sync: 'interval'`: the longest time between fdatasyncs, in ms (default 100). */
  syncIntervalMs?: number
  /**
   * A segment is sealed and a new one started before a write would take it past this size
   * (default 64 MiB, minimum 4 KiB). A single record larger than this gets a segment of its own.
   */
  segmentBytes?: number
  /** Largest value accepted by `append` (default 16 MiB, at most 512 MiB). */
  maxValueBytes?: number
  /** How damage found at open is handled (default `'tolerate-torn-tail'`). */
  recovery?: RecoveryMode
  /**
   * The next LSN handed out is at least this (default 1). The owner passes the LSN it has
   * already persisted elsewhere + 1, so LSNs never repeat even if the log directory was lost.
   */
  minNextLsn?: bigint
  /**
   * Run each fdatasync on the calling thread (`FileHandle.syncSync`) instead of the libuv thread
   * pool (default false). It saves the thread-pool round trip (tens of µs) on every commit, so a
   * lone serial writer gets lower latency, but the event loop is blocked for the whole fsync:
   * nothing else runs meanwhile, and only appends made by code that runs between commits (for
   * example the continuations of the appends just acknowledged) are grouped. Leave it off in a
   * server that handles other I/O.
   */
  blockingSync?: boolean
  /**
   * Retention by size (default 0): when a checkpoint (or `trim()`) deletes the segments it
   * covers, it keeps the newest of them whose sizes add up to at least this many bytes (counting
   * covered, sealed segments only), so that a `LogTail` reading behind the checkpoint can still
   * catch up. Also applied to the covered segments `Wal.open` would delete. An integer >= 0.
   */
  retainBytes?: number
  /**
   * Retention by age (default 0): covered segments sealed less than this many milliseconds ago
   * are kept. The seal time is tracked in memory (monotonic clock), not read from the file's
   * mtime: a segment found at open counts as sealed at that open, so a reopen keeps every
   * covered segment for another `retainMs`. A number >= 0.
   */
  retainMs?: number
  /** File-system implementation (default: the real one, `node:fs`). */
  fs?: FileSystem
}

/** One operation to log: `append` takes one, `appendBatch` several (applied atomically). */
export type WalOp =
  | { type: 'put'; key: number; value: Uint8Array }
  | { type: 'delete'; key: number }

/**
 * A logged operation as `replay()` yields it. Every operation has its own LSN; the operations of
 * a batch have consecutive LSNs and are all present or all absent after a crash.
 * `value` is a view into the buffer replay read the segment into (no copy per value). The buffer
 * is never reused, so the view stays valid after the replay, but it keeps that whole buffer
 * (up to a segment) alive: copy values you keep for long.
 */
export interface WalRecord {
  lsn: bigint
  type: 'put' | 'delete'
  key: number
  /** The value of a put; `undefined` for a delete. */
  value: Uint8Array | undefined
}

/**
 * Why bytes of the log were judged damaged. Recovery reports it for what it dropped, and
 * `ERR_CORRUPTION` errors carry it.
 * - `'truncated-header'`: fewer bytes than a record header remain at the end of a segment.
 * - `'truncated-payload'`: a record's length runs past the end of the segment.
 * - `'checksum-mismatch'`: a record's CRC-32 does not match its bytes.
 * - `'bad-record-type'`: the record type byte is not a known type.
 * - `'bad-length'`: the length field is impossible for the record type.
 * - `'bad-payload'`: a record with a valid checksum whose payload is malformed.
 * - `'lsn-out-of-order'`: a record's LSN does not follow the previous one.
 * - `'bad-segment-header'`: a segment's header is damaged (magic, checksum, fields, name).
 * - `'missing-segment'`: records between two segments are missing (a segment was lost).
 * - `'after-corruption'`: valid bytes dropped only because they follow damage
 *   (`'point-in-time'` recovery).
 */
export type DamageReason =
  | 'truncated-header'
  | 'truncated-payload'
  | 'checksum-mismatch'
  | 'bad-record-type'
  | 'bad-length'
  | 'bad-payload'
  | 'lsn-out-of-order'
  | 'bad-segment-header'
  | 'missing-segment'
  | 'after-corruption'

/** A range of bytes recovery removed from the log (truncated, or a whole segment deleted). */
export interface RecoveryDrop {
  /** Path of the segment file. */
  file: string
  /** Byte offset in that file where the dropped range starts (0: the whole file was deleted). */
  offset: number
  /** How many bytes were dropped (from `offset` to the end of the file). */
  bytesDropped: number
  /** Why. */
  reason: DamageReason
}

/**
 * What `Wal.open` found and did (`wal.recovery`), or what it would find and do (`Wal.inspect`,
 * which returns the same report for the same bytes and options without doing anything).
 */
export interface RecoveryReport {
  /** The recovery mode that was applied. */
  mode: RecoveryMode
  /** Segment files kept from before this open (the new active segment not counted). */
  segments: number
  /**
   * Ids of those segment files, oldest first (file `<id padded to 20 digits>.wal`). The segment
   * `open` creates next has a larger id than every file in the directory.
   */
  segmentIds: number[]
  /** Operations after the last checkpoint, i.e. what `replay()` yields. */
  records: number
  /** Newest checkpoint LSN found (0n if none). */
  checkpointLsn: bigint
  /**
   * Last LSN the kept log holds: the LSN of its last intact operation, or the checkpoint LSN if
   * that is higher (the operations up to a checkpoint may have been deleted with their
   * segments); 0n if neither. LSNs the log never held (`minNextLsn`, dropped data) count only
   * in `nextLsn`.
   */
  lastLsn: bigint
  /** LSN the first append of this session gets. */
  nextLsn: bigint
  /** Damage that was truncated or dropped (empty when the log was clean). */
  dropped: RecoveryDrop[]
  /**
   * Files removed because they were no longer part of the log: leftover `.tmp` files of an
   * interrupted segment creation and segments left over from an interrupted checkpoint deletion
   * (wholly covered by the checkpoint), except those `retainBytes`/`retainMs` keep.
   */
  removedFiles: string[]
}

/** Latency percentiles in microseconds (bucketed: each figure is within about 7%). */
export interface LatencySummary {
  count: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

/**
 * Told about each group write of the log (`Wal.observeCommits`), synchronously, after the
 * group's appenders were resolved: `ops` operations in it (0 for a group holding only a
 * checkpoint frame, or for a sync with nothing new to write), `bytes` written with its one
 * `write()` (0 if none), and `syncMs`, the duration of the fdatasync that made it durable in ms,
 * or -1 if the group was not synced (sync modes `'none'` and `'interval'` between syncs).
 * Called once per group, never per operation; it must be cheap.
 */
export type CommitObserver = (ops: number, bytes: number, syncMs: number) => void

/** Counters returned by `wal.stats()`. Counts are since this `Wal.open`. */
export interface WalStats {
  /** Bytes written to segment files (records and segment headers). */
  bytesWritten: number
  /** Operations appended and written (each operation of a batch counts once). */
  recordsWritten: number
  /** Batch records written (`appendBatch` calls). */
  batchesWritten: number
  /** Group writes: one `write()` each, carrying every record gathered since the previous one. */
  groupCommits: number
  /** Operations per group write. */
  groupSize: { mean: number; max: number }
  /** Segment files currently in the log (including the active one). */
  segments: number
  /** Segments created and deleted since open. */
  segmentsCreated: number
  segmentsDeleted: number
  /** fdatasyncs of segment files, and their latency. */
  fsyncs: number
  fsyncLatencyUs: LatencySummary
  /** fsyncs of the log directory. */
  dirSyncs: number
  /** Checkpoints completed since open. */
  checkpoints: number
  /** LSN of the newest durable checkpoint (0n if none). */
  checkpointLsn: bigint
  /** Last LSN handed out by an append (0n if none yet). */
  lastAppendedLsn: bigint
  /** Every LSN up to this one is durable (survives a power cut). */
  lastDurableLsn: bigint
  /** True once a write or sync failed; every later append rejects. */
  failed: boolean
  /**
   * First LSN the log's segment files still hold (the base LSN of the oldest segment): a
   * `LogTail` can start after any LSN from one below it. Older operations were deleted by
   * checkpoints; retention (`retainBytes`, `retainMs`, `setRetentionFloor`) keeps it lower.
   */
  oldestLsn: bigint
}
