import { join } from 'node:path'
import { AlexIndex } from '@alex/index'
import { type FileSystem, Wal, type WalOptions } from '@alex/wal'
import { ReadOnlyOverlayFileSystem } from '@alex/wal/io'
import { DataSegment } from './data-segment.js'
import { AlexStorageError, ErrorCode } from './errors.js'
import { retiredName, segmentName, walPath } from './file-names.js'
import { TYPE_PUT, TYPE_TOMBSTONE } from './format.js'
import type { StoreLock } from './lock-file.js'
import { checkLogAgrees, inspectLog } from './log-inspection.js'
import type { ResolvedOptions } from './options.js'
import { planRecovery, type RecoveryPlan } from './recovery-plan.js'
import type { StorageRecoveryReport } from './recovery-report.js'
import { SegmentSet } from './segment-set.js'
import { toStorageError } from './wal-errors.js'

export type { StorageRecoveryReport } from './recovery-report.js'

/**
 * Opening a store (docs/storage-format.md, section 8), in two steps: `planRecovery`
 * (recovery-plan.ts) reads and validates everything and decides, changing nothing; then, for a
 * writer only, the plan is applied (temp files and unneeded segments deleted, untrusted tails
 * cut), the log is opened (its own repairs), and the log is replayed on top of the base into a
 * new active segment. A read-only open applies nothing on disk: its segments are opened for
 * reading and its log through a copy-on-write overlay.
 */

/** The state recovery hands to the store. */
export interface RecoveredState {
  wal: Wal
  index: AlexIndex
  segments: SegmentSet
  /** Highest snapshot sequence number present (valid or not). */
  snapshotSeq: number
  /** Segments with an id below this were retired by the newest completed compaction. */
  retireBelow: number
  /** LSN the base snapshot covers (0 if none). */
  snapshotLsn: number
  /** Highest LSN applied. */
  appliedLsn: number
  checkpoints: number
  compactions: number
  report: StorageRecoveryReport
  /** Something was replayed or repaired: a checkpoint should follow. */
  needsCheckpoint: boolean
}

/** Plans, applies (writer only), opens the log and replays it. See the module comment. */
export async function recover(
  dir: string,
  options: ResolvedOptions,
  fs: FileSystem,
  lock: StoreLock | undefined,
  replayUpTo = Number.POSITIVE_INFINITY,
): Promise<RecoveredState> {
  const readOnly = options.readOnly
  const walOptions = logOptions(options, readOnly ? new ReadOnlyOverlayFileSystem(fs) : fs)
  let plan: RecoveryPlan
  try {
    const log = inspectLog(fs, walPath(dir), walOptions)
    plan = planRecovery(fs, dir, options, log, lock?.tookOverFrom !== undefined)
    await checkLogAgrees(fs, walPath(dir), walOptions, plan.keyByLsn)
    if (!readOnly) await applyFileChanges(fs, dir, plan)
  } catch (err) {
    throw toStorageError(err)
  }
  const segments = new SegmentSet(fs, dir, {
    cacheBytes: options.cacheBytes,
    segmentBytes: options.segmentBytes,
    memoryOnly: readOnly,
    nextId: plan.nextSegmentId,
  })
  let wal: Wal | undefined
  try {
    openSegments(fs, dir, plan, segments, readOnly)
    const index = baseIndex(plan)
    wal = await Wal.open(walPath(dir), { ...walOptions, minNextLsn: BigInt(plan.minNextLsn) })
    plan.report.wal = wal.recovery
    if (readOnly) checkLogReachesBase(wal, plan, dir)
    const appliedLsn = replay(wal, index, segments, plan, replayUpTo)
    const report = plan.report
    return {
      wal,
      index,
      segments,
      snapshotSeq: plan.snapshotSeq,
      retireBelow: plan.retireBelow,
      snapshotLsn: plan.snapshot?.lsn ?? 0,
      appliedLsn,
      checkpoints: plan.snapshot?.checkpoints ?? 0,
      compactions: plan.snapshot?.compactions ?? 0,
      report,
      needsCheckpoint:
        report.replayed > 0 ||
        report.source === 'scan' ||
        report.damagedSnapshots.length > 0 ||
        report.truncated.length > 0 ||
        report.logLoss !== undefined ||
        report.wal.dropped.length > 0,
    }
  } catch (err) {
    segments.closeAll() // every segment file opened so far
    await wal?.close().catch(() => {})
    throw toStorageError(err)
  }
}

/**
 * A reader plans from the snapshot it listed, then opens the log: if a writer wrote a newer
 * snapshot and checkpointed the log past the planned one in between, the log no longer replays
 * the operations between the two, and the view would silently miss them. Refused here as
 * damage; a reader's open retries it from the newest files (reader-open.ts), because the
 * listing changed. (A writer holds the lock: nothing moves under its open.)
 */
function checkLogReachesBase(wal: Wal, plan: RecoveryPlan, dir: string): void {
  const base = plan.snapshot?.lsn
  const logStart = Number(wal.checkpointLsn)
  if (base === undefined || plan.scan !== undefined || logStart <= base) return
  throw new AlexStorageError(
    ErrorCode.CORRUPTION,
    `the log of ${dir} was checkpointed at LSN ${logStart}, past the snapshot's LSN ${base}: ` +
      'the operations between them are in no file this open reads',
    { file: walPath(dir), offset: 0 },
  )
}

/** The log's options, derived from the store's. */
function logOptions(options: ResolvedOptions, fs: FileSystem): WalOptions {
  const walOptions: WalOptions = {
    sync: options.sync,
    syncIntervalMs: options.syncIntervalMs,
    blockingSync: options.blockingSync,
    maxValueBytes: options.maxValueBytes,
    recovery: options.recovery,
    retainBytes: options.logRetainBytes,
    retainMs: options.logRetainMs,
    fs,
  }
  if (options.walSegmentBytes !== undefined) walOptions.segmentBytes = options.walSegmentBytes
  return walOptions
}

/**
 * The plan's deletions, in a crash-safe order: temp files; the retirement marker, durably,
 * before any compaction input goes; then the segments no longer needed. (Tails are cut when the
 * segments are opened.) A crash in between leaves files the next open plans away again.
 */
async function applyFileChanges(fs: FileSystem, dir: string, plan: RecoveryPlan): Promise<void> {
  for (const name of plan.temps) fs.unlink(join(dir, name))
  if (plan.marker !== undefined) {
    fs.open(join(dir, retiredName(plan.marker)), 'w+').close()
    await fs.syncDir(dir)
    plan.report.removedFiles.push(`(wrote ${retiredName(plan.marker)})`)
  }
  for (const id of plan.removeSegments) fs.unlink(join(dir, segmentName(id)))
}

/** Opens the planned segments into `segments`, cutting untrusted tails (writer only). */
function openSegments(
  fs: FileSystem,
  dir: string,
  plan: RecoveryPlan,
  segments: SegmentSet,
  readOnly: boolean,
): void {
  for (const p of plan.segments) {
    const segment = DataSegment.open(fs, dir, p.id, p.slot, p.length, readOnly)
    try {
      if (!readOnly && p.fileSize > p.length) segment.truncateFile()
    } catch (err) {
      segment.close()
      throw err
    }
    segment.liveBytes = p.liveBytes
    if (p.image !== undefined) segment.adoptImage(p.image)
    segments.adopt(segment)
  }
  segments.collectFreeSlots()
}

function baseIndex(plan: RecoveryPlan): AlexIndex {
  const base = plan.snapshot ?? plan.scan
  if (base === undefined) return AlexIndex.from(new Float64Array(0), new Float64Array(0))
  return AlexIndex.from(base.keys, base.locations)
}

/**
 * Replays the log on top of the base, into a new active segment. After a full scan, an
 * operation is skipped when the data already holds the key at that LSN or later. A reader stops
 * at `upTo`, the LSN the writer has published as acknowledged (the log file can hold records
 * whose fsync has not completed; they are not acknowledged yet). Returns the highest LSN applied.
 */
function replay(
  wal: Wal,
  index: AlexIndex,
  segments: SegmentSet,
  plan: RecoveryPlan,
  upTo: number,
): number {
  const scan = plan.scan?.index
  const snapshotLsn = plan.snapshot?.lsn ?? 0
  let appliedLsn = Math.max(snapshotLsn, plan.scan?.maxLsn ?? 0)
  for (const r of wal.replay()) {
    const lsn = Number(r.lsn)
    if (lsn > upTo) break
    if (lsn > appliedLsn) appliedLsn = lsn
    if (scan !== undefined) {
      const e = scan.entry.get(r.key)
      if (e !== undefined && scan.lsns[e]! >= lsn) continue
    } else if (lsn <= snapshotLsn) {
      continue
    }
    applyReplayed(
      index,
      segments,
      r.type === 'put' ? TYPE_PUT : TYPE_TOMBSTONE,
      lsn,
      r.key,
      r.value,
    )
    plan.report.replayed++
  }
  return appliedLsn
}

/**
 * Applies a replayed (already durable) operation: data record first, then the index. Also how a
 * following reader applies the operations it reads from the writer's log.
 */
export function applyReplayed(
  index: AlexIndex,
  segments: SegmentSet,
  type: number,
  lsn: number,
  key: number,
  value: Uint8Array | undefined,
): void {
  const location = segments.append(type, lsn, key, type === TYPE_PUT ? value : undefined)
  const size = segments.sizeAt(location)
  segments.applied(location, size)
  segments.flushDue()
  const old = index.get(key)
  if (old !== undefined) segments.kill(old)
  if (type === TYPE_PUT) {
    index.set(key, location)
    segments.addLive(location, size)
  } else if (old !== undefined) {
    index.delete(key)
  }
}

/** Error for a read-only open of a directory that holds no store. */
export function noStore(dir: string): AlexStorageError {
  return new AlexStorageError(ErrorCode.INVALID_ARGUMENT, `no store at ${dir} (read-only open)`)
}
