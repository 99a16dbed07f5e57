import { join } from 'node:path'
import type { FileSystem } from '@alex/wal/io'
import { readLsn, readValueLength } from './data-record.js'
import { DataSegment, misplaced } from './data-segment.js'
import { AlexStorageError, ErrorCode, readFailed } from './errors.js'
import { segmentName } from './file-names.js'
import {
  MAX_SLOTS,
  RECORD_HEADER_SIZE,
  RECORD_KEY,
  RECORD_TYPE,
  SEGMENT_HEADER_SIZE,
  TYPE_PUT,
} from './format.js'
import { knownRecordSize, offsetOf, packLocation, slotOf } from './location.js'
import type { SnapshotSegment } from './snapshot.js'
import { SegmentCache } from './value-cache.js'

/** Unflushed durable bytes of the active segment that trigger a write to its file. */
const FLUSH_BYTES = 1024 * 1024

/**
 * The store's data segments: the slot table record locations refer to, the active segment
 * appends go to (and its rotation), the value cache, and the live/dead byte accounting.
 *
 * `bufs[slot]` is the image of a resident segment: `get` reads it directly. Every image is a
 * `SharedArrayBuffer`-backed array at byte offset 0, so a value view is `new Uint8Array(
 * buf.buffer, offset, length)`. `views[slot]` is a DataView over the same image, for the key check
 * every read makes (identity, not only integrity: see `readValue`).
 */
export class SegmentSet {
  /** Segment by slot (`undefined`: free slot). */
  private readonly slots: (DataSegment | undefined)[] = []
  /**
   * Resident image by slot, the read fast path (`undefined`: not resident). Public, with `views`
   * and `cache.ref`, for one reader only: the store's hot `get`, which reads the three arrays
   * directly (no call per lookup); everything else goes through methods.
   */
  readonly bufs: (Uint8Array | undefined)[] = []
  /** DataView over `bufs[slot]` (same residency). */
  readonly views: (DataView | undefined)[] = []
  /** Segment-granular cache of images. */
  readonly cache: SegmentCache
  /** The segment appends go to; created by the first append after open or a seal. */
  active: DataSegment | undefined
  /** Id the next new segment gets. */
  nextId: number
  /** A segment file was created since the last directory fsync. */
  private dirDirty = false
  /** Bytes of all records in all segments (headers excluded). */
  dataBytes = 0
  /** Bytes of the records some key points to. */
  liveBytes = 0
  /** Disk reads of single values (cache misses served piecemeal). */
  diskReads = 0
  /** Value reads served from a resident image (`get`'s fast path, `valueAt`, `readValue`). */
  cacheHits = 0
  /** fsyncs of new segment headers. */
  headerSyncs = 0
  /** fsyncs of sealed segments started in the background. */
  backgroundSyncs = 0
  /** Called when a background fsync fails (see `connect`). */
  private onSyncFailure: (err: unknown) => void = () => {}
  /** Called before any record bytes are written to a segment file (see `connect`). */
  private logBarrier: () => void = () => {}
  private readonly fs: FileSystem
  private readonly dir: string
  private readonly segmentBytes: number
  private readonly memoryOnly: boolean
  private readonly freeSlots: number[] = []
  /** Sealed segments with records not yet written (their last writes are still pending). */
  private readonly unflushedSealed: DataSegment[] = []
  /**
   * Retired segments kept, file, slot and image, for open snapshots that may still read old
   * records in them (`retain`; segment-retention.ts): no longer part of the set (not listed, not
   * counted, named by no new snapshot file) until `remove`.
   */
  private readonly retained = new Set<DataSegment>()

  constructor(
    fs: FileSystem,
    dir: string,
    options: { cacheBytes: number; segmentBytes: number; memoryOnly: boolean; nextId: number },
  ) {
    this.fs = fs
    this.dir = dir
    this.segmentBytes = options.segmentBytes
    this.memoryOnly = options.memoryOnly
    this.nextId = options.nextId
    this.cache = new SegmentCache(options.cacheBytes, (segment) => this.publish(segment.slot))
  }

  /**
   * Connects the set to the store once it is open. `logBarrier` runs before any record bytes are
   * written to a segment file: it must make the log records of everything applied so far durable
   * first (the WAL rule: a data file never holds an operation the log could lose, whatever the
   * sync mode); recovery's replay needs none, what it replays is durable in the log already.
   * `onSyncFailure` gets a failed background fsync (the store fails: an fsync is never retried).
   */
  connect(logBarrier: () => void, onSyncFailure: (err: unknown) => void): void {
    this.logBarrier = logBarrier
    this.onSyncFailure = onSyncFailure
  }

  /** True if a segment file was created since the last directory fsync (`syncAll`). */
  hasUnsyncedDirectory(): boolean {
    return this.dirDirty
  }

  /** Takes a free slot (the lowest freed one, else a new one). */
  allocateSlot(): number {
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.slots.length
    if (slot >= MAX_SLOTS) {
      throw new AlexStorageError(ErrorCode.STORE_FAILED, 'too many data segments (slots)')
    }
    this.grow(slot)
    return slot
  }

  private grow(slot: number): void {
    while (this.slots.length <= slot) {
      this.slots.push(undefined)
      this.bufs.push(undefined)
      this.views.push(undefined)
    }
  }

  /** Makes `segment`'s image the read fast path of `slot` (none if `segment` is undefined). */
  private publish(slot: number, segment?: DataSegment): void {
    this.bufs[slot] = segment?.bytes
    this.views[slot] = segment?.view
  }

  /** Registers an existing segment at the slot it was opened with (recovery). */
  adopt(segment: DataSegment): void {
    this.grow(segment.slot)
    if (this.slots[segment.slot] !== undefined) throw new Error(`slot ${segment.slot} in use`)
    this.slots[segment.slot] = segment
    this.dataBytes += segment.length - SEGMENT_HEADER_SIZE
    this.liveBytes += segment.liveBytes
    if (segment.bytes !== undefined) {
      this.cache.admit(segment)
      this.publish(segment.slot, segment)
    }
  }

  /** Makes free slots of the unused slot numbers below the highest used one (after recovery). */
  collectFreeSlots(): void {
    this.freeSlots.length = 0
    for (let s = this.slots.length - 1; s >= 0; s--) {
      if (this.slots[s] === undefined) this.freeSlots.push(s)
    }
  }

  /**
   * Seals the active segment (if any) and starts a new one big enough for a value of
   * `valueLength` bytes. Returns the new active segment.
   */
  startActive(valueLength = 0): DataSegment {
    this.sealActive()
    this.active = this.create(
      Math.max(this.segmentBytes, SEGMENT_HEADER_SIZE + RECORD_HEADER_SIZE + valueLength),
    )
    return this.active
  }

  /** Seals the active segment, if any; the next append starts a new one. */
  sealActive(): void {
    const active = this.active
    if (active === undefined) return
    this.active = undefined
    this.seal(active)
  }

  /** Creates a new segment (file and resident image), e.g. a compaction output. */
  create(capacity: number): DataSegment {
    const slot = this.allocateSlot()
    const id = this.nextId++
    this.cache.makeRoom(capacity)
    const segment = this.memoryOnly
      ? DataSegment.memory(id, slot, capacity)
      : DataSegment.create(this.fs, this.dir, id, slot, capacity)
    if (!this.memoryOnly) this.headerSyncs++
    this.dirDirty = true
    this.slots[slot] = segment
    this.publish(slot, segment)
    this.cache.admit(segment)
    return segment
  }

  /**
   * Seals `segment`: no more appends; its applied bytes are written now, the rest when due. Once
   * completely written it is fsynced in the background (see `DataSegment.syncInBackground`).
   */
  seal(segment: DataSegment): void {
    segment.seal()
    this.write(segment)
    if (segment.written < segment.length) this.unflushedSealed.push(segment)
    else this.syncSealed(segment)
  }

  private syncSealed(segment: DataSegment): void {
    if (segment.syncInBackground(this.onSyncFailure)) this.backgroundSyncs++
  }

  /**
   * Appends a record to the active segment (rotating it when full) and returns its location.
   * The record is not yet flushable: `applied` is called once its log entry is durable.
   */
  append(type: number, lsn: number, key: number, value: Uint8Array | undefined): number {
    const n = value === undefined ? 0 : value.length
    let segment = this.active
    if (segment === undefined || !segment.hasRoom(n)) segment = this.startActive(n)
    const offset = segment.append(type, lsn, key, value)
    this.dataBytes += RECORD_HEADER_SIZE + n
    return packLocation(segment.slot, offset, n)
  }

  /**
   * Notes that the record at `location` (of `size` bytes) is durable in the log and applied: the
   * file may now receive it (at the next `flushDue`). Pure bookkeeping, no I/O, so applying a
   * batch cannot be interrupted halfway.
   */
  applied(location: number, size: number): void {
    this.slots[slotOf(location)]!.markApplied(offsetOf(location) + size)
  }

  /**
   * Writes what is due: the active segment once it has `FLUSH_BYTES` of applied, unwritten
   * records (few large writes instead of one per record), and every sealed segment completely
   * (so its image becomes evictable).
   */
  flushDue(): void {
    const active = this.active
    if (active !== undefined && active.flushLimit - active.written >= FLUSH_BYTES) {
      this.write(active)
    }
    const sealed = this.unflushedSealed
    for (let i = sealed.length - 1; i >= 0; i--) {
      const s = sealed[i]!
      this.write(s)
      if (s.written >= s.length) {
        sealed.splice(i, 1)
        this.syncSealed(s)
      }
    }
  }

  /** Adds a record to the live bytes (a key now points to it). */
  addLive(location: number, size: number): void {
    this.slots[slotOf(location)]!.liveBytes += size
    this.liveBytes += size
  }

  /**
   * Removes the record at `location` from the live bytes (its key moved on or was deleted).
   * Needs the record's size: from the image, or one small read when the segment is cold.
   */
  kill(location: number): void {
    const segment = this.slots[slotOf(location)]!
    const known = knownRecordSize(location)
    const size = known >= 0 ? known : segment.recordSizeAt(offsetOf(location))
    segment.liveBytes -= size
    this.liveBytes -= size
  }

  /**
   * Compaction's copy: appends an exact copy of the live record of `key` at `location` (`size`
   * bytes, see `sizeAt`) to `out` (which has room for it), moves its live bytes there and returns
   * the copy's location. The copy is applied at once (its LSN is durable already).
   */
  copyRecord(location: number, size: number, key: number, out: DataSegment): number {
    const source = this.slots[slotOf(location)]!
    const offset = offsetOf(location)
    const at = out.appendRecordFrom(source, offset, size, key)
    out.markApplied()
    source.liveBytes -= size
    out.liveBytes += size
    this.dataBytes += size
    return packLocation(out.slot, at, size - RECORD_HEADER_SIZE)
  }

  /** Size of the record at `location`. */
  sizeAt(location: number): number {
    const known = knownRecordSize(location)
    return known >= 0 ? known : this.slots[slotOf(location)]!.recordSizeAt(offsetOf(location))
  }

  /**
   * The value of `key` at `location` (the slow path of `get`: a long value, a segment that is not
   * resident, or a fast-path record that failed its identity check). Loads the segment if the
   * cache admits it, else reads the one record. Every read checks that the record is a put of
   * `key`: a misplaced, swapped or wrongly restored file has valid checksums too. Throws
   * `ERR_CORRUPTION` (file, offset) on damage or a record of another key.
   */
  readValue(location: number, key: number): Uint8Array {
    const slot = slotOf(location)
    const offset = offsetOf(location)
    const segment = this.slots[slot]
    if (segment === undefined) {
      throw new AlexStorageError(ErrorCode.CORRUPTION, `location names no segment (slot ${slot})`)
    }
    if (segment.bytes === undefined && !segment.loadFailed && this.cache.shouldLoad(segment)) {
      try {
        segment.load()
        this.cache.admit(segment)
        this.publish(slot, segment)
      } catch (err) {
        // A damaged record elsewhere in the segment must not fail reads of healthy ones: keep
        // serving this segment record by record (each read validates its own record and key).
        // A bad header (offset 0) means the file is not this segment at all: never fall back.
        const e = err as AlexStorageError
        if (e.code !== ErrorCode.CORRUPTION || e.offset === 0)
          throw readFailed(segment.path, 0, err)
        segment.loadFailed = true
      }
    }
    const bytes = segment.bytes
    if (bytes !== undefined) {
      if (
        segment.view!.getFloat64(offset + RECORD_KEY, true) !== key ||
        bytes[offset + RECORD_TYPE] !== TYPE_PUT
      ) {
        throw misplaced(segment.path, offset, key)
      }
      this.cacheHits++
      return new Uint8Array(
        bytes.buffer,
        offset + RECORD_HEADER_SIZE,
        readValueLength(bytes, offset),
      )
    }
    this.diskReads++
    try {
      return segment.readValue(offset, key)
    } catch (err) {
      throw readFailed(segment.path, offset, err)
    }
  }

  /**
   * The LSN of the put of `key` at `location` (its version, `AlexStorage.version`): read from the
   * record header in the image, or from the file (the whole record read and its checksum
   * verified). Identity is checked as in `readValue`: a record of another key is
   * `ERR_CORRUPTION`.
   */
  lsnAt(location: number, key: number): number {
    const slot = slotOf(location)
    const offset = offsetOf(location)
    const view = this.views[slot]
    if (view !== undefined) {
      if (
        view.getFloat64(offset + RECORD_KEY, true) !== key ||
        this.bufs[slot]![offset + RECORD_TYPE] !== TYPE_PUT
      ) {
        this.readValue(location, key) // throws the misplaced-record error with file and offset
      }
      return readLsn(view, offset)
    }
    const segment = this.slots[slot]
    if (segment === undefined) {
      throw new AlexStorageError(ErrorCode.CORRUPTION, `location names no segment (slot ${slot})`)
    }
    this.diskReads++
    try {
      return segment.readVersion(offset, key)
    } catch (err) {
      throw readFailed(segment.path, offset, err)
    }
  }

  /** Every segment in use, in slot order (retained ones excluded: see `retain`). */
  list(): DataSegment[] {
    const out: DataSegment[] = []
    const retained = this.retained.size > 0 ? this.retained : undefined
    for (const s of this.slots) if (s !== undefined && !retained?.has(s)) out.push(s)
    return out
  }

  /** Deletes `segment`'s file and frees its slot (its image stays alive for existing views). */
  remove(segment: DataSegment): void {
    segment.close()
    this.cache.forget(segment)
    this.slots[segment.slot] = undefined
    this.publish(segment.slot)
    this.freeSlots.push(segment.slot)
    if (!this.retained.delete(segment)) this.uncount(segment)
    if (!segment.memoryOnly) this.fs.unlink(join(this.dir, segmentName(segment.id)))
  }

  /**
   * Takes a retired segment out of the set without deleting it: it keeps its slot (so no new
   * segment reuses it while a location in an open snapshot's history names it), its file, handle
   * and cached image, and reads of its records keep working, but it is no longer listed (no
   * snapshot file, compaction or backup sees it) nor counted in the data and live bytes (so it
   * does not look like dead bytes to compact). `remove` deletes it later.
   */
  retain(segment: DataSegment): void {
    if (this.retained.has(segment)) return
    this.retained.add(segment)
    this.uncount(segment)
  }

  /** Retired segments kept for open snapshots (see `retain`). */
  get retainedSegments(): number {
    return this.retained.size
  }

  private uncount(segment: DataSegment): void {
    this.dataBytes -= segment.length - SEGMENT_HEADER_SIZE
    this.liveBytes -= segment.liveBytes
  }

  /** Sealed segments other than the active one that hold no record (a checkpoint retires them). */
  emptySealed(): DataSegment[] {
    return this.list().filter((s) => s !== this.active && s.isEmpty())
  }

  /** The snapshot's segment table: every segment but `retire`, with its applied length. */
  tableExcept(retire: readonly DataSegment[]): SnapshotSegment[] {
    return this.list()
      .filter((s) => !retire.includes(s))
      .map((s) => ({ slot: s.slot, id: s.id, length: s.flushLimit, liveBytes: s.liveBytes }))
  }

  /**
   * Checkpoint step 2 (docs/storage-format.md, section 9): writes every segment's applied bytes,
   * fsyncs them (waiting for a background fsync that covers them instead of starting another),
   * and fsyncs the directory if a segment was created since the last time. Returns the fsyncs it
   * started.
   */
  async syncAll(): Promise<number> {
    const all = this.list()
    for (const s of all) this.write(s)
    let fsyncs = 0
    for (const did of await Promise.all(all.map((s) => s.sync()))) if (did) fsyncs++
    if (this.dirDirty) {
      this.dirDirty = false
      await this.fs.syncDir(this.dir)
      fsyncs++
    }
    return fsyncs
  }

  /** Writes `segment`'s flushable bytes, after the log barrier (see `logBarrier`). */
  private write(segment: DataSegment): void {
    if (segment.written >= segment.flushLimit || segment.memoryOnly) return
    this.logBarrier()
    segment.flush()
  }

  /** Closes every file handle; one that fails to close does not keep the others open. */
  closeAll(): void {
    let first: unknown
    for (const s of this.slots) {
      try {
        s?.close() // closing twice is a no-op
      } catch (err) {
        first ??= err // the first error is reported
      }
    }
    if (first !== undefined) throw first
  }
}
