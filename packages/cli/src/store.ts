import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { AlexStorage, type AlexStorageOptions } from '@alex/storage'
import { CliError, Exit } from './errors.js'

/**
 * Opens `dir` read-only (no lock taken; works while a writer runs). By default the view is frozen
 * at the open (`follow: false`): nothing on disk changes, not even a reader registration. With
 * `follow: true` (`tail`, `stat --watch`) it follows a running writer, and registers in
 * `readers/` so that the writer keeps the log it still needs (docs/architecture.md, section 12).
 * A directory in which the open found no snapshot, data segment or log is not a store:
 * `ERR_NOT_A_STORE` (a read-only open of an empty directory otherwise succeeds as an empty store).
 */
export async function openReadOnly(
  dir: string,
  options: AlexStorageOptions = {},
): Promise<AlexStorage> {
  mustBeDirectory(dir)
  const db = await AlexStorage.open(dir, { follow: false, ...options, readOnly: true })
  if (isEmptyOpen(db)) {
    await db.close()
    throw new CliError('ERR_NOT_A_STORE', `no AlexStorage store in ${dir}`, Exit.UNUSABLE)
  }
  return db
}

/** True if an open found nothing: no snapshot, no data, no log segment. */
function isEmptyOpen(db: AlexStorage): boolean {
  return db.recovery.source === 'empty' && db.recovery.wal.segments === 0
}

/** Throws `ERR_NOT_A_STORE` unless `dir` exists and is a directory. */
export function mustBeDirectory(dir: string): void {
  let isDirectory = false
  try {
    isDirectory = statSync(dir).isDirectory()
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error
  }
  if (!isDirectory) {
    throw new CliError('ERR_NOT_A_STORE', `${dir} is not a directory`, Exit.UNUSABLE)
  }
}

/**
 * Checks that `dir` may be opened as the writer: it must already be a store, unless `create`
 * allows a missing or empty directory (a writer's open creates a store wherever it is pointed).
 */
export async function mustBeStoreForWriting(dir: string, create: boolean): Promise<void> {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT' && create) return
    mustBeDirectory(dir) // ERR_NOT_A_STORE if missing or not a directory
    throw error
  }
  if (create && entries.length === 0) return
  // A read-only open tells a store from anything else, and takes no lock.
  const probe = await openReadOnly(dir, { cacheBytes: 0 })
  await probe.close()
}

/** Sizes of the files in `dir` (recursively): all of them, and those of the log (`wal/`). */
export function diskUsage(dir: string): { files: number; bytes: number; logBytes: number } {
  let files = 0
  let bytes = 0
  let logBytes = 0
  const walk = (path: string, inLog: boolean): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) {
        walk(full, inLog || (path === dir && entry.name === 'wal'))
      } else if (entry.isFile()) {
        let size = 0
        try {
          size = statSync(full).size
        } catch {
          continue // deleted meanwhile by a writer's compaction or checkpoint
        }
        files += 1
        bytes += size
        if (inLog) logBytes += size
      }
    }
  }
  walk(dir, false)
  return { files, bytes, logBytes }
}

/** JSON.stringify replacer: bigints (the log's LSNs in the recovery report) as numbers. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value
}
