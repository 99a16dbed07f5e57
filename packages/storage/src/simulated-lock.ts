import type { FileSystem } from '@alex/wal/io'
import { AlexStorageError, ErrorCode } from './errors.js'
import { lockPath } from './file-names.js'
import { currentOwner, formatLock, type LockOwner, newToken, parseLock } from './lock-owner.js'
import { isProcessAlive } from './process-info.js'

/**
 * The lock for a store opened through an injected `FileSystem` that is not the real one (the
 * in-memory `FaultInjectionFileSystem` of the power-cut tests): the file-based lock of the
 * previous version, a regular file `LOCK` holding the owner text, through that `FileSystem`.
 *
 * Such a file system lives in one process's memory, so no other process can contend for it;
 * stores open on it in this process are registered per file-system instance. A `LOCK` naming this
 * process that no open store registered is a leftover (a power-cut image of this process's files)
 * and is taken over. The registry hangs off `globalThis`, so two copies of this module in one
 * thread (an ESM and a CJS build) share it. It is not race-free between processes and need not
 * be: for the real disk, os-lock.ts holds the lock.
 */

const REGISTRY = Symbol.for('@alex/storage:simulated-locks')
type Registry = WeakMap<FileSystem, Set<string>>

function heldBy(fs: FileSystem): Set<string> {
  const root = globalThis as { [REGISTRY]?: Registry }
  root[REGISTRY] ??= new WeakMap()
  let set = root[REGISTRY].get(fs)
  if (set === undefined) {
    set = new Set()
    root[REGISTRY].set(fs, set)
  }
  return set
}

/** A lock held through an injected `FileSystem`. */
export class SimulatedLock {
  /** Path of the `LOCK` file. */
  readonly path: string
  /** What a takeover found, if the lock was stale when acquired. */
  readonly tookOverFrom: LockOwner | 'unreadable' | undefined
  private readonly fs: FileSystem
  private released = false

  constructor(fs: FileSystem, path: string, tookOver: LockOwner | 'unreadable' | undefined) {
    this.fs = fs
    this.path = path
    this.tookOverFrom = tookOver
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

/** Takes the lock of store `dir` through `fs`, or throws `ERR_LOCKED` (or the I/O error). */
export function acquireSimulatedLock(fs: FileSystem, dir: string): SimulatedLock {
  const path = lockPath(dir)
  const held = heldBy(fs)
  if (held.has(path)) {
    throw new AlexStorageError(ErrorCode.LOCKED, `store ${dir} is already open in this process`)
  }
  const me = currentOwner(newToken())
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
    if (owner !== undefined && owner.host !== me.host) {
      throw new AlexStorageError(
        ErrorCode.LOCKED,
        `store ${dir} is locked by process ${owner.pid} on host ${owner.host}`,
      )
    }
    // Our own pid: no store open on this file system holds it (checked above), so it is a
    // leftover, e.g. a power-cut image of this process's files.
    if (owner !== undefined && owner.pid !== me.pid && isProcessAlive(owner.pid, owner.start)) {
      throw new AlexStorageError(ErrorCode.LOCKED, `store ${dir} is locked by process ${owner.pid}`)
    }
    tookOver = owner ?? 'unreadable'
    try {
      fs.unlink(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  held.add(path)
  return new SimulatedLock(fs, path, tookOver)
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
