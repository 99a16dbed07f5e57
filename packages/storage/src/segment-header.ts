import { crc32 } from '@alex/wal/io'
import {
  SEGMENT_CRC_AT,
  SEGMENT_FLAG_INGEST,
  SEGMENT_FLAGS_AT,
  SEGMENT_HEADER_SIZE,
  SEGMENT_ID_AT,
  SEGMENT_MAGIC,
  SEGMENT_MAGIC_AT,
  SEGMENT_VERSION,
  SEGMENT_VERSION_AT,
} from './format.js'

/**
 * The 16-byte data segment header (docs/storage-format.md, section 3.1):
 * `magic "AXDS" | version u16 | flags u16 | segment id u32 | crc32 of bytes 0..11`.
 */

/** Writes the header of segment `id` at the start of `bytes` (`flags`: 0 or `SEGMENT_FLAG_INGEST`). */
export function writeSegmentHeader(bytes: Uint8Array, id: number, flags = 0): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_SIZE)
  view.setUint32(SEGMENT_MAGIC_AT, SEGMENT_MAGIC, true)
  view.setUint16(SEGMENT_VERSION_AT, SEGMENT_VERSION, true)
  view.setUint16(SEGMENT_FLAGS_AT, flags, true)
  view.setUint32(SEGMENT_ID_AT, id, true)
  view.setUint32(SEGMENT_CRC_AT, crc32(bytes, 0, SEGMENT_CRC_AT), true)
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
  if (view.getUint32(SEGMENT_MAGIC_AT, true) !== SEGMENT_MAGIC) return 'bad segment magic'
  if (view.getUint32(SEGMENT_CRC_AT, true) !== crc32(bytes, 0, SEGMENT_CRC_AT)) {
    return 'segment header checksum mismatch'
  }
  const version = view.getUint16(SEGMENT_VERSION_AT, true)
  if (version !== SEGMENT_VERSION) return `unsupported segment format version ${version}`
  if ((view.getUint16(SEGMENT_FLAGS_AT, true) & ~SEGMENT_FLAG_INGEST) !== 0) {
    return 'unknown segment flags'
  }
  if (view.getUint32(SEGMENT_ID_AT, true) !== id) return 'segment id does not match its file name'
  return undefined
}

/** The flags of a header that `checkSegmentHeader` accepted. */
export function segmentFlags(bytes: Uint8Array): number {
  return bytes[SEGMENT_FLAGS_AT]! | (bytes[SEGMENT_FLAGS_AT + 1]! << 8)
}
