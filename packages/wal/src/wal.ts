import { dirname, resolve as resolvePath } from 'node:path'
import { WalError } from './errors.js'
import type { FileSystem } from './file-system.js'
import { MAX_PAYLOAD_BYTES } from './format.js'
import { GroupCommit } from './group-commit.js'
import { nodeFileSystem } from './node-file-system.js'
import { batchTooLarge, checkOp } from './op-check.js'
import { checkOptions } from './options.js'
import {
  batchFrameBytes,
  CHECKPOINT_FRAME_BYTES,
  DELETE_FRAME_BYTES,
  encodeBatch,
  encodeCheckpoint,
  encodeDelete,
  encodePut,
  putFrameBytes,
} from './record-codec.js'
import { planRecovery } from './recovery.js'
import { ReplayIterator, type ReplaySegment } from './replay.js'
import { Retention, retainedAtOpen } from './retention.js'
import { entriesFromPlan, type SegmentEntry, SegmentFiles } from './segment-files.js'
import { WalCounters } from './stats.js'
import type {
  CommitObserver,
  RecoveryReport,
  WalOp,
  WalOptions,
  WalRecord,
  WalStats,
} from './types.js'

/**
 * A write-ahead log: checksummed, segmented, with group commit, checkpoints and crash-safe
 * replay. One `Wal` owns its directory; the caller (e.g. @alex/storage, through its lock file)
 * makes sure no other process opens it at the same time.
 */
export class Wal {
  private readonly dirPath: string
  private readonly maxValueBytes: number
  private readonly files: SegmentFiles
  private readonly commit: GroupCommit
  private readonly counters: WalCounters
  private readonly report: RecoveryReport
  private readonly replaySegments: readonly ReplaySegment[]
  private readonly fs: FileSystem
  /** LSN the next appended operation gets. */
  private nextLsn: number
  /** Largest checkpoint LSN requested so far (checkpoints may not go backwards). */
  private requestedCheckpoint: number
  private closing: Promise<void> | undefined = undefined

  private constructor(
    dir: string,
    fs: FileSystem,
    maxValueBytes: number,
    files: SegmentFiles,
    commit: GroupCommit,
    counters: WalCounters,
    report: RecoveryReport,
    replaySegments: readonly ReplaySegment[],
    nextLsn: number,
  ) {
    this.dirPath = dir
    this.fs = fs
    this.maxValueBytes = maxValueBytes
    this.files = files
    this.commit = commit
    this.counters = counters
    this.report = report
    this.replaySegments = replaySegments
    this.nextLsn = nextLsn
    this.requestedCheckpoint = commit.checkpointLsn
  }

  /**
   * Opens (creating if needed) the log in `dir`: scans and validates every segment, repairs a
   * torn tail per `options.recovery` (see `recovery`), and starts a new segment for appends.
   * Rejects with `ERR_CORRUPTION` (file, offset, reason) on damage the mode may not repair,
   * `ERR_UNSUPPORTED_VERSION` for a newer format, `ERR_INVALID_ARGUMENT` for bad options.
   */
  static async open(dir: string, options: WalOptions = {}): Promise<Wal> {
    const opts = checkOptions(options)
    const fs = options.fs ?? nodeFileSystem
    dir = resolvePath(dir)
    if (!fs.exists(dir)) {
      fs.mkdir(dir)
      // The new directory's own entry must survive a power cut too.
      await fs.syncDir(dirname(dir))
    }
    const plan = planRecovery(fs, dir, opts.recovery, opts.minNextLsn)
    const counters = new WalCounters()

    // 1. Repair in place: cut a torn tail, make the newest segment's bytes durable (a process
    //    crash may have left them in the page cache only), drop temporary and abandoned files.
    const newest = plan.segments[plan.segments.length - 1]
    if (newest) {
      const handle = fs.open(newest.path, 'r+')
      try {
        if (plan.truncate && plan.truncate.path === newest.path)
          handle.truncate(plan.truncate.offset)
        handle.syncSync()
        counters.fsyncs++
      } finally {
        handle.close()
      }
    }
    for (const path of plan.remove) fs.unlink(path)
    if (plan.remove.length > 0) {
      await fs.syncDir(dir)
      counters.dirSyncs++
    }

    // 2. Start the new active segment, then delete what the checkpoint covers and retention
    //    (retainBytes, retainMs; no floor yet) does not keep.
    const retention = new Retention(opts)
    const files = new SegmentFiles(
      fs,
      dir,
      counters,
      opts.blockingSync,
      opts.segmentBytes,
      retention,
    )
    const entries = entriesFromPlan(plan, retention.now())
    const atOpen = retainedAtOpen(plan.report, entries, plan.checkpointLsn, opts)
    files.adopt(entries)
    try {
      await files.create(plan.nextSegmentId, plan.endLsn, plan.nextLsn, plan.checkpointLsn)
      await files.deleteOldest(atOpen.deletable)
    } catch (err) {
      try {
        files.close()
      } catch {
        // The original error is the one to report.
      }
      throw err
    }

    const last = plan.nextLsn - 1
    const commit = new GroupCommit(
      files,
      opts.sync,
      opts.syncIntervalMs,
      opts.segmentBytes,
      counters,
      last,
      plan.checkpointLsn,
    )
    const replaySegments: ReplaySegment[] = plan.segments.map((s) => ({
      path: s.path,
      baseLsn: s.baseLsn,
      endLsn: s.endLsn,
      validEnd: s.validEnd,
      checksum: s.checksum,
    }))
    return new Wal(
      dir,
      fs,
      opts.maxValueBytes,
      files,
      commit,
      counters,
      atOpen.report,
      replaySegments,
      plan.nextLsn,
    )
  }

  /**
   * Plans the recovery of the log in `dir` exactly as `open` would with the same options (same
   * option checks, same `minNextLsn` handling, same refusals) and returns the report
   * `wal.recovery` would then hold, without changing anything on disk: no truncation, unlink,
   * segment creation, fsync, nor even the directory's creation (a missing directory reports an
   * empty log: `segments: 0`, `records: 0`, `lastLsn: 0n`). Lets an owner validate its own files
   * and the log before `open` repairs anything. Reads every segment whole, as `open` does.
   * Throws `ERR_INVALID_ARGUMENT`, `ERR_CORRUPTION` (file, offset, reason) or
   * `ERR_UNSUPPORTED_VERSION` where `open` would reject with them, and the file system's error
   * if a read fails. Reflects the bytes as they are now: a log another process is writing may
   * differ by the time it is opened.
   */
  static inspect(dir: string, options: WalOptions = {}): RecoveryReport {
    const opts = checkOptions(options)
    const fs = options.fs ?? nodeFileSystem
    const plan = planRecovery(fs, resolvePath(dir), opts.recovery, opts.minNextLsn)
    return retainedAtOpen(plan.report, entriesFromPlan(plan, 0), plan.checkpointLsn, opts).report
  }

  /**
   * Appends one operation; resolves with its LSN once durable per the `sync` option. The value
   * is copied before this returns, so the caller may reuse its buffer. Invalid input rejects with
   * `ERR_INVALID_KEY`, `ERR_INVALID_VALUE`, `ERR_VALUE_TOO_LARGE` or `ERR_INVALID_OP` and writes
   * nothing; a closed log rejects with `ERR_CLOSED`, a failed one with `ERR_WAL_FAILED`.
   * (`appendValidated` plus `whenDurable` is the same with the LSN handed back at once.)
   */
  append(op: WalOp): Promise<bigint> {
    const refused = this.refusal() ?? checkOp(op, this.maxValueBytes)
    if (refused) return Promise.reject(refused)
    return this.waitFor(this.encode(op), true) as Promise<bigint>
  }

  /**
   * Appends operations atomically (after a crash all or none of them replay) with consecutive
   * LSNs; resolves with the last LSN once durable per the `sync` option. Every operation is
   * validated first; an empty batch is `ERR_INVALID_OP`, one over 1 GiB encoded
   * `ERR_VALUE_TOO_LARGE`.
   */
  appendBatch(ops: readonly WalOp[]): Promise<bigint> {
    let refused = this.refusal()
    if (!refused && (!Array.isArray(ops) || ops.length === 0)) {
      refused = new WalError('ERR_INVALID_OP', 'appendBatch needs a non-empty array of operations')
    }
    for (let i = 0; !refused && i < ops.length; i++)
      refused = checkOp(ops[i] as WalOp, this.maxValueBytes)
    if (refused) return Promise.reject(refused)
    const bytes = batchFrameBytes(ops)
    if (bytes - 9 > MAX_PAYLOAD_BYTES) return Promise.reject(batchTooLarge(bytes))
    return this.waitFor(this.encodeBatch(ops, bytes), true) as Promise<bigint>
  }

  /**
   * The log-append seam for an owner that validated its operation at its own public edge (the
   * store does, once per write): appends `op` and returns its LSN at once, as a number. The value
   * is copied before this returns. Durability is separate: `whenDurable(lsn)`. `op` is not
   * checked again (key a finite number, value a `Uint8Array` within `maxValueBytes`, type 'put'
   * or 'delete'); anything else is the caller's bug. Throws `ERR_CLOSED` or `ERR_WAL_FAILED`.
   */
  appendValidated(op: WalOp): number {
    const refused = this.refusal()
    if (refused) throw refused
    return this.encode(op)
  }

  /**
   * `appendValidated` for a non-empty batch (one atomic frame, consecutive LSNs); returns the
   * last LSN. Throws `ERR_CLOSED`, `ERR_WAL_FAILED`, or `ERR_VALUE_TOO_LARGE` for a batch over
   * 1 GiB encoded (nothing appended).
   */
  appendBatchValidated(ops: readonly WalOp[]): number {
    const refused = this.refusal()
    if (refused) throw refused
    const bytes = batchFrameBytes(ops)
    if (bytes - 9 > MAX_PAYLOAD_BYTES) throw batchTooLarge(bytes)
    return this.encodeBatch(ops, bytes)
  }

  /**
   * Resolves with `lsn` once every operation up to it is durable per the `sync` option (at once
   * if it is already). Rejects with `ERR_WAL_FAILED` if the log fails first.
   */
  whenDurable(lsn: number): Promise<number> {
    if (lsn <= this.commit.settledLsn) return Promise.resolve(lsn)
    const refused = this.refusal()
    if (refused) return Promise.reject(refused)
    return this.waitFor(lsn, false) as Promise<number>
  }

  /** Encodes `op` into the pending group with the next LSN; returns the LSN. */
  private encode(op: WalOp): number {
    const g = this.commit.pending
    const lsn = this.nextLsn++
    if (op.type === 'put') {
      const value = op.value
      const at = g.reserve(putFrameBytes(value.length))
      encodePut(g.buf, g.view, at, lsn, op.key, value)
    } else {
      const at = g.reserve(DELETE_FRAME_BYTES)
      encodeDelete(g.buf, g.view, at, lsn, op.key)
    }
    g.addOps(1, false, lsn)
    this.commit.schedule()
    return lsn
  }

  /** Encodes `ops` as one batch frame of `bytes`; returns the last LSN. */
  private encodeBatch(ops: readonly WalOp[], bytes: number): number {
    const g = this.commit.pending
    const first = this.nextLsn
    const lsn = first + ops.length - 1
    this.nextLsn = lsn + 1
    const at = g.reserve(bytes)
    encodeBatch(g.buf, g.view, at, first, ops, bytes)
    g.addOps(ops.length, true, lsn)
    this.commit.schedule()
    return lsn
  }

  /** A promise for operation `lsn`'s durability, answered with the pending group. */
  private waitFor(lsn: number, asBigint: boolean): Promise<bigint | number> {
    const g = this.commit.pending
    this.commit.schedule()
    return new Promise<bigint | number>((resolve, reject) => {
      g.addAppender(lsn, asBigint, resolve, reject)
    })
  }

  /**
   * Makes every operation already written to the log file durable now, with an fdatasync on the
   * calling thread (it blocks the event loop while it runs; nothing happens if they are durable
   * already). It is for a caller that must not let another file get ahead of the log: the store
   * writes a data record only once its log record is durable, in every sync mode. An operation
   * whose promise resolved has been written, so it is covered; `lastDurableLsn` says what is.
   * Throws `ERR_CLOSED`, or `ERR_WAL_FAILED` (the fsync failed: the log fails, never retried).
   */
  syncWrittenSync(): void {
    const refused = this.refusal()
    if (refused) throw refused
    this.commit.syncWrittenNow()
  }

  /**
   * The WAL rule's barrier for an owner's other files (number LSNs): makes every operation up to
   * `lsn` durable now, with a blocking fdatasync if some are not yet (see `syncWrittenSync`;
   * `lsn` must have been acknowledged by `whenDurable` or `append`). Throws like it.
   */
  syncThrough(lsn: number): void {
    if (lsn <= this.commit.durableLsn) return
    this.syncWrittenSync()
  }

  /**
   * Reserves `count` consecutive LSNs that no operation of this log will have, for an owner that
   * records those operations elsewhere (the store's bulk ingest writes them to its data files
   * directly), and resolves with the first once the reservation is durable: the active segment
   * is sealed and the next one starts with a base LSN past the range, its header fsynced, so no
   * open of the log hands them out again (docs/wal-format.md, "Reserving LSNs"). Operations
   * appended before the call are written (and synced) first; those appended after get LSNs
   * above the range. `checkpoint` may then go up to the range's end. Rejects with
   * `ERR_INVALID_ARGUMENT` (count not a positive safe integer), `ERR_CLOSED`, `ERR_WAL_FAILED`.
   */
  async reserve(count: number): Promise<number> {
    if (!(Number.isSafeInteger(count) && count >= 1)) {
      throw new WalError('ERR_INVALID_ARGUMENT', 'reserve: count must be a positive integer')
    }
    // Frames already gathered must land before the gap: let their group go first.
    for (;;) {
      const refused = this.refusal()
      if (refused) throw refused
      if (!this.commit.pending.hasFrames()) break
      await this.sync()
    }
    const first = this.nextLsn
    if (!Number.isSafeInteger(first + count)) {
      throw new WalError('ERR_INVALID_ARGUMENT', `reserve: ${count} LSNs would pass 2^53`)
    }
    this.nextLsn = first + count
    const g = this.commit.pending
    g.addReservation(this.nextLsn)
    this.commit.schedule()
    await new Promise<void>((resolve, reject) => {
      g.addFinalWaiter(resolve, reject)
    })
    return first
  }

  /** Makes everything appended so far durable, whatever the `sync` mode. */
  sync(): Promise<void> {
    const refused = this.refusal()
    if (refused) return Promise.reject(refused)
    const g = this.commit.pending
    this.commit.schedule()
    return new Promise<void>((resolve, reject) => {
      g.addSyncWaiter(resolve, reject)
    })
  }

  /**
   * Records durably that every operation up to `lsn` is persisted elsewhere, then deletes the
   * segments wholly at or before it (starting a new segment first if the active one is wholly
   * covered). `replay()` after a reopen yields only operations after `lsn`. `lsn` must be a
   * bigint between the current checkpoint and `lastAppendedLsn` (`ERR_INVALID_LSN`).
   */
  checkpoint(lsn: bigint): Promise<void> {
    const refused = this.refusal()
    if (refused) return Promise.reject(refused)
    if (typeof lsn !== 'bigint' || lsn < 0n) {
      return Promise.reject(new WalError('ERR_INVALID_LSN', 'checkpoint LSN must be a bigint >= 0'))
    }
    if (lsn > BigInt(this.nextLsn - 1)) {
      return Promise.reject(
        new WalError(
          'ERR_INVALID_LSN',
          `checkpoint LSN ${lsn} is ahead of the last appended LSN ${this.nextLsn - 1}`,
        ),
      )
    }
    const n = Number(lsn)
    if (n < this.requestedCheckpoint) {
      return Promise.reject(
        new WalError(
          'ERR_INVALID_LSN',
          `checkpoint LSN ${lsn} is behind the current checkpoint ${this.requestedCheckpoint}`,
        ),
      )
    }
    this.requestedCheckpoint = n
    const g = this.commit.pending
    const at = g.reserve(CHECKPOINT_FRAME_BYTES)
    encodeCheckpoint(g.buf, g.view, at, n, this.nextLsn)
    g.addCheckpoint(n)
    this.commit.schedule()
    return new Promise<void>((resolve, reject) => {
      g.addFinalWaiter(resolve, reject)
    })
  }

  /**
   * `checkpoint` for an owner that keeps number LSNs: checkpoints at `lsn`, or at the last
   * appended LSN if that is lower, and does nothing if the log's checkpoint is there already.
   */
  checkpointUpTo(lsn: number): Promise<void> {
    const target = Math.min(lsn, this.nextLsn - 1)
    if (target <= this.requestedCheckpoint) return Promise.resolve()
    return this.checkpoint(BigInt(target))
  }

  /**
   * Sets the retention floor (`undefined` removes it): from now on a checkpoint, or `trim()`,
   * keeps every segment that holds an operation with LSN >= `floor()`, on top of what
   * `retainBytes` and `retainMs` keep. The owner passes the smallest LSN its readers (each
   * `LogTail`'s position + 1) still need. Called at every deletion, so it must be cheap; one that
   * throws or returns a non-number keeps every segment. It changes nothing recovery replays.
   */
  setRetentionFloor(floor: (() => number) | undefined): void {
    this.files.retention.floor = floor
  }

  /**
   * Installs (or with `undefined` removes) the observer told about every group write: its
   * operations, bytes and fdatasync time (see `CommitObserver`). For metrics and diagnostics:
   * the store publishes them as `alexstorage:commit`. An observer that throws does not fail the
   * log (the error is rethrown on the next tick).
   */
  observeCommits(observer: CommitObserver | undefined): void {
    this.commit.observer = observer
  }

  /**
   * Deletes the segments the current checkpoint covers that no retention rule keeps any more
   * (the floor moved, `retainMs` elapsed), without a checkpoint; resolves with how many were
   * deleted, once the directory is fsynced. A failure rejects (the file stays) and, unlike a
   * failure during a checkpoint, does not fail the log. Rejects with `ERR_CLOSED` /
   * `ERR_WAL_FAILED` in those states, deleting nothing.
   */
  trim(): Promise<number> {
    const refused = this.refusal()
    if (refused) return Promise.reject(refused)
    return this.files.deleteCovered(this.commit.checkpointLsn)
  }

  /**
   * The operations recovered at open that come after the newest checkpoint, in LSN order
   * (batches flattened). Values are views, not copies (see `WalRecord`). Each call starts a new
   * pass; call it before checkpointing past the recovered operations (a checkpoint deletes the
   * segments they live in). Throws `ERR_CORRUPTION` if a segment changed since open.
   */
  replay(): Iterable<WalRecord> {
    if (this.closing) throw new WalError('ERR_CLOSED', 'the write-ahead log is closed')
    return new ReplayIterator(this.fs, this.replaySegments, this.commit.checkpointLsn)
  }

  /** Counters, fsync latency and LSNs (see `WalStats`). */
  stats(): WalStats {
    const c = this.counters
    return {
      bytesWritten: c.bytesWritten,
      recordsWritten: c.recordsWritten,
      batchesWritten: c.batchesWritten,
      groupCommits: c.groupCommits,
      groupSize: {
        mean: c.groupCommits === 0 ? 0 : c.recordsWritten / c.groupCommits,
        max: c.groupOpsMax,
      },
      segments: this.files.segments.length,
      segmentsCreated: c.segmentsCreated,
      segmentsDeleted: c.segmentsDeleted,
      fsyncs: c.fsyncs,
      fsyncLatencyUs: c.fsyncLatency.summary(),
      dirSyncs: c.dirSyncs,
      checkpoints: c.checkpoints,
      checkpointLsn: BigInt(this.commit.checkpointLsn),
      lastAppendedLsn: BigInt(this.nextLsn - 1),
      lastDurableLsn: BigInt(this.commit.durableLsn),
      failed: this.commit.failure !== undefined,
      oldestLsn: BigInt(this.oldestLsn),
    }
  }

  /**
   * Flushes and fsyncs what is pending (in every sync mode), settles every pending promise and
   * closes the files. Later calls return the same promise. Rejects with `ERR_WAL_FAILED` if that
   * final write or sync fails; closing a log that had already failed just releases it.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    const commit = this.commit
    let error: unknown
    if (commit.failure === undefined) {
      const g = commit.pending
      commit.schedule()
      try {
        // Settled once the group is completely processed, a checkpoint in it included.
        await new Promise<void>((resolve, reject) => {
          g.addFinalWaiter(resolve, reject)
        })
      } catch (err) {
        error = err
      }
    }
    commit.stopTimer()
    try {
      this.files.close()
    } catch (err) {
      if (error === undefined && commit.failure === undefined) error = err
    }
    if (error !== undefined) throw error
  }

  /** What `open` found and repaired. */
  get recovery(): RecoveryReport {
    return this.report
  }

  /** The directory of the log (absolute). */
  get dir(): string {
    return this.dirPath
  }

  /** LSN of the last appended operation (after open: the last recovered one, or 0n). */
  get lastAppendedLsn(): bigint {
    return BigInt(this.nextLsn - 1)
  }

  /** Every operation up to this LSN is durable (survives a power cut). */
  get lastDurableLsn(): bigint {
    return BigInt(this.commit.durableLsn)
  }

  /**
   * Every operation up to this LSN is settled: durable per the `sync` option (with `'none'` or
   * `'interval'`, written), so `whenDurable` resolves at once for it. It moves before the
   * promises of a group resolve, so the first of them can act for the whole group.
   */
  get settledLsn(): number {
    return this.commit.settledLsn
  }

  /** LSN of the newest durable checkpoint (0n if none). */
  get checkpointLsn(): bigint {
    return BigInt(this.commit.checkpointLsn)
  }

  /**
   * LSN of the last operation handed to the OS (`write()` returned: readable by a `LogTail` in
   * any process, durable or not): the highest `upTo` a tail may be given.
   */
  get lastWrittenLsn(): number {
    return this.commit.writtenLsn
  }

  /**
   * First LSN the segment files still hold (the oldest segment's base LSN; the next LSN if no
   * operation is held): a `LogTail` may start after any LSN from `oldestLsn - 1` on.
   */
  get oldestLsn(): number {
    return (this.files.segments[0] as SegmentEntry).baseLsn
  }

  /** The error an operation gets in the closed or failed state, else undefined. */
  private refusal(): WalError | undefined {
    if (this.closing) return new WalError('ERR_CLOSED', 'the write-ahead log is closed')
    const failure = this.commit.failure
    if (failure) {
      return new WalError('ERR_WAL_FAILED', failure.message, { cause: failure.cause })
    }
    return undefined
  }
}
