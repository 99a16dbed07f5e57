import type { AlexIndex, NormalizedRange } from '@alex/index'
import { AlexStorageError, ErrorCode } from './errors.js'
import { slotOf } from './location.js'
import { checkRange, type RangeOptions, rangeAfter } from './range.js'
import type { SegmentSet } from './segment-set.js'
import { valueAt } from './value-at.js'
import { ABSENT, CURRENT, type SnapshotHold, type VersionHistory } from './version-history.js'
import { invalidKey } from './write-arguments.js'

/**
 * `Symbol.dispose` (`using snap = db.snapshot()`). Node releases before 20.4 lack it; there the
 * snapshot uses `Symbol.for('nodejs.dispose')`, the symbol later releases install as
 * `Symbol.dispose` (the same fallback as the store's `Symbol.asyncDispose`).
 */
const dispose: typeof Symbol.dispose =
  Symbol.dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose)

/** Entries fetched per step of a snapshot iteration, from the index and from the history. */
const ITERATION_CHUNK = 256

/** What a snapshot reads through: the store's layers, looked up at each read. */
export interface SnapshotSource {
  readonly history: VersionHistory
  /** The store's index and segments now (a following reader may replace them). */
  index(): AlexIndex
  segments(): SegmentSet
  /** The store's `ERR_CLOSED` once `close()` started, else `undefined`. */
  closed(): AlexStorageError | undefined
}

/** One iteration's buffers: what the index and history gave, and the chunk to yield. */
interface Chunk {
  ikeys: Float64Array
  ilocs: Float64Array | null
  hkeys: Float64Array
  merged: Float64Array
  /** The chunk's keys (`ikeys` when no history key was in range, else `merged`), `n` of them. */
  keys: Float64Array
  values: Uint8Array[]
  n: number
}

const EMPTY = new Float64Array(0)

/** What the finalizer needs to release a snapshot nobody references: never the snapshot. */
interface Held {
  history: VersionHistory
  hold: SnapshotHold
}

/** Releases a collected snapshot's hold (the `FinalizationRegistry` callback; a test seam). */
export function releaseCollected(held: Held): void {
  held.history.release(held.hold)
}

const registry = new FinalizationRegistry<Held>(releaseCollected)

/**
 * A consistent, read-only view of the store at one LSN (`db.snapshot()`): every read sees exactly
 * the writes applied up to `lsn`, whatever is written, checkpointed or compacted meanwhile
 * (docs/architecture.md, "Snapshots, retention and compaction"). Taking one is O(1); while it is
 * open the store records the old location of every key changed after it (memory proportional to
 * what changed) and keeps the segments those locations are in. Release it when done
 * (`release()`, or `using`); one that is garbage-collected unreleased is released then, but
 * until then it holds that memory and those files.
 *
 * Reads are synchronous and return views, as `db.get` does, with the same identity checks.
 * After `release()` every read throws `ERR_SNAPSHOT_RELEASED`; once the store's `close()` has
 * started, `ERR_CLOSED` (closing releases every snapshot).
 */
export class Snapshot {
  /** The LSN the snapshot reads at: every write with an LSN up to it, none after. */
  readonly lsn: number
  private readonly source: SnapshotSource
  private readonly held: Held

  /** @internal Created by `AlexStorage.snapshot()`. */
  constructor(source: SnapshotSource, hold: SnapshotHold) {
    this.lsn = hold.lsn
    this.source = source
    this.held = { history: source.history, hold }
    registry.register(this, this.held, this.held)
  }

  /** True once released (by `release()`, `[Symbol.dispose]` or the store's `close()`). */
  get released(): boolean {
    return this.held.history.isReleased(this.held.hold)
  }

  /**
   * The value `key` had at `lsn`, or `undefined`; a view (do not mutate it), checked like
   * `db.get`. Throws `ERR_INVALID_KEY`, `ERR_SNAPSHOT_RELEASED`, `ERR_CLOSED`, `ERR_CORRUPTION`.
   */
  get(key: number): Uint8Array | undefined {
    this.check()
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    const location = this.locationOf(key)
    if (location === undefined) return undefined
    const segments = this.source.segments()
    const value = valueAt(segments, key, location)
    segments.cache.ref[slotOf(location)] = 1 // read: a second chance in the cache
    return value
  }

  /** True if `key` had a value at `lsn`. */
  has(key: number): boolean {
    this.check()
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key)
    return this.locationOf(key) !== undefined
  }

  /**
   * `[key, value]` pairs at `lsn`, in key order (descending with `reverse`) within `range` (the
   * options and rules of `db.entries`). Stable: writes, checkpoints and compactions while it is
   * suspended (across `await`s) change nothing it yields.
   */
  entries(range?: RangeOptions): IterableIterator<[number, Uint8Array]> {
    this.check()
    return this.iterate(checkRange(range), 0) as IterableIterator<[number, Uint8Array]>
  }

  /** Keys at `lsn` in order within `range` (see `entries`). */
  keys(range?: RangeOptions): IterableIterator<number> {
    this.check()
    return this.iterate(checkRange(range), 1) as IterableIterator<number>
  }

  /** Values at `lsn` in key order within `range` (see `entries`). */
  values(range?: RangeOptions): IterableIterator<Uint8Array> {
    this.check()
    return this.iterate(checkRange(range), 2) as IterableIterator<Uint8Array>
  }

  /**
   * Releases the snapshot: the store stops keeping history and segments for it. Idempotent;
   * every later read throws `ERR_SNAPSHOT_RELEASED`.
   */
  release(): void {
    if (this.held.hold.released) return
    registry.unregister(this.held)
    this.held.history.release(this.held.hold)
  }

  /** `using snap = db.snapshot()`: releases it (see `release`). */
  [dispose](): void {
    this.release()
  }

  /** The location of `key`'s value at `lsn`, `undefined` if it had none. */
  private locationOf(key: number): number | undefined {
    const at = this.held.history.locationAt(key, this.lsn)
    if (at === CURRENT) return this.source.index().get(key)
    return at === ABSENT ? undefined : at
  }

  private check(): void {
    const closed = this.source.closed()
    if (closed !== undefined) throw closed
    if (this.held.hold.released) {
      throw new AlexStorageError(ErrorCode.SNAPSHOT_RELEASED, 'the snapshot was released')
    }
  }

  /**
   * Iterates the state at `lsn`, a chunk at a time (`readChunk`); each chunk's keys and values
   * are taken when it is read, and yielded one by one with a check before each.
   */
  private *iterate(range: NormalizedRange, mode: 0 | 1 | 2): Generator<unknown> {
    const size = Math.min(ITERATION_CHUNK, range.limit)
    const chunk: Chunk = {
      ikeys: new Float64Array(size),
      ilocs: mode === 1 ? null : new Float64Array(size),
      hkeys: new Float64Array(size),
      merged: new Float64Array(size),
      keys: EMPTY,
      values: [],
      n: 0,
    }
    let remaining = range.limit
    let cursor: number | undefined
    while (remaining > 0) {
      this.check()
      const frontier = this.readChunk(rangeAfter(range, cursor, size), mode, remaining, chunk)
      const { keys, values, n } = chunk
      for (let i = 0; i < n; i++) {
        this.check() // every step, not only every chunk
        if (mode === 0) yield [keys[i]!, values[i]!]
        else if (mode === 1) yield keys[i]!
        else yield values[i]!
      }
      remaining -= n
      if (frontier === undefined) return
      cursor = frontier
    }
  }

  /**
   * Reads the next chunk of `r` (at most `remaining` entries) into `c`: merges the index's keys
   * (current values) with the history's keys (keys changed since some open snapshot, deleted
   * ones included). The merge is complete up to the frontier, the nearer of the two streams'
   * last keys when a stream filled its chunk, which it returns (`undefined`: nothing beyond).
   * With no history key in range it is the live iteration's chunk.
   */
  private readChunk(r: NormalizedRange, mode: 0 | 1 | 2, remaining: number, c: Chunk) {
    const { ikeys, ilocs, hkeys } = c
    const size = ikeys.length
    const reverse = r.reverse
    const history = this.held.history
    const ni = this.source.index().scanNormalized(ikeys, ilocs, r)
    const nh = history.scanKeys(hkeys, r)
    let frontier: number | undefined = ni === size ? ikeys[ni - 1] : undefined
    if (nh === size) {
      const h = hkeys[nh - 1]!
      if (frontier === undefined || (reverse ? h > frontier : h < frontier)) frontier = h
    }
    const segments = this.source.segments()
    const values = c.values
    if (nh === 0) {
      const n = Math.min(ni, remaining)
      if (ilocs !== null)
        for (let i = 0; i < n; i++) values[i] = valueAt(segments, ikeys[i]!, ilocs[i]!)
      c.keys = ikeys
      c.n = n
      return frontier
    }
    const out = c.merged
    const lsn = this.lsn
    let n = 0
    let a = 0
    let b = 0
    while ((a < ni || b < nh) && n < remaining) {
      const ka = a < ni ? ikeys[a]! : Number.NaN
      const kb = b < nh ? hkeys[b]! : Number.NaN
      const fromIndex = b >= nh || (a < ni && (reverse ? ka >= kb : ka <= kb))
      const key = fromIndex ? ka : kb
      const inHistory = !fromIndex || kb === ka
      if (fromIndex) a++
      if (inHistory) b++
      if (frontier !== undefined && (reverse ? key < frontier : key > frontier)) break
      let location = inHistory ? history.locationAt(key, lsn) : CURRENT
      if (location === CURRENT) {
        if (!fromIndex) continue // not in the index: absent now, and unchanged since `lsn`
        location = ilocs === null ? 0 : ilocs[a - 1]!
      } else if (location === ABSENT) {
        continue
      }
      out[n] = key
      if (mode !== 1) values[n] = valueAt(segments, key, location)
      n++
    }
    c.keys = out
    c.n = n
    return frontier
  }
}
