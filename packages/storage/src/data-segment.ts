import { join } from 'node:path'
import type { FileHandle, FileSystem } from '@alex/wal/io'
import { crc32 } from '@alex/wal/io'
import {
  describeRecordStatus,
  readLsn,
  readValueLength,
  recordSize,
  validateRecord,
  writeRecord,
} from './data-record.js'
import { type AlexStorageError, corruption } from './errors.js'
import { segmentName } from './file-names.js'
import {
  RECORD_CRC,
  RECORD_HEADER_SIZE,
  RECORD_KEY,
  RECORD_LENGTH,
  RECORD_TYPE,
  SEGMENT_HEADER_SIZE,
  TYPE_PUT,
} from './format.js'
import { checkSegmentHeader, writeSegmentHeader } from './segment-header.js'

/**
 * One data segment: an append-only file of records (docs/storage-format.md, section 3) and, when
 * resident, its bytes in memory.
 *
 * The active segment is an appending writer: records are encoded straight into a preallocated
 * in-memory image and written to the file later in large pieces (`flush`), never one write() per
 * record. Only the prefix up to `flushLimit` (records whose log entry is durable) may be written,
 * so the file never holds an operation the log does not. Bytes once written into the image are
 * never changed or reused: a view handed out by `get` stays valid for as long as it is referenced,
 * even after the segment is evicted from memory or deleted by a compaction.
 *
 * A sealed segment is resident when its image is in memory (counted against `cacheBytes`) and
 * otherwise read one record at a time from the file.
 *
 * Images live in `SharedArrayBuffer`s (see `allocateImage`): a caller holding a value view cannot
 * transfer (detach) the memory the store reads from, and the images can later be shared with
 * worker threads without a copy.
 */
export class DataSegment {
  /** Segment id (in the file name and header). */
  readonly id: number
  /** Slot number used in record locations. */
  readonly slot: number
  /** Full path of the file. */
  readonly path: string
  /** Memory image, or `undefined` when not resident. Offsets are file offsets. */
  bytes: Uint8Array | undefined
  /** DataView over `bytes`. */
  view: DataView | undefined
  /** Bytes of header plus records: for a sealed segment, its trusted length. */
  length: number
  /** Records before this offset are durable in the log and applied: they may be written. */
  private appliedEnd: number
  /** Bytes written to the file. */
  written: number
  /** Bytes made durable by an fsync. */
  synced: number
  /** Bytes of the records some key points to. */
  liveBytes = 0
  /** No more appends (see `sealed`). */
  private isSealed: boolean
  /** Kept in memory only and never written (the log overlay of a read-only open). */
  readonly memoryOnly: boolean
  /** Bytes read from disk piecemeal since the last load (drives cache admission). */
  missBytes = 0
  /** A whole-segment load found damage: serve it record by record from now on. */
  loadFailed = false
  /** The fsync in flight (or failed: it stays here rejected), and the bytes it covers. */
  private syncing: Promise<void> | undefined
  private syncingTarget = 0
  private handle: FileHandle | undefined

  private constructor(
    id: number,
    slot: number,
    path: string,
    handle: FileHandle | undefined,
    length: number,
    memoryOnly: boolean,
  ) {
    this.id = id
    this.slot = slot
    this.path = path
    this.handle = handle
    this.bytes = undefined
    this.view = undefined
    this.length = length
    this.appliedEnd = length
    this.written = length
    this.synced = length
    this.isSealed = true
    this.memoryOnly = memoryOnly
  }

  /**
   * Creates a new, empty active segment file (which must not exist) with an in-memory image of
   * `capacity` bytes. The header is written and fdatasync'ed at once (one synchronous fsync per
   * segment), so a segment file that survives a power cut always has a valid header: a bad
   * header can then only be damage, never a torn creation. The directory entry becomes durable
   * at the caller's next directory fsync (until then the file may vanish, which is harmless: no
   * snapshot names it yet).
   */
  static create(
    fs: FileSystem,
    dir: string,
    id: number,
    slot: number,
    capacity: number,
  ): DataSegment {
    const path = join(dir, segmentName(id))
    const handle = fs.open(path, 'wx+')
    const segment = new DataSegment(id, slot, path, handle, SEGMENT_HEADER_SIZE, false)
    segment.setImage(allocateImage(Math.max(capacity, SEGMENT_HEADER_SIZE)))
    writeSegmentHeader(segment.bytes!, id)
    try {
      handle.write(segment.bytes!, 0, SEGMENT_HEADER_SIZE, 0)
      handle.syncSync()
    } catch (err) {
      handle.close()
      throw err
    }
    segment.isSealed = false
    return segment
  }

  /**
   * Creates a sealed segment file (which must not exist) and lets `write` fill it through its
   * handle, header included, `length` bytes in all: the bulk ingest's segments
   * (ingest-writer.ts). Not resident (the cache loads it when reads call for it) and not yet
   * durable: `sync()` it. Unlike `create`, the header is not fsynced on its own: such a segment
   * counts for nothing until the snapshot naming it is durable, and recovery ignores it before
   * that (its header carries `SEGMENT_FLAG_INGEST`; docs/architecture.md, "Bulk ingest").
   */
  static writeSealed(
    fs: FileSystem,
    dir: string,
    id: number,
    slot: number,
    length: number,
    write: (handle: FileHandle) => void,
  ): DataSegment {
    const path = join(dir, segmentName(id))
    const handle = fs.open(path, 'wx+')
    try {
      write(handle)
    } catch (err) {
      handle.close()
      throw err
    }
    const segment = new DataSegment(id, slot, path, handle, length, false)
    segment.synced = 0 // nothing of it is durable yet
    return segment
  }

  /** An active segment that lives only in memory (never written), for read-only opens. */
  static memory(id: number, slot: number, capacity: number): DataSegment {
    const segment = new DataSegment(
      id,
      slot,
      `<memory ${id}>`,
      undefined,
      SEGMENT_HEADER_SIZE,
      true,
    )
    segment.setImage(allocateImage(Math.max(capacity, SEGMENT_HEADER_SIZE)))
    writeSegmentHeader(segment.bytes!, id)
    segment.isSealed = false
    return segment
  }

  /**
   * Opens an existing segment whose first `length` bytes are trusted (the rest, if any, is
   * ignored). Not resident until `load`.
   */
  static open(
    fs: FileSystem,
    dir: string,
    id: number,
    slot: number,
    length: number,
    readOnly: boolean,
  ): DataSegment {
    const path = join(dir, segmentName(id))
    const handle = fs.open(path, readOnly ? 'r' : 'r+')
    return new DataSegment(id, slot, path, handle, length, false)
  }

  private setImage(bytes: Uint8Array): void {
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** Records before this offset are durable in the log and applied: they may be written. */
  get flushLimit(): number {
    return this.appliedEnd
  }

  /**
   * Notes that the records up to `end` (default: every record appended) are durable in the log
   * and applied, so the file may receive them. Never moves back.
   */
  markApplied(end = this.length): void {
    if (end > this.appliedEnd) this.appliedEnd = end
  }

  /** True once sealed: no more appends. */
  get sealed(): boolean {
    return this.isSealed
  }

  /** Seals the segment: no more appends. */
  seal(): void {
    this.isSealed = true
  }

  /** True if the segment holds no record (only its header). */
  isEmpty(): boolean {
    return this.length === SEGMENT_HEADER_SIZE
  }

  /** Bytes of memory the image takes (its capacity), 0 when not resident. */
  get residentBytes(): number {
    return this.bytes === undefined ? 0 : this.bytes.byteLength
  }

  /** True if a record with a value of `valueLength` bytes fits in the active image. */
  hasRoom(valueLength: number): boolean {
    return this.length + RECORD_HEADER_SIZE + valueLength <= this.bytes!.byteLength
  }

  /** Appends a record to the active image and returns its offset. The caller checked `hasRoom`. */
  append(type: number, lsn: number, key: number, value: Uint8Array | undefined): number {
    const offset = this.length
    this.length = writeRecord(this.bytes!, this.view!, offset, type, lsn, key, value)
    return offset
  }

  /**
   * Appends an exact copy of `source`'s record at `offset` (`size` bytes; compaction), read from
   * its image or, when it is not resident, from its file (validated). The copy must be a put of
   * `key` (identity, as every read checks). Returns the new offset.
   */
  appendRecordFrom(source: DataSegment, offset: number, size: number, key: number): number {
    const at = this.length
    if (source.bytes !== undefined) {
      this.bytes!.set(source.bytes.subarray(offset, offset + size), at)
    } else if (source.readRecordInto(offset, this.bytes!, at) !== size) {
      throw corruption(source.path, offset, 'record changed size')
    }
    if (
      this.view!.getFloat64(at + RECORD_KEY, true) !== key ||
      this.bytes![at + RECORD_TYPE] !== TYPE_PUT
    ) {
      throw misplaced(source.path, offset, key)
    }
    this.length = at + size
    return at
  }

  /** Writes the image's bytes up to `flushLimit` that are not in the file yet. */
  flush(): void {
    const end = this.appliedEnd
    if (this.memoryOnly || this.written >= end) return
    this.handle!.write(this.bytes!, this.written, end - this.written, this.written)
    this.written = end
  }

  /**
   * Makes the bytes written so far durable: waits for an fsync already in flight if it covers
   * them, else runs one (after the one in flight). Resolves true if this call started an fsync.
   * A failed fsync is never retried: every later call rejects with the same error.
   */
  async sync(): Promise<boolean> {
    if (this.memoryOnly) return false
    const target = this.written
    if (this.synced >= target) return false
    if (this.syncing !== undefined && this.syncingTarget >= target) {
      await this.syncing
      return false
    }
    await this.startSync()
    return true
  }

  /**
   * Starts an fsync of the bytes written so far without waiting for it (a sealed segment that
   * was written completely: its bytes become durable while the store works on, so a checkpoint
   * finds little left to sync). A failure goes to `onError`, and later `sync` calls reject.
   */
  syncInBackground(onError: (err: unknown) => void): boolean {
    if (this.memoryOnly || this.synced >= this.written || this.syncingTarget >= this.written) {
      return false
    }
    this.startSync().catch((err) => {
      if (this.handle !== undefined) onError(err) // not an fsync cut short by close()
    })
    return true
  }

  private startSync(): Promise<void> {
    const target = this.written
    const previous = this.syncing
    // After the fsync in flight (if any), and never if it failed: a failed fsync is final.
    const run = (
      previous === undefined ? this.handle!.sync() : previous.then(() => this.handle!.sync())
    ).then(() => {
      if (target > this.synced) this.synced = target
      if (this.syncing === run) this.syncing = undefined
    })
    this.syncing = run
    this.syncingTarget = target
    return run
  }

  /**
   * Reads the trusted part of the file into memory and validates it completely (header and every
   * record's checksum). Throws `ERR_CORRUPTION` naming the first bad offset.
   */
  load(): void {
    const bytes = allocateImage(this.length)
    const got = this.handle!.read(bytes, 0, this.length, 0)
    if (got < this.length) {
      throw corruption(this.path, got, `segment shorter than its trusted length ${this.length}`)
    }
    const problem = checkSegmentHeader(bytes, got, this.id)
    if (problem !== undefined) throw corruption(this.path, 0, problem)
    const view = new DataView(bytes.buffer)
    let offset = SEGMENT_HEADER_SIZE
    while (offset < this.length) {
      const size = validateRecord(bytes, view, offset, this.length)
      if (size < 0) throw corruption(this.path, offset, describeRecordStatus(size))
      offset += size
    }
    this.setImage(bytes)
    this.missBytes = 0
  }

  /**
   * Takes `bytes` (the trusted part of the file, already validated, at byte offset 0 of its
   * buffer) as the resident image.
   */
  adoptImage(bytes: Uint8Array): void {
    this.setImage(bytes)
    this.missBytes = 0
  }

  /** Drops the memory image (the file holds every byte of it). */
  evict(): void {
    this.bytes = undefined
    this.view = undefined
  }

  /** True if the image may be dropped: sealed and completely written. */
  get evictable(): boolean {
    return (
      this.isSealed && !this.memoryOnly && this.bytes !== undefined && this.written >= this.length
    )
  }

  /**
   * Reads the value of the put record at `offset` from the file into a new array, validating the
   * record and its identity: it must be a put of `key` (a checksum only proves the bytes are the
   * ones some writer wrote, not that they are the record the index points to: a misplaced or
   * wrongly restored file has valid checksums too). Throws `ERR_CORRUPTION` otherwise.
   */
  readValue(offset: number, key: number): Uint8Array {
    const value = this.readRecordChecked(offset, key)
    this.missBytes += RECORD_HEADER_SIZE + value.length
    return value
  }

  /**
   * The LSN of the put record of `key` at `offset`, read from the file with the record's checksum
   * and identity verified as in `readValue` (the version of a cold value).
   */
  readVersion(offset: number, key: number): number {
    this.readRecordChecked(offset, key)
    return readLsn(SCRATCH_VIEW, 0)
  }

  /** `readValue`'s read and checks; leaves the record header in `SCRATCH`. */
  private readRecordChecked(offset: number, key: number): Uint8Array {
    const header = SCRATCH
    if (offset + RECORD_HEADER_SIZE > this.length) {
      throw corruption(this.path, offset, 'record location past the trusted end of the segment')
    }
    const got = this.handle!.read(header, 0, RECORD_HEADER_SIZE, offset)
    if (got < RECORD_HEADER_SIZE) throw corruption(this.path, offset, 'truncated record header')
    const n = readValueLength(header, 0)
    if (header[RECORD_TYPE] !== TYPE_PUT || offset + RECORD_HEADER_SIZE + n > this.length) {
      throw corruption(this.path, offset, 'bad record header')
    }
    const value = new Uint8Array(n)
    if (this.handle!.read(value, 0, n, offset + RECORD_HEADER_SIZE) < n) {
      throw corruption(this.path, offset, 'truncated record value')
    }
    const sum = crc32(value, 0, n, crc32(header, RECORD_LENGTH, RECORD_HEADER_SIZE))
    if (sum !== SCRATCH_VIEW.getUint32(RECORD_CRC, true)) {
      throw corruption(this.path, offset, 'record checksum mismatch')
    }
    if (SCRATCH_VIEW.getFloat64(RECORD_KEY, true) !== key) throw misplaced(this.path, offset, key)
    return value
  }

  /** Reads a whole record (header and value) into `target` at `at` (compaction of a cold one). */
  readRecordInto(offset: number, target: Uint8Array, at: number): number {
    if (this.bytes !== undefined) {
      const size = recordSize(readValueLength(this.bytes, offset))
      target.set(this.bytes.subarray(offset, offset + size), at)
      return size
    }
    const got = this.handle!.read(target, at, RECORD_HEADER_SIZE, offset)
    if (got < RECORD_HEADER_SIZE) throw corruption(this.path, offset, 'truncated record header')
    const size = recordSize(readValueLength(target, at))
    if (offset + size > this.length || at + size > target.byteLength) {
      throw corruption(this.path, offset, 'bad record length')
    }
    if (
      this.handle!.read(
        target,
        at + RECORD_HEADER_SIZE,
        size - RECORD_HEADER_SIZE,
        offset + RECORD_HEADER_SIZE,
      ) <
      size - RECORD_HEADER_SIZE
    ) {
      throw corruption(this.path, offset, 'truncated record value')
    }
    const view = new DataView(target.buffer, target.byteOffset, target.byteLength)
    const status = validateRecord(target, view, at, at + size)
    if (status < 0) throw corruption(this.path, offset, describeRecordStatus(status))
    return size
  }

  /** Size in bytes of the record at `offset` (from memory, or one small read). */
  recordSizeAt(offset: number): number {
    if (this.bytes !== undefined) return recordSize(readValueLength(this.bytes, offset))
    // The crc32 and the value length: the fields before the type byte.
    if (this.handle!.read(SCRATCH, 0, RECORD_TYPE, offset) < RECORD_TYPE) {
      throw corruption(this.path, offset, 'truncated record header')
    }
    return recordSize(readValueLength(SCRATCH, 0))
  }

  /** Truncates the file to its trusted length (recovery); durable at the next sync. */
  truncateFile(): void {
    this.handle!.truncate(this.length)
  }

  /** Current size of the file on disk. */
  fileSize(): number {
    return this.memoryOnly ? this.length : this.handle!.size()
  }

  /** Closes the file handle (the image, if any, stays usable for outstanding views). */
  close(): void {
    const handle = this.handle
    this.handle = undefined
    handle?.close()
  }
}

/**
 * A zero-filled segment image of `size` bytes, in a `SharedArrayBuffer`: a value view's
 * `.buffer` cannot be transferred (`postMessage`/`structuredClone` with a transfer list throw
 * instead of detaching the store's memory).
 */
export function allocateImage(size: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(size))
}

/** The `ERR_CORRUPTION` for a record that is not the put of `key` the index points to. */
export function misplaced(path: string, offset: number, key: number): AlexStorageError {
  return corruption(
    path,
    offset,
    `the record here is not the value of key ${key} (a misplaced, swapped or wrongly restored file)`,
  )
}

/** Scratch for record headers read from disk (reads are synchronous, so one suffices). */
const SCRATCH = new Uint8Array(RECORD_HEADER_SIZE)
const SCRATCH_VIEW = new DataView(SCRATCH.buffer)
