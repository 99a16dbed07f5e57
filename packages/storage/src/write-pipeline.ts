import type { AlexIndex } from '@alex/index'
import type { Wal, WalOp } from '@alex/wal'
import type { AlexStorageError } from './errors.js'
import { ErrorCode } from './errors.js'
import { RECORD_HEADER_SIZE, TYPE_PUT, TYPE_TOMBSTONE } from './format.js'
import { PendingWrites } from './pending-writes.js'
import type { SegmentSet } from './segment-set.js'
import type { StoreFailure } from './store-failure.js'
import type { VersionHistory } from './version-history.js'
import { toStorageError } from './wal-errors.js'
import { conflict, type WriteConditions } from './write-conditions.js'

const noop = () => {}

/**
 * The write pipeline (docs/storage-format.md, section 5; docs/architecture.md, section 3): a
 * validated write is logged (the log hands back its LSN at once), its data record encoded into
 * the active segment's image, and (key, location, LSN) queued; when the log reports it durable,
 * every queued write up to that LSN is applied to the index in one synchronous step, and the
 * records become flushable. Arguments are validated by the caller, once, at the public edge
 * (write-arguments.ts); nothing here validates them again.
 */
export class WritePipeline {
  private readonly wal: Wal
  private readonly index: AlexIndex
  private readonly segments: SegmentSet
  private readonly failure: StoreFailure
  /** Runs after every apply step (the maintenance scheduler's threshold check). */
  private readonly afterApply: () => void
  /** Fed by `apply` while snapshots are open (one branch per operation otherwise). */
  private readonly history: VersionHistory
  private readonly pending = new PendingWrites()
  /** Promise of the newest write: settles after every earlier write settled. */
  private lastWrite: Promise<void> = Promise.resolve()
  private applied: number
  private opsSince = 0
  private bytesSince = 0
  private readonly onDurable: (lsn: number) => void
  private readonly onLogFailure: (err: unknown) => never

  constructor(
    wal: Wal,
    index: AlexIndex,
    segments: SegmentSet,
    failure: StoreFailure,
    appliedLsn: number,
    afterApply: () => void,
    history: VersionHistory,
  ) {
    this.wal = wal
    this.index = index
    this.segments = segments
    this.failure = failure
    this.applied = appliedLsn
    this.afterApply = afterApply
    this.history = history
    // Applies every settled write, not only up to this one: a group's writes resolve one after
    // another, and the first applies (and publishes, and wakes feeds for) the whole group in one
    // step; the others find nothing left. Applying one write per resolution cost a beacon
    // pwrite per write, a fifth of the time with 64 concurrent writers (docs/benchmarks.md).
    this.onDurable = (lsn: number) => {
      this.failure.check()
      const settled = this.wal.settledLsn
      this.apply(Math.max(settled, lsn))
    }
    this.onLogFailure = (err: unknown) => {
      throw this.logFailure(err)
    }
  }

  /** Highest LSN applied (visible to reads). */
  get appliedLsn(): number {
    return this.applied
  }

  /**
   * A following reader applied the writer's log up to `lsn` itself (follower.ts): it has no
   * writes of its own, so its applied LSN is the follower's position.
   */
  followedTo(lsn: number): void {
    this.applied = lsn
  }

  /** Operations applied since the last checkpoint (see `checkpointed`). */
  get opsSinceCheckpoint(): number {
    return this.opsSince
  }

  /** Record bytes applied since the last checkpoint. */
  get bytesSinceCheckpoint(): number {
    return this.bytesSince
  }

  /** A checkpoint covered `ops` operations and `bytes` record bytes of the counts above. */
  checkpointed(ops: number, bytes: number): void {
    this.opsSince -= ops
    this.bytesSince -= bytes
  }

  /** Drops every pending write (the store failed: none of them will be applied). */
  dropPending(): void {
    this.pending.clear()
  }

  /**
   * Logs one validated put (`value` given) or delete, appends its record and queues it; resolves
   * once durable and applied.
   */
  write(key: number, value: Uint8Array | undefined): Promise<void> {
    const op: WalOp = value === undefined ? { type: 'delete', key } : { type: 'put', key, value }
    let lsn: number
    try {
      lsn = this.wal.appendValidated(op)
    } catch (err) {
      return Promise.reject(this.logFailure(err)) // the log refused it: nothing was logged
    }
    try {
      this.append(lsn, key, value)
    } catch (err) {
      return Promise.reject(this.failure.fail(err)) // logged, but no data record: the store fails
    }
    return this.track(this.wal.whenDurable(lsn))
  }

  /** Logs a validated, non-empty batch atomically (one log record, consecutive LSNs). */
  writeBatch(ops: readonly WalOp[]): Promise<void> {
    let last: number
    try {
      last = this.wal.appendBatchValidated(ops)
    } catch (err) {
      return Promise.reject(this.logFailure(err))
    }
    const n = ops.length
    const first = last - n + 1
    try {
      for (let i = 0; i < n; i++) {
        const op = ops[i]!
        this.append(first + i, op.key, op.type === 'put' ? op.value : undefined)
      }
    } catch (err) {
      return Promise.reject(this.failure.fail(err))
    }
    return this.track(this.wal.whenDurable(last))
  }

  /**
   * `writeBatch` if every condition holds (`batch(ops, { ifVersion })`), else `ERR_CONFLICT` and
   * nothing is logged. Checked and logged in one synchronous step, against the version each key
   * will have once every write issued so far is applied: its newest pending write if it has one
   * (a delete: absent), else its visible value. A conflict caused by a pending write rejects
   * only once that write is applied, so a caller that re-reads `version()` and retries sees it
   * (instead of spinning on microtasks while the log's fsync cannot complete). `ops` may be
   * empty: then only the conditions are checked.
   */
  writeBatchIf(ops: readonly WalOp[], conditions: WriteConditions): Promise<void> {
    const { keys, versions } = conditions
    for (let c = 0; c < keys.length; c++) {
      const key = keys[c]!
      let actual: number | undefined
      const i = this.pending.newestOf(key)
      try {
        actual = i >= 0 ? this.pending.versionAt(i) : this.visibleVersion(key)
      } catch (err) {
        return Promise.reject(err) // a damaged or unreadable record: nothing written
      }
      if (actual !== versions[c]) {
        const error = conflict(key, versions[c], actual)
        if (i < 0) return Promise.reject(error)
        return this.settle().then(() => Promise.reject(error))
      }
    }
    if (ops.length === 0) return Promise.resolve()
    return this.writeBatch(ops)
  }

  /** The LSN of `key`'s visible value (the record it points to), `undefined` if it has none. */
  private visibleVersion(key: number): number | undefined {
    const location = this.index.get(key)
    return location === undefined ? undefined : this.segments.lsnAt(location, key)
  }

  /** Encodes the data record of operation `lsn` and queues it until the log makes it durable. */
  private append(lsn: number, key: number, value: Uint8Array | undefined): void {
    const type = value === undefined ? TYPE_TOMBSTONE : TYPE_PUT
    const location = this.segments.append(type, lsn, key, value)
    const size = RECORD_HEADER_SIZE + (value === undefined ? 0 : value.length)
    this.pending.push(key, location, lsn, type, size)
  }

  private track(durable: Promise<number>): Promise<void> {
    const result = durable.then(this.onDurable, this.onLogFailure)
    this.lastWrite = result
    return result
  }

  /** The store's error for a log error: a failed log fails the store. */
  private logFailure(err: unknown): AlexStorageError {
    const e = toStorageError(err)
    if (e.code === ErrorCode.STORE_FAILED) return this.failure.fail(e.cause ?? e)
    return this.failure.error ?? e
  }

  /**
   * Makes every write issued so far durable and applied (`AlexStorage.sync`): one log fsync
   * (every write is appended to the log in its own call, so it covers them all), then waits for
   * the writes.
   */
  async sync(): Promise<void> {
    const synced = this.wal.sync()
    const last = this.lastWrite
    try {
      await synced
    } catch (err) {
      throw this.logFailure(err)
    }
    await last.catch(noop)
    this.failure.check()
  }

  /**
   * Waits until every write issued so far has been applied (or failed). Writes issued meanwhile
   * are waited for too only with `all` (used by `close`, when no new writes can come).
   */
  async settle(all = false): Promise<void> {
    for (;;) {
      const last = this.lastWrite
      await last.catch(noop)
      if (!all || last === this.lastWrite) return
    }
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
    const history = this.history
    const recording = history.recording // no snapshot can open during this synchronous step
    let ioError: unknown
    let ops = 0
    let bytes = 0
    let lsn = this.applied
    if (q.peek(upTo) < 0) return // applied already, by an earlier write of the same group
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
        if (recording) history.changed(key, old, lsn)
      } else {
        old = index.get(key)
        if (old !== undefined) {
          index.delete(key)
          if (recording) history.changed(key, old, lsn)
        }
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
    this.applied = lsn
    this.opsSince += ops
    this.bytesSince += bytes
    try {
      if (ioError !== undefined) throw ioError
      segments.flushDue()
    } catch (err) {
      throw this.failure.fail(err)
    }
    this.afterApply()
  }
}
