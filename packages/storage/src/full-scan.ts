import { join } from 'node:path'
import type { FileSystem } from '@alex/wal/io'
import { describeRecordStatus, readKey, readLsn, readType } from './data-record.js'
import { corruption } from './errors.js'
import { segmentName } from './file-names.js'
import { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, TYPE_PUT } from './format.js'
import { packLocation, slotOf } from './location.js'
import type { PlannedSegment } from './recovery-plan.js'
import type { StorageRecoveryReport } from './recovery-report.js'
import { type SegmentScan, scanSegmentFile } from './segment-scanner.js'

/**
 * The full scan (docs/storage-format.md, section 8, step 5): rebuilds the index from the data
 * segments alone when no snapshot is usable. For each key the record with the highest LSN wins; a
 * winning tombstone means the key is absent. It only reads: what to delete or truncate is part of
 * the plan it returns, applied later by a writer.
 *
 * Damage rule (the default mode must tell a torn, never-synced tail from lost acknowledged data):
 * the records after a damaged one in a segment are all gone. The checkpoint that let the log
 * forget everything up to LSN C had fsynced every record with an LSN up to C first, so damage to
 * such a record is real loss. New operations are appended to one active segment at a time, in
 * LSN order, and segments are created in id order, so a damaged record has a higher LSN than
 * every record scanned before it (segments in id order, then this one up to the damage). If that
 * running maximum is at least C, the damaged record and everything after it are operations above
 * C, which the log still holds and replay restores: a torn, never-synced tail. Hence
 * `'tolerate-torn-tail'` accepts damage only when the running maximum LSN is >= C (always when
 * C = 0); `'absolute-consistency'` refuses any damage; `'point-in-time'` accepts all of it and
 * reports it. (A compaction output holds copies of older records, not in LSN order; damage in one
 * can only be told apart when its snapshot is intact, i.e. not on this path.)
 */

/** Per-key newest record found by a full scan (tombstones included). */
export interface ScanIndex {
  entry: Map<number, number>
  lsns: Float64Array
  /** Location of the record, -1 for a tombstone. */
  locations: Float64Array
  sizes: Float64Array
  count: number
}

/** What a full scan found: the winners, the segments to open, and the highest LSN seen. */
export interface FullScan {
  /** Live keys in increasing order, and their locations. */
  keys: Float64Array
  locations: Float64Array
  /** Record sizes of the winners (live bytes per segment). */
  sizes: Float64Array
  /** Every key's newest record, so replay skips log operations the data already holds. */
  index: ScanIndex
  /** Segments to open, in slot order; `length` is the valid prefix (truncate the rest). */
  segments: PlannedSegment[]
  /** Segment files to delete (a creation torn by a crash: no record was ever in them). */
  torn: number[]
  maxLsn: number
}

/** Scan parameters: the recovery mode, the log's checkpoint LSN, the image memory budget. */
export interface ScanOptions {
  recovery: 'tolerate-torn-tail' | 'absolute-consistency' | 'point-in-time'
  logCheckpointLsn: number
  cacheBytes: number
  /** Filled with the key of every record above `logCheckpointLsn`, by LSN. */
  keyByLsn: Map<number, number>
}

/** Scans segments `ids` of `dir` (see the module comment). Throws `ERR_CORRUPTION` per the rule. */
export function fullScan(
  fs: FileSystem,
  dir: string,
  ids: readonly number[],
  options: ScanOptions,
  report: StorageRecoveryReport,
): FullScan {
  const index: ScanIndex = {
    entry: new Map(),
    lsns: new Float64Array(1024),
    locations: new Float64Array(1024),
    sizes: new Float64Array(1024),
    count: 0,
  }
  const segments: PlannedSegment[] = []
  const torn: number[] = []
  let maxLsn = 0 // highest LSN scanned so far, in id order
  let slot = 0
  let imageBytes = 0
  const visit = (s: SegmentScan, offset: number, size: number) => {
    const key = readKey(s.view, offset)
    const lsn = readLsn(s.view, offset)
    if (lsn > maxLsn) maxLsn = lsn
    if (lsn > options.logCheckpointLsn) options.keyByLsn.set(lsn, key)
    const location =
      readType(s.bytes, offset) === TYPE_PUT
        ? packLocation(slot, offset, size - RECORD_HEADER_SIZE)
        : -1
    let e = index.entry.get(key)
    if (e === undefined) {
      if (index.count === index.lsns.length) growScan(index)
      e = index.count++
      index.entry.set(key, e)
    } else if (index.lsns[e]! >= lsn) {
      return
    }
    index.lsns[e] = lsn
    index.locations[e] = location
    index.sizes[e] = size
  }
  for (const id of ids) {
    const path = join(dir, segmentName(id))
    const s = scanSegmentFile(fs, path, id, visit)
    if (s.headerProblem !== undefined) {
      checkHeader(s, path, options)
      torn.push(id)
      report.removedFiles.push(segmentName(id))
      continue
    }
    if (s.status < 0) checkDamage(s, path, maxLsn, options, report)
    const keep = imageBytes + s.validEnd <= options.cacheBytes
    if (keep) imageBytes += s.validEnd
    segments.push({
      id,
      slot,
      length: s.validEnd,
      fileSize: s.bytes.length,
      liveBytes: 0,
      image: keep ? s.bytes.subarray(0, s.validEnd) : undefined,
    })
    slot++
  }
  return { ...winners(index, segments), index, segments, torn, maxLsn }
}

/**
 * A bad header: segment headers are fsynced when a segment is created, so only a creation torn
 * by a crash (an empty or zero-filled header) is harmless: such a file never held a record. Any
 * other bad header is damage.
 */
function checkHeader(s: SegmentScan, path: string, options: ScanOptions): void {
  const torn =
    s.bytes.length < SEGMENT_HEADER_SIZE ||
    s.bytes.subarray(0, SEGMENT_HEADER_SIZE).every((b) => b === 0)
  if (!torn || options.recovery === 'absolute-consistency') {
    throw corruption(path, 0, s.headerProblem!)
  }
}

/** Applies the damage rule of the module comment to a segment with a damaged record. */
function checkDamage(
  s: SegmentScan,
  path: string,
  maxLsnBefore: number,
  options: ScanOptions,
  report: StorageRecoveryReport,
): void {
  const what = describeRecordStatus(s.status)
  if (options.recovery === 'absolute-consistency') {
    throw corruption(path, s.validEnd, `damaged record in a data segment (full scan): ${what}`)
  }
  const c = options.logCheckpointLsn
  if (options.recovery === 'tolerate-torn-tail' && maxLsnBefore < c) {
    throw corruption(
      path,
      s.validEnd,
      `damaged record in a data segment (full scan): ${what}; the records after it may be ` +
        `acknowledged writes the log no longer holds (log checkpoint LSN ${c})`,
    )
  }
  report.truncated.push({
    file: path,
    offset: s.validEnd,
    bytesDropped: s.bytes.length - s.validEnd,
    reason:
      options.recovery === 'point-in-time'
        ? `invalid record (full scan, point-in-time): ${what}`
        : `invalid record (full scan): ${what}; what follows is replayed from the log`,
  })
}

/** The live keys in order with their locations, and each segment's live bytes. */
function winners(
  index: ScanIndex,
  segments: PlannedSegment[],
): { keys: Float64Array; locations: Float64Array; sizes: Float64Array } {
  const all = new Float64Array(index.count)
  let n = 0
  for (const [key, e] of index.entry) if (index.locations[e]! >= 0) all[n++] = key
  const keys = all.subarray(0, n).sort()
  const locations = new Float64Array(n)
  const sizes = new Float64Array(n)
  const bySlot = new Map(segments.map((s) => [s.slot, s]))
  for (let i = 0; i < n; i++) {
    const e = index.entry.get(keys[i]!)!
    locations[i] = index.locations[e]!
    sizes[i] = index.sizes[e]!
    bySlot.get(slotOf(locations[i]!))!.liveBytes += sizes[i]!
  }
  return { keys, locations, sizes }
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
