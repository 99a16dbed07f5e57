import { crc32 } from './checksum.js'
import { WalError } from './errors.js'
import type { FileSystem } from './file-system.js'
import {
  BATCH_DELETE_BYTES,
  BATCH_FIXED_BYTES,
  BATCH_PUT_FIXED_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH,
  FRAME_TYPE,
  RECORD_BATCH,
  RECORD_DELETE,
  RECORD_PUT,
  SEGMENT_HEADER_BYTES,
} from './format.js'
import { readWholeFile } from './read-whole-file.js'
import type { WalRecord } from './types.js'
import { getU64 } from './u64.js'

/** A segment as replay needs it: validated at open, re-read now. */
export interface ReplaySegment {
  path: string
  baseLsn: number
  endLsn: number
  /** Bytes of the file that are part of the log. */
  validEnd: number
  /** CRC-32 of bytes [0, validEnd) as open saw them. */
  checksum: number
}

/**
 * Iterates the operations of validated segments with an LSN above `afterLsn`, flattening
 * batches. Each segment is read into a fresh buffer and its bytes are checked against the
 * checksum open computed (one pass over the whole segment, not one call per record); frames are
 * then decoded without further checks. Values are `subarray` views of that buffer: no copy per
 * value, and since the buffer is never reused, views stay valid after the iteration.
 */
export class ReplayIterator implements IterableIterator<WalRecord> {
  private segmentIndex = 0
  private buf: Uint8Array = new Uint8Array(0)
  private view = new DataView(this.buf.buffer)
  private pos = 0
  private end = 0
  private batchLeft = 0
  private batchPos = 0
  private batchLsn = 0

  constructor(
    private readonly fs: FileSystem,
    private readonly segments: readonly ReplaySegment[],
    private readonly afterLsn: number,
  ) {}

  [Symbol.iterator](): IterableIterator<WalRecord> {
    return this
  }

  next(): IteratorResult<WalRecord> {
    const after = this.afterLsn
    for (;;) {
      if (this.batchLeft > 0) {
        const buf = this.buf
        const view = this.view
        const q = this.batchPos
        const lsn = this.batchLsn++
        this.batchLeft--
        const key = view.getFloat64(q + 1, true)
        if (buf[q] === RECORD_PUT) {
          const vlen = view.getUint32(q + 9, true)
          const start = q + BATCH_PUT_FIXED_BYTES
          this.batchPos = start + vlen
          if (lsn <= after) continue
          return this.emit(lsn, 'put', key, buf.subarray(start, start + vlen))
        }
        this.batchPos = q + BATCH_DELETE_BYTES
        if (lsn <= after) continue
        return this.emit(lsn, 'delete', key, undefined)
      }
      if (this.pos >= this.end) {
        if (!this.load()) return { done: true, value: undefined }
        continue
      }
      const buf = this.buf
      const view = this.view
      const at = this.pos
      const type = buf[at + FRAME_TYPE] as number
      const len = view.getUint32(at + FRAME_LENGTH, true)
      const p = at + FRAME_HEADER_BYTES
      this.pos = p + len
      if (type === RECORD_PUT || type === RECORD_DELETE) {
        const lsn = getU64(view, p)
        if (lsn <= after) continue
        const key = view.getFloat64(p + 8, true)
        if (type === RECORD_PUT) return this.emit(lsn, 'put', key, buf.subarray(p + 16, p + len))
        return this.emit(lsn, 'delete', key, undefined)
      }
      if (type === RECORD_BATCH) {
        this.batchLsn = getU64(view, p)
        this.batchLeft = view.getUint32(p + 8, true)
        this.batchPos = p + BATCH_FIXED_BYTES
      }
      // Checkpoint and durable-watermark frames carry no operation: skipped.
    }
  }

  private emit(
    lsn: number,
    type: 'put' | 'delete',
    key: number,
    value: Uint8Array | undefined,
  ): IteratorResult<WalRecord> {
    return { done: false, value: { lsn: BigInt(lsn), type, key, value } }
  }

  /** Reads the next segment that has operations above `afterLsn`; false when none is left. */
  private load(): boolean {
    while (this.segmentIndex < this.segments.length) {
      const s = this.segments[this.segmentIndex++] as ReplaySegment
      if (s.endLsn - 1 <= this.afterLsn) continue
      const buf = readWholeFile(this.fs, s.path, s.validEnd)
      if (buf.length !== s.validEnd || crc32(buf, 0, buf.length) !== s.checksum) {
        throw new WalError(
          'ERR_CORRUPTION',
          `${s.path}: segment changed since the log was opened`,
          { file: s.path, offset: 0, reason: 'checksum-mismatch' },
        )
      }
      this.buf = buf
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
      this.pos = SEGMENT_HEADER_BYTES
      this.end = buf.length
      return true
    }
    return false
  }
}
