import { join } from 'node:path'
import type { FileSystem } from '@alex/wal/io'
import { readKey, readLsn, readType } from './data-record.js'
import { type AlexStorageError, corruption, ErrorCode } from './errors.js'
import {
  classifyNames,
  type StoreListing,
  segmentName,
  snapshotName,
  walPath,
} from './file-names.js'
import { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, SNAPSHOT_LSN_AT, TYPE_PUT } from './format.js'
import { type FullScan, fullScan } from './full-scan.js'
import { isUncommittedIngest } from './ingest-recovery.js'
import { offsetOf, slotOf } from './location.js'
import type { LogSummary } from './log-inspection.js'
import type { ResolvedOptions } from './options.js'
import { emptyReport, type StorageRecoveryReport } from './recovery-report.js'
import { inspectSegmentTail } from './segment-scanner.js'
import { readSnapshot, type Snapshot } from './snapshot.js'

/**
 * Recovery, step one: decide (docs/storage-format.md, section 8). `planRecovery` reads and
 * validates everything an open depends on (snapshots, segment headers and lengths, the log's
 * extent, the agreement between the LSNs in the data files and the log) and returns what to do,
 * without changing a byte on disk. An open that refuses therefore refuses here, before the apply
 * step (recovery.ts) deletes, truncates or writes anything; read-only opens use the plan as it is.
 */

/** A data segment the store will open. */
export interface PlannedSegment {
  id: number
  slot: number
  /** Trusted length: the bytes that stay (the apply step truncates a longer file to it). */
  length: number
  /** Size of the file now. */
  fileSize: number
  /** Bytes of the records some key points to. */
  liveBytes: number
  /** The validated bytes `[0, length)` when the full scan kept them as the resident image. */
  image: Uint8Array | undefined
}

/** What `planRecovery` decided. */
export interface RecoveryPlan {
  report: StorageRecoveryReport
  /** Names of interrupted temp files to delete. */
  temps: string[]
  /** The base: a snapshot, or else a full scan (neither for an empty store). */
  snapshot: Snapshot | undefined
  scan: FullScan | undefined
  /** Segments to open, with their trusted lengths. */
  segments: PlannedSegment[]
  /** Segment files to delete: unnamed by the snapshot, retired, or a creation torn by a crash. */
  removeSegments: number[]
  /** A retirement marker to create durably before any segment is deleted. */
  marker: number | undefined
  /** Id for the next new segment. */
  nextSegmentId: number
  /** The log must hand out LSNs above every LSN the data files hold (never reuse one). */
  minNextLsn: number
  /** Highest snapshot sequence number present (valid or not). */
  snapshotSeq: number
  /** Segments with an id below this were retired by the newest completed compaction. */
  retireBelow: number
  /**
   * The key of each data record above the log's checkpoint, by LSN: the log holds the same
   * operations, and `checkLogAgrees` compares them (identity between the log and the data).
   */
  keyByLsn: Map<number, number>
}

/**
 * Plans the recovery of the store in `dir`. `log` is what the write-ahead log's own planning
 * found (its extent and checkpoint). Throws `ERR_CORRUPTION` (file, offset) for damage the
 * recovery mode may not repair.
 */
export function planRecovery(
  fs: FileSystem,
  dir: string,
  options: ResolvedOptions,
  log: LogSummary,
  lockTakenOver: boolean,
): RecoveryPlan {
  const report = emptyReport(lockTakenOver)
  const listing = classifyNames(fs.readdir(dir))
  for (const name of listing.temps) report.removedFiles.push(name)
  const plan: RecoveryPlan = {
    report,
    temps: listing.temps,
    snapshot: chooseSnapshot(fs, dir, listing, log, report),
    scan: undefined,
    segments: [],
    removeSegments: [],
    marker: undefined,
    nextSegmentId: (listing.segments[listing.segments.length - 1] ?? 0) + 1,
    minNextLsn: 1,
    snapshotSeq: listing.snapshots[0] ?? 0,
    retireBelow: listing.retired[0] ?? 0,
    keyByLsn: new Map(),
  }
  const dataLsn =
    plan.snapshot !== undefined
      ? planFromSnapshot(fs, dir, listing, plan.snapshot, plan)
      : planFullScan(fs, dir, listing, options, log, plan)
  checkLogExtent(dir, dataLsn, log, options, report)
  plan.minNextLsn = dataLsn + 1
  return plan
}

/**
 * The newest valid snapshot whose segments are all there and which the log has not been
 * checkpointed past. Damaged ones are skipped and reported.
 */
function chooseSnapshot(
  fs: FileSystem,
  dir: string,
  listing: StoreListing,
  log: LogSummary,
  report: StorageRecoveryReport,
): Snapshot | undefined {
  const segmentIds = new Set(listing.segments)
  let newestValid = true
  for (const seq of listing.snapshots) {
    let candidate: Snapshot
    try {
      candidate = readSnapshot(fs, dir, seq)
    } catch (err) {
      const e = err as AlexStorageError
      if (e.code !== ErrorCode.CORRUPTION) throw err
      report.damagedSnapshots.push({
        file: e.file ?? '',
        offset: e.offset ?? 0,
        message: e.message,
      })
      newestValid = false
      continue
    }
    const missing = candidate.segments.find((s) => !segmentIds.has(s.id))
    if (missing !== undefined) {
      const file = join(dir, segmentName(missing.id))
      // Segments are durable before a snapshot names them and deleted only after a newer
      // snapshot is durable: a segment missing under the newest valid snapshot is lost data.
      if (newestValid) throw corruption(file, 0, `segment named by ${snapshotName(seq)} is missing`)
      report.damagedSnapshots.push({
        file: join(dir, snapshotName(seq)),
        offset: 0,
        message: `names a deleted segment ${file} (an older snapshot)`,
      })
      continue
    }
    if (candidate.lsn < log.checkpointLsn) {
      // The log was checkpointed past this (older) snapshot: a newer one was lost, and the
      // operations in between are only in the data segments.
      report.damagedSnapshots.push({
        file: join(dir, snapshotName(seq)),
        offset: SNAPSHOT_LSN_AT,
        message: `snapshot LSN ${candidate.lsn} is older than the log's checkpoint ${log.checkpointLsn}`,
      })
      return undefined
    }
    return candidate
  }
  return undefined
}

/**
 * The snapshot path: every named segment must have a good header (its file is the segment the
 * snapshot names) and at least its trusted length; bytes after it were written after the
 * snapshot and are cut (their operations are in the log). Unnamed segments are deleted, after a
 * retirement marker if they are compaction inputs. Returns the highest LSN the data files hold.
 */
function planFromSnapshot(
  fs: FileSystem,
  dir: string,
  listing: StoreListing,
  snapshot: Snapshot,
  plan: RecoveryPlan,
): number {
  const report = plan.report
  let dataLsn = snapshot.lsn
  const named = new Set<number>()
  for (const s of snapshot.segments) {
    named.add(s.id)
    const path = join(dir, segmentName(s.id))
    const tail = inspectSegmentTail(fs, path, s.id, s.length, plan.keyByLsn)
    if (tail.headerProblem !== undefined) {
      throw corruption(path, 0, `${tail.headerProblem} (named by ${snapshotName(snapshot.seq)})`)
    }
    if (tail.size < s.length) {
      throw corruption(
        path,
        tail.size,
        `segment shorter than the ${s.length} bytes its snapshot trusts`,
      )
    }
    if (tail.size > s.length) {
      report.truncated.push({
        file: path,
        offset: s.length,
        bytesDropped: tail.size - s.length,
        reason: 'written after the snapshot',
      })
    }
    if (tail.maxLsn > dataLsn) dataLsn = tail.maxLsn
    plan.segments.push({ ...s, fileSize: tail.size, image: undefined })
  }
  verifySample(fs, dir, snapshot)
  const unnamed = listing.segments.filter((id) => !named.has(id))
  for (const id of unnamed) {
    // Segments created after the snapshot hold operations the log must still have: evidence.
    const tail = inspectSegmentTail(
      fs,
      join(dir, segmentName(id)),
      id,
      SEGMENT_HEADER_SIZE,
      plan.keyByLsn,
    )
    if (tail.headerProblem === undefined && tail.maxLsn > dataLsn) dataLsn = tail.maxLsn
    plan.removeSegments.push(id)
    report.removedFiles.push(segmentName(id))
  }
  // Unnamed segments below the snapshot's retirement floor are compaction inputs whose deletion
  // was interrupted; they may hold the only copies of tombstones, so a full scan must keep
  // ignoring them while some remain: the marker first, durably.
  const floor = snapshot.retireBelow
  if (unnamed.some((id) => id < floor) && (listing.retired[0] ?? 0) < floor) plan.marker = floor
  plan.retireBelow = snapshot.retireBelow
  plan.nextSegmentId = Math.max(snapshot.nextSegmentId, plan.nextSegmentId)
  report.source = 'snapshot'
  report.snapshot = snapshot.seq
  return dataLsn
}

/** Entries of a snapshot checked against the records they point to, at most. */
const SAMPLE_ENTRIES = 64

/**
 * Checksums prove that each file is intact, not that the files belong together: a snapshot or a
 * segment restored from another store's backup has valid checksums too. So an evenly spaced
 * sample of the snapshot's entries is checked against the records they point to (one small read
 * each): each must be a put of that key with an LSN at or below the snapshot's. Every later read
 * checks the key it returns as well; the sample makes an open refuse a wholesale mismatch instead
 * of silently hiding keys.
 */
function verifySample(fs: FileSystem, dir: string, snapshot: Snapshot): void {
  const n = snapshot.keys.length
  if (n === 0) return
  const idBySlot = new Map(snapshot.segments.map((s) => [s.slot, s.id]))
  const header = new Uint8Array(RECORD_HEADER_SIZE)
  const view = new DataView(header.buffer)
  const step = Math.max(1, Math.floor(n / SAMPLE_ENTRIES))
  for (let i = 0; i < n; i += step) {
    const key = snapshot.keys[i]!
    const location = snapshot.locations[i]!
    const path = join(dir, segmentName(idBySlot.get(slotOf(location))!))
    const offset = offsetOf(location)
    const handle = fs.open(path, 'r')
    let got: number
    try {
      got = handle.read(header, 0, RECORD_HEADER_SIZE, offset)
    } finally {
      handle.close()
    }
    if (
      got < RECORD_HEADER_SIZE ||
      readType(header, 0) !== TYPE_PUT ||
      readKey(view, 0) !== key ||
      readLsn(view, 0) > snapshot.lsn
    ) {
      throw corruption(
        path,
        offset,
        `${snapshotName(snapshot.seq)} says key ${key} is here, but the record is not it: ` +
          'the snapshot or this segment is not from this store',
      )
    }
  }
}

/** The full-scan path: segments below the newest retirement marker go, the rest are scanned. */
function planFullScan(
  fs: FileSystem,
  dir: string,
  listing: StoreListing,
  options: ResolvedOptions,
  log: LogSummary,
  plan: RecoveryPlan,
): number {
  const floor = listing.retired[0] ?? 0
  for (const id of listing.segments) {
    if (id >= floor) continue
    plan.removeSegments.push(id)
    plan.report.removedFiles.push(segmentName(id))
  }
  const ids: number[] = []
  for (const id of listing.segments) {
    if (id < floor) continue
    // A bulk ingest's segment counts once the log's checkpoint covers its records (its commit
    // came first); one above it is an ingest cut short: never part of the store.
    if (isUncommittedIngest(fs, join(dir, segmentName(id)), id, log.checkpointLsn)) {
      plan.removeSegments.push(id)
      plan.report.removedFiles.push(segmentName(id))
      continue
    }
    ids.push(id)
  }
  const scan = fullScan(
    fs,
    dir,
    ids,
    {
      recovery: options.recovery,
      logCheckpointLsn: log.checkpointLsn,
      cacheBytes: options.cacheBytes,
      keyByLsn: plan.keyByLsn,
    },
    plan.report,
  )
  plan.scan = scan
  plan.segments = scan.segments
  plan.removeSegments.push(...scan.torn)
  plan.report.source = listing.segments.length > 0 ? 'scan' : 'empty'
  return scan.maxLsn
}

/**
 * A missing log is damage: every operation in the data files was durable in the log first, and
 * the log forgets only what a checkpoint covers, so a log that ends below the highest LSN the
 * data holds has lost segments (or the whole `wal/` directory). The operations only it held are
 * gone: refused in the strict modes, reported (`logLoss`) by `'point-in-time'`.
 */
function checkLogExtent(
  dir: string,
  dataLsn: number,
  log: LogSummary,
  options: ResolvedOptions,
  report: StorageRecoveryReport,
): void {
  // Reserved LSNs count: a bulk ingest's records carry LSNs the log reserved durably before any
  // data file held them (docs/architecture.md, "Bulk ingest").
  const logEnd = Math.max(log.lastLsn, log.checkpointLsn, log.reservedLsn)
  if (dataLsn <= logEnd) return
  const message = log.exists
    ? `the log ends at LSN ${logEnd} but the data files hold LSN ${dataLsn}: log segments are missing`
    : `the log directory is missing but the data files hold LSN ${dataLsn}`
  if (options.recovery !== 'point-in-time') throw corruption(walPath(dir), 0, message)
  report.logLoss = { logEndLsn: logEnd, dataLsn, message }
}
