import type { DataSegment } from './data-segment.js'
import { MAX_SLOTS } from './format.js'

/**
 * The value cache: which data segments keep their bytes in memory. A resident segment serves
 * `get` as a view of its image (no copy, no I/O); any other value is read from the file on each
 * miss. The cache works at segment granularity, like a memory map with `cacheBytes` as its
 * resident-size limit:
 *
 * - New segments (the active one, compaction outputs) are always resident while being written;
 *   room is made for them by evicting sealed segments (CLOCK: a segment read since the hand last
 *   passed gets a second chance).
 * - A miss loads its whole segment only if that fits without evicting anything, or once the
 *   segment has been read piecemeal for more than half its size (then evicting by CLOCK). A store
 *   larger than its cache therefore settles into a stable resident set plus single-record reads,
 *   instead of thrashing whole segments in and out.
 *
 * Eviction only drops the cache's reference: views already handed out keep their bytes alive.
 */
export class SegmentCache {
  /** The budget, `cacheBytes`. */
  readonly budget: number
  /** Bytes of images in memory (their capacity). */
  residentBytes = 0
  /**
   * Reference bit per slot, set by readers (`ref[slot] = 1`), cleared by the CLOCK hand. Sized
   * for every possible slot once (32 KiB), so readers may keep a reference to it.
   */
  readonly ref: Uint8Array
  /** Segments evicted so far (stats). */
  evictions = 0
  private readonly resident: DataSegment[] = []
  private hand = 0
  private readonly onEvict: (segment: DataSegment) => void

  /** `onEvict` is called after a segment's image is dropped (the store clears its fast path). */
  constructor(budget: number, onEvict: (segment: DataSegment) => void) {
    this.budget = budget
    this.onEvict = onEvict
    this.ref = new Uint8Array(MAX_SLOTS)
  }

  /** True if `bytes` more fit in the budget without evicting. */
  hasRoom(bytes: number): boolean {
    return this.residentBytes + bytes <= this.budget
  }

  /** Records that `segment` became resident. */
  admit(segment: DataSegment): void {
    this.residentBytes += segment.residentBytes
    this.resident.push(segment)
    this.ref[segment.slot] = 1
  }

  /** Forgets `segment` (deleted or no longer resident by the owner's choice). */
  forget(segment: DataSegment): void {
    const i = this.resident.indexOf(segment)
    if (i < 0) return
    this.residentBytes -= segment.residentBytes
    this.resident.splice(i, 1)
    if (this.hand > i) this.hand--
  }

  /**
   * Evicts sealed, fully written segments by CLOCK until `bytes` more fit or nothing more can be
   * evicted. Returns true if they fit.
   */
  makeRoom(bytes: number): boolean {
    let scanned = 0
    while (!this.hasRoom(bytes) && this.resident.length > 0) {
      if (scanned > 2 * this.resident.length) return false
      if (this.hand >= this.resident.length) this.hand = 0
      const segment = this.resident[this.hand]!
      scanned++
      if (!segment.evictable) {
        this.hand++
        continue
      }
      if (this.ref[segment.slot] === 1) {
        this.ref[segment.slot] = 0
        this.hand++
        continue
      }
      this.resident.splice(this.hand, 1)
      this.residentBytes -= segment.residentBytes
      segment.evict()
      this.evictions++
      this.onEvict(segment)
    }
    return this.hasRoom(bytes)
  }

  /**
   * Decides, after a miss on non-resident `segment`, whether to load it whole now: if it fits
   * without evicting, or if it has been read piecemeal for more than half its length and room
   * can be made.
   */
  shouldLoad(segment: DataSegment): boolean {
    if (this.hasRoom(segment.length)) return true
    return segment.missBytes * 2 > segment.length && this.makeRoom(segment.length)
  }

  /** Number of resident segments. */
  get residentSegments(): number {
    return this.resident.length
  }
}
