import { createHash } from 'node:crypto'
import { ReplicationError, ReplicationErrorCode } from './errors.js'

/**
 * The bytes of every object @alex/replication writes (docs/replication-format.md, byte by byte):
 * a fixed header, a body, and a SHA-256 trailer over both. Three kinds share the header: the
 * lineage marker, log objects (operations with consecutive LSNs, whole batches) and snapshots
 * (every live key and value at one LSN). All integers are little-endian.
 */

/** "ALXR": the first four bytes of every object. */
export const MAGIC = 0x52584c41
/** The format version this code writes and reads. */
export const FORMAT_VERSION = 1

export const KIND_LINEAGE = 1
export const KIND_LOG = 2
export const KIND_SNAPSHOT = 3
export type ObjectKind = typeof KIND_LINEAGE | typeof KIND_LOG | typeof KIND_SNAPSHOT

/** Header flag (log objects): the history restarts at `baseLsn`; a snapshot follows (see doc). */
export const FLAG_RESYNC = 1

// Header fields, each at the offset after the one before.
export const MAGIC_OFFSET = 0 // u32
export const KIND_OFFSET = 4 // u8
export const VERSION_OFFSET = 5 // u8
export const FLAGS_OFFSET = 6 // u16
export const LINEAGE_OFFSET = 8 // 16 bytes
export const LINEAGE_BYTES = 16
export const SEQ_OFFSET = LINEAGE_OFFSET + LINEAGE_BYTES // 24, u64
export const BASE_LSN_OFFSET = SEQ_OFFSET + 8 // 32, u64
export const LAST_LSN_OFFSET = BASE_LSN_OFFSET + 8 // 40, u64
export const COUNT_OFFSET = LAST_LSN_OFFSET + 8 // 48, u32
export const RESERVED_OFFSET = COUNT_OFFSET + 4 // 52, u32, zero
export const CREATED_MS_OFFSET = RESERVED_OFFSET + 4 // 56, u64
export const BODY_BYTES_OFFSET = CREATED_MS_OFFSET + 8 // 64, u64
export const PREV_CHECKSUM_OFFSET = BODY_BYTES_OFFSET + 8 // 72, 32 bytes
export const CHECKSUM_BYTES = 32
export const HEADER_BYTES = PREV_CHECKSUM_OFFSET + CHECKSUM_BYTES // 104

// Log body: one operation after the other.
export const OP_PUT = 1
export const OP_DELETE = 2
/** Operation flag: the last operation of its atomic write (the feed's `last`). */
export const OP_FLAG_LAST = 1
export const OP_TYPE_OFFSET = 0 // u8
export const OP_FLAGS_OFFSET = 1 // u8
export const OP_KEY_OFFSET = 2 // f64
export const OP_FIXED_BYTES = OP_KEY_OFFSET + 8 // 10 (a delete)
export const OP_VALUE_LENGTH_OFFSET = OP_FIXED_BYTES // u32 (puts only)
export const OP_PUT_FIXED_BYTES = OP_VALUE_LENGTH_OFFSET + 4 // 14, then the value

// Snapshot body: one entry after the other, in ascending key order.
export const ENTRY_KEY_OFFSET = 0 // f64
export const ENTRY_VALUE_LENGTH_OFFSET = 8 // u32
export const ENTRY_FIXED_BYTES = 12 // then the value

/** One operation of a log object. */
export interface LogOp {
  lsn: number
  type: 'put' | 'delete'
  key: number
  value?: Uint8Array
  /** The last operation of its atomic write (a batch's last, or a lone write). */
  last: boolean
}

/** The header fields of an object (what `decodeHeader` returns). */
export interface ObjectHeader {
  kind: ObjectKind
  flags: number
  /** 32 hex digits. */
  lineage: string
  seq: number
  baseLsn: number
  lastLsn: number
  count: number
  createdMs: number
  bodyBytes: number
  /** Hex SHA-256 trailer of the previous log object (64 zeros for none). */
  prevChecksum: string
}

/** A decoded object: header, body view, its own checksum (hex). */
export interface DecodedObject {
  header: ObjectHeader
  body: Uint8Array
  checksum: string
}

export const ZERO_CHECKSUM = '0'.repeat(CHECKSUM_BYTES * 2)

/** Bytes of `op` in a log body. */
export function opBytes(op: { type: 'put' | 'delete'; value?: Uint8Array }): number {
  return op.type === 'put' ? OP_PUT_FIXED_BYTES + op.value!.length : OP_FIXED_BYTES
}

/** Writes the header, lays out `bodyBytes` after it and returns the object and a body view. */
function frame(fields: Omit<ObjectHeader, 'bodyBytes'>, bodyBytes: number) {
  const bytes = new Uint8Array(HEADER_BYTES + bodyBytes + CHECKSUM_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(MAGIC_OFFSET, MAGIC, true)
  view.setUint8(KIND_OFFSET, fields.kind)
  view.setUint8(VERSION_OFFSET, FORMAT_VERSION)
  view.setUint16(FLAGS_OFFSET, fields.flags, true)
  bytes.set(Buffer.from(fields.lineage, 'hex'), LINEAGE_OFFSET)
  view.setBigUint64(SEQ_OFFSET, BigInt(fields.seq), true)
  view.setBigUint64(BASE_LSN_OFFSET, BigInt(fields.baseLsn), true)
  view.setBigUint64(LAST_LSN_OFFSET, BigInt(fields.lastLsn), true)
  view.setUint32(COUNT_OFFSET, fields.count, true)
  view.setBigUint64(CREATED_MS_OFFSET, BigInt(Math.floor(fields.createdMs)), true)
  view.setBigUint64(BODY_BYTES_OFFSET, BigInt(bodyBytes), true)
  bytes.set(Buffer.from(fields.prevChecksum, 'hex'), PREV_CHECKSUM_OFFSET)
  return { bytes, view }
}

/** Computes and writes the trailer; returns it as hex. */
function seal(bytes: Uint8Array): string {
  const end = bytes.length - CHECKSUM_BYTES
  const digest = createHash('sha256').update(bytes.subarray(0, end)).digest()
  bytes.set(digest, end)
  return digest.toString('hex')
}

/** An encoded object and its checksum (the hex trailer). */
export interface Encoded {
  bytes: Uint8Array
  checksum: string
}

/** The lineage marker: a header only. `baseLsn` is the LSN the lineage started at. */
export function encodeLineage(lineage: string, baseLsn: number, createdMs: number): Encoded {
  const { bytes } = frame(
    {
      kind: KIND_LINEAGE,
      flags: 0,
      lineage,
      seq: 0,
      baseLsn,
      lastLsn: baseLsn,
      count: 0,
      createdMs,
      prevChecksum: ZERO_CHECKSUM,
    },
    0,
  )
  return { bytes, checksum: seal(bytes) }
}

/** A log object: `ops` are the operations `baseLsn + 1 .. baseLsn + ops.length`, whole batches. */
export function encodeLog(fields: {
  lineage: string
  seq: number
  baseLsn: number
  prevChecksum: string
  createdMs: number
  flags?: number
  ops: readonly LogOp[]
}): Encoded {
  let bodyBytes = 0
  for (const op of fields.ops) bodyBytes += opBytes(op)
  const { bytes, view } = frame(
    {
      kind: KIND_LOG,
      flags: fields.flags ?? 0,
      lineage: fields.lineage,
      seq: fields.seq,
      baseLsn: fields.baseLsn,
      lastLsn: fields.baseLsn + fields.ops.length,
      count: fields.ops.length,
      createdMs: fields.createdMs,
      prevChecksum: fields.prevChecksum,
    },
    bodyBytes,
  )
  let p = HEADER_BYTES
  for (const op of fields.ops) {
    view.setUint8(p + OP_TYPE_OFFSET, op.type === 'put' ? OP_PUT : OP_DELETE)
    view.setUint8(p + OP_FLAGS_OFFSET, op.last ? OP_FLAG_LAST : 0)
    view.setFloat64(p + OP_KEY_OFFSET, op.key, true)
    if (op.type === 'put') {
      const value = op.value!
      view.setUint32(p + OP_VALUE_LENGTH_OFFSET, value.length, true)
      bytes.set(value, p + OP_PUT_FIXED_BYTES)
      p += OP_PUT_FIXED_BYTES + value.length
    } else {
      p += OP_FIXED_BYTES
    }
  }
  return { bytes, checksum: seal(bytes) }
}

/**
 * A snapshot: `count` entries in ascending key order, the state at `lsn`, following log object
 * `seq` (whose checksum is `prevChecksum` and whose last LSN is `lsn`).
 */
export function encodeSnapshot(fields: {
  lineage: string
  seq: number
  lsn: number
  prevChecksum: string
  createdMs: number
  keys: readonly number[]
  values: readonly Uint8Array[]
}): Encoded {
  let bodyBytes = 0
  for (const v of fields.values) bodyBytes += ENTRY_FIXED_BYTES + v.length
  const { bytes, view } = frame(
    {
      kind: KIND_SNAPSHOT,
      flags: 0,
      lineage: fields.lineage,
      seq: fields.seq,
      baseLsn: fields.lsn,
      lastLsn: fields.lsn,
      count: fields.keys.length,
      createdMs: fields.createdMs,
      prevChecksum: fields.prevChecksum,
    },
    bodyBytes,
  )
  let p = HEADER_BYTES
  for (let i = 0; i < fields.keys.length; i++) {
    const v = fields.values[i]!
    view.setFloat64(p + ENTRY_KEY_OFFSET, fields.keys[i]!, true)
    view.setUint32(p + ENTRY_VALUE_LENGTH_OFFSET, v.length, true)
    bytes.set(v, p + ENTRY_FIXED_BYTES)
    p += ENTRY_FIXED_BYTES + v.length
  }
  return { bytes, checksum: seal(bytes) }
}

function corrupt(name: string, why: string): ReplicationError {
  return new ReplicationError(ReplicationErrorCode.CORRUPT_OBJECT, `object ${name}: ${why}`)
}

function u64(view: DataView, offset: number, name: string, field: string): number {
  const v = view.getBigUint64(offset, true)
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(name, `${field} ${v} is above 2^53`)
  return Number(v)
}

/**
 * Decodes and verifies an object: size, magic, version, kind, the trailer checksum. `name` is
 * for messages. Throws `ERR_REPLICATION_CORRUPT_OBJECT`.
 */
export function decodeObject(bytes: Uint8Array, name: string, kind: ObjectKind): DecodedObject {
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) {
    throw corrupt(name, `${bytes.length} bytes, shorter than a header and a checksum`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.getUint32(MAGIC_OFFSET, true) !== MAGIC) throw corrupt(name, 'bad magic (not ALXR)')
  const version = view.getUint8(VERSION_OFFSET)
  if (version !== FORMAT_VERSION) {
    throw corrupt(name, `format version ${version}, this code reads ${FORMAT_VERSION}`)
  }
  const end = bytes.length - CHECKSUM_BYTES
  const digest = createHash('sha256').update(bytes.subarray(0, end)).digest()
  if (!digest.equals(bytes.subarray(end))) throw corrupt(name, 'checksum mismatch (SHA-256)')
  const header: ObjectHeader = {
    kind: view.getUint8(KIND_OFFSET) as ObjectKind,
    flags: view.getUint16(FLAGS_OFFSET, true),
    lineage: Buffer.from(bytes.subarray(LINEAGE_OFFSET, SEQ_OFFSET)).toString('hex'),
    seq: u64(view, SEQ_OFFSET, name, 'seq'),
    baseLsn: u64(view, BASE_LSN_OFFSET, name, 'baseLsn'),
    lastLsn: u64(view, LAST_LSN_OFFSET, name, 'lastLsn'),
    count: view.getUint32(COUNT_OFFSET, true),
    createdMs: u64(view, CREATED_MS_OFFSET, name, 'createdMs'),
    bodyBytes: u64(view, BODY_BYTES_OFFSET, name, 'bodyBytes'),
    prevChecksum: Buffer.from(bytes.subarray(PREV_CHECKSUM_OFFSET, HEADER_BYTES)).toString('hex'),
  }
  if (header.kind !== kind) throw corrupt(name, `kind ${header.kind}, expected ${kind}`)
  if (HEADER_BYTES + header.bodyBytes !== end) {
    throw corrupt(name, `body of ${header.bodyBytes} bytes in an object of ${bytes.length}`)
  }
  if (header.lastLsn < header.baseLsn) throw corrupt(name, 'lastLsn below baseLsn')
  if (kind === KIND_LOG && header.lastLsn - header.baseLsn !== header.count) {
    throw corrupt(
      name,
      `${header.count} operations for LSNs ${header.baseLsn + 1}..${header.lastLsn}`,
    )
  }
  return {
    header,
    body: bytes.subarray(HEADER_BYTES, end),
    checksum: digest.toString('hex'),
  }
}

/** The operations of a verified log object, in LSN order (values are views of the object). */
export function logOps(object: DecodedObject, name: string): LogOp[] {
  const { body, header } = object
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const ops: LogOp[] = []
  let p = 0
  for (let i = 0; i < header.count; i++) {
    if (p + OP_FIXED_BYTES > body.length) throw corrupt(name, `operation ${i} runs past the body`)
    const type = view.getUint8(p + OP_TYPE_OFFSET)
    const last = (view.getUint8(p + OP_FLAGS_OFFSET) & OP_FLAG_LAST) !== 0
    const key = view.getFloat64(p + OP_KEY_OFFSET, true)
    const lsn = header.baseLsn + i + 1
    if (type === OP_DELETE) {
      ops.push({ lsn, type: 'delete', key, last })
      p += OP_FIXED_BYTES
    } else if (type === OP_PUT) {
      if (p + OP_PUT_FIXED_BYTES > body.length)
        throw corrupt(name, `operation ${i} runs past the body`)
      const len = view.getUint32(p + OP_VALUE_LENGTH_OFFSET, true)
      const start = p + OP_PUT_FIXED_BYTES
      if (start + len > body.length)
        throw corrupt(name, `operation ${i}'s value runs past the body`)
      ops.push({ lsn, type: 'put', key, value: body.subarray(start, start + len), last })
      p = start + len
    } else {
      throw corrupt(name, `operation ${i} has type ${type}`)
    }
  }
  if (p !== body.length) throw corrupt(name, 'bytes after the last operation')
  if (ops.length > 0 && !ops[ops.length - 1]!.last) {
    throw corrupt(name, 'the last operation does not end a batch')
  }
  return ops
}

/** The entries of a verified snapshot, as two columns in ascending key order (values are views). */
export function snapshotEntries(
  object: DecodedObject,
  name: string,
): { keys: Float64Array; values: Uint8Array[] } {
  const { body, header } = object
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const keys = new Float64Array(header.count)
  const values: Uint8Array[] = new Array(header.count)
  let p = 0
  for (let i = 0; i < header.count; i++) {
    if (p + ENTRY_FIXED_BYTES > body.length) throw corrupt(name, `entry ${i} runs past the body`)
    const key = view.getFloat64(p + ENTRY_KEY_OFFSET, true)
    const len = view.getUint32(p + ENTRY_VALUE_LENGTH_OFFSET, true)
    const start = p + ENTRY_FIXED_BYTES
    if (start + len > body.length) throw corrupt(name, `entry ${i}'s value runs past the body`)
    if (i > 0 && !(key > keys[i - 1]!)) throw corrupt(name, `entry ${i}'s key is not ascending`)
    keys[i] = key
    values[i] = body.subarray(start, start + len)
    p = start + len
  }
  if (p !== body.length) throw corrupt(name, 'bytes after the last entry')
  return { keys, values }
}
