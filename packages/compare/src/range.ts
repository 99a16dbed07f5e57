/**
 * Validation and normalisation of {@link RangeOptions}, shared by every adapter so that all
 * engines agree on what a range means.
 */
import { CompareError, ErrorCode } from './errors.js'
import { assertKey } from './key-encoding.js'
import type { RangeOptions } from './types.js'

/** A range reduced to at most one lower and one upper bound, each inclusive or not. */
export interface Bounds {
  /** Lower bound key, or undefined for none. */
  readonly low: number | undefined
  /** Whether `low` itself is included (gte) or not (gt). */
  readonly lowInclusive: boolean
  /** Upper bound key, or undefined for none. */
  readonly high: number | undefined
  /** Whether `high` itself is included (lte) or not (lt). */
  readonly highInclusive: boolean
  /** Descending order. */
  readonly reverse: boolean
  /** Maximum entries; Infinity when not capped. */
  readonly limit: number
}

/** Checks range options (finite bounds, one bound per side, limit >= 0) and normalises them. */
export function toBounds(options: RangeOptions | undefined): Bounds {
  const o = options ?? {}
  if (o.gt !== undefined && o.gte !== undefined) {
    throw new CompareError(ErrorCode.INVALID_ARGUMENT, 'range has both gt and gte')
  }
  if (o.lt !== undefined && o.lte !== undefined) {
    throw new CompareError(ErrorCode.INVALID_ARGUMENT, 'range has both lt and lte')
  }
  const low = o.gt ?? o.gte
  const high = o.lt ?? o.lte
  if (low !== undefined) assertKey(low)
  if (high !== undefined) assertKey(high)
  const limit = o.limit ?? Number.POSITIVE_INFINITY
  if (typeof limit !== 'number' || Number.isNaN(limit) || limit < 0) {
    throw new CompareError(ErrorCode.INVALID_ARGUMENT, `range limit must be >= 0, got ${limit}`)
  }
  return {
    low: low === undefined ? undefined : low + 0,
    lowInclusive: o.gte !== undefined,
    high: high === undefined ? undefined : high + 0,
    highInclusive: o.lte !== undefined,
    reverse: o.reverse === true,
    limit: Number.isFinite(limit) ? Math.floor(limit) : Number.POSITIVE_INFINITY,
  }
}

/** Range options equivalent to `b` (bounds with -0 folded into +0, a whole-number limit). */
export function fromBounds(b: Bounds): RangeOptions {
  const o: { -readonly [K in keyof RangeOptions]: RangeOptions[K] } = { reverse: b.reverse }
  if (b.low !== undefined) o[b.lowInclusive ? 'gte' : 'gt'] = b.low
  if (b.high !== undefined) o[b.highInclusive ? 'lte' : 'lt'] = b.high
  if (Number.isFinite(b.limit)) o.limit = b.limit
  return o
}

/** Whether the bounds can contain no key at all (for example gt 5 and lt 5). */
export function isEmptyRange(b: Bounds): boolean {
  if (b.limit === 0) return true
  if (b.low === undefined || b.high === undefined) return false
  if (b.low > b.high) return true
  return b.low === b.high && !(b.lowInclusive && b.highInclusive)
}

/** Whether `key` is above the lower bound. */
export function aboveLow(b: Bounds, key: number): boolean {
  return b.low === undefined || key > b.low || (b.lowInclusive && key === b.low)
}

/** Whether `key` is below the upper bound. */
export function belowHigh(b: Bounds, key: number): boolean {
  return b.high === undefined || key < b.high || (b.highInclusive && key === b.high)
}
