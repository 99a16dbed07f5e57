import type { DamageReason } from './types.js'

/**
 * The stable `code` values of `WalError`. Match on these, never on messages.
 * - `ERR_INVALID_KEY`: a key that is not a finite number.
 * - `ERR_INVALID_VALUE`: a put value that is not a `Uint8Array`.
 * - `ERR_VALUE_TOO_LARGE`: a value over `maxValueBytes`, or a batch over the record size limit.
 * - `ERR_INVALID_OP`: an operation that is not `{ type: 'put' | 'delete', ... }`, or an empty batch.
 * - `ERR_INVALID_LSN`: a checkpoint LSN that is not a bigint, is ahead of the last appended LSN,
 *   or is behind the current checkpoint.
 * - `ERR_INVALID_ARGUMENT`: an option of `Wal.open` out of range or unknown, or a bad argument
 *   of `LogTail` (the same code the other packages use for a bad argument).
 * - `ERR_CLOSED`: the log was closed (or is closing).
 * - `ERR_WAL_FAILED`: an earlier write or fsync failed; the log refuses everything until it is
 *   reopened. `cause` holds the original I/O error.
 * - `ERR_CORRUPTION`: damage recovery may not repair; `file`, `offset` and `reason` say where.
 * - `ERR_UNSUPPORTED_VERSION`: a segment written by a newer format version.
 * - `ERR_LSN_TRIMMED`: a `LogTail` needs operations whose segment was already deleted (by a
 *   checkpoint); `oldestLsn` is the first LSN the log files still hold.
 */
export const WalErrorCode = {
  INVALID_KEY: 'ERR_INVALID_KEY',
  INVALID_VALUE: 'ERR_INVALID_VALUE',
  VALUE_TOO_LARGE: 'ERR_VALUE_TOO_LARGE',
  INVALID_OP: 'ERR_INVALID_OP',
  INVALID_LSN: 'ERR_INVALID_LSN',
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  CLOSED: 'ERR_CLOSED',
  WAL_FAILED: 'ERR_WAL_FAILED',
  CORRUPTION: 'ERR_CORRUPTION',
  UNSUPPORTED_VERSION: 'ERR_UNSUPPORTED_VERSION',
  LSN_TRIMMED: 'ERR_LSN_TRIMMED',
} as const

/** One of the `WalErrorCode` values. */
export type WalErrorCode = (typeof WalErrorCode)[keyof typeof WalErrorCode]

/** Where damage was found, for `ERR_CORRUPTION` and `ERR_UNSUPPORTED_VERSION`. */
export interface WalErrorDetails {
  file?: string
  offset?: number
  reason?: DamageReason
  /** For `ERR_LSN_TRIMMED`: the first LSN the log files still hold. */
  oldestLsn?: number
  cause?: unknown
}

/** The one error class of @alex/wal: a stable `code`, and where it applies, the location. */
export class WalError extends Error {
  /** Stable machine-readable code (see `WalErrorCode`). */
  readonly code: WalErrorCode
  /** The segment file the error is about, if any. */
  readonly file: string | undefined
  /** Byte offset in `file`, if any. */
  readonly offset: number | undefined
  /** What kind of damage, for `ERR_CORRUPTION`. */
  readonly reason: DamageReason | undefined
  /** For `ERR_LSN_TRIMMED`: the first LSN the log files still hold. */
  readonly oldestLsn: number | undefined

  constructor(code: WalErrorCode, message: string, details: WalErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'WalError'
    this.code = code
    this.file = details.file
    this.offset = details.offset
    this.reason = details.reason
    this.oldestLsn = details.oldestLsn
  }
}

/** True if `err` is a `WalError`, optionally with the given code. */
export function isWalError(err: unknown, code?: WalErrorCode): err is WalError {
  return err instanceof WalError && (code === undefined || err.code === code)
}
