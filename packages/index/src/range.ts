/**
 * Range options of ordered iteration, in the style of abstract-level: `gt`/`gte` bound from
 * below, `lt`/`lte` from above, `reverse` walks from the top, `limit` caps the entry count.
 */
import { invalidKey, invalidRange } from './errors.js'
import { didYouMean } from './options.js'

/** Bounds and direction of an ordered iteration. Every field is optional. */
export interface RangeOptions {
  /** Only keys greater than this. */
  gt?: number
  /** Only keys greater than or equal to this. */
  gte?: number
  /** Only keys less than this. */
  lt?: number
  /** Only keys less than or equal to this. */
  lte?: number
  /** Iterate from the largest key down. Default false. */
  reverse?: boolean
  /** At most this many entries; -1 or Infinity for no limit. Default: no limit. */
  limit?: number
}

/** A validated range: [lo, hi] with inclusivity flags; ±Infinity when unbounded. */
export interface NormalizedRange {
  lo: number
  loInclusive: boolean
  hi: number
  hiInclusive: boolean
  reverse: boolean
  limit: number
}

const KNOWN_RANGE_KEYS = ['gt', 'gte', 'lt', 'lte', 'reverse', 'limit']

/** Throws ERR_INVALID_ARGUMENT for a key that is not a range option (see `normalizeRange`). */
function checkKeys(range: object): void {
  for (const name in range) {
    switch (name) {
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
      case 'reverse':
      case 'limit':
        break
      default:
        throw invalidRange(
          `unknown range option '${name}'${didYouMean(name, KNOWN_RANGE_KEYS)}; ` +
            `known: ${KNOWN_RANGE_KEYS.join(', ')}`,
        )
    }
  }
}

function bound(name: string, v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v)) {
    const err = invalidKey(v)
    err.message = `range bound ${name}: ${err.message.replace(/^key must be/, 'must be')}`
    throw err
  }
  return v + 0
}

/**
 * Validates range options. Bounds must be numbers (±Infinity allowed, NaN not: ERR_INVALID_KEY);
 * giving both `gt` and `gte` (or `lt` and `lte`), a non-boolean `reverse`, or a `limit` that is
 * not a non-negative integer, -1 or Infinity throws ERR_INVALID_ARGUMENT, and so does an unknown
 * key (`gtee`, `start`): ignoring it would silently widen the iteration.
 */
export function normalizeRange(range: RangeOptions | undefined): NormalizedRange {
  const out: NormalizedRange = {
    lo: Number.NEGATIVE_INFINITY,
    loInclusive: true,
    hi: Number.POSITIVE_INFINITY,
    hiInclusive: true,
    reverse: false,
    limit: Number.POSITIVE_INFINITY,
  }
  if (range === undefined) return out
  if (range === null || typeof range !== 'object') throw invalidRange('range must be an object')
  checkKeys(range)
  const { gt, gte, lt, lte, reverse, limit } = range
  if (gt !== undefined && gte !== undefined) throw invalidRange('give gt or gte, not both')
  if (lt !== undefined && lte !== undefined) throw invalidRange('give lt or lte, not both')
  if (gt !== undefined) {
    out.lo = bound('gt', gt)
    out.loInclusive = false
  } else if (gte !== undefined) out.lo = bound('gte', gte)
  if (lt !== undefined) {
    out.hi = bound('lt', lt)
    out.hiInclusive = false
  } else if (lte !== undefined) out.hi = bound('lte', lte)
  if (reverse !== undefined) {
    if (typeof reverse !== 'boolean') throw invalidRange('reverse must be a boolean')
    out.reverse = reverse
  }
  if (limit !== undefined) {
    if (typeof limit !== 'number' || Number.isNaN(limit))
      throw invalidRange('limit must be a number')
    if (limit === -1 || limit === Number.POSITIVE_INFINITY) out.limit = Number.POSITIVE_INFINITY
    else if (Number.isInteger(limit) && limit >= 0) out.limit = limit
    else throw invalidRange('limit must be a non-negative integer, -1 or Infinity')
  }
  return out
}

/** Whether `key` is above the range's lower bound. */
export function aboveLow(r: NormalizedRange, key: number): boolean {
  return r.loInclusive ? key >= r.lo : key > r.lo
}

/** Whether `key` is below the range's upper bound. */
export function belowHigh(r: NormalizedRange, key: number): boolean {
  return r.hiInclusive ? key <= r.hi : key < r.hi
}
