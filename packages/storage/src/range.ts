import { AlexStorageError, ErrorCode, unknownKey } from './errors.js'

/**
 * Bounds of an ordered iteration (`entries`, `keys`, `values`), as in @alex/index and
 * abstract-level: at most one lower bound (`gt` or `gte`), at most one upper bound (`lt` or
 * `lte`), `reverse` for descending order, `limit` for the most entries to yield.
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

function bound(range: RangeOptions, name: 'gt' | 'gte' | 'lt' | 'lte'): number | undefined {
  const v = range[name]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || Number.isNaN(v)) {
    throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, `range.${name} must be a number`)
  }
  return v
}

/**
 * Validates a range and returns a normalised copy (the caller's object is never kept). An
 * unknown key (`start`, `end`, `gtee`...) is `ERR_INVALID_ARGUMENT`: ignoring it would widen the
 * iteration silently.
 */
export function checkRange(range: RangeOptions | undefined): RangeOptions {
  if (range === undefined) return {}
  if (range === null || typeof range !== 'object') {
    throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, 'range must be an object')
  }
  for (const name in range) {
    if (!Object.hasOwn(RANGE_KEYS, name)) throw unknownKey('range', name, KNOWN_RANGE_KEYS)
  }
  const out: RangeOptions = {}
  const gt = bound(range, 'gt')
  const gte = bound(range, 'gte')
  const lt = bound(range, 'lt')
  const lte = bound(range, 'lte')
  if (gt !== undefined && gte !== undefined) {
    throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, 'range has both gt and gte')
  }
  if (lt !== undefined && lte !== undefined) {
    throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, 'range has both lt and lte')
  }
  if (gt !== undefined) out.gt = gt
  if (gte !== undefined) out.gte = gte
  if (lt !== undefined) out.lt = lt
  if (lte !== undefined) out.lte = lte
  if (range.reverse !== undefined && typeof range.reverse !== 'boolean') {
    throw new AlexStorageError(ErrorCode.INVALID_ARGUMENT, 'range.reverse must be a boolean')
  }
  if (range.reverse) out.reverse = true
  if (range.limit !== undefined) {
    const limit = range.limit
    if (
      typeof limit !== 'number' ||
      !(limit >= 0) ||
      (!Number.isInteger(limit) && limit !== Number.POSITIVE_INFINITY)
    ) {
      throw new AlexStorageError(
        ErrorCode.INVALID_ARGUMENT,
        'range.limit must be a non-negative integer or Infinity',
      )
    }
    out.limit = limit
  }
  return out
}

/** True if `key` is inside the lower/upper bounds of a checked range. */
export function inRange(range: RangeOptions, key: number): boolean {
  if (range.gt !== undefined && !(key > range.gt)) return false
  if (range.gte !== undefined && !(key >= range.gte)) return false
  if (range.lt !== undefined && !(key < range.lt)) return false
  if (range.lte !== undefined && !(key <= range.lte)) return false
  return true
}
