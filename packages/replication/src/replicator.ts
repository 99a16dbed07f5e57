import { randomBytes } from 'node:crypto'
import type { AlexStorage, Change, Snapshot } from '@alex/storage'
import {
  classify,
  closedError,
  ReplicationError,
  ReplicationErrorCode,
  type ReplicationErrorCodeValue,
  report,
  wrap,
} from './errors.js'
import { listHistory } from './history.js'
import { LagTracker } from './lag-tracker.js'
import { type LocalState, readState, writeState } from './local-state.js'
import {
  decodeObject,
  encodeLineage,
  FLAG_RESYNC,
  KIND_LINEAGE,
  type LogOp,
  opBytes,
  ZERO_CHECKSUM,
} from './object-format.js'
import { normalisePrefix, ObjectNames } from './object-names.js'
import { ObjectStore } from './object-store.js'
import { checkOwnership } from './ownership.js'
import { createOnce, PendingObjects, pruneHistory } from './pending-objects.js'
import {
  type ReplicateOptions,
  type ResolvedReplicateOptions,
  resolveReplicateOptions,
} from './replicate-options.js'
import type { ReplicationStats } from './replication-stats.js'

const FATAL: ReadonlySet<ReplicationErrorCodeValue> = new Set([
  ReplicationErrorCode.FENCED,
  ReplicationErrorCode.LAG_LIMIT,
  ReplicationErrorCode.CORRUPT_OBJECT,
  ReplicationErrorCode.CLOSED,
  ReplicationErrorCode.INVALID_ARGUMENT,
])

/**
 * Starts shipping `db`'s writes to `bucket`/`prefix` (see the package README). Resolves at once
 * with the replicator: nothing waits for the object store, neither this call nor any write.
 * Rejects only for bad options, a damaged local state, or a store already fenced from the prefix.
 */
export async function replicate(db: AlexStorage, options: ReplicateOptions): Promise<Replicator> {
  const o = resolveReplicateOptions(options)
  const prefix = normalisePrefix(o.prefix)
  const state = readState(db.dir, o.bucket, prefix)
  if (state?.fenced !== undefined) {
    throw new ReplicationError(
      ReplicationErrorCode.FENCED,
      `this store was fenced from ${o.bucket}/${prefix} and never writes there again: ${state.fenced}`,
    )
  }
  try {
    return new Replicator(db, o, prefix, state)
  } catch (err) {
    throw classify(err)
  }
}

/** A running replication of one store to one prefix. */
export class Replicator {
  private readonly names: ObjectNames
  private readonly store: ObjectStore
  private readonly abort = new AbortController()
  private readonly lag = new LagTracker()
  private state: LocalState | undefined
  private readonly offset: number
  private feed: AsyncIterator<Change>
  /** Local LSN of the last change taken from the feed. */
  private feedPos: number
  private joined = false
  private needResync = false
  private readonly pending: PendingObjects
  private lineage: string | undefined
  private seq = 0
  private shippedLsn = 0
  private lastChecksum = ZERO_CHECKSUM
  private lastSnapshotAt = Date.now()
  private bytesSinceSnapshot = 0
  /** The lineage LSN of the newest snapshot shipped (an idle store is not snapshotted again). */
  private snapshotLsn = -1
  private more = false
  /** The snapshot a new lineage starts with, taken at `replicate()` (released once shipped). */
  private initial: Snapshot | undefined
  private closed = false
  private failure: ReplicationError | undefined
  private readonly counters = { objects: 0, bytes: 0, snapshots: 0, failures: 0, consecutive: 0 }
  private lastError: ReplicationError | undefined
  private lastShippedAt: number | undefined
  private waiters: { lsn: number; resolve: () => void; reject: (e: Error) => void }[] = []
  private wakeUp: (() => void) | undefined
  private readonly running: Promise<void>

  constructor(
    private readonly db: AlexStorage,
    private readonly o: ResolvedReplicateOptions,
    prefix: string,
    state: LocalState | undefined,
  ) {
    this.names = new ObjectNames(prefix)
    this.pending = new PendingObjects(this.names)
    this.store = new ObjectStore(o.client, o.bucket, o.requestTimeoutMs, this.abort.signal)
    this.state = state
    this.offset = state?.lsnOffset ?? 0
    // The feed is opened here, synchronously: from now on it holds the store's log from its
    // position (the change feed's retention), so nothing unshipped is trimmed while we retry.
    const since = state === undefined ? db.lsn : state.lastLsn - this.offset
    if (since > db.lsn || since < 0) {
      throw new ReplicationError(
        ReplicationErrorCode.FENCED,
        `the store is at LSN ${db.lsn + this.offset}, behind LSN ${state?.lastLsn} it shipped to ${o.bucket}/${prefix}: it lost writes (or is an older copy) and may not continue that history`,
      )
    }
    this.feed = db.changes({ since })
    this.feedPos = since
    // A store new to the prefix: its history there starts now, with a snapshot at this very LSN
    // (held until shipped), so every write from here on can be restored point in time.
    if (state === undefined) this.initial = db.snapshot()
    this.shippedLsn = since + this.offset
    this.lag.sample(db.lsn, db.stats().walBytes)
    this.running = this.run()
  }

  /** The figures (see `ReplicationStats`). */
  stats(): ReplicationStats {
    const lsn = this.localLsn()
    const local = this.shippedLsn - this.offset
    let walBytes = 0
    try {
      walBytes = this.db.stats().walBytes
    } catch {
      // The store is closed: no lag to measure any more.
    }
    return {
      state: this.failure !== undefined ? 'failed' : this.closed ? 'closed' : 'running',
      lineage: this.lineage,
      shippedLsn: this.shippedLsn,
      lsn: lsn + this.offset,
      lagLsn: Math.max(0, lsn + this.offset - this.shippedLsn),
      lagBytes: walBytes === 0 ? 0 : this.lag.lagBytes(local, lsn, walBytes),
      lagMs: this.lag.lagMs(local, lsn),
      seq: this.seq,
      objectsShipped: this.counters.objects,
      bytesShipped: this.counters.bytes,
      snapshotsShipped: this.counters.snapshots,
      failures: this.counters.failures,
      lastError: this.lastError,
      lastShippedAt: this.lastShippedAt,
    }
  }

  /** The error replication stopped with (fenced, lag limit), if it did. */
  get failed(): ReplicationError | undefined {
    return this.failure
  }

  /**
   * Resolves once every write applied before the call is in the bucket. Waits through outages
   * (retrying); rejects if replication fails or is closed meanwhile.
   */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(closedError())
    const lsn = this.localLsn() + this.offset
    if (this.joined && this.shippedLsn >= lsn && this.pending.length === 0 && !this.needResync) {
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ lsn, resolve, reject })
      this.wake()
    })
  }

  /**
   * Stops replicating: aborts a request in flight, ends the change feed (releasing the log),
   * writes the local state. Does not flush: call `flush()` first to ship everything.
   */
  async close(): Promise<void> {
    if (this.closed) return this.running
    this.closed = true
    this.abort.abort(closedError())
    this.wake()
    await this.running
    for (const w of this.waiters.splice(0)) w.reject(this.failure ?? closedError())
  }

  private localLsn(): number {
    try {
      return this.db.lsn
    } catch {
      return this.feedPos
    }
  }

  private wake(): void {
    const w = this.wakeUp
    this.wakeUp = undefined
    w?.()
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined
        resolve()
      }, ms)
      this.wakeUp = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /** The loop: join, ship, wait; failures retried with backoff, fatal ones end it. */
  private async run(): Promise<void> {
    // One turn of the event loop first, so that the caller holds the replicator before any
    // callback (onError) can fire.
    await new Promise((resolve) => setImmediate(resolve))
    while (!this.closed && this.failure === undefined) {
      // Rounds start every intervalMs (not intervalMs after the previous round ended), so a
      // write waits at most intervalMs plus one round (the README's recovery point).
      const roundStart = performance.now()
      try {
        if (!this.joined) await this.join()
        await this.round()
        this.counters.consecutive = 0
        this.settleWaiters()
      } catch (e) {
        if (this.closed) break
        const err = classify(e)
        if (FATAL.has(err.code)) {
          this.fail(err)
          break
        }
        this.counters.failures++
        this.counters.consecutive++
        this.lastError = err
        report(this.o.onError, err)
      }
      if (this.checkLag()) break
      const n = this.counters.consecutive
      const wait =
        n > 0
          ? Math.min(this.o.maxBackoffMs, this.o.intervalMs * 2 ** Math.min(n - 1, 20))
          : this.more || this.waiters.length > 0
            ? 0
            : Math.max(0, this.o.intervalMs - (performance.now() - roundStart))
      await this.sleep(wait) // 0: one turn of the event loop
    }
    await this.feed.return?.()
    this.initial?.release()
    this.initial = undefined
    if (this.state !== undefined && this.failure?.code !== ReplicationErrorCode.FENCED) {
      await writeState(this.db.dir, this.state).catch(() => {})
    }
  }

  /** Stops for good: records the failure, releases the log, tells the waiters. */
  private fail(err: ReplicationError): void {
    this.failure = err
    this.initial?.release()
    this.initial = undefined
    this.lastError = err
    void this.feed.return?.()
    for (const w of this.waiters.splice(0)) w.reject(err)
    report(this.o.onError, err)
  }

  private settleWaiters(): void {
    if (this.pending.length > 0 || this.needResync) return
    this.waiters = this.waiters.filter((w) => {
      if (w.lsn > this.shippedLsn) return true
      w.resolve()
      return false
    })
  }

  /** Samples the store; past `maxLagBytes`, fails with `ERR_REPLICATION_LAG_LIMIT`. */
  private checkLag(): boolean {
    if (this.closed || this.failure !== undefined) return true
    let lsn: number
    let walBytes: number
    try {
      lsn = this.db.lsn
      walBytes = this.db.stats().walBytes
    } catch (err) {
      this.fail(wrap(err, ReplicationErrorCode.CLOSED, 'the store was closed under the replicator'))
      return true
    }
    this.lag.sample(lsn, walBytes)
    const local = this.shippedLsn - this.offset
    this.lag.shipped(local)
    const bytes = this.lag.lagBytes(local, lsn, walBytes)
    if (bytes <= this.o.maxLagBytes) return false
    this.fail(
      new ReplicationError(
        ReplicationErrorCode.LAG_LIMIT,
        `${bytes} bytes of log are unshipped (LSNs ${this.shippedLsn + 1}..${lsn + this.offset}), more than maxLagBytes ${this.o.maxLagBytes}: replication stopped and the store may trim its log; the last error was: ${this.lastError?.message ?? 'none'}`,
        { cause: this.lastError },
      ),
    )
    return true
  }

  /**
   * Proves the prefix's history is this store's (`checkOwnership`), or starts a new lineage on
   * an empty prefix; fences otherwise.
   */
  private async join(): Promise<void> {
    const found = await checkOwnership(
      this.store,
      this.names,
      this.state,
      this.db.lsn + this.offset,
    )
    if (found.kind === 'fenced') this.fence(found.reason)
    if (found.kind === 'empty') return this.createLineage(this.state)
    const { lineage, confirmed } = found
    this.lineage = lineage
    this.seq = confirmed.seq
    this.shippedLsn = confirmed.lastLsn
    this.lastChecksum = confirmed.checksum
    this.state = { ...this.state!, ...confirmed, intent: undefined }
    this.needResync = found.resyncUnfinished
    if (!this.needResync && confirmed.lastLsn - this.offset !== this.feedPos) {
      // The intent's object landed: the feed (opened at the older position) skips ahead.
      await this.skipFeedTo(confirmed.lastLsn - this.offset)
    }
    this.joined = true
  }

  /** A new lineage on an empty prefix: the marker, created only if absent. */
  /**
   * Starts a lineage on an empty prefix: the local state first (durably: a crash after the
   * marker's PUT then finds the marker its own), then the marker, created only if absent. A
   * marker already there is this store's only if it names this lineage (an earlier attempt).
   */
  private async createLineage(existing: LocalState | undefined): Promise<void> {
    const start = existing?.lastLsn ?? this.initial?.lsn ?? this.db.lsn
    const lineage = existing?.lineage ?? randomBytes(16).toString('hex')
    if (existing === undefined) {
      this.state = {
        version: 1,
        bucket: this.o.bucket,
        prefix: this.names.prefix,
        lineage,
        lsnOffset: 0,
        seq: 0,
        lastLsn: start,
        checksum: ZERO_CHECKSUM,
      }
      await writeState(this.db.dir, this.state)
    }
    const marker = encodeLineage(lineage, start, Date.now())
    if ((await this.store.putIfAbsent(this.names.lineage, marker.bytes)) === 'exists') {
      const there = await this.store.get(this.names.lineage)
      const id = there && decodeObject(there, this.names.lineage, KIND_LINEAGE).header.lineage
      if (id !== lineage) this.fence(`another store created ${this.names.lineage} first`)
    }
    this.lineage = lineage
    this.needResync = true
    this.joined = true
  }

  private async skipFeedTo(lsn: number): Promise<void> {
    try {
      while (this.feedPos < lsn) {
        const r = await this.feed.next()
        if (r.done) throw closedError()
        this.feedPos = r.value.lsn
      }
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_LSN_TRIMMED') throw err
      this.needResync = true
    }
  }

  /** Marks the store fenced (durably, best effort) and throws `ERR_REPLICATION_FENCED`. */
  private fence(reason: string): never {
    const err = new ReplicationError(
      ReplicationErrorCode.FENCED,
      `fenced from ${this.o.bucket}/${this.names.prefix}: ${reason}. This store stops replicating there for good; it keeps working locally`,
    )
    if (this.state !== undefined) {
      this.state = { ...this.state, fenced: reason }
      void writeState(this.db.dir, this.state).catch(() => {})
    }
    throw err
  }

  /** One round: retry what is pending, resync or snapshot when due, else ship the new writes. */
  private async round(): Promise<void> {
    this.more = false
    await this.putPending()
    if (this.needResync) return this.resync()
    const due =
      (Date.now() - this.lastSnapshotAt >= this.o.snapshotEveryMs ||
        this.bytesSinceSnapshot >= this.o.snapshotEveryBytes) &&
      this.db.lsn + this.offset !== this.snapshotLsn
    if (due) return this.snapshot()
    await this.shipLog(this.db.lsn)
  }

  /** Reads the feed up to `target` (or the object size bound) into one log object and ships it. */
  private async shipLog(target: number): Promise<void> {
    if (this.feedPos >= target) return
    const ops: LogOp[] = []
    let bytes = 0
    while (this.feedPos < target) {
      let r: IteratorResult<Change>
      try {
        r = await this.feed.next()
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_LSN_TRIMMED') {
          // The log no longer holds what is unshipped (a bulk ingest, or a restart after the
          // log was trimmed): a snapshot takes over (a resync object, then the snapshot).
          this.needResync = true
          return
        }
        throw err
      }
      if (r.done) throw closedError()
      const c = r.value
      ops.push({ lsn: c.lsn + this.offset, type: c.type, key: c.key, value: c.value, last: c.last })
      this.feedPos = c.lsn
      bytes += opBytes(c)
      if (c.last && bytes >= this.o.maxObjectBytes) {
        this.more = this.feedPos < target
        break
      }
    }
    if (ops[0]!.lsn !== this.shippedLsn + 1) {
      this.needResync = true // the feed skipped LSNs: only a snapshot can cover them
      return
    }
    this.queueLog(ops, 0, this.shippedLsn)
    await this.putPending()
  }

  private queueLog(ops: LogOp[], flags: number, baseLsn: number): void {
    this.pending.addLog(this.lineage!, this.confirmed(), ops, flags, baseLsn)
  }

  private confirmed(): { seq: number; checksum: string } {
    return { seq: this.seq, checksum: this.lastChecksum }
  }

  /** A snapshot of the store at its current LSN, after the log objects up to it. */
  private async snapshot(): Promise<void> {
    const snap = this.db.snapshot()
    try {
      while (this.feedPos < snap.lsn && !this.needResync) await this.shipLog(snap.lsn)
      if (this.needResync) return
      this.queueSnapshot(snap)
    } finally {
      snap.release()
    }
    await this.putPending()
  }

  private queueSnapshot(snap: Snapshot): void {
    this.pending.addSnapshot(this.lineage!, this.confirmed(), snap, this.offset)
  }

  /**
   * The history restarts at the store's current state: a resync log object (no operations, base
   * at the snapshot's LSN) and a snapshot after it; the feed reopens there.
   */
  private async resync(): Promise<void> {
    const initial = this.initial
    this.initial = undefined
    const snap = initial ?? this.db.snapshot()
    try {
      if (initial === undefined || this.feedPos !== snap.lsn) {
        await this.feed.return?.()
        this.feed = this.db.changes({ since: snap.lsn })
        this.feedPos = snap.lsn
      }
      if (snap.lsn + this.offset < this.shippedLsn) {
        this.fence(
          `the store (LSN ${snap.lsn + this.offset}) is behind what it shipped (${this.shippedLsn})`,
        )
      }
      this.queueLog([], FLAG_RESYNC, snap.lsn + this.offset)
      this.queueSnapshot(snap)
    } finally {
      snap.release()
    }
    this.needResync = false
    await this.putPending()
  }

  /** Creates the pending objects in order, each only if absent; fenced if another's is there. */
  private async putPending(): Promise<void> {
    while (this.pending.length > 0) {
      const p = this.pending.first!
      if (p.kind === 'log') {
        this.state = {
          ...this.state!,
          intent: { seq: p.seq, lastLsn: p.lastLsn, checksum: p.checksum },
        }
        await writeState(this.db.dir, this.state)
      }
      if (!(await createOnce(this.store, p))) this.fence(`${p.key} was created by another writer`)
      this.pending.shift()
      this.counters.objects++
      this.counters.bytes += p.bytes.length
      this.lastShippedAt = Date.now()
      if (p.kind === 'log') {
        this.seq = p.seq
        this.shippedLsn = p.lastLsn
        this.lastChecksum = p.checksum
        this.bytesSinceSnapshot += p.bytes.length
        this.state = {
          ...this.state!,
          seq: p.seq,
          lastLsn: p.lastLsn,
          checksum: p.checksum,
          intent: undefined,
        }
      } else {
        this.counters.snapshots++
        this.lastSnapshotAt = Date.now()
        this.bytesSinceSnapshot = 0
        this.snapshotLsn = p.lastLsn
        await this.applyRetention()
      }
    }
  }

  /** Retention after a snapshot; a failure is not fatal (the objects go at the next pass). */
  private async applyRetention(): Promise<void> {
    if (this.o.retainSnapshots === 0) return
    try {
      const history = await listHistory(this.store, this.names)
      await pruneHistory(this.store, this.names, history, this.o.retainSnapshots)
    } catch (err) {
      this.counters.failures++
      this.lastError = classify(err)
      report(this.o.onError, this.lastError)
    }
  }
}
