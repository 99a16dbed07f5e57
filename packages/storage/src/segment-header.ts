import { crc32 } from './checksum.js'
import { SEGMENT_HEADER_SIZE, SEGMENT_MAGIC, SEGMENT_VERSION } from './format.js'

/**
 * The 16-byte data segment header (docs/storage-format.md, section 3.1):
 * `magic "AXDS" | version u16 | flags u16 | segment id u32 | crc32 of bytes 0..11`.
 */

/** Writes the header of segment `id` at the start of `bytes`. */
export function writeSegmentHeader(bytes: Uint8Array, id: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_SIZE)
  view.setUint32(0, SEGMENT_MAGIC, true)
  view.setUint16(4, SEGMENT_VERSION, true)
  view.setUint16(6, 0, true)
  view.setUint32(8, id, true)
  view.setUint32(12, crc32(bytes, 0, 12), true)
}

/**
 * Checks the header at the start of `bytes` (of which `length` are valid) against the expected
 * segment id. Returns `undefined` if it is good, else what is wrong with it.
 */
export function checkSegmentHeader(
  bytes: Uint8Array,
  length: number,
  id: number,
): string | undefined {
  if (length < SEGMENT_HEADER_SIZE) return 'segment shorter than its header'
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_SIZE)
  if (view.getUint32(0, true) !== SEGMENT_MAGIC) return 'bad segment magic'
  if (view.getUint32(12, true) !== crc32(bytes, 0, 12)) return 'segment header checksum mismatch'
  const version = view.getUint16(4, true)
  if (version !== SEGMENT_VERSION) return `unsupported segment format version ${version}`
  if (view.getUint16(6, true) !== 0) return 'unknown segment flags'
  if (view.getUint32(8, true) !== id) return 'segment id does not match its file name'
  return undefined
}
