import * as zlib from 'node:zlib'

/**
 * CRC-32 (ISO-HDLC, zlib's polynomial) over `bytes[start, end)`, continuing from `previous`
 * (0 to start a new checksum). Identical results to `zlib.crc32`.
 *
 * Why not always zlib: a call into zlib costs about 200 ns whatever the length, which is more
 * than a table-driven loop needs for a typical record (a 150-byte record takes ~120 ns in JS).
 * Short inputs use the loop below (slicing-by-8), long ones zlib (0.2 ns/byte). On a Node without
 * `zlib.crc32` (before 20.15 and 22.2) the loop computes every length.
 */
export function crc32(bytes: Uint8Array, start: number, end: number, previous = 0): number {
  if (end - start >= ZLIB_THRESHOLD && zlibCrc32 !== undefined) {
    return zlibCrc32(bytes.subarray(start, end), previous)
  }
  let c = ~previous
  let i = start
  const t = TABLE
  for (; i + 8 <= end; i += 8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    c =
      t[1792 + (c & 255)]! ^
      t[1536 + ((c >>> 8) & 255)]! ^
      t[1280 + ((c >>> 16) & 255)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 255]! ^ (c >>> 8)
  return ~c >>> 0
}

/**
 * `zlib.crc32` where this Node has it (20.15+, 22.2+), else undefined. Read from the namespace
 * object, not as a named import: a named import of a missing export fails to link the ESM build,
 * and the CJS build would call undefined on the first long input.
 */
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32

/** Inputs at least this long go to zlib when it has `crc32` (measured crossover on Node 20, x64). */
const ZLIB_THRESHOLD = 512

/** Slicing-by-8 tables: TABLE[k * 256 + b] is the CRC of byte b followed by k zero bytes. */
const TABLE = buildTable()

function buildTable(): Int32Array {
  const table = new Int32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n]!
    for (let k = 1; k < 8; k++) {
      c = table[c & 255]! ^ (c >>> 8)
      table[k * 256 + n] = c
    }
  }
  return table
}
