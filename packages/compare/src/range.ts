/**
 * Range options for every adapter, so that all engines agree on what a range means. Validation is
 * @alex/index's `normalizeRange`, the one normaliser of the project (the same rules as
 * AlexStorage's own iterators: finite or infinite bounds, one per side, a `limit` that is a
 * non-negative integer, -1 or Infinity, unknown keys refused with a hint); this module only turns
 * its result into the bounds the adapters translate for their engines.
 */
import { type NormalizedRange, normalizeRange } from '@alex/index'
import { CompareError, ErrorCode, type ErrorCodeValue } from './errors.js'
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

/**
 * Validates range options (`ERR_INVALID_KEY` for a NaN bound, `ERR_INVALID_ARGUMENT` for anything
 * else malformed, the index's error as `cause`) and reduces them to bounds. An infinite bound on
 * the far side of every key is no bound; one beyond every key (`gt: Infinity`, `lt: -Infinity`)
 * leaves nothing, expressed as `limit: 0`.
 */
export function toBounds(options: RangeOptions | undefined): Bounds {
  let r: NormalizedRange
  try {
    r = normalizeRange(options)
  } catch (err) {
    const e = err as { code?: string; message?: string }
    const code: ErrorCodeValue =
      e.code === ErrorCode.INVALID_KEY ? ErrorCode.INVALID_KEY : ErrorCode.INVALID_ARGUMENT
    throw new CompareError(code, e.message ?? String(err), { cause: err })
  }
  let limit = r.limit
  let low: number | undefined = r.lo
  if (low === Number.NEGATIVE_INFINITY) low = undefined
  else if (low === Number.POSITIVE_INFINITY) {
    low = undefined
    limit = 0
  }
  let high: number | undefined = r.hi
  if (high === Number.POSITIVE_INFINITY) high = undefined
  else if (high === Number.NEGATIVE_INFINITY) {
    high = undefined
    limit = 0
  }
  return {
    low,
    lowInclusive: low !== undefined && r.loInclusive,
    high,
    highInclusive: high !== undefined && r.hiInclusive,
    reverse: r.reverse,
    limit,
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
