import { hostname } from 'node:os'
import { resolve } from 'node:path'
import type { FileSystem } from '@alex/wal/io'
import { AlexStorageError, ErrorCode } from './errors.js'
import { lockPath } from './file-names.js'
import { LOCK_HEADER } from './format.js'
import { isProcessAlive, processStartTime } from './process-info.js'

/**
 * The single-writer lock (docs/storage-format.md, section 7): a `LOCK` file created exclusively,
 * naming the owning process. A second writer, in this process or another, gets `ERR_LOCKED`. A
 * lock whose owner died without closing (SIGKILL, power cut) is detected as stale and taken over.
 *
 * Limits (documented in the README): the lock is advisory and works only between processes that
 * use it on one machine; two processes taking over the same stale lock at the same instant could
 * both succeed (there is no atomic compare-and-replace for files through the FileSystem
 * interface); a network file system's view of another host's pid means nothing.
 */

/** Who holds a lock. */
export interface LockOwner {
  pid: number
  /** Process start time (clock ticks since boot), 0 where unknown. */
  start: number
  host: string
}

/** Lock paths held by stores open in this process, per file-system instance. */
const HELD = new WeakMap<FileSystem, Set<string>>()

function heldBy(fs: FileSystem): Set<string> {
  let set = HELD.get(fs)
  if (set === undefined) {
    set = new Set()
    HELD.set(fs, set)
  }
  return set
}

/** Formats the lock file text for `owner`. */
export function formatLock(owner: LockOwner): string {
  return `${LOCK_HEADER}\npid=${owner.pid}\nstart=${owner.start}\nhost=${owner.host}\nend\n`
}

/** Parses lock file text; `undefined` if it is not a complete lock (e.g. torn by a crash). */
export function parseLock(text: string): LockOwner | undefined {
  const lines = text.split('\n')
  // The last line is "end": a lock torn by a crash (a prefix of the text) is not a lock.
  if (lines[0] !== LOCK_HEADER || !lines.includes('end')) return undefined
  const fields = new Map<string, string>()
  for (const line of lines.slice(1)) {
    const eq = line.indexOf('=')
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1))
  }
  const pid = Number(fields.get('pid'))
  const start = Number(fields.get('start'))
  const host = fields.get('host')
  if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(start) || host === undefined) {
    return undefined
  }
  return { pid, start, host }
}

function readOwner(fs: FileSystem, path: string): LockOwner | undefined {
  const handle = fs.open(path, 'r')
  try {
    const size = Math.min(handle.size(), 4096)
    const bytes = new Uint8Array(size)
    const got = handle.read(bytes, 0, size, 0)
    return parseLock(new TextDecoder().decode(bytes.subarray(0, got)))
  } finally {
    handle.close()
  }
}

/**
 * Creates the lock file naming `me`, durable so that after a power cut it names this (dead)
 * process rather than holding garbage. If writing or syncing it fails (a full disk), the file is
 * removed again: a refused open leaves nothing behind.
 */
function createLockFile(fs: FileSystem, path: string, me: LockOwner): void {
  const handle = fs.open(path, 'wx+')
  try {
    const text = new TextEncoder().encode(formatLock(me))
    handle.write(text, 0, text.length, 0)
    handle.syncSync()
  } catch (err) {
    // The write error is the one to report; a lock left behind anyway is stale (no owner).
    ignoreErrors(() => handle.close())
    ignoreErrors(() => fs.unlink(path))
    throw err
  }
  handle.close()
}

function ignoreErrors(run: () => void): void {
  try {
    run()
  } catch {
    // See the caller.
  }
}

/** A held lock; `release()` gives it up. */
export class StoreLock {
  /** Path of the lock file. */
  readonly path: string
  /** What a takeover found, if the lock was stale when acquired. */
  readonly tookOverFrom: LockOwner | 'unreadable' | undefined
  private readonly fs: FileSystem
  private released = false

  private constructor(
    fs: FileSystem,
    path: string,
    tookOver: LockOwner | 'unreadable' | undefined,
  ) {
    this.fs = fs
    this.path = path
    this.tookOverFrom = tookOver
  }

  /** Takes the lock of store `dir` or throws `ERR_LOCKED`. */
  static acquire(fs: FileSystem, dir: string): StoreLock {
    const path = lockPath(resolve(dir))
    const held = heldBy(fs)
    if (held.has(path)) {
      throw new AlexStorageError(ErrorCode.LOCKED, `store ${dir} is already open in this process`)
    }
    const me: LockOwner = {
      pid: process.pid,
      start: processStartTime(process.pid),
      host: hostname(),
    }
    let tookOver: LockOwner | 'unreadable' | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        createLockFile(fs, path, me)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        if (attempt >= 3) {
          throw new AlexStorageError(
            ErrorCode.LOCKED,
            `store ${dir} is locked (its lock file kept reappearing)`,
            { cause: err },
          )
        }
      }
      let owner: LockOwner | undefined
      try {
        owner = readOwner(fs, path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue // released meanwhile
        throw err
      }
      if (owner !== undefined && owner.host === me.host) {
        // Our own pid: this process holds no lock on it (checked above), so it is a leftover of
        // an instance that never closed, or an image of this process's files (tests).
        if (owner.pid !== me.pid && isProcessAlive(owner.pid, owner.start)) {
          throw new AlexStorageError(
            ErrorCode.LOCKED,
            `store ${dir} is locked by process ${owner.pid}`,
          )
        }
      } else if (owner !== undefined) {
        throw new AlexStorageError(
          ErrorCode.LOCKED,
          `store ${dir} is locked by process ${owner.pid} on host ${owner.host}`,
        )
      }
      tookOver = owner ?? 'unreadable'
      try {
        fs.unlink(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
    held.add(path)
    return new StoreLock(fs, path, tookOver)
  }

  /** Deletes the lock file and forgets it. Safe to call twice. */
  release(): void {
    if (this.released) return
    this.released = true
    heldBy(this.fs).delete(this.path)
    try {
      this.fs.unlink(this.path)
    } catch {
      // Already gone (or the file system failed): the lock is free either way for this process.
    }
  }
}
