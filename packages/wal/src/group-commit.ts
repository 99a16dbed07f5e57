import { WalError } from './errors.js'
import { DURABLE_FRAME_BYTES, encodeDurable } from './record-codec.js'
import type { SegmentFiles } from './segment-files.js'
import type { WalCounters } from './stats.js'
import type { CommitObserver, SyncMode } from './types.js'

const INITIAL_GROUP_BYTES = 64 * 1024
const SHRINK_GROUP_BYTES = 4 * 1024 * 1024
/** Room left at the start of every group for its durable-watermark frame. */
const HEAD_BYTES = DURABLE_FRAME_BYTES

/**
 * The records gathered for one write: encoded frames in one buffer, plus the promises waiting on
 * them. The buffer starts with room for the durable-watermark frame, filled in just before the
 * write (when the watermark is known), so the watermark costs no copy, no extra write() and no
 * extra fsync. Two groups alternate: one gathers while the other is being written and synced,
 * so nothing is allocated per group.
 */
export class CommitGroup {
  buf = new Uint8Array(INITIAL_GROUP_BYTES)
  view = new DataView(this.buf.buffer)
  /** Bytes of the write: the watermark frame's room, then the encoded frames. */
  len = HEAD_BYTES
  /** Operations in the frames. */
  ops = 0
  /** Batch frames. */
  batches = 0
  /** LSN of the last operation (0 if none). */
  lastLsn = 0
  /**
   * Appenders waiting for this group: the LSN each resolves with, whether as a bigint (`append`)
   * or a number (`whenDurable`), and its promise callbacks. Private: filled through `addAppender`.
   */
  private readonly lsns: number[] = []
  private readonly asBigint: boolean[] = []
  private readonly resolves: Array<(lsn: never) => void> = []
  private readonly rejects: Array<(err: Error) => void> = []
  /** `sync()` callers: resolved once this group is durable. */
  private readonly syncResolves: Array<() => void> = []
  private readonly syncRejects: Array<(err: Error) => void> = []
  /**
   * Checkpoint and close callers: resolved once the group is completely processed (durable, and
   * for a checkpoint, covered segments deleted).
   */
  private readonly finalResolves: Array<() => void> = []
  private readonly finalRejects: Array<(err: Error) => void> = []
  /** Largest checkpoint LSN framed in this group, -1 if none. */
  checkpointLsn = -1
  /** Sync even if the mode would not (sync(), checkpoint, close, the interval timer). */
  forceSync = false
  /**
   * `Wal.reserve`: before this group's frames are written, the active segment is sealed and a
   * new one started whose base LSN is this (0: no reservation). Set only on a group that held
   * no frame yet, so every frame in it comes after the reserved LSNs.
   */
  reserveBase = 0

  /** Reserves `bytes` at the end of the buffer (growing it) and returns their offset. */
  reserve(bytes: number): number {
    const at = this.len
    const need = at + bytes
    if (need > this.buf.length) {
      let cap = this.buf.length * 2
      while (cap < need) cap *= 2
      const next = new Uint8Array(cap)
      next.set(this.buf.subarray(0, at))
      this.buf = next
      this.view = new DataView(next.buffer)
    }
    this.len = need
    return at
  }

  /**
   * Notes `count` operations just encoded (as one batch frame if `batch`), the last with LSN
   * `lastLsn`.
   */
  addOps(count: number, batch: boolean, lastLsn: number): void {
    this.ops += count
    if (batch) this.batches++
    this.lastLsn = lastLsn
  }

  /** Notes a checkpoint frame for `lsn` just encoded; the group will be synced. */
  addCheckpoint(lsn: number): void {
    if (lsn > this.checkpointLsn) this.checkpointLsn = lsn
    this.forceSync = true
  }

  /** Waits for operation `lsn` (in this group or before): resolved with it when the group is. */
  addAppender(
    lsn: number,
    asBigint: boolean,
    resolve: (lsn: never) => void,
    reject: (err: Error) => void,
  ): void {
    this.lsns.push(lsn)
    this.asBigint.push(asBigint)
    this.resolves.push(resolve)
    this.rejects.push(reject)
  }

  /** Syncs the group even if the mode would not (the interval timer, `close`). */
  requestSync(): void {
    this.forceSync = true
  }

  /** A `sync()` caller: the group is synced, and `resolve` called once it is durable. */
  addSyncWaiter(resolve: () => void, reject: (err: Error) => void): void {
    this.forceSync = true
    this.syncResolves.push(resolve)
    this.syncRejects.push(reject)
  }

  /** A checkpoint or close caller: the group is synced and `resolve` called once processed. */
  addFinalWaiter(resolve: () => void, reject: (err: Error) => void): void {
    this.forceSync = true
    this.finalResolves.push(resolve)
    this.finalRejects.push(reject)
  }

  /**
   * Notes a reservation (`Wal.reserve`): the next operation's LSN is `base`; the group will be
   * synced, and its final waiters answered once the new segment is durable.
   */
  addReservation(base: number): void {
    this.reserveBase = base
    this.forceSync = true
  }

  /** True once a frame (an operation or a checkpoint) was encoded into the group. */
  hasFrames(): boolean {
    return this.len > HEAD_BYTES
  }

  /** True if there is nothing to write, sync or answer. */
  isIdle(): boolean {
    return (
      !this.hasFrames() &&
      !this.forceSync &&
      this.reserveBase === 0 &&
      this.resolves.length === 0 &&
      this.syncResolves.length === 0 &&
      this.finalResolves.length === 0
    )
  }

  /** Resolves appenders and sync waiters. */
  settleWrites(): void {
    const lsns = this.lsns
    const asBigint = this.asBigint
    const resolves = this.resolves
    for (let i = 0; i < resolves.length; i++) {
      const lsn = lsns[i] as number
      const resolve = resolves[i] as (lsn: number | bigint) => void
      resolve(asBigint[i] ? BigInt(lsn) : lsn)
    }
    for (const resolve of this.syncResolves) resolve()
    lsns.length = 0
    asBigint.length = 0
    resolves.length = 0
    this.rejects.length = 0
    this.syncResolves.length = 0
    this.syncRejects.length = 0
  }

  /** Resolves checkpoint and close waiters. */
  settleFinal(): void {
    for (const resolve of this.finalResolves) resolve()
    this.finalResolves.length = 0
    this.finalRejects.length = 0
  }

  /** Rejects everything still waiting on this group. */
  rejectAll(err: Error): void {
    for (const reject of this.rejects) reject(err)
    for (const reject of this.syncRejects) reject(err)
    for (const reject of this.finalRejects) reject(err)
    this.lsns.length = 0
    this.asBigint.length = 0
    this.resolves.length = 0
    this.rejects.length = 0
    this.syncResolves.length = 0
    this.syncRejects.length = 0
    this.finalResolves.length = 0
    this.finalRejects.length = 0
  }

  /** Empties the group for reuse (dropping an oversized buffer). */
  reset(): void {
    this.len = HEAD_BYTES
    this.ops = 0
    this.batches = 0
    this.lastLsn = 0
    this.checkpointLsn = -1
    this.forceSync = false
    this.reserveBase = 0
    if (this.buf.length > SHRINK_GROUP_BYTES) {
      this.buf = new Uint8Array(INITIAL_GROUP_BYTES)
      this.view = new DataView(this.buf.buffer)
    }
  }
}

/**
 * Group commit: appends encode into `pending`; one loop at a time takes the pending group, puts
 * the durable watermark (the highest LSN known durable, and how much of the segment is) in front
 * of it, writes it with one `write()`, fdatasyncs it (per the sync mode) off the event loop, and
 * answers its waiters, while the next group gathers. A failed write or sync fails the log for good: the group
 * in flight and everything pending reject with `ERR_WAL_FAILED`, and nothing is retried.
 */
export class GroupCommit {
  /** The group appends encode into. */
  pending = new CommitGroup()
  private spare = new CommitGroup()
  /** LSN of the last operation written to the OS. */
  writtenLsn: number
  /** Every LSN up to this one is durable. */
  durableLsn: number
  /** Every appender up to this LSN has been answered (durable per the sync mode). */
  settledLsn: number
  /** Newest durable checkpoint. */
  checkpointLsn: number
  /** Set once a write or sync failed. */
  failure: WalError | undefined = undefined
  /** Told about every group written or synced (`Wal.observeCommits`). */
  observer: CommitObserver | undefined = undefined
  private running = false
  private scheduled = false
  private timer: ReturnType<typeof setTimeout> | undefined = undefined
  private readonly runBound = () => {
    void this.run()
  }

  constructor(
    private readonly files: SegmentFiles,
    private readonly mode: SyncMode,
    private readonly intervalMs: number,
    private readonly segmentBytes: number,
    private readonly counters: WalCounters,
    lastLsn: number,
    checkpointLsn: number,
  ) {
    this.writtenLsn = lastLsn
    this.durableLsn = lastLsn
    this.settledLsn = lastLsn
    this.checkpointLsn = checkpointLsn
  }

  /** Starts the loop on the next microtask (after the current tick's appends), if idle. */
  schedule(): void {
    if (this.scheduled || this.running) return
    this.scheduled = true
    queueMicrotask(this.runBound)
  }

  /** Stops the interval timer (at close). */
  stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private async run(): Promise<void> {
    this.scheduled = false
    if (this.running) return
    this.running = true
    let g: CommitGroup | undefined
    try {
      while (this.failure === undefined && !this.pending.isIdle()) {
        g = this.pending
        this.pending = this.spare
        this.spare = g
        const files = this.files
        let written = 0
        let syncMs = -1
        if (g.reserveBase > 0) {
          // Wal.reserve: the reserved LSNs go to no segment; the next one starts after them.
          await files.rotate(this.checkpointLsn, g.reserveBase)
          const skipped = g.reserveBase - 1
          if (this.writtenLsn > this.durableLsn) this.durableLsn = this.writtenLsn
          if (skipped > this.writtenLsn) this.writtenLsn = skipped
          if (skipped > this.durableLsn) this.durableLsn = skipped
          if (skipped > this.settledLsn) this.settledLsn = skipped
        }
        if (g.hasFrames()) {
          if (files.activeHasFrames && files.activeBytes + g.len > this.segmentBytes) {
            await files.rotate(this.checkpointLsn)
            // Rotation fdatasynced everything written so far.
            if (this.writtenLsn > this.durableLsn) this.durableLsn = this.writtenLsn
          }
          encodeDurable(g.buf, g.view, 0, this.durableLsn, files.syncedBytes)
          files.write(g.buf, g.len, g.lastLsn > 0 ? g.lastLsn + 1 : files.active.endLsn)
          const c = this.counters
          c.groupCommits++
          c.recordsWritten += g.ops
          c.batchesWritten += g.batches
          if (g.ops > c.groupOpsMax) c.groupOpsMax = g.ops
          if (g.lastLsn > 0) this.writtenLsn = g.lastLsn
          written = g.len
        }
        if (g.forceSync || (this.mode === 'always' && g.hasFrames())) {
          const upTo = this.writtenLsn
          syncMs = await files.sync()
          if (upTo > this.durableLsn) this.durableLsn = upTo
        } else if (this.mode === 'interval' && g.hasFrames() && this.timer === undefined) {
          this.timer = setTimeout(this.onTimer, this.intervalMs)
          this.timer.unref?.()
        }
        if (g.lastLsn > this.settledLsn) this.settledLsn = g.lastLsn
        g.settleWrites()
        if (this.observer !== undefined && (written > 0 || syncMs >= 0)) {
          this.tell(g.ops, written, syncMs)
        }
        if (g.checkpointLsn >= 0) await this.finishCheckpoint(g.checkpointLsn)
        g.settleFinal()
        g.reset()
        g = undefined
      }
    } catch (err) {
      this.fail(err, g)
    } finally {
      this.running = false
    }
  }

  /**
   * Calls the observer. What it throws must not fail the log: it is rethrown on the next tick,
   * as `node:diagnostics_channel` does with a subscriber's exception.
   */
  private tell(ops: number, bytes: number, syncMs: number): void {
    try {
      this.observer?.(ops, bytes, syncMs)
    } catch (err) {
      process.nextTick(() => {
        throw err
      })
    }
  }

  private readonly onTimer = () => {
    this.timer = undefined
    if (this.failure !== undefined) return
    this.pending.requestSync()
    this.schedule()
  }

  /**
   * After a checkpoint frame is durable: if every operation of the active segment is covered,
   * seal it and start a new one (whose header records the checkpoint), so the covered segments,
   * all of them, can go; then delete them.
   */
  private async finishCheckpoint(lsn: number): Promise<void> {
    if (lsn > this.checkpointLsn) this.checkpointLsn = lsn
    this.counters.checkpoints++
    const files = this.files
    const active = files.active
    if (active.endLsn > active.baseLsn && active.endLsn - 1 <= this.checkpointLsn) {
      await files.rotate(this.checkpointLsn)
    }
    await files.deleteCovered(this.checkpointLsn)
  }

  /**
   * Makes every frame already written durable now (a blocking fdatasync), outside the group
   * commit's own schedule. A failure fails the log, as any failed fsync does (never retried).
   */
  syncWrittenNow(): void {
    if (this.failure !== undefined) throw this.failure
    const upTo = this.writtenLsn
    if (upTo <= this.durableLsn) return
    try {
      this.files.syncNow()
    } catch (err) {
      this.fail(err)
      throw this.failure
    }
    if (upTo > this.durableLsn) this.durableLsn = upTo
  }

  /** Enters the failed state: rejects the group in flight and everything pending. */
  fail(cause: unknown, inFlight?: CommitGroup): void {
    if (this.failure === undefined) {
      const message = cause instanceof Error ? cause.message : String(cause)
      this.failure = new WalError('ERR_WAL_FAILED', `write-ahead log failed: ${message}`, { cause })
    }
    this.stopTimer()
    inFlight?.rejectAll(this.failure)
    inFlight?.reset()
    this.pending.rejectAll(this.failure)
    this.pending.reset()
  }
}
