/**
 * Stable error codes thrown by @alex/compare. Callers branch on `err.code`, never on messages.
 */
export const ErrorCode = {
  /** A key is not a finite number. */
  INVALID_KEY: 'ERR_INVALID_KEY',
  /** A value is not a Uint8Array. */
  INVALID_VALUE: 'ERR_INVALID_VALUE',
  /**
   * A bad argument: range options that are contradictory (both gt and gte, or both lt and lte)
   * or malformed. The same code as in the other packages.
   */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** A batch operation that is not a put or a delete (as in @alex/wal and @alex/storage). */
  INVALID_OP: 'ERR_INVALID_OP',
  /** The engine cannot do this (for example an ordered scan on the Map reference). */
  UNSUPPORTED: 'ERR_UNSUPPORTED',
  /** The engine's npm package is not installed (it is an optional peer dependency). */
  ENGINE_NOT_INSTALLED: 'ERR_ENGINE_NOT_INSTALLED',
  /** The engine id is not in the registry. */
  UNKNOWN_ENGINE: 'ERR_UNKNOWN_ENGINE',
  /** The store was used after `close()`. */
  CLOSED: 'ERR_CLOSED',
} as const

/** One of the {@link ErrorCode} values. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode]

/** The error type of @alex/compare: a message plus a stable uppercase `code`. */
export class CompareError extends Error {
  readonly code: ErrorCodeValue

  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CompareError'
    this.code = code
  }
}
