import { AlexIndex, type NormalizedRange } from '@alex/index'
import { NumberMap } from './number-map.js'

/** `locationAt`: the key's value at that LSN is its current one (read the index). */
export const CURRENT = -2
/** An old location meaning "the key had no value" (a key created after the snapshot). */
export const ABSENT = -1

/** Capacity of the change arrays when recording starts (they grow by doubling). */
const INITIAL_CAPACITY = 256
/** Above this capacity the arrays are dropped, not kept, when the last snapshot goes. */
const KEEP_CAPACITY = 1 << 16

/** One open snapshot's hold on the history (`acquire`, `release`). */
export interface SnapshotHold {
  /** The LSN the snapshot reads at. */
  readonly lsn: number
  /** Set once released (by `release`, or by `releaseAll` at close). */
  released: boolean
  /** The history's generation it was acquired in (`releaseAll` starts a new one). */
  readonly generation: number
}

/**
 * What the store's open snapshots need of the past (docs/architecture.md, "Snapshots, retention
 * and compaction"): while at least one snapshot is open, every change of a key's visible value at
 * LSN n is recorded as (key, the location it had before, or `ABSENT`, n). A snapshot at LSN s reads
 * key k as the old location of the first change to k with an LSN above s, or, if there is none,
 * as the current index entry. A change is dropped once no open snapshot needs it (its LSN at or
 * below the oldest open snapshot's), so memory is proportional to what changed since the oldest
 * open snapshot, never a copy of the index. With no snapshot open nothing is recorded
 * (`recording` is false: the apply step's one branch).
 *
 * Storage: the changes in LSN order in parallel typed arrays (a queue: pruning takes from the
 * front), each change linked to the previous change of the same key; an ordered map (an
 * `AlexIndex`) from each key with changes to its newest one gives lookups and the ordered key
 * walk a snapshot iteration merges with the index.
 *
 * Also the registry of open snapshots (a multiset of LSNs, usually acquired in increasing order:
 * O(1) per acquire) and its listener, which learns when the oldest open snapshot moves on (the
 * retention of compacted segments, segment-retention.ts).
 */
export class VersionHistory {
  /** True while a snapshot is open: callers of `changed` may test it first (one branch). */
  recording = false
  // Open snapshots: distinct LSNs ascending from `openHead`, with how many are open at each.
  private openLsns: number[] = []
  private openCounts: number[] = []
  private openHead = 0
  private openTotal = 0
  private generation = 0
  // Changes, by sequence number: change `seq` is at index `seq - base` of the arrays.
  private keys = new Float64Array(0)
  private olds = new Float64Array(0)
  private lsns = new Float64Array(0)
  /** Sequence number of the key's previous change (below `first`: none kept). */
  private prevs = new Float64Array(0)
  private base = 0
  /** Sequence number of the oldest change kept. */
  private first = 0
  /** Sequence number the next change gets. */
  private end = 0
  /** Each key with changes kept -> sequence number of its newest change (point lookups). */
  private readonly tails = new NumberMap()
  /**
   * The keys of `tails` in order, for iteration, maintained lazily (`orderedKeys`): a superset
   * (pruned keys stay until a rebuild; a key without changes reads as "current", so an extra key
   * is harmless, a missing one would not be), `undefined` when it must be rebuilt from `tails`.
   */
  private ordered: AlexIndex | undefined
  /** Keys added to `tails` since `ordered` was last brought up to date. */
  private added: number[] = []
  private listener: ((oldestLsn: number) => void) | undefined

  /** Number of open snapshots. */
  get openSnapshots(): number {
    return this.openTotal
  }

  /** LSN of the oldest open snapshot, `Infinity` if none is open. */
  get oldestLsn(): number {
    return this.openTotal === 0 ? Number.POSITIVE_INFINITY : this.openLsns[this.openHead]!
  }

  /** Changes kept. */
  get size(): number {
    return this.end - this.first
  }

  /** Distinct keys with changes kept. */
  get keyCount(): number {
    return this.tails.size
  }

  /**
   * Records that `key`'s visible value changed at `lsn`; `oldLocation` is the location it had
   * before (`undefined` if it had no value). A no-op when no snapshot is open. Calls must come in
   * LSN order, with LSNs above every open snapshot's (the apply step's order), and only for real
   * changes (a delete of an absent key changes nothing; recording it is harmless but wasteful).
   */
  changed(key: number, oldLocation: number | undefined, lsn: number): void {
    if (!this.recording) return
    if (this.end - this.base === this.keys.length) this.makeRoom()
    const seq = this.end++
    const i = seq - this.base
    this.keys[i] = key
    this.olds[i] = oldLocation === undefined ? ABSENT : oldLocation
    this.lsns[i] = lsn
    const prev = this.tails.set(key, seq)
    this.prevs[i] = prev
    if (prev < 0 && this.ordered !== undefined) this.noteAdded(key)
  }

  /**
   * Where `key`'s value was at `lsn`: `CURRENT` (no change since: read the index), `ABSENT` (it
   * had no value), or the location of the record it had then.
   */
  locationAt(key: number, lsn: number): number {
    if (this.tails.size === 0) return CURRENT
    let seq = this.tails.get(key)
    if (seq < 0) return CURRENT
    let found = -1
    const first = this.first
    const base = this.base
    while (seq >= first && this.lsns[seq - base]! > lsn) {
      found = seq
      seq = this.prevs[seq - base]!
    }
    return found < 0 ? CURRENT : this.olds[found - base]!
  }

  /** Copies the keys with changes kept within `range`, in its order, into `out`; returns how many. */
  scanKeys(out: Float64Array, range: NormalizedRange): number {
    if (this.tails.size === 0) return 0
    return this.orderedKeys().scanNormalized(out, null, range)
  }

  /**
   * The ordered keys, brought up to date: rebuilt from `tails` (sorted, bulk-loaded) when
   * missing or mostly stale (pruned keys), else the keys added since inserted. Iteration pays for
   * the order, not every write.
   */
  private orderedKeys(): AlexIndex {
    let ordered = this.ordered
    if (ordered !== undefined && ordered.size > 2 * this.tails.size + 1024) ordered = undefined
    if (ordered === undefined) {
      const keys = this.tails.keysArray().sort()
      ordered = AlexIndex.from(keys, new Float64Array(keys.length))
      this.ordered = ordered
    } else {
      for (const key of this.added) ordered.set(key, 0)
    }
    this.added = []
    return ordered
  }

  /** A key entered `tails`: remembered for `ordered`, or `ordered` dropped if that is cheaper. */
  private noteAdded(key: number): void {
    const added = this.added
    added.push(key)
    if (added.length > 1024 && added.length > this.tails.size) {
      this.ordered = undefined // rebuilding costs less than catching up
      this.added = []
    }
  }

  /** Registers a snapshot at `lsn` (the applied LSN when it is taken). */
  acquire(lsn: number): SnapshotHold {
    const lsns = this.openLsns
    const last = lsns.length - 1
    if (last >= this.openHead && lsns[last] === lsn) {
      this.openCounts[last]!++
    } else if (last < this.openHead || lsns[last]! < lsn) {
      lsns.push(lsn)
      this.openCounts.push(1)
    } else {
      // Out of order (not from the store, whose applied LSN only grows): keep the LSNs sorted.
      const at = this.findOpen(lsn)
      if (at < lsns.length && lsns[at] === lsn) this.openCounts[at]!++
      else {
        lsns.splice(at, 0, lsn)
        this.openCounts.splice(at, 0, 1)
      }
    }
    this.openTotal++
    this.recording = true
    return { lsn, released: false, generation: this.generation }
  }

  /** True once `hold` was released, by `release` or by `releaseAll`. */
  isReleased(hold: SnapshotHold): boolean {
    return hold.released || hold.generation !== this.generation
  }

  /** Releases a snapshot's hold (idempotent); drops the changes no open snapshot needs any more. */
  release(hold: SnapshotHold): void {
    if (hold.released) return
    hold.released = true
    if (hold.generation !== this.generation) return
    const at = this.findOpen(hold.lsn)
    this.openCounts[at]!--
    this.openTotal--
    if (at !== this.openHead || this.openCounts[at]! > 0) return // the oldest did not move
    while (this.openHead < this.openLsns.length && this.openCounts[this.openHead] === 0) {
      this.openHead++
    }
    if (this.openHead > 64 && this.openHead * 2 > this.openLsns.length) {
      this.openLsns.splice(0, this.openHead)
      this.openCounts.splice(0, this.openHead)
      this.openHead = 0
    }
    if (this.openTotal === 0) this.clear()
    else this.prune(this.oldestLsn)
    this.notify()
  }

  /** Releases every snapshot (the store is closing): their holds become no-ops. */
  releaseAll(): void {
    this.generation++
    this.openLsns = []
    this.openCounts = []
    this.openHead = 0
    this.openTotal = 0
    this.clear()
    this.notify()
  }

  /**
   * Calls `listener(oldestLsn)` whenever the oldest open snapshot moves on (`Infinity`: none is
   * left). One listener (the segment retention); setting another replaces it.
   */
  setReleaseListener(listener: (oldestLsn: number) => void): void {
    this.listener = listener
  }

  private notify(): void {
    this.listener?.(this.oldestLsn)
  }

  /** Index in `openLsns` of `lsn`, or where it would go (binary search from `openHead`). */
  private findOpen(lsn: number): number {
    let lo = this.openHead
    let hi = this.openLsns.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.openLsns[mid]! < lsn) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Drops the changes with an LSN at or below `oldest` (the front of the queue). */
  private prune(oldest: number): void {
    const base = this.base
    let seq = this.first
    while (seq < this.end && this.lsns[seq - base]! <= oldest) {
      const key = this.keys[seq - base]!
      if (this.tails.get(key) === seq) this.tails.delete(key) // it was the key's only change
      seq++
    }
    this.first = seq
  }

  /** No snapshot is open: forget every change (and big arrays). */
  private clear(): void {
    this.recording = false
    if (this.tails.size > 0) this.tails.clear()
    this.ordered = undefined
    this.added = []
    this.base = 0
    this.first = 0
    this.end = 0
    if (this.keys.length > KEEP_CAPACITY) this.allocate(0)
  }

  /** The arrays are full: slide the kept changes to the front, or double the capacity. */
  private makeRoom(): void {
    const kept = this.end - this.first
    const from = this.first - this.base
    if (this.keys.length > 0 && kept * 2 <= this.keys.length) {
      for (const a of [this.keys, this.olds, this.lsns, this.prevs])
        a.copyWithin(0, from, from + kept)
    } else {
      const old = [this.keys, this.olds, this.lsns, this.prevs]
      this.allocate(Math.max(INITIAL_CAPACITY, this.keys.length * 2))
      const now = [this.keys, this.olds, this.lsns, this.prevs]
      for (let a = 0; a < 4; a++) now[a]!.set(old[a]!.subarray(from, from + kept))
    }
    this.base = this.first
  }

  private allocate(capacity: number): void {
    this.keys = new Float64Array(capacity)
    this.olds = new Float64Array(capacity)
    this.lsns = new Float64Array(capacity)
    this.prevs = new Float64Array(capacity)
  }
}
