import type { FileSystem } from '@alex/wal/io'
import { readLsn, readValueLength, validateRecord } from './data-record.js'
import { RECORD_HEADER_SIZE, SEGMENT_FLAG_INGEST, SEGMENT_HEADER_SIZE } from './format.js'
import { checkSegmentHeader, segmentFlags } from './segment-header.js'

/**
 * True if the segment file at `path` was written by a bulk ingest that never committed: its
 * header (valid) carries `SEGMENT_FLAG_INGEST` and its first record (valid) has an LSN above the
 * log's checkpoint `checkpointLsn`. An ingest's records have consecutive LSNs in one range that
 * the log's checkpoint passes whole, and only after the snapshot naming them is durable
 * (docs/architecture.md, "Bulk ingest"); so a full scan, which runs without that snapshot,
 * keeps exactly the committed ingests. A segment whose header or first record does not check is
 * left to the scan's own rules (false). Reads the header and the first record only.
 */
export function isUncommittedIngest(
  fs: FileSystem,
  path: string,
  id: number,
  checkpointLsn: number,
): boolean {
  const handle = fs.open(path, 'r')
  try {
    const start = SEGMENT_HEADER_SIZE + RECORD_HEADER_SIZE
    const head = new Uint8Array(start)
    if (handle.read(head, 0, start, 0) < start) return false
    if (checkSegmentHeader(head, start, id) !== undefined) return false
    if ((segmentFlags(head) & SEGMENT_FLAG_INGEST) === 0) return false
    const size = start + readValueLength(head, SEGMENT_HEADER_SIZE)
    if (size > handle.size()) return false
    const bytes = new Uint8Array(size)
    if (handle.read(bytes, 0, size, 0) < size) return false
    const view = new DataView(bytes.buffer)
    if (validateRecord(bytes, view, SEGMENT_HEADER_SIZE, size) < 0) return false
    return readLsn(view, SEGMENT_HEADER_SIZE) > checkpointLsn
  } finally {
    handle.close()
  }
}
