import { join } from 'node:path'
import { AlexIndex } from '@alex/index'
import { type FileSystem, type RecoveryReport, Wal, type WalOptions } from '@alex/wal'
import { readKey, readLsn, readType } from './data-record.js'
import { DataSegment } from './data-segment.js'
import { AlexStorageError, corruption, ErrorCode } from './errors.js'
import { classifyNames, retiredName, segmentName, snapshotName, walPath } from './file-names.js'
import { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, TYPE_PUT } from './format.js'
import { packLocation } from './location.js'
import type { StoreLock } from './lock-file.js'
import type { ResolvedOptions } from './options.js'
import { ReadOnlyOverlayFileSystem } from './read-only-file-system.js'
import { type SegmentScan, scanSegmentFile } from './segment-scanner.js'
import { SegmentSet } from './segment-set.js'
import { readSnapshot, type Snapshot } from './snapshot.js'
import { toStorageError } from './wal-errors.js'

/** What opening a store found and did (`db.recovery`). */
export interface StorageRecoveryReport {
  /**
   * Where the index came from: `'empty'` (a new store), `'snapshot'`, or `'scan'` (no usable
   * snapshot: rebuilt from the data segments).
   */
  source: 'empty' | 'snapshot' | 'scan'
  /** Sequence number of the snapshot used, if any. */
  snapshot: number | undefined
  /** Snapshots that failed validation and were skipped. */
  damagedSnapshots: { file: string; offset: number; message: string }[]
  /** Data segment bytes dropped (untrusted tails). */
  truncated: { file: string; offset: number; bytesDropped: number; reason: string }[]
  /** Files deleted: interrupted temp files and segments no snapshot names. */
  removedFiles: string[]
  /** Log operations applied on top of the base. */
  replayed: number
  /** The write-ahead log's own recovery report. */
  wal: RecoveryReport
  /** True if a stale lock (its owner died) was taken over. */
  lockTakenOver: boolean
}

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

/** Per-key newest record found by a full scan (tombstones included). */
interface ScanIndex {
  entry: Map<number, number>
  lsns: Float64Array
  locations: Float64Array // -1: tombstone
  sizes: Float64Array
  count: number
}

/**
 * Opens the store in `dir` (docs/storage-format.md, section 8): chooses the base (newest usable
 * snapshot or a full scan), repairs the data files (writer only), opens the log, replays it, and
 * starts a new active segment. Read-only opens change nothing on disk.
 */
export async function recover(
  dir: string,
  options: ResolvedOptions,
  fs: FileSystem,
  lock: StoreLock | undefined,
): Promise<RecoveredState> {
  const readOnly = options.readOnly
  const report: StorageRecoveryReport = {
    source: 'empty',
    snapshot: undefined,
    damagedSnapshots: [],
    truncated: [],
    removedFiles: [],
    replayed: 0,
    wal: undefined as unknown as RecoveryReport,
    lockTakenOver: lock?.tookOverFrom !== undefined,
  }
  const listing = classifyNames(fs.readdir(dir))
  if (!readOnly) {
    for (const name of listing.temps) {
      fs.unlink(join(dir, name))
      report.removedFiles.push(name)
    }
  }
  const segmentIds = new Set(listing.segments)

  // Step 3: the newest valid snapshot whose segments are all there.
  let snapshot: Snapshot | undefined
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
    if (missing === undefined) {
      snapshot = candidate
      break
    }
    const file = join(dir, segmentName(missing.id))
    // Segments are durable before a snapshot names them and deleted only after a newer snapshot
    // is durable: a segment missing under the newest valid snapshot is lost data.
    if (newestValid) throw corruption(file, 0, `segment named by ${snapshotName(seq)} is missing`)
    report.damagedSnapshots.push({
      file: join(dir, snapshotName(seq)),
      offset: 0,
      message: `names a deleted segment ${file} (an older snapshot)`,
    })
  }

  // The log: through a copy-on-write overlay when read-only, so its repairs stay in memory.
  const walOptions: WalOptions = {
    sync: options.sync,
    syncIntervalMs: options.syncIntervalMs,
    blockingSync: options.blockingSync,
    maxValueBytes: options.maxValueBytes,
    recovery: options.recovery,
    fs: readOnly ? new ReadOnlyOverlayFileSystem(fs) : fs,
  }
  if (options.walSegmentBytes !== undefined) walOptions.segmentBytes = options.walSegmentBytes

  let segments: SegmentSet
  let index: AlexIndex
  let scanIndex: ScanIndex | undefined
  let segmentsOpened: SegmentSet | undefined
  let wal: Wal | undefined
  let snapshotLsn = 0
  const maxFileId = listing.segments.length > 0 ? listing.segments[listing.segments.length - 1]! : 0

  const openWal = async (minNextLsn: number) => {
    try {
      return await Wal.open(walPath(dir), { ...walOptions, minNextLsn: BigInt(minNextLsn) })
    } catch (err) {
      throw toStorageError(err)
    }
  }

  if (snapshot !== undefined) {
    wal = await openWal(snapshot.lsn + 1)
    if (snapshot.lsn < Number(wal.checkpointLsn)) {
      // The log was checkpointed past this (older) snapshot: a newer one was lost, and the
      // operations in between are only in the data segments.
      report.damagedSnapshots.push({
        file: join(dir, snapshotName(snapshot.seq)),
        offset: 24,
        message: `snapshot LSN ${snapshot.lsn} is older than the log's checkpoint ${wal.checkpointLsn}`,
      })
      snapshot = undefined
    }
  }

  try {
    if (snapshot !== undefined) {
      report.source = 'snapshot'
      report.snapshot = snapshot.seq
      snapshotLsn = snapshot.lsn
      segments = new SegmentSet(fs, dir, {
        cacheBytes: options.cacheBytes,
        segmentBytes: options.segmentBytes,
        memoryOnly: readOnly,
        nextId: Math.max(snapshot.nextSegmentId, maxFileId + 1),
      })
      segmentsOpened = segments
      const named = new Set<number>()
      for (const s of snapshot.segments) {
        named.add(s.id)
        const segment = DataSegment.open(fs, dir, s.id, s.slot, s.length, readOnly)
        segment.liveBytes = s.liveBytes
        segments.adopt(segment)
        const size = segment.fileSize()
        if (size < s.length) {
          throw corruption(
            segment.path,
            size,
            `segment shorter than the ${s.length} bytes its snapshot trusts`,
          )
        }
        if (size > s.length && !readOnly) {
          segment.truncateFile()
          report.truncated.push({
            file: segment.path,
            offset: s.length,
            bytesDropped: size - s.length,
            reason: 'written after the snapshot',
          })
        }
      }
      if (!readOnly) {
        const unnamed = listing.segments.filter((id) => !named.has(id))
        // Unnamed segments below the snapshot's retirement floor are compaction inputs whose
        // deletion was interrupted; they may hold the only copies of tombstones, so a full scan
        // must keep ignoring them while some remain: the marker first, durably.
        const floor = snapshot.retireBelow
        if (unnamed.some((id) => id < floor) && (listing.retired[0] ?? 0) < floor) {
          fs.open(join(dir, retiredName(floor)), 'w+').close()
          await fs.syncDir(dir)
          report.removedFiles.push(`(wrote ${retiredName(floor)})`)
        }
        for (const id of unnamed) {
          fs.unlink(join(dir, segmentName(id)))
          report.removedFiles.push(segmentName(id))
        }
      }
      segments.collectFreeSlots()
      index = AlexIndex.from(snapshot.keys, snapshot.locations)
    } else {
      // Segments below the newest retirement marker were replaced by a completed compaction.
      const floor = listing.retired[0] ?? 0
      const ids = listing.segments.filter((id) => id >= floor)
      if (!readOnly) {
        for (const id of listing.segments) {
          if (id >= floor) continue
          fs.unlink(join(dir, segmentName(id)))
          report.removedFiles.push(segmentName(id))
        }
      }
      const built = scanAll(fs, dir, ids, maxFileId + 1, options, report)
      segments = built.segments
      index = built.index
      scanIndex = built.scan
      report.source = listing.segments.length > 0 ? 'scan' : 'empty'
      if (wal === undefined) wal = await openWal(built.maxLsn + 1)
      else if (built.maxLsn > Number(wal.lastAppendedLsn)) {
        throw corruption(
          walPath(dir),
          0,
          `data segments hold LSN ${built.maxLsn}, beyond the log's last LSN ${wal.lastAppendedLsn}`,
        )
      }
    }
  } catch (err) {
    segmentsOpened?.closeAll() // the segment files opened so far
    await wal?.close().catch(() => {})
    throw err
  }
  if (wal === undefined) throw new Error('unreachable: the log is open here')
  report.wal = wal.recovery

  // Step 6: replay the log on top of the base, into a new active segment.
  let appliedLsn = snapshotLsn
  try {
    for (const r of wal.replay()) {
      const lsn = Number(r.lsn)
      if (lsn > appliedLsn) appliedLsn = lsn
      if (scanIndex !== undefined) {
        const e = scanIndex.entry.get(r.key)
        if (e !== undefined && scanIndex.lsns[e]! >= lsn) continue
      } else if (lsn <= snapshotLsn) {
        continue
      }
      applyReplayed(index, segments, r.type === 'put' ? TYPE_PUT : 2, lsn, r.key, r.value)
      report.replayed++
    }
  } catch (err) {
    segments.closeAll()
    await wal.close().catch(() => {})
    throw toStorageError(err)
  }
  if (scanIndex !== undefined) {
    let maxScanned = 0
    for (let i = 0; i < scanIndex.count; i++)
      if (scanIndex.lsns[i]! > maxScanned) maxScanned = scanIndex.lsns[i]!
    if (maxScanned > appliedLsn) appliedLsn = maxScanned
  }

  return {
    wal,
    index,
    segments,
    snapshotSeq: listing.snapshots.length > 0 ? listing.snapshots[0]! : 0,
    retireBelow: snapshot?.retireBelow ?? listing.retired[0] ?? 0,
    snapshotLsn,
    appliedLsn,
    checkpoints: snapshot?.checkpoints ?? 0,
    compactions: snapshot?.compactions ?? 0,
    report,
    needsCheckpoint:
      report.replayed > 0 ||
      report.source === 'scan' ||
      report.damagedSnapshots.length > 0 ||
      report.truncated.length > 0 ||
      report.wal.dropped.length > 0,
  }
}

/** Applies a replayed (already durable) operation: data record first, then the index. */
function applyReplayed(
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

/**
 * Step 5: rebuilds the index from the data segments alone. For each key the record with the
 * highest LSN wins; a winning tombstone means the key is absent.
 */
function scanAll(
  fs: FileSystem,
  dir: string,
  ids: number[],
  nextId: number,
  options: ResolvedOptions,
  report: StorageRecoveryReport,
): { segments: SegmentSet; index: AlexIndex; scan: ScanIndex; maxLsn: number } {
  const readOnly = options.readOnly
  const segments = new SegmentSet(fs, dir, {
    cacheBytes: options.cacheBytes,
    segmentBytes: options.segmentBytes,
    memoryOnly: readOnly,
    nextId,
  })
  const scan: ScanIndex = {
    entry: new Map(),
    lsns: new Float64Array(1024),
    locations: new Float64Array(1024),
    sizes: new Float64Array(1024),
    count: 0,
  }
  let maxLsn = 0
  let slot = 0
  const visit = (s: SegmentScan, offset: number, size: number) => {
    const key = readKey(s.view, offset)
    const lsn = readLsn(s.view, offset)
    if (lsn > maxLsn) maxLsn = lsn
    const location =
      readType(s.bytes, offset) === TYPE_PUT
        ? packLocation(slot, offset, size - RECORD_HEADER_SIZE)
        : -1
    let e = scan.entry.get(key)
    if (e === undefined) {
      if (scan.count === scan.lsns.length) growScan(scan)
      e = scan.count++
      scan.entry.set(key, e)
    } else if (scan.lsns[e]! >= lsn) {
      return
    }
    scan.lsns[e] = lsn
    scan.locations[e] = location
    scan.sizes[e] = size
  }
  try {
    for (const id of ids) {
      const path = join(dir, segmentName(id))
      const s = scanSegmentFile(fs, path, id, visit)
      if (s.headerProblem !== undefined) {
        // Headers are fsynced when a segment is created, so only a creation torn by a crash (an
        // empty or zero-filled header) is harmless: such a file never held a record. Any other bad
        // header is damage.
        const torn =
          s.bytes.length < SEGMENT_HEADER_SIZE ||
          s.bytes.subarray(0, SEGMENT_HEADER_SIZE).every((b) => b === 0)
        if (!torn || options.recovery === 'absolute-consistency') {
          throw corruption(path, 0, s.headerProblem)
        }
        if (!readOnly) {
          fs.unlink(path)
          report.removedFiles.push(segmentName(id))
        }
        continue
      }
      if (s.status < 0) {
        if (options.recovery === 'absolute-consistency') {
          throw corruption(path, s.validEnd, 'damaged record in a data segment (full scan)')
        }
        report.truncated.push({
          file: path,
          offset: s.validEnd,
          bytesDropped: s.bytes.length - s.validEnd,
          reason: 'invalid record (full scan)',
        })
      }
      const segment = DataSegment.open(fs, dir, id, slot, s.validEnd, readOnly)
      if (s.status < 0 && !readOnly) segment.truncateFile()
      if (segments.cache.hasRoom(s.validEnd)) segment.adoptImage(s.bytes.subarray(0, s.validEnd))
      segments.adopt(segment)
      slot++
    }
  } catch (err) {
    segments.closeAll()
    throw err
  }
  // Winners: live keys in order, with their locations; live bytes per segment.
  const keys = new Float64Array(scan.count)
  let n = 0
  for (const [key, e] of scan.entry) if (scan.locations[e]! >= 0) keys[n++] = key
  const sorted = keys.subarray(0, n).sort()
  const locations = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const e = scan.entry.get(sorted[i]!)!
    locations[i] = scan.locations[e]!
    segments.addLive(locations[i]!, scan.sizes[e]!)
  }
  segments.collectFreeSlots()
  return { segments, index: AlexIndex.from(sorted, locations), scan, maxLsn }
}

function growScan(scan: ScanIndex): void {
  const grow = (a: Float64Array) => {
    const b = new Float64Array(a.length * 2)
    b.set(a)
    return b
  }
  scan.lsns = grow(scan.lsns)
  scan.locations = grow(scan.locations)
  scan.sizes = grow(scan.sizes)
}

/** Error for a read-only open of a directory that holds no store. */
export function noStore(dir: string): AlexStorageError {
  return new AlexStorageError(ErrorCode.INVALID_ARGUMENT, `no store at ${dir} (read-only open)`)
}
