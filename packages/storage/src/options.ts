import type { RecoveryMode, SyncMode } from '@alex/wal'
import type { FileSystem } from '@alex/wal/io'
import { AlexStorageError, ErrorCode, unknownKey } from './errors.js'
import { MAX_SEGMENT_BYTES, RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE } from './format.js'
import { checkMetricsOption, type MetricsOption } from './metrics.js'

/** Options for `AlexStorage.open`. Every field is optional. */
export interface AlexStorageOptions {
  /**
   * When a write's promise resolves (and the write becomes visible to `get`):
   * `'always'` (default) after its log entry is fdatasync'ed, so it survives a power cut;
   * `'interval'` once the OS has it, with an fdatasync at most every `syncIntervalMs` (a power
   * cut can lose that window, a process crash loses nothing); `'none'` once the OS has it, synced
   * only by `checkpoint()` and `close()` (bulk loads, tests).
   */
  sync?: SyncMode
  /** For `sync: 'interval'`: the longest time between fdatasyncs, in ms (default 100). */
  syncIntervalMs?: number
  /**
   * Run the log's fdatasyncs on the JS thread instead of libuv's thread pool (default false).
   * Saves the thread-pool round trip (tens of µs) on every durable write, so a lone serial
   * writer gets lower latency, but the event loop is blocked for each fsync: nothing else runs
   * meanwhile. For single-purpose processes (a CLI, a batch job), not for a server.
   */
  blockingSync?: boolean
  /** Checkpoint once this many log bytes were written since the last one (default 64 MiB). */
  checkpointBytes?: number
  /** Checkpoint once this many operations were logged since the last one (default 1,000,000). */
  checkpointRecords?: number
  /** Memory for resident data-segment images, in bytes (default 256 MiB). See the README. */
  cacheBytes?: number
  /** Largest value accepted, in bytes (default 16 MiB, at most 128 MiB - 41). */
  maxValueBytes?: number
  /**
   * Size of a data segment's in-memory image; a segment is sealed when full (default 8 MiB, at
   * most 128 MiB). A store holds at most 32768 segments (256 GiB of records at the default).
   */
  segmentBytes?: number
  /** Open without the write lock; every write rejects with `ERR_READ_ONLY` (default false). */
  readOnly?: boolean
  /**
   * For `readOnly`: follow the writer (default true): every write it acknowledges becomes
   * visible here shortly after, in order, batches whole (docs/architecture.md, section 12).
   * `false` keeps the view frozen at the moment of opening.
   */
  follow?: boolean
  /**
   * For a following reader: how often it polls for new writes when no change notification came,
   * in ms (default 20). Notifications (inotify) usually wake it within a millisecond.
   */
  followIntervalMs?: number
  /**
   * For a following reader: once the values it applied from the log since its base pass this
   * many bytes, it reloads from the writer's newest snapshot to give that memory back
   * (default 64 MiB).
   */
  followReloadBytes?: number
  /** Compact by itself when dead bytes pass `compactionThreshold` (default true). */
  autoCompaction?: boolean
  /** Dead bytes / (live + dead bytes) that starts an automatic compaction (default 0.5). */
  compactionThreshold?: number
  /** Automatic compaction only once at least this many bytes are dead (default 16 MiB). */
  compactionMinBytes?: number
  /** How damage found at open is handled (default `'tolerate-torn-tail'`); see the README. */
  recovery?: RecoveryMode
  /** Size at which the log starts a new segment file (default: @alex/wal's, 64 MiB). */
  walSegmentBytes?: number
  /**
   * Log retention by size (default 0): when a checkpoint deletes the log segments it covers, it
   * keeps the newest of them up to at least this many bytes, so that a change feed
   * (`changes({ since })`) that stopped can resume from an LSN the snapshot already covers. Also
   * applies at open. An open feed keeps what it still needs regardless.
   */
  logRetainBytes?: number
  /**
   * Log retention by age (default 0): covered log segments sealed less than this many ms ago
   * are kept (the seal time is kept in memory: a reopen counts as sealing them again).
   */
  logRetainMs?: number
  /**
   * OpenTelemetry metrics (default off; README, "Metrics and events"): `true` records on the
   * global meter provider's meter `@alex/storage` (`@opentelemetry/api`, an optional peer
   * dependency, loaded at open; absent: no metrics, one process warning), `{ meter }` on that
   * meter. Off, the store creates no instrument and its writes pay nothing for them.
   */
  metrics?: MetricsOption
  /** File-system implementation (default: the real one). For tests with fault injection. */
  fs?: FileSystem
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  sync: SyncMode
  syncIntervalMs: number
  blockingSync: boolean
  checkpointBytes: number
  checkpointRecords: number
  cacheBytes: number
  maxValueBytes: number
  segmentBytes: number
  readOnly: boolean
  follow: boolean
  followIntervalMs: number
  followReloadBytes: number
  autoCompaction: boolean
  compactionThreshold: number
  compactionMinBytes: number
  recovery: RecoveryMode
  walSegmentBytes: number | undefined
  logRetainBytes: number
  logRetainMs: number
  metrics: MetricsOption | undefined
  fs: FileSystem | undefined
}

const MiB = 1024 * 1024

/** Default values of every option. */
export const DEFAULTS = {
  sync: 'always',
  syncIntervalMs: 100,
  blockingSync: false,
  checkpointBytes: 64 * MiB,
  checkpointRecords: 1_000_000,
  cacheBytes: 256 * MiB,
  maxValueBytes: 16 * MiB,
  segmentBytes: 8 * MiB,
  readOnly: false,
  follow: true,
  followIntervalMs: 20,
  followReloadBytes: 64 * MiB,
  autoCompaction: true,
  compactionThreshold: 0.5,
  compactionMinBytes: 16 * MiB,
  recovery: 'tolerate-torn-tail',
  logRetainBytes: 0,
  logRetainMs: 0,
} as const

/** Every key of `AlexStorageOptions` (the record type makes the compiler keep it complete). */
const OPTION_KEYS: Readonly<Record<keyof AlexStorageOptions, true>> = {
  sync: true,
  syncIntervalMs: true,
  blockingSync: true,
  checkpointBytes: true,
  checkpointRecords: true,
  cacheBytes: true,
  maxValueBytes: true,
  segmentBytes: true,
  readOnly: true,
  follow: true,
  followIntervalMs: true,
  followReloadBytes: true,
  autoCompaction: true,
  compactionThreshold: true,
  compactionMinBytes: true,
  recovery: true,
  walSegmentBytes: true,
  logRetainBytes: true,
  logRetainMs: true,
  metrics: true,
  fs: true,
}
const KNOWN_OPTIONS = Object.keys(OPTION_KEYS)

function bad(name: string, value: unknown, want: string): AlexStorageError {
  return new AlexStorageError(
    ErrorCode.INVALID_ARGUMENT,
    `option ${name} must be ${want} (got ${String(value)})`,
  )
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number) {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(name, value, `an integer in [${min}, ${max}]`)
  }
  return value
}

/**
 * Validates `options` and fills in defaults; throws `ERR_INVALID_ARGUMENT` on a bad value or an
 * unknown key (a misspelt option would otherwise be silently ignored).
 */
export function resolveOptions(options: AlexStorageOptions | undefined): ResolvedOptions {
  const o = options ?? {}
  if (typeof o !== 'object') throw bad('options', o, 'an object')
  for (const name in o) {
    if (!Object.hasOwn(OPTION_KEYS, name)) throw unknownKey('option', name, KNOWN_OPTIONS)
  }
  const sync = o.sync ?? DEFAULTS.sync
  if (sync !== 'always' && sync !== 'interval' && sync !== 'none') {
    throw bad('sync', sync, "'always', 'interval' or 'none'")
  }
  const recovery = o.recovery ?? DEFAULTS.recovery
  if (
    recovery !== 'tolerate-torn-tail' &&
    recovery !== 'absolute-consistency' &&
    recovery !== 'point-in-time'
  ) {
    throw bad(
      'recovery',
      recovery,
      "'tolerate-torn-tail', 'absolute-consistency' or 'point-in-time'",
    )
  }
  const threshold = o.compactionThreshold ?? DEFAULTS.compactionThreshold
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
    throw bad('compactionThreshold', threshold, 'a number in (0, 1]')
  }
  for (const name of ['readOnly', 'follow', 'autoCompaction', 'blockingSync'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') throw bad(name, o[name], 'a boolean')
  }
  const maxValueBytes = integer(
    'maxValueBytes',
    o.maxValueBytes,
    DEFAULTS.maxValueBytes,
    0,
    MAX_SEGMENT_BYTES - SEGMENT_HEADER_SIZE - RECORD_HEADER_SIZE,
  )
  return {
    sync,
    syncIntervalMs: integer(
      'syncIntervalMs',
      o.syncIntervalMs,
      DEFAULTS.syncIntervalMs,
      1,
      3_600_000,
    ),
    blockingSync: o.blockingSync ?? DEFAULTS.blockingSync,
    checkpointBytes: integer(
      'checkpointBytes',
      o.checkpointBytes,
      DEFAULTS.checkpointBytes,
      1,
      2 ** 50,
    ),
    checkpointRecords: integer(
      'checkpointRecords',
      o.checkpointRecords,
      DEFAULTS.checkpointRecords,
      1,
      2 ** 50,
    ),
    cacheBytes: integer('cacheBytes', o.cacheBytes, DEFAULTS.cacheBytes, 0, 2 ** 50),
    maxValueBytes,
    segmentBytes: integer(
      'segmentBytes',
      o.segmentBytes,
      DEFAULTS.segmentBytes,
      4096,
      MAX_SEGMENT_BYTES,
    ),
    readOnly: o.readOnly ?? DEFAULTS.readOnly,
    follow: o.follow ?? DEFAULTS.follow,
    followIntervalMs: integer(
      'followIntervalMs',
      o.followIntervalMs,
      DEFAULTS.followIntervalMs,
      1,
      60_000,
    ),
    followReloadBytes: integer(
      'followReloadBytes',
      o.followReloadBytes,
      DEFAULTS.followReloadBytes,
      0,
      2 ** 50,
    ),
    autoCompaction: o.autoCompaction ?? DEFAULTS.autoCompaction,
    compactionThreshold: threshold,
    compactionMinBytes: integer(
      'compactionMinBytes',
      o.compactionMinBytes,
      DEFAULTS.compactionMinBytes,
      0,
      2 ** 50,
    ),
    recovery,
    walSegmentBytes:
      o.walSegmentBytes === undefined
        ? undefined
        : integer('walSegmentBytes', o.walSegmentBytes, 0, 4096, 2 ** 32),
    logRetainBytes: integer(
      'logRetainBytes',
      o.logRetainBytes,
      DEFAULTS.logRetainBytes,
      0,
      2 ** 50,
    ),
    logRetainMs: integer('logRetainMs', o.logRetainMs, DEFAULTS.logRetainMs, 0, 2 ** 50),
    metrics: checkMetricsOption(o.metrics),
    fs: o.fs,
  }
}
