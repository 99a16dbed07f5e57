import { crc32 } from './checksum.js'
import {
  BATCH_DELETE_BYTES,
  BATCH_FIXED_BYTES,
  BATCH_PUT_FIXED_BYTES,
  CHECKPOINT_PAYLOAD_BYTES,
  DELETE_PAYLOAD_BYTES,
  DURABLE_PAYLOAD_BYTES,
  FORMAT_VERSION,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH,
  FRAME_TYPE,
  MAX_PAYLOAD_BYTES,
  PUT_FIXED_BYTES,
  RECORD_BATCH,
  RECORD_CHECKPOINT,
  RECORD_DELETE,
  RECORD_DURABLE,
  RECORD_PUT,
} from './format.js'
import type { DamageReason } from './types.js'
import { getU64 } from './u64.js'

/**
 * Scanning the frames of one segment (already read into memory, so a length field can never
 * make the reader allocate: it is checked against the bytes present) and classifying damage.
 *
 * Damage is "soft" when a torn write can produce it (the frame is incomplete, zeroed, or its
 * bytes do not match the checksum) and "hard" when it cannot (the checksum is valid but the
 * contents are wrong: a bug, or corruption the checksum missed). What recovery does with it
 * depends on the mode, on the segment's format version, and on the durable watermarks
 * (version 2) or on whether valid frames follow (version 1); see recovery.ts.
 */

/** The first damage found in a segment. */
export interface FrameDamage {
  /** Offset of the damaged frame (or of the damaged tail). */
  offset: number
  reason: DamageReason
  /** True when a torn write cannot explain it (valid checksum, wrong contents). */
  hard: boolean
}

/** The result of scanning a segment's frames. */
export interface SegmentScan {
  /** Offset just past the last intact frame (where zero padding, if any, starts). */
  validEnd: number
  /** LSN following the last intact operation (`baseLsn` if there is none). */
  endLsn: number
  /** Largest checkpoint LSN in an intact checkpoint frame (0 if none). */
  checkpointLsn: number
  /** Largest durable LSN in an intact durable-watermark frame before the damage (0 if none). */
  durableLsn: number
  /** Largest durable end offset in those frames (0 if none). */
  durableEnd: number
  /** Intact frames. */
  frames: number
  /** The first damage, if any; nothing after it was examined. */
  damage: FrameDamage | undefined
}

/** Minimum payload length per record type (index = type). */
const MIN_PAYLOAD = [
  0,
  PUT_FIXED_BYTES,
  DELETE_PAYLOAD_BYTES,
  BATCH_FIXED_BYTES + 9,
  CHECKPOINT_PAYLOAD_BYTES,
  DURABLE_PAYLOAD_BYTES,
]

/** The largest record type a segment of format `version` may hold. */
export function maxRecordType(version: number): number {
  return version >= 2 ? RECORD_DURABLE : RECORD_CHECKPOINT
}

function allZero(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false
  return true
}

/**
 * Structural check of the frame at `pos` (header, length, checksum): `undefined` if intact,
 * `'padding'` if every byte from `pos` to `end` is zero (the end of the segment's frames), else
 * the (soft) reason of the damage. Types above `maxType` are `bad-record-type`. Never reads
 * outside `buf[pos, end)`.
 */
export function checkFrame(
  buf: Uint8Array,
  view: DataView,
  pos: number,
  end: number,
  maxType: number,
): DamageReason | 'padding' | undefined {
  const remaining = end - pos
  if (remaining < FRAME_HEADER_BYTES) {
    return allZero(buf, pos, end) ? 'padding' : 'truncated-header'
  }
  const type = buf[pos + FRAME_TYPE] as number
  if (type === 0 && allZero(buf, pos, end)) return 'padding'
  if (type < RECORD_PUT || type > maxType) return 'bad-record-type'
  const len = view.getUint32(pos + FRAME_LENGTH, true)
  if (
    len > MAX_PAYLOAD_BYTES ||
    len < (MIN_PAYLOAD[type] as number) ||
    (type !== RECORD_PUT && type !== RECORD_BATCH && len !== 16)
  ) {
    return 'bad-length'
  }
  if (len > remaining - FRAME_HEADER_BYTES) return 'truncated-payload'
  if (view.getUint32(pos, true) !== crc32(buf, pos + 4, pos + FRAME_HEADER_BYTES + len)) {
    return 'checksum-mismatch'
  }
  return undefined
}

/**
 * Checks the contents of an intact frame at `pos` whose operations must start at `expectedLsn`.
 * Returns the number of operations it holds (0 for a checkpoint or a durable watermark), or a
 * negative code: -1 bad payload, -2 LSN out of order. `out[0]` receives a checkpoint's LSN,
 * `out[1]` and `out[2]` a watermark's durable LSN and durable end (each -1 otherwise).
 */
export function checkPayload(
  buf: Uint8Array,
  view: DataView,
  pos: number,
  expectedLsn: number,
  out: Float64Array,
): number {
  out[0] = out[1] = out[2] = -1
  const type = buf[pos + FRAME_TYPE] as number
  const len = view.getUint32(pos + FRAME_LENGTH, true)
  const p = pos + FRAME_HEADER_BYTES
  const lsn = getU64(view, p)
  if (type === RECORD_CHECKPOINT) {
    const next = getU64(view, p + 8)
    if (lsn < 0 || next < 0) return -1
    if (next !== expectedLsn) return -2
    if (lsn >= next) return -1
    out[0] = lsn
    return 0
  }
  if (type === RECORD_DURABLE) {
    // Written before the operations it precedes, about bytes before itself.
    const durableEnd = getU64(view, p + 8)
    if (lsn < 0 || lsn >= expectedLsn || durableEnd < 0 || durableEnd > pos) return -1
    out[1] = lsn
    out[2] = durableEnd
    return 0
  }
  if (lsn !== expectedLsn) return lsn < 0 ? -1 : -2
  if (type === RECORD_PUT || type === RECORD_DELETE) {
    return Number.isFinite(view.getFloat64(p + 8, true)) ? 1 : -1
  }
  // Batch: every operation well formed, and together exactly filling the payload.
  const count = view.getUint32(p + 8, true)
  const end = p + len
  let q = p + BATCH_FIXED_BYTES
  if (count === 0) return -1
  for (let i = 0; i < count; i++) {
    if (q + BATCH_DELETE_BYTES > end) return -1
    const opType = buf[q] as number
    if (!Number.isFinite(view.getFloat64(q + 1, true))) return -1
    if (opType === RECORD_DELETE) {
      q += BATCH_DELETE_BYTES
    } else if (opType === RECORD_PUT) {
      if (q + BATCH_PUT_FIXED_BYTES > end) return -1
      const vlen = view.getUint32(q + 9, true)
      if (vlen > end - q - BATCH_PUT_FIXED_BYTES) return -1
      q += BATCH_PUT_FIXED_BYTES + vlen
    } else {
      return -1
    }
  }
  if (q !== end) return -1
  if (lsn + count - 1 > Number.MAX_SAFE_INTEGER) return -1
  return count
}

/**
 * Scans the frames of `buf[start, buf.length)` of a segment of format `version`; the first
 * operation must have `baseLsn`.
 */
export function scanFrames(
  buf: Uint8Array,
  start: number,
  baseLsn: number,
  version = FORMAT_VERSION,
): SegmentScan {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const end = buf.length
  const maxType = maxRecordType(version)
  const out = new Float64Array(3)
  let pos = start
  let expected = baseLsn
  let checkpointLsn = 0
  let durableLsn = 0
  let durableEnd = 0
  let frames = 0
  let damage: FrameDamage | undefined
  while (pos < end) {
    const soft = checkFrame(buf, view, pos, end, maxType)
    if (soft === 'padding') break
    if (soft !== undefined) {
      damage = { offset: pos, reason: soft, hard: false }
      break
    }
    const n = checkPayload(buf, view, pos, expected, out)
    if (n < 0) {
      damage = { offset: pos, reason: n === -2 ? 'lsn-out-of-order' : 'bad-payload', hard: true }
      break
    }
    if ((out[0] as number) > checkpointLsn) checkpointLsn = out[0] as number
    if ((out[1] as number) > durableLsn) durableLsn = out[1] as number
    if ((out[2] as number) > durableEnd) durableEnd = out[2] as number
    expected += n
    frames++
    pos += FRAME_HEADER_BYTES + view.getUint32(pos + FRAME_LENGTH, true)
  }
  return {
    validEnd: pos,
    endLsn: expected,
    checkpointLsn,
    durableLsn,
    durableEnd,
    frames,
    damage,
  }
}

/**
 * True if an intact frame starts anywhere in `buf(from, end)` whose LSN is at least `minLsn`:
 * evidence that damage at `from` is not a torn tail but corruption followed by good data. The
 * version-1 rule (a version-1 segment has record types 1 to 4 only). Cheap filters (type byte,
 * length, LSN) run before the checksum, so scanning garbage is linear in practice.
 */
export function hasValidFrameAfter(buf: Uint8Array, from: number, minLsn: number): boolean {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const end = buf.length
  for (let p = from + 1; p + FRAME_HEADER_BYTES + 16 <= end; p++) {
    const type = buf[p + FRAME_TYPE] as number
    if (type < RECORD_PUT || type > RECORD_CHECKPOINT) continue
    const len = view.getUint32(p + FRAME_LENGTH, true)
    if (len < (MIN_PAYLOAD[type] as number) || len > end - p - FRAME_HEADER_BYTES) continue
    const lsn = getU64(view, p + FRAME_HEADER_BYTES + (type === RECORD_CHECKPOINT ? 8 : 0))
    if (lsn < minLsn) continue
    if (checkFrame(buf, view, p, end, RECORD_CHECKPOINT) === undefined) return true
  }
  return false
}

/** The largest durable watermark found in intact frames after some damage. */
export interface DurableMark {
  /** Largest durable LSN (0 if none). */
  lsn: number
  /** Largest durable end offset (0 if none). */
  end: number
}

/**
 * The largest durable watermark in intact durable-watermark frames starting anywhere in
 * `buf(from, end)` (format version 2): frames of later group writes that survived damage at
 * `from`. A frame counts if its header, length and checksum are intact; the byte-by-byte search
 * is linear (a checksum is computed only where the type and length bytes fit).
 */
export function durableMarkAfter(buf: Uint8Array, from: number): DurableMark {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const end = buf.length
  const mark: DurableMark = { lsn: 0, end: 0 }
  for (let p = from + 1; p + FRAME_HEADER_BYTES + DURABLE_PAYLOAD_BYTES <= end; p++) {
    if (buf[p + FRAME_TYPE] !== RECORD_DURABLE) continue
    if (view.getUint32(p + FRAME_LENGTH, true) !== DURABLE_PAYLOAD_BYTES) continue
    if (checkFrame(buf, view, p, end, RECORD_DURABLE) !== undefined) continue
    const lsn = getU64(view, p + FRAME_HEADER_BYTES)
    const durableEnd = getU64(view, p + FRAME_HEADER_BYTES + 8)
    if (lsn > mark.lsn) mark.lsn = lsn
    if (durableEnd > mark.end) mark.end = durableEnd
  }
  return mark
}
