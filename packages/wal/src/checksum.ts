import * as zlib from 'node:zlib'

/**
 * CRC-32 (the zlib / IEEE 802.3 polynomial, reflected, 0xEDB88320; CRC-32/ISO-HDLC) of
 * `buf[start, end)`, continuing from `previous` (0 to start a new checksum). The one CRC-32 of
 * the packages: the log's frames and the store's records, headers and snapshots all use it.
 * Identical to `zlib.crc32`, which computes it for long inputs; short ones (a log frame, a data
 * record) are computed here with slicing-by-8 tables because the native call's fixed cost
 * dominates below a few hundred bytes (see `NATIVE_THRESHOLD`). On a Node without `zlib.crc32`
 * (before 20.15 and 22.2) every length is computed here.
 */
export function crc32(buf: Uint8Array, start: number, end: number, previous = 0): number {
  if (end - start >= NATIVE_THRESHOLD && zlibCrc32 !== undefined) {
    return zlibCrc32(buf.subarray(start, end), previous)
  }
  return crc32Table(buf, start, end, previous)
}

/**
 * The slicing-by-8 loop of `crc32`, for every length (what a Node without `zlib.crc32` runs;
 * exported for bench/crc-threshold.ts, which times it against zlib).
 */
export function crc32Table(buf: Uint8Array, start: number, end: number, previous = 0): number {
  let c = ~previous
  let i = start
  for (; i + 8 <= end; i += 8) {
    const a =
      c ^
      ((buf[i] as number) |
        ((buf[i + 1] as number) << 8) |
        ((buf[i + 2] as number) << 16) |
        ((buf[i + 3] as number) << 24))
    c =
      (TABLE[1792 + (a & 255)] as number) ^
      (TABLE[1536 + ((a >>> 8) & 255)] as number) ^
      (TABLE[1280 + ((a >>> 16) & 255)] as number) ^
      (TABLE[1024 + (a >>> 24)] as number) ^
      (TABLE[768 + (buf[i + 4] as number)] as number) ^
      (TABLE[512 + (buf[i + 5] as number)] as number) ^
      (TABLE[256 + (buf[i + 6] as number)] as number) ^
      (TABLE[buf[i + 7] as number] as number)
  }
  for (; i < end; i++) c = (TABLE[(c ^ (buf[i] as number)) & 255] as number) ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

/**
 * `crc32` of `view`'s bytes `[start, end)`, for a caller that holds a DataView over its buffer
 * (the store's bulk ingest checksums every record of a scratch buffer this way): the same
 * slicing-by-8 tables, reading four bytes at a time through the view (unaligned reads are fine),
 * about a third faster than the byte loop at the size of a data record (150 bytes: 155 vs 215 ns
 * measured on the shared VM). Never calls zlib.
 */
export function crc32View(view: DataView, start: number, end: number, previous = 0): number {
  let c = ~previous
  let i = start
  for (; i + 8 <= end; i += 8) {
    const a = c ^ view.getInt32(i, true)
    const b = view.getInt32(i + 4, true)
    c =
      (TABLE[1792 + (a & 255)] as number) ^
      (TABLE[1536 + ((a >>> 8) & 255)] as number) ^
      (TABLE[1280 + ((a >>> 16) & 255)] as number) ^
      (TABLE[1024 + (a >>> 24)] as number) ^
      (TABLE[768 + (b & 255)] as number) ^
      (TABLE[512 + ((b >>> 8) & 255)] as number) ^
      (TABLE[256 + ((b >>> 16) & 255)] as number) ^
      (TABLE[b >>> 24] as number)
  }
  for (; i < end; i++) c = (TABLE[(c ^ view.getUint8(i)) & 255] as number) ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

/**
 * `zlib.crc32` where this Node has it (20.15+, 22.2+), else undefined. Read from the namespace
 * object, not as a named import: a named import of a missing export fails to link the ESM build,
 * and the CJS build would call undefined on the first long input.
 */
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32

/**
 * Inputs at least this long go to `zlib.crc32` (when it exists). Measured with
 * `npx tsx bench/crc-threshold.ts` in packages/wal (Node 20.20, x64, shared machine): the loop
 * wins up to 192 bytes (303 vs 347 ns), zlib from 256 (385 vs 328 ns; 1 KiB 1424 vs 531 ns).
 */
const NATIVE_THRESHOLD = 256

/** Slicing-by-8 tables: TABLE[t * 256 + b] is the CRC of byte b followed by t zero bytes. */
const TABLE = (() => {
  const t = new Int32Array(256 * 8)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[i] = c
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 8; s++) {
      const prev = t[(s - 1) * 256 + i] as number
      t[s * 256 + i] = (prev >>> 8) ^ (t[prev & 255] as number)
    }
  }
  return t
})()
