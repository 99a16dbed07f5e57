import type { FileSystem } from '@alex/wal/io'
import { refuseIncompleteBackup } from './backup.js'
import { AlexStorageError, ErrorCode } from './errors.js'
import { StoreLock } from './lock-file.js'
import { noStore } from './recovery.js'

/**
 * The steps of `open` before recovery: checks (read-only) or creates the directory and takes
 * the lock. An OS error becomes an `AlexStorageError` with the OS error as `cause` (see
 * `openFailure`), so nothing raw leaves `open`.
 */
export function prepareDir(fs: FileSystem, dir: string, readOnly: boolean): StoreLock | undefined {
  if (readOnly) {
    if (!fs.exists(dir)) throw noStore(dir)
    try {
      fs.readdir(dir) // a regular file, or a directory it may not read, is refused here
    } catch (err) {
      throw openFailure(dir, err, true)
    }
    refuseIncompleteBackup(fs, dir)
    return undefined
  }
  try {
    fs.mkdir(dir)
  } catch (err) {
    throw openFailure(dir, err, true)
  }
  refuseIncompleteBackup(fs, dir)
  try {
    return StoreLock.acquire(fs, dir)
  } catch (err) {
    throw openFailure(dir, err, false)
  }
}

/**
 * The error of a failed step of `open`: ours as it is; from the directory check (`mkdir`, or
 * `readdir` for a read-only open), a path that is a file (`EEXIST`, `ENOTDIR`) is
 * `ERR_INVALID_ARGUMENT`; any other OS error (`EACCES`, `EROFS`, `ENOSPC`, `EIO`) is
 * `ERR_STORE_FAILED`. The OS error is the `cause`.
 */
function openFailure(dir: string, err: unknown, dirCheck: boolean): AlexStorageError {
  if (err instanceof AlexStorageError) return err
  const code = (err as NodeJS.ErrnoException).code
  if (dirCheck && (code === 'EEXIST' || code === 'ENOTDIR')) {
    return new AlexStorageError(
      ErrorCode.INVALID_ARGUMENT,
      `cannot open the store at ${dir}: the path or a parent is not a directory (${code})`,
      { cause: err },
    )
  }
  const detail = err instanceof Error ? err.message : String(err)
  const message = `cannot open the store at ${dir}: ${detail}`
  return new AlexStorageError(ErrorCode.STORE_FAILED, message, { cause: err })
}
