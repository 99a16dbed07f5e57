/**
 * Errors thrown by @alex/index. Every error carries a stable uppercase `code` so callers can
 * branch on it without parsing messages. Bad input never changes the index.
 */

/** The stable error codes of this package. */
export const ErrorCode = {
  /** A key is not a finite number (NaN, ±Infinity, string, bigint, undefined, ...). */
  INVALID_KEY: 'ERR_INVALID_KEY',
  /** A payload is not a number. */
  INVALID_VALUE: 'ERR_INVALID_VALUE',
  /**
   * Any other bad argument: a malformed range (both `gt` and `gte`, a bad `limit`, an unknown
   * key), a constructor option out of its bounds or unknown, an argument of the wrong type (e.g.
   * a callback). The same code as in @alex/wal, @alex/storage and @alex/compare.
   */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** `checkInvariants` found the structure broken (a bug, never bad input). */
  INVARIANT: 'ERR_INVARIANT',
} as const

/** One of the codes in {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode]

/** A `TypeError` with a stable `code`, thrown for invalid arguments. */
export class AlexTypeError extends TypeError {
  /** Stable machine-readable code, e.g. `ERR_INVALID_KEY`. */
  readonly code: ErrorCodeValue
  constructor(code: ErrorCodeValue, message: string) {
    super(message)
    this.name = 'AlexTypeError'
    this.code = code
  }
}

/** Thrown by `checkInvariants` with the name of the broken invariant in `invariant`. */
export class InvariantError extends Error {
  /** Always `ERR_INVARIANT`. */
  readonly code = ErrorCode.INVARIANT
  /** Short name of the broken invariant, e.g. `sorted-order`. */
  readonly invariant: string
  constructor(invariant: string, message: string) {
    super(`invariant ${invariant} broken: ${message}`)
    this.name = 'InvariantError'
    this.invariant = invariant
  }
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n (bigint)`
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`
  if (typeof value === 'number') return String(value)
  return typeof value
}

/** Builds the error for a key that is not a finite number. */
export function invalidKey(key: unknown): AlexTypeError {
  return new AlexTypeError(
    ErrorCode.INVALID_KEY,
    `key must be a finite number, got ${describe(key)}`,
  )
}

/** Builds the error for a payload that is not a number. */
export function invalidValue(value: unknown): AlexTypeError {
  return new AlexTypeError(
    ErrorCode.INVALID_VALUE,
    `payload must be a number, got ${describe(value)}`,
  )
}

/** Builds the error for a malformed range. */
export function invalidRange(message: string): AlexTypeError {
  return new AlexTypeError(ErrorCode.INVALID_ARGUMENT, message)
}

/** Builds the error for an argument of the wrong type. */
export function invalidArgument(message: string): AlexTypeError {
  return new AlexTypeError(ErrorCode.INVALID_ARGUMENT, message)
}

/** Builds the error for an option outside its bounds. */
export function invalidOption(name: string, message: string): AlexTypeError {
  return new AlexTypeError(ErrorCode.INVALID_ARGUMENT, `option ${name} ${message}`)
}
