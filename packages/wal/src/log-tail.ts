import { join, resolve as resolvePath } from 'node:path'
import { WalError } from './errors.js'
import type { FileHandle, FileSystem } from './file-system.js'
import {
  BATCH_DELETE_BYTES,
  BATCH_FIXED_BYTES,
  BATCH_PUT_FIXED_BYTES,
  FORMAT_VERSION,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH,
  FRAME_TYPE,
  MAX_PAYLOAD_BYTES,
  RECORD_BATCH,
  RECORD_DURABLE,
  RECORD_PUT,
  SEGMENT_HEADER_BYTES,
} from './format.js'
import { nodeFileSystem } from './node-file-system.js'
import {
  decodeSegmentHeader,
  parseSegmentFileName,
  type SegmentHeader,
  segmentFileName,
} from './segment.js'
import { checkFrame, checkPayload, maxRecordType } from './segment-reader.js'
import type { DamageReason } from './types.js'

/** Options of `LogTail.open`. */
export interface LogTailOptions {
  /**
   * Start after the operation with this LSN (default 0: from the oldest operation the log files
   * hold). An integer >= 0.
   */
  after?: number
  /** File-system implementation (default: the real one). */
  fs?: FileSystem
}

/**
 * Receives one operation from `LogTail.read`. `value` (a put's bytes; `undefined` for a delete)
 * is a view into the tail's read buffer, valid only during the call: copy what you keep. `last`
 * is true on the final operation of a log record: a batch's operations arrive together, the
 * last with `last` true, so a consumer can apply a batch atomically by buffering until then.
 */
export type LogTailVisitor = (
  lsn: number,
  type: 'put' | 'delete',
  key: number,
  value: Uint8Array | undefined,
  last: boolean,
) => void

/** Bytes read ahead per read() (more when a frame is larger). */
const READ_CHUNK = 32 * 1024
/** A read buffer grown past this (a huge value) is dropped at the next read(). */
const SHRINK_BYTES = 4 * 1024 * 1024
/** Attempts of `open` when segments vanish under it (a concurrent checkpoint). */
const OPEN_ATTEMPTS = 8

/** Why there is no intact frame at the read offset: `'end'` is no bytes, or zeros only. */
type NoFrame = 'end' | DamageReason

/**
 * Reads a log that is being written (by another process through the page cache, or by this
 * one), incrementally, from an LSN on: the store's live readers and change feed build on it.
 *
 * It keeps the current segment open and the byte offset of the next frame, so a `read` costs
 * the new bytes only. It trusts the bytes only up to `upTo`, an LSN the writer says it has
 * written: beyond it, zero padding and an incomplete frame are "nothing more yet", while a frame
 * that cannot be read at or below it is `ERR_CORRUPTION` (docs/wal-format.md, "Tailing a live
 * log"). Frames are validated by the same code recovery uses (segment-reader.ts). When the
 * current segment's frames run out and the next segment exists, the writer sealed it before
 * creating the next one, so its tail is re-read once and the tail moves on. A segment deleted by
 * a checkpoint stays readable through the open handle (POSIX); one deleted before the tail got
 * to it is `ERR_LSN_TRIMMED`.
 *
 * An error leaves the tail as it was (same position): a later `read` may retry.
 */
export class LogTail {
  private buf = new Uint8Array(READ_CHUNK)
  private view = new DataView(this.buf.buffer)
  /** File offsets of `buf[0]` and of the end of the bytes read into it. */
  private bufStart = 0
  private bufEnd = 0
  private readonly out = new Float64Array(3)
  private handle: FileHandle | undefined
  private segmentId: number
  private maxType: number
  /** Offset of the next frame in the current segment. */
  private offset = SEGMENT_HEADER_BYTES
  /** LSN of the next operation in the current segment (and the lowest any later one has). */
  private expected: number
  /** LSN of the last operation delivered (or `after`). */
  private pos: number

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    handle: FileHandle,
    id: number,
    header: SegmentHeader,
    after: number,
  ) {
    this.handle = handle
    this.segmentId = id
    this.maxType = maxRecordType(header.version)
    this.expected = header.baseLsn
    this.pos = after
  }

  /**
   * Opens a tail of the log in `dir` positioned after operation `after` (0: from the oldest the
   * log holds). Throws `ERR_LSN_TRIMMED` (with `oldestLsn`) if an operation after `after` was
   * already deleted, `ERR_INVALID_ARGUMENT` for a bad `after` or a directory without segments,
   * `ERR_CORRUPTION` / `ERR_UNSUPPORTED_VERSION` for a bad segment header.
   */
  static open(dir: string, options: LogTailOptions = {}): LogTail {
    const fs = options.fs ?? nodeFileSystem
    const after = options.after ?? 0
    if (!(Number.isSafeInteger(after) && after >= 0)) {
      throw new WalError('ERR_INVALID_ARGUMENT', 'LogTail: after must be an integer LSN >= 0')
    }
    dir = resolvePath(dir)
    for (let attempt = 1; ; attempt++) {
      try {
        return LogTail.openOnce(fs, dir, after)
      } catch (err) {
        // A segment deleted between the listing and its open: list again.
        if (attempt >= OPEN_ATTEMPTS || !isMissingFile(err)) throw err
      }
    }
  }

  /** One attempt of `open`: picks the newest segment whose LSNs start at or before after + 1. */
  private static openOnce(fs: FileSystem, dir: string, after: number): LogTail {
    const ids = listSegmentIds(fs, dir)
    if (ids.length === 0) {
      throw new WalError('ERR_INVALID_ARGUMENT', `LogTail: ${dir} holds no log segment`)
    }
    for (let i = after === 0 ? 0 : ids.length - 1; i >= 0; i--) {
      const id = ids[i] as number
      const handle = fs.open(join(dir, segmentFileName(id)), 'r')
      try {
        const header = readHeader(handle, id)
        // The segment's LSNs start at prevEndLsn (those below baseLsn were never handed out).
        if (after === 0 || header.prevEndLsn <= after + 1) {
          return new LogTail(fs, dir, handle, id, header, after)
        }
        if (i === 0) throw trimmed(after + 1, header.baseLsn)
      } catch (err) {
        handle.close()
        throw err
      }
      handle.close()
    }
    throw new Error('unreachable')
  }

  /** LSN of the last operation delivered (`after` until the first). */
  get position(): number {
    return this.pos
  }

  /**
   * LSN the next operation read will have, as far as the tail has read: `position + 1`, unless
   * the log skipped LSNs after the position (a segment whose base LSN is above its previous
   * end: LSNs the owner reserved with `Wal.reserve`, or never handed out). An owner that keeps
   * operations with those LSNs elsewhere (the store's bulk ingest) tells from
   * `nextLsn > position + 1` that the log alone no longer brings it up to date.
   */
  get nextLsn(): number {
    return Math.max(this.expected, this.pos + 1)
  }

  /**
   * Delivers to `onOp`, in LSN order, every intact operation with an LSN in
   * (`position`, `upTo`], and returns the new position. `upTo` must be an LSN the writer has
   * written (`Wal.lastWrittenLsn`, or one it published): the tail waits for nothing beyond it.
   * A log record is delivered whole or not at all: a batch whose last LSN is above `upTo` stops
   * the read before it. `maxOps` bounds the operations delivered per call (whole records still,
   * and at least one record), so a consumer can yield between calls.
   *
   * Throws `ERR_CORRUPTION` (file, offset, reason) when an operation at or below `upTo` cannot
   * be read, `ERR_LSN_TRIMMED` when the segment holding the next one was deleted,
   * `ERR_UNSUPPORTED_VERSION`, `ERR_CLOSED`, or what `onOp` throws. If `onOp` throws, the record
   * it was given is not consumed (the position stays before it) and the next read starts there.
   */
  read(upTo: number, onOp: LogTailVisitor, maxOps = Number.POSITIVE_INFINITY): number {
    if (this.handle === undefined) throw new WalError('ERR_CLOSED', 'the log tail is closed')
    this.invalidate()
    let delivered = 0
    let rechecked = false
    // Nothing at or below upTo can follow once the next LSN of this segment is above it.
    while (this.pos < upTo && this.expected <= upTo) {
      const at = this.inspectFrame()
      if (at !== undefined) {
        // No intact frame here, yet operation `expected` was written: the segment is sealed and
        // the log goes on in the next one (re-read this one's tail once: sealed before the next
        // existed, it is complete now), or something is wrong.
        const sealed = rechecked || this.fs.exists(this.segmentPath(this.segmentId + 1))
        if (sealed && !rechecked) {
          rechecked = true
          this.invalidate()
          continue
        }
        if (sealed && at === 'end') {
          this.moveToNext()
          rechecked = false
          continue
        }
        throw this.missing(at, upTo, sealed)
      }
      rechecked = false
      const p = this.offset - this.bufStart
      const frameBytes = FRAME_HEADER_BYTES + this.view.getUint32(p + FRAME_LENGTH, true)
      // A durable watermark concerns recovery only; its checksum was checked.
      if (this.buf[p + FRAME_TYPE] === RECORD_DURABLE) {
        this.offset += frameBytes
        continue
      }
      const n = checkPayload(this.buf, this.view, p, this.expected, this.out)
      if (n < 0) {
        const reason = n === -2 ? 'lsn-out-of-order' : 'bad-payload'
        throw this.corruption(this.offset, reason, 'malformed record with a valid checksum')
      }
      const first = this.expected
      const last = first + n - 1
      if (n > 0 && last > this.pos) {
        if (last > upTo || (delivered > 0 && delivered + n > maxOps)) break
        this.deliver(p, first, onOp)
        this.pos = last
        delivered += n
      }
      // Checkpoints carry no operation; records at or below the position are skipped.
      this.expected += n
      this.offset += frameBytes
    }
    return this.pos
  }

  /**
   * First LSN the log files still hold (the oldest segment's base LSN; 0 if there is no
   * segment), e.g. for an error message. Lists the directory.
   */
  oldestLsn(): number {
    return oldestLsnIn(this.fs, this.dir)
  }

  /** Closes the segment handle. Later reads throw `ERR_CLOSED`; closing twice is a no-op. */
  close(): void {
    const handle = this.handle
    this.handle = undefined
    handle?.close()
  }

  /**
   * Checks the frame at `offset`, loading it into `buf`: `undefined` if intact, else why not.
   * A length field is only compared against the bytes present (never allocated blindly).
   */
  private inspectFrame(): NoFrame | undefined {
    let avail = this.load(this.offset, FRAME_HEADER_BYTES)
    if (avail >= FRAME_HEADER_BYTES) {
      const p = this.offset - this.bufStart
      const len = this.view.getUint32(p + FRAME_LENGTH, true)
      if (len <= MAX_PAYLOAD_BYTES && avail < FRAME_HEADER_BYTES + len) {
        avail = this.load(this.offset, FRAME_HEADER_BYTES + len)
      }
    }
    const p = this.offset - this.bufStart
    if (avail === 0) return 'end'
    const check = checkFrame(this.buf, this.view, p, p + avail, this.maxType)
    return check === 'padding' ? 'end' : check
  }

  /**
   * Makes `buf` hold the file's bytes from `offset` (at least `need` of them if the file has
   * them, and up to `READ_CHUNK` ahead); returns how many it holds from `offset`.
   */
  private load(offset: number, need: number): number {
    if (offset >= this.bufStart && offset + need <= this.bufEnd) return this.bufEnd - offset
    const handle = this.handle as FileHandle
    let want = Math.max(need, READ_CHUNK)
    if (want > this.buf.length) {
      want = Math.max(READ_CHUNK, Math.min(want, handle.size() - offset))
      if (want > this.buf.length) {
        this.buf = new Uint8Array(want)
        this.view = new DataView(this.buf.buffer)
      }
    }
    const n = handle.read(this.buf, 0, want, offset)
    this.bufStart = offset
    this.bufEnd = offset + n
    return n
  }

  /** Forgets the bytes read: past the last intact frame they may have changed since. */
  private invalidate(): void {
    this.bufEnd = this.bufStart
    if (this.buf.length > SHRINK_BYTES) {
      this.buf = new Uint8Array(READ_CHUNK)
      this.view = new DataView(this.buf.buffer)
    }
  }

  /** Calls `onOp` for the operations above the position of the intact record at `buf[p]`. */
  private deliver(p: number, first: number, onOp: LogTailVisitor): void {
    const buf = this.buf
    const view = this.view
    const type = buf[p + FRAME_TYPE] as number
    const q = p + FRAME_HEADER_BYTES
    if (type !== RECORD_BATCH) {
      const key = view.getFloat64(q + 8, true)
      if (type === RECORD_PUT) {
        const len = view.getUint32(p + FRAME_LENGTH, true)
        onOp(first, 'put', key, buf.subarray(q + 16, q + len), true)
      } else {
        onOp(first, 'delete', key, undefined, true)
      }
      return
    }
    const count = view.getUint32(q + 8, true)
    let r = q + BATCH_FIXED_BYTES
    for (let i = 0; i < count; i++) {
      const lsn = first + i
      const key = view.getFloat64(r + 1, true)
      if (buf[r] === RECORD_PUT) {
        const vlen = view.getUint32(r + 9, true)
        const start = r + BATCH_PUT_FIXED_BYTES
        r = start + vlen
        if (lsn > this.pos) onOp(lsn, 'put', key, buf.subarray(start, r), i === count - 1)
      } else {
        r += BATCH_DELETE_BYTES
        if (lsn > this.pos) onOp(lsn, 'delete', key, undefined, i === count - 1)
      }
    }
  }

  /** Continues in the next segment, which must follow on from this one's last operation. */
  private moveToNext(): void {
    const id = this.segmentId + 1
    const path = this.segmentPath(id)
    let handle: FileHandle
    try {
      handle = this.fs.open(path, 'r')
    } catch (err) {
      if (isMissingFile(err)) throw trimmed(this.expected, oldestLsnIn(this.fs, this.dir))
      throw err
    }
    let header: SegmentHeader
    try {
      header = readHeader(handle, id)
      if (header.prevEndLsn !== this.expected) {
        throw this.corruption(
          0,
          'lsn-out-of-order',
          `segment ${id} does not follow on from LSN ${this.expected}`,
          path,
        )
      }
    } catch (err) {
      handle.close()
      throw err
    }
    this.handle?.close()
    this.handle = handle
    this.segmentId = id
    this.maxType = maxRecordType(header.version)
    this.offset = SEGMENT_HEADER_BYTES
    this.expected = header.baseLsn
    this.invalidate()
  }

  /**
   * The error for operation `expected` (at or below `upTo`) missing at the read offset: if no
   * next segment exists but a later one does, the next one was deleted before the tail got to
   * it (trimmed); otherwise corruption (in a sealed segment, damage at the end is never a torn
   * write: recovery cuts those before the next segment is created).
   */
  private missing(at: NoFrame, upTo: number, sealed: boolean): WalError {
    if (!sealed && listSegmentIds(this.fs, this.dir).some((id) => id > this.segmentId + 1)) {
      return trimmed(this.expected, oldestLsnIn(this.fs, this.dir))
    }
    const detail =
      at === 'end'
        ? `the frames end here, before LSN ${this.expected}, which the writer reported written (up to ${upTo})`
        : `cannot read LSN ${this.expected}, which the writer reported written (up to ${upTo})`
    return this.corruption(this.offset, at === 'end' ? 'truncated-header' : at, detail)
  }

  private corruption(
    offset: number,
    reason: DamageReason,
    detail: string,
    path = this.segmentPath(this.segmentId),
  ): WalError {
    return new WalError('ERR_CORRUPTION', `${path} at offset ${offset}: ${detail} (${reason})`, {
      file: path,
      offset,
      reason,
    })
  }

  private segmentPath(id: number): string {
    return join(this.dir, segmentFileName(id))
  }
}

/** The segment ids in `dir`, ascending. */
function listSegmentIds(fs: FileSystem, dir: string): number[] {
  let names: string[]
  try {
    names = fs.readdir(dir)
  } catch (cause) {
    throw new WalError('ERR_INVALID_ARGUMENT', `LogTail: cannot list ${dir}`, { cause })
  }
  const ids: number[] = []
  for (const name of names) {
    const id = parseSegmentFileName(name)
    if (id > 0) ids.push(id)
  }
  return ids.sort((a, b) => a - b)
}

/** The base LSN of the oldest segment in `dir` that can still be opened (0 if none). */
function oldestLsnIn(fs: FileSystem, dir: string): number {
  for (const id of listSegmentIds(fs, dir)) {
    let handle: FileHandle
    try {
      handle = fs.open(join(dir, segmentFileName(id)), 'r')
    } catch (err) {
      if (isMissingFile(err)) continue
      throw err
    }
    try {
      return readHeader(handle, id).baseLsn
    } finally {
      handle.close()
    }
  }
  return 0
}

/** Reads and validates the header of segment `id`. */
function readHeader(handle: FileHandle, id: number): SegmentHeader {
  const buf = new Uint8Array(SEGMENT_HEADER_BYTES)
  const n = handle.read(buf, 0, SEGMENT_HEADER_BYTES, 0)
  const decoded = decodeSegmentHeader(buf.subarray(0, n), id)
  if (decoded.ok) return decoded.header
  if (decoded.problem === 'version') {
    throw new WalError(
      'ERR_UNSUPPORTED_VERSION',
      `${handle.path}: segment format version ${decoded.version} is newer than this reader (${FORMAT_VERSION})`,
      { file: handle.path, offset: 8 },
    )
  }
  throw new WalError('ERR_CORRUPTION', `${handle.path}: ${decoded.detail} (bad-segment-header)`, {
    file: handle.path,
    offset: 0,
    reason: 'bad-segment-header',
  })
}

function trimmed(needed: number, oldestLsn: number): WalError {
  return new WalError(
    'ERR_LSN_TRIMMED',
    `LSN ${needed} is no longer in the log (its segment was deleted after a checkpoint); the oldest LSN it holds is ${oldestLsn}`,
    { oldestLsn },
  )
}

function isMissingFile(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT'
}
