import { join } from 'node:path'
import type { FileHandle, FileSystem } from './file-system.js'
import { PREALLOCATE_BYTES, SEGMENT_HEADER_BYTES, TEMP_SUFFIX, ZERO_FILL_BYTES } from './format.js'
import type { RecoveryPlan } from './recovery.js'
import { coveredCount, Retention } from './retention.js'
import { encodeSegmentHeader, segmentFileName } from './segment.js'
import type { WalCounters } from './stats.js'

/** One segment of the open log, as the writer tracks it. */
export interface SegmentEntry {
  id: number
  path: string
  prevEndLsn: number
  baseLsn: number
  /** LSN following the last operation written to it (baseLsn while it has none). */
  endLsn: number
  /** Size in bytes once sealed (retention by size; the active segment's is not used). */
  bytes: number
  /** When it was sealed, on `Retention.now`'s clock (retention by age); +Infinity if active. */
  sealedAt: number
}

/**
 * The segments `Wal.open` adopts from its recovery plan, oldest first: the obsolete ones (wholly
 * covered whatever they hold) then the kept ones, all counted as sealed at `sealedAt`.
 */
export function entriesFromPlan(plan: RecoveryPlan, sealedAt: number): SegmentEntry[] {
  return [...plan.obsolete, ...plan.segments].map((s) => ({
    id: s.id,
    path: s.path,
    prevEndLsn: s.prevEndLsn,
    baseLsn: s.baseLsn,
    // Obsolete segments are wholly covered by the checkpoint whatever they hold.
    endLsn: plan.obsolete.includes(s) ? Math.min(s.endLsn, plan.checkpointLsn + 1) : s.endLsn,
    bytes: s.validEnd,
    sealedAt,
  }))
}

/**
 * The segment files of an open log: the sealed ones (oldest first) and the active one, which
 * takes every write. It creates segments crash-safely (temporary file, header, fsync, rename,
 * directory fsync), seals the active one (fsync first) before starting the next, and deletes
 * segments a checkpoint covers unless `retention` keeps them (then fsyncs the directory). Every
 * call that fails throws; the group-commit loop turns that into the log's failed state.
 */
/** The zeros `zeroFill` writes (read-only: never handed to anything that could change it). */
const ZEROS = new Uint8Array(ZERO_FILL_BYTES)

export class SegmentFiles {
  readonly segments: SegmentEntry[] = []
  private handle: FileHandle | undefined
  /** Bytes in the active segment (the next write goes here). */
  activeBytes = 0
  /** Size of the active segment's file: `activeBytes` plus zero padding reserved ahead. */
  private allocated = 0
  /**
   * End of the zeros really written ahead of `activeBytes` (see `ZERO_FILL_BYTES`); the padding
   * between this and `allocated` is a hole until then.
   */
  private zeroed = 0
  /** True while bytes written to the active segment are not yet covered by a completed fsync. */
  dirty = false
  /**
   * Every byte of the active segment before this offset is durable (its header from creation
   * on; frames once an fdatasync issued after their write completed). The durable end of the
   * watermark each group write carries.
   */
  syncedBytes = SEGMENT_HEADER_BYTES
  /** True once the active segment holds a frame (rotation never leaves an empty segment). */
  activeHasFrames = false

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly counters: WalCounters,
    /** fdatasync on the calling thread (`syncSync`) instead of the thread pool (`sync`). */
    private readonly blockingSync = false,
    /** Segment size the writer rotates at: preallocation never reserves past it. */
    private readonly segmentBytes = Number.POSITIVE_INFINITY,
    /** Which covered segments `deleteCovered` keeps (none by default). */
    readonly retention = new Retention({ retainBytes: 0, retainMs: 0 }),
  ) {}

  /** The active segment. */
  get active(): SegmentEntry {
    return this.segments[this.segments.length - 1] as SegmentEntry
  }

  /** Adds recovered (sealed) segments, oldest first, before the first `create`. */
  adopt(entries: readonly SegmentEntry[]): void {
    for (const e of entries) this.segments.push({ ...e })
  }

  /**
   * Creates segment `id` and makes it the active one: the header goes to `<name>.tmp`, is
   * fsynced, renamed into place and the directory fsynced, so a segment file with its final
   * name always has a complete, durable header.
   */
  async create(
    id: number,
    prevEndLsn: number,
    baseLsn: number,
    checkpointLsn: number,
  ): Promise<void> {
    const path = join(this.dir, segmentFileName(id))
    const tmp = path + TEMP_SUFFIX
    const header = encodeSegmentHeader({ segmentId: id, prevEndLsn, baseLsn, checkpointLsn })
    const tmpHandle = this.fs.open(tmp, 'w+')
    try {
      tmpHandle.write(header, 0, header.length, 0)
      await this.timedSync(tmpHandle)
    } finally {
      tmpHandle.close()
    }
    this.fs.rename(tmp, path)
    await this.fs.syncDir(this.dir)
    this.counters.dirSyncs++
    const handle = this.fs.open(path, 'r+')
    this.handle?.close()
    this.handle = handle
    this.segments.push({
      id,
      path,
      prevEndLsn,
      baseLsn,
      endLsn: baseLsn,
      bytes: SEGMENT_HEADER_BYTES,
      sealedAt: Number.POSITIVE_INFINITY,
    })
    this.activeBytes = SEGMENT_HEADER_BYTES
    this.allocated = SEGMENT_HEADER_BYTES
    this.zeroed = SEGMENT_HEADER_BYTES
    this.syncedBytes = SEGMENT_HEADER_BYTES
    this.dirty = false
    this.activeHasFrames = false
    this.counters.segmentsCreated++
    this.counters.bytesWritten += header.length
  }

  /**
   * Seals the active segment (its padding cut off, then fsynced if dirty) and starts segment
   * id + 1 after it, whose first operation gets `baseLsn` (default: the LSN following the
   * active segment's last; higher after `Wal.reserve`).
   */
  async rotate(checkpointLsn: number, baseLsn?: number): Promise<void> {
    this.cutPadding()
    await this.sync()
    const a = this.active
    a.bytes = this.activeBytes
    a.sealedAt = this.retention.now()
    await this.create(a.id + 1, a.endLsn, Math.max(a.endLsn, baseLsn ?? 0), checkpointLsn)
  }

  /**
   * Writes `buf[0, len)` at the end of the active segment. `endLsn` is the LSN following the
   * last operation in it (unchanged if it holds only checkpoint frames). Before a write past the
   * file's size, the file is extended with zero padding (up to `PREALLOCATE_BYTES` ahead, never
   * past `segmentBytes`), so most fdatasyncs find the size unchanged, and zeros are written
   * ahead of the frames (`ZERO_FILL_BYTES`), so most fdatasyncs find their blocks allocated. On
   * failure (EIO, ENOSPC) it tries to cut the partial write off so the file ends at the last
   * whole frame, then throws.
   */
  write(buf: Uint8Array, len: number, endLsn: number): void {
    const handle = this.handle as FileHandle
    const at = this.activeBytes
    const end = at + len
    this.dirty = true
    try {
      if (end > this.allocated) {
        const size = Math.max(end, Math.min(end + PREALLOCATE_BYTES, this.segmentBytes))
        handle.truncate(size)
        this.allocated = size
      }
      handle.write(buf, 0, len, at)
      if (end + ZERO_FILL_BYTES / 2 > this.zeroed) this.zeroFill(handle, end)
    } catch (err) {
      try {
        handle.truncate(at)
      } catch {
        // Recovery truncates the torn tail on the next open.
      }
      // Either way close() must not cut the file again (it may hold a torn frame, not padding).
      this.allocated = at
      this.zeroed = at
      throw err
    }
    this.activeBytes = end
    this.activeHasFrames = true
    this.active.endLsn = endLsn
    this.counters.bytesWritten += len
  }

  /**
   * Writes zeros from `end` (or the end of the zeros already written) up to `ZERO_FILL_BYTES`
   * further, never past the file's size. Why real zeros when the file already reads as zeros
   * there: a write into a hole makes the file system allocate blocks, and the next fdatasync
   * must then persist that allocation as well (on ext4 a journal commit). Written ahead, the
   * allocation is persisted once per fill rather than by every group's fdatasync: measured on
   * ext4 with 10 KB groups, 1.25x faster fdatasyncs (docs/benchmarks.md, issue #14).
   */
  private zeroFill(handle: FileHandle, end: number): void {
    const from = Math.max(end, this.zeroed)
    const to = Math.min(from + ZERO_FILL_BYTES, this.allocated)
    // Not counted in bytesWritten, which counts the log's bytes (the end of its frames).
    if (to > from) handle.write(ZEROS, 0, to - from, from)
    this.zeroed = Math.max(to, end)
  }

  /**
   * fdatasyncs the active segment if it has unsynced bytes. Never retried by callers. Resolves
   * with the fdatasync's duration in ms, or -1 if there was nothing to sync.
   */
  async sync(): Promise<number> {
    if (!this.dirty) return -1
    this.dirty = false
    const upTo = this.activeBytes
    const ms = await this.timedSync(this.handle as FileHandle)
    if (upTo > this.syncedBytes) this.syncedBytes = upTo
    return ms
  }

  /**
   * fdatasyncs the active segment now, on the calling thread (blocking), even while an
   * asynchronous fsync is in flight: that one may not cover the latest write. During a rotation
   * the old segment is still the open one until the new one exists. Throws on failure (fatal).
   */
  syncNow(): void {
    const upTo = this.activeBytes
    const start = performance.now()
    ;(this.handle as FileHandle).syncSync()
    this.counters.fsyncs++
    this.counters.fsyncLatency.record((performance.now() - start) * 1000)
    this.dirty = false // synchronous: nothing was written in between
    if (upTo > this.syncedBytes) this.syncedBytes = upTo
  }

  /** fdatasyncs `handle`, counted and timed; resolves with the duration in ms. */
  private async timedSync(handle: FileHandle): Promise<number> {
    const start = performance.now()
    if (this.blockingSync) handle.syncSync()
    else await handle.sync()
    const ms = performance.now() - start
    this.counters.fsyncs++
    this.counters.fsyncLatency.record(ms * 1000)
    return ms
  }

  /**
   * Deletes sealed segments whose operations are all at or below `lsn`, except those `retention`
   * keeps (oldest first, stopping at the first kept one; the active one is never deleted), then
   * fsyncs the directory. Returns how many were deleted.
   */
  deleteCovered(lsn: number): Promise<number> {
    const covered = coveredCount(this.segments, lsn, this.segments.length - 1)
    return this.deleteOldest(this.retention.deletableCount(this.segments, covered))
  }

  /**
   * Deletes the `count` oldest segments (never the active one), then fsyncs the directory.
   * Unlinks run synchronously, each before its entry leaves `segments`, so concurrent callers
   * never unlink a file twice. Returns how many were deleted.
   */
  async deleteOldest(count: number): Promise<number> {
    let n = 0
    while (n < count && this.segments.length > 1) {
      const s = this.segments[0] as SegmentEntry
      this.fs.unlink(s.path)
      this.segments.shift()
      this.counters.segmentsDeleted++
      n++
    }
    if (n > 0) {
      await this.fs.syncDir(this.dir)
      this.counters.dirSyncs++
    }
    return n
  }

  /**
   * Cuts the zero padding off the active segment, so that a sealed segment or a cleanly closed
   * log holds only frames (padding is legal anywhere, but it is wasted space once no write will
   * use it). A crash before the cut is durable leaves the padding, which recovery accepts.
   */
  private cutPadding(): void {
    if (this.handle === undefined || this.allocated === this.activeBytes) return
    this.handle.truncate(this.activeBytes)
    this.allocated = this.activeBytes
    this.zeroed = this.activeBytes
    this.dirty = true
  }

  /**
   * Closes the active file, first cutting its padding off (unsynced bytes stay in the page
   * cache; the caller syncs first if it wants them durable).
   */
  close(): void {
    const handle = this.handle
    try {
      this.cutPadding()
    } finally {
      this.handle = undefined
      handle?.close()
    }
  }
}
