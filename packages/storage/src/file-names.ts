import { join } from 'node:path'
import { LOCK_FILE, TEMP_SUFFIX, WAL_DIR } from './format.js'

/**
 * Names of the files in a store directory (docs/storage-format.md, section 1) and the listing
 * that sorts a directory's entries into them. The newest valid snapshot is the store's manifest;
 * this module only classifies names, it never decides what is trusted.
 */

/** What a store directory holds, by kind. */
export interface StoreListing {
  /** Data segment ids present, ascending. */
  segments: number[]
  /** Snapshot sequence numbers present, descending (newest first). */
  snapshots: number[]
  /** Names of in-progress files (`*.tmp`), which are never trusted. */
  temps: string[]
}

const SEGMENT_RE = /^data-(\d{10,})\.seg$/
const SNAPSHOT_RE = /^snapshot-(\d{10,})\.snap$/

function pad(n: number): string {
  return String(n).padStart(10, '0')
}

/** File name of data segment `id`. */
export function segmentName(id: number): string {
  return `data-${pad(id)}.seg`
}

/** File name of snapshot `seq`. */
export function snapshotName(seq: number): string {
  return `snapshot-${pad(seq)}.snap`
}

/** Name of the temporary file a snapshot is written to before its rename. */
export function tempName(name: string): string {
  return name + TEMP_SUFFIX
}

/** Path of the lock file of store `dir`. */
export function lockPath(dir: string): string {
  return join(dir, LOCK_FILE)
}

/** Path of the write-ahead-log directory of store `dir`. */
export function walPath(dir: string): string {
  return join(dir, WAL_DIR)
}

/** Sorts the names in a store directory into segments, snapshots and temp files. */
export function classifyNames(names: readonly string[]): StoreListing {
  const segments: number[] = []
  const snapshots: number[] = []
  const temps: string[] = []
  for (const name of names) {
    if (name.endsWith(TEMP_SUFFIX)) {
      temps.push(name)
      continue
    }
    let m = SEGMENT_RE.exec(name)
    if (m !== null) {
      const id = Number(m[1])
      if (Number.isSafeInteger(id)) segments.push(id)
      continue
    }
    m = SNAPSHOT_RE.exec(name)
    if (m !== null) {
      const seq = Number(m[1])
      if (Number.isSafeInteger(seq)) snapshots.push(seq)
    }
  }
  segments.sort((a, b) => a - b)
  snapshots.sort((a, b) => b - a)
  return { segments, snapshots, temps }
}
