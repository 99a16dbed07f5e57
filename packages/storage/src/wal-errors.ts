import { isWalError } from '@alex/wal'
import { AlexStorageError, ErrorCode, storeFailed } from './errors.js'

/**
 * Translates an error from @alex/wal into the store's error vocabulary: the same stable codes
 * where they mean the same thing, `ERR_STORE_FAILED` for a failed log, and the original error as
 * `cause`. Anything else (an I/O error thrown by the file system) is a failed store.
 */
export function toStorageError(err: unknown): AlexStorageError {
  if (err instanceof AlexStorageError) return err
  if (!isWalError(err)) return storeFailed(err)
  switch (err.code) {
    case 'ERR_CORRUPTION':
    case 'ERR_UNSUPPORTED_VERSION':
      return new AlexStorageError(ErrorCode.CORRUPTION, `write-ahead log: ${err.message}`, {
        file: err.file ?? '',
        offset: err.offset ?? 0,
        cause: err,
      })
    case 'ERR_INVALID_KEY':
      return new AlexStorageError(ErrorCode.INVALID_KEY, err.message, { cause: err })
    case 'ERR_INVALID_OP':
      return new AlexStorageError(ErrorCode.INVALID_OP, err.message, { cause: err })
    case 'ERR_INVALID_VALUE':
      return new AlexStorageError(ErrorCode.INVALID_VALUE, err.message, { cause: err })
    case 'ERR_VALUE_TOO_LARGE':
      return new AlexStorageError(ErrorCode.VALUE_TOO_LARGE, err.message, { cause: err })
    case 'ERR_CLOSED':
      return new AlexStorageError(ErrorCode.CLOSED, err.message, { cause: err })
    case 'ERR_INVALID_ARGUMENT':
      return new AlexStorageError(ErrorCode.INVALID_ARGUMENT, err.message, { cause: err })
    case 'ERR_LSN_TRIMMED':
      return new AlexStorageError(ErrorCode.LSN_TRIMMED, err.message, {
        oldestLsn: err.oldestLsn,
        cause: err,
      })
    default:
      return storeFailed(err)
  }
}
