import type { FileSystem } from './file-system.js'

/**
 * When an append counts as durable.
 * - `'always'`: the append's promise resolves only after its bytes are fdatasync'ed (default).
 * - `'interval'`: resolves once the OS has the bytes; an fdatasync runs at most every
 *   `syncIntervalMs`. A power cut can lose up to that window; a process crash loses nothing.
 * - `'none'`: resolves once the OS has the bytes; never syncs except at `sync()`, `checkpoint()`
 *   and `close()`. For bulk loads and tests.
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
  /** A segment is closed and a new one started once it reaches this size (default 64 MiB). */
  segmentBytes?: number
  /** Largest value accepted by `append` (default 16 MiB). */
  maxValueBytes?: number
  /** How damage found at open is handled (default `'tolerate-torn-tail'`). */
  recovery?: RecoveryMode
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
 * `value` is a view into the log's read buffer: copy it if you keep it past the replay.
 */
export interface WalRecord {
  lsn: bigint
  type: 'put' | 'delete'
  key: number
  /** The value of a put; `undefined` for a delete. */
  value: Uint8Array | undefined
}
