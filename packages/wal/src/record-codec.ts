import { crc32 } from './checksum.js'
import {
  BATCH_DELETE_BYTES,
  BATCH_FIXED_BYTES,
  BATCH_PUT_FIXED_BYTES,
  CHECKPOINT_PAYLOAD_BYTES,
  DELETE_PAYLOAD_BYTES,
  DURABLE_PAYLOAD_BYTES,
  FRAME_HEADER_BYTES,
  PUT_FIXED_BYTES,
  RECORD_BATCH,
  RECORD_CHECKPOINT,
  RECORD_DELETE,
  RECORD_DURABLE,
  RECORD_PUT,
} from './format.js'
import type { WalOp } from './types.js'
import { setU64 } from './u64.js'

/**
 * Encoding of one record frame (see format.ts): crc32 length type payload. Encoders write into a
 * caller's buffer at `offset` and return the offset after the frame; they never allocate.
 */

/** Size of a put frame. */
export function putFrameBytes(valueLength: number): number {
  return FRAME_HEADER_BYTES + PUT_FIXED_BYTES + valueLength
}

/** Size of a delete frame. */
export const DELETE_FRAME_BYTES = FRAME_HEADER_BYTES + DELETE_PAYLOAD_BYTES

/** Size of a checkpoint frame. */
export const CHECKPOINT_FRAME_BYTES = FRAME_HEADER_BYTES + CHECKPOINT_PAYLOAD_BYTES

/** Size of a durable-watermark frame: 25 bytes, the first frame of every group write. */
export const DURABLE_FRAME_BYTES = FRAME_HEADER_BYTES + DURABLE_PAYLOAD_BYTES

/** Size of a batch frame for already-validated `ops`. */
export function batchFrameBytes(ops: readonly WalOp[]): number {
  let n = FRAME_HEADER_BYTES + BATCH_FIXED_BYTES
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as WalOp
    n += op.type === 'put' ? BATCH_PUT_FIXED_BYTES + op.value.length : BATCH_DELETE_BYTES
  }
  return n
}

/** Computes and stores the CRC of the frame in `buf[start, end)`. */
export function sealFrame(buf: Uint8Array, view: DataView, start: number, end: number): void {
  view.setUint32(start, crc32(buf, start + 4, end), true)
}

function frameHeader(view: DataView, offset: number, payload: number, type: number): void {
  view.setUint32(offset + 4, payload, true)
  view.setUint8(offset + 8, type)
}

/** Encodes a put frame. */
export function encodePut(
  buf: Uint8Array,
  view: DataView,
  offset: number,
  lsn: number,
  key: number,
  value: Uint8Array,
): number {
  const payload = PUT_FIXED_BYTES + value.length
  frameHeader(view, offset, payload, RECORD_PUT)
  const p = offset + FRAME_HEADER_BYTES
  setU64(view, p, lsn)
  view.setFloat64(p + 8, key, true)
  buf.set(value, p + 16)
  const end = p + payload
  sealFrame(buf, view, offset, end)
  return end
}

/** Encodes a delete frame. */
export function encodeDelete(
  buf: Uint8Array,
  view: DataView,
  offset: number,
  lsn: number,
  key: number,
): number {
  frameHeader(view, offset, DELETE_PAYLOAD_BYTES, RECORD_DELETE)
  const p = offset + FRAME_HEADER_BYTES
  setU64(view, p, lsn)
  view.setFloat64(p + 8, key, true)
  const end = p + DELETE_PAYLOAD_BYTES
  sealFrame(buf, view, offset, end)
  return end
}

/** Encodes a batch frame of already-validated `ops`, the first getting `firstLsn`. */
export function encodeBatch(
  buf: Uint8Array,
  view: DataView,
  offset: number,
  firstLsn: number,
  ops: readonly WalOp[],
  frameBytes: number,
): number {
  frameHeader(view, offset, frameBytes - FRAME_HEADER_BYTES, RECORD_BATCH)
  let p = offset + FRAME_HEADER_BYTES
  setU64(view, p, firstLsn)
  view.setUint32(p + 8, ops.length, true)
  p += BATCH_FIXED_BYTES
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as WalOp
    if (op.type === 'put') {
      view.setUint8(p, RECORD_PUT)
      view.setFloat64(p + 1, op.key, true)
      view.setUint32(p + 9, op.value.length, true)
      buf.set(op.value, p + 13)
      p += BATCH_PUT_FIXED_BYTES + op.value.length
    } else {
      view.setUint8(p, RECORD_DELETE)
      view.setFloat64(p + 1, op.key, true)
      p += BATCH_DELETE_BYTES
    }
  }
  sealFrame(buf, view, offset, p)
  return p
}

/**
 * Encodes a checkpoint frame: everything up to `checkpointLsn` is persisted elsewhere; `nextLsn`
 * is the LSN the next operation in the log will have (a consistency check for readers).
 */
export function encodeCheckpoint(
  buf: Uint8Array,
  view: DataView,
  offset: number,
  checkpointLsn: number,
  nextLsn: number,
): number {
  frameHeader(view, offset, CHECKPOINT_PAYLOAD_BYTES, RECORD_CHECKPOINT)
  const p = offset + FRAME_HEADER_BYTES
  setU64(view, p, checkpointLsn)
  setU64(view, p + 8, nextLsn)
  const end = p + CHECKPOINT_PAYLOAD_BYTES
  sealFrame(buf, view, offset, end)
  return end
}

/**
 * Encodes a durable-watermark frame: when the write it starts was issued, every operation up to
 * `durableLsn` was durable, and so was every byte of the segment before offset `durableEnd`.
 */
export function encodeDurable(
  buf: Uint8Array,
  view: DataView,
  offset: number,
  durableLsn: number,
  durableEnd: number,
): number {
  frameHeader(view, offset, DURABLE_PAYLOAD_BYTES, RECORD_DURABLE)
  const p = offset + FRAME_HEADER_BYTES
  setU64(view, p, durableLsn)
  setU64(view, p + 8, durableEnd)
  const end = p + DURABLE_PAYLOAD_BYTES
  sealFrame(buf, view, offset, end)
  return end
}
