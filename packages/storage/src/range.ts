import { type NormalizedRange, normalizeRange } from '@alex/index'
import { AlexStorageError, ErrorCode, unknownKey } from './errors.js'

/**
 * Bounds of an ordered iteration (`entries`, `keys`, `values`), as in @alex/index and
 * abstract-level: at most one lower bound (`gt` or `gte`), at most one upper bound (`lt` or
 * `lte`), `reverse` for descending order, `limit` for the most entries to yield (-1 or Infinity:
 * no limit). The rules are @alex/index's `normalizeRange`, the one range normaliser.
 */
export interface RangeOptions {
  gt?: number
  gte?: number
  lt?: number
  lte?: number
  reverse?: boolean
  limit?: number
}

/** Every key of `RangeOptions` (the record type makes the compiler keep it complete). */
const RANGE_KEYS: Readonly<Record<keyof RangeOptions, true>> = {
  gt: true,
  gte: true,
  lt: true,
  lte: true,
  reverse: true,
  limit: true,
}
const KNOWN_RANGE_KEYS = Object.keys(RANGE_KEYS)

/**
 * Validates a range once, at the store's edge, and returns it normalised (the caller's object is
 * never kept): @alex/index's rules, with the store's error code, `ERR_INVALID_ARGUMENT` (the
 * index's error is the `cause`). An unknown key (`start`, `end`, `gtee`...) is refused with a
 * did-you-mean hint: ignoring it would widen the iteration silently.
 */
export function checkRange(range: RangeOptions | undefined): NormalizedRange {
  if (range !== null && typeof range === 'object') {
    for (const name in range) {
      if (!Object.hasOwn(RANGE_KEYS, name)) throw unknownKey('range', name, KNOWN_RANGE_KEYS)
    }
  }
  try {
    return normalizeRange(range)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, `bad range: ${message}`, { cause: err })
  }
}

/**
 * The part of `r` after `cursor` in its direction (the next chunk of an iteration), at most
 * `limit` entries; still normalised, so the index does not validate it again.
 */
export function rangeAfter(r: NormalizedRange, cursor: number | undefined, limit: number) {
  const next: NormalizedRange = { ...r, limit }
  if (cursor === undefined) return next
  if (r.reverse) {
    next.hi = cursor
    next.hiInclusive = false
  } else {
    next.lo = cursor
    next.loInclusive = false
  }
  return next
}
