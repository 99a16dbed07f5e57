import { closest, distance } from 'fastest-levenshtein'

/**
 * The errors @alex/storage throws or rejects with. Every error is an `AlexStorageError` whose
 * `code` is one of `ErrorCode`; codes are stable and meant to be matched by callers, messages are
 * for people. An error for bad input is raised before anything is written (in memory or on disk).
 */

/** The stable error codes. */
export const ErrorCode = {
  /** A key that is not a finite number. */
  INVALID_KEY: 'ERR_INVALID_KEY',
  /** A value that is not a Uint8Array. */
  INVALID_VALUE: 'ERR_INVALID_VALUE',
  /**
   * A malformed batch: not an array, or an operation that is not an object or has a type other
   * than 'put' or 'delete' (as in @alex/wal and @alex/compare).
   */
  INVALID_OP: 'ERR_INVALID_OP',
  /** A value longer than `maxValueBytes`. */
  VALUE_TOO_LARGE: 'ERR_VALUE_TOO_LARGE',
  /**
   * A bad option or range argument, or an unknown key in one; a `dir` that is (or is under) a
   * regular file (`cause`: the OS error).
   */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** Any call after `close()` started. */
  CLOSED: 'ERR_CLOSED',
  /** Another writer (this process or another) holds the store's lock. */
  LOCKED: 'ERR_LOCKED',
  /** A write on a store opened with `readOnly: true`. */
  READ_ONLY: 'ERR_READ_ONLY',
  /** A file failed validation; `file` and `offset` say where. */
  CORRUPTION: 'ERR_CORRUPTION',
  /**
   * A write, fsync or file operation failed, so the store can no longer promise durability: it
   * refuses every further write (reads keep working). `cause` holds the original error. Reopen
   * the store to recover from its files. Also what `open` rejects with when the OS refuses to
   * create or lock the store's files (`EACCES`, `EROFS`, `ENOSPC`, `EIO` as `cause`).
   */
  STORE_FAILED: 'ERR_STORE_FAILED',
  /**
   * A conditional `batch(ops, { ifVersion })` found a key at another version than required
   * (counting every write issued before it): nothing was written; re-read and retry.
   */
  CONFLICT: 'ERR_CONFLICT',
  /** A read through a snapshot after its `release()` (or `[Symbol.dispose]`). */
  SNAPSHOT_RELEASED: 'ERR_SNAPSHOT_RELEASED',
  /**
   * `open` of a directory that holds an unfinished `backup()` (its `BACKUP-INCOMPLETE` marker is
   * there: the copy was interrupted, by a crash or an error, and is not a store).
   */
  INCOMPLETE_BACKUP: 'ERR_INCOMPLETE_BACKUP',
  /**
   * A change feed (`changes({ since })`) asked for operations the log no longer holds (a
   * checkpoint let it drop them); `oldestLsn` is the oldest LSN it still holds.
   */
  LSN_TRIMMED: 'ERR_LSN_TRIMMED',
} as const

/** One of the codes in `ErrorCode`. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode]

/** An error raised by @alex/storage. */
export class AlexStorageError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCodeValue
  /** For `ERR_CORRUPTION`: the damaged file (path). */
  readonly file: string | undefined
  /** For `ERR_CORRUPTION`: byte offset of the damage in `file`. */
  readonly offset: number | undefined
  /** For `ERR_LSN_TRIMMED`: the oldest LSN the log still holds (a feed may start after it - 1). */
  readonly oldestLsn: number | undefined

  constructor(
    code: ErrorCodeValue,
    message: string,
    details?: { file?: string; offset?: number; oldestLsn?: number; cause?: unknown },
  ) {
    super(message, details?.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'AlexStorageError'
    this.code = code
    this.file = details?.file
    this.offset = details?.offset
    this.oldestLsn = details?.oldestLsn
  }
}

/** Builds the `ERR_CORRUPTION` error for damage at `file`:`offset`. */
export function corruption(file: string, offset: number, what: string): AlexStorageError {
  return new AlexStorageError(ErrorCode.CORRUPTION, `${what} (file ${file}, offset ${offset})`, {
    file,
    offset,
  })
}

/** Builds the `ERR_STORE_FAILED` error wrapping the I/O error that caused it. */
export function storeFailed(cause: unknown): AlexStorageError {
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new AlexStorageError(
    ErrorCode.STORE_FAILED,
    `the store failed and refuses writes until it is reopened: ${detail}`,
    { cause },
  )
}

/**
 * Builds the `ERR_INVALID_ARGUMENT` error for an unknown key of an options or range object,
 * naming the closest known key when it is near enough to be a likely typo (`syncMode` -> `sync`).
 * A silently ignored key would leave the caller believing a setting took effect.
 */
export function unknownKey(
  what: 'option' | 'range',
  name: string,
  known: readonly string[],
): AlexStorageError {
  const best = closest(name, known)
  const near = distance(name, best) <= Math.max(2, Math.ceil(name.length / 2))
  const hint = near ? ` (did you mean '${best}'?)` : ''
  return new AlexStorageError(
    ErrorCode.INVALID_ARGUMENT,
    `unknown ${what} '${name}'${hint}; known: ${known.join(', ')}`,
  )
}

/**
 * A read that failed: an `AlexStorageError` passes through; an OS error (EIO, EBADF, ...) becomes
 * `ERR_STORE_FAILED` naming the file and offset, with the OS error as `cause`. The store stays
 * open and writable (a failed read is not a failed write), so the caller may retry or close.
 */
export function readFailed(file: string, offset: number, cause: unknown): AlexStorageError {
  if (cause instanceof AlexStorageError) return cause
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new AlexStorageError(
    ErrorCode.STORE_FAILED,
    `reading ${file} at offset ${offset} failed: ${detail}`,
    { file, offset, cause },
  )
}
