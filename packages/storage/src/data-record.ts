import { crc32, getU64, setU64 } from '@alex/wal/io'
import {
  RECORD_CRC,
  RECORD_HEADER_SIZE,
  RECORD_KEY,
  RECORD_LENGTH,
  RECORD_LSN,
  RECORD_TYPE,
  TYPE_PUT,
  TYPE_TOMBSTONE,
} from './format.js'

/**
 * One data record (docs/storage-format.md, section 3.2):
 * `crc32 u32 | valueLength u32 | type u8 | lsn u64 | key f64 | value`.
 * These functions work on a segment's bytes in place; they never allocate. Validation returns a
 * status number instead of throwing, so a scan over millions of records stays exception-free.
 */

/** Bytes a record with a value of `valueLength` bytes takes. */
export function recordSize(valueLength: number): number {
  return RECORD_HEADER_SIZE + valueLength
}

/**
 * Writes a record at `offset` of `bytes` (`view` is a DataView over the same memory) and
 * returns the offset just past it. The caller guarantees room and a valid key and LSN.
 */
export function writeRecord(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  type: number,
  lsn: number,
  key: number,
  value: Uint8Array | undefined,
): number {
  const n = value === undefined ? 0 : value.length
  view.setUint32(offset + RECORD_LENGTH, n, true)
  bytes[offset + RECORD_TYPE] = type
  setU64(view, offset + RECORD_LSN, lsn)
  view.setFloat64(offset + RECORD_KEY, key, true)
  const end = offset + RECORD_HEADER_SIZE + n
  if (value !== undefined) bytes.set(value, offset + RECORD_HEADER_SIZE)
  view.setUint32(offset + RECORD_CRC, crc32(bytes, offset + RECORD_LENGTH, end), true)
  return end
}

/** The value length of the record at `offset` (no validation). */
export function readValueLength(bytes: Uint8Array, offset: number): number {
  const o = offset + RECORD_LENGTH
  return (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0
}

/** The type byte of the record at `offset`. */
export function readType(bytes: Uint8Array, offset: number): number {
  return bytes[offset + RECORD_TYPE]!
}

/**
 * The LSN of the record at `offset`. An LSN of 2^53 or more (only damage or a foreign file holds
 * one) reads as +Infinity: above every valid LSN, so every check against a bound refuses it.
 */
export function readLsn(view: DataView, offset: number): number {
  const lsn = getU64(view, offset + RECORD_LSN)
  return lsn < 0 ? Number.POSITIVE_INFINITY : lsn
}

/** The key of the record at `offset`. */
export function readKey(view: DataView, offset: number): number {
  return view.getFloat64(offset + RECORD_KEY, true)
}

/** Validation status: fewer than 25 bytes remain. */
export const BAD_TRUNCATED_HEADER = -1
/** Validation status: the type byte is not put or tombstone (or a tombstone has a value). */
export const BAD_TYPE = -2
/** Validation status: the value runs past the end of the data. */
export const BAD_TRUNCATED_VALUE = -3
/** Validation status: the checksum does not match. */
export const BAD_CHECKSUM = -4
/** Validation status: the key is not finite. */
export const BAD_KEY = -5
/** Validation status: the LSN is 0 or above 2^53. */
export const BAD_LSN = -6

/**
 * Validates the record at `offset`, with the data ending at `end`. Returns the record's size
 * (> 0) if it is valid, else one of the negative `BAD_*` statuses.
 */
export function validateRecord(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  end: number,
): number {
  if (end - offset < RECORD_HEADER_SIZE) return BAD_TRUNCATED_HEADER
  const type = bytes[offset + RECORD_TYPE]!
  const n = readValueLength(bytes, offset)
  if (type !== TYPE_PUT && (type !== TYPE_TOMBSTONE || n !== 0)) return BAD_TYPE
  const size = RECORD_HEADER_SIZE + n
  if (end - offset < size) return BAD_TRUNCATED_VALUE
  if (
    crc32(bytes, offset + RECORD_LENGTH, offset + size) !==
    view.getUint32(offset + RECORD_CRC, true)
  ) {
    return BAD_CHECKSUM
  }
  const key = view.getFloat64(offset + RECORD_KEY, true)
  if (key - key !== 0) return BAD_KEY
  if (getU64(view, offset + RECORD_LSN) < 1) return BAD_LSN // 0, or 2^53 and above (-1)
  return size
}

/** Describes a negative validation status for an error message. */
export function describeRecordStatus(status: number): string {
  switch (status) {
    case BAD_TRUNCATED_HEADER:
      return 'truncated record header'
    case BAD_TYPE:
      return 'bad record type'
    case BAD_TRUNCATED_VALUE:
      return 'record value runs past the end of the segment'
    case BAD_CHECKSUM:
      return 'record checksum mismatch'
    case BAD_KEY:
      return 'record key is not finite'
    case BAD_LSN:
      return 'record LSN out of range'
    default:
      return `bad record (status ${status})`
  }
}
