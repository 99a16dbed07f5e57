import { join } from 'node:path'
import type { FileSystem } from '@alex/wal'
import { crc32 } from './checksum.js'
import { corruption } from './errors.js'
import { snapshotName, tempName } from './file-names.js'
import {
  MAX_SLOTS,
  RECORD_HEADER_SIZE,
  SEGMENT_HEADER_SIZE,
  SNAPSHOT_END_MAGIC,
  SNAPSHOT_HEADER_SIZE,
  SNAPSHOT_MAGIC,
  SNAPSHOT_TABLE_ENTRY_SIZE,
  SNAPSHOT_TRAILER_SIZE,
  SNAPSHOT_VERSION,
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
  return SNAPSHOT_HEADER_SIZE + SNAPSHOT_TABLE_ENTRY_SIZE * m + 16 * n + SNAPSHOT_TRAILER_SIZE
}

/**
 * Allocates a snapshot of `n` keys in its file layout and writes its header and segment table.
 * The caller fills `keys` and `locations`, then calls `sealSnapshot`.
 */
export function buildSnapshot(header: SnapshotHeader, n: number): SnapshotBuilder {
  const m = header.segments.length
  const bytes = new Uint8Array(snapshotSize(n, m))
  const view = new DataView(bytes.buffer)
  bytes.set(MAGIC, 0)
  view.setUint16(8, SNAPSHOT_VERSION, true)
  view.setUint16(10, 0, true)
  view.setUint32(12, SNAPSHOT_HEADER_SIZE, true)
  setU64(view, 16, header.seq)
  setU64(view, 24, header.lsn)
  setU64(view, 32, n)
  view.setUint32(40, m, true)
  view.setUint32(44, header.nextSegmentId, true)
  view.setUint32(48, header.checkpoints >>> 0, true)
  view.setUint32(52, header.compactions >>> 0, true)
  view.setUint32(56, header.retireBelow, true)
  view.setUint32(60, crc32(bytes, 0, 60), true)
  let at = SNAPSHOT_HEADER_SIZE
  for (const s of header.segments) {
    view.setUint32(at, s.slot, true)
    view.setUint32(at + 4, s.id, true)
    setU64(view, at + 8, s.length)
    setU64(view, at + 16, s.liveBytes)
    setU64(view, at + 24, 0)
    at += SNAPSHOT_TABLE_ENTRY_SIZE
  }
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

const PENDING_BE = new WeakMap<Uint8Array, SnapshotBuilder>()

/** Computes the trailer (whole-file checksum and end marker) once the arrays are filled. */
export function sealSnapshot(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const builder = PENDING_BE.get(bytes)
  if (builder !== undefined) {
    const n = builder.keys.length
    const keysAt = bytes.length - SNAPSHOT_TRAILER_SIZE - 16 * n
    for (let i = 0; i < n; i++) {
      view.setFloat64(keysAt + 8 * i, builder.keys[i]!, true)
      view.setFloat64(keysAt + 8 * n + 8 * i, builder.locations[i]!, true)
    }
    PENDING_BE.delete(bytes)
  }
  const end = bytes.length - SNAPSHOT_TRAILER_SIZE
  view.setUint32(end, crc32(bytes, 0, end), true)
  bytes.set(END_MAGIC, end + 4)
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

/** Reads and fully validates snapshot `seq` of `dir`. Throws `ERR_CORRUPTION` if it is damaged. */
export function readSnapshot(fs: FileSystem, dir: string, seq: number): Snapshot {
  const path = join(dir, snapshotName(seq))
  const handle = fs.open(path, 'r')
  let bytes: Uint8Array
  try {
    const size = handle.size()
    bytes = new Uint8Array(size)
    const got = handle.read(bytes, 0, size, 0)
    if (got < size) bytes = bytes.subarray(0, got)
  } finally {
    handle.close()
  }
  return decodeSnapshot(bytes, path, seq)
}

/** Validates and decodes snapshot bytes (`path` and `seq` for error messages and checks). */
export function decodeSnapshot(bytes: Uint8Array, path: string, seq: number): Snapshot {
  const fail = (offset: number, what: string) => corruption(path, offset, `snapshot: ${what}`)
  if (bytes.length < SNAPSHOT_HEADER_SIZE + SNAPSHOT_TRAILER_SIZE) throw fail(0, 'file too short')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw fail(0, 'bad magic')
  if (view.getUint32(60, true) !== crc32(bytes, 0, 60)) throw fail(60, 'header checksum mismatch')
  const version = view.getUint16(8, true)
  if (version !== SNAPSHOT_VERSION) throw fail(8, `unsupported format version ${version}`)
  if (view.getUint16(10, true) !== 0) throw fail(10, 'unknown flags')
  if (view.getUint32(12, true) !== SNAPSHOT_HEADER_SIZE) throw fail(12, 'bad header size')
  const fileSeq = getU64(view, 16)
  if (fileSeq !== seq) throw fail(16, `sequence number ${fileSeq} does not match the file name`)
  const lsn = getU64(view, 24)
  const n = getU64(view, 32)
  const m = view.getUint32(40, true)
  if (n > bytes.length || m > bytes.length || bytes.length !== snapshotSize(n, m)) {
    throw fail(32, 'key or segment count does not match the file size')
  }
  const end = bytes.length - SNAPSHOT_TRAILER_SIZE
  if (view.getUint32(end, true) !== crc32(bytes, 0, end)) throw fail(end, 'checksum mismatch')
  for (let i = 0; i < END_MAGIC.length; i++) {
    if (bytes[end + 4 + i] !== END_MAGIC[i]) throw fail(end + 4, 'bad end marker')
  }
  const nextSegmentId = view.getUint32(44, true)
  if (view.getUint32(56, true) > nextSegmentId)
    throw fail(56, 'retirement floor beyond the next id')
  const segments: SnapshotSegment[] = []
  const slots = new Set<number>()
  const ids = new Set<number>()
  let at = SNAPSHOT_HEADER_SIZE
  for (let i = 0; i < m; i++) {
    const s: SnapshotSegment = {
      slot: view.getUint32(at, true),
      id: view.getUint32(at + 4, true),
      length: getU64(view, at + 8),
      liveBytes: getU64(view, at + 16),
    }
    if (s.slot >= MAX_SLOTS || slots.has(s.slot)) throw fail(at, 'bad or repeated slot')
    if (ids.has(s.id) || s.id >= nextSegmentId) throw fail(at + 4, 'bad or repeated segment id')
    if (s.length < SEGMENT_HEADER_SIZE || s.liveBytes > s.length - SEGMENT_HEADER_SIZE) {
      throw fail(at + 8, 'bad segment length')
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
    const field = loc & 2047
    const rest = (loc - field) / 2048
    const offset = rest & 0x7ffffff
    const slot = (rest - offset) / 134217728
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
    checkpoints: view.getUint32(48, true),
    compactions: view.getUint32(52, true),
    retireBelow: view.getUint32(56, true),
    segments,
    keys,
    locations,
  }
}

function setU64(view: DataView, at: number, value: number): void {
  const low = value >>> 0
  view.setUint32(at, low, true)
  view.setUint32(at + 4, (value - low) / 4294967296, true)
}

function getU64(view: DataView, at: number): number {
  // Values are < 2^53 by construction; a larger one can only come from damage and fails later
  // checks (sizes, counts) rather than being silently rounded into range.
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 4294967296
}
