/**
 * Ordered iterators over an index. They are live, like a Map's: an iterator remembers the last
 * key it returned, and if the index was modified since (any insert or delete), it re-seeks to
 * the next key after that one. So it never repeats or skips a key that stayed in the index,
 * never goes backwards, sees keys inserted ahead of it and not keys deleted ahead of it.
 */
import { nextSet, prevSet } from './bitmap.js'
import type { AlexNode } from './model-node.js'
import {
  type Cursor,
  seekBackward,
  seekForward,
  settleBackward,
  settleForward,
} from './navigate.js'
import { aboveLow, belowHigh, type NormalizedRange } from './range.js'

/** What an iterator reads from its index. */
export interface IterationSource {
  readonly _root: AlexNode
  readonly _version: number
}

/** What each step yields. */
export const Yield = { Entries: 0, Keys: 1, Values: 2 } as const

/** One of the {@link Yield} kinds. */
export type YieldKind = (typeof Yield)[keyof typeof Yield]

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true })

/** Positions a cursor on the first entry of a range (in its direction). */
export function seekStart(root: AlexNode, r: NormalizedRange, c: Cursor): void {
  if (r.reverse) seekBackward(root, r.hi, r.hiInclusive, c)
  else seekForward(root, r.lo, r.loInclusive, c)
}

/** Positions a cursor on the entry after `key` in the range's direction. */
export function seekAfter(root: AlexNode, r: NormalizedRange, key: number, c: Cursor): void {
  if (r.reverse) seekBackward(root, key, false, c)
  else seekForward(root, key, false, c)
}

/** Moves a cursor one entry on in the range's direction. */
export function step(r: NormalizedRange, c: Cursor): void {
  const leaf = c.leaf!
  if (r.reverse) {
    c.pos = prevSet(leaf.bitmap, c.pos - 1)
    settleBackward(c)
  } else {
    c.pos = nextSet(leaf.bitmap, c.pos + 1, leaf.cap)
    settleForward(c)
  }
}

/** Whether the key under the cursor is still inside the range's far bound. */
export function inRange(r: NormalizedRange, key: number): boolean {
  return r.reverse ? aboveLow(r, key) : belowHigh(r, key)
}

/** A live ordered iterator (see the module comment for its semantics under modification). */
export class AlexIterator<T> implements IterableIterator<T> {
  private readonly src: IterationSource
  private readonly range: NormalizedRange
  private readonly kind: YieldKind
  private readonly cursor: Cursor = { leaf: null, pos: 0 }
  private remaining: number
  private started = false
  /** Whether the fast path applies (forward iteration, after the first entry). */
  private fast = false
  private version = 0
  private lastKey = 0

  constructor(src: IterationSource, range: NormalizedRange, kind: YieldKind) {
    this.src = src
    this.range = range
    this.kind = kind
    this.remaining = range.limit
  }

  next(): IteratorResult<T> {
    // Fast path (kept small so it can be inlined into the caller's loop): the next entry of
    // the current leaf, going forward, with the index unchanged.
    const c = this.cursor
    const leaf = c.leaf
    if (leaf !== null && this.fast && this.version === this.src._version && this.remaining > 0) {
      const pos = nextSet(leaf.bitmap, c.pos + 1, leaf.cap)
      if (pos < leaf.cap) {
        const key = leaf.kv[2 * pos]!
        const r = this.range
        if (r.hiInclusive ? key <= r.hi : key < r.hi) {
          c.pos = pos
          this.lastKey = key
          this.remaining--
          const kind = this.kind
          const value =
            kind === Yield.Keys
              ? key
              : kind === Yield.Values
                ? leaf.kv[2 * pos + 1]!
                : [key, leaf.kv[2 * pos + 1]!]
          return { value: value as T, done: false }
        }
      }
    }
    return this.slowNext()
  }

  private slowNext(): IteratorResult<T> {
    if (this.remaining <= 0) return DONE
    const c = this.cursor
    const r = this.range
    if (!this.started) {
      this.started = true
      if (r.lo > r.hi) {
        this.remaining = 0
        return DONE
      }
      seekStart(this.src._root, r, c)
    } else if (this.version !== this.src._version) {
      seekAfter(this.src._root, r, this.lastKey, c)
    } else {
      step(r, c)
    }
    this.version = this.src._version
    const leaf = c.leaf
    if (leaf === null) {
      this.remaining = 0
      return DONE
    }
    const key = leaf.kv[2 * c.pos]!
    if (!inRange(r, key)) {
      this.remaining = 0
      return DONE
    }
    this.lastKey = key
    this.remaining--
    this.fast = !r.reverse
    const value =
      this.kind === Yield.Entries
        ? [key, leaf.kv[2 * c.pos + 1]!]
        : this.kind === Yield.Keys
          ? key
          : leaf.kv[2 * c.pos + 1]!
    return { value: value as T, done: false }
  }

  /** Ends the iteration early. */
  return(): IteratorResult<T> {
    this.remaining = 0
    return DONE
  }

  [Symbol.iterator](): AlexIterator<T> {
    return this
  }
}
