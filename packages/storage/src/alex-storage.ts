import { join, resolve } from 'node:path'
import type { AlexIndex } from '@alex/index'
import { type FileSystem, nodeFileSystem, type Wal, type WalOp } from '@alex/wal'
import type { DataSegment } from './data-segment.js'
import { AlexStorageError, ErrorCode, storeFailed } from './errors.js'
import { classifyNames, retiredName, snapshotName } from './file-names.js'
import {
  LOCATION_LONG,
  RECORD_HEADER_SIZE,
  RECORD_KEY,
  RECORD_TYPE,
  SEGMENT_HEADER_SIZE,
  TYPE_PUT,
  TYPE_TOMBSTONE,
} from './format.js'
import { lengthFieldOf, offsetOf, packLocation, slotOf } from './location.js'
import { StoreLock } from './lock-file.js'
import { type AlexStorageOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { PendingWrites } from './pending-writes.js'
import { checkRange, type RangeOptions } from './range.js'
import { noStore, recover, type StorageRecoveryReport } from './recovery.js'
import type { SegmentSet } from './segment-set.js'
import { buildSnapshot, sealSnapshot, writeSnapshot } from './snapshot.js'
import type { StorageStats } from './stats.js'
import { toStorageError } from './wal-errors.js'

/** One operation of `batch()`. */
export type BatchOperation =
  | { type: 'put'; key: number; value: Uint8Array }
  | { type: 'delete'; key: number }

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

/** Entries fetched from the index per step of an iteration or a compaction. */
const ITERATION_CHUNK = 256
const COMPACTION_CHUNK = 2048

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
  private readonly wal: Wal
  private readonly index: AlexIndex
  private readonly segments: SegmentSet
  private readonly bufs: (Uint8Array | undefined)[]
  /** DataViews over `bufs` (the key check of the read fast path). */
  private readonly views: (DataView | undefined)[]
  /** The cache's reference bits (CLOCK), set by every cached read. */
  private readonly ref: Uint8Array
  private readonly lock: StoreLock | undefined
  private state = OPEN
  private failure: AlexStorageError | undefined
  private closing: Promise<void> | undefined
  private readonly pending = new PendingWrites()
  /** Promise of the newest write: settles after every earlier write settled. */
  private lastWrite: Promise<void> = Promise.resolve()
  private appliedLsn: number
  private snapshotSeq: number
  private snapshotLsn: number
  private checkpointCount: number
  private compactionCount: number
  /** Segments with an id below this were retired by the newest completed compaction. */
  private retireBelow: number
  private opsSinceCheckpoint = 0
  private bytesSinceCheckpoint = 0
  /** Checkpoints and compactions run one at a time, in this chain. */
  private maintenance: Promise<void> = Promise.resolve()
  private autoScheduled = false
  private ownFsyncs = 0
  private readonly onDurable: (lsn: bigint) => void
  private readonly onLogFailure: (err: unknown) => never

  private constructor(
    dir: string,
    options: ResolvedOptions,
    fs: FileSystem,
    lock: StoreLock | undefined,
    state: Awaited<ReturnType<typeof recover>>,
  ) {
    this.dir = dir
    this.options = options
    this.fs = fs
    this.lock = lock
    this.wal = state.wal
    this.index = state.index
    this.segments = state.segments
    this.bufs = state.segments.bufs
    this.views = state.segments.views
    this.ref = state.segments.cache.ref
    this.recovery = state.report
    this.appliedLsn = state.appliedLsn
    this.snapshotSeq = state.snapshotSeq
    this.snapshotLsn = state.snapshotLsn
    this.checkpointCount = state.checkpoints
    this.compactionCount = state.compactions
    this.retireBelow = state.retireBelow
    this.onDurable = (lsn: bigint) => {
      if (this.failure !== undefined) throw this.failure
      this.apply(Number(lsn))
    }
    this.segments.onSyncFailure = (err: unknown) => this.fail(err)
    // The WAL rule in every sync mode: a data record reaches its file only after its log record
    // is durable. With sync 'always' an applied write is durable already (no fsync here); with
    // 'none' or 'interval' this costs one fdatasync per data flush (about one per MiB).
    this.segments.logBarrier = () => {
      if (Number(this.wal.lastDurableLsn) < this.appliedLsn) this.wal.syncWrittenSync()
    }
    this.onLogFailure = (err: unknown) => {
      const e = toStorageError(err)
      if (e.code === ErrorCode.STORE_FAILED) this.fail(e.cause ?? e)
      throw this.failure ?? e
    }
  }

  /**
   * Opens the store in `dir`, creating the directory if it is missing (unless `readOnly`).
   * Recovers from whatever a crash left (docs/storage-format.md, section 8). Rejects with
   * `ERR_LOCKED` if another writer has it open, `ERR_CORRUPTION` (file, offset) if a file is
   * damaged beyond what the recovery mode repairs, `ERR_INVALID_ARGUMENT` for bad options.
   */
  static async open(dir: string, options?: AlexStorageOptions): Promise<AlexStorage> {
    const resolved = resolveOptions(options)
    if (typeof dir !== 'string' || dir === '') {
      throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, 'dir must be a non-empty string')
    }
    const fs = resolved.fs ?? nodeFileSystem
    const abs = resolve(dir)
    const lock = prepareDir(fs, abs, resolved.readOnly)
    let state: Awaited<ReturnType<typeof recover>>
    try {
      state = await recover(abs, resolved, fs, lock)
    } catch (err) {
      lock?.release()
      throw err
    }
    const db = new AlexStorage(abs, resolved, fs, lock, state)
    if (state.needsCheckpoint && !resolved.readOnly) {
      try {
        await db.checkpoint()
      } catch (err) {
        await db.close().catch(noop)
        throw err
      }
    }
    return db
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

  private *iterate(range: RangeOptions, mode: 0 | 1 | 2): Generator<unknown> {
    let remaining = range.limit ?? Number.POSITIVE_INFINITY
    let cursor: number | undefined
    // One chunk of the index at a time, copied by its non-allocating `scan`; values are taken
    // (as views) when the chunk is read, while the locations are current.
    const size = Math.min(ITERATION_CHUNK, remaining)
    const keys = new Float64Array(size)
    const locations = mode === 1 ? null : new Float64Array(size)
    const values: Uint8Array[] = []
    while (remaining > 0) {
      if (this.state !== OPEN) throw this.closedError()
      const step: RangeOptions = { ...range, limit: Math.min(size, remaining) }
      if (cursor !== undefined) {
        if (range.reverse) {
          delete step.lte
          step.lt = cursor
        } else {
          delete step.gte
          step.gt = cursor
        }
      }
      const n = this.index.scan(keys, locations, step)
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
      if (n < step.limit!) return
      remaining -= n
      cursor = keys[n - 1]!
    }
  }

  /** The value of `key` at `location` (checked like `get`). */
  private valueAt(key: number, location: number): Uint8Array {
    const slot = slotOf(location)
    const bytes = this.bufs[slot]
    const length = lengthFieldOf(location)
    const offset = offsetOf(location)
    if (
      bytes !== undefined &&
      length !== LOCATION_LONG &&
      this.views[slot]!.getFloat64(offset + RECORD_KEY, true) === key &&
      bytes[offset + RECORD_TYPE] === TYPE_PUT
    ) {
      return new Uint8Array(bytes.buffer, offset + RECORD_HEADER_SIZE, length)
    }
    return this.segments.readValue(location, key)
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
    if (value.length > this.options.maxValueBytes) return Promise.reject(this.tooLarge(value))
    key += 0 // -0 and 0 are the same key
    return this.log(TYPE_PUT, key, value, { type: 'put', key, value })
  }

  /** Deletes `key` (a tombstone is logged even if it is absent). Same contract as `put`. */
  delete(key: number): Promise<void> {
    const refused = this.writeRefusal()
    if (refused !== undefined) return Promise.reject(refused)
    if (typeof key !== 'number' || key - key !== 0) return Promise.reject(invalidKey(key))
    key += 0
    return this.log(TYPE_TOMBSTONE, key, undefined, { type: 'delete', key })
  }

  /**
   * Applies `operations` atomically: after a crash either all of them are there or none, and
   * readers never see some without the others. Every operation is validated before anything is
   * written. An empty batch resolves at once.
   */
  batch(operations: readonly BatchOperation[]): Promise<void> {
    const refused = this.writeRefusal()
    if (refused !== undefined) return Promise.reject(refused)
    if (!Array.isArray(operations)) {
      return Promise.reject(
        new AlexStorageError(ErrorCode.INVALID_VALUE, 'batch takes an array of operations'),
      )
    }
    const n = operations.length
    if (n === 0) return Promise.resolve()
    // Each operation is read once, into a copy that is validated and logged: an object whose
    // fields change between reads (getters) cannot make the live state differ from the log.
    const ops = this.copyOperations(operations, n)
    if (ops instanceof AlexStorageError) return Promise.reject(ops)
    const wal = this.wal
    const before = wal.lastAppendedLsn
    let logged: Promise<bigint>
    try {
      logged = wal.appendBatch(ops)
    } catch (err) {
      return Promise.reject(toStorageError(err))
    }
    const last = wal.lastAppendedLsn
    if (last === before) return logged.then(unexpectedAck, (err) => this.onLogFailure(err))
    const first = Number(last) - n + 1
    try {
      for (let i = 0; i < n; i++) {
        const op = ops[i]!
        const put = op.type === 'put'
        const value = put ? op.value : undefined
        const type = put ? TYPE_PUT : TYPE_TOMBSTONE
        const location = this.segments.append(type, first + i, op.key, value)
        const size = RECORD_HEADER_SIZE + (value === undefined ? 0 : value.length)
        this.pending.push(op.key, location, first + i, type, size)
      }
    } catch (err) {
      return this.failAfterLogged(logged, err)
    }
    return this.track(logged)
  }

  /**
   * Copies and validates the first `n` operations of a batch (each field read once); the first
   * invalid one gives its error instead. A Level user's `'del'` is told to write `'delete'`.
   */
  private copyOperations(
    operations: readonly BatchOperation[],
    n: number,
  ): WalOp[] | AlexStorageError {
    const ops: WalOp[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const op = operations[i] as BatchOperation | undefined
      if (op === null || typeof op !== 'object') return badOperation(i, 'is not an object')
      const type = op.type
      const key = op.key
      if (typeof key !== 'number' || key - key !== 0) return invalidKey(key, i)
      if (type === 'put') {
        const value = (op as { value: unknown }).value
        if (!(value instanceof Uint8Array)) return invalidValue(value, i)
        if (value.length > this.options.maxValueBytes) return this.tooLarge(value)
        ops[i] = { type, key: key + 0, value } // + 0: -0 and 0 are the same key
      } else if (type === 'delete') {
        ops[i] = { type, key: key + 0 }
      } else {
        const hint = (type as string) === 'del' ? " (did you mean 'delete'?)" : ''
        return badOperation(i, `has type ${describe(type)}, not 'put' or 'delete'${hint}`)
      }
    }
    return ops
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
    // The log's sync covers everything appended to it so far, i.e. every write issued so far
    // (a write is appended to the log synchronously, in its call).
    const synced = this.wal.sync()
    const last = this.lastWrite
    try {
      await synced
    } catch (err) {
      this.onLogFailure(err)
    }
    await last.catch(noop)
    if (this.failure !== undefined) throw this.failure
  }

  /** Logs one operation, appends its record, queues it until durable. */
  private log(type: number, key: number, value: Uint8Array | undefined, op: WalOp): Promise<void> {
    const wal = this.wal
    const before = wal.lastAppendedLsn
    let logged: Promise<bigint>
    try {
      logged = wal.append(op)
    } catch (err) {
      return Promise.reject(toStorageError(err))
    }
    const lsnBig = wal.lastAppendedLsn
    // The log refused it (it validates too, and rejects once failed): nothing was logged.
    if (lsnBig === before) return logged.then(unexpectedAck, (err) => this.onLogFailure(err))
    const lsn = Number(lsnBig)
    try {
      const location = this.segments.append(type, lsn, key, value)
      this.pending.push(
        key,
        location,
        lsn,
        type,
        RECORD_HEADER_SIZE + (value === undefined ? 0 : value.length),
      )
    } catch (err) {
      return this.failAfterLogged(logged, err)
    }
    return this.track(logged)
  }

  private track(logged: Promise<bigint>): Promise<void> {
    const result = logged.then(this.onDurable, this.onLogFailure)
    this.lastWrite = result
    return result
  }

  /** The log took an operation but its data record could not be appended: the store fails. */
  private failAfterLogged(logged: Promise<bigint>, err: unknown): Promise<void> {
    logged.catch(noop)
    this.fail(err)
    return Promise.reject(this.failure)
  }

  /**
   * Applies every pending write with LSN <= `upTo` (the log made them durable) to the index, in
   * LSN order. The index and accounting work is in memory only, so a batch is applied entirely
   * or not at all; file writes that became due happen after.
   */
  private apply(upTo: number): void {
    const q = this.pending
    const index = this.index
    const segments = this.segments
    let ioError: unknown
    let ops = 0
    let bytes = 0
    let lsn = this.appliedLsn
    for (let i = q.peek(upTo); i >= 0; i = q.peek(upTo)) {
      const key = q.keys[i]!
      const location = q.locations[i]!
      const size = q.sizes[i]!
      const type = q.types[i]!
      lsn = q.lsns[i]!
      q.shift()
      segments.applied(location, size)
      // The record this key pointed to, if any, is dead now.
      let old: number | undefined
      if (type === TYPE_PUT) {
        old = index.swap(key, location)
        segments.addLive(location, size)
      } else {
        old = index.get(key)
        if (old !== undefined) index.delete(key)
      }
      if (old !== undefined) {
        try {
          segments.kill(old)
        } catch (err) {
          ioError ??= err
        }
      }
      ops++
      bytes += size
    }
    this.appliedLsn = lsn
    this.opsSinceCheckpoint += ops
    this.bytesSinceCheckpoint += bytes
    try {
      if (ioError !== undefined) throw ioError
      segments.flushDue()
    } catch (err) {
      this.fail(err)
      throw this.failure
    }
    if (!this.autoScheduled) this.maybeScheduleMaintenance()
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
    await this.exclusive(() => this.runCheckpoint([], 0))
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
    await this.exclusive(() => this.runCompaction())
  }

  /**
   * Runs a checkpoint or compaction once the ones before it are done. Whatever it throws that is
   * not a validation or corruption error of ours (a failed write, segment creation, seal or
   * fsync, anywhere in it) fails the store through `fail`: it rejects with ERR_STORE_FAILED.
   */
  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.maintenance.then(task).catch((err: unknown) => {
      throw this.failOn(err)
    })
    this.maintenance = run.then(noop, noop)
    return run
  }

  private maybeScheduleMaintenance(): void {
    if (this.state !== OPEN || this.failure !== undefined || this.options.readOnly) return
    if (!this.needsCheckpoint() && !this.needsCompaction()) return
    this.autoScheduled = true
    this.exclusive(async () => {
      if (this.state !== OPEN || this.failure !== undefined) return
      if (this.needsCompaction()) await this.runCompaction()
      else if (this.needsCheckpoint()) await this.runCheckpoint([], 0)
    })
      .catch(noop) // a failure is recorded in this.failure and reported by later calls
      .finally(() => {
        this.autoScheduled = false
        // Writes applied while it ran may have crossed a threshold again.
        this.maybeScheduleMaintenance()
      })
  }

  private needsCheckpoint(): boolean {
    return (
      this.opsSinceCheckpoint >= this.options.checkpointRecords ||
      this.bytesSinceCheckpoint >= this.options.checkpointBytes
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

  /**
   * Waits until every write issued so far has been applied (or failed). Writes issued meanwhile
   * are waited for too only with `all` (used by `close`, when no new writes can come).
   */
  private async settleWrites(all = false): Promise<void> {
    for (;;) {
      const last = this.lastWrite
      await last.catch(noop)
      if (!all || last === this.lastWrite) return
    }
  }

  /**
   * A checkpoint (docs/storage-format.md, section 9). `retire` are segments the snapshot must no
   * longer name (compaction inputs, deleted after it is durable); `floor` > 0 marks a compaction:
   * every segment with an id below it is among `retire`.
   */
  private async runCheckpoint(retire: DataSegment[], floor: number): Promise<void> {
    await this.settleWrites()
    if (this.failure !== undefined) throw this.failure
    const segments = this.segments
    // 1. Capture (synchronous): the applied state at LSN L.
    const lsn = this.appliedLsn
    // Sealed segments without a record hold nothing: retire them too.
    for (const s of segments.list()) {
      if (s !== segments.active && s.length === SEGMENT_HEADER_SIZE && !retire.includes(s)) {
        retire = [...retire, s]
      }
    }
    const all = segments.list()
    const live = all.filter((s) => !retire.includes(s))
    for (const r of retire) {
      if (r.liveBytes !== 0) throw new Error(`bug: retiring segment ${r.id} still has live records`)
    }
    const n = this.index.size
    const seq = this.snapshotSeq + 1
    const retireBelow = floor > 0 ? floor : this.retireBelow
    const builder = buildSnapshot(
      {
        seq,
        lsn,
        nextSegmentId: segments.nextId,
        checkpoints: this.checkpointCount + 1,
        compactions: this.compactionCount + (floor > 0 ? 1 : 0),
        retireBelow,
        segments: live.map((s) => ({
          slot: s.slot,
          id: s.id,
          length: s.flushLimit,
          liveBytes: s.liveBytes,
        })),
      },
      n,
    )
    const i = this.index.scan(builder.keys, builder.locations)
    if (i !== n) throw new Error(`bug: index size ${n} but iteration gave ${i} keys`)
    sealSnapshot(builder.bytes)
    const ops = this.opsSinceCheckpoint
    const bytes = this.bytesSinceCheckpoint
    try {
      // 2. Every record up to L is durable in the segments, the retired ones included (a full
      //    scan must find the tombstones they hold as long as they exist), and so is every
      //    segment's directory entry.
      segments.flushAll()
      const synced = await Promise.all(all.map((s) => s.sync()))
      for (const did of synced) if (did) this.ownFsyncs++
      if (segments.dirDirty) {
        segments.dirDirty = false
        await this.fs.syncDir(this.dir)
        this.ownFsyncs++
      }
      // 3. The snapshot: temp, fsync, rename, fsync the directory. It is now the store's state.
      this.ownFsyncs += await writeSnapshot(this.fs, this.dir, seq, builder.bytes)
      this.snapshotSeq = seq
      this.snapshotLsn = lsn
      // 4. A compaction's retirement marker, durable before any input is deleted and before the
      //    log forgets the operations whose tombstones only the inputs hold.
      if (floor > 0) {
        await this.writeRetiredMarker(floor)
        this.retireBelow = floor
      }
      // 5. The log may drop what the snapshot covers.
      const target = Math.min(lsn, Number(this.wal.lastAppendedLsn))
      if (target > Number(this.wal.checkpointLsn)) await this.wal.checkpoint(BigInt(target))
      // 6. Only now delete what the snapshot replaced: older snapshots, retired segments, older
      //    markers.
      const listing = classifyNames(this.fs.readdir(this.dir))
      let deleted = 0
      for (const s of listing.snapshots) {
        if (s < seq) {
          this.fs.unlink(join(this.dir, snapshotName(s)))
          deleted++
        }
      }
      for (const r of retire) {
        segments.remove(r)
        deleted++
      }
      for (const m of listing.retired) {
        if (m < this.retireBelow) {
          this.fs.unlink(join(this.dir, retiredName(m)))
          deleted++
        }
      }
      if (deleted > 0) {
        await this.fs.syncDir(this.dir)
        this.ownFsyncs++
      }
    } catch (err) {
      this.fail(err)
      throw this.failure
    }
    this.checkpointCount++
    if (floor > 0) this.compactionCount++
    this.opsSinceCheckpoint -= ops
    this.bytesSinceCheckpoint -= bytes
  }

  /** Creates the empty marker `retired-<floor>` and makes it durable. */
  private async writeRetiredMarker(floor: number): Promise<void> {
    try {
      this.fs.open(join(this.dir, retiredName(floor)), 'wx+').close()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    await this.fs.syncDir(this.dir)
    this.ownFsyncs++
  }

  private async runCompaction(): Promise<void> {
    await this.settleWrites()
    if (this.failure !== undefined) throw this.failure
    const segments = this.segments
    // 1. Seal the active segment; everything before the seal is the input. Segments created
    //    from now on (outputs, a new active segment) get ids >= floor.
    segments.sealActive()
    const inputs = segments.list()
    const floor = segments.nextId
    if (inputs.length === 0) return
    await this.settleWrites() // writes appended to the inputs before the seal are applied
    if (this.failure !== undefined) throw this.failure
    const isInput = new Uint8Array(segments.slots.length)
    for (const s of inputs) isInput[s.slot] = 1
    // 2. Copy live records, a chunk at a time, pointing each key at its copy.
    const keys = new Float64Array(COMPACTION_CHUNK)
    const locations = new Float64Array(COMPACTION_CHUNK)
    let out: DataSegment | undefined
    let cursor: number | undefined
    try {
      for (;;) {
        if (this.state !== OPEN || this.failure !== undefined) return // closing: stop early
        let n = 0
        const step =
          cursor === undefined
            ? { limit: COMPACTION_CHUNK }
            : { gt: cursor, limit: COMPACTION_CHUNK }
        for (const [key, location] of this.index.entries(step)) {
          keys[n] = key
          locations[n] = location
          n++
        }
        for (let i = 0; i < n; i++) {
          const location = locations[i]!
          const slot = slotOf(location)
          if (isInput[slot] !== 1) continue
          const source = segments.slots[slot]!
          const offset = offsetOf(location)
          const size = source.recordSizeAt(offset)
          if (out === undefined || !out.hasRoom(size - RECORD_HEADER_SIZE)) {
            if (out !== undefined) segments.seal(out)
            out = segments.create(Math.max(this.options.segmentBytes, SEGMENT_HEADER_SIZE + size))
          }
          const at = out.appendRecordFrom(source, offset, size, keys[i]!)
          out.flushLimit = out.length
          this.index.set(keys[i]!, packLocation(out.slot, at, size - RECORD_HEADER_SIZE))
          segments.moveLive(source, out, size)
        }
        if (n < COMPACTION_CHUNK) break
        cursor = keys[n - 1]!
        await new Promise<void>((r) => setImmediate(r))
      }
    } finally {
      if (out !== undefined) segments.seal(out)
    }
    // 3. A checkpoint naming the copies instead of the inputs; then the inputs go.
    await this.runCheckpoint(inputs, floor)
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
    this.closing = this.shutDown()
    return this.closing
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
        this.fail(err)
      }
    }
    await this.settleWrites(true)
    await this.maintenance
    await step(() => this.segments.sealActive())
    if (
      !this.options.readOnly &&
      this.failure === undefined &&
      (this.appliedLsn > this.snapshotLsn || this.segments.dirDirty)
    ) {
      await step(() => this.runCheckpoint([], 0))
    }
    await step(() => this.wal.close())
    await step(() => this.closeSegmentFiles())
    this.lock?.release()
    this.state = CLOSED
    if (failed) throw this.failure
  }

  /** Closes every segment file; one that fails to close does not keep the others open. */
  private closeSegmentFiles(): void {
    try {
      this.segments.closeAll()
    } catch (err) {
      for (const s of this.segments.slots) {
        try {
          s?.close() // closing twice is a no-op
        } catch {
          // The first error is reported.
        }
      }
      throw err
    }
  }

  /** Counters and sizes (see `StorageStats`). */
  stats(): StorageStats {
    if (this.state === CLOSED) throw this.closedError()
    const walStats = this.wal.stats()
    const s = this.segments
    return {
      keys: this.index.size,
      liveBytes: s.liveBytes,
      deadBytes: s.dataBytes - s.liveBytes,
      segments: s.list().length,
      walBytes: walStats.bytesWritten,
      checkpoints: this.checkpointCount,
      compactions: this.compactionCount,
      fsyncs:
        this.ownFsyncs + s.headerSyncs + s.backgroundSyncs + walStats.fsyncs + walStats.dirSyncs,
      lsn: this.appliedLsn,
      checkpointLsn: this.snapshotLsn,
      cache: {
        budgetBytes: s.cache.budget,
        residentBytes: s.cache.residentBytes,
        residentSegments: s.cache.residentSegments,
        diskReads: s.diskReads,
        evictions: s.cache.evictions,
      },
      index: this.index.stats(),
      wal: walStats,
    }
  }

  /** Number of live keys. Throws `ERR_CLOSED` once `close()` started, as every read does. */
  get size(): number {
    if (this.state !== OPEN) throw this.closedError()
    return this.index.size
  }

  /** True once the store failed (a write or fsync error) and refuses writes. */
  get failed(): boolean {
    return this.failure !== undefined
  }

  // ---------------------------------------------------------------- errors

  private fail(cause: unknown): void {
    if (this.failure !== undefined) return
    this.failure =
      cause instanceof AlexStorageError && cause.code === ErrorCode.STORE_FAILED
        ? cause
        : storeFailed(cause)
    this.pending.clear()
  }

  /**
   * The error to report for `err` from a maintenance step: a validation or corruption error of
   * ours as it is (nothing was lost by it); anything else, an OS error above all, fails the store.
   */
  private failOn(err: unknown): AlexStorageError {
    if (err instanceof AlexStorageError && err.code !== ErrorCode.STORE_FAILED) return err
    this.fail(err)
    return this.failure!
  }

  private writeRefusal(): AlexStorageError | undefined {
    if (this.state !== OPEN) return this.closedError()
    if (this.options.readOnly) {
      return new AlexStorageError(ErrorCode.READ_ONLY, 'the store was opened read-only')
    }
    return this.failure
  }

  private closedError(): AlexStorageError {
    return new AlexStorageError(ErrorCode.CLOSED, 'the store is closed')
  }

  private tooLarge(value: Uint8Array): AlexStorageError {
    return new AlexStorageError(
      ErrorCode.VALUE_TOO_LARGE,
      `value of ${value.length} bytes is over maxValueBytes (${this.options.maxValueBytes})`,
    )
  }
}

function unexpectedAck(): never {
  throw storeFailed(new Error('the log acknowledged an operation it did not number'))
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'string') return JSON.stringify(value)
  return value === null ? 'null' : typeof value
}

function invalidKey(key: unknown, at?: number): AlexStorageError {
  const where = at === undefined ? '' : ` (batch operation ${at})`
  return new AlexStorageError(
    ErrorCode.INVALID_KEY,
    `key must be a finite number, got ${describe(key)}${where}`,
  )
}

function invalidValue(value: unknown, at?: number): AlexStorageError {
  const where = at === undefined ? '' : ` (batch operation ${at})`
  return new AlexStorageError(
    ErrorCode.INVALID_VALUE,
    `value must be a Uint8Array, got ${describe(value)}${where}`,
  )
}

function badOperation(at: number, what: string): AlexStorageError {
  return new AlexStorageError(ErrorCode.INVALID_VALUE, `batch operation ${at} ${what}`)
}

/**
 * The steps of `open` before recovery: checks (read-only) or creates the directory and takes
 * the lock. An OS error becomes an `AlexStorageError` with the OS error as `cause` (see
 * `openFailure`), so nothing raw leaves `open`.
 */
function prepareDir(fs: FileSystem, dir: string, readOnly: boolean): StoreLock | undefined {
  if (readOnly) {
    if (!fs.exists(dir)) throw noStore(dir)
    try {
      fs.readdir(dir) // a regular file, or a directory it may not read, is refused here
    } catch (err) {
      throw openFailure(dir, err, true)
    }
    return undefined
  }
  try {
    fs.mkdir(dir)
  } catch (err) {
    throw openFailure(dir, err, true)
  }
  try {
    return StoreLock.acquire(fs, dir)
  } catch (err) {
    throw openFailure(dir, err, false)
  }
}

/**
 * The error of a failed step of `open`: ours as it is; from the directory check (`mkdir`, or
 * `readdir` for a read-only open), a path that is a file (`EEXIST`, `ENOTDIR`) is
 * `ERR_INVALID_ARGUMENT`; any other OS error (`EACCES`, `EROFS`, `ENOSPC`, `EIO`) is
 * `ERR_STORE_FAILED`. The OS error is the `cause`.
 */
function openFailure(dir: string, err: unknown, dirCheck: boolean): AlexStorageError {
  if (err instanceof AlexStorageError) return err
  const code = (err as NodeJS.ErrnoException).code
  if (dirCheck && (code === 'EEXIST' || code === 'ENOTDIR')) {
    return new AlexStorageError(
      ErrorCode.INVALID_ARGUMENT,
      `cannot open the store at ${dir}: the path or a parent is not a directory (${code})`,
      { cause: err },
    )
  }
  const detail = err instanceof Error ? err.message : String(err)
  const message = `cannot open the store at ${dir}: ${detail}`
  return new AlexStorageError(ErrorCode.STORE_FAILED, message, { cause: err })
}
