import { resolve } from 'node:path'
import type { AlexIndex, NormalizedRange } from '@alex/index'
import { type FileSystem, nodeFileSystem, type Wal, type WalOp } from '@alex/wal'
import { type BackupOptions, type BackupResult, checkBackupRequest, runBackup } from './backup.js'
import { type Change, ChangeFeeds, type ChangesOptions } from './change-feed.js'
import { Checkpointer } from './checkpoint.js'
import { compact } from './compaction.js'
import { AlexStorageError, ErrorCode } from './errors.js'
import { walPath } from './file-names.js'
import { Follower, type FollowHost } from './follower.js'
import {
  LOCATION_LONG,
  RECORD_HEADER_SIZE,
  RECORD_KEY,
  RECORD_TYPE,
  TYPE_PUT,
  TYPE_TOMBSTONE,
} from './format.js'
import { type IngestResult, runIngest } from './ingest.js'
import { WriteGate } from './ingest-gate.js'
import {
  checkIngestOptions,
  collectInput,
  type IngestOptions,
  type IngestSource,
} from './ingest-input.js'
import { Instrumentation } from './instrumentation.js'
import type { StoreLock } from './lock-file.js'
import { LogRetention } from './log-retention.js'
import { Maintenance } from './maintenance.js'
import { loadMeter, type MeterLike, type StoreMetrics } from './metrics.js'
import { prepareDir } from './open-directory.js'
import { type AlexStorageOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { checkRange, type RangeOptions, rangeAfter } from './range.js'
import { recoverReader, registerReader } from './reader-open.js'
import { type ReaderRegistration, readersFloor, scanReaders } from './reader-registry.js'
import {
  applyReplayed,
  type RecoveredState,
  recover,
  type StorageRecoveryReport,
} from './recovery.js'
import type { SegmentSet } from './segment-set.js'
import { Snapshot, type SnapshotSource } from './snapshot-view.js'
import { type ReaderStats, type StorageStats, storageStats } from './stats.js'
import { StoreFailure } from './store-failure.js'
import { valueAt } from './value-at.js'
import { VersionHistory } from './version-history.js'
import { BeaconWriter } from './visibility-beacon.js'
import {
  type BatchOperation,
  copyOperations,
  invalidKey,
  invalidValue,
  notAnArray,
  tooLarge,
} from './write-arguments.js'
import { type BatchOptions, checkBatchOptions } from './write-conditions.js'
import { WritePipeline } from './write-pipeline.js'

export type { IngestResult } from './ingest.js'
export type { IngestColumns, IngestEntry, IngestOptions, IngestSource } from './ingest-input.js'
export type { BatchOperation } from './write-arguments.js'

const OPEN = 0
const CLOSING = 1
const CLOSED = 2

/**
 * `Symbol.asyncDispose` (`await using`). Node releases before 20.4 lack it; there the store
 * uses `Symbol.for('nodejs.asyncDispose')`, the symbol later Node releases install as
 * `Symbol.asyncDispose`, so the method never lands under an `undefined` key. Typed as the
 * well-known symbol, so TypeScript (lib esnext.disposable) accepts the store in `await using`.
 */
const asyncDispose: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose)

/** Entries fetched from the index per step of an iteration. */
const ITERATION_CHUNK = 256

const noop = () => {}

/**
 * AlexStorage: a durable, embedded key-value store for number keys and byte values. The index is
 * ALEX (@alex/index) mapping each key to the location of its newest record in append-only data
 * segments; every write goes first to the write-ahead log (@alex/wal, group commit), then to the
 * active data segment, and becomes visible once the log has made it durable. Checkpoints persist
 * the index as a snapshot so that opening does not rescan the data; compaction reclaims the space
 * of overwritten and deleted records. See docs/architecture.md for how the pieces compose and why
 * each step is crash-safe, and docs/storage-format.md for the bytes.
 *
 * `get` is synchronous and zero-copy: it returns a view of the cached segment image. Never
 * mutate a returned view (it would change what every later `get` of the key returns until the
 * store is reopened); copy it (`value.slice()`) if you need a private, mutable array. A view
 * stays valid and unchanged for as long as you hold it: the store never reuses or rewrites bytes
 * it has handed out, even after the key is overwritten, the segment is evicted from the cache or
 * deleted by a compaction (the view keeps the old memory alive).
 */
export class AlexStorage {
  /** The store's directory (absolute). */
  readonly dir: string
  /** What `open` found and repaired. */
  readonly recovery: StorageRecoveryReport
  private readonly options: ResolvedOptions
  private readonly fs: FileSystem
  /*
   * The recovered layers. Not readonly: a following reader replaces them all at once when it
   * reloads from a newer snapshot (`install`); a writer sets them once.
   */
  private wal!: Wal
  private index!: AlexIndex
  private segments!: SegmentSet
  /**
   * The read fast path's arrays, aliases of `segments.bufs`, `segments.views` and the cache's
   * reference bits: `get` reads them directly, without a call per lookup (see `get`).
   */
  private bufs!: (Uint8Array | undefined)[]
  private views!: (DataView | undefined)[]
  private ref!: Uint8Array
  private readonly lock: StoreLock | undefined
  private state = OPEN
  private closing: Promise<void> | undefined
  private readonly failure: StoreFailure
  /** Diagnostics channels and metrics (events.ts, metrics.ts, instrumentation.ts). */
  private readonly observe: Instrumentation
  /** The metrics, `undefined` when off: the write path checks only this. */
  private readonly metrics: StoreMetrics | undefined
  private writes!: WritePipeline
  private checkpointer!: Checkpointer
  private maintenance!: Maintenance
  /** What open snapshots need of the past (version-history.ts); outlives a reader's reloads. */
  private readonly history = new VersionHistory()
  /** What a `Snapshot` reads through: this store's current layers. */
  private readonly snapshotSource: SnapshotSource = {
    history: this.history,
    index: () => this.index,
    segments: () => this.segments,
    closed: () => (this.state === OPEN ? undefined : this.closedError()),
  }
  /**
   * The log's retention floor (log-retention.ts): change feeds, and readers, hold the log from
   * the LSN they still need; installed on every log the store opens.
   */
  private readonly logRetention = new LogRetention()
  /** The change feeds (`changes()`, change-feed.ts), woken after every apply step. */
  private readonly changeFeeds = new ChangeFeeds({
    fs: () => this.fs,
    walDir: () => walPath(this.dir),
    appliedLsn: () => this.writes.appliedLsn,
    retention: this.logRetention,
  })
  /** Writer: where it publishes the LSN readers may show. */
  private beacon: BeaconWriter | undefined
  /** Following reader: the loop that applies the writer's log. */
  private follower: Follower | undefined
  /** Following reader: why following stopped, if it did (reads go on). */
  private followError: AlexStorageError | undefined
  /** Holds writes back while an ingest is pending (ingest-gate.ts). */
  private readonly gate = new WriteGate()

  private constructor(
    dir: string,
    options: ResolvedOptions,
    fs: FileSystem,
    lock: StoreLock | undefined,
    state: RecoveredState,
    meter: MeterLike | undefined,
  ) {
    this.dir = dir
    this.options = options
    this.fs = fs
    this.lock = lock
    this.recovery = state.report
    this.observe = new Instrumentation(this, meter, options.readOnly, {
      segments: () => this.segments,
      readers: () => (options.readOnly ? undefined : this.readerStats()),
    })
    this.metrics = this.observe.metrics
    this.failure = new StoreFailure(() => {
      this.writes.dropPending()
      this.observe.failed(this.failure.error)
    })
    this.install(state)
  }

  /**
   * Wires the recovered layers into the store: at open, and again when a following reader
   * reloads from a newer snapshot (synchronously, so no read sees a mix of old and new).
   */
  private install(state: RecoveredState): void {
    const options = this.options
    this.wal = state.wal
    this.wal.setRetentionFloor(() => this.logRetention.floor())
    this.wal.observeCommits(this.observe.commit)
    this.index = state.index
    this.segments = state.segments
    this.bufs = state.segments.bufs
    this.views = state.segments.views
    this.ref = state.segments.cache.ref
    this.maintenance = new Maintenance(options, this.segments, () => this.writes, this.failure, {
      checkpoint: () => this.checkpointer.run([], 0),
      compact: () => this.runCompaction(),
      isOpen: () => this.state === OPEN,
    })
    this.writes = new WritePipeline(
      this.wal,
      this.index,
      this.segments,
      this.failure,
      state.appliedLsn,
      () => {
        this.publish()
        this.maintenance.check()
        this.changeFeeds.notifyApplied()
      },
      this.history,
    )
    const layers = {
      segments: this.segments,
      index: this.index,
      wal: this.wal,
      writes: this.writes,
      history: this.history,
    }
    this.checkpointer = new Checkpointer(
      this.fs,
      this.dir,
      layers,
      this.failure,
      state,
      this.observe.checkpointed,
    )
    // The WAL rule in every sync mode: a data record reaches its file only after its log record
    // is durable. With sync 'always' an applied write is durable already (no fsync here); with
    // 'none' or 'interval' this costs one fdatasync per data flush (about one per MiB).
    this.segments.connect(
      () => this.wal.syncThrough(this.writes.appliedLsn),
      (err: unknown) => this.failure.fail(err),
    )
  }

  /**
   * Opens the store in `dir`, creating the directory if it is missing (unless `readOnly`).
   * Recovers from whatever a crash left (docs/storage-format.md, section 8). Rejects with
   * `ERR_LOCKED` if another writer has it open, `ERR_CORRUPTION` (file, offset) if a file is
   * damaged beyond what the recovery mode repairs, `ERR_INVALID_ARGUMENT` for bad options.
   */
  static async open(dir: string, options?: AlexStorageOptions): Promise<AlexStorage> {
    const started = performance.now()
    const resolved = resolveOptions(options)
    if (typeof dir !== 'string' || dir === '') {
      throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, 'dir must be a non-empty string')
    }
    const fs = resolved.fs ?? nodeFileSystem
    // The real path (symlinks resolved) from here on: every spelling of a store reaches one lock.
    const meter = await loadMeter(resolved.metrics)
    const { dir: abs, lock } = prepareDir(fs, resolve(dir), resolved.readOnly)
    if (resolved.readOnly) return AlexStorage.openReader(abs, resolved, fs, meter, started)
    let state: RecoveredState
    try {
      state = await recover(abs, resolved, fs, lock)
    } catch (err) {
      lock?.release()
      throw err
    }
    const db = new AlexStorage(abs, resolved, fs, lock, state, meter)
    db.observe.recovered(false, performance.now() - started)
    try {
      if (state.needsCheckpoint) await db.checkpoint()
      db.startPublishing()
    } catch (err) {
      await db.close().catch(noop)
      throw err
    }
    return db
  }

  /**
   * A read-only open: up to the LSN the writer has published, retried while the writer's
   * maintenance races it (reader-open.ts); then, unless `follow: false`, following the writer.
   */
  private static async openReader(
    dir: string,
    options: ResolvedOptions,
    fs: FileSystem,
    meter: MeterLike | undefined,
    started: number,
  ): Promise<AlexStorage> {
    const opened = await recoverReader(dir, options, fs)
    const db = new AlexStorage(dir, options, fs, undefined, opened.state, meter)
    db.observe.recovered(true, performance.now() - started)
    if (options.follow) db.startFollowing(registerReader(fs, dir, db.writes.appliedLsn))
    return db
  }

  /** Writer: creates the visibility beacon and keeps the log its readers still need. */
  private startPublishing(): void {
    try {
      this.beacon = BeaconWriter.open(this.fs, this.dir, this.writes.appliedLsn)
    } catch (err) {
      throw this.failure.fail(err) // ERR_STORE_FAILED, the OS error as cause (the open fails)
    }
    const fs = this.fs
    const dir = this.dir
    // Through the store's one retention registry (installed in install()), next to the change
    // feeds' holds: a second setRetentionFloor would replace theirs.
    this.logRetention.hold(() => readersFloor(scanReaders(fs, dir)))
  }

  /** Writer: publishes the applied LSN to readers (after every apply step, before any ack). */
  private publish(): void {
    const beacon = this.beacon
    if (beacon === undefined) return
    try {
      beacon.publish(this.writes.appliedLsn)
    } catch (err) {
      throw this.failure.fail(err)
    }
  }

  /** Reader: starts following the writer (see follower.ts). */
  private startFollowing(registration: ReaderRegistration | undefined): void {
    const host: FollowHost = {
      apply: (lsn, type, key, value) => {
        // Open snapshots keep what this operation replaces (version-history.ts).
        if (this.history.recording) {
          const old = this.index.get(key)
          if (type === 'put' || old !== undefined) this.history.changed(key, old, lsn)
        }
        applyReplayed(
          this.index,
          this.segments,
          type === 'put' ? TYPE_PUT : TYPE_TOMBSTONE,
          lsn,
          key,
          value,
        )
      },
      advanced: (lsn) => {
        this.writes.followedTo(lsn)
        this.changeFeeds.notifyApplied() // feeds on a reader read up to its LSN
      },
      reload: () => this.reload(),
      failed: (err) => {
        this.followError = err
      },
      neededFrom: () => this.logRetention.floor(),
    }
    this.follower = new Follower(this.fs, this.dir, this.writes.appliedLsn, registration, host, {
      intervalMs: this.options.followIntervalMs,
      watch: this.options.fs === undefined,
      reloadBytes: this.options.followReloadBytes,
    })
  }

  /**
   * Reader: rebuilds the view from the newest snapshot and the log up to what the writer has
   * published, and installs it if it is not behind the current one (a reader never goes back in
   * time). The old files are closed after the switch; views handed out earlier stay valid (they
   * hold their memory).
   */
  private async reload(): Promise<number | undefined> {
    if (this.state !== OPEN) return undefined
    const started = performance.now()
    const { state } = await recoverReader(this.dir, this.options, this.fs)
    if (this.state !== OPEN || state.appliedLsn < this.writes.appliedLsn) {
      state.segments.closeAll()
      await state.wal.close().catch(noop)
      return undefined
    }
    const oldSegments = this.segments
    const oldWal = this.wal
    const fromLsn = this.writes.appliedLsn
    // Open snapshots hold locations in the old segment set, whose slots the new set reuses:
    // they end here (ERR_SNAPSHOT_RELEASED), as documented for following readers.
    this.history.releaseAll()
    this.install(state)
    this.observe.reloaded(fromLsn, state.appliedLsn, performance.now() - started)
    oldSegments.closeAll()
    await oldWal.close().catch(noop)
    return state.appliedLsn
  }

  // ---------------------------------------------------------------- reads

  /**
   * The value of `key`, or `undefined`. Synchronous; a view of the cached bytes (see the class
   * comment: do not mutate it). A value whose segment is not cached is read from its file.
   * Throws `ERR_INVALID_KEY`, `ERR_CLOSED`, or `ERR_CORRUPTION` if the record is damaged.
   */
  get(key: number): Uint8Array | undefined {
    if (this.state !== OPEN) throw this.closedError()
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    const location = this.index.get(key)
    if (location === undefined) return undefined
    // The hot path, kept inline on purpose: it reads the segment set's image arrays and the
    // cache's reference bits directly (aliases taken at open) instead of calling a method per
    // lookup, so a resident read is one index lookup, arithmetic, one compare and one view.
    // Location = (slot * 2^27 + offset) * 2^11 + length (see location.ts), decoded inline.
    const length = location & 2047
    const rest = (location - length) / 2048
    const offset = rest & 0x7ffffff
    const slot = (rest - offset) / 134217728
    const bytes = this.bufs[slot]
    // Identity, not only integrity: the record must be a put of `key` (one float compare; a
    // mismatch takes the slow path, which reports it as ERR_CORRUPTION naming file and offset).
    if (
      bytes !== undefined &&
      length !== LOCATION_LONG &&
      this.views[slot]!.getFloat64(offset + RECORD_KEY, true) === key &&
      bytes[offset + RECORD_TYPE] === TYPE_PUT
    ) {
      this.ref[slot] = 1
      this.segments.cacheHits++
      return new Uint8Array(bytes.buffer, offset + RECORD_HEADER_SIZE, length)
    }
    return this.segments.readValue(location, key)
  }

  /** True if `key` has a value. Synchronous. */
  has(key: number): boolean {
    if (this.state !== OPEN) throw this.closedError()
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    return this.index.has(key)
  }

  /**
   * The values of `keys`, in order, `undefined` for a key without one (each as `get` returns
   * it). Every key is checked before any is read: `ERR_INVALID_ARGUMENT` if `keys` is not an
   * array, `ERR_INVALID_KEY`, `ERR_CLOSED`.
   */
  getMany(keys: readonly number[]): (Uint8Array | undefined)[] {
    if (this.state !== OPEN) throw this.closedError()
    if (!Array.isArray(keys)) {
      throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, 'getMany takes an array of keys')
    }
    const n = keys.length
    for (let i = 0; i < n; i++) {
      const key = keys[i]
      if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    }
    const out: (Uint8Array | undefined)[] = new Array(n)
    for (let i = 0; i < n; i++) out[i] = this.get(keys[i]!)
    return out
  }

  /**
   * The version of `key`'s visible value: the LSN of the write that set it (unchanged by
   * checkpoints and compactions), or `undefined` if it has no value. What `batch(ops, {
   * ifVersion })` compares. Synchronous; a cold value costs one read of its record.
   */
  version(key: number): number | undefined {
    if (this.state !== OPEN) throw this.closedError()
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    const location = this.index.get(key)
    return location === undefined ? undefined : this.segments.lsnAt(location, key)
  }

  /**
   * A consistent read-only view of the store as of now (`snapshot.lsn`, the last applied
   * write), unchanged by later writes, checkpoints and compactions: `get`, `has`, `entries`,
   * `keys`, `values`. Synchronous and O(1). Release it (`release()` or `using`): until then the
   * store keeps what it needs (old locations of keys changed since, segments compacted since).
   * On a following reader a snapshot sees the writer's writes it had caught up to; a reload from
   * a newer snapshot file (its log was trimmed, or it passed `followReloadBytes`) ends open
   * snapshots: their reads then throw `ERR_SNAPSHOT_RELEASED`.
   */
  snapshot(): Snapshot {
    if (this.state !== OPEN) throw this.closedError()
    return new Snapshot(this.snapshotSource, this.history.acquire(this.writes.appliedLsn))
  }

  /**
   * `[key, value]` pairs in key order (descending with `reverse`), within `range`. Values are
   * views as with `get`. The iteration is live: it walks the index a chunk at a time, so writes
   * made while it runs are seen if they land ahead of its position and not if behind; it never
   * repeats or skips a key that stays unchanged.
   */
  entries(range?: RangeOptions): IterableIterator<[number, Uint8Array]> {
    if (this.state !== OPEN) throw this.closedError()
    return this.iterate(checkRange(range), 0) as IterableIterator<[number, Uint8Array]>
  }

  /** Keys in order within `range` (see `entries`). */
  keys(range?: RangeOptions): IterableIterator<number> {
    if (this.state !== OPEN) throw this.closedError()
    return this.iterate(checkRange(range), 1) as IterableIterator<number>
  }

  /** Values in key order within `range` (see `entries`). */
  values(range?: RangeOptions): IterableIterator<Uint8Array> {
    if (this.state !== OPEN) throw this.closedError()
    return this.iterate(checkRange(range), 2) as IterableIterator<Uint8Array>
  }

  /**
   * The change feed: every put and delete after LSN `since` (default: the current LSN, so only
   * new changes), in LSN order (a batch's operations have consecutive LSNs), then each new one
   * as it becomes visible, until the loop breaks (`return()`), `limit` changes were delivered,
   * or the store closes (then it ends cleanly). Store `change.lsn` and pass it as `since` to
   * resume without a gap or a repeat. Values are copies. The feed pulls: it reads the log from
   * disk when asked, so a slow consumer makes the writer buffer nothing; while open it keeps the
   * log segments it still needs (`logRetainBytes`/`logRetainMs` keep them for consumers that
   * stop and come back). The first `next()` rejects with `ERR_LSN_TRIMMED` (`oldestLsn`) if the
   * log no longer holds the changes after `since`. Throws `ERR_INVALID_ARGUMENT` (bad options,
   * `since` above the current LSN) or `ERR_CLOSED`.
   */
  changes(options?: ChangesOptions): AsyncIterableIterator<Change> {
    if (this.state !== OPEN) throw this.closedError()
    return this.changeFeeds.open(options)
  }

  private *iterate(range: NormalizedRange, mode: 0 | 1 | 2): Generator<unknown> {
    let remaining = range.limit
    let cursor: number | undefined
    // One chunk of the index at a time, copied by its non-allocating scan of the range validated
    // once (at the call); values are taken (as views) when the chunk is read, while the
    // locations are current.
    const size = Math.min(ITERATION_CHUNK, remaining)
    const keys = new Float64Array(size)
    const locations = mode === 1 ? null : new Float64Array(size)
    const values: Uint8Array[] = []
    while (remaining > 0) {
      if (this.state !== OPEN) throw this.closedError()
      const limit = Math.min(size, remaining)
      const n = this.index.scanNormalized(keys, locations, rangeAfter(range, cursor, limit))
      if (locations !== null) {
        values.length = n
        for (let i = 0; i < n; i++) values[i] = this.valueAt(keys[i]!, locations[i]!)
      }
      for (let i = 0; i < n; i++) {
        if (this.state !== OPEN) throw this.closedError() // every step, not only every chunk
        if (mode === 0) yield [keys[i]!, values[i]!]
        else if (mode === 1) yield keys[i]!
        else yield values[i]!
      }
      if (n < limit) return
      remaining -= n
      cursor = keys[n - 1]!
    }
  }

  /** The value of `key` at `location` (checked like `get`; value-at.ts). */
  private valueAt(key: number, location: number): Uint8Array {
    return valueAt(this.segments, key, location)
  }

  // ---------------------------------------------------------------- writes

  /**
   * Sets `key` to `value`. Resolves once durable per the `sync` option; the new value is visible
   * to `get` from then on (not before). `value` is copied at the call: the caller may reuse it.
   * Rejects with `ERR_INVALID_KEY`, `ERR_INVALID_VALUE`, `ERR_VALUE_TOO_LARGE`, `ERR_CLOSED`,
   * `ERR_READ_ONLY` or `ERR_STORE_FAILED`, and then nothing was written.
   */
  put(key: number, value: Uint8Array): Promise<void> {
    const refused = this.writeRefusal()
    if (refused !== undefined) return Promise.reject(refused)
    if (typeof key !== 'number' || key - key !== 0) return Promise.reject(invalidKey(key))
    if (!(value instanceof Uint8Array)) return Promise.reject(invalidValue(value))
    const max = this.options.maxValueBytes
    if (value.length > max) return Promise.reject(tooLarge(value, max))
    if (this.gate.held !== undefined) return this.heldWrite(key + 0, value.slice())
    // + 0: -0 and 0 are the same key. Timed only when metrics are on.
    if (this.metrics === undefined) return this.writes.write(key + 0, value)
    return this.metrics.timePut(performance.now(), this.writes.write(key + 0, value))
  }

  /** Deletes `key` (a tombstone is logged even if it is absent). Same contract as `put`. */
  delete(key: number): Promise<void> {
    const refused = this.writeRefusal()
    if (refused !== undefined) return Promise.reject(refused)
    if (typeof key !== 'number' || key - key !== 0) return Promise.reject(invalidKey(key))
    if (this.gate.held !== undefined) return this.heldWrite(key + 0, undefined)
    return this.writes.write(key + 0, undefined)
  }

  /**
   * Applies `operations` atomically: after a crash either all of them are there or none, and
   * readers never see some without the others. Every operation is validated before anything is
   * written. An empty batch resolves at once.
   */
  batch(operations: readonly BatchOperation[], options?: BatchOptions): Promise<void> {
    const refused = this.writeRefusal()
    if (refused !== undefined) return Promise.reject(refused)
    if (!Array.isArray(operations)) return Promise.reject(notAnArray())
    if (options !== undefined) return this.conditionalBatch(operations, options)
    if (operations.length === 0) return Promise.resolve()
    const ops = copyOperations(operations, this.options.maxValueBytes)
    if (ops instanceof AlexStorageError) return Promise.reject(ops)
    if (this.gate.held !== undefined) {
      const copies = copyValues(ops)
      return this.gate.defer(() => this.writes.writeBatch(copies))
    }
    return this.writes.writeBatch(ops)
  }

  /** A write issued while an ingest is pending: issued after it (ingest-gate.ts). */
  private heldWrite(key: number, value: Uint8Array | undefined): Promise<void> {
    return this.gate.defer(() => this.writes.write(key, value))
  }

  /**
   * `batch` with options: with `ifVersion`, applied only if every key named is at the version
   * given, counting every write issued before (pending ones too), checked and logged in one
   * synchronous step; else `ERR_CONFLICT` and nothing is written (write-conditions.ts).
   */
  private conditionalBatch(
    operations: readonly BatchOperation[],
    options: BatchOptions,
  ): Promise<void> {
    const ops = copyOperations(operations, this.options.maxValueBytes)
    if (ops instanceof AlexStorageError) return Promise.reject(ops)
    const conditions = checkBatchOptions(options)
    if (conditions instanceof AlexStorageError) return Promise.reject(conditions)
    if (this.gate.held !== undefined) {
      // Checked after the ingest, against the state it leaves.
      const copies = copyValues(ops)
      return this.gate.defer(() => this.writes.writeBatchIf(copies, conditions))
    }
    return this.writes.writeBatchIf(ops, conditions)
  }

  /**
   * Makes every write issued so far durable, whatever the `sync` mode: after it resolves, those
   * writes survive a power cut, and they are applied (visible to `get`). It fsyncs the log (one
   * fdatasync, shared with concurrent writers by group commit) and waits for the writes; it is
   * not a checkpoint (the log keeps growing until one runs). The way to end a bulk load under
   * `sync: 'none'`. Rejects with `ERR_CLOSED`, `ERR_READ_ONLY` or `ERR_STORE_FAILED` (a write or
   * the fsync failed; the store then refuses writes).
   */
  async sync(): Promise<void> {
    const refused = this.writeRefusal()
    if (refused !== undefined) throw refused
    await this.gate.whenOpen() // writes held by an ingest are issued then
    await this.writes.sync()
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Persists the index as a snapshot so the next open starts from it, and lets the log drop
   * everything before it (docs/storage-format.md, section 9). Covers every write issued before
   * the call. Runs by itself per the checkpoint options; runs at `close()`.
   */
  async checkpoint(): Promise<void> {
    const refused = this.writeRefusal()
    if (refused !== undefined) throw refused
    await this.maintenance.exclusive(() => this.checkpointer.run([], 0))
  }

  /**
   * Rewrites the live records into new segments and deletes the old ones, reclaiming the space
   * of overwritten and deleted records (docs/storage-format.md, section 10). Reads and writes go
   * on meanwhile: it works a chunk at a time and yields to the event loop between chunks.
   * Resolves once the old segments are deleted.
   */
  async compact(): Promise<void> {
    const refused = this.writeRefusal()
    if (refused !== undefined) throw refused
    await this.maintenance.exclusive(() => this.runCompaction())
  }

  /**
   * Copies the store, online, into `destDir` (which must not exist or be empty): writes go on
   * meanwhile, and the copy holds exactly the operations up to one LSN (the one it resolves
   * with), opens as a store and passes a full check. It checkpoints, then hard-links the files
   * that never change again (copying where links are not possible) and copies the rest up to
   * that checkpoint; the copy gets a fresh log (docs/architecture.md, "Backup"). A copy cut short
   * is refused by `open` (`ERR_INCOMPLETE_BACKUP`). Rejects with `ERR_INVALID_ARGUMENT` (bad
   * destination; nothing written), `ERR_CLOSED`, `ERR_READ_ONLY`, `ERR_STORE_FAILED`.
   */
  async backup(destDir: string, options?: BackupOptions): Promise<BackupResult> {
    const refused = this.writeRefusal()
    if (refused !== undefined) throw refused
    const dest = checkBackupRequest({ fs: this.fs, dir: this.dir }, destDir, options)
    return runBackup(
      {
        fs: this.fs,
        dir: this.dir,
        exclusive: (task) => this.maintenance.exclusive(task),
        checkpoint: () => this.checkpointer.run([], 0),
        isBehind: () => this.checkpointer.isBehind(),
        segments: () => this.segments.list(),
      },
      dest,
      options,
    )
  }

  private async runCompaction(): Promise<void> {
    const started = performance.now()
    const result = await compact({
      segments: this.segments,
      index: this.index,
      writes: this.writes,
      checkpointer: this.checkpointer,
      failure: this.failure,
      segmentBytes: this.options.segmentBytes,
      stopping: () => this.state !== OPEN,
    })
    if (result !== undefined) this.observe.compacted(result, performance.now() - started)
  }

  /**
   * Bulk ingest: writes `entries` (key-value pairs, sync or async iterable, or `{ keys, values }`
   * columns, the fastest) directly into new data segments, without the log, and resolves once
   * they are durable: a snapshot names them and the log's LSNs account for them. Atomic: after a
   * crash, and to every reader, either all entries are there or none. Entries overwrite existing
   * keys. `sorted` (default true): keys must be strictly ascending (else `ERR_INVALID_ARGUMENT`
   * naming the first out-of-order key); `false` sorts them in memory (the last of a repeated key
   * wins). Every entry is validated before anything is written: a refusal changes nothing on disk.
   * Writes issued while it is pending wait and are ordered after it; `close()` waits for it.
   * Rejects like `batch`. See docs/architecture.md, section 15.
   */
  async ingest(entries: IngestSource, options?: IngestOptions): Promise<IngestResult> {
    const refused = this.writeRefusal()
    if (refused !== undefined) throw refused
    const checked = checkIngestOptions(options)
    if (checked instanceof AlexStorageError) throw checked
    this.gate.close()
    try {
      const input = await collectInput(entries, checked.sorted, this.options.maxValueBytes)
      let result: IngestResult | undefined
      // Runs to its end even if close() is called meanwhile: close() waits for it.
      await this.maintenance.exclusive(async () => {
        result = await runIngest(this.ingestContext(), input)
      })
      return result!
    } finally {
      this.gate.open()
    }
  }

  private ingestContext() {
    return {
      fs: this.fs,
      dir: this.dir,
      wal: this.wal,
      index: this.index,
      segments: this.segments,
      writes: this.writes,
      checkpointer: this.checkpointer,
      history: this.history,
      failure: this.failure,
      segmentBytes: this.options.segmentBytes,
      maxValueBytes: this.options.maxValueBytes,
      published: () => {
        this.publish()
        this.changeFeeds.notifyApplied()
      },
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Closes the store: refuses new calls (`ERR_CLOSED`), lets every pending write settle, stops a
   * running compaction at its next step, checkpoints (so the next open is fast), closes the log
   * and the files and releases the lock. Calling it again returns the same promise.
   *
   * Every step runs whatever failed before it, so the files are closed and the lock released
   * even on a full disk (a store that kept them would block every reopen until the process
   * exits). A step that fails fails the store, and the call rejects with its `ERR_STORE_FAILED`
   * (`cause`: the OS error); a store that had failed before resolves if closing went well.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing
    this.state = CLOSING
    this.changeFeeds.closeAll() // every feed ends: a waiting next() resolves done
    this.closing = this.shutDown()
    return this.closing
  }

  /**
   * Resolves once every write the writer acknowledged before the call is visible here. On the
   * writer (and on a reader opened with `follow: false`, which shows a frozen view by design)
   * it resolves at once. Rejects with `ERR_CLOSED`, or with the error that stopped a reader
   * from following (for example `ERR_CORRUPTION` in the log); the reader's reads go on.
   */
  catchUp(): Promise<void> {
    if (this.state !== OPEN) return Promise.reject(this.closedError())
    if (this.followError !== undefined) return Promise.reject(this.followError)
    return this.follower?.catchUp() ?? Promise.resolve()
  }

  /**
   * LSN of the last write visible here: on the writer the last applied, on a following reader
   * the last it has caught up to.
   */
  get lsn(): number {
    return this.writes.appliedLsn
  }

  /** `await using db = await AlexStorage.open(...)`: closes the store (see `close`). */
  [asyncDispose](): Promise<void> {
    return this.close()
  }

  /** The steps of `close` (see there). */
  private async shutDown(): Promise<void> {
    let failed = false
    const step = async (run: () => unknown): Promise<void> => {
      try {
        await run()
      } catch (err) {
        failed = true
        this.failure.fail(err)
      }
    }
    this.follower?.close(this.closedError())
    await this.gate.whenOpen() // a pending ingest, then the writes it held
    await this.writes.settle(true)
    await this.maintenance.idle()
    this.history.releaseAll() // snapshots end with the store; retained segments are deleted
    await step(() => this.segments.sealActive())
    if (
      !this.options.readOnly &&
      this.failure.error === undefined &&
      this.checkpointer.isBehind()
    ) {
      await step(() => this.checkpointer.run([], 0))
    }
    await step(() => this.wal.close())
    await step(() => this.beacon?.close())
    await step(() => this.segments.closeAll())
    this.observe.close()
    this.lock?.release()
    this.state = CLOSED
    if (failed) throw this.failure.error
  }

  /** Counters and sizes (see `StorageStats`). */
  stats(): StorageStats {
    if (this.state === CLOSED) throw this.closedError()
    return storageStats(
      this.index,
      this.segments,
      this.wal,
      this.writes,
      this.checkpointer,
      this.readerStats(),
      this.follower?.stats(),
    )
  }

  /** The registered readers with their lag behind this store's LSN (see `StorageStats`). */
  private readerStats(): ReaderStats[] {
    const now = Date.now()
    const lsn = this.writes.appliedLsn
    return scanReaders(this.fs, this.dir, now).map((r) => {
      const lagLsn = Math.max(0, lsn - r.lsn)
      return {
        pid: r.pid,
        thread: r.thread,
        host: r.host,
        lsn: r.lsn,
        lagLsn,
        lagMs: lagLsn === 0 ? 0 : Math.max(0, now - r.caughtUpAt),
        live: r.live,
      }
    })
  }

  /** Number of live keys. Throws `ERR_CLOSED` once `close()` started, as every read does. */
  get size(): number {
    if (this.state !== OPEN) throw this.closedError()
    return this.index.size
  }

  /** True once the store failed (a write or fsync error) and refuses writes. */
  get failed(): boolean {
    return this.failure.error !== undefined
  }

  // ---------------------------------------------------------------- errors

  private writeRefusal(): AlexStorageError | undefined {
    if (this.state !== OPEN) return this.closedError()
    if (this.options.readOnly) {
      return new AlexStorageError(ErrorCode.READ_ONLY, 'the store was opened read-only')
    }
    return this.failure.error
  }

  private closedError(): AlexStorageError {
    return new AlexStorageError(ErrorCode.CLOSED, 'the store is closed')
  }
}

/** The batch's values copied (a held batch is issued later; the caller may reuse its arrays). */
function copyValues(ops: WalOp[]): WalOp[] {
  return ops.map((op) => (op.type === 'put' ? { ...op, value: op.value.slice() } : op))
}
