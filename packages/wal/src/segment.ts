import { crc32 } from './checksum.js'
import {
  FORMAT_VERSION,
  HDR_BASE_LSN,
  HDR_CHECKPOINT_LSN,
  HDR_CRC,
  HDR_LENGTH,
  HDR_PREV_END_LSN,
  HDR_RESERVED_1,
  HDR_RESERVED_2,
  HDR_SEGMENT_ID,
  HDR_VERSION,
  OLDEST_READABLE_VERSION,
  SEGMENT_HEADER_BYTES,
  SEGMENT_ID_DIGITS,
  SEGMENT_MAGIC,
  SEGMENT_SUFFIX,
} from './format.js'
import { getU64, setU64 } from './u64.js'

/**
 * A segment is one file of the log: a header, then record frames. Segments are numbered from 1
 * without gaps; the header ties each to its place in the LSN sequence so that a lost segment, or
 * one from another log, is detected.
 */
export interface SegmentHeader {
  /** Segment number, equal to the number in the file name. */
  segmentId: number
  /**
   * The LSN that followed the last operation of the previous segment when this one was created
   * (the LSN of the first operation ever, 1, for segment 1). Recovery checks that the previous
   * segment ends exactly there.
   */
  prevEndLsn: number
  /**
   * LSN of the first operation in this segment, if it has any; later operations follow without
   * gaps. `>= prevEndLsn` (greater only when the owner raised the next LSN at open).
   */
  baseLsn: number
  /** Newest durable checkpoint LSN when the segment was created (0: none). */
  checkpointLsn: number
  /**
   * Format version of the segment: `FORMAT_VERSION` for every segment this code creates, 1 for
   * one written before durable watermarks existed (read with the version-1 rules).
   */
  version: number
}

const NAME_PATTERN = new RegExp(`^(\\d{${SEGMENT_ID_DIGITS}})\\${SEGMENT_SUFFIX}$`)

/** File name of segment `id`: 20 decimal digits + `.wal`, so names sort in id order. */
export function segmentFileName(id: number): string {
  return `${String(id).padStart(SEGMENT_ID_DIGITS, '0')}${SEGMENT_SUFFIX}`
}

/** The segment id a file name denotes, or -1 if it is not a segment name. */
export function parseSegmentFileName(name: string): number {
  const m = NAME_PATTERN.exec(name)
  if (!m) return -1
  const id = Number(m[1])
  return Number.isSafeInteger(id) && id > 0 ? id : -1
}

/**
 * Encodes a segment header (56 bytes), of `FORMAT_VERSION` unless `h.version` says otherwise
 * (tests write version-1 segments that way).
 */
export function encodeSegmentHeader(
  h: Omit<SegmentHeader, 'version'> & { version?: number },
): Uint8Array {
  const buf = new Uint8Array(SEGMENT_HEADER_BYTES)
  const view = new DataView(buf.buffer)
  buf.set(SEGMENT_MAGIC, 0)
  view.setUint16(HDR_VERSION, h.version ?? FORMAT_VERSION, true)
  view.setUint16(HDR_LENGTH, SEGMENT_HEADER_BYTES, true)
  view.setUint32(HDR_RESERVED_1, 0, true)
  setU64(view, HDR_SEGMENT_ID, h.segmentId)
  setU64(view, HDR_PREV_END_LSN, h.prevEndLsn)
  setU64(view, HDR_BASE_LSN, h.baseLsn)
  setU64(view, HDR_CHECKPOINT_LSN, h.checkpointLsn)
  view.setUint32(HDR_RESERVED_2, 0, true)
  view.setUint32(HDR_CRC, crc32(buf, 0, HDR_CRC), true)
  return buf
}

/** Why a header was rejected: `'version'` is a newer format, everything else is damage. */
export type HeaderProblem = 'short' | 'magic' | 'version' | 'checksum' | 'fields'

/** A decoded header, or the problem with it. */
export type HeaderResult =
  | { ok: true; header: SegmentHeader }
  | { ok: false; problem: HeaderProblem; detail: string; version?: number }

/** Decodes and validates the header at the start of `buf` for a file named with `expectedId`. */
export function decodeSegmentHeader(buf: Uint8Array, expectedId: number): HeaderResult {
  if (buf.length < SEGMENT_HEADER_BYTES) {
    return { ok: false, problem: 'short', detail: `file has ${buf.length} bytes, header needs 56` }
  }
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) {
    if (buf[i] !== SEGMENT_MAGIC[i]) {
      return { ok: false, problem: 'magic', detail: 'bad segment magic' }
    }
  }
  const view = new DataView(buf.buffer, buf.byteOffset, SEGMENT_HEADER_BYTES)
  const version = view.getUint16(HDR_VERSION, true)
  if (version > FORMAT_VERSION) {
    // A newer writer may have changed everything after the version field: judge nothing else.
    return { ok: false, problem: 'version', detail: `format version ${version}`, version }
  }
  if (view.getUint32(HDR_CRC, true) !== crc32(buf, 0, HDR_CRC)) {
    return { ok: false, problem: 'checksum', detail: 'segment header checksum mismatch' }
  }
  const header: SegmentHeader = {
    segmentId: getU64(view, HDR_SEGMENT_ID),
    prevEndLsn: getU64(view, HDR_PREV_END_LSN),
    baseLsn: getU64(view, HDR_BASE_LSN),
    checkpointLsn: getU64(view, HDR_CHECKPOINT_LSN),
    version,
  }
  if (
    version < OLDEST_READABLE_VERSION ||
    view.getUint16(HDR_LENGTH, true) !== SEGMENT_HEADER_BYTES ||
    view.getUint32(HDR_RESERVED_1, true) !== 0 ||
    view.getUint32(HDR_RESERVED_2, true) !== 0 ||
    header.segmentId !== expectedId ||
    header.prevEndLsn < 1 ||
    header.baseLsn < header.prevEndLsn ||
    header.checkpointLsn < 0 ||
    header.checkpointLsn >= header.baseLsn
  ) {
    return { ok: false, problem: 'fields', detail: 'segment header fields are inconsistent' }
  }
  return { ok: true, header }
}
