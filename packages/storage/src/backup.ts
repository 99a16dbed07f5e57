import { constants, copyFileSync, linkSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { NodeFileSystem, Wal } from '@alex/wal'
import type { FileHandle, FileSystem } from '@alex/wal/io'
import { readWholeFile } from '@alex/wal/io'
import type { DataSegment } from './data-segment.js'
import { AlexStorageError, ErrorCode } from './errors.js'
import { classifyNames, segmentName, snapshotName, walPath } from './file-names.js'
import { BACKUP_INCOMPLETE } from './format.js'
import { decodeSnapshot } from './snapshot.js'

/**
 * Online backup (docs/architecture.md, "Backup"; the marker: docs/storage-format.md, section 1).
 * Inside the maintenance chain (no checkpoint or compaction can delete a file meanwhile) a
 * checkpoint makes a snapshot at LSN L durable; then that snapshot and the segments it names are
 * put into the destination (hard links for files that never change again, copies of the trusted
 * prefix otherwise) and a fresh log is created that starts after L. Writes go on all along: they
 * land after the snapshot's trusted lengths, which the copy ignores. The destination is guarded by
 * a marker file made durable first and removed last, after every file and the directory are
 * durable, so a copy cut short by a crash or an error is refused by `open`, never half-trusted.
 */

/** `backup()` progress, reported after every file and every copied chunk. */
export interface BackupProgress {
  /** Bytes of the store's files put into the copy so far (linked or copied). */
  bytes: number
  /** Files completed so far. */
  files: number
  /** Bytes the copy will hold when done (the snapshot and the segments' trusted lengths). */
  totalBytes: number
  /** Files the copy will hold (the snapshot and each segment; the fresh log is not counted). */
  totalFiles: number
}

/** Options of `backup()`. */
export interface BackupOptions {
  /** Called as the copy advances; `bytes` and `files` never decrease and end at the totals. */
  onProgress?: (progress: BackupProgress) => void
}

/** What `backup()` resolves with. */
export interface BackupResult {
  /** The copy holds exactly the operations up to this LSN. */
  lsn: number
  /** Bytes of the store's files in the copy (as `BackupProgress.totalBytes`). */
  bytes: number
  /** Files in the copy (as `BackupProgress.totalFiles`). */
  files: number
}

/** What the backup needs of the store. */
export interface BackupSource {
  fs: FileSystem
  /** The store's directory (absolute). */
  dir: string
  /** Runs `task` in the maintenance chain (no checkpoint or compaction meanwhile). */
  exclusive: (task: () => Promise<void>) => Promise<void>
  /** Runs a checkpoint (inside the chain). */
  checkpoint: () => Promise<void>
  /** True if writes were applied (or segments created) since the newest snapshot. */
  isBehind: () => boolean
  /** The store's segments now (to know which files are final). */
  segments: () => readonly DataSegment[]
}

/** Bytes per read and write of a copied file. */
const COPY_CHUNK = 4 * 1024 * 1024

/** OS errors that mean "no hard link here": copy instead. */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EACCES'])

/** One file of the copy. */
interface PlannedFile {
  name: string
  /** Bytes the copy holds (the trusted prefix). */
  length: number
  /** The file never changes again and is exactly `length` long: a hard link will do. */
  final: boolean
}

/** The text of the marker (its existence is what counts; the text is for people). */
const MARKER_TEXT =
  'This directory is an AlexStorage backup that did not finish (interrupted or failed).\n' +
  'AlexStorage.open refuses it (ERR_INCOMPLETE_BACKUP). Delete the directory and back up again.\n'

/**
 * Validates `backup()`'s arguments before anything is written, and returns the absolute
 * destination. Throws `ERR_INVALID_ARGUMENT` for a bad argument, a destination that exists and is
 * not an empty directory, or one inside the store's directory.
 */
export function checkBackupRequest(
  source: Pick<BackupSource, 'fs' | 'dir'>,
  destDir: unknown,
  options: unknown,
): string {
  if (typeof destDir !== 'string' || destDir === '') {
    throw invalid('destDir must be a non-empty string')
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalid('backup options must be an object')
  }
  const o = (options ?? {}) as Record<string, unknown>
  for (const name of Object.keys(o)) {
    if (name !== 'onProgress') throw invalid(`unknown backup option '${name}'; known: onProgress`)
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw invalid('onProgress must be a function')
  }
  const dest = resolve(destDir)
  const inside = relative(source.dir, dest)
  if (inside === '' || !(inside === '..' || inside.startsWith('../') || isAbsolute(inside))) {
    throw invalid(`the backup destination ${dest} is inside the store's directory ${source.dir}`)
  }
  checkDestination(source.fs, dest)
  return dest
}

/** The destination must not exist, or be an empty directory. */
function checkDestination(fs: FileSystem, dest: string): void {
  if (!fs.exists(dest)) return
  let names: string[]
  try {
    names = fs.readdir(dest)
  } catch (err) {
    throw invalid(`the backup destination ${dest} is not a directory`, err)
  }
  if (names.length > 0) {
    throw invalid(`the backup destination ${dest} is not empty (${names.length} entries)`)
  }
}

/**
 * Runs the backup into `dest` (validated by `checkBackupRequest`). A failure of the checkpoint
 * fails the store as any checkpoint failure does; a failure of the copy (the destination's disk
 * full, a callback that throws) rejects the call and leaves the store as it was, and the
 * destination with its marker (refused by `open`).
 */
export async function runBackup(
  source: BackupSource,
  dest: string,
  options: BackupOptions | undefined,
): Promise<BackupResult> {
  let result: BackupResult | undefined
  let copyError: unknown
  await source.exclusive(async () => {
    // A store with nothing applied since its newest snapshot needs no new one: that snapshot and
    // the segment bytes it trusts are durable already (a checkpoint made them so).
    if (source.isBehind() || newestSnapshot(source) === undefined) await source.checkpoint()
    // Anything the copy throws is caught here: the store's maintenance chain must not take a
    // problem of the destination for a failure of the store.
    try {
      result = await copyAt(source, dest, options?.onProgress)
    } catch (err) {
      copyError = err
    }
  })
  if (copyError !== undefined) throw copyFailed(dest, copyError)
  return result!
}

/** The copy proper, of the snapshot the checkpoint just wrote. */
async function copyAt(
  source: BackupSource,
  dest: string,
  onProgress: ((progress: BackupProgress) => void) | undefined,
): Promise<BackupResult> {
  const { fs, dir } = source
  // The newest snapshot is the store's state at the LSN last applied (nothing else writes one
  // while the chain is held), and every segment it names stays until the chain is released.
  const seq = newestSnapshot(source)!
  const snapshotBytes = readWholeFile(fs, join(dir, snapshotName(seq)))
  const snapshot = decodeSnapshot(snapshotBytes, join(dir, snapshotName(seq)), seq)
  const plan = planFiles(source.segments(), snapshot.segments)
  plan.unshift({ name: snapshotName(seq), length: snapshotBytes.length, final: true })
  const progress: BackupProgress = {
    bytes: 0,
    files: 0,
    totalBytes: plan.reduce((sum, f) => sum + f.length, 0),
    totalFiles: plan.length,
  }
  const report = () => onProgress?.({ ...progress })

  checkDestination(fs, dest) // again: time passed while the chain was busy
  await createMarked(fs, dest)
  report()
  const real = fs instanceof NodeFileSystem
  for (const file of plan) {
    const from = join(dir, file.name)
    const to = join(dest, file.name)
    if (real && file.final && tryLink(from, to)) {
      progress.bytes += file.length
    } else if (real && file.final) {
      await copyWhole(fs, from, to)
      progress.bytes += file.length
    } else {
      await copyPrefix(fs, from, to, file.length, (n) => {
        progress.bytes += n
        report()
      })
    }
    progress.files++
    report()
  }
  await freshLog(fs, walPath(dest), snapshot.lsn)
  await fs.syncDir(dest) // every link and copy is in the directory
  fs.unlink(join(dest, BACKUP_INCOMPLETE))
  await fs.syncDir(dest)
  return { lsn: snapshot.lsn, bytes: progress.totalBytes, files: progress.totalFiles }
}

/** The newest snapshot's sequence number, if there is one. */
function newestSnapshot(source: BackupSource): number | undefined {
  return classifyNames(source.fs.readdir(source.dir)).snapshots[0]
}

/**
 * Which files to put in the copy: each segment the snapshot names, with its trusted length. A
 * segment is final (a hard link is safe) when it is sealed and completely written at exactly
 * that length: no byte of it will ever change, and no open of either store will truncate it.
 * Any other (the active segment, or a sealed one still receiving its last pending writes) is
 * copied up to the trusted length, which the checkpoint made durable.
 */
function planFiles(
  live: readonly DataSegment[],
  named: readonly { id: number; length: number }[],
): PlannedFile[] {
  const byId = new Map(live.map((s) => [s.id, s]))
  return named.map(({ id, length }) => {
    const s = byId.get(id)
    const final =
      s?.sealed === true && s.length === length && s.written === length && s.synced >= length
    return { name: segmentName(id), length, final }
  })
}

/**
 * Creates `dest` (and its parents) durably, then the marker, durably, before any other file:
 * from then on the directory is refused by `open` until the marker is removed.
 */
async function createMarked(fs: FileSystem, dest: string): Promise<void> {
  fs.mkdir(dest)
  await fs.syncDir(dirname(dest))
  const marker = fs.open(join(dest, BACKUP_INCOMPLETE), 'wx+')
  try {
    const text = new TextEncoder().encode(MARKER_TEXT)
    marker.write(text, 0, text.length, 0)
    marker.syncSync()
  } finally {
    marker.close()
  }
  await fs.syncDir(dest)
}

/** A hard link `to` -> `from`; false where the file system does not allow one (then copy). */
function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to)
    return true
  } catch (err) {
    if (NO_LINK.has((err as NodeJS.ErrnoException).code ?? '')) return false
    throw err
  }
}

/**
 * Copies a final file whole by the kernel's own means (`copy_file_range` where it can), then
 * fsyncs the copy. For the real file system only.
 */
async function copyWhole(fs: FileSystem, from: string, to: string): Promise<void> {
  copyFileSync(from, to, constants.COPYFILE_EXCL)
  const handle = fs.open(to, 'r+')
  try {
    await handle.sync()
  } finally {
    handle.close()
  }
}

/** Copies the first `length` bytes of `from` to a new file `to` and fsyncs it. */
async function copyPrefix(
  fs: FileSystem,
  from: string,
  to: string,
  length: number,
  onChunk: (bytes: number) => void,
): Promise<void> {
  const input = fs.open(from, 'r')
  let output: FileHandle | undefined
  try {
    output = fs.open(to, 'wx+')
    const chunk = Buffer.allocUnsafeSlow(Math.min(COPY_CHUNK, Math.max(length, 1)))
    for (let at = 0; at < length; ) {
      const want = Math.min(chunk.length, length - at)
      const got = input.read(chunk, 0, want, at)
      if (got < want) throw new Error(`${from} is shorter than the ${length} bytes to copy`)
      output.write(chunk, 0, got, at)
      at += got
      onChunk(got)
    }
    await output.sync()
  } finally {
    input.close()
    output?.close()
  }
}

/**
 * The copy's log: empty, numbering from `lsn + 1`, with a durable checkpoint at `lsn`, so that
 * its open finds a log that covers the data (the "log ends below the data" check) and hands out
 * LSNs after the copy's.
 */
async function freshLog(fs: FileSystem, dir: string, lsn: number): Promise<void> {
  const wal = await Wal.open(dir, { fs, sync: 'always', minNextLsn: BigInt(lsn + 1) })
  try {
    if (lsn > 0) await wal.checkpoint(BigInt(lsn))
  } finally {
    await wal.close()
  }
}

/**
 * `open`'s check: a directory holding the marker of an unfinished backup is not a store (some of
 * its files may be missing or partial). Throws `ERR_INCOMPLETE_BACKUP`; changes nothing.
 */
export function refuseIncompleteBackup(fs: FileSystem, dir: string): void {
  if (!fs.exists(join(dir, BACKUP_INCOMPLETE))) return
  throw new AlexStorageError(
    ErrorCode.INCOMPLETE_BACKUP,
    `${dir} is an unfinished backup (${BACKUP_INCOMPLETE} is there: the copy was interrupted or ` +
      'failed): it is not a store; delete it and back up again',
  )
}

function invalid(message: string, cause?: unknown): AlexStorageError {
  return new AlexStorageError(ErrorCode.INVALID_ARGUMENT, message, { cause })
}

/** The rejection of a backup whose copy failed (the store is unaffected). */
function copyFailed(dest: string, err: unknown): AlexStorageError | unknown {
  if (err instanceof AlexStorageError) return err
  if (!(err instanceof Error) || (err as NodeJS.ErrnoException).code === undefined) return err
  return new AlexStorageError(
    ErrorCode.STORE_FAILED,
    `backup to ${dest} failed (the store is unaffected; the copy is marked incomplete): ${err.message}`,
    { cause: err },
  )
}
