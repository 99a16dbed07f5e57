import type { FileHandle, FileSystem } from '@alex/wal/io'
import { crc32 } from '@alex/wal/io'
import { DataSegment } from './data-segment.js'
import {
  MAX_SEGMENT_BYTES,
  RECORD_CRC,
  RECORD_HEADER_SIZE,
  RECORD_KEY,
  RECORD_LENGTH,
  RECORD_LSN,
  RECORD_TYPE,
  SEGMENT_FLAG_INGEST,
  SEGMENT_HEADER_SIZE,
  TYPE_PUT,
} from './format.js'
import type { IngestInput } from './ingest-input.js'
import { packLocation } from './location.js'
import { writeSegmentHeader } from './segment-header.js'
import type { SegmentSet } from './segment-set.js'

/**
 * The bulk ingest's data path: encodes the entries as put records (docs/storage-format.md,
 * section 3.2), entry `i` with LSN `firstLsn + i`, in key order, into one reusable scratch buffer
 * and writes it to the new segment files in 1 MiB pieces; each segment's fsync starts as soon as
 * it is written and runs in the thread pool while the next one is encoded. One CRC per record, no
 * allocation per entry. The scratch is reused across ingests: fresh memory is expensive to touch
 * (on the shared VM this is measured on, about 56 us per 4 KiB page the first time), so the new
 * segments are not kept in memory: they are read from their files, and loaded whole by the value
 * cache when reads call for them, like any segment after an open.
 */

/** What `writeIngestSegments` produced. */
export interface IngestSegments {
  /** The new segments, in id order, sealed, registered in the segment set. */
  segments: DataSegment[]
  /** Entry `i`'s record location. */
  locations: Float64Array
  /** Resolves once every new segment's bytes are durable (the directory is not fsynced). */
  synced: Promise<unknown>
}

/** Size of the scratch buffer records are encoded into, then written from. */
const SCRATCH_BYTES = 1024 * 1024
let scratch: Uint8Array | undefined

/**
 * Encodes and writes `input` (see the module comment). `segmentBytes` is the size a segment
 * fills up to (a record that does not fit alone gets a segment of its own size).
 */
export function writeIngestSegments(
  fs: FileSystem,
  dir: string,
  set: SegmentSet,
  input: IngestInput,
  firstLsn: number,
  segmentBytes: number,
): IngestSegments {
  const { values, count } = input
  const locations = new Float64Array(count)
  const segments: DataSegment[] = []
  const syncs: Promise<boolean>[] = []
  const capacity = Math.min(Math.max(segmentBytes, SEGMENT_HEADER_SIZE), MAX_SEGMENT_BYTES)
  let i = 0
  while (i < count) {
    // The records of this segment: as many as fit (at least one).
    let end = i
    let length = SEGMENT_HEADER_SIZE
    while (end < count) {
      const size = RECORD_HEADER_SIZE + values[end]!.length
      if (end > i && length + size > capacity) break
      length += size
      end++
    }
    const slot = set.allocateSlot()
    const id = set.nextId++
    const from = i
    const segment = DataSegment.writeSealed(fs, dir, id, slot, length, (handle) => {
      writeRecords(handle, id, input, from, end, firstLsn + from, slot, locations)
    })
    segment.liveBytes = length - SEGMENT_HEADER_SIZE
    set.adopt(segment)
    segments.push(segment)
    syncs.push(segment.sync())
    i = end
  }
  return { segments, locations, synced: Promise.all(syncs) }
}

/**
 * Writes segment `id`'s header and entries `[from, to)` as put records (LSNs from `lsn`) through
 * `handle`, and stores each record's location (in `slot`) in `locations`.
 */
function writeRecords(
  handle: FileHandle,
  id: number,
  input: IngestInput,
  from: number,
  to: number,
  lsn: number,
  slot: number,
  locations: Float64Array,
): void {
  const { keys, values } = input
  let buf = (scratch ??= new Uint8Array(SCRATCH_BYTES))
  let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  writeSegmentHeader(buf, id, SEGMENT_FLAG_INGEST)
  let at = SEGMENT_HEADER_SIZE // in the buffer
  let fileAt = 0 // file offset of the buffer's first byte
  for (let i = from; i < to; i++, lsn++) {
    const value = values[i]!
    const n = value.length
    const size = RECORD_HEADER_SIZE + n
    if (at + size > buf.byteLength) {
      handle.write(buf, 0, at, fileAt)
      fileAt += at
      at = 0
      if (size > buf.byteLength) {
        buf = new Uint8Array(size) // a record larger than the scratch: a buffer of its own
        view = new DataView(buf.buffer)
      }
    }
    view.setUint32(at + RECORD_LENGTH, n, true)
    buf[at + RECORD_TYPE] = TYPE_PUT
    // The LSN as a u64: below 2^53, so two u32 halves.
    view.setUint32(at + RECORD_LSN, lsn >>> 0, true)
    view.setUint32(at + RECORD_LSN + 4, Math.floor(lsn / 4294967296), true)
    view.setFloat64(at + RECORD_KEY, keys[i]!, true)
    buf.set(value, at + RECORD_HEADER_SIZE)
    const end = at + size
    view.setUint32(at + RECORD_CRC, crc32(buf, at + RECORD_LENGTH, end), true)
    locations[i] = packLocation(slot, fileAt + at, n)
    at = end
  }
  handle.write(buf, 0, at, fileAt)
}
