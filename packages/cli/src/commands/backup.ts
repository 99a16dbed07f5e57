import { readdirSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { AlexStorage, AlexStorageError, type BackupResult } from '@alex/storage'
import { CliError, Exit } from '../errors.js'
import { bytes, type Progress, progressBar } from '../progress.js'
import { mustBeStoreForWriting } from '../store.js'

export interface BackupOptions {
  json?: boolean
}

/**
 * `alexstorage backup <dir> <dest>`: opens the store as its writer (`db.backup()` is a writer's
 * API: it checkpoints), copies it into `dest` with a progress bar, closes it. While another
 * process has the store open for writing the lock refuses the open (`ERR_LOCKED`): a live store
 * is backed up from its writer's own process, with `db.backup()`.
 */
export async function backup(dir: string, dest: string, options: BackupOptions): Promise<number> {
  mustBeFreeDestination(dir, dest)
  await mustBeStoreForWriting(dir, false)
  let db: AlexStorage
  try {
    db = await AlexStorage.open(dir, { autoCompaction: false })
  } catch (error) {
    throw lockedError(error)
  }
  let bar: Progress | undefined
  let result: BackupResult
  try {
    result = await db.backup(dest, {
      onProgress: (p) => {
        bar ??= progressBar(
          Math.max(p.totalBytes, 1),
          'backing up {bar} {percentage}% | {done} of {all} | {files}/{totalFiles} files | ETA {eta_formatted}',
          !options.json,
        )
        bar.update(p.bytes, {
          done: bytes(p.bytes),
          all: bytes(p.totalBytes),
          files: p.files,
          totalFiles: p.totalFiles,
        })
      },
    })
  } finally {
    bar?.stop()
    await db.close()
  }
  const target = resolve(dest)
  if (options.json) {
    const out = { dir: db.dir, dest: target, ...result }
    process.stdout.write(`${JSON.stringify(out)}\n`)
  } else {
    process.stdout.write(
      `backed up ${db.dir} to ${target}: LSN ${result.lsn}, ${result.files} files, ${bytes(result.bytes)} (${result.bytes} bytes)\n`,
    )
  }
  return Exit.OK
}

/**
 * The checks `db.backup()` makes of `dest`, made before the store is opened, so that a refused
 * backup does not even open the writer: `dest` must not exist or be an empty directory, and must
 * not be inside the store.
 */
function mustBeFreeDestination(dir: string, dest: string): void {
  const refuse = (why: string) =>
    new CliError('ERR_INVALID_ARGUMENT', `backup destination ${dest} ${why}`, Exit.UNUSABLE)
  const inside = relative(resolve(dir), resolve(dest))
  const outside = inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)
  if (!outside) {
    throw refuse(`is inside the store ${dir}`)
  }
  let isDirectory: boolean
  try {
    isDirectory = statSync(dest).isDirectory()
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return
    throw error
  }
  if (!isDirectory) throw refuse('exists and is not a directory')
  if (readdirSync(dest).length > 0) throw refuse('is not empty')
}

/** `ERR_LOCKED` with what to do instead: a backup of a live store runs in its writer. */
function lockedError(error: unknown): unknown {
  if (!(error instanceof AlexStorageError) || error.code !== 'ERR_LOCKED') return error
  return new CliError(
    'ERR_LOCKED',
    `${error.message}; a backup opens the store as its writer: back up a live store from the writer's own process (db.backup()), or when no writer runs`,
    Exit.UNUSABLE,
    { cause: error },
  )
}
