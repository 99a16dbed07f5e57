import { join } from 'node:path'
import type { FileSystem } from '@alex/wal/io'
import { AlexStorageError } from './errors.js'
import { walPath } from './file-names.js'
import { READERS_DIR } from './format.js'
import type { ResolvedOptions } from './options.js'
import { ReaderRegistration } from './reader-registry.js'
import { type RecoveredState, recover } from './recovery.js'
import { BeaconReader } from './visibility-beacon.js'

/**
 * Opening (and reloading) a reader while a writer runs. The writer may checkpoint or compact at
 * any moment: it writes a new snapshot, trims the log, deletes segments. A reader's open reads
 * several files in turn and can meet a snapshot that names a segment deleted a moment later, or
 * a log trimmed past the snapshot it picked. Such an open fails (`ENOENT`, or a gap between
 * snapshot and log that looks like damage), but the failure says nothing about the store: the
 * reader plans again from the newest files. A failure is retried only when the store's file
 * listing changed during the attempt (so real damage is still reported, after one attempt).
 */

/** Attempts before a failure that keeps racing the writer is reported. */
const MAX_ATTEMPTS = 50

/** The names in the store directory and its log directory: what a writer's maintenance changes. */
function listingSignature(fs: FileSystem, dir: string): string {
  const names = (path: string): string => {
    try {
      return fs.readdir(path).sort().join('/')
    } catch {
      return '-'
    }
  }
  return `${names(dir)}|${names(walPath(dir))}`
}

/** What a reader open produces. */
export interface ReaderState {
  state: RecoveredState
  /** LSN the writer had published when the open started (replay stopped there). */
  published: number
}

/**
 * Recovers a read-only view of `dir` up to the LSN the writer has published (every write it
 * acknowledged; everything in the log if no writer ever published one), retrying while the
 * writer's maintenance races the open (see the module comment).
 */
export async function recoverReader(
  dir: string,
  options: ResolvedOptions,
  fs: FileSystem,
): Promise<ReaderState> {
  const beacon = new BeaconReader(fs, dir)
  try {
    for (let attempt = 1; ; attempt++) {
      const before = listingSignature(fs, dir)
      const published = beacon.read()?.lsn ?? Number.POSITIVE_INFINITY
      try {
        const state = await recover(dir, options, fs, undefined, published)
        return { state, published }
      } catch (err) {
        const raced = listingSignature(fs, dir) !== before
        if (!raced || attempt >= MAX_ATTEMPTS) throw err
        if (!(err instanceof AlexStorageError)) throw err
      }
    }
  } finally {
    beacon.close()
  }
}

/**
 * Registers a following reader once it has opened (registering earlier would change the store's
 * directory even when the open refuses), if the store has a `readers/` directory: every writer
 * of this version creates one; otherwise the follower registers once a writer appears. A reader
 * that cannot register (a read-only mount) follows anyway: the writer does not keep the log for
 * it, and it reloads from a snapshot when the log it needs is gone.
 */
export function registerReader(
  fs: FileSystem,
  dir: string,
  lsn: number,
): ReaderRegistration | undefined {
  if (!fs.exists(join(dir, READERS_DIR))) return undefined
  try {
    return ReaderRegistration.create(fs, dir, lsn)
  } catch {
    return undefined
  }
}
