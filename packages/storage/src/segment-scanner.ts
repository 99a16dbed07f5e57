import type { FileSystem } from '@alex/wal/io'
import { readWholeFile } from '@alex/wal/io'
import { readKey, readLsn, validateRecord } from './data-record.js'
import { allocateImage } from './data-segment.js'
import { SEGMENT_HEADER_SIZE } from './format.js'
import { checkSegmentHeader } from './segment-header.js'

/**
 * Reading a data segment file from start to end, validating every record: the full scan that
 * rebuilds the index when no snapshot is usable, and the check used by tests and tools.
 */

/** What a scan of one segment found. */
export interface SegmentScan {
  /** The file's bytes (all of them, including any damaged tail). */
  bytes: Uint8Array
  /** A DataView over `bytes`. */
  view: DataView
  /** A problem with the header, or `undefined` if it is good (then records were scanned). */
  headerProblem: string | undefined
  /** Offset just past the last valid record: the trusted length. */
  validEnd: number
  /** 0 if every byte was a valid record, else the `BAD_*` status of the record at `validEnd`. */
  status: number
  /** Number of valid records. */
  records: number
}

/**
 * Reads the file at `path` whole and validates it. `visit(offset, size)` is called for each valid
 * record in file order; the scan stops at the first invalid one (everything after it is
 * untrusted: a record boundary cannot be found again reliably).
 */
export function scanSegmentFile(
  fs: FileSystem,
  path: string,
  id: number,
  visit: (scan: SegmentScan, offset: number, size: number) => void,
): SegmentScan {
  // The bytes may become the segment's resident image: a SharedArrayBuffer, like every image.
  const bytes = readWholeFile(fs, path, undefined, allocateImage)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const scan: SegmentScan = {
    bytes,
    view,
    headerProblem: checkSegmentHeader(bytes, bytes.length, id),
    validEnd: 0,
    status: 0,
    records: 0,
  }
  if (scan.headerProblem !== undefined) return scan
  let offset = SEGMENT_HEADER_SIZE
  const end = bytes.length
  while (offset < end) {
    const size = validateRecord(bytes, view, offset, end)
    if (size < 0) {
      scan.status = size
      break
    }
    visit(scan, offset, size)
    scan.records++
    offset += size
  }
  scan.validEnd = offset
  return scan
}

/** What `inspectSegmentTail` found. */
export interface SegmentTail {
  /** A problem with the header, or `undefined` if it is good. */
  headerProblem: string | undefined
  /** Size of the file. */
  size: number
  /** Highest LSN among the valid records from `from` on (they end at the first invalid one). */
  maxLsn: number
}

/**
 * Checks the header of segment file `path` against `id` and reads the records from `from` (a
 * record boundary, e.g. the length a snapshot trusts) to the end of the file, without reading the
 * trusted part in between. Recovery uses the highest LSN found there as evidence of what the log
 * must still hold, and (into `keyByLsn`) each record's key by LSN, which the log must agree with.
 */
export function inspectSegmentTail(
  fs: FileSystem,
  path: string,
  id: number,
  from: number,
  keyByLsn?: Map<number, number>,
): SegmentTail {
  const handle = fs.open(path, 'r')
  try {
    const size = handle.size()
    const header = new Uint8Array(SEGMENT_HEADER_SIZE)
    const got = handle.read(header, 0, SEGMENT_HEADER_SIZE, 0)
    const tail: SegmentTail = {
      headerProblem: checkSegmentHeader(header, got, id),
      size,
      maxLsn: 0,
    }
    if (tail.headerProblem !== undefined || size <= from) return tail
    const bytes = new Uint8Array(size - from)
    const n = handle.read(bytes, 0, bytes.length, from)
    const view = new DataView(bytes.buffer)
    let offset = 0
    while (offset < n) {
      const recordSize = validateRecord(bytes, view, offset, n)
      if (recordSize < 0) break
      const lsn = readLsn(view, offset)
      if (lsn > tail.maxLsn) tail.maxLsn = lsn
      keyByLsn?.set(lsn, readKey(view, offset))
      offset += recordSize
    }
    return tail
  } finally {
    handle.close()
  }
}
