import { NodeFileSystem } from '@alex/wal'
import { type FileSystem, NodeFileSystem as IoNodeFileSystem } from '@alex/wal/io'
import type { LockOwner } from './lock-owner.js'
import { acquireOsLock } from './os-lock.js'
import { acquireSimulatedLock } from './simulated-lock.js'

/**
 * The single-writer lock (docs/storage-format.md, section 7), one entry point for its two
 * implementations:
 *
 * - **os-lock.ts**, for a store on the real file system (no `fs` option, or a `NodeFileSystem`):
 *   a `LOCK/` directory installed by an atomic rename, race-free between processes, threads and
 *   module copies, with race-free takeover of a dead owner's lock.
 * - **simulated-lock.ts**, for a store on an injected `FileSystem` (the in-memory fault-injecting
 *   one of the power-cut tests): the previous version's `LOCK` file, through that `FileSystem`,
 *   which has no directory rename and is not shared with other processes.
 *
 * Limits (README): the lock is advisory (it binds only processes that use it) and local to one
 * machine; a network file system's view of another host's pid means nothing.
 */

/** A held lock; `release()` gives it up. */
export interface StoreLock {
  /** The `LOCK` directory (real file system) or file (injected file system). */
  readonly path: string
  /** What a takeover found, if the lock was stale when acquired. */
  readonly tookOverFrom: LockOwner | 'unreadable' | undefined
  /** Gives the lock up. Safe to call twice; never throws. */
  release(): void
}

/**
 * Takes the writer's lock of store `dir` (an absolute path; for the real file system its real
 * path, so every spelling of the directory reaches the same lock), or throws `ERR_LOCKED`. An I/O
 * error taking it is thrown as the OS error.
 */
export function acquireLock(fs: FileSystem, dir: string): StoreLock {
  return isRealFileSystem(fs) ? acquireOsLock(dir) : acquireSimulatedLock(fs, dir)
}

/**
 * Whether `fs` is the real OS file system: a `NodeFileSystem`. Checked by class and, failing that,
 * by class name along the prototype chain, because every copy of @alex/wal has its own class (its
 * two entry points in a CJS build, or an ESM and a CJS copy side by side), and a store handed
 * another copy's instance must still take the real lock.
 */
export function isRealFileSystem(fs: FileSystem): boolean {
  if (fs instanceof NodeFileSystem || fs instanceof IoNodeFileSystem) return true
  for (
    let proto = Object.getPrototypeOf(fs);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (proto.constructor?.name === 'NodeFileSystem') return true
  }
  return false
}
