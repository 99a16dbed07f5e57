import { realpathSync } from 'node:fs'
import type { FileSystem } from '@alex/wal/io'
import { refuseIncompleteBackup } from './backup.js'
import { AlexStorageError, ErrorCode } from './errors.js'
import { acquireLock, isRealFileSystem, type StoreLock } from './lock-file.js'
import { noStore } from './recovery.js'

/** The directory `open` works in, and the lock it took (none for a read-only open). */
export interface PreparedDir {
  /** The store's absolute path; on the real file system its real path (symlinks resolved). */
  dir: string
  lock: StoreLock | undefined
}

/**
 * The steps of `open` before recovery: checks (read-only) or creates the directory, resolves its
 * real path, and takes the lock. The real path comes first so that a symlink or any other
 * spelling of the directory reaches the same lock and the store reports one `dir`. An OS error
 * becomes an `AlexStorageError` with the OS error as `cause` (see `openFailure`), so nothing raw
 * leaves `open`.
 */
export function prepareDir(fs: FileSystem, dir: string, readOnly: boolean): PreparedDir {
  if (readOnly) {
    if (!fs.exists(dir)) throw noStore(dir)
    let real: string
    try {
      fs.readdir(dir) // a regular file, or a directory it may not read, is refused here
      real = realPath(fs, dir)
    } catch (err) {
      throw openFailure(dir, err, true)
    }
    refuseIncompleteBackup(fs, real)
    return { dir: real, lock: undefined }
  }
  let real: string
  try {
    fs.mkdir(dir)
    real = realPath(fs, dir)
  } catch (err) {
    throw openFailure(dir, err, true)
  }
  refuseIncompleteBackup(fs, real)
  try {
    return { dir: real, lock: acquireLock(fs, real) }
  } catch (err) {
    throw openFailure(real, err, false)
  }
}

/** `dir` with every symlink resolved, on the real file system; as it is on an injected one. */
function realPath(fs: FileSystem, dir: string): string {
  return isRealFileSystem(fs) ? realpathSync(dir) : dir
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
