import { join } from 'node:path'
import type { FileSystem } from '@alex/wal/io'
import { crc32, getU64, readWholeFile, setU64 } from '@alex/wal/io'
import { corruption } from './errors.js'
import { snapshotName, tempName } from './file-names.js'
import {
  LOCATION_LENGTH_FACTOR,
  LOCATION_LONG,
  LOCATION_OFFSET_FACTOR,
  MAX_SLOTS,
  RECORD_HEADER_SIZE,
  SEGMENT_HEADER_SIZE,
  SNAPSHOT_BYTES_PER_KEY,
  SNAPSHOT_CHECKPOINTS_AT,
  SNAPSHOT_COMPACTIONS_AT,
  SNAPSHOT_END_MAGIC,
  SNAPSHOT_FLAGS_AT,
  SNAPSHOT_HEADER_CRC_AT,
  SNAPSHOT_HEADER_SIZE,
  SNAPSHOT_HEADER_SIZE_AT,
  SNAPSHOT_KEY_COUNT_AT,
  SNAPSHOT_LSN_AT,
  SNAPSHOT_MAGIC,
  SNAPSHOT_NEXT_SEGMENT_ID_AT,
  SNAPSHOT_RETIRE_BELOW_AT,
  SNAPSHOT_SEGMENT_COUNT_AT,
  SNAPSHOT_SEQ_AT,
  SNAPSHOT_TABLE_ENTRY_SIZE,
  SNAPSHOT_TRAILER_SIZE,
  SNAPSHOT_VERSION,
  SNAPSHOT_VERSION_AT,
  TABLE_ID_AT,
  TABLE_LENGTH_AT,
  TABLE_LIVE_BYTES_AT,
  TABLE_RESERVED_AT,
  TABLE_SLOT_AT,
  TRAILER_END_MAGIC_AT,
} from './format.js'

/**
 * Index snapshots (docs/storage-format.md, section 4): every live key with its record location,
 * the segment table, and the LSN they reflect, in one checksummed, versioned file. A snapshot is
 * built in its final byte layout directly (the caller fills the key and location arrays in
 * place), written to a temp file, fsynced, renamed and the directory fsynced; loading reads the
 * file once and hands the key and location arrays out as views of it.
 */

/** One segment-table entry. */
export interface SnapshotSegment {
  /** Slot used by locations. */
  slot: number
  /** Segment id (file name). */
  id: number
  /** Trusted length: bytes of the file the snapshot covers. */
  length: number
  /** Bytes of records some key points to. */
  liveBytes: number
}

/** Everything in a snapshot except the key and location arrays. */
export interface SnapshotHeader {
  /** Sequence number (also in the file name). */
  seq: number
  /** Every operation with LSN <= lsn is reflected, none after. */
  lsn: number
  /** Larger than every segment id ever used. */
  nextSegmentId: number
  /** Checkpoints completed (stats). */
  checkpoints: number
  /** Compactions completed (stats). */
  compactions: number
  /**
   * Every segment with an id below this was retired by the newest completed compaction (0 if
   * none): recovery re-creates the retirement marker before deleting such a segment.
   */
  retireBelow: number
  /** The segment table. */
  segments: SnapshotSegment[]
}

/** A snapshot: header plus `keys[i] -> locations[i]`, keys strictly increasing. */
export interface Snapshot extends SnapshotHeader {
  keys: Float64Array
  locations: Float64Array
}

/** A snapshot being built: fill `keys` and `locations`, then `sealSnapshot(bytes)`. */
export interface SnapshotBuilder {
  bytes: Uint8Array
  keys: Float64Array
  locations: Float64Array
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const MAGIC = new TextEncoder().encode(SNAPSHOT_MAGIC)
const END_MAGIC = new TextEncoder().encode(SNAPSHOT_END_MAGIC)

/** Size of a snapshot with `n` keys and `m` segments. */
export function snapshotSize(n: number, m: number): number {
  return (
    SNAPSHOT_HEADER_SIZE +
    SNAPSHOT_TABLE_ENTRY_SIZE * m +
    SNAPSHOT_BYTES_PER_KEY * n +
    SNAPSHOT_TRAILER_SIZE
  )
}

/**
 * Allocates a snapshot of `n` keys in its file layout and writes its header and segment table.
 * The caller fills `keys` and `locations`, then calls `sealSnapshot`.
 */
export function buildSnapshot(header: SnapshotHeader, n: number): SnapshotBuilder {
  const m = header.segments.length
  const bytes = new Uint8Array(snapshotSize(n, m))
  const at = writeHead(bytes, header, n)
  const keysAt = at
  const locationsAt = keysAt + 8 * n
  if (LITTLE_ENDIAN) {
    return {
      bytes,
      keys: new Float64Array(bytes.buffer, keysAt, n),
      locations: new Float64Array(bytes.buffer, locationsAt, n),
    }
  }
  // Big-endian hosts fill separate arrays; sealSnapshot copies them in as little-endian.
  const builder = { bytes, keys: new Float64Array(n), locations: new Float64Array(n) }
  PENDING_BE.set(bytes, builder)
  return builder
}

/**
 * Writes the header (for `n` keys) and the segment table at the start of `bytes`; returns the
 * offset where the keys start.
 */
function writeHead(bytes: Uint8Array, header: SnapshotHeader, n: number): number {
  const m = header.segments.length
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  bytes.set(MAGIC, 0)
  view.setUint16(SNAPSHOT_VERSION_AT, SNAPSHOT_VERSION, true)
  view.setUint16(SNAPSHOT_FLAGS_AT, 0, true)
  view.setUint32(SNAPSHOT_HEADER_SIZE_AT, SNAPSHOT_HEADER_SIZE, true)
  setU64(view, SNAPSHOT_SEQ_AT, header.seq)
  setU64(view, SNAPSHOT_LSN_AT, header.lsn)
  setU64(view, SNAPSHOT_KEY_COUNT_AT, n)
  view.setUint32(SNAPSHOT_SEGMENT_COUNT_AT, m, true)
  view.setUint32(SNAPSHOT_NEXT_SEGMENT_ID_AT, header.nextSegmentId, true)
  view.setUint32(SNAPSHOT_CHECKPOINTS_AT, header.checkpoints >>> 0, true)
  view.setUint32(SNAPSHOT_COMPACTIONS_AT, header.compactions >>> 0, true)
  view.setUint32(SNAPSHOT_RETIRE_BELOW_AT, header.retireBelow, true)
  view.setUint32(SNAPSHOT_HEADER_CRC_AT, crc32(bytes, 0, SNAPSHOT_HEADER_CRC_AT), true)
  let at = SNAPSHOT_HEADER_SIZE
  for (const s of header.segments) {
    view.setUint32(at + TABLE_SLOT_AT, s.slot, true)
    view.setUint32(at + TABLE_ID_AT, s.id, true)
    setU64(view, at + TABLE_LENGTH_AT, s.length)
    setU64(view, at + TABLE_LIVE_BYTES_AT, s.liveBytes)
    setU64(view, at + TABLE_RESERVED_AT, 0)
    at += SNAPSHOT_TABLE_ENTRY_SIZE
  }
  return at
}

const PENDING_BE = new WeakMap<Uint8Array, SnapshotBuilder>()

/** Computes the trailer (whole-file checksum and end marker) once the arrays are filled. */
export function sealSnapshot(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const builder = PENDING_BE.get(bytes)
  if (builder !== undefined) {
    const n = builder.keys.length
    const keysAt = bytes.length - SNAPSHOT_TRAILER_SIZE - SNAPSHOT_BYTES_PER_KEY * n
    for (let i = 0; i < n; i++) {
      view.setFloat64(keysAt + 8 * i, builder.keys[i]!, true)
      view.setFloat64(keysAt + 8 * n + 8 * i, builder.locations[i]!, true)
    }
    PENDING_BE.delete(bytes)
  }
  const end = bytes.length - SNAPSHOT_TRAILER_SIZE
  view.setUint32(end, crc32(bytes, 0, end), true)
  bytes.set(END_MAGIC, end + TRAILER_END_MAGIC_AT)
}

/**
 * Writes a sealed snapshot durably: temp file, fsync, rename, directory fsync. Returns the number
 * of fsyncs it made. On failure the temp file may remain (it is deleted at the next open).
 */
export async function writeSnapshot(
  fs: FileSystem,
  dir: string,
  seq: number,
  bytes: Uint8Array,
): Promise<number> {
  const name = snapshotName(seq)
  const temp = join(dir, tempName(name))
  const handle = fs.open(temp, 'w+')
  try {
    handle.write(bytes, 0, bytes.length, 0)
    await handle.sync()
  } finally {
    handle.close()
  }
  fs.rename(temp, join(dir, name))
  await fs.syncDir(dir)
  return 2
}

/**
 * Writes snapshot `seq` of `header` with `keys` (strictly increasing) and `locations` durably, as
 * `buildSnapshot` + `sealSnapshot` + `writeSnapshot` would (the same bytes), without gathering
 * them into one buffer first: the arrays are written as they are (the bulk ingest's are large,
 * and fresh memory is not free). Returns the number of fsyncs it made.
 */
export async function writeSnapshotFrom(
  fs: FileSystem,
  dir: string,
  seq: number,
  header: SnapshotHeader,
  keys: Float64Array,
  locations: Float64Array,
): Promise<number> {
  const n = keys.length
  if (!LITTLE_ENDIAN) {
    const builder = buildSnapshot(header, n)
    builder.keys.set(keys)
    builder.locations.set(locations)
    sealSnapshot(builder.bytes)
    return writeSnapshot(fs, dir, seq, builder.bytes)
  }
  const head = new Uint8Array(
    SNAPSHOT_HEADER_SIZE + SNAPSHOT_TABLE_ENTRY_SIZE * header.segments.length,
  )
  writeHead(head, header, n)
  const parts = [
    head,
    new Uint8Array(keys.buffer, keys.byteOffset, 8 * n),
    new Uint8Array(locations.buffer, locations.byteOffset, 8 * n),
  ]
  let sum = 0
  for (const part of parts) sum = crc32(part, 0, part.length, sum)
  const trailer = new Uint8Array(SNAPSHOT_TRAILER_SIZE)
  new DataView(trailer.buffer).setUint32(0, sum, true)
  trailer.set(END_MAGIC, TRAILER_END_MAGIC_AT)
  parts.push(trailer)
  const name = snapshotName(seq)
  const temp = join(dir, tempName(name))
  const handle = fs.open(temp, 'w+')
  try {
    let at = 0
    for (const part of parts) {
      handle.write(part, 0, part.length, at)
      at += part.length
    }
    await handle.sync()
  } finally {
    handle.close()
  }
  fs.rename(temp, join(dir, name))
  await fs.syncDir(dir)
  return 2
}

/** Reads and fully validates snapshot `seq` of `dir`. Throws `ERR_CORRUPTION` if it is damaged. */
export function readSnapshot(fs: FileSystem, dir: string, seq: number): Snapshot {
  const path = join(dir, snapshotName(seq))
  return decodeSnapshot(readWholeFile(fs, path), path, seq)
}

/** Validates and decodes snapshot bytes (`path` and `seq` for error messages and checks). */
export function decodeSnapshot(bytes: Uint8Array, path: string, seq: number): Snapshot {
  const fail = (offset: number, what: string) => corruption(path, offset, `snapshot: ${what}`)
  if (bytes.length < SNAPSHOT_HEADER_SIZE + SNAPSHOT_TRAILER_SIZE) throw fail(0, 'file too short')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw fail(0, 'bad magic')
  if (view.getUint32(SNAPSHOT_HEADER_CRC_AT, true) !== crc32(bytes, 0, SNAPSHOT_HEADER_CRC_AT)) {
    throw fail(SNAPSHOT_HEADER_CRC_AT, 'header checksum mismatch')
  }
  const version = view.getUint16(SNAPSHOT_VERSION_AT, true)
  if (version !== SNAPSHOT_VERSION) {
    throw fail(SNAPSHOT_VERSION_AT, `unsupported format version ${version}`)
  }
  if (view.getUint16(SNAPSHOT_FLAGS_AT, true) !== 0) throw fail(SNAPSHOT_FLAGS_AT, 'unknown flags')
  if (view.getUint32(SNAPSHOT_HEADER_SIZE_AT, true) !== SNAPSHOT_HEADER_SIZE) {
    throw fail(SNAPSHOT_HEADER_SIZE_AT, 'bad header size')
  }
  const fileSeq = getU64(view, SNAPSHOT_SEQ_AT)
  if (fileSeq !== seq)
    throw fail(SNAPSHOT_SEQ_AT, `sequence number ${fileSeq} does not match the file name`)
  const lsn = getU64(view, SNAPSHOT_LSN_AT)
  if (lsn < 0) throw fail(SNAPSHOT_LSN_AT, 'LSN beyond 2^53')
  const n = getU64(view, SNAPSHOT_KEY_COUNT_AT)
  const m = view.getUint32(SNAPSHOT_SEGMENT_COUNT_AT, true)
  if (n < 0 || n > bytes.length || m > bytes.length || bytes.length !== snapshotSize(n, m)) {
    throw fail(SNAPSHOT_KEY_COUNT_AT, 'key or segment count does not match the file size')
  }
  const end = bytes.length - SNAPSHOT_TRAILER_SIZE
  if (view.getUint32(end, true) !== crc32(bytes, 0, end)) throw fail(end, 'checksum mismatch')
  for (let i = 0; i < END_MAGIC.length; i++) {
    if (bytes[end + TRAILER_END_MAGIC_AT + i] !== END_MAGIC[i]) {
      throw fail(end + TRAILER_END_MAGIC_AT, 'bad end marker')
    }
  }
  const nextSegmentId = view.getUint32(SNAPSHOT_NEXT_SEGMENT_ID_AT, true)
  const retireBelow = view.getUint32(SNAPSHOT_RETIRE_BELOW_AT, true)
  if (retireBelow > nextSegmentId) {
    throw fail(SNAPSHOT_RETIRE_BELOW_AT, 'retirement floor beyond the next id')
  }
  const segments: SnapshotSegment[] = []
  const slots = new Set<number>()
  const ids = new Set<number>()
  let at = SNAPSHOT_HEADER_SIZE
  for (let i = 0; i < m; i++) {
    const s: SnapshotSegment = {
      slot: view.getUint32(at + TABLE_SLOT_AT, true),
      id: view.getUint32(at + TABLE_ID_AT, true),
      length: getU64(view, at + TABLE_LENGTH_AT),
      liveBytes: getU64(view, at + TABLE_LIVE_BYTES_AT),
    }
    if (s.slot >= MAX_SLOTS || slots.has(s.slot))
      throw fail(at + TABLE_SLOT_AT, 'bad or repeated slot')
    if (ids.has(s.id) || s.id >= nextSegmentId)
      throw fail(at + TABLE_ID_AT, 'bad or repeated segment id')
    if (
      s.length < SEGMENT_HEADER_SIZE ||
      s.liveBytes < 0 ||
      s.liveBytes > s.length - SEGMENT_HEADER_SIZE
    ) {
      throw fail(at + TABLE_LENGTH_AT, 'bad segment length')
    }
    slots.add(s.slot)
    ids.add(s.id)
    segments.push(s)
    at += SNAPSHOT_TABLE_ENTRY_SIZE
  }
  let keys: Float64Array
  let locations: Float64Array
  if (LITTLE_ENDIAN) {
    keys = new Float64Array(bytes.buffer, bytes.byteOffset + at, n)
    locations = new Float64Array(bytes.buffer, bytes.byteOffset + at + 8 * n, n)
  } else {
    keys = new Float64Array(n)
    locations = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      keys[i] = view.getFloat64(at + 8 * i, true)
      locations[i] = view.getFloat64(at + 8 * n + 8 * i, true)
    }
  }
  // Semantic checks: a checksum only proves the bytes are the ones written. One pass, no calls
  // or allocation per entry (a million entries take a few ms).
  const lengthBySlot = new Float64Array(MAX_SLOTS) // 0: no such slot
  for (const s of segments) lengthBySlot[s.slot] = s.length
  let previous = Number.NEGATIVE_INFINITY
  const locationsAt = at + 8 * n
  for (let i = 0; i < n; i++) {
    const key = keys[i]!
    if (!(key > previous) || key === Number.POSITIVE_INFINITY) {
      throw fail(at + 8 * i, `keys not finite and strictly increasing at index ${i}`)
    }
    previous = key
    const loc = locations[i]!
    if (!(loc >= 0 && loc <= Number.MAX_SAFE_INTEGER) || loc !== Math.floor(loc)) {
      throw fail(locationsAt + 8 * i, 'location is not a non-negative integer')
    }
    // Decoded as in location.ts: (slot * 2^27 + offset) * 2^11 + length field.
    const field = loc & LOCATION_LONG
    const rest = (loc - field) / LOCATION_LENGTH_FACTOR
    const offset = rest & (LOCATION_OFFSET_FACTOR - 1)
    const slot = (rest - offset) / LOCATION_OFFSET_FACTOR
    const length = slot < MAX_SLOTS ? lengthBySlot[slot]! : 0
    if (length === 0) throw fail(locationsAt + 8 * i, 'location names no segment')
    // The field is the value length, or 2047 for "at least 2047": a lower bound either way.
    if (offset < SEGMENT_HEADER_SIZE || offset + RECORD_HEADER_SIZE + field > length) {
      throw fail(locationsAt + 8 * i, 'location outside its segment')
    }
  }
  return {
    seq,
    lsn,
    nextSegmentId,
    checkpoints: view.getUint32(SNAPSHOT_CHECKPOINTS_AT, true),
    compactions: view.getUint32(SNAPSHOT_COMPACTIONS_AT, true),
    retireBelow,
    segments,
    keys,
    locations,
  }
}
