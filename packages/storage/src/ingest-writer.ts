import type { FileHandle, FileSystem } from '@alex/wal/io'
import { crc32View } from '@alex/wal/io'
import { DataSegment } from './data-segment.js'
import { AlexStorageError, ErrorCode } from './errors.js'
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

/** What `writeIngestSegments` produces, filled as it goes (so a failure can be undone). */
export interface IngestSegments {
  /** The new segments, in id order, sealed, registered in the segment set. */
  segments: DataSegment[]
  /** Their fsyncs, started as each segment was written. */
  syncs: Promise<boolean>[]
  /** Entry `i`'s record location. */
  locations: Float64Array
}

/** Size of the scratch buffer records are encoded into, then written from. */
const SCRATCH_BYTES = 1024 * 1024
let scratch: Uint8Array | undefined

/**
 * Encodes and writes `input` into `out` (see the module comment). `segmentBytes` is the size a
 * segment fills up to (a record that does not fit alone gets a segment of its own size). The
 * caller's own arrays (`input.borrowed`) are checked again entry by entry, in the same
 * synchronous step that encodes them: a key out of order or a value that is no longer a
 * `Uint8Array` within `maxValueBytes` throws `ERR_INVALID_ARGUMENT` (the caller then removes what
 * was written).
 */
export function writeIngestSegments(
  fs: FileSystem,
  dir: string,
  set: SegmentSet,
  input: IngestInput,
  firstLsn: number,
  segmentBytes: number,
  maxValueBytes: number,
  out: IngestSegments,
): void {
  const { keys, values, count } = input
  const check = input.borrowed === true
  const capacity = Math.min(Math.max(segmentBytes, SEGMENT_HEADER_SIZE), MAX_SEGMENT_BYTES)
  let i = 0
  while (i < count) {
    // The records of this segment: as many as fit (at least one).
    let end = i
    let length = SEGMENT_HEADER_SIZE
    while (end < count) {
      const value = values[end]
      if (check) checkEntry(keys, value, end, maxValueBytes)
      const size = RECORD_HEADER_SIZE + value!.length
      if (end > i && length + size > capacity) break
      length += size
      end++
    }
    const slot = set.allocateSlot()
    const id = set.nextId++
    const from = i
    const segment = DataSegment.writeSealed(fs, dir, id, slot, length, (handle) => {
      writeRecords(handle, id, input, from, end, firstLsn + from, slot, out.locations)
    })
    segment.liveBytes = length - SEGMENT_HEADER_SIZE
    set.adopt(segment)
    out.segments.push(segment)
    out.syncs.push(segment.sync())
    i = end
  }
}

/** The check of a borrowed entry (see `writeIngestSegments`). */
function checkEntry(keys: Float64Array, value: unknown, i: number, maxValueBytes: number): void {
  const key = keys[i]!
  if (
    key - key === 0 &&
    (i === 0 || key > keys[i - 1]!) &&
    value instanceof Uint8Array &&
    value.length <= maxValueBytes
  ) {
    return
  }
  throw new AlexStorageError(
    ErrorCode.INVALID_ARGUMENT,
    `ingest entry ${i} changed while the ingest ran (its key or value is no longer valid): ` +
      'keep the keys and values arrays unchanged until ingest() settles',
  )
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
    view.setUint32(at + RECORD_CRC, crc32View(view, at + RECORD_LENGTH, end), true)
    locations[i] = packLocation(slot, fileAt + at, n)
    at = end
  }
  handle.write(buf, 0, at, fileAt)
}
