import { existsSync } from 'node:fs'
import {
  AlexStorage,
  type BatchOperation,
  type RangeOptions,
  type Snapshot,
  type StorageStats,
} from '@alex/storage'
import { ReplicationError, ReplicationErrorCode, report, wrap } from './errors.js'
import {
  checkFollows,
  fetchLog,
  fetchSnapshot,
  type LogObject,
  listLogs,
  listSnapshots,
  type SnapshotRef,
  toBatches,
} from './history.js'
import { type LocalState, readState, writeState } from './local-state.js'
import { normalisePrefix, ObjectNames } from './object-names.js'
import { DEFAULT_REQUEST_TIMEOUT_MS, ObjectStore } from './object-store.js'
import { type BucketOptions, checkBucketOptions, invalid, restore } from './restore.js'

/** Options of `openReplica`. */
export interface ReplicaOptions extends BucketOptions {
  /** How often the bucket is polled for new log objects (default 1000 ms). */
  intervalMs?: number
  /** Called with every failed poll (the replica keeps serving and retries). */
  onError?: (err: ReplicationError) => void
}

/** How far behind the bucket a replica is (`replica.staleness()`). LSNs are the lineage's. */
export interface ReplicaStaleness {
  /** Every write up to this LSN is visible here, and nothing after it. */
  lsn: number
  /** The newest LSN seen in the bucket (at the last poll). */
  bucketLsn: number
  lagLsn: number
  /** When the writer shipped the newest object seen (its clock, ms since the epoch). */
  newestShippedAt: number | undefined
  /** Milliseconds since then (0 if unknown). */
  sinceShippedMs: number
  /** When the last poll that reached the bucket completed. */
  lastPollAt: number | undefined
  /** Polls that failed (each retried), and the last error. */
  failures: number
  lastError: ReplicationError | undefined
}

/**
 * Opens a read-only replica of the store replicated to `bucket`/`prefix`, kept in `localDir`: the
 * first open restores the newest state there, later opens resume from what `localDir` holds.
 * It then polls the bucket every `intervalMs` and applies each new log object in one atomic
 * batch, in order, never going back in time.
 */
export async function openReplica(options: ReplicaOptions, localDir: string): Promise<Replica> {
  checkBucketOptions(options)
  const intervalMs = options.intervalMs ?? 1000
  if (!(intervalMs > 0)) invalid('intervalMs must be a positive number')
  const prefix = normalisePrefix(options.prefix)
  let state = existsSync(localDir) ? readState(localDir, options.bucket, prefix) : undefined
  if (state === undefined) {
    await restore({ ...options, toLsn: undefined }, localDir)
    state = readState(localDir, options.bucket, prefix)!
  }
  let db: AlexStorage
  try {
    db = await AlexStorage.open(localDir)
  } catch (err) {
    throw wrap(err, ReplicationErrorCode.LOCAL, `cannot open the replica's store in ${localDir}`)
  }
  const replica = new Replica(db, { ...options, intervalMs }, prefix, state)
  replica.start()
  return replica
}

/** A read-only store following a bucket: the read API of a local reader, plus `staleness()`. */
export class Replica {
  private readonly names: ObjectNames
  private readonly store: ObjectStore
  private readonly abort = new AbortController()
  private state: LocalState
  private newest: { lsn: number; createdMs: number } | undefined
  private lastPollAt: number | undefined
  private failures = 0
  private lastError: ReplicationError | undefined
  private closed = false
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: AlexStorage,
    private readonly options: ReplicaOptions & { intervalMs: number },
    prefix: string,
    state: LocalState,
  ) {
    this.names = new ObjectNames(prefix)
    this.store = new ObjectStore(
      options.client,
      options.bucket,
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      this.abort.signal,
    )
    this.state = state
    if (state.lastShippedAt !== undefined) {
      this.newest = { lsn: state.lastLsn, createdMs: state.lastShippedAt }
    }
  }

  /** Starts polling. */
  start(): void {
    this.schedule(0)
  }

  private schedule(ms: number): void {
    if (this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.catchUp().catch(() => {})
    }, ms)
  }

  /** The lineage LSN of the newest write visible here. */
  get lsn(): number {
    return this.state.lastLsn
  }

  get size(): number {
    return this.db.size
  }

  get(key: number): Uint8Array | undefined {
    return this.db.get(key)
  }

  has(key: number): boolean {
    return this.db.has(key)
  }

  getMany(keys: readonly number[]): (Uint8Array | undefined)[] {
    return this.db.getMany(keys as number[])
  }

  entries(range?: RangeOptions): IterableIterator<[number, Uint8Array]> {
    return this.db.entries(range)
  }

  keys(range?: RangeOptions): IterableIterator<number> {
    return this.db.keys(range)
  }

  values(range?: RangeOptions): IterableIterator<Uint8Array> {
    return this.db.values(range)
  }

  /** A consistent view at the current LSN (release it, as a store's). */
  snapshot(): Snapshot {
    return this.db.snapshot()
  }

  /** The local store's figures (its LSNs are local; `staleness()` has the lineage's). */
  stats(): StorageStats {
    return this.db.stats()
  }

  staleness(): ReplicaStaleness {
    const bucketLsn = Math.max(this.newest?.lsn ?? 0, this.state.lastLsn)
    const shippedAt = this.newest?.createdMs
    return {
      lsn: this.state.lastLsn,
      bucketLsn,
      lagLsn: bucketLsn - this.state.lastLsn,
      newestShippedAt: shippedAt,
      sinceShippedMs: shippedAt === undefined ? 0 : Math.max(0, Date.now() - shippedAt),
      lastPollAt: this.lastPollAt,
      failures: this.failures,
      lastError: this.lastError,
    }
  }

  /**
   * Polls the bucket now and applies everything new; resolves once done (rejects with the
   * poll's error; the replica keeps serving and polls again).
   */
  catchUp(): Promise<void> {
    if (this.closed)
      return Promise.reject(
        new ReplicationError(ReplicationErrorCode.CLOSED, 'the replica is closed'),
      )
    const run = this.polling.then(() => this.poll())
    this.polling = run.catch(() => {})
    return run
  }

  /** Stops polling, closes the local store. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.abort.abort()
    await this.polling
    try {
      await this.db.close()
    } catch (err) {
      throw wrap(err, ReplicationErrorCode.LOCAL, "closing the replica's store failed")
    }
  }

  private async poll(): Promise<void> {
    if (this.closed) return
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    try {
      await this.pull()
      this.lastPollAt = Date.now()
    } catch (e) {
      if (this.closed) return
      const err = wrap(e, ReplicationErrorCode.LOCAL, 'the replica failed to apply the bucket')
      this.failures++
      this.lastError = err
      report(this.options.onError, err)
      throw err
    } finally {
      this.schedule(this.options.intervalMs)
    }
  }

  /** Applies every log object after the current one, in order; jumps over a gap by a snapshot. */
  private async pull(): Promise<void> {
    // Every object is checked against the replica's lineage (fetchLog), so a prefix that now
    // holds another history is refused object by object, without a GET of the marker per poll.
    const lineage = this.state.lineage
    const logs = await listLogs(this.store, this.names, this.state.seq)
    let snapshots: SnapshotRef[] | undefined
    let prev: Pick<LogObject, 'seq' | 'checksum' | 'lastLsn'> = this.state
    for (const seq of logs) {
      if (this.closed) return
      if (seq <= prev.seq) continue
      const next =
        seq === prev.seq + 1 ? await fetchLog(this.store, this.names, lineage, seq) : undefined
      if (next !== undefined && !next.resync) {
        checkFollows(prev as LogObject, next, this.names)
        await this.apply(next)
      } else {
        // A missing object (retention deleted it) or a resync: the newest snapshot after us.
        snapshots ??= await listSnapshots(this.store, this.names)
        const snap = [...snapshots]
          .reverse()
          .find((s) => s.seq >= seq && s.lsn > this.state.lastLsn)
        if (snap === undefined) {
          throw new ReplicationError(
            ReplicationErrorCode.GAP,
            `log object ${this.names.log(seq)} cannot be applied after LSN ${this.state.lastLsn} and no snapshot after it is retained`,
          )
        }
        await this.jumpTo(lineage, snap)
      }
      prev = this.state
      this.newest = { lsn: this.state.lastLsn, createdMs: this.state.lastShippedAt ?? 0 }
    }
  }

  /** Applies one log object as one atomic batch, then records it. */
  private async apply(next: LogObject): Promise<void> {
    const ops: BatchOperation[] = toBatches(next.ops).flat()
    if (ops.length > 0) await this.db.batch(ops)
    await this.record(next, this.state.lsnOffset)
  }

  /** Replaces the state with a snapshot's, in one atomic batch of the differences. */
  private async jumpTo(
    lineage: string,
    ref: { seq: number; lsn: number; key: string },
  ): Promise<void> {
    const head = await fetchLog(this.store, this.names, lineage, ref.seq)
    if (head === undefined)
      throw new ReplicationError(
        ReplicationErrorCode.GAP,
        `log object ${this.names.log(ref.seq)} is missing`,
      )
    const snap = await fetchSnapshot(this.store, this.names, lineage, ref, head)
    const ops = diff(this.db, snap.keys, snap.values)
    if (ops.length > 0) await this.db.batch(ops)
    await this.record(head, ref.lsn - this.db.lsn)
  }

  private async record(object: LogObject, lsnOffset: number): Promise<void> {
    this.state = {
      ...this.state,
      seq: object.seq,
      lastLsn: object.lastLsn,
      checksum: object.checksum,
      lsnOffset,
      lastShippedAt: object.createdMs,
    }
    await writeState(this.db.dir, this.state)
  }
}

/** The batch that turns the store's state into the snapshot's (keys ascending in both). */
function diff(db: AlexStorage, keys: Float64Array, values: Uint8Array[]): BatchOperation[] {
  const ops: BatchOperation[] = []
  let i = 0
  for (const [k, v] of db.entries()) {
    while (i < keys.length && keys[i]! < k) {
      ops.push({ type: 'put', key: keys[i]!, value: values[i]! })
      i++
    }
    if (i < keys.length && keys[i] === k) {
      if (!Buffer.from(values[i]!).equals(v)) ops.push({ type: 'put', key: k, value: values[i]! })
      i++
    } else {
      ops.push({ type: 'delete', key: k })
    }
  }
  for (; i < keys.length; i++) ops.push({ type: 'put', key: keys[i]!, value: values[i]! })
  return ops
}
