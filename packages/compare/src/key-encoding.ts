/**
 * Order-preserving encoding of number keys for engines that compare keys as bytes
 * (LevelDB, RocksDB).
 *
 * Format: 8 bytes, the IEEE-754 float64 of the key in big-endian order, then
 * - for keys >= 0 (sign bit clear) the sign bit is set (0x80 xor on byte 0);
 * - for keys < 0 (sign bit set) every bit is inverted.
 * Unsigned bytewise comparison of two encodings then equals numeric comparison of the keys:
 * positives sort above negatives, larger magnitudes of positives sort higher, and larger
 * magnitudes of negatives sort lower because their bits are inverted.
 *
 * `-0` is stored as `+0` (they are the same key, as in a `Map`), so its encoding is
 * `80 00 00 00 00 00 00 00`. NaN and the infinities are rejected: keys are finite numbers.
 */
import { CompareError, ErrorCode } from './errors.js'

/** Bytes in one encoded key. */
export const ENCODED_KEY_BYTES = 8

const scratch = new DataView(new ArrayBuffer(8))

/** Throws ERR_INVALID_KEY unless `key` is a finite number. */
export function assertKey(key: unknown): asserts key is number {
  if (typeof key !== 'number' || !Number.isFinite(key)) {
    throw new CompareError(ErrorCode.INVALID_KEY, `key must be a finite number, got ${String(key)}`)
  }
}

/** Writes the 8-byte order-preserving encoding of `key` into `out` at `offset`. */
export function writeKey(key: number, out: Uint8Array, offset = 0): void {
  assertKey(key)
  // `key + 0` turns -0 into +0 so both name the same key.
  scratch.setFloat64(0, key + 0)
  const hi = scratch.getUint32(0)
  const lo = scratch.getUint32(4)
  const negative = hi >>> 31 === 1
  const h = negative ? ~hi >>> 0 : (hi | 0x80000000) >>> 0
  const l = negative ? ~lo >>> 0 : lo
  out[offset] = h >>> 24
  out[offset + 1] = (h >>> 16) & 0xff
  out[offset + 2] = (h >>> 8) & 0xff
  out[offset + 3] = h & 0xff
  out[offset + 4] = l >>> 24
  out[offset + 5] = (l >>> 16) & 0xff
  out[offset + 6] = (l >>> 8) & 0xff
  out[offset + 7] = l & 0xff
}

/** Returns a new Buffer holding the 8-byte encoding of `key`. */
export function encodeKey(key: number): Buffer {
  const out = Buffer.allocUnsafe(ENCODED_KEY_BYTES)
  writeKey(key, out, 0)
  return out
}

/** Decodes 8 bytes written by {@link writeKey} back to the number. */
export function decodeKey(bytes: Uint8Array, offset = 0): number {
  if (bytes.length - offset < ENCODED_KEY_BYTES) {
    throw new CompareError(
      ErrorCode.INVALID_KEY,
      `encoded key needs ${ENCODED_KEY_BYTES} bytes, got ${bytes.length - offset}`,
    )
  }
  const h =
    ((bytes[offset]! << 24) |
      (bytes[offset + 1]! << 16) |
      (bytes[offset + 2]! << 8) |
      bytes[offset + 3]!) >>>
    0
  const l =
    ((bytes[offset + 4]! << 24) |
      (bytes[offset + 5]! << 16) |
      (bytes[offset + 6]! << 8) |
      bytes[offset + 7]!) >>>
    0
  const positive = h >>> 31 === 1
  scratch.setUint32(0, positive ? (h & 0x7fffffff) >>> 0 : ~h >>> 0)
  scratch.setUint32(4, positive ? l : ~l >>> 0)
  return scratch.getFloat64(0)
}
